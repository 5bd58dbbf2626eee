"""``--network``: Theorem 3 on an ONNX graph — one space-to-depth at the trunk's input, tied filters after.

The trunk (:mod:`.network_trunk`) is read as a strided network and :mod:`symstride.network`
builds its equivalent: one space-to-depth by ``S = Π s_l``, then only unit-stride operations in
the phase domain, with 0/1 masks exactly where its boundary analysis puts them.  This module
writes that construction as ONNX nodes, every index map coming from :mod:`symstride.network`:

- a tied convolution (or average pooling, a fixed depthwise one) → mask (``Where``), ``Pad``/``Slice``
  in the phase domain, one unit-stride ``Conv`` with the dense tied bank ``W'`` (structural zeros
  included; refused above :data:`MAX_TIED_ENTRIES` entries per layer, where ``W'`` would not fit
  an ONNX initializer reasonably — ResNet-18 at 224×224 is refused there; use the layer rewrite),
  and the fixed divisor of ``count_include_pad=False``;
- a tied max pooling → ``Gather`` of every tap's unit-stride window from the flattened phase
  tensor, ``ReduceMax`` over the taps (the gather form of the torch bridge);
- batch-norm with per-channel parameters repeated per phase; activations unchanged; residual
  blocks as two branches and an ``Add``.

The phase channels are channel-major (``c·B^d + φ(r)``, symstride.network's order), so the input
stage is Reshape/Transpose (``crd``) whatever ``--layout`` says for the per-layer rewrites.
"""

from __future__ import annotations

from math import prod

import numpy as np
import onnx
from onnx import helper

from ..core.errors import SymstrideError
from ..network import Network
from ..network.phase_ops import PhaseActivation, PhaseBatchNorm, PhaseResidual, TiedConv, TiedMaxPool
from ..network.phases import phase_tap_arrays
from .graph import GraphView, NodeError
from .layout import pad_or_trim_nodes, space_to_depth_nodes
from .network_trunk import Trunk, find_onnx_trunk

__all__ = ["MAX_TIED_ENTRIES", "rewrite_network"]

#: The largest dense tied bank written as an initializer (entries per layer; 2^25 float32 = 128 MiB).
MAX_TIED_ENTRIES = 2**25


class _Writer:
    def __init__(self, view: GraphView, trunk: Trunk, elem: int) -> None:
        self.view, self.trunk, self.elem = view, trunk, elem
        self.dtype = helper.tensor_dtype_to_np_dtype(elem)
        self.nodes: list[onnx.NodeProto] = []

    def node(self, op: str, inputs: list[str], name: str, **attrs) -> str:
        out = self.view.fresh(name)
        self.nodes.append(self.view.make_node(op, inputs, [out], name, **attrs))
        return out

    def const(self, name: str, value: np.ndarray) -> str:
        return self.view.add_initializer(name, np.asarray(value))

    def mask(self, z: str, mask, channels: int, name: str) -> str:
        keep = np.tile(mask.keep, (channels,) + (1,) * (mask.keep.ndim - 1))[None]
        fill = self.view.scalar(f"{name}/fill", mask.fill, self.elem)
        return self.node("Where", [self.const(f"{name}/keep", keep), z, fill], f"{name}/mask")

    def pad(self, z: str, padding, name: str, value: float = 0.0) -> str:
        fill = self.view.scalar(f"{name}/pad_value", value, self.elem) if value else None
        z, nodes = pad_or_trim_nodes(self.view, z, padding, name, value=fill)
        self.nodes += nodes
        return z

    def tied_conv(self, z: str, op: TiedConv) -> str:
        name = f"{self.trunk.nodes[op.path].name or op.path}/tied"
        entries = prod(op.weight_shape[:1]) * op.output.count * op.weight_shape[1] * op.inputs.count * prod(m.kernel_eq for m in op.axes)
        if entries > MAX_TIED_ENTRIES:
            raise NodeError(self.trunk.nodes[op.path], f"--network: its tied bank W' would have {entries:,} entries "
                                                       f"(more than {MAX_TIED_ENTRIES:,}); rewrite without --network")
        if op.mask is not None:
            z = self.mask(z, op.mask, op.inputs.channels, name)
        z = self.pad(z, op.padding, name)
        params = self.trunk.params
        bank = op.weight(params)
        inputs = [z, self.const(f"{name}/W", bank.astype(self.dtype))]
        bias = op.bias(params)
        if bias is not None:
            inputs.append(self.const(f"{name}/B", bias.astype(self.dtype)))
        ndim = len(op.axes)
        kernel = list(bank.shape[2:])
        y = self.node("Conv", inputs, f"{name}/Conv", kernel_shape=kernel, strides=[1] * ndim, pads=[0] * (2 * ndim),
                      dilations=[1] * ndim, group=op.groups)
        if op.divisor is not None:
            split = self.node("Reshape", [y, self.view.ints(f"{name}/split", [0, -1, *op.divisor.shape])], f"{name}/split")
            div = self.node("Div", [split, self.const(f"{name}/divisor", op.divisor.astype(self.dtype))], f"{name}/divide")
            shape = [0, op.weight_shape[0] * op.output.count, *op.output.length]
            y = self.node("Reshape", [div, self.view.ints(f"{name}/merge", shape)], f"{name}/merge")
        return y

    def tied_max(self, z: str, op: TiedMaxPool) -> str:
        name = f"{self.trunk.nodes[op.path].name or op.path}/tied"
        if op.mask is not None:
            z = self.mask(z, op.mask, op.inputs.channels, name)
        z = self.pad(z, op.padding, name, op.pad_value)
        padded = [a + l + r for a, (l, r) in zip(op.inputs.length, op.padding)]
        q, r, _, j = phase_tap_arrays(op.taps)
        order = np.argsort(q, kind="stable")
        n_out = op.output.count
        n_taps = len(q) // n_out
        strides = np.cumprod((1, *padded[::-1]))[:-1][::-1]
        base = r * prod(padded) + (j * strides[:, None]).sum(axis=0)
        grid = np.zeros(1, dtype=np.int64)
        for n, st in zip(op.output.length, strides):
            grid = (grid[:, None] + st * np.arange(n)[None, :]).reshape(-1)
        windows = (base[order].reshape(n_out, n_taps)[:, :, None] + grid[None, None, :]).transpose(1, 0, 2).reshape(-1)
        c = op.inputs.channels
        flat = self.node("Reshape", [z, self.view.ints(f"{name}/flatten", [0, c, -1])], f"{name}/flatten")
        taps = self.node("Gather", [flat, self.view.ints(f"{name}/windows", windows)], f"{name}/gather", axis=2)
        split = self.node("Reshape", [taps, self.view.ints(f"{name}/by_tap", [0, c, n_taps, -1])], f"{name}/by_tap")
        if self.view.opset >= 18:
            y = self.node("ReduceMax", [split, self.view.ints(f"{name}/tap_axis", [2])], f"{name}/max", keepdims=0)
        else:
            y = self.node("ReduceMax", [split], f"{name}/max", axes=[2], keepdims=0)
        y = self.node("Reshape", [y, self.view.ints(f"{name}/merge", [0, c * n_out, *op.output.length])], f"{name}/merge")
        return self.mask(y, op.guard, c, f"{name}/guard") if op.guard is not None else y

    def batch_norm(self, z: str, op: PhaseBatchNorm) -> str:
        node = self.trunk.nodes[op.path]
        name = f"{node.name or op.path}/phases"
        values = [self.trunk.params[f"{op.path}.{k}"][op.channel_source] for k in ("weight", "bias", "running_mean", "running_var")]
        inputs = [z, *(self.const(f"{name}/{k}", v) for k, v in zip(("scale", "B", "mean", "var"), values))]
        return self.node("BatchNormalization", inputs, f"{name}/BatchNormalization", epsilon=op.eps)

    def activation(self, z: str, op: PhaseActivation) -> str:
        node = self.trunk.nodes[op.path]
        out = self.view.fresh(f"{node.name or op.path}/phases")
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        del copy.input[:], copy.output[:]
        copy.input.append(z)
        copy.output.append(out)
        copy.name = self.view.fresh(f"{node.name or op.path}/phases")
        self.nodes.append(copy)
        return out

    def run(self, z: str, ops) -> str:
        for op in ops:
            if isinstance(op, TiedConv):
                z = self.tied_conv(z, op)
            elif isinstance(op, TiedMaxPool):
                z = self.tied_max(z, op)
            elif isinstance(op, PhaseBatchNorm):
                z = self.batch_norm(z, op)
            elif isinstance(op, PhaseActivation):
                z = self.activation(z, op)
            elif isinstance(op, PhaseResidual):
                body, shortcut = self.run(z, op.body), self.run(z, op.shortcut)
                z = self.node("Add", [body, shortcut], f"residual_{op.path}/Add")
            else:  # pragma: no cover - symstride.network has no other operation
                raise SymstrideError(f"internal: unknown phase operation {type(op).__name__}")
        return z


