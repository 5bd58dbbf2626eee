"""Sub-pixel convolution for an ONNX ``ConvTranspose``: one unit-stride ``Conv``, depth-to-space, a crop.

A ``ConvTranspose`` with strides ``s`` (``pads``, ``auto_pad``, ``output_padding``,
``output_shape``, ``dilations``, ``group``, bias; 1-D to 3-D) becomes

    Pad/Slice of the input  →  Conv(W', b'; unit stride, C_out·P outputs)  →  depth-to-space by s  →  Slice

where output phase ``r`` (``t + p_begin = s·a + r``) receives exactly the taps with
``δ·m ≡ r (mod s)``, flipped: ``W'[chan(o, φ(r)), c, j] = w[c, o, m]`` for ``δ·m = s·(k' − 1 − j) + r``
(:func:`symstride.core.indexing.weight_gather_index`), ``b'[chan(o, φ(r))] = b[o]``, and the
paddings and crop come from :func:`symstride.core.indexing.transposed_geometry`.  The depth-to-space
is ``DepthToSpace`` with ``mode="DCR"`` (``--layout dcr``) or ``mode="CRD"`` (``--layout crd``)
in 2-D with equal strides; grouped layers always use CRD (see :mod:`symstride.onnx.layout`).

``output_shape`` fixes the total padding ``s·(N − 1) + output_padding + δ(k − 1) + 1 − output_shape``,
split as ONNX specifies: with ``auto_pad=SAME_UPPER`` the larger half at the end, otherwise at the
beginning.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import onnx

from ..core.indexing import transposed_geometry, weight_gather_index
from ..core.params import ConvTransposeSpec
from ..reference import destride_transposed_bias
from .attrs import pad_pairs, per_axis_attr
from .conv import check_inferred_output, conv_layout, read_conv_node
from .graph import GraphView, NodeError
from .layout import SYMSTRIDE_LAYOUT, crop, depth_to_space_nodes, pad_or_trim_nodes

__all__ = ["CONV_TRANSPOSE_ATTRIBUTES", "transposed_pads", "rewrite_conv_transpose"]

#: The ``ConvTranspose`` attributes the rewrite reads (all of ONNX's).
CONV_TRANSPOSE_ATTRIBUTES = ("auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides")


def transposed_pads(node: onnx.NodeProto, attrs: dict[str, Any], sizes: Sequence[int], stride: Sequence[int],
                    dilation: Sequence[int], kernel: Sequence[int], output_padding: Sequence[int]) -> list[tuple[int, int]]:
    """The ``(begin, end)`` crop of a ``ConvTranspose``: ``pads``, or derived from ``output_shape`` / ``auto_pad``.

    >>> transposed_pads(onnx.NodeProto(), {"output_shape": [8]}, [4], [2], [1], [3], [0])
    [(1, 0)]
    """
    ndim = len(sizes)
    mode = attrs.get("auto_pad", "NOTSET")
    target = attrs.get("output_shape")
    if target is None and mode in ("SAME_UPPER", "SAME_LOWER"):
        target = [n * s for n, s in zip(sizes, stride)]
    if target is None:
        return [(0, 0)] * ndim if mode == "VALID" else pad_pairs(node, attrs, ndim)
    target = [int(v) for v in target][-ndim:]
    if len(target) != ndim:
        raise NodeError(node, f"output_shape {list(attrs['output_shape'])} does not give {ndim} spatial sizes")
    out = []
    for n, s, d, k, op, t in zip(sizes, stride, dilation, kernel, output_padding, target):
        total = s * (n - 1) + op + d * (k - 1) + 1 - t
        if total < 0:
            raise NodeError(node, f"output_shape {target} is larger than the layer produces (total padding {total} < 0); "
                                  "raise output_padding instead")
        small, large = total // 2, total - total // 2
        out.append((small, large) if mode == "SAME_UPPER" else (large, small))
    return out


def rewrite_conv_transpose(view: GraphView, node: onnx.NodeProto, layout: str) -> list[onnx.NodeProto] | None:
    """The nodes replacing a strided ``ConvTranspose`` (output name kept), or None when it has unit strides."""
    read = read_conv_node(view, node, CONV_TRANSPOSE_ATTRIBUTES, "(C_in, C_out/group, *kernel)")
    if read is None:
        return None
    attrs, w, ndim, stride, kernel, dilation, groups, x, sizes, channels = read
    output_padding = per_axis_attr(node, attrs, "output_padding", ndim, 0)
    if channels != w.shape[0]:
        raise NodeError(node, f"its weight has {w.shape[0]} input channels (first axis), the input has {channels}")
    pads = transposed_pads(node, attrs, sizes, stride, dilation, kernel, output_padding)
    try:
        spec = ConvTransposeSpec.create(kernel, stride, pads, output_padding, dilation, channels, w.shape[1] * groups, groups, ndim=ndim)
        geometry = transposed_geometry(spec, sizes)
    except (ValueError, TypeError) as exc:
        raise NodeError(node, str(exc)) from None
    check_inferred_output(view, node, [ax.output for ax in geometry])
    lay = conv_layout(layout, groups)
    index = weight_gather_index(spec, SYMSTRIDE_LAYOUT[lay])  # (C_out·P, C_in/g, *k')
    bank = np.where(index >= 0, w.reshape(-1)[np.maximum(index, 0)], np.zeros((), dtype=w.dtype)).astype(w.dtype)

    name = node.name or node.output[0]
    nodes: list[onnx.NodeProto] = []
    z, more = pad_or_trim_nodes(view, x, [ax.pad for ax in geometry], name)
    nodes += more
    inputs = [z, view.add_initializer(f"{name}/W_subpixel", bank)]
    if len(node.input) > 2 and node.input[2]:
        b = view.weight(node, 2, "bias")
        inputs.append(view.add_initializer(f"{name}/B_subpixel", destride_transposed_bias(b, tuple(stride), SYMSTRIDE_LAYOUT[lay]).astype(b.dtype)))
    phases_out = view.fresh(f"{name}/phases")
    nodes.append(view.make_node("Conv", inputs, [phases_out], f"{name}/unit_stride", kernel_shape=list(bank.shape[2:]),
                                strides=[1] * ndim, pads=[0] * (2 * ndim), dilations=[1] * ndim, group=groups))
    coarse = [ax.coarse for ax in geometry]
    y, more = depth_to_space_nodes(view, phases_out, spec.out_channels, coarse, stride, lay, name)
    nodes += more
    full = [c * s for c, s in zip(coarse, stride)]
    _, more = crop(view, y, [(ax.crop, ax.crop + ax.output) for ax in geometry], full, name, output=node.output[0])
    return nodes + more

