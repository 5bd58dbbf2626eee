"""Theorem 3 on a branching graph: one space-to-depth, then unit-stride operations on phases.

:func:`convert_graph` (``destride_model(..., mode="network")``) reads the traced model with
:mod:`.graph_reader`, takes the total stride ``S`` (per axis, the least common multiple of the
strides accumulated on every path from the start) and holds every converted feature map of
stride ``σ`` in ``R = S/σ`` phases (:class:`~symstride.network.phases.PhaseBasis`).  It builds
one :class:`PhaseGraph`: the input stage (a padding mode of the first convolution, zero
extension, one :class:`~.spacetodepth.SpaceToDepth` by ``S``) and an fx graph of phase-domain
modules — windowed layers from :func:`symstride.network.equivalent.windowed_op` (tied banks and
the boundary masks of :mod:`symstride.network.boundary`), batch-norm and pointwise maps of
:mod:`.network`, and the modules of :mod:`.phase_blocks` for sums and products, concatenation,
split, channel shuffles, channels-last blocks, global pooling and group norm.  Values used
outside the converted part leave it through :class:`~.phase_blocks.PhaseOutput` (depth-to-space
by ``R``, crop to ``N``); plain tensors (a squeeze-and-excitation branch) are computed as in the
original.  The conversion is for the example input's spatial size.

>>> import torch
>>> from torch import nn
>>> from symstride.torch import destride_model
>>> class Branches(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.a, self.b = nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(3, 2, 1, 2)
...         self.c = nn.Conv2d(6, 5, 3, 2, 1)
...     def forward(self, x):
...         return self.c(torch.cat([self.a(x), self.b(x)], 1))
>>> flat = destride_model(Branches().eval(), torch.randn(1, 3, 11, 13), mode="network")
>>> flat.phase_network.space_to_depth.stride
(4, 4)
"""

from __future__ import annotations

import operator
from dataclasses import replace
from math import gcd, prod
from typing import Any

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..core.errors import SymstrideError
from ..core.params import ConvSpec
from ..network.equivalent import phase_divisor, windowed_op
from ..network.phase_ops import zero_overhang_after
from ..network.phases import PhaseBasis, mask_keep
from ..network.spec import Pool, Shape, parse_layer
from .calls import label
from .graph_reader import ELEMENTWISE, GraphReading, NodeRule, read_graph
from .randomness import dropped_randomness
from .network import PhasePointwise, TiedConvolution, TiedMaxPooling
from .phase_norm import PhaseBatchNorm, phase_keep
from .tied import tensor_names
from .padding import pad_widths
from .phase_blocks import PhaseElementwise, PhaseGlobalPool, PhaseGroupNorm, PhaseLayout, PhaseOutput, PhaseSplit
from .spacetodepth import SpaceToDepth

__all__ = ["PhaseGraph", "convert_graph", "region", "barrier_error", "ceil_divisor", "MAX_GRAPH_PHASES"]

#: The largest number of input phases ``Π S`` (the tied banks grow as ``(Π S)^2``).
MAX_GRAPH_PHASES = 2**14


