"""Reading an ONNX graph as a strided network (the spec format of :mod:`symstride.network`).

The *trunk* is what ``--network`` hands to Theorem 3, as the torch bridge's ``mode="network"``
does: it starts at the input of the first strided Conv/MaxPool/AveragePool and runs through
supported nodes — ``Conv``, ``BatchNormalization`` (inference), the activations of
:data:`ONNX_ACTIVATIONS`, ``MaxPool``, ``AveragePool`` and residual blocks (a tensor read by two
branches that meet in an ``Add``) — as long as every tensor in between is read only inside the
trunk.  :func:`find_onnx_trunk` returns the spec, the parameters keyed as symstride.network expects
(``"3.body.0.weight"``), and which ONNX node each layer path came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

from .attrs import per_axis_attr, read_attributes, window_pads
from .conv import CONV_ATTRIBUTES
from .graph import GraphView, NodeError, attributes
from .pooling import POOL_ATTRIBUTES

__all__ = ["ONNX_ACTIVATIONS", "Trunk", "find_onnx_trunk"]

#: ONNX activation → (symstride.network name, {ONNX attribute: spec option}) with ONNX's defaults.
ONNX_ACTIVATIONS = {
    "Relu": ("relu", {}),
    "LeakyRelu": ("leaky_relu", {"alpha": ("negative_slope", 0.01)}),
    "Elu": ("elu", {"alpha": ("alpha", 1.0)}),
    "Tanh": ("tanh", {}),
    "Sigmoid": ("sigmoid", {}),
}


@dataclass
class Trunk:
    """The part of the graph Theorem 3 rewrites: from tensor ``start`` to tensor ``end``."""

    start: str
    end: str
    layers: list[dict[str, Any]]
    params: dict[str, np.ndarray] = field(default_factory=dict)
    nodes: dict[str, onnx.NodeProto] = field(default_factory=dict)  #: layer path → ONNX node
    consumed: list[onnx.NodeProto] = field(default_factory=list)


def _strided(node: onnx.NodeProto) -> bool:
    strides = attributes(node).get("strides", [])
    return node.op_type in ("Conv", "MaxPool", "AveragePool") and any(s != 1 for s in strides)


class _Reader:
    def __init__(self, view: GraphView) -> None:
        self.view = view
        graph = view.model.graph
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.outputs = {o.name for o in graph.output}

    def single_consumer(self, tensor: str) -> onnx.NodeProto | None:
        users = self.consumers.get(tensor, [])
        return users[0] if len(users) == 1 and tensor not in self.outputs else None

    def layer(self, node: onnx.NodeProto, tensor: str, path: str, trunk: Trunk) -> dict[str, Any] | None:
        """The node (reading ``tensor`` as its data input) as a spec layer, its parameters recorded; None if unsupported."""
        if node.domain not in ("", "ai.onnx") or not node.input or node.input[0] != tensor or len(node.output) != 1:
            if not (node.op_type == "MaxPool" and len(node.output) == 2 and not node.output[1]):
                return None
        view, op = self.view, node.op_type
        shape = view.shape(tensor)
        if shape is None or any(n is None for n in shape[1:]):
            return None
        sizes = tuple(shape[2:])
        if op == "Conv":
            read_attributes(node, CONV_ATTRIBUTES)
            w = view.constant(node.input[1])
            if w is None:
                return None
            attrs = attributes(node)
            ndim = w.ndim - 2
            stride, dilation = per_axis_attr(node, attrs, "strides", ndim, 1), per_axis_attr(node, attrs, "dilations", ndim, 1)
            kernel = tuple(w.shape[2:])
            bias = len(node.input) > 2 and bool(node.input[2])
            trunk.params[f"{path}.weight"] = w
            if bias:
                b = view.constant(node.input[2])
                if b is None:
                    return None
                trunk.params[f"{path}.bias"] = b
            return {"type": "conv", "out_channels": int(w.shape[0]), "kernel": list(kernel), "stride": list(stride),
                    "padding": [tuple(p) for p in window_pads(node, attrs, sizes, stride, dilation, kernel)],
                    "dilation": list(dilation), "groups": int(attrs.get("group", 1)), "bias": bias}
        if op == "BatchNormalization":
            attrs = attributes(node)
            values = [view.constant(name) for name in node.input[1:5]]
            if attrs.get("training_mode", 0) or any(v is None for v in values) or len(values) != 4:
                return None
            for key, value in zip(("weight", "bias", "running_mean", "running_var"), values):
                trunk.params[f"{path}.{key}"] = value
            return {"type": "batchnorm", "eps": float(attrs.get("epsilon", 1e-5))}
        if op in ONNX_ACTIVATIONS:
            name, options = ONNX_ACTIVATIONS[op]
            attrs = attributes(node)
            return {"type": name, **{spec: float(attrs.get(key, default)) for key, (spec, default) in options.items()}}
        if op in POOL_ATTRIBUTES:
            attrs = read_attributes(node, POOL_ATTRIBUTES[op])
            kernel = tuple(attrs["kernel_shape"])
            ndim = len(kernel)
            stride, dilation = per_axis_attr(node, attrs, "strides", ndim, 1), per_axis_attr(node, attrs, "dilations", ndim, 1)
            pads = window_pads(node, attrs, sizes, stride, dilation, kernel)
            if any(l != r for l, r in pads):
                raise NodeError(node, f"--network: pooling pads {pads} are asymmetric; symstride.network pools with symmetric padding")
            layer = {"type": "maxpool" if op == "MaxPool" else "avgpool", "kernel": list(kernel), "stride": list(stride),
                     "padding": [l for l, _ in pads], "ceil_mode": bool(attrs.get("ceil_mode", 0))}
            if op == "MaxPool":
                layer["dilation"] = list(dilation)
            else:
                if any(d != 1 for d in dilation):
                    return None
                layer["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
            return layer
        return None

    def chain(self, tensor: str, prefix: str, trunk: Trunk, first_index: int = 0) -> tuple[list[dict], str]:
        """Layers from ``tensor`` on, until an unsupported node or a tensor read elsewhere; returns them and the end tensor."""
        layers: list[dict] = []
        while True:
            users = self.consumers.get(tensor, [])
            if tensor in self.outputs or not users:
                break
            path = f"{prefix}{first_index + len(layers)}"
            if len(users) == 2:
                block = self.residual(tensor, users, path, trunk)
                if block is None:
                    break
                layers.append(block[0])
                tensor = block[1]
                continue
            node = self.single_consumer(tensor)
            layer = None if node is None else self.layer(node, tensor, path, trunk)
            if layer is None:
                break
            trunk.nodes[path] = node
            trunk.consumed.append(node)
            layers.append(layer)
            tensor = node.output[0]
        return layers, tensor

    def residual(self, tensor: str, users: list[onnx.NodeProto], path: str, trunk: Trunk) -> tuple[dict, str] | None:
        """Two branches from ``tensor`` meeting in one ``Add``: ``{"type": "residual", "body", "shortcut"}``
        (the longer branch is the body; an empty branch is the identity shortcut).  None if they do not meet."""
        scratch = Trunk(tensor, tensor, [])
        branches, ends = [], []
        for k, user in enumerate(users):
            if user.op_type == "Add":
                branches.append([])
                ends.append((user, tensor))
                continue
            prefix = f"{path}.b{k}."
            layer = self.layer(user, tensor, f"{prefix}0", scratch)
            if layer is None:
                return None
            scratch.nodes[f"{prefix}0"] = user
            scratch.consumed.append(user)
            rest, end = self.chain(user.output[0], prefix, scratch, first_index=1)
            adder = self.single_consumer(end)
            if adder is None or adder.op_type != "Add":
                return None
            branches.append([layer, *rest])
            ends.append((adder, end))
        adder = ends[0][0]
        if ends[1][0] is not adder or sorted(adder.input) != sorted(e for _, e in ends) or not any(branches):
            return None
        body = 0 if len(branches[0]) >= len(branches[1]) else 1
        names = {f"{path}.b{body}.": f"{path}.body.", f"{path}.b{1 - body}.": f"{path}.shortcut."}

        def rename(key: str) -> str:
            for old, new in names.items():
                if key.startswith(old):
                    return new + key[len(old):]
            return key

        trunk.params.update({rename(k): v for k, v in scratch.params.items()})
        trunk.nodes.update({rename(k): v for k, v in scratch.nodes.items()})
        trunk.consumed += [*scratch.consumed, adder]
        return {"type": "residual", "body": branches[body], "shortcut": branches[1 - body]}, adder.output[0]


def find_onnx_trunk(view: GraphView) -> Trunk | None:
    """The trunk of the first strided node, or None when no strided Conv/pooling exists."""
    first = next((n for n in view.model.graph.node if _strided(n)), None)
    if first is None:
        return None
    reader = _Reader(view)
    trunk = Trunk(first.input[0], first.input[0], [])
    trunk.layers, trunk.end = reader.chain(first.input[0], "", trunk)
    if not trunk.layers:
        raise NodeError(first, "--network: the trunk starting here is empty (its input is also read elsewhere, or the node is "
                               "not supported by symstride.network)")
    return trunk