def rewrite_network(view: GraphView, layout: str) -> onnx.ModelProto:
    """A copy of the model with its trunk replaced by Theorem 3's construction (unchanged if nothing strides)."""
    trunk = find_onnx_trunk(view)
    if trunk is None:
        return view.model
    first = trunk.consumed[0]
    elem = view.float_type(first, trunk.start)
    shape = view.shape(trunk.start)
    view.spatial_size(first, trunk.start, len(shape) - 2)
    spec = {"input": {"channels": int(shape[1]), "size": [int(n) for n in shape[2:]]}, "layers": trunk.layers}
    try:
        equivalent = Network.from_spec(spec).destride()
    except (ValueError, TypeError, SymstrideError) as exc:
        message = str(exc)
        culprit = next((trunk.nodes[p] for p in sorted(trunk.nodes, key=len, reverse=True) if f"layer {p} (" in message), first)
        raise NodeError(culprit, f"--network: {message}") from None
    stage = equivalent.input
    if stage.serves is not None:  # pragma: no cover - ONNX Conv pads with zeros only
        raise NodeError(first, "--network: a non-zero padding mode at the input")
    writer = _Writer(view, trunk, elem)
    extend = [(0, s * a - n) for s, a, n in zip(stage.basis.phases, stage.basis.length, stage.basis.size)]
    z = writer.pad(trunk.start, extend, "network_input")
    z, nodes = space_to_depth_nodes(view, z, stage.basis.channels, [s * a for s, a in zip(stage.basis.phases, stage.basis.length)],
                              stage.basis.phases, "crd", "network_input")
    writer.nodes += nodes
    z = writer.run(z, equivalent.ops)
    writer.nodes.append(view.make_node("Identity", [z], [trunk.end], "network_output"))
    consumed = {id(n) for n in trunk.consumed}
    out = onnx.ModelProto()
    out.CopyFrom(view.model)
    kept = [n for n in view.model.graph.node if id(n) not in consumed]
    position = next(i for i, n in enumerate(view.model.graph.node) if id(n) in consumed)
    before = [n for n in view.model.graph.node[:position] if id(n) not in consumed]
    after = kept[len(before):]
    del out.graph.node[:]
    out.graph.node.extend([*before, *writer.nodes, *after])
    del out.graph.initializer[:]
    out.graph.initializer.extend(view.initializers.values())
    return out
