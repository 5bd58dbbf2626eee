"""Space-to-depth, depth-to-space, padding and channel selection as ONNX nodes.

Two channel orders (``--layout``), named as ONNX's ``DepthToSpace`` modes name them:

- ``"dcr"`` (the default): phase-major, new channel ``φ(r)·C + c`` — the order of ONNX
  ``SpaceToDepth`` (its only order) and of ``DepthToSpace`` with ``mode="DCR"`` (its default);
  symstride's ``layout="tf"``.  In 2-D with equal strides both are one native operator, which
  NPU compilers map directly;
- ``"crd"``: channel-major, new channel ``c·P + φ(r)`` — PyTorch's ``pixel_unshuffle`` /
  ``pixel_shuffle`` order and ``DepthToSpace`` with ``mode="CRD"``; symstride's
  ``layout="pytorch"``.  ``SpaceToDepth`` has no CRD mode, so that side is Reshape/Transpose.

1-D, 3-D and unequal strides are always Reshape → Transpose → Reshape (ONNX's operators take
one block size for both axes of a 2-D tensor).  The batch dimension is copied (``0`` in the
target shape), so a dynamic batch size is kept.

>>> sorted(ONNX_LAYOUTS), SYMSTRIDE_LAYOUT["dcr"], SYMSTRIDE_LAYOUT["crd"]
(['crd', 'dcr'], 'tf', 'pytorch')
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from math import prod
from typing import Sequence

import onnx

from .graph import GraphView

__all__ = ["ONNX_LAYOUTS", "SYMSTRIDE_LAYOUT", "check_onnx_layout", "space_to_depth_nodes", "depth_to_space_nodes", "pad_or_trim_nodes", "select_channels", "crop"]

#: The channel orders of the rewritten graph.
ONNX_LAYOUTS = {
    "dcr": "phase-major φ(r)·C + c: ONNX SpaceToDepth, DepthToSpace mode DCR (native in 2-D)",
    "crd": "channel-major c·P + φ(r): PyTorch pixel_unshuffle/pixel_shuffle, DepthToSpace mode CRD",
}

#: ``--layout`` → the name of the same order in symstride's index machinery.
SYMSTRIDE_LAYOUT = {"dcr": "tf", "crd": "pytorch"}


def check_onnx_layout(layout: str) -> str:
    """Return ``layout`` if it is ``"dcr"`` or ``"crd"``, else a ValueError listing them."""
    if layout not in ONNX_LAYOUTS:
        raise SymstrideError(f"unknown layout {layout!r}; expected one of {', '.join(map(repr, ONNX_LAYOUTS))}")
    return layout


def _native(stride: Sequence[int]) -> bool:
    return len(stride) == 2 and stride[0] == stride[1]


def space_to_depth_nodes(view: GraphView, x: str, channels: int, sizes: Sequence[int], stride: Sequence[int],
                   layout: str, name: str) -> tuple[str, list[onnx.NodeProto]]:
    """``z[n, chan(c, φ(r)), a] = x[n, c, s·a + r]``; every size must be divisible by its stride."""
    out = view.fresh(f"{name}/space_to_depth")
    if layout == "dcr" and _native(stride):
        return out, [view.make_node("SpaceToDepth", [x], [out], f"{name}/SpaceToDepth", blocksize=stride[0])]
    ndim = len(stride)
    coarse = [n // s for n, s in zip(sizes, stride)]
    split = [0, channels] + [v for n, s in zip(coarse, stride) for v in (n, s)]
    blocks = [3 + 2 * a for a in range(ndim)]
    grid = [2 + 2 * a for a in range(ndim)]
    perm = [0, 1, *blocks, *grid] if layout == "crd" else [0, *blocks, 1, *grid]
    a, b = view.fresh(f"{name}/s2d_split"), view.fresh(f"{name}/s2d_order")
    return out, [
        view.make_node("Reshape", [x, view.ints(f"{name}/s2d_split_shape", split)], [a], f"{name}/s2d_split"),
        view.make_node("Transpose", [a], [b], f"{name}/s2d_order", perm=perm),
        view.make_node("Reshape", [b, view.ints(f"{name}/s2d_shape", [0, channels * prod(stride), *coarse])], [out], f"{name}/s2d_merge"),
    ]


def depth_to_space_nodes(view: GraphView, z: str, channels: int, sizes: Sequence[int], stride: Sequence[int],
                   layout: str, name: str) -> tuple[str, list[onnx.NodeProto]]:
    """Inverse of :func:`space_to_depth_nodes`: ``channels`` is the channel count after depth-to-space."""
    out = view.fresh(f"{name}/depth_to_space")
    if _native(stride):
        mode = layout.upper()
        return out, [view.make_node("DepthToSpace", [z], [out], f"{name}/DepthToSpace", blocksize=stride[0], mode=mode)]
    ndim = len(stride)
    split = [0, channels, *stride, *sizes] if layout == "crd" else [0, *stride, channels, *sizes]
    ch, blocks = (1, [2 + a for a in range(ndim)]) if layout == "crd" else (1 + ndim, [1 + a for a in range(ndim)])
    grid = [2 + ndim + a for a in range(ndim)]
    perm = [0, ch] + [ax for pair in zip(grid, blocks) for ax in pair]
    a, b = view.fresh(f"{name}/d2s_split"), view.fresh(f"{name}/d2s_order")
    return out, [
        view.make_node("Reshape", [z, view.ints(f"{name}/d2s_split_shape", split)], [a], f"{name}/d2s_split"),
        view.make_node("Transpose", [a], [b], f"{name}/d2s_order", perm=perm),
        view.make_node("Reshape", [b, view.ints(f"{name}/d2s_shape", [0, channels, *(n * s for n, s in zip(sizes, stride))])],
                       [out], f"{name}/d2s_merge"),
    ]


def pad_or_trim_nodes(view: GraphView, x: str, widths: Sequence[tuple[int, int]], name: str,
                value: str | None = None) -> tuple[str, list[onnx.NodeProto]]:
    """Pad the spatial axes by per-axis ``(left, right)`` widths (a negative width trims that side).

    One ``Pad`` (constant mode; ``value`` names a scalar initializer, zero by default) with the
    non-negative widths, then one ``Slice`` for the negative ones; nothing when all are zero.
    """
    nodes: list[onnx.NodeProto] = []
    ndim = len(widths)
    grow = [(max(l, 0), max(r, 0)) for l, r in widths]
    if any(l or r for l, r in grow):
        pads = [0, 0, *(l for l, _ in grow), 0, 0, *(r for _, r in grow)]
        out = view.fresh(f"{name}/padded")
        inputs = [x, view.ints(f"{name}/pads", pads)] + ([value] if value else [])
        nodes.append(view.make_node("Pad", inputs, [out], f"{name}/Pad", mode="constant"))
        x = out
    cut = [(max(-l, 0), max(-r, 0)) for l, r in widths]
    if any(l or r for l, r in cut):
        axes = [2 + a for a in range(ndim) if any(cut[a])]
        starts = [cut[a - 2][0] for a in axes]
        ends = [-cut[a - 2][1] if cut[a - 2][1] else 2**62 for a in axes]
        out = view.fresh(f"{name}/trimmed")
        nodes.append(view.make_node("Slice", [x, view.ints(f"{name}/trim_starts", starts), view.ints(f"{name}/trim_ends", ends),
                                              view.ints(f"{name}/trim_axes", axes)], [out], f"{name}/trim"))
        x = out
    return x, nodes


def crop(view: GraphView, x: str, windows: Sequence[tuple[int, int]], sizes: Sequence[int], name: str,
         output: str | None = None) -> tuple[str, list[onnx.NodeProto]]:
    """Keep ``[start, stop)`` of every spatial axis of sizes ``sizes`` (a ``Slice``; none when nothing is cut)."""
    axes = [2 + a for a, ((lo, hi), n) in enumerate(zip(windows, sizes)) if (lo, hi) != (0, n)]
    if not axes:
        if output is None:
            return x, []
        return output, [view.make_node("Identity", [x], [output], f"{name}/crop")]
    out = output or view.fresh(f"{name}/cropped")
    starts = [windows[a - 2][0] for a in axes]
    ends = [windows[a - 2][1] for a in axes]
    return out, [view.make_node("Slice", [x, view.ints(f"{name}/crop_starts", starts), view.ints(f"{name}/crop_ends", ends),
                                          view.ints(f"{name}/crop_axes", axes)], [out], f"{name}/crop")]


def select_channels(view: GraphView, x: str, channels: Sequence[int], total: int, name: str) -> tuple[str, list[onnx.NodeProto]]:
    """Keep the listed channels (in order): nothing if all, a ``Slice`` if contiguous, else a ``Gather``."""
    channels = list(channels)
    if channels == list(range(total)):
        return x, []
    out = view.fresh(f"{name}/live_phases")
    if channels == list(range(channels[0], channels[0] + len(channels))):
        return out, [view.make_node("Slice", [x, view.ints(f"{name}/live_start", [channels[0]]),
                                              view.ints(f"{name}/live_end", [channels[-1] + 1]), view.ints(f"{name}/live_axis", [1])],
                                    [out], f"{name}/live_phases")]
    return out, [view.make_node("Gather", [x, view.ints(f"{name}/live_channels", channels)], [out], f"{name}/live_phases", axis=1)]
