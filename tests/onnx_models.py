"""Small ONNX models for the tests of :mod:`symstride.onnx`: one node with random weights, built by hand.

>>> model = single_node("Conv", [1, 3, 9], weight=(4, 3, 3), strides=[2])
>>> [n.op_type for n in model.graph.node], [t.name for t in model.graph.initializer]
(['Conv'], ['w', 'b'])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["OPSET", "single_node", "rewritten_ops", "strided_ops", "export"]

#: The opset the hand-built models import (AveragePool dilations need 19).
OPSET = 19


def single_node(op: str, x_shape: Sequence[Any], *, weight: Sequence[int] | None = None, bias: bool = True,
                dtype: int = TensorProto.FLOAT, seed: int = 0, opset: int = OPSET, **attrs: Any) -> onnx.ModelProto:
    """A model with one ``op`` node on input ``x`` (``x_shape`` may hold strings: dynamic axes)."""
    rng = np.random.default_rng(seed)
    np_type = helper.tensor_dtype_to_np_dtype(dtype)
    inputs, inits = ["x"], []
    if weight is not None:
        inits.append(numpy_helper.from_array(rng.standard_normal(weight).astype(np_type), "w"))
        inputs.append("w")
        if bias:
            out_channels = weight[0] if op == "Conv" else weight[1] * attrs.get("group", 1)
            inits.append(numpy_helper.from_array(rng.standard_normal(out_channels).astype(np_type), "b"))
            inputs.append("b")
    node = helper.make_node(op, inputs, ["y"], name=f"the_{op.lower()}", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", dtype, list(x_shape))],
                              [helper.make_tensor_value_info("y", dtype, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def rewritten_ops(model: onnx.ModelProto) -> list[str]:
    """The operator types of the model's nodes, in order."""
    return [n.op_type for n in model.graph.node]


def strided_ops(model: onnx.ModelProto) -> list[str]:
    """Names of Conv/ConvTranspose/MaxPool/AveragePool nodes with a stride ≠ 1 (independent of symstride)."""
    out = []
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose", "MaxPool", "AveragePool"):
            strides = [list(a.ints) for a in node.attribute if a.name == "strides"]
            if strides and any(s != 1 for s in strides[0]):
                out.append(node.name)
    return out


def export(module: Any, x: Any, *, dynamo: bool = True) -> onnx.ModelProto:
    """``torch.onnx.export`` of ``module`` on example ``x`` as a ModelProto, offline.

    ``dynamo=True`` (torch's default exporter: torch.export, then onnxscript; needs the
    ``onnxscript`` package) or ``dynamo=False`` (the deprecated TorchScript exporter, opset 17,
    which writes shared constants behind Identity nodes).  Both run without network access.
    """
    import io
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            return torch.onnx.export(module, (x,), dynamo=True, verbose=False).model_proto
        buffer = io.BytesIO()
        torch.onnx.export(module, (x,), buffer, dynamo=False, opset_version=17)
    return onnx.load_from_string(buffer.getvalue())
