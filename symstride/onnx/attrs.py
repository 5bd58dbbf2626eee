"""ONNX window attributes (``strides``, ``dilations``, ``pads``, ``auto_pad``, …) as per-axis values.

ONNX writes ``pads`` as ``[x1_begin, x2_begin, …, x1_end, x2_end, …]`` and may ask for
``auto_pad``: ``SAME_UPPER``/``SAME_LOWER`` choose the total padding that makes the output
``ceil(N/s)`` long, the odd sample at the end (UPPER) or the beginning (LOWER); ``VALID`` pads
nothing.  Everything here turns those into symstride's per-axis ``(left, right)`` pairs, and
refuses attributes a rewrite does not know with a one-line :class:`NodeError`.

>>> same_pads("SAME_UPPER", [8], [2], [1], [3]), same_pads("SAME_LOWER", [8], [2], [1], [3])
([(0, 1)], [(1, 0)])
"""

from __future__ import annotations

from typing import Any, Sequence

import onnx

from .graph import NodeError, attributes

__all__ = ["AUTO_PAD", "read_attributes", "per_axis_attr", "pad_pairs", "same_pads", "window_pads"]

#: ``auto_pad`` values ONNX defines.
AUTO_PAD = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def read_attributes(node: onnx.NodeProto, known: Sequence[str]) -> dict[str, Any]:
    """The node's attributes, refused when one is not in ``known``."""
    attrs = attributes(node)
    unknown = sorted(set(attrs) - set(known))
    if unknown:
        raise NodeError(node, f"attribute {unknown[0]!r} is not supported by the rewrite of {node.op_type} "
                              f"(supported: {', '.join(known)})")
    auto = attrs.get("auto_pad", "NOTSET")
    if auto not in AUTO_PAD:
        raise NodeError(node, f"auto_pad {auto!r} is not one of {', '.join(AUTO_PAD)}")
    return attrs


def per_axis_attr(node: onnx.NodeProto, attrs: dict[str, Any], name: str, ndim: int, default: int) -> tuple[int, ...]:
    """A per-axis integer attribute (``strides``, ``dilations``, ``output_padding``) with its default."""
    value = attrs.get(name)
    if value is None:
        return (default,) * ndim
    value = tuple(int(v) for v in value)
    if len(value) != ndim:
        raise NodeError(node, f"{name} has {len(value)} entries but the layer has {ndim} spatial axes")
    return value


def pad_pairs(node: onnx.NodeProto, attrs: dict[str, Any], ndim: int) -> list[tuple[int, int]]:
    """Explicit ``pads`` as ``(begin, end)`` per axis (zeros when absent)."""
    pads = attrs.get("pads")
    if pads is None:
        return [(0, 0)] * ndim
    pads = [int(v) for v in pads]
    if len(pads) != 2 * ndim:
        raise NodeError(node, f"pads has {len(pads)} entries, expected 2 × {ndim} (begins, then ends)")
    if any(p < 0 for p in pads):
        raise NodeError(node, f"negative pads {pads} are not supported")
    return list(zip(pads[:ndim], pads[ndim:]))


def same_pads(mode: str, sizes: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
              kernel: Sequence[int]) -> list[tuple[int, int]]:
    """The ``(begin, end)`` padding of ``auto_pad=SAME_UPPER/SAME_LOWER``: output ``ceil(N/s)``."""
    out = []
    for n, s, d, k in zip(sizes, stride, dilation, kernel):
        total = max(0, (-(-n // s) - 1) * s + d * (k - 1) + 1 - n)
        small, large = total // 2, total - total // 2
        out.append((small, large) if mode == "SAME_UPPER" else (large, small))
    return out


def window_pads(node: onnx.NodeProto, attrs: dict[str, Any], sizes: Sequence[int], stride: Sequence[int],
                dilation: Sequence[int], kernel: Sequence[int]) -> list[tuple[int, int]]:
    """The padding a Conv or pooling node applies, ``auto_pad`` resolved for the input ``sizes``."""
    mode = attrs.get("auto_pad", "NOTSET")
    if mode == "VALID":
        return [(0, 0)] * len(sizes)
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        return same_pads(mode, sizes, stride, dilation, kernel)
    return pad_pairs(node, attrs, len(sizes))
