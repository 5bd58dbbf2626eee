"""ONNX models rewritten stride-free, for accelerators without strided convolution.

:func:`destride_onnx` turns every Conv, ConvTranspose, MaxPool and AveragePool whose strides are
not all 1 into unit-stride operators on the space-to-depth phases of its input (Theorem 2; the
sub-pixel form for ConvTranspose), with the weight initializers rearranged by symstride's index
maps and phases without weight dropped; :func:`check_onnx` compares two models in onnxruntime.
Needs the ``[onnx]`` extra (``pip install symstride[onnx]``: onnx and onnxruntime); nothing else in
symstride imports onnx.

>>> import numpy as np
>>> from onnx import TensorProto, helper, numpy_helper
>>> w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((8, 3, 3, 3)).astype(np.float32), "w")
>>> g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])], "g",
...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 17, 17])],
...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
>>> model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
>>> flat = destride_onnx(model, layout="dcr")
>>> strided_nodes(flat), check_onnx(model, flat).ok
([], True)
"""

from .check import OnnxCheck, check_onnx
from .graph import NodeError, load_model, save_model
from .layout import ONNX_LAYOUTS
from .rewrite import STRIDED_OPS, destride_onnx, strided_nodes

__all__ = ["ONNX_LAYOUTS", "STRIDED_OPS", "NodeError", "OnnxCheck", "check_onnx", "destride_onnx", "load_model", "save_model", "strided_nodes"]
