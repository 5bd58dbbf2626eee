"""fx nodes as layers of :mod:`symstride.network`, and the trunk of a traced model.

:func:`read_layer` says which layer of a network spec one fx node is — a convolution, batch-norm,
pointwise map, pooling (``ceil_mode`` recorded for :mod:`.graph_reader`) or an identity — or
raises :class:`UnsupportedNode` with the reason; the graph reader of ``destride_model(...,
mode="network")`` (:mod:`.graph_reader`) reads every node through it.  :func:`find_trunk` is
the reader of one chain for :func:`symstride.torch.network.convert_network`: the part of the
graph from the input of the first strided layer to the last node such that everything in between
is such a layer or a residual block (two branches from one node meeting in an addition) and
nothing in between is used elsewhere, read backwards and written as the layer list of a spec.
"""

from __future__ import annotations

import copy
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..core.errors import SymstrideError
from .calls import functional_call, is_strided, label, refuse
from .layers import AVG_POOL_TYPES, CONV_TYPES, MAX_POOL_TYPES, conv_spec, pool_spec

__all__ = ["TrunkItem", "UnsupportedNode", "read_layer", "find_trunk", "spec_layers"]

_ADD = {operator.add, torch.add}
_POINTWISE_MODULES = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish, nn.Tanh,
    nn.Sigmoid, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Softplus, nn.Softsign, nn.Tanhshrink,
)
_POINTWISE_FUNCTIONS = {
    torch.relu, F.relu, F.relu6, F.leaky_relu, F.elu, F.celu, F.selu, F.gelu, F.silu, F.mish,
    torch.sigmoid, F.sigmoid, torch.tanh, F.tanh, F.hardswish, F.hardsigmoid, F.hardtanh, F.softplus,
}
_POINTWISE_METHODS = {"relu", "sigmoid", "tanh"}
_IDENTITY_MODULES = (nn.Identity, nn.modules.dropout._DropoutNd)


@dataclass
class TrunkItem:
    """One node of the trunk as a layer of the network spec (``spec`` None: an identity)."""

    node: fx.Node
    spec: dict | None
    source: Any = None  #: the torch side: module, pointwise callable, or (weight, bias) tensors
    body: list["TrunkItem"] = field(default_factory=list)
    shortcut: list["TrunkItem"] = field(default_factory=list)


class UnsupportedNode(Exception):
    """A node that cannot be part of the trunk: the reason, and whether the node strides."""

    def __init__(self, reason: str, strided: bool = False) -> None:
        super().__init__(reason)
        self.strided = strided


def _const(values: Sequence[Any], what: str) -> None:
    for v in values:
        if isinstance(v, fx.Node):
            raise UnsupportedNode(f"its {what} is computed in the graph ({v.name!r}); the network construction needs constants")


def _attribute(gm: fx.GraphModule, value: Any, what: str, strided: bool) -> torch.Tensor | None:
    """The parameter or buffer a ``get_attr`` node names (None stays None)."""
    if value is None:
        return None
    if isinstance(value, fx.Node) and value.op == "get_attr":
        obj: Any = gm
        for part in value.target.split("."):
            obj = getattr(obj, part)
        return obj
    raise UnsupportedNode(f"its {what} is computed in the graph; mode='network' needs parameters (use mode='layer')", strided)


def _without_inplace(fn: Any) -> Any:
    """A pointwise module that does not overwrite its input (phase tensors may be shared by two branches)."""
    if isinstance(fn, nn.Module) and getattr(fn, "inplace", False):
        fn = copy.copy(fn)
        fn.inplace = False
    return fn


def _zero_preserving(fn: Callable[[torch.Tensor], torch.Tensor], meta: Any) -> bool:
    shape = (1, meta.shape[1], *([1] * (len(meta.shape) - 2))) if meta is not None else (1, 1, 1)
    with torch.no_grad():
        out = fn(torch.zeros(shape, dtype=meta.dtype if meta is not None else torch.float32))
    return bool((out == 0).all())


