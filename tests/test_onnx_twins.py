"""Failing twins and refusals of symstride.onnx.

Twins: each rewrite run with a deliberately corrupted index map (one tap moved, or dropped) must be
caught by ``symstride onnx --check`` — exit status 1 and a message naming the output that differs.
Refusals: bad input is one line on stderr naming the node and the reason, exit status 2.
"""

from __future__ import annotations

import json

import onnx
import pytest
from onnx import TensorProto, helper

import symstride.onnx.conv as conv_module
import symstride.onnx.conv_transpose as conv_transpose_module
import symstride.onnx.pooling as pooling_module
from symstride.cli import main
from symstride.core.indexing import tap_map, transposed_tap_map, weight_gather_index
from symstride.onnx import NodeError, check_onnx, destride_onnx
from tests.onnx_models import single_node


def _moved(taps):
    """The first tap moved to the last tap's phase and offset (the bank then misses w[0] and doubles another)."""
    taps = list(taps)
    taps[0] = taps[0]._replace(phase=taps[-1].phase, offset=taps[-1].offset)
    return taps


def _corrupt_conv(monkeypatch):
    monkeypatch.setattr(conv_module, "weight_gather_index",
                        lambda spec, layout="pytorch": weight_gather_index(spec, layout, taps=_moved(tap_map(spec))))


def _corrupt_conv_transpose(monkeypatch):
    monkeypatch.setattr(conv_transpose_module, "weight_gather_index",
                        lambda spec, layout="pytorch": weight_gather_index(spec, layout, taps=_moved(transposed_tap_map(spec))))


def _shifted(taps):
    """The taps of the last phase one offset further along axis 0 (3×3 stride 2: tap (1, 1) read at offset (1, 0))."""
    last = max(t.phase for t in taps)
    return [t._replace(offset=(t.offset[0] + 1, *t.offset[1:])) if t.phase == last else t for t in taps]


def _corrupt_pool(monkeypatch):
    monkeypatch.setattr(pooling_module, "tap_map", lambda spec: _shifted(tap_map(spec)))


def test_pool_window_must_be_a_box():
    """A tap map with a tap missing from a phase's box is refused (the phases must tile the window)."""
    from symstride.core.params import ConvSpec

    spec = ConvSpec.create(kernel=(3, 3), stride=(2, 2))
    with pytest.raises(ValueError, match=r"the taps of phase \(0, 0\) do not fill their box"):
        pooling_module.pooling_phase_taps(spec, tap_map(spec)[1:])


TWINS = {
    "conv": (single_node("Conv", [1, 3, 9, 10], weight=(4, 3, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1]), _corrupt_conv),
    "conv depthwise": (single_node("Conv", [1, 4, 9, 10], weight=(4, 1, 3, 3), strides=[2, 2], group=4, pads=[1, 1, 1, 1]), _corrupt_conv),
    "conv_transpose": (single_node("ConvTranspose", [1, 4, 5, 6], weight=(4, 3, 4, 4), strides=[2, 2], pads=[1, 1, 1, 1]),
                       _corrupt_conv_transpose),
    "maxpool": (single_node("MaxPool", [1, 3, 9, 10], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), _corrupt_pool),
    "maxpool 1-D": (single_node("MaxPool", [1, 3, 12], kernel_shape=[3], strides=[2]), _corrupt_pool),
    "avgpool": (single_node("AveragePool", [1, 3, 9, 10], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), _corrupt_pool),
}


@pytest.mark.parametrize("layout", ["dcr", "crd"])
@pytest.mark.parametrize("name", list(TWINS))
def test_twin_is_caught_by_check(name, layout, tmp_path, capsys, monkeypatch):
    model, corrupt = TWINS[name]
    path = tmp_path / "in.onnx"
    onnx.save(model, path)
    args = [ "onnx", str(path), "-o", str(tmp_path / "out.onnx"), "--layout", layout, "--check"]
    assert main(args) == 0  # the true rewrite passes
    capsys.readouterr()
    corrupt(monkeypatch)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "check failed: output 'y' differs: max abs difference " in err and "above the tolerance 0.0001" in err


def test_twin_check_object():
    model, _ = TWINS["conv"]
    broken = destride_onnx(model)
    broken.graph.initializer[-1].float_data[:] = []  # keep the structure, change a weight
    raw = bytearray(broken.graph.initializer[-1].raw_data)
    raw[0:4] = b"\x00\x00\x80\x7f"  # the first entry of the last initializer becomes +inf
    broken.graph.initializer[-1].raw_data = bytes(raw)
    check = check_onnx(model, broken)
    assert not check.ok and check.failure.startswith("output 'y' differs") and check.to_json()["ok"] is False
    assert "DIFFER" in repr(check) and "FAILED" in str(check) and "FAILED" in check._repr_latex_()


