"""Reading an ONNX graph: static shapes from shape inference, constant weights, attributes, new nodes.

A rewrite needs three things from the graph around a node: the static spatial size of its input
(from ONNX shape inference or the model's own ``value_info``), its weights as NumPy arrays (an
initializer, a ``Constant`` node, or either behind ``Identity`` nodes, as the TorchScript exporter
writes shared biases) and fresh, unique names for what it adds.  :class:`GraphView` holds them;
:class:`NodeError` is the one-line refusal naming the node and the reason.

>>> import onnx
>>> from onnx import TensorProto, helper
>>> g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="act")], "g",
...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
>>> view = GraphView(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
>>> view.shape("y"), view.fresh("act/pad")
((1, 3, 8, 8), 'act/pad')
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..core.errors import SymstrideError, SymstrideTypeError

__all__ = ["MIN_OPSET", "FOLDABLE", "NodeError", "GraphView", "attributes", "describe_node", "fold_constants", "load_model",
           "save_model", "subgraph_nodes"]

#: The oldest default-domain opset the rewrite reads and writes (``Pad``, ``Slice`` and ``Reshape``
#: with their shapes as inputs, ``DepthToSpace`` with ``mode``).
MIN_OPSET = 11


#: Operators whose outputs are evaluated when all their inputs are constant, before shape inference
#: (exporters compute ``Pad`` widths and ``Reshape`` targets with such chains; ONNX shape inference
#: does not follow them through every operator).
FOLDABLE = frozenset({
    "Constant", "ConstantOfShape", "Identity", "Cast", "Concat", "Reshape", "Slice", "Transpose", "Unsqueeze",
    "Squeeze", "Gather", "Expand", "Range", "Add", "Sub", "Mul", "Div", "Neg", "Equal", "Where", "Flatten",
})

#: Folded constants larger than this many elements are left to shape inference.
_FOLD_LIMIT = 1 << 16


def fold_constants(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` in which nodes of :data:`FOLDABLE` with constant inputs became initializers.

    Used only to learn shapes: the rewritten model keeps the original nodes.  Evaluation is ONNX's
    reference implementation, node by node; a node it cannot evaluate is left as it is.
    """
    from onnx.reference import ReferenceEvaluator

    out = onnx.ModelProto()
    out.CopyFrom(model)
    values = {t.name: numpy_helper.to_array(t) for t in out.graph.initializer}
    kept, folded = [], []
    for node in out.graph.node:
        if node.op_type in FOLDABLE and node.domain in ("", "ai.onnx") and all(not i or i in values for i in node.input):
            try:
                results = ReferenceEvaluator(node).run(None, {i: values[i] for i in node.input if i})
            except Exception:  # the reference implementation's own errors: leave the node to shape inference
                results = None
            if results is not None and all(np.asarray(r).size <= _FOLD_LIMIT for r in results):
                for name, value in zip(node.output, results):
                    values[name] = np.asarray(value)
                    folded.append(numpy_helper.from_array(np.asarray(value), name))
                continue
        kept.append(node)
    del out.graph.node[:]
    out.graph.node.extend(kept)
    out.graph.initializer.extend(folded)
    return out


def load_model(path: str) -> onnx.ModelProto:
    """Read an ONNX model file, or a ValueError when the file is not one."""
    from google.protobuf.message import DecodeError

    try:
        return onnx.load(path)
    except DecodeError:
        raise SymstrideError(f"{path} is not an ONNX model (it does not parse as a ModelProto)") from None


def save_model(model: onnx.ModelProto, path: str) -> None:
    """Write ``model`` to ``path`` (one file)."""
    onnx.save(model, path)


def subgraph_nodes(node: onnx.NodeProto) -> list[onnx.NodeProto]:
    """Every node inside the graphs held by ``node``'s attributes (``If`` branches, ``Loop`` bodies), recursively."""
    out = []
    for attr in node.attribute:
        for graph in [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs):
            for inner in graph.node:
                out += [inner, *subgraph_nodes(inner)]
    return out


def describe_node(node: onnx.NodeProto) -> str:
    """``Conv 'stem/conv'`` (or ``Conv #output`` for a node without a name)."""
    return f"{node.op_type} {node.name!r}" if node.name else f"{node.op_type} (output {node.output[0]!r})"


class NodeError(SymstrideError):
    """A node that cannot be rewritten exactly; the message names the node and the reason."""

    def __init__(self, node: onnx.NodeProto, reason: str) -> None:
        super().__init__(f"{describe_node(node)}: {reason}")
        self.node_name = node.name
        self.reason = reason


def attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """The node's attributes as Python values (ints, lists of ints, strings)."""
    out = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        out[attr.name] = value.decode() if isinstance(value, bytes) else value
    return out


