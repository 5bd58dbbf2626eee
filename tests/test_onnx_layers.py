"""symstride.onnx on single strided nodes: every attribute of Conv, ConvTranspose, MaxPool and AveragePool,
both layouts, compared in onnxruntime with the original node (the oracle), and the rewritten graph's
structure (native SpaceToDepth/DepthToSpace, dropped phases, no strided operator left, checker passes)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, numpy_helper

from symstride.reference import destride_weights
from symstride.onnx import check_onnx, destride_onnx, strided_nodes
from tests.onnx_models import rewritten_ops, single_node, strided_ops

#: (op, input shape, attributes incl. weight shape): each an attribute the rewrite must honour.
CASES = {
    "conv 2-D asymmetric pads": ("Conv", [2, 3, 9, 10], dict(weight=(4, 3, 3, 3), strides=[2, 2], pads=[1, 0, 0, 1])),
    "conv 2-D odd size, stride 3×2": ("Conv", [1, 3, 13, 11], dict(weight=(5, 3, 5, 3), strides=[3, 2], pads=[2, 1, 2, 1])),
    "conv SAME_UPPER": ("Conv", [1, 3, 9, 10], dict(weight=(4, 3, 3, 3), strides=[2, 2], auto_pad="SAME_UPPER")),
    "conv SAME_LOWER": ("Conv", [1, 3, 8, 10], dict(weight=(4, 3, 4, 3), strides=[2, 2], auto_pad="SAME_LOWER")),
    "conv VALID": ("Conv", [1, 3, 9, 10], dict(weight=(4, 3, 3, 3), strides=[2, 3], auto_pad="VALID")),
    "conv dilation": ("Conv", [1, 2, 15, 14], dict(weight=(3, 2, 3, 3), strides=[2, 2], dilations=[2, 3], pads=[2, 2, 2, 2])),
    "conv groups": ("Conv", [1, 6, 11, 9], dict(weight=(4, 3, 3, 3), strides=[2, 2], group=2, pads=[1, 1, 1, 1])),
    "conv depthwise": ("Conv", [1, 4, 11, 9], dict(weight=(4, 1, 3, 3), strides=[2, 2], group=4, pads=[1, 1, 1, 1])),
    "conv depthwise × 2, dilated, stride 2×3": ("Conv", [1, 3, 13, 12], dict(weight=(6, 1, 3, 3), strides=[2, 3], group=3, dilations=[2, 1], pads=[1, 0, 2, 1])),
    "conv depthwise 1-D": ("Conv", [2, 5, 17], dict(weight=(5, 1, 5), strides=[2], group=5, pads=[2, 2])),
    "conv 1×1 stride 2 (one live phase)": ("Conv", [1, 3, 9, 10], dict(weight=(4, 3, 1, 1), strides=[2, 2], bias=False)),
    "conv 1-D grouped dilated": ("Conv", [2, 4, 23], dict(weight=(6, 2, 3), strides=[3], dilations=[2], group=2, pads=[2, 1])),
    "conv 3-D": ("Conv", [1, 2, 7, 6, 5], dict(weight=(3, 2, 3, 3, 3), strides=[2, 2, 2], pads=[1, 1, 1, 1, 1, 1])),
    "conv_transpose pads": ("ConvTranspose", [1, 4, 5, 6], dict(weight=(4, 3, 4, 4), strides=[2, 2], pads=[1, 1, 1, 1])),
    "conv_transpose output_padding": ("ConvTranspose", [1, 4, 5, 6], dict(weight=(4, 3, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])),
    "conv_transpose output_shape": ("ConvTranspose", [1, 4, 5, 6], dict(weight=(4, 3, 3, 3), strides=[2, 2], output_shape=[10, 12])),
    "conv_transpose output_shape SAME_UPPER": ("ConvTranspose", [1, 4, 5, 6], dict(weight=(4, 3, 3, 3), strides=[2, 2], output_shape=[10, 12], auto_pad="SAME_UPPER")),
    "conv_transpose SAME_LOWER": ("ConvTranspose", [1, 4, 5, 6], dict(weight=(4, 3, 3, 3), strides=[2, 2], auto_pad="SAME_LOWER")),
    "conv_transpose 1-D grouped dilated": ("ConvTranspose", [1, 4, 7], dict(weight=(4, 2, 5), strides=[3], group=2, dilations=[2])),
    "conv_transpose 3-D": ("ConvTranspose", [1, 3, 3, 4, 3], dict(weight=(3, 2, 4, 3, 2), strides=[2, 2, 2], pads=[1, 1, 0, 1, 0, 0])),
    "maxpool pads": ("MaxPool", [1, 3, 9, 10], dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    "maxpool ceil_mode": ("MaxPool", [1, 3, 9, 10], dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)),
    "maxpool dilation": ("MaxPool", [1, 3, 9, 10], dict(kernel_shape=[3, 2], strides=[2, 2], dilations=[2, 3])),
    "maxpool 1-D SAME_LOWER": ("MaxPool", [1, 2, 12], dict(kernel_shape=[4], strides=[3], auto_pad="SAME_LOWER")),
    "maxpool 3-D": ("MaxPool", [1, 2, 7, 6, 5], dict(kernel_shape=[2, 3, 2], strides=[2, 2, 2], pads=[0, 1, 0, 0, 1, 1])),
    "avgpool count_include_pad ceil_mode": ("AveragePool", [1, 3, 9, 10], dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1, ceil_mode=1)),
    "avgpool exclude pad ceil_mode": ("AveragePool", [1, 3, 9, 10], dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0, ceil_mode=1)),
    "avgpool SAME_UPPER": ("AveragePool", [1, 3, 9, 10], dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")),
    "avgpool 1-D dilated asymmetric": ("AveragePool", [1, 3, 11], dict(kernel_shape=[3], strides=[2], dilations=[2], pads=[1, 2])),
    "avgpool no padding": ("AveragePool", [2, 3, 8, 8], dict(kernel_shape=[2, 2], strides=[2, 2])),
}


def _rewrite(op, shape, kw, layout, dtype=TensorProto.FLOAT):
    model = single_node(op, shape, dtype=dtype, **kw)
    flat = destride_onnx(model, layout=layout)
    return model, flat


@pytest.mark.parametrize("layout", ["dcr", "crd"])
@pytest.mark.parametrize("case", list(CASES))
def test_single_node_agrees_in_onnxruntime(case, layout):
    op, shape, kw = CASES[case]
    model, flat = _rewrite(op, shape, kw, layout)
    assert strided_ops(model) == [f"the_{op.lower()}"]
    assert strided_ops(flat) == [] and strided_nodes(flat) == []
    onnx.checker.check_model(flat, full_check=True)
    check = check_onnx(model, flat, seed=3)
    assert check.ok, check.failure
    assert check.max_abs_error <= 1e-4 * check.outputs[0].scale


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][0] == "MaxPool"])
def test_float64_maxpool(case):
    """onnxruntime runs MaxPool in float64 (not Conv, ConvTranspose or AveragePool): tolerance 1e-10."""
    op, shape, kw = CASES[case]
    model, flat = _rewrite(op, shape, kw, "dcr", TensorProto.DOUBLE)
    check = check_onnx(model, flat)
    assert check.ok and check.outputs[0].tolerance == 1e-10 and check.max_abs_error == 0.0


def test_native_operators_by_layout():
    """2-D with equal strides: dcr uses ONNX SpaceToDepth / DepthToSpace(DCR); crd uses Reshape/Transpose
    for space-to-depth (SpaceToDepth has no CRD mode) and DepthToSpace(CRD)."""
    op, shape, kw = CASES["conv 2-D asymmetric pads"]
    assert rewritten_ops(_rewrite(op, shape, kw, "dcr")[1]) == ["Pad", "SpaceToDepth", "Conv"]
    assert rewritten_ops(_rewrite(op, shape, kw, "crd")[1]) == ["Pad", "Reshape", "Transpose", "Reshape", "Conv"]
    op, shape, kw = CASES["conv_transpose pads"]
    for layout in ("dcr", "crd"):
        flat = _rewrite(op, shape, kw, layout)[1]
        d2s = [n for n in flat.graph.node if n.op_type == "DepthToSpace"]
        assert [onnx.helper.get_attribute_value(a) for a in d2s[0].attribute if a.name == "mode"] == [layout.upper().encode()]


def test_weights_are_symstrides_destride_weights():
    """The rewritten Conv's initializer is ``destride_weights`` (tf layout = dcr), all phases live."""
    op, shape, kw = CASES["conv 2-D asymmetric pads"]
    model, flat = _rewrite(op, shape, kw, "dcr")
    w = numpy_helper.to_array(model.graph.initializer[0])
    new = {t.name: numpy_helper.to_array(t) for t in flat.graph.initializer}
    conv = next(n for n in flat.graph.node if n.op_type == "Conv")
    assert np.array_equal(new[conv.input[1]], destride_weights(w, stride=2, layout="tf"))
    assert conv.input[2] == "b"


