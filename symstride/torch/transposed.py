"""Transposed convolutions on real PyTorch models: no transposed convolution with stride > 1 left.

``mode="layer"``: each strided ``nn.ConvTranspose1d/2d/3d`` (or ``F.conv_transpose{1,2,3}d``
call) becomes sub-pixel convolution — zero padding (or a trim) of the input, one unit-stride
``nn.Conv`` with ``C_out·P`` output channels holding the flipped phase filters ``W'``, N-D
depth-to-space and the crop (:mod:`symstride.layer.transposed`).  The weights come from symstride's
gather index (:func:`symstride.core.indexing.weight_gather_index`), never from a second
derivation.

``mode="network"``: each maximal chain of transposed convolutions, batch-norms and pointwise
activations becomes one :class:`PhaseDecoder` — the decoder of :mod:`symstride.decoder` run at
the chain's input resolution: unit-stride convolutions between phase maps, 0/1 masks exactly
where junk would reach an output that matters, one depth-to-space at the end.  It is built for
the example input's size.
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError

from math import prod
from typing import Any, Sequence

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ..decoder import DecoderEquivalent, destride_decoder
from ..network.spec import ConvLayer
from ..core.indexing import transposed_geometry, weight_gather_index
from ..network.spec import BatchNorm
from ..core.params import ConvTransposeSpec
from .calls import REQUIRED_ARGUMENTS, call_signature, is_strided, refuse
from .layers import as_parameter, gather_weight
from .padding import pad_widths
from .decoder_stages import TiedTransposedStage
from .network import PhasePointwise
from .phase_norm import PhaseBatchNorm, phase_keep
from .tied import InferenceCache, tensor_names
from .spacetodepth import DepthToSpace

__all__ = [
    "DestridedConvTranspose",
    "DestridedConvTransposeCall",
    "PhaseDecoder",
    "conv_transpose_spec",
    "CONV_TRANSPOSE_TYPES",
    "CONV_TRANSPOSE_FUNCTIONS",
    "convert_transposed_layer",
    "convert_decoders",
]

CONV_TRANSPOSE_TYPES = {nn.ConvTranspose1d: 1, nn.ConvTranspose2d: 2, nn.ConvTranspose3d: 3}
CONV_TRANSPOSE_FUNCTIONS = {F.conv_transpose1d: 1, F.conv_transpose2d: 2, F.conv_transpose3d: 3}
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_SIGNATURE = call_signature(
    ("input", REQUIRED_ARGUMENTS), ("weight", REQUIRED_ARGUMENTS), ("bias", None), ("stride", 1), ("padding", 0),
    ("output_padding", 0), ("groups", 1), ("dilation", 1),
)


def conv_transpose_spec(weight_shape: Sequence[int], stride: Any, padding: Any, output_padding: Any, dilation: Any, groups: int) -> ConvTransposeSpec:
    """A :class:`ConvTransposeSpec` from PyTorch's arguments (weight ``(C_in, C_out/groups, *k)``)."""
    cin, cout_g, *kernel = (int(v) for v in weight_shape)
    return ConvTransposeSpec.create(kernel, stride, padding, output_padding, dilation, cin, cout_g * groups, groups, ndim=len(kernel))


def _bias_per_phase(bias: torch.Tensor | None, n_phases: int) -> torch.Tensor | None:
    """``b'[o·P + φ(r)] = b[o]`` (channel-major, the order :class:`DepthToSpace` reads)."""
    return None if bias is None else bias.detach().repeat_interleave(n_phases)


class _SubPixel(nn.Module):
    """Geometry and forward pass shared by the module and functional forms."""

    def __init__(self, spec: ConvTransposeSpec) -> None:
        super().__init__()
        self.spec = spec
        self.n_phases = prod(spec.stride)
        self._index = weight_gather_index(spec, "pytorch")  # (C_out·P, C_in/g, *k'), a constant
        self.depth_to_space = DepthToSpace(spec.stride)

    def bank(self, weight: torch.Tensor) -> torch.Tensor:
        """``W'`` gathered from the original ``weight`` (structural zeros included)."""
        if tuple(weight.shape) != self.spec.weight_shape:
            raise SymstrideError(f"weight has shape {tuple(weight.shape)}, expected {self.spec.weight_shape}")
        return gather_weight(weight, self._index)

    def _run(self, x: torch.Tensor, conv: Any) -> torch.Tensor:
        spec = self.spec
        if x.dim() != spec.ndim + 2 or x.shape[1] != spec.in_channels:
            raise SymstrideError(f"input of shape {tuple(x.shape)} does not fit the layer "
                             f"(expected (batch, {spec.in_channels}, {spec.ndim} spatial axes))")
        geometry = transposed_geometry(spec, tuple(int(n) for n in x.shape[2:]))
        flat = pad_widths([ax.pad for ax in geometry])
        y = self.depth_to_space(conv(F.pad(x, flat) if any(flat) else x))
        return y[(slice(None), slice(None), *(slice(ax.crop, ax.crop + ax.output) for ax in geometry))]

    def extra_repr(self) -> str:
        return f"{self.spec.describe()}, sub-pixel: {self.n_phases} output phases, then depth-to-space"