class GraphView:
    """A model with its inferred shapes, constants and a name allocator.

    Shape inference runs once, on a copy with constant chains folded (:func:`fold_constants`) and
    with data propagation, so shapes computed by ``Shape``/``Reshape`` chains are known.  :meth:`shape` raises nothing: it returns None
    for an unknown rank and None entries for dynamic dimensions; the rewrites decide what to refuse.
    """

    def __init__(self, model: onnx.ModelProto) -> None:
        if not isinstance(model, onnx.ModelProto):
            raise SymstrideTypeError(f"expected an onnx.ModelProto, got {type(model).__name__}")
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
        if self.opset is None:
            raise SymstrideError("the model imports no default-domain (ai.onnx) opset")
        if self.opset < MIN_OPSET:
            raise SymstrideError(
                f"the model uses opset {self.opset}; symstride rewrites opset {MIN_OPSET} or newer "
                f"(convert it first: onnx.version_converter.convert_version(model, {MIN_OPSET}))"
            )
        self.model = model
        try:
            inferred = onnx.shape_inference.infer_shapes(fold_constants(model), data_prop=True)
        except onnx.shape_inference.InferenceError as exc:
            raise SymstrideError(f"ONNX shape inference fails on the model: {str(exc).splitlines()[0]}") from None
        graph = model.graph
        self.initializers = {t.name: t for t in graph.initializer}
        self.producers = {out: node for node in graph.node for out in node.output}
        self._types: dict[str, onnx.TypeProto] = {}
        for info in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output, *graph.value_info):
            if info.type.HasField("tensor_type"):
                self._types.setdefault(info.name, info.type)
        self._names = {n for node in graph.node for n in (*node.input, *node.output, node.name)}
        self._names |= set(self.initializers) | {i.name for i in graph.input}

    # --- shapes and types -----------------------------------------------------------------------

    def inferred_type(self, name: str) -> onnx.TypeProto | None:
        """The tensor type of ``name`` as shape inference (or the model's value_info) knows it."""
        return self._types.get(name)

    def shape(self, name: str) -> tuple[int | None, ...] | None:
        """Static shape of tensor ``name`` (None for a dynamic dimension), or None if its rank is unknown."""
        if name in self.initializers:
            return tuple(self.initializers[name].dims)
        t = self._types.get(name)
        if t is None or not t.tensor_type.HasField("shape"):
            return None
        return tuple(d.dim_value if d.HasField("dim_value") else None for d in t.tensor_type.shape.dim)

    def elem_type(self, name: str) -> int | None:
        """ONNX element type (``TensorProto.FLOAT``, …) of tensor ``name``, or None if unknown."""
        if name in self.initializers:
            return self.initializers[name].data_type
        t = self._types.get(name)
        return t.tensor_type.elem_type if t is not None and t.tensor_type.elem_type else None

    def spatial_size(self, node: onnx.NodeProto, name: str, ndim: int) -> tuple[int, ...]:
        """The static spatial size of input ``name`` of ``node``, or a :class:`NodeError` saying why not."""
        shape = self.shape(name)
        if shape is None:
            raise NodeError(node, f"the shape of its input {name!r} is unknown after ONNX shape inference; "
                                  "the rewrite needs its spatial size")
        if len(shape) != ndim + 2:
            raise NodeError(node, f"its input {name!r} has rank {len(shape)}, expected {ndim + 2} (batch, channels, "
                                  f"{ndim} spatial axes)")
        if shape[1] is None:
            raise NodeError(node, f"the channel count of its input {name!r} is dynamic")
        spatial = shape[2:]
        if any(n is None for n in spatial):
            shown = "×".join("?" if n is None else str(n) for n in spatial)
            raise NodeError(node, f"its input {name!r} has dynamic spatial size {shown}; the rewrite pads and trims "
                                  "to lengths computed from the size, so it needs static spatial sizes (export with "
                                  "fixed height/width, or fix them with onnx.tools.update_model_dims)")
        return tuple(int(n) for n in spatial)

    # --- constants ---------------------------------------------------------------------------------

    def constant(self, name: str) -> np.ndarray | None:
        """The value of tensor ``name`` if it is an initializer or a ``Constant`` (through ``Identity``), else None."""
        seen = 0
        while seen < 64:
            if name in self.initializers:
                return numpy_helper.to_array(self.initializers[name])
            node = self.producers.get(name)
            if node is None:
                return None
            if node.op_type == "Identity":
                name, seen = node.input[0], seen + 1
                continue
            if node.op_type == "Constant":
                attr = next((a for a in node.attribute if a.name == "value"), None)
                return None if attr is None else numpy_helper.to_array(attr.t)
            return None
        return None

    def weight(self, node: onnx.NodeProto, index: int, what: str) -> np.ndarray:
        """Constant input ``index`` of ``node`` (``what`` names it in the refusal)."""
        name = node.input[index]
        value = self.constant(name)
        if value is None:
            raise NodeError(node, f"its {what} {name!r} is computed in the graph; symstride rearranges constant "
                                  "weights (initializers or Constant nodes)")
        return value

    # --- building ------------------------------------------------------------------------------------

    def fresh(self, base: str) -> str:
        """A name not yet used in the graph (``base``, or ``base_1``, ``base_2``, …), reserved."""
        name, k = base, 0
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def add_initializer(self, base: str, value: np.ndarray) -> str:
        """Add ``value`` as a new initializer under a fresh name; returns the name."""
        name = self.fresh(base)
        self.initializers[name] = numpy_helper.from_array(np.asarray(value), name)
        return name

    def ints(self, base: str, values: Iterable[int]) -> str:
        """A new int64 initializer (shapes, pads, slice bounds)."""
        return self.add_initializer(base, np.asarray(list(values), dtype=np.int64))

    def scalar(self, base: str, value: float, elem_type: int) -> str:
        """A new 0-d initializer of ``value`` in element type ``elem_type``."""
        return self.add_initializer(base, np.asarray(value, dtype=helper.tensor_dtype_to_np_dtype(elem_type)))

    def float_type(self, node: onnx.NodeProto, name: str) -> int:
        """The element type of ``name``, refused unless it is a floating type."""
        elem = self.elem_type(name)
        if elem not in (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16):
            shown = "unknown" if elem is None else TensorProto.DataType.Name(elem)
            raise NodeError(node, f"its input {name!r} has element type {shown}; symstride rewrites floating-point layers")
        return elem

    def make_node(self, op: str, inputs: Sequence[str], outputs: Sequence[str], name: str, **attrs: Any) -> onnx.NodeProto:
        """A default-domain node with a fresh name (``outputs`` must already be fresh or final)."""
        return helper.make_node(op, list(inputs), list(outputs), name=self.fresh(name), **attrs)