def _pointwise(node: fx.Node, fn: Callable[[torch.Tensor], torch.Tensor]) -> TrunkItem:
    """An elementwise map; the construction depends on it only through ``f(0) = 0`` (its boundary analysis)."""
    meta = node.args[0].meta.get("tensor_meta") if isinstance(node.args[0], fx.Node) else None
    # a stand-in of symstride.network's table with the same f(0) = 0 property
    name = "relu" if _zero_preserving(fn, meta) else "sigmoid"
    return TrunkItem(node, {"type": name}, _without_inplace(fn))


def _conv_item(node: fx.Node, spec, padding_mode: str, weight: torch.Tensor, bias: torch.Tensor | None) -> TrunkItem:
    layer = {
        "type": "conv", "out_channels": spec.out_channels, "kernel": list(spec.kernel), "stride": list(spec.stride),
        "padding": [list(p) for p in spec.padding], "dilation": list(spec.dilation), "groups": spec.groups,
        "bias": bias is not None, "padding_mode": padding_mode,
    }
    return TrunkItem(node, layer, (weight, bias))


def _pool_item(node: fx.Node, kind: str, spec, ceil_mode: bool, extra: dict) -> TrunkItem:
    layer = {"type": kind, "kernel": list(spec.kernel), "stride": list(spec.stride), "padding": [l for l, _ in spec.padding]}
    if ceil_mode:  # read by the graph reader (symstride.torch.graph_reader); a chain spec refuses it
        layer["ceil_mode"] = True
    if kind == "maxpool":
        layer["dilation"] = list(spec.dilation)
    return TrunkItem(node, {**layer, **extra})


def read_layer(gm: fx.GraphModule, node: fx.Node) -> TrunkItem:
    """The layer a unary node is, or :class:`UnsupportedNode` with the reason."""
    if node.op == "call_module":
        return _module_item(gm, node, gm.get_submodule(node.target))
    if node.op == "call_function" and node.target in _POINTWISE_FUNCTIONS:
        rest, kwargs = node.args[1:], {**node.kwargs, **({"inplace": False} if "inplace" in node.kwargs else {})}
        _const([*rest, *kwargs.values()], "arguments")
        return _pointwise(node, lambda z, f=node.target, a=rest, k=kwargs: f(z, *a, **k))
    if node.op == "call_method" and node.target in _POINTWISE_METHODS:
        _const([*node.args[1:], *node.kwargs.values()], "arguments")
        return _pointwise(node, lambda z, m=node.target, a=node.args[1:], k=dict(node.kwargs): getattr(z, m)(*a, **k))
    call = functional_call(gm, node)
    if call is None:
        name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", node.target)
        raise UnsupportedNode(f"{name} is not a layer of the network construction")
    a = call.args
    if call.kind == "conv":
        strided = is_strided(a["stride"])
        weight = _attribute(gm, a["weight"], "weight", strided)
        spec = conv_spec(weight.shape, a["stride"], a["padding"], a["dilation"], a["groups"])
        return _conv_item(node, spec, "zeros", weight, _attribute(gm, a["bias"], "bias", strided))
    spec = pool_spec(a["kernel_size"], a["stride"], a["padding"], a.get("dilation", 1), call.ndim)
    if call.kind == "maxpool":
        if a["return_indices"]:
            raise UnsupportedNode("pooling that returns indices", is_strided(spec.stride))
        return _pool_item(node, "maxpool", spec, a["ceil_mode"], {})
    if a["divisor_override"]:
        raise UnsupportedNode("average pooling with divisor_override", is_strided(spec.stride))
    return _pool_item(node, "avgpool", spec, a["ceil_mode"], {"count_include_pad": bool(a["count_include_pad"])})


