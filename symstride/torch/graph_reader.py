"""Reading a traced model as a branching strided network (a DAG) for Theorem 3.

``destride_model(..., mode="network")`` converts the part of the fx graph that starts at the
input of the first strided layer (the *start*) and is made of operations with a phase-domain
form.  :func:`read_graph` walks the graph forwards from the start and decides, for every node
that reads a converted value, what it becomes (:class:`NodeRule`):

* ``phase`` values — feature maps held in the phase domain: windowed layers (convolutions and
  poolings, ``ceil_mode`` included: a ceil window reading past the end is a window with extra
  right padding), batch-norm, pointwise maps, dropout/identity, elementwise sums and products,
  channel concatenation and split/chunk, channel reshapes and permutations (a channel shuffle,
  ConvNeXt's permute to channels-last and back), ``LayerNorm``/``Linear`` over the channels of a
  channels-last map, ``GroupNorm``;
* ``plain`` values — tensors without spatial extent, kept as they are: a global pooling's
  output and what is computed from it (a squeeze-and-excitation branch: ``1×1`` convolutions,
  activations), parameters read by ``get_attr``;
* ``list`` values — the parts of a split; ``const`` — sizes read off a converted value
  (``x.size()``, ``x.shape``), known from the example input.

Each phase value carries its *stride*: the product of the strides of the windowed layers on the
way from the start (every operand of a sum, product or concatenation must have the same).  A node
that reads a converted value but has no phase-domain form is a *barrier*, recorded with the
reason (:mod:`.phase_graph` keeps the phase values and what they need, and names the barrier —
fx node, operator, module path — in front of a strided layer left out).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from math import prod
from typing import Any

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..core.adaptive import uniform_window
from ..core.errors import SymstrideError
from .calls import is_strided, label
from .randomness import inference_identity
from .trunk import TrunkItem, UnsupportedNode, read_layer

__all__ = ["NodeRule", "GraphReading", "read_graph", "start_node", "ELEMENTWISE"]

#: Elementwise operations of phase tensors (functions and methods).
ELEMENTWISE = {
    operator.add: torch.add, operator.iadd: torch.add, torch.add: torch.add, "add": torch.add,
    operator.sub: torch.sub, torch.sub: torch.sub, "sub": torch.sub,
    operator.mul: torch.mul, operator.imul: torch.mul, torch.mul: torch.mul, "mul": torch.mul,
    operator.truediv: torch.div, torch.div: torch.div, "div": torch.div,
}
_CAT = {torch.cat, torch.concat, torch.concatenate}
_SPLIT = {torch.split: "split", torch.chunk: "chunk", "split": "split", "chunk": "chunk"}
_RESHAPE = {"view", "reshape", "flatten", torch.reshape, torch.flatten}
_PERMUTE = {"permute", "transpose", torch.permute, torch.transpose}
_IDENTITY = {"contiguous", "clone"}
_MEAN = {"mean": "avg", torch.mean: "avg", "amax": "max", torch.amax: "max"}
_ADAPTIVE = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
_ADAPTIVE_FUNCTIONS = {F.adaptive_avg_pool1d: "avg", F.adaptive_avg_pool2d: "avg", F.adaptive_avg_pool3d: "avg",
                       F.adaptive_max_pool1d: "max", F.adaptive_max_pool2d: "max", F.adaptive_max_pool3d: "max"}
_SHAPE_METHODS = {"size", "dim"}
_CONST_FUNCTIONS = {operator.getitem, operator.floordiv, operator.mul, operator.add, operator.sub, getattr}


@dataclass
class NodeRule:
    """What one node becomes in the phase domain.

    ``value``: ``"phase"``, ``"plain"``, ``"list"`` or ``"const"``; ``kind``: the operation
    (``"start"``, ``"layer"``, ``"identity"``, ``"elementwise"``, ``"cat"``, ``"split"``,
    ``"item"``, ``"layout"``, ``"global"``, ``"groupnorm"``, ``"copy"``); ``stride``: per axis,
    the product of the strides since the start; ``layout`` and ``channels`` (the original channel
    axes) of a phase value; ``shape``: the original output's shape (``None`` for a list).
    """

    node: fx.Node
    value: str
    kind: str
    stride: tuple[int, ...] = ()
    layout: str = "canonical"
    channels: tuple[int, ...] = ()
    shape: tuple[int, ...] | None = None
    item: TrunkItem | None = None
    detail: dict = field(default_factory=dict)

    @property
    def strided(self) -> bool:
        """A windowed layer whose stride is not 1."""
        spec = self.item.spec if self.item is not None else None
        return bool(spec) and spec["type"] in ("conv", "maxpool", "avgpool") and is_strided(spec["stride"])


@dataclass
class GraphReading:
    """The rules of the nodes that read converted values, and the barriers with their reasons."""

    gm: fx.GraphModule
    start: fx.Node
    ndim: int
    rules: dict[fx.Node, NodeRule]
    barriers: dict[fx.Node, str]
    strided: list[fx.Node]  #: every strided windowed layer of the graph, in graph order


def _shape(node: Any) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    return tuple(int(n) for n in meta.shape) if hasattr(meta, "shape") else None


def _method_or_function(node: fx.Node) -> Any:
    return node.target if node.op in ("call_function", "call_method") else None


def _args(node: fx.Node, names: tuple[str, ...]) -> list[Any]:
    """Positional arguments after the first, completed by keyword arguments of ``names``."""
    rest = list(node.args[1:])
    for name in names[len(rest):]:
        if name in node.kwargs:
            rest.append(node.kwargs[name])
        else:
            break
    return rest


class _Reader:
    def __init__(self, gm: fx.GraphModule, start: fx.Node) -> None:
        self.gm, self.start = gm, start
        shape = _shape(start)
        if shape is None or len(shape) < 3:
            raise SymstrideError(f"mode='network' needs a batched feature map (b, C, *N) at {label(gm, start)}, got shape {shape}")
        self.ndim = len(shape) - 2
        self.rules: dict[fx.Node, NodeRule] = {start: NodeRule(start, "phase", "start", (1,) * self.ndim, "canonical", (shape[1],), shape)}
        self.barriers: dict[fx.Node, str] = {}

    def phase(self, node: fx.Node, like: NodeRule, kind: str, **kw: Any) -> NodeRule:
        shape = _shape(node)
        return NodeRule(node, "phase", kind, like.stride, kw.pop("layout", like.layout), kw.pop("channels", like.channels), shape, **kw)

    def visit(self, node: fx.Node) -> None:
        if node.op in ("placeholder", "output") or node is self.start:
            return
        if node.op == "get_attr":
            self.rules[node] = NodeRule(node, "plain", "copy", shape=_shape(node))
            return
        inputs = node.all_input_nodes
        read = [self.rules[n] for n in inputs if n in self.rules]
        if not any(r.value != "plain" or r.kind != "copy" or r.node.op != "get_attr" for r in read):
            return  # reads nothing converted
        outside = [n for n in inputs if n not in self.rules]
        try:
            if outside:
                raise UnsupportedNode(f"it combines a converted value with {outside[0].name!r}, computed outside the converted part")
            self.rules[node] = self.rule(node, read)
        except UnsupportedNode as exc:
            self.barriers[node] = str(exc)

    def rule(self, node: fx.Node, read: list[NodeRule]) -> NodeRule:
        phases = [r for r in read if r.value == "phase"]
        lists = [r for r in read if r.value == "list"]
        if lists:
            if node.op == "call_function" and node.target is operator.getitem and isinstance(node.args[1], int):
                part = lists[0].detail["parts"][node.args[1]]
                return NodeRule(node, "phase", "item", lists[0].stride, "canonical", (part,), _shape(node))
            raise UnsupportedNode("the parts of a split are used other than one by one")
        if not phases:
            return self.plain(node, read)
        return self.phase_rule(node, phases, read)

    def plain(self, node: fx.Node, read: list[NodeRule]) -> NodeRule:
        if all(r.value == "const" for r in read):
            if (node.op == "call_function" and node.target in _CONST_FUNCTIONS) or _shape(node) is None:
                return NodeRule(node, "const", "copy")
        try:
            item = read_layer(self.gm, node)
        except UnsupportedNode:
            item = None
        rule = NodeRule(node, "plain", "copy", shape=_shape(node), item=item)
        if rule.strided:
            raise UnsupportedNode("a strided layer on a tensor without spatial extent here")
        if _shape(node) is None and node.op != "call_function":
            raise UnsupportedNode("its result is not a tensor")
        return rule

    def phase_rule(self, node: fx.Node, phases: list[NodeRule], read: list[NodeRule]) -> NodeRule:
        first = phases[0]
        target = _method_or_function(node)
        if node.op == "call_method" and target in _SHAPE_METHODS or node.op == "call_function" and target is getattr:
            if node.op == "call_function" and node.args[1] not in ("shape", "ndim"):
                raise UnsupportedNode(f"attribute {node.args[1]!r} of a converted feature map")
            return NodeRule(node, "const", "copy")
        if target in ELEMENTWISE:
            return self.elementwise(node, phases, read)
        if target in _CAT:
            return self.cat(node, phases)
        if target in _SPLIT:
            return self.split(node, first)
        if target in _IDENTITY or inference_identity(node):
            return self.phase(node, first, "identity")
        if target in _RESHAPE or target in _PERMUTE:
            return self.layout(node, first)
        pooled = self.global_pool(node, first)
        if pooled is not None:
            return pooled
        if len(phases) > 1 or node.args[:1] != (first.node,):
            raise UnsupportedNode("it reads converted feature maps other than as its first argument")
        if node.op == "call_module":
            mod = self.gm.get_submodule(node.target)
            if isinstance(mod, nn.GroupNorm) or isinstance(mod, nn.modules.instancenorm._InstanceNorm) and not mod.track_running_stats:
                self.need(first, "canonical", type(mod).__name__)
                return self.phase(node, first, "groupnorm")
            if isinstance(mod, (nn.LayerNorm, nn.Linear)):
                return self.channels_last(node, first, mod)
        if node.op == "call_function" and target in (F.layer_norm, F.linear, F.group_norm):
            return self.functional_norm(node, first)
        item = read_layer(self.gm, node)  # UnsupportedNode: not a layer of the construction
        if item.spec is None or item.spec["type"] not in ("conv", "maxpool", "avgpool", "batchnorm"):
            return self.phase(node, first, "identity" if item.spec is None else "layer", item=item)
        self.need(first, "canonical", item.spec["type"])
        if item.spec["type"] == "batchnorm":
            return self.phase(node, first, "layer", item=item)
        stride = tuple(int(s) for s in item.spec["stride"])
        shape = _shape(node)
        return NodeRule(node, "phase", "layer", tuple(a * s for a, s in zip(first.stride, stride)), "canonical", (shape[1],), shape, item)

    def need(self, rule: NodeRule, layout: str, what: str) -> None:
        if rule.layout != layout:
            raise UnsupportedNode(f"{what} on a feature map in the {rule.layout} layout (channels {list(rule.channels)})")

    def elementwise(self, node: fx.Node, phases: list[NodeRule], read: list[NodeRule]) -> NodeRule:
        first = phases[0]
        for other in phases[1:]:
            if (other.stride, other.layout, other.shape) != (first.stride, first.layout, first.shape):
                raise UnsupportedNode(
                    f"its operands are held differently: {first.node.name!r} shape {first.shape} stride {first.stride} "
                    f"({first.layout}) and {other.node.name!r} shape {other.shape} stride {other.stride} ({other.layout})"
                )
        if first.layout == "split":
            for r in read:
                if r.value != "phase":
                    raise UnsupportedNode("an elementwise operation with a tensor on a feature map whose channels are split")
        operands = []
        for a in [*node.args, *node.kwargs.values()]:
            if isinstance(a, fx.Node):
                rule = next(r for r in read if r.node is a)
                if rule.value == "const":
                    raise UnsupportedNode("an elementwise operation with a size of a converted feature map")
                if rule.value == "plain":
                    self.check_broadcast(rule, first)
                operands.append("phase" if rule.value == "phase" else "channel")
            elif isinstance(a, (int, float)) and not isinstance(a, bool):
                operands.append(a)
            else:
                raise UnsupportedNode(f"an elementwise operand of type {type(a).__name__}")
        if len(operands) != 2 or (node.kwargs and set(node.kwargs) != {"other"}):
            raise UnsupportedNode("an elementwise operation with other than two operands")
        return self.phase(node, first, "elementwise", detail={"operands": operands})

    def check_broadcast(self, plain: NodeRule, phase: NodeRule) -> None:
        shape, out = plain.shape or (), phase.shape
        if len(shape) > len(out):
            raise UnsupportedNode(f"a tensor of shape {shape} does not broadcast against {out}")
        spatial = range(len(out) - self.ndim - 1, len(out) - 1) if phase.layout == "last" else range(len(out) - self.ndim, len(out))
        for axis in spatial:
            k = axis - (len(out) - len(shape))
            if k >= 0 and shape[k] != 1:
                raise UnsupportedNode(f"a tensor of shape {shape} varies along the spatial axes of {out} (not per channel)")

    def cat(self, node: fx.Node, phases: list[NodeRule]) -> NodeRule:
        tensors = node.args[0] if node.args else node.kwargs.get("tensors")
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        first = phases[0]
        if not isinstance(tensors, (list, tuple)) or not all(t in self.rules and self.rules[t].value == "phase" for t in tensors):
            raise UnsupportedNode("a concatenation of a converted feature map with other tensors")
        parts = [self.rules[t] for t in tensors]
        if dim not in (1, -(self.ndim + 1)):
            raise UnsupportedNode(f"a concatenation along axis {dim}, not the channels")
        for p in parts:
            self.need(p, "canonical", "a concatenation")
            if (p.stride, p.shape[2:]) != (first.stride, first.shape[2:]):
                raise UnsupportedNode(f"a concatenation of {first.node.name!r} (size {first.shape[2:]}, stride {first.stride}) "
                                      f"and {p.node.name!r} (size {p.shape[2:]}, stride {p.stride})")
        return self.phase(node, first, "cat", channels=(_shape(node)[1],))

    def split(self, node: fx.Node, first: NodeRule) -> NodeRule:
        kind = _SPLIT[_method_or_function(node)]
        dim = _args(node, ("split_size_or_sections" if kind == "split" else "chunks", "dim"))
        axis = dim[1] if len(dim) > 1 else 0
        self.need(first, "canonical", f"a {kind}")
        if node.args[0] is not first.node or axis not in (1, -(self.ndim + 1)):
            raise UnsupportedNode(f"a {kind} along axis {axis}, not the channels")
        metas = node.meta.get("tensor_meta")
        parts = tuple(int(m.shape[1]) for m in metas)
        return NodeRule(node, "list", "split", first.stride, "canonical", first.channels, None, detail={"parts": parts})

    def layout(self, node: fx.Node, first: NodeRule) -> NodeRule:
        """A reshape or permutation: which layout and channel axes it leaves (see :mod:`.phase_blocks`)."""
        if node.args[0] is not first.node:
            raise UnsupportedNode("it reshapes a converted feature map given other than as its first argument")
        src, out = first.shape, _shape(node)
        d, target = self.ndim, _method_or_function(node)
        if target in _RESHAPE:
            if first.layout == "last":
                raise UnsupportedNode("a reshape of a channels-last feature map")
            if out is None or len(out) < d + 2 or out[0] != src[0] or out[-d:] != src[-d:] or prod(out[1:-d]) != prod(first.channels):
                raise UnsupportedNode(f"a reshape from {src} to {out} that does not only regroup the channels")
            channels = tuple(out[1:-d])
            return self.phase(node, first, "layout", layout="canonical" if len(channels) == 1 else "split", channels=channels)
        perm = _permutation(node, len(src))
        if first.layout == "canonical" and perm == (0, *range(2, d + 2), 1):
            return self.phase(node, first, "layout", layout="last")
        if first.layout == "last" and perm == (0, d + 1, *range(1, d + 1)):
            return self.phase(node, first, "layout", layout="canonical")
        k = len(first.channels) if first.layout == "split" else 1
        if first.layout != "last" and perm[0] == 0 and perm[k + 1:] == tuple(range(k + 1, k + 1 + d)):
            order = tuple(a - 1 for a in perm[1:k + 1])
            channels = tuple(first.channels[a] for a in order)
            return self.phase(node, first, "layout", layout="split" if k > 1 else "canonical", channels=channels, detail={"order": order})
        raise UnsupportedNode(f"a permutation {list(perm)} of a feature map of shape {src} ({first.layout} layout) "
                              "that moves a spatial axis other than to channels-last and back")

    def global_pool(self, node: fx.Node, first: NodeRule) -> NodeRule | None:
        target = _method_or_function(node)
        kind = None
        if node.op == "call_module" and isinstance(self.gm.get_submodule(node.target), _ADAPTIVE):
            kind = "max" if "Max" in type(self.gm.get_submodule(node.target)).__name__ else "avg"
        elif target in _ADAPTIVE_FUNCTIONS:
            kind = _ADAPTIVE_FUNCTIONS[target]
        elif target in _MEAN:
            dims = _args(node, ("dim", "keepdim"))
            axes = dims[0] if dims else None
            axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
            n = len(first.shape)
            if sorted(a % n for a in axes if isinstance(a, int)) != list(range(2, n)) or len(dims) > 2 or first.layout != "canonical":
                raise UnsupportedNode(f"a {target if isinstance(target, str) else target.__name__} over axes {axes}, not all spatial axes")
            return NodeRule(node, "plain", "global", shape=_shape(node), detail={"kind": _MEAN[target]})
        if kind is None:
            return None
        out = _shape(node)
        self.need(first, "canonical", "adaptive pooling")
        if out is not None and out[2:] == first.shape[2:]:  # at the example's size: one window per sample
            return self.phase(node, first, "identity")
        if out is None:
            raise UnsupportedNode("adaptive pooling whose output is not one tensor")
        if any(n != 1 for n in out[2:]):
            return self.adaptive_windows(node, first, kind, out)
        if getattr(self.gm.get_submodule(node.target), "return_indices", False) if node.op == "call_module" else False:
            raise UnsupportedNode("adaptive pooling that returns indices")
        return NodeRule(node, "plain", "global", shape=out, detail={"kind": kind})

    def adaptive_windows(self, node: fx.Node, first: NodeRule, kind: str, out: tuple[int, ...]) -> NodeRule:
        """Adaptive pooling at the example's sizes whose windows are an ordinary pooling's (:func:`~symstride.core.adaptive.uniform_window`)."""
        windows = [uniform_window(n, m) for n, m in zip(first.shape[2:], out[2:])]
        if any(w is None for w in windows):
            raise UnsupportedNode(f"adaptive pooling {first.shape[2:]} → {out[2:]}: its windows vary in length or step")
        d = len(windows)
        spec = {"type": f"{kind}pool", "kernel": [k for k, _ in windows], "stride": [s for _, s in windows], "padding": [0] * d}
        spec.update({"dilation": [1] * d} if kind == "max" else {"count_include_pad": True})
        stride = tuple(a * s for a, (_, s) in zip(first.stride, windows))
        return NodeRule(node, "phase", "layer", stride, "canonical", (out[1],), out, TrunkItem(node, spec))

    def channels_last(self, node: fx.Node, first: NodeRule, mod: nn.Module) -> NodeRule:
        self.need(first, "last", type(mod).__name__)
        if isinstance(mod, nn.LayerNorm) and tuple(mod.normalized_shape) != first.channels:
            raise UnsupportedNode(f"LayerNorm over {tuple(mod.normalized_shape)}, not the channels {first.channels}")
        return self.phase(node, first, "copy", channels=(_shape(node)[-1],))

    def functional_norm(self, node: fx.Node, first: NodeRule) -> NodeRule:
        if node.target is F.group_norm:
            raise UnsupportedNode("functional group_norm (use nn.GroupNorm)")
        self.need(first, "last", node.target.__name__)
        if node.target is F.layer_norm and tuple(_args(node, ("normalized_shape",))[0]) != first.channels:
            raise UnsupportedNode(f"layer_norm not over the channels {first.channels}")
        return self.phase(node, first, "copy", channels=(_shape(node)[-1],))





def _permutation(node: fx.Node, rank: int) -> tuple[int, ...]:
    args = list(node.args[1:]) or list(node.kwargs.values())
    if node.target in ("transpose", torch.transpose):
        i, j = (a % rank for a in args[:2])
        perm = list(range(rank))
        perm[i], perm[j] = perm[j], perm[i]
        return tuple(perm)
    dims = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    return tuple(int(a) % rank for a in dims)


def start_node(gm: fx.GraphModule, strided: list[fx.Node]) -> fx.Node:
    """The input of the first strided layer."""
    first = strided[0]
    source = first.args[0] if first.args else first.kwargs.get("input")
    if not isinstance(source, fx.Node):
        raise SymstrideError(f"mode='network': the input of {label(gm, first)} is not a tensor of the graph")
    return source


def read_graph(gm: fx.GraphModule) -> GraphReading | None:
    """The rules of every node reading a converted value (None: nothing strides)."""
    strided = []
    for node in gm.graph.nodes:
        if node.op in ("call_module", "call_function", "call_method"):
            try:
                item = read_layer(gm, node)
            except UnsupportedNode as exc:
                if exc.strided:
                    raise SymstrideError(f"cannot convert {label(gm, node)}: mode='network': {exc}") from None
                continue
            if NodeRule(node, "phase", "layer", item=item).strided:
                strided.append(node)
    if not strided:
        return None
    reader = _Reader(gm, start_node(gm, strided))
    for node in gm.graph.nodes:
        reader.visit(node)
    return GraphReading(gm, reader.start, reader.ndim, reader.rules, reader.barriers, strided)