def _graph_model(nodes, inputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _computed_weight():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 9, 9])
    w = helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 3, 3])
    return _graph_model([helper.make_node("Relu", ["w"], ["w2"]), helper.make_node("Conv", ["x", "w2"], ["y"], name="c", strides=[2, 2])], [x, w])


def _strided_in_subgraph():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    branch = lambda op: helper.make_graph(  # noqa: E731
        [helper.make_node(op, ["x"], ["z"], kernel_shape=[2], strides=[2])], "branch", [],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 2, 4])])
    node = helper.make_node("If", ["cond"], ["y"], name="choose", then_branch=branch("MaxPool"), else_branch=branch("AveragePool"))
    return _graph_model([node], [x, cond])


#: Bad input → the error message (the node is always named).
REFUSALS = {
    "dynamic spatial size": (single_node("Conv", [1, 3, "H", "W"], weight=(4, 3, 3, 3), strides=[2, 2]),
                             "Conv 'the_conv': its input 'x' has dynamic spatial size ?×?"),
    "computed weight": (_computed_weight(), "Conv 'c': its weight 'w2' is computed in the graph"),
    "maxpool indices": (_graph_model([helper.make_node("MaxPool", ["x"], ["y", "idx"], name="p", kernel_shape=[2], strides=[2])],
                                     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8])]),
                        "MaxPool 'p': its Indices output 'idx' is used"),
    "unknown attribute": (single_node("Conv", [1, 3, 9, 9], weight=(4, 3, 3, 3), strides=[2, 2], activation="relu"),
                          "Conv 'the_conv': attribute 'activation' is not supported"),
    "output_shape too large": (single_node("ConvTranspose", [1, 4, 5, 6], weight=(4, 3, 3, 3), strides=[2, 2], output_shape=[14, 14]),
                               "ConvTranspose 'the_convtranspose': output_shape [14, 14] is larger than the layer produces"),
    "integer input": (_graph_model([helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[2], strides=[2])],
                                   [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 2, 8])]),
                      "MaxPool 'p': its input 'x' has element type INT8"),
    "strided node in a subgraph": (_strided_in_subgraph(), "If 'choose': a strided AveragePool inside its subgraph"),
    "old opset": (single_node("MaxPool", [1, 2, 8], kernel_shape=[2], strides=[2], opset=9), "the model uses opset 9"),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusal_is_one_line(name, tmp_path, capsys):
    model, message = REFUSALS[name]
    with pytest.raises((NodeError, ValueError), match=None) as info:
        destride_onnx(model)
    assert str(info.value).startswith(message)
    path = tmp_path / "in.onnx"
    onnx.save(model, path)
    assert main(["onnx", str(path), "-o", str(tmp_path / "out.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symstride onnx: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "out.onnx").exists()


def test_cli_refuses_a_file_that_is_not_onnx(tmp_path, capsys):
    path = tmp_path / "model.onnx"
    path.write_text("not a model")
    assert main(["onnx", str(path), "-o", str(tmp_path / "out.onnx")]) == 2
    assert "is not an ONNX model" in capsys.readouterr().err


def test_cli_unknown_layout(tmp_path, capsys):
    assert main(["onnx", "in.onnx", "-o", "out.onnx", "--layout", "nhwc"]) == 2
    assert "invalid choice: 'nhwc'" in capsys.readouterr().err


def test_layout_refused_by_the_library():
    model, _ = TWINS["conv"]
    with pytest.raises(ValueError, match="unknown layout 'tf'; expected one of 'dcr', 'crd'"):
        destride_onnx(model, layout="tf")


def test_check_refuses_a_model_onnxruntime_cannot_run(tmp_path, capsys):
    """onnxruntime has no float64 Conv: --check cannot use the original as its oracle and says so in one line."""
    model = single_node("Conv", [1, 3, 9, 9], weight=(4, 3, 3, 3), strides=[2, 2], dtype=TensorProto.DOUBLE)
    path = tmp_path / "in.onnx"
    onnx.save(model, path)
    assert main(["onnx", str(path), "-o", str(tmp_path / "out.onnx"), "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symstride onnx: error: onnxruntime cannot run the original model: ") and err.count("\n") == 1


def test_cli_json_report(tmp_path, capsys):
    model, _ = TWINS["conv"]
    path = tmp_path / "in.onnx"
    onnx.save(model, path)
    assert main(["onnx", str(path), "-o", str(tmp_path / "out.onnx"), "--check", "--format", "json", "--layout", "crd"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rewritten"] == [{"name": "the_conv", "op_type": "Conv"}] and doc["remaining_strided"] == 0
    assert doc["layout"] == "crd" and doc["check"]["ok"] is True and doc["check"]["proved"] is False
    assert onnx.load(tmp_path / "out.onnx").graph.output[0].name == "y"
