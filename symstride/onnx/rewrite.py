"""The whole-model rewrite: every strided Conv, ConvTranspose, MaxPool and AveragePool replaced.

:func:`destride_onnx` reads the model once (shape inference, constants), asks the rewrite of each
operator (:data:`REWRITES`) for the nodes that replace a strided node — keeping the node's output
name, so nothing downstream changes — drops the initializers no node reads any more, and checks
the result with ``onnx.checker.check_model(full_check=True)``.  Nodes with unit strides are
left as they are; an operator type with no rewrite is never touched.
"""

from __future__ import annotations

from typing import Callable

import onnx

from ..core.errors import SymstrideError
from .conv import rewrite_conv
from .conv_transpose import rewrite_conv_transpose
from .graph import GraphView, NodeError, subgraph_nodes
from .layout import check_onnx_layout
from .pooling import rewrite_pool

__all__ = ["REWRITES", "STRIDED_OPS", "destride_onnx", "strided_nodes", "strided_nodes_in"]

#: Operator type → rewrite(view, node, layout) returning the replacement nodes, or None if unit-stride.
REWRITES: dict[str, Callable[[GraphView, onnx.NodeProto, str], list[onnx.NodeProto] | None]] = {
    "Conv": rewrite_conv,
    "ConvTranspose": rewrite_conv_transpose,
    "MaxPool": rewrite_pool,
    "AveragePool": rewrite_pool,
}

#: The operator types whose ``strides`` attribute the rewrite removes.
STRIDED_OPS = tuple(REWRITES)


def strided_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The nodes of ``model``'s main graph with an operator of :data:`STRIDED_OPS` and a stride ≠ 1.

    >>> from onnx import TensorProto, helper
    >>> node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2])
    >>> g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
    ...                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    >>> [n.op_type for n in strided_nodes(helper.make_model(g))]
    ['MaxPool']
    """
    return strided_nodes_in(model.graph.node)


def strided_nodes_in(nodes) -> list[onnx.NodeProto]:
    """The nodes of ``nodes`` with an operator of :data:`STRIDED_OPS` and a stride ≠ 1."""
    out = []
    for node in nodes:
        if node.op_type in STRIDED_OPS and node.domain in ("", "ai.onnx"):
            strides = next((list(a.ints) for a in node.attribute if a.name == "strides"), [])
            if any(s != 1 for s in strides):
                out.append(node)
    return out


def _prune(model: onnx.ModelProto) -> None:
    """Drop initializers that no node (or graph output) reads any more, and their graph-input entries
    (models of IR version < 4 list every initializer among the inputs)."""
    used = {name for node in model.graph.node for name in node.input} | {o.name for o in model.graph.output}
    dropped = {t.name for t in model.graph.initializer if t.name not in used}
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    for info in [i for i in model.graph.input if i.name in dropped]:
        model.graph.input.remove(info)


def destride_onnx(model: onnx.ModelProto, layout: str = "dcr", *, network: bool = False) -> onnx.ModelProto:
    """A copy of ``model`` in which no Conv, ConvTranspose, MaxPool or AveragePool has a stride ≠ 1.

    Each strided node becomes unit-stride operators on the space-to-depth phases of its input
    (Theorem 2; sub-pixel convolution for ``ConvTranspose``), its weights rearranged by
    symstride's integer index maps and phases without weight dropped.  ``layout`` is the phase
    channel order, ``"dcr"`` (ONNX ``SpaceToDepth``/``DepthToSpace`` DCR, native in 2-D) or
    ``"crd"`` (PyTorch's ``pixel_unshuffle`` order); see :mod:`symstride.onnx.layout`.
    ``network=True`` first applies Theorem 3 to the graph where it can (see
    :mod:`symstride.onnx.network`).  A node that cannot be rewritten exactly (dynamic spatial
    size, computed weights, an unknown attribute, …) raises :class:`NodeError` naming it.

    >>> import numpy as np
    >>> from onnx import TensorProto, helper, numpy_helper
    >>> w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    >>> conv = helper.make_node("Conv", ["x", "w"], ["y"], name="stem", strides=[2, 2], pads=[1, 1, 1, 1])
    >>> g = helper.make_graph([conv], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 9, 9])],
    ...                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])], [w])
    >>> out = destride_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    >>> [n.op_type for n in out.graph.node], strided_nodes(out)
    (['Pad', 'SpaceToDepth', 'Conv'], [])
    """
    check_onnx_layout(layout)
    view = GraphView(model)
    for node in view.model.graph.node:
        inner = [n.op_type for n in strided_nodes_in(subgraph_nodes(node))]
        if inner:
            raise NodeError(node, f"a strided {inner[0]} inside its subgraph; symstride rewrites the main graph only")
    if network:
        from .network import rewrite_network

        view = GraphView(rewrite_network(view, layout))
    new_nodes: list[onnx.NodeProto] = []
    for node in view.model.graph.node:
        rewrite = REWRITES.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        replacement = rewrite(view, node, layout) if rewrite is not None else None
        new_nodes.extend([node] if replacement is None else replacement)
    out = onnx.ModelProto()
    out.CopyFrom(view.model)
    del out.graph.node[:]
    out.graph.node.extend(new_nodes)
    del out.graph.initializer[:]
    out.graph.initializer.extend(view.initializers.values())
    del out.graph.value_info[:]  # shape inference's guesses for the old graph; the checker infers again
    for info in out.graph.output:  # an output declared without a shape gets the inferred one (the checker wants it)
        known = view.inferred_type(info.name)
        if not info.type.tensor_type.HasField("shape") and known is not None and known.tensor_type.HasField("shape"):
            info.type.CopyFrom(known)
    _prune(out)
    remaining = strided_nodes(out)
    if remaining:
        raise NodeError(remaining[0], "internal: a strided node remains after the rewrite")
    try:
        onnx.checker.check_model(out, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise SymstrideError(f"internal: the rewritten model fails onnx.checker: {str(exc).splitlines()[0]}") from None
    return out
