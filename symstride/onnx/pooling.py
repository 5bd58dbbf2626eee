"""Strided ``MaxPool`` and ``AveragePool`` as unit-stride poolings of the space-to-depth phases.

A window of ``k`` taps with stride ``s`` and dilation ``δ`` reads, for tap ``m``, the phase
``r = δ·m mod s`` at offset ``j = δ·m div s`` (symstride's tap map,
:func:`symstride.core.indexing.tap_map`).  The taps of one phase form a box of offsets with a constant
step per axis, so

    Pad (−∞ for max, 0 for average) and trim to L = s·(N_out + k' − 1)  →  space-to-depth by s  →
    per live phase: Slice of its channel block and window, unit-stride pooling over its taps  →
    Max (or Sum, then × 1/divisor) across phases

equals the strided pooling.  The average divides by the exact divisor of every output position
(``count_include_pad``, ``ceil_mode`` and padding honoured), computed here by counting the taps
that fall inside the input (or the padded input), as onnxruntime does.  The phases are an internal
detail of the pooling, so they always use the phase-major (``dcr``) order, whose phase blocks are
contiguous channels; in 2-D with equal strides that is one native ``SpaceToDepth``.
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from math import prod
from typing import Sequence

import numpy as np
import onnx

from ..core.indexing import Tap, equivalent_kernel, tap_map
from ..core.params import ConvSpec
from ..core.phase_windows import PhaseWindow, phase_windows
from .attrs import per_axis_attr, read_attributes, window_pads
from .graph import GraphView, NodeError
from .layout import pad_or_trim_nodes, space_to_depth_nodes

__all__ = ["POOL_ATTRIBUTES", "pooling_phase_taps", "pool_output_length", "average_divisor", "rewrite_pool"]

#: The attributes the rewrite reads, per operator (all of ONNX's).
POOL_ATTRIBUTES = {
    "MaxPool": ("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"),
    "AveragePool": ("auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"),
}


def pooling_phase_taps(spec: ConvSpec, taps: Sequence[Tap] | None = None) -> tuple[PhaseWindow, ...]:
    """The live phases of a window (row-major φ order) with their offsets, grouped from ``taps``
    (default :func:`tap_map`) by :func:`symstride.core.phase_windows.phase_windows`; each phase's
    taps must fill a box with a constant step per axis.

    >>> [(p.phase, p.start, p.count, p.step) for p in pooling_phase_taps(ConvSpec.create(kernel=3, stride=2))]
    [((0,), (0,), (2,), (1,)), ((1,), (0,), (1,), (1,))]
    """
    return phase_windows(spec, tap_map(spec) if taps is None else taps)


def pool_output_length(n: int, k: int, s: int, pad: tuple[int, int], d: int, ceil_mode: bool) -> int:
    """ONNX's pooling output length; in ceil mode a window starting past the input and its left padding is dropped.

    >>> pool_output_length(6, 3, 2, (1, 1), 1, True), pool_output_length(6, 3, 2, (1, 1), 1, False)
    (4, 3)
    """
    span = d * (k - 1) + 1
    room = n + pad[0] + pad[1] - span
    if room < 0:
        raise SymstrideError(f"the window (span {span}) does not fit the padded input of length {n + pad[0] + pad[1]}")
    out = (-(-room // s) if ceil_mode else room // s) + 1
    if ceil_mode and (out - 1) * s >= n + pad[0]:
        out -= 1
    return out


def average_divisor(sizes: Sequence[int], n_out: Sequence[int], spec: ConvSpec, include_pad: bool) -> np.ndarray:
    """Per output position, the number of taps averaged: inside the padded input (``count_include_pad``) or the input.

    >>> average_divisor([6], [4], ConvSpec.create(kernel=3, stride=2, padding=1), True).tolist()
    [3.0, 3.0, 3.0, 2.0]
    """
    total = np.ones((), dtype=np.float64)
    for axis, (n, m, k, s, d, (pl, pr)) in enumerate(zip(sizes, n_out, spec.kernel, spec.stride, spec.dilation, spec.padding)):
        lo, hi = (-pl, n + pr) if include_pad else (0, n)
        pos = s * np.arange(m)[:, None] - pl + d * np.arange(k)[None, :]
        counts = ((pos >= lo) & (pos < hi)).sum(axis=1).astype(np.float64)
        total = np.multiply.outer(total, counts)
    return total


def rewrite_pool(view: GraphView, node: onnx.NodeProto, layout: str) -> list[onnx.NodeProto] | None:
    """The nodes replacing a strided ``MaxPool``/``AveragePool`` (output name kept), or None with unit strides."""
    kind = node.op_type
    attrs = read_attributes(node, POOL_ATTRIBUTES[kind])
    if "kernel_shape" not in attrs:
        raise NodeError(node, "it has no kernel_shape")
    kernel = tuple(int(k) for k in attrs["kernel_shape"])
    ndim = len(kernel)
    stride = per_axis_attr(node, attrs, "strides", ndim, 1)
    if all(s == 1 for s in stride):
        return None
    if len(node.output) > 1 and node.output[1]:
        raise NodeError(node, f"its Indices output {node.output[1]!r} is used; the phases have no flat indices of the original")
    dilation = per_axis_attr(node, attrs, "dilations", ndim, 1)
    ceil_mode = bool(attrs.get("ceil_mode", 0))
    x = node.input[0]
    elem = view.float_type(node, x)
    sizes = view.spatial_size(node, x, ndim)
    channels = view.shape(x)[1]
    pads = window_pads(node, attrs, sizes, stride, dilation, kernel)
    try:
        spec = ConvSpec.create(kernel=kernel, stride=stride, padding=pads, dilation=dilation, ndim=ndim)
        n_out = tuple(pool_output_length(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(sizes, kernel, stride, pads, dilation))
        windows = pooling_phase_taps(spec)
    except (ValueError, TypeError) as exc:
        raise NodeError(node, str(exc)) from None
    inferred = view.shape(node.output[0])
    if inferred is not None and len(inferred) == ndim + 2 and any(a is not None and a != b for a, b in zip(inferred[2:], n_out)):
        raise NodeError(node, f"ONNX shape inference gives spatial output {inferred[2:]}, symstride computes {n_out}")

    name = node.name or node.output[0]
    lengths = [s * (n + k - 1) for n, k, s in zip(n_out, equivalent_kernel(spec), stride)]
    fill = view.scalar(f"{name}/fill", -np.inf if kind == "MaxPool" else 0.0, elem)
    nodes: list[onnx.NodeProto] = []
    z, more = pad_or_trim_nodes(view, x, [(l, L - n - l) for (l, _), L, n in zip(pads, lengths, sizes)], name, value=fill)
    nodes += more
    z, more = space_to_depth_nodes(view, z, channels, lengths, stride, "dcr", name)
    nodes += more
    parts = []
    for taps in windows:
        flat = int(np.ravel_multi_index(taps.phase, stride))
        starts = [flat * channels, *taps.start]
        ends = [(flat + 1) * channels, *(j0 + n + e - 1 for j0, n, e in zip(taps.start, n_out, taps.extent()))]
        block = view.fresh(f"{name}/phase{flat}")
        nodes.append(view.make_node("Slice", [z, view.ints(f"{name}/phase{flat}_starts", starts), view.ints(f"{name}/phase{flat}_ends", ends),
                                              view.ints(f"{name}/phase{flat}_axes", range(1, ndim + 2))], [block], f"{name}/phase{flat}"))
        pooled = view.fresh(f"{name}/phase{flat}_{kind}")
        extra = {"dilations": list(taps.step)} if any(st != 1 for st in taps.step) else {}
        nodes.append(view.make_node(kind, [block], [pooled], f"{name}/phase{flat}_{kind}", kernel_shape=list(taps.count),
                                    strides=[1] * ndim, pads=[0] * (2 * ndim), **extra))
        if kind == "AveragePool" and prod(taps.count) != 1:  # the phase's mean × its tap count = its sum
            summed = view.fresh(f"{name}/phase{flat}_sum")
            nodes.append(view.make_node("Mul", [pooled, view.scalar(f"{name}/phase{flat}_taps", prod(taps.count), elem)], [summed],
                                        f"{name}/phase{flat}_sum"))
            pooled = summed
        parts.append(pooled)
    if kind == "MaxPool":
        nodes.append(view.make_node("Max", parts, [node.output[0]], f"{name}/max_over_phases"))
        return nodes
    total = view.fresh(f"{name}/window_sum")
    nodes.append(view.make_node("Sum", parts, [total], f"{name}/sum_over_phases"))
    divisor = average_divisor(sizes, n_out, spec, bool(attrs.get("count_include_pad", 0)))
    dtype = onnx.helper.tensor_dtype_to_np_dtype(elem)
    scale = (1.0 / divisor.flat[0]) if np.all(divisor == divisor.flat[0]) else (1.0 / divisor)[None, None]
    factor = view.add_initializer(f"{name}/inverse_divisor", np.asarray(scale, dtype=dtype))
    nodes.append(view.make_node("Mul", [total, factor], [node.output[0]], f"{name}/average"))
    return nodes