class PhaseGraph(nn.Module):
    """The converted part of a model: input stage, then :attr:`body` (an fx graph of phase modules)."""

    def __init__(self, input_size: tuple[int, ...], prepad: Any, padding_mode: str, basis: PhaseBasis, body: fx.GraphModule,
                 dropped: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.input_size, self.prepad, self.padding_mode = tuple(input_size), prepad, padding_mode
        #: dropout / stochastic depth the eval-mode conversion removed (they would be random in training)
        self.dropped = tuple(dropped)
        self.extend = [(0, s * a - n) for s, a, n in zip(basis.phases, basis.length, basis.size)]
        self.space_to_depth = SpaceToDepth(basis.phases)
        self.body = body

    def forward(self, x: torch.Tensor) -> Any:
        if self.training and self.dropped:
            raise SymstrideError(
                f"this mode='network' conversion removed {len(self.dropped)} random layer(s), first {self.dropped[0]}: "
                "they are the identity at inference, but in training mode the converted model would not drop what the "
                "original drops; set their p to 0 before converting to train it, or use mode='layer'"
            )
        if tuple(x.shape[2:]) != self.input_size:
            raise SymstrideError(
                f"this mode='network' conversion was built for inputs of spatial size {self.input_size}, got "
                f"{tuple(x.shape[2:])}; convert again with an example of that size, or use mode='layer'"
            )
        if self.prepad is not None:
            x = F.pad(x, pad_widths(self.prepad), mode=self.padding_mode)
        extend = pad_widths(self.extend)
        return self.body(self.space_to_depth(F.pad(x, extend) if any(extend) else x))

    def extra_repr(self) -> str:
        return f"input size {self.input_size}, space-to-depth by {self.space_to_depth.stride}"


def _lcm(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x * y // gcd(x, y) for x, y in zip(a, b))


class _Builder:
    def __init__(self, reading: GraphReading, kept: list[fx.Node], form: str) -> None:
        self.gm, self.reading, self.kept, self.form = reading.gm, reading, kept, form
        self.dropped: list[str] = []
        self.rules = reading.rules
        self.total = (1,) * reading.ndim
        for node in kept:
            if self.rules[node].value in ("phase", "list"):
                self.total = _lcm(self.total, self.rules[node].stride)
        if prod(self.total) > MAX_GRAPH_PHASES:
            raise SymstrideError(f"the network's total stride {self.total} gives {prod(self.total)} input phases (Π S); "
                             f"symstride builds tied networks with at most {MAX_GRAPH_PHASES}")
        self.graph = fx.Graph()
        self.modules: dict[str, Any] = {}
        self.env: dict[fx.Node, Any] = {}
        self.basis: dict[fx.Node, PhaseBasis] = {}
        self.zero: dict[fx.Node, bool] = {}
        self.dtype = reading.start.meta["tensor_meta"].dtype
        self.prepad = self.first_padding_mode()
        self.names = tensor_names(self.gm)  # id → the original model's state-dict name

    def tied(self, tensors: dict[str, Any]) -> dict[str, str]:
        """Original names of the tensors a phase module holds (``symstride.torch.tied.original_names``)."""
        return {k: self.names[id(t)] for k, t in tensors.items() if t is not None and id(t) in self.names}

    def phases(self, rule: NodeRule) -> tuple[int, ...]:
        return tuple(s // r for s, r in zip(self.total, rule.stride))

    def first_padding_mode(self) -> fx.Node | None:
        """The convolution whose padding mode is applied before space-to-depth (the start's only user)."""
        users = list(self.reading.start.users)
        rule = self.rules.get(users[0]) if len(users) == 1 else None
        spec = rule.item.spec if rule is not None and rule.item is not None else None
        if spec and spec["type"] == "conv" and spec["padding_mode"] != "zeros":
            return users[0]
        return None

    def add(self, node: fx.Node, module: nn.Module, *args: Any, suffix: str = "phase") -> fx.Node:
        name = f"{node.name}_{suffix}"
        if name in self.modules:
            raise SymstrideError(f"internal: two phase modules named {name!r}")
        self.modules[name] = module
        return self.graph.call_module(name, args)

    def copy(self, node: fx.Node) -> fx.Node:
        if node.op in ("call_module", "get_attr"):
            obj: Any = self.gm
            for part in node.target.split("."):
                obj = getattr(obj, part)
            self.modules[node.target] = obj
        return self.graph.node_copy(node, lambda n: self.env[n])

    def build(self) -> tuple[PhaseBasis, list[fx.Node]]:
        start = self.reading.start
        shape = self.rules[start].shape
        size = tuple(shape[2:])
        if self.prepad is not None:
            size = tuple(n + l + r for n, (l, r) in zip(size, self.rules[self.prepad].item.spec["padding"]))
        basis = PhaseBasis.of(shape[1], size, self.total)
        self.env[start] = self.graph.placeholder("z")
        self.basis[start], self.zero[start] = basis, True
        for node in self.kept:
            if node is not start:
                self.node(node, self.rules[node])
        kept = set(self.kept)
        exits = [n for n in self.kept if n is not start and self.rules[n].value != "const" and any(u not in kept for u in n.users)]
        outputs = [self.leave(n) for n in exits]
        self.graph.output(outputs[0] if len(outputs) == 1 else tuple(outputs))
        return basis, exits

    def leave(self, node: fx.Node) -> Any:
        rule = self.rules[node]
        if rule.value == "plain":
            return self.env[node]
        if rule.value != "phase" or rule.layout == "split":
            raise SymstrideError(f"cannot convert {label(self.gm, node)} in mode='network': its result ({rule.value}, "
                                 f"{rule.layout} layout) is used outside the converted part")
        basis = self.basis[node]
        if basis.count == 1 and basis.length == basis.size and rule.layout == "canonical":
            return self.env[node]
        return self.add(node, PhaseOutput(basis.phases, basis.size, rule.layout), self.env[node], suffix="output")

    def node(self, node: fx.Node, rule: NodeRule) -> None:
        first = next((a for a in node.all_input_nodes if self.rules[a].value in ("phase", "list")), None)
        basis = self.basis.get(first)
        zero = self.zero.get(first, False)
        kind = rule.kind
        if rule.value == "const":
            self.env[node] = self.const(node)
            return
        if kind == "copy" and rule.value == "plain":
            self.env[node] = self.copy(node)
            return
        if kind == "identity" and (dropped := dropped_randomness(self.gm, node)):
            self.dropped.append(dropped)
        if kind in ("identity", "split"):
            self.env[node] = self.env[first] if kind == "identity" else self.split(node, rule, basis)
            self.basis[node], self.zero[node] = basis, zero
            return
        if kind == "global":
            keep = None
            if basis.has_overhang and (rule.detail["kind"] == "max" or not zero):
                keep = torch.as_tensor(mask_keep(basis.size, basis.phases, basis.length))
            self.env[node] = self.add(node, PhaseGlobalPool(rule.detail["kind"], keep, prod(basis.size), rule.shape[1:]), self.env[first])
            return
        out = PhaseBasis.of(prod(rule.channels), tuple(rule.shape[2:]) if rule.layout == "canonical" else self.size(rule), self.phases(rule))
        try:
            value, zero_after = self.phase_op(node, rule, basis, zero, out)
        except (ValueError, TypeError, SymstrideError) as exc:
            raise SymstrideError(f"cannot convert {label(self.gm, node)} in mode='network': {exc}") from None
        self.env[node] = value
        self.basis[node] = out
        self.zero[node] = zero_after or not out.has_overhang

    def size(self, rule: NodeRule) -> tuple[int, ...]:
        shape = self.rules[self.reading.start].shape
        d = len(shape) - 2
        return tuple(rule.shape[1:1 + d]) if rule.layout == "last" else tuple(rule.shape[-d:])

    def const(self, node: fx.Node) -> Any:
        if node.op == "call_method":
            shape = torch.Size(self.rules[node.args[0]].shape)
            return len(shape) if node.target == "dim" else shape if len(node.args) == 1 else shape[node.args[1]]
        args = fx.node.map_arg(node.args, lambda n: self.env[n] if self.rules[n].value == "const" else torch.Size(self.rules[n].shape))
        if node.target is getattr:
            return args[0] if args[1] == "shape" else len(args[0])
        return node.target(*args)

    def split(self, node: fx.Node, rule: NodeRule, basis: PhaseBasis) -> fx.Node:
        return self.add(node, PhaseSplit(rule.detail["parts"], basis.count), self.env[node.args[0]])

    def phase_op(self, node: fx.Node, rule: NodeRule, basis: PhaseBasis, zero: bool, out: PhaseBasis) -> tuple[Any, bool]:
        kind, source = rule.kind, self.env.get(node.args[0]) if node.args and isinstance(node.args[0], fx.Node) else None
        if kind == "item":
            return self.graph.call_function(operator.getitem, (self.env[node.args[0]], node.args[1])), zero
        if kind == "layer":
            return self.layer(node, rule, basis, zero, out, source)
        if kind == "elementwise":
            return self.elementwise(node, rule, out)
        if kind == "cat":
            parts = node.args[0] if node.args else node.kwargs["tensors"]
            return self.graph.call_function(torch.cat, ([self.env[p] for p in parts], 1)), all(self.zero[p] for p in parts)
        if kind == "layout":
            src = self.rules[node.args[0]]
            module = PhaseLayout((src.layout, src.channels), (rule.layout, rule.channels), basis.count, rule.detail.get("order"))
            return self.add(node, module, source), zero
        if kind == "groupnorm":
            keep = torch.as_tensor(mask_keep(basis.size, basis.phases, basis.length)) if basis.has_overhang else None
            return self.add(node, PhaseGroupNorm(self.gm.get_submodule(node.target), keep, prod(basis.size), basis.count), source), False
        if kind == "copy":  # LayerNorm / Linear on the channels of a channels-last map
            return self.copy(node), False
        raise SymstrideError(f"internal: no phase-domain rule {kind!r}")

    def elementwise(self, node: fx.Node, rule: NodeRule, out: PhaseBasis) -> tuple[Any, bool]:
        tensors = [a for a in [*node.args, *node.kwargs.values()] if isinstance(a, fx.Node)]
        zeros = [self.zero[a] for a in tensors if self.rules[a].value == "phase"]
        operands = rule.detail["operands"]
        function = ELEMENTWISE[node.target]
        if function is torch.mul:
            zero_after = any(zeros)
        elif function is torch.div:
            zero_after = operands[0] == "phase" and self.zero[tensors[0]]
        else:
            zero_after = all(op == "phase" for op in operands) and all(zeros)
        module = PhaseElementwise(function, operands, out.count, rule.layout, -(len(out.size) + 1))
        return self.add(node, module, *(self.env[a] for a in tensors)), zero_after

    def layer(self, node: fx.Node, rule: NodeRule, basis: PhaseBasis, zero: bool, out: PhaseBasis, source: Any) -> tuple[Any, bool]:
        item = rule.item
        spec = item.spec
        if spec["type"] == "batchnorm":
            bn = item.source
            module = PhaseBatchNorm(node.name, bn, basis.count, phase_keep(basis.size, basis.phases, basis.length), self.tied(bn.state_dict(keep_vars=True)))
            return self.add(node, module, source), False
        if spec["type"] not in ("conv", "maxpool", "avgpool"):  # pointwise: f(0) = 0 keeps zeros zero
            return self.add(node, PhasePointwise(node.name, item.source), source), zero and spec["type"] == "relu"
        shape = Shape(basis.channels, basis.size)
        if spec.get("ceil_mode"):
            layer = self.ceil_pool(node, rule, spec, shape)
        else:
            layer = parse_layer(spec, node.name, shape)
        geometry = layer.conv if spec["type"] == "conv" else layer.pool
        if spec["type"] == "conv" and spec["padding_mode"] != "zeros":
            if node is not self.prepad:
                raise SymstrideError(
                    f"padding_mode={spec['padding_mode']!r} is exact only on the first layer (applied before "
                    "space-to-depth); on a later layer it copies samples across the boundary of the feature map"
                )
            geometry = geometry.replace(padding=0)
        op = windowed_op(layer, geometry, basis, zero, self.phases(rule))
        if spec.get("ceil_mode") and spec["type"] == "avgpool":
            op = replace(op, fixed_weight=np.ones(geometry.weight_shape), divisor=ceil_divisor(geometry, basis, op.output, layer.count_include_pad))
        if tuple(op.output.size) != tuple(rule.shape[2:]):
            raise SymstrideError(f"internal: the phase construction gives size {op.output.size}, the model {rule.shape[2:]}")
        if spec["type"] == "maxpool":
            module = TiedMaxPooling(op)
        else:
            weight, bias = item.source if spec["type"] == "conv" else (None, None)
            module = TiedConvolution(op, weight, bias, self.form, self.dtype, self.tied({"weight": weight, "bias": bias}))
        return self.add(node, module, source), zero_overhang_after(op, zero)

    def ceil_pool(self, node: fx.Node, rule: NodeRule, spec: dict, shape: Shape) -> Pool:
        """``ceil_mode=True``: the windows past the end are a window with extra right padding."""
        out = rule.shape[2:]
        d = len(out)
        dilation = spec.get("dilation", [1] * d)
        padding = []
        for n, n_out, k, s, p, dl in zip(shape.size, out, spec["kernel"], spec["stride"], spec["padding"], dilation):
            padding.append((p, p + max(0, s * (n_out - 1) + dl * (k - 1) + 1 - (n + 2 * p))))
        geometry = ConvSpec.create(kernel=spec["kernel"], stride=spec["stride"], padding=padding, dilation=dilation,
                                   in_channels=shape.channels, out_channels=shape.channels, groups=shape.channels, ndim=d)
        mode = spec["type"][:3]
        return Pool(node.name, shape, Shape(shape.channels, tuple(out)), mode, geometry, bool(spec.get("count_include_pad", True)))


def region(reading: GraphReading) -> list[fx.Node]:
    """The nodes converted, in graph order: every phase value, and what a converted node needs."""
    keep: set[fx.Node] = set()
    for node in reversed(list(reading.gm.graph.nodes)):
        rule = reading.rules.get(node)
        if rule is None:
            continue
        if rule.value == "phase" or any(u in keep for u in node.users):
            keep.add(node)
    return [n for n in reading.gm.graph.nodes if n in keep]


def barrier_error(reading: GraphReading, kept: set[fx.Node]) -> SymstrideError | None:
    """The error naming the barrier in front of the first strided layer left out, or None."""
    gm = reading.gm
    for node in reading.strided:
        if node in kept:
            continue
        ancestors, stack = set(), [node]
        while stack:
            n = stack.pop()
            for a in n.all_input_nodes:
                if a not in ancestors:
                    ancestors.add(a)
                    stack.append(a)
        for barrier in reading.barriers:
            if barrier in ancestors or barrier is node:
                return SymstrideError(
                    f"mode='network' converts graphs of convolutions, poolings, normalisations, pointwise maps, sums, "
                    f"products, concatenations, splits, channel shuffles and global poolings holding every strided layer; "
                    f"{label(gm, barrier)} stops it: {reading.barriers[barrier]} (strided layer behind it: "
                    f"{label(gm, node)}); use mode='layer'"
                )
        return SymstrideError(
            f"mode='network': {label(gm, node)} strides but does not read the input of the first strided layer "
            f"({label(gm, reading.start)}) through operations with a phase-domain form; use mode='layer'"
        )
    return None


def ceil_divisor(geometry: ConvSpec, basis: PhaseBasis, out: PhaseBasis, count_include_pad: bool) -> np.ndarray:
    """The divisor of a ``ceil_mode`` average pooling per output phase sample, ``(R^d, *A_out)``
    (:func:`symstride.network.equivalent.phase_divisor`: a ceil window counts only what it covers)."""
    return phase_divisor(geometry, basis, out, count_include_pad)


def convert_graph(gm: fx.GraphModule, form: str) -> None:
    """Replace, in place, the converted part of ``gm`` (shapes propagated) by its :class:`PhaseGraph`."""
    reading = read_graph(gm)
    if reading is None:
        return
    kept = region(reading)
    error = barrier_error(reading, set(kept))
    if error is not None:
        raise error
    builder = _Builder(reading, kept, "gather" if form == "auto" else form)
    basis, exits = builder.build()
    start = reading.start
    body = fx.GraphModule(builder.modules, builder.graph, class_name="PhaseBody")
    prepad = builder.rules[builder.prepad].item.spec if builder.prepad is not None else None
    module = PhaseGraph(tuple(builder.rules[start].shape[2:]), prepad and prepad["padding"], prepad["padding_mode"] if prepad else "zeros",
                        basis, body, tuple(builder.dropped))
    module.training = body.training = gm.training  # the model's mode (modules built from originals keep theirs)
    # original names of every tensor the body holds (copied modules, get_attr parameters, phase modules'),
    # on the PhaseGraph: an fx GraphModule does not keep extra attributes through copy.deepcopy
    module.tied_names = {f"body.{k}": v for k, v in builder.tied(body.state_dict(keep_vars=True)).items()}
    name = "phase_network"
    while hasattr(gm, name):
        name += "_"
    gm.add_submodule(name, module)
    kept_set = set(kept)
    order = list(gm.graph.nodes)
    first = next(n for n in order[order.index(start) + 1:] if n in kept_set)
    for node in kept:  # sizes read off converted values are constants of the example input
        if builder.rules[node].value == "const":
            for user in [u for u in node.users if u not in kept_set]:
                value = builder.env[node]
                user.args = fx.node.map_arg(user.args, lambda n: value if n is node else n)
                user.kwargs = fx.node.map_arg(user.kwargs, lambda n: value if n is node else n)
    with gm.graph.inserting_before(first):
        call = gm.graph.call_module(name, args=(start,))
        values = [call] if len(exits) == 1 else [gm.graph.call_function(operator.getitem, (call, i)) for i in range(len(exits))]
    for node, value in zip(exits, values):
        value.meta = dict(node.meta)
        node.replace_all_uses_with(value, delete_user_cb=lambda user: user not in kept_set)
    for node in reversed(list(gm.graph.nodes)):
        if node in kept_set and node is not start and not node.users:
            gm.graph.erase_node(node)
    gm.graph.eliminate_dead_code()
    gm.delete_all_unused_submodules()