def _module_item(gm: fx.GraphModule, node: fx.Node, mod: nn.Module) -> TrunkItem:
    kind = type(mod)
    if isinstance(mod, _IDENTITY_MODULES):
        if isinstance(mod, nn.modules.dropout._DropoutNd) and mod.training:
            raise UnsupportedNode("dropout in training mode (call model.eval())")
        return TrunkItem(node, None)
    if isinstance(mod, _POINTWISE_MODULES):
        return _pointwise(node, mod)
    if kind in CONV_TYPES:
        spec = conv_spec(mod.weight.shape, mod.stride, mod.padding, mod.dilation, mod.groups)
        return _conv_item(node, spec, mod.padding_mode, mod.weight, mod.bias)
    if isinstance(mod, nn.modules.batchnorm._BatchNorm):
        if mod.training or not mod.track_running_stats:
            raise UnsupportedNode(f"{kind.__name__} normalises with batch statistics here (call model.eval())")
        return TrunkItem(node, {"type": "batchnorm", "eps": float(mod.eps)}, mod)
    if kind in MAX_POOL_TYPES:
        spec = pool_spec(mod.kernel_size, mod.stride, mod.padding, mod.dilation, MAX_POOL_TYPES[kind])
        if mod.return_indices:
            raise UnsupportedNode("pooling that returns indices", is_strided(spec.stride))
        return _pool_item(node, "maxpool", spec, mod.ceil_mode, {})
    if kind in AVG_POOL_TYPES:
        spec = pool_spec(mod.kernel_size, mod.stride, mod.padding, 1, AVG_POOL_TYPES[kind])
        if getattr(mod, "divisor_override", None):
            raise UnsupportedNode("average pooling with divisor_override", is_strided(spec.stride))
        return _pool_item(node, "avgpool", spec, mod.ceil_mode, {"count_include_pad": bool(mod.count_include_pad)})
    stride = getattr(mod, "stride", 1)
    stride = getattr(mod, "kernel_size", 1) if stride is None else stride
    raise UnsupportedNode(f"{kind.__name__} is not a layer of the network construction", is_strided(stride))


def _is_add(node: fx.Node) -> bool:
    if node.op == "call_function" and node.target in _ADD:
        return len(node.args) == 2 and not node.kwargs and all(isinstance(a, fx.Node) for a in node.args)
    return node.op == "call_method" and node.target == "add" and len(node.args) == 2 and not node.kwargs


class _Reader:
    """Reads series-parallel stretches of the graph backwards into chains of :class:`TrunkItem`."""

    def __init__(self, gm: fx.GraphModule) -> None:
        self.gm = gm
        self.items: dict[fx.Node, TrunkItem] = {}
        self.why: dict[fx.Node, str] = {}
        self.strided_barriers: list[fx.Node] = []
        self._back: dict[fx.Node, fx.Node | None] = {}

    def back(self, node: fx.Node) -> fx.Node | None:
        """The node the chain ending at ``node`` continues from (None: ``node`` starts a trunk)."""
        if node not in self._back:
            self._back[node] = self._compute_back(node)
        return self._back[node]

    def _compute_back(self, node: fx.Node) -> fx.Node | None:
        if node.op in ("placeholder", "get_attr", "output"):
            self.why[node] = f"{node.op} nodes start or end a trunk"
            return None
        if _is_add(node):
            fork = self.fork(*node.args)
            if fork is None:
                self.why[node] = "the two operands of the addition do not come from one node through supported layers"
            return fork
        try:
            item = read_layer(self.gm, node)
        except UnsupportedNode as exc:
            self.why[node] = str(exc)
            if exc.strided:
                self.strided_barriers.append(node)
            return None
        source = node.args[0] if node.args else None
        if not isinstance(source, fx.Node):
            self.why[node] = "its input is not a tensor of the graph"
            return None
        self.items[node] = item
        return source

    def fork(self, a: fx.Node, b: fx.Node) -> fx.Node | None:
        """The nearest node both branches continue from (the start of a residual block)."""
        seen = []
        node = a
        while node is not None:
            seen.append(node)
            node = self.back(node)
        node = b
        while node is not None and node not in seen:
            node = self.back(node)
        return node

    def chain(self, start: fx.Node, end: fx.Node) -> tuple[list[TrunkItem], set[fx.Node]]:
        """The layers from ``start`` (excluded) to ``end`` (included), and the nodes they use."""
        layers: list[TrunkItem] = []
        nodes: set[fx.Node] = set()
        node = end
        while node is not start:
            nodes.add(node)
            if _is_add(node):
                fork = self.back(node)
                left, left_nodes = self.chain(fork, node.args[0])
                right, right_nodes = self.chain(fork, node.args[1])
                live = [i for i in left if i.spec is not None]
                body, shortcut = (left, right) if live else (right, left)
                layers.append(TrunkItem(node, {"type": "residual"}, body=body, shortcut=shortcut))
                nodes |= left_nodes | right_nodes
                node = fork
            else:
                layers.append(self.items[node])
                node = self.back(node)
        return layers[::-1], nodes