def test_one_live_phase_is_sliced_not_convolved():
    """A 1×1 stride-2 Conv: only phase 0 carries weight; its C channels are sliced, W' is (C_out, C, 1, 1)."""
    op, shape, kw = CASES["conv 1×1 stride 2 (one live phase)"]
    for layout, ops in (("dcr", ["SpaceToDepth", "Slice", "Conv"]), ("crd", ["Reshape", "Transpose", "Reshape", "Gather", "Conv"])):
        model, flat = _rewrite(op, shape, kw, layout)
        assert rewritten_ops(flat)[-len(ops):] == ops
        conv = next(n for n in flat.graph.node if n.op_type == "Conv")
        weight = next(numpy_helper.to_array(t) for t in flat.graph.initializer if t.name == conv.input[1])
        assert weight.shape == (4, 3, 1, 1)


def test_unit_stride_nodes_untouched():
    model = single_node("Conv", [1, 3, 8, 8], weight=(4, 3, 3, 3), strides=[1, 1], pads=[1, 1, 1, 1])
    flat = destride_onnx(model)
    assert flat.graph.node[0] == model.graph.node[0]


def test_dynamic_batch_is_kept():
    model = single_node("Conv", ["N", 3, 9, 10], weight=(4, 3, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
    flat = destride_onnx(model, layout="crd")
    x = np.random.default_rng(0).standard_normal((3, 3, 9, 10)).astype(np.float32)
    check = check_onnx(model, flat, inputs={"x": x})
    assert check.ok and check.input_shapes == {"x": (3, 3, 9, 10)}


@settings(max_examples=25)
@given(st.data())
def test_random_convs_agree(data):
    """Random 1-D/2-D Conv and ConvTranspose (kernel, stride, dilation, pads, groups, size, layout)."""
    ndim = data.draw(st.integers(1, 2), label="ndim")
    transposed = data.draw(st.booleans(), label="transposed")
    groups = data.draw(st.sampled_from([1, 2]), label="groups")
    kernel = data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim), label="kernel")
    stride = data.draw(st.lists(st.integers(2, 3), min_size=ndim, max_size=ndim), label="stride")
    dilation = data.draw(st.lists(st.integers(1, 2), min_size=ndim, max_size=ndim), label="dilation")
    pads = data.draw(st.lists(st.integers(0, 2), min_size=2 * ndim, max_size=2 * ndim), label="pads")
    layout = data.draw(st.sampled_from(["dcr", "crd"]), label="layout")
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    least = [2] * ndim if transposed else [max(1, sp - pads[a] - pads[a + ndim]) for a, sp in enumerate(span)]
    size = [data.draw(st.integers(lo, 12), label=f"size{a}") for a, lo in enumerate(least)]
    if transposed:  # output_padding < stride; crops of at most half the span leave (N − 1)·s ≥ 2 samples
        pads = [min(p, sp // 2) for p, sp in zip(pads, span + span)]
        op, weight = "ConvTranspose", (2 * groups, 2, *kernel)
        extra = {"output_padding": [data.draw(st.integers(0, s - 1), label="op") for s in stride]}
    else:
        op, weight, extra = "Conv", (2 * groups, 2, *kernel), {}
    model = single_node(op, [1, 2 * groups, *size], weight=weight, strides=stride, dilations=dilation, pads=pads,
                        group=groups, **extra)
    flat = destride_onnx(model, layout=layout)
    assert strided_ops(flat) == []
    check = check_onnx(model, flat)
    assert check.ok, check.failure


def test_depthwise_runs_one_depthwise_conv_per_phase():
    """Depthwise layers: per live phase a Slice and a depthwise Conv with that phase's exact kernel, summed."""
    op, shape, kw = CASES["conv depthwise"]
    flat = _rewrite(op, shape, kw, "crd")[1]
    convs = [n for n in flat.graph.node if n.op_type == "Conv"]
    kernels = [list(next(a.ints for a in n.attribute if a.name == "kernel_shape")) for n in convs]
    assert kernels == [[2, 2], [2, 1], [1, 2], [1, 1]] and rewritten_ops(flat)[-1] == "Sum"
    assert all(next(a.i for a in n.attribute if a.name == "group") == 4 for n in convs)