class DestridedConvTranspose(InferenceCache, _SubPixel):
    """A strided ``nn.ConvTranspose`` as padding, a unit-stride convolution with ``W'`` (gathered
    on each call from ``weight``) and the bias repeated per phase, :class:`DepthToSpace` and a crop.

    Its parameters are the original layer's ``weight`` and ``bias`` themselves (tied): training
    it trains the original layer, and ``W'``'s structural zeros are never parameters.
    """

    def __init__(self, spec: ConvTransposeSpec, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__(spec)
        self.weight = as_parameter(weight)
        self.bias = as_parameter(bias) if bias is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv, g = _CONV[self.spec.ndim], self.spec.groups
        b = None if self.bias is None else self.bias.repeat_interleave(self.n_phases)
        bank = self.prepared("bank", [self.weight], lambda: self.bank(self.weight))  # kept between no-grad calls
        return self._run(x, lambda z: conv(z, bank, b, 1, 0, 1, g))


class DestridedConvTransposeCall(_SubPixel):
    """The equivalent of a functional ``F.conv_transpose{1,2,3}d(x, weight, bias, …)`` call; the
    bank is gathered from the weight on every call (the weight may be computed in the graph)."""

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        conv, g = _CONV[self.spec.ndim], self.spec.groups
        bank, b = self.bank(weight), _bias_per_phase(bias, self.n_phases)
        return self._run(x, lambda z: conv(z, bank, b, 1, 0, 1, g))


def destride_transposed_layer(layer: nn.Module) -> DestridedConvTranspose:
    """The sub-pixel equivalent of an ``nn.ConvTranspose1d/2d/3d`` (zeros padding, any groups,
    dilation, output padding, bias).

    >>> import torch
    >>> up = torch.nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1).double()
    >>> eq = destride_transposed_layer(up)
    >>> x = torch.randn(2, 4, 5, 6, dtype=torch.float64)
    >>> tuple(eq.bank(eq.weight).shape), eq.weight is up.weight, bool(torch.allclose(eq(x), up(x), rtol=0, atol=1e-12))
    ((12, 4, 2, 2), True, True)
    """
    if type(layer) not in CONV_TRANSPOSE_TYPES:
        raise SymstrideTypeError(f"expected an nn.ConvTranspose1d/2d/3d, got {type(layer).__name__}")
    if layer.padding_mode != "zeros":
        raise SymstrideError(f"padding_mode {layer.padding_mode!r}: PyTorch's transposed convolutions pad with zeros only")
    spec = conv_transpose_spec(layer.weight.shape, layer.stride, layer.padding, layer.output_padding, layer.dilation, layer.groups)
    return DestridedConvTranspose(spec, layer.weight, layer.bias)


# --- mode="layer" ------------------------------------------------------------------------------


def convert_transposed_layer(gm: fx.GraphModule, node: fx.Node, replace: Any) -> bool:
    """Replace a strided transposed convolution node (module or functional) in place; True if it was one.

    ``replace(gm, node, module, args)`` splices a functional call's replacement into the graph.
    """
    if node.op == "call_module" and type(gm.get_submodule(node.target)) in CONV_TRANSPOSE_TYPES:
        mod = gm.get_submodule(node.target)
        if len(node.args) + len(node.kwargs) != 1:
            raise refuse(gm, node, "it is called with output_size, which picks the output padding at run time; "
                                   "symstride converts transposed convolutions with a fixed output_padding")
        if is_strided(mod.stride):
            parent, _, attr = node.target.rpartition(".")
            setattr(gm.get_submodule(parent) if parent else gm, attr, destride_transposed_layer(mod))
        return True
    if node.op == "call_function" and node.target in CONV_TRANSPOSE_FUNCTIONS:
        try:
            bound = _SIGNATURE.bind(*node.args, **node.kwargs)
        except TypeError as exc:
            raise refuse(gm, node, f"unexpected arguments ({exc})") from None
        bound.apply_defaults()
        args = dict(bound.arguments)
        for name, value in args.items():
            if name not in ("input", "weight", "bias") and isinstance(value, fx.Node):
                raise refuse(gm, node, f"its {name} is computed in the graph ({value.name!r}); symstride needs constant layer geometry")
        if not is_strided(args["stride"]):
            return True
        meta = args["weight"].meta.get("tensor_meta") if isinstance(args["weight"], fx.Node) else None
        if meta is None:
            raise refuse(gm, node, "the shape of its weight is unknown after shape propagation")
        spec = conv_transpose_spec(meta.shape, args["stride"], args["padding"], args["output_padding"], args["dilation"], args["groups"])
        if spec.ndim != CONV_TRANSPOSE_FUNCTIONS[node.target]:
            raise refuse(gm, node, f"its weight has {spec.ndim} spatial axes, expected {CONV_TRANSPOSE_FUNCTIONS[node.target]}")
        replace(gm, node, DestridedConvTransposeCall(spec), (args["input"], args["weight"], args["bias"]))
        return True
    return False


# --- mode="network": decoder chains --------------------------------------------------------------

#: Pointwise modules a decoder chain may hold, with their name and options in the network spec.
_ACTIVATIONS = {
    nn.ReLU: ("relu", ()), nn.LeakyReLU: ("leaky_relu", ("negative_slope",)), nn.ELU: ("elu", ("alpha",)),
    nn.Tanh: ("tanh", ()), nn.Sigmoid: ("sigmoid", ()), nn.SiLU: ("silu", ()),
}
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class PhaseDecoder(nn.Module):
    """A chain of transposed convolutions and pointwise maps at its input resolution
    (:class:`symstride.decoder.DecoderEquivalent` as PyTorch modules), for one input size."""

    def __init__(self, equivalent: DecoderEquivalent, ops: nn.ModuleList, masks: dict[int, torch.Tensor]) -> None:
        super().__init__()
        self.input_size = tuple(equivalent.spec.input.size)
        self.output_size = tuple(equivalent.spec.output.size)
        self.ops = ops
        for i, mask in masks.items():
            self.register_buffer(f"mask_{i}", mask, persistent=False)
        self._masked = sorted(masks)
        self.pads = {i: pad_widths(st.pad) for i, st in zip(self._stage_ops(equivalent), equivalent.stages)}
        self.depth_to_space = DepthToSpace(equivalent.block)

    @staticmethod
    def _stage_ops(equivalent: DecoderEquivalent) -> list[int]:
        return [i for i, layer in enumerate(equivalent.spec.layers) if isinstance(layer, ConvLayer)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[2:]) != self.input_size:
            raise SymstrideError(
                f"this mode='network' conversion was built for inputs of spatial size {self.input_size}, got "
                f"{tuple(x.shape[2:])}; convert again with an example of that size, or use mode='layer'"
            )
        z = x
        for i, op in enumerate(self.ops):
            if i in self.pads:
                if i in self._masked:
                    z = z * getattr(self, f"mask_{i}")
                z = op(F.pad(z, self.pads[i]) if any(self.pads[i]) else z)
            else:
                z = op(z)
        y = self.depth_to_space(z)
        return y[(slice(None), slice(None), *(slice(0, n) for n in self.output_size))]

    def extra_repr(self) -> str:
        return f"input size {self.input_size}, depth-to-space by {self.depth_to_space.stride}, masks before ops {self._masked}"


def _chain_layer(gm: fx.GraphModule, node: fx.Node) -> tuple[dict, nn.Module] | None:
    """The node as a layer of a decoder spec (with its module), or None when a chain cannot hold it."""
    if node.op != "call_module" or len(node.args) != 1 or node.kwargs:
        return None
    mod = gm.get_submodule(node.target)
    kind = type(mod)
    if kind in CONV_TRANSPOSE_TYPES and mod.padding_mode == "zeros":
        c = mod
        return ({"type": "conv_transpose", "out_channels": c.out_channels, "kernel": list(c.kernel_size), "stride": list(c.stride),
                 "padding": list(c.padding), "output_padding": list(c.output_padding), "dilation": list(c.dilation),
                 "groups": c.groups, "bias": c.bias is not None}, mod)
    if kind in _ACTIVATIONS:
        name, options = _ACTIVATIONS[kind]
        return {"type": name, **{k: float(getattr(mod, k)) for k in options}}, mod
    if isinstance(mod, _BATCH_NORMS) and not mod.training and mod.track_running_stats and mod.affine:
        return {"type": "batchnorm", "eps": float(mod.eps)}, mod
    return None


def _chains(gm: fx.GraphModule) -> list[list[fx.Node]]:
    """Maximal runs of chain layers, each node the only user of the one before; kept when a
    transposed convolution in them strides."""
    chains, current = [], []
    for node in gm.graph.nodes:
        item = _chain_layer(gm, node)
        if item is not None and current and node.args[0] is current[-1] and len(current[-1].users) == 1:
            current.append(node)
            continue
        if current:
            chains.append(current)
        current = [node] if item is not None and item[0]["type"] == "conv_transpose" else []
    if current:
        chains.append(current)
    return [chain for chain in chains
            if any(is_strided(gm.get_submodule(n.target).stride) for n in chain
                   if type(gm.get_submodule(n.target)) in CONV_TRANSPOSE_TYPES)]


def _decoder_module(gm: fx.GraphModule, chain: list[fx.Node]) -> PhaseDecoder:
    meta = chain[0].args[0].meta.get("tensor_meta") if isinstance(chain[0].args[0], fx.Node) else None
    if meta is None:
        raise refuse(gm, chain[0], "the shape of its input is unknown after shape propagation")
    layers = [_chain_layer(gm, node) for node in chain]
    doc = {"input": {"channels": int(meta.shape[1]), "size": [int(n) for n in meta.shape[2:]]}, "layers": [d for d, _ in layers]}
    try:
        equivalent = destride_decoder(doc)
    except (ValueError, TypeError) as exc:
        raise refuse(gm, chain[0], f"the decoder chain starting here is not valid: {exc}") from None
    stages = dict(zip(PhaseDecoder._stage_ops(equivalent), equivalent.stages))
    names = tensor_names(gm)
    tied = lambda mod: {k: names[id(t)] for k, t in mod.state_dict(keep_vars=True).items() if id(t) in names}  # noqa: E731
    ops, masks, basis = [], {}, None
    for i, (layer, (_, mod)) in enumerate(zip(equivalent.spec.layers, layers)):
        if i in stages:
            stage = stages[i]
            padded = [a + l + r for a, (l, r) in zip(stage.in_coarse, stage.pad)]
            ops.append(TiedTransposedStage(stage, mod.weight, mod.bias, padded, tied(mod)))
            basis = (layer.out_shape.size, stage.out_phases, stage.out_coarse)
            mask = equivalent.mask(stage)
            if mask is not None:
                masks[i] = torch.as_tensor(mask, dtype=mod.weight.dtype, device=mod.weight.device)
        elif isinstance(layer, BatchNorm):  # statistics pooled over the phases and true samples of each channel
            ops.append(PhaseBatchNorm(layer.path, mod, prod(basis[1]), phase_keep(*basis), tied(mod)))
        else:
            ops.append(PhasePointwise(layer.path, mod))
    return PhaseDecoder(equivalent, nn.ModuleList(ops), masks)


def convert_decoders(gm: fx.GraphModule) -> int:
    """Replace, in place, every decoder chain of ``gm`` (shapes propagated) by its :class:`PhaseDecoder`;
    returns how many were replaced."""
    chains = _chains(gm)
    for k, chain in enumerate(chains):
        module = _decoder_module(gm, chain)
        name = "phase_decoder" if k == 0 else f"phase_decoder_{k}"
        while hasattr(gm, name):
            name += "_"
        gm.add_submodule(name, module)
        with gm.graph.inserting_after(chain[-1]):
            new = gm.graph.call_module(name, args=(chain[0].args[0],))
        new.meta = dict(chain[-1].meta)
        chain[-1].replace_all_uses_with(new)
        for node in reversed(chain):
            gm.graph.erase_node(node)
    if chains:
        gm.delete_all_unused_submodules()
    return len(chains)
