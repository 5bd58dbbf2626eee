"""fx nodes as layers of :mod:`symstride.network`.

:func:`read_layer` says which layer of a network spec one fx node is — a convolution, batch-norm,
pointwise map, pooling (``ceil_mode`` recorded for :mod:`.graph_reader`) or an identity — or
raises :class:`UnsupportedNode` with the reason; the graph reader of ``destride_model(...,
mode="network")`` (:mod:`.graph_reader`) reads every node through it.
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

from .calls import functional_call, is_strided
from .layers import AVG_POOL_TYPES, CONV_TYPES, MAX_POOL_TYPES, conv_spec, pool_spec

__all__ = ["TrunkItem", "UnsupportedNode", "read_layer"]

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