def find_trunk(gm: fx.GraphModule) -> tuple[fx.Node | None, fx.Node | None, list[TrunkItem], set[fx.Node]]:
    """``(start, end, layers, nodes)`` of the trunk holding every strided layer (Nones: nothing strides)."""
    reader = _Reader(gm)
    order = list(gm.graph.nodes)
    for node in order:
        reader.back(node)
    if reader.strided_barriers:
        node = reader.strided_barriers[0]
        raise refuse(gm, node, f"mode='network': {reader.why[node]}")
    strided = [n for n in order if _strided_item(reader.items.get(n))]
    if not strided:
        return None, None, [], set()
    best = None
    for end in order:
        start = end
        while reader.back(start) is not None:
            start = reader.back(start)
        if start is end:
            continue
        layers, nodes = reader.chain(start, end)
        if all(s in nodes for s in strided) and not any(u not in nodes for n in nodes - {end} for u in n.users):
            best = (start, end, layers, nodes)
    if best is None:
        raise _trunk_error(gm, reader, strided, order)
    return best


def _strided_item(item: TrunkItem | None) -> bool:
    windowed = item is not None and item.spec is not None and item.spec["type"] in ("conv", "maxpool", "avgpool")
    return windowed and is_strided(item.spec["stride"])


def _trunk_error(gm: fx.GraphModule, reader: _Reader, strided: list[fx.Node], order: list[fx.Node]) -> SymstrideError:
    first = strided[0]
    for node in order[order.index(first):order.index(strided[-1])]:  # a barrier among the strided layers explains it
        if node in reader.why and node.op not in ("placeholder", "get_attr", "output"):
            return SymstrideError(
                f"mode='network' needs one chain of convolutions, batch-norms, pointwise maps, poolings and residual "
                f"additions holding every strided layer; {label(gm, node)} breaks it: {reader.why[node]} "
                f"(first strided layer: {label(gm, first)}); use mode='layer'"
            )
    return SymstrideError(
        f"mode='network' found no chain of supported layers holding every strided layer (first: {label(gm, first)}): "
        "an intermediate result is used outside the chain; use mode='layer'"
    )


def spec_layers(items: Sequence[TrunkItem], prefix: str, out: dict[str, TrunkItem]) -> list[dict]:
    """The spec's layer list, recording the path symstride.network gives every layer."""
    layers = []
    for item in items:
        if item.spec is None:
            continue
        path = f"{prefix}{len(layers)}"
        out[path] = item
        layer = dict(item.spec)
        if layer["type"] == "residual":
            layer["body"] = spec_layers(item.body, f"{path}.body.", out)
            layer["shortcut"] = spec_layers(item.shortcut, f"{path}.shortcut.", out)
        layers.append(layer)
    return layers
