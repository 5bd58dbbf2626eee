"""Theorem 3: a strided network as a non-strided network with tied filters.

:func:`destride_network` turns a :class:`~symstride.network.strided.Network` into an
:class:`EquivalentNetwork`: one space-to-depth of the input by ``S = Π s_l`` (per axis), then
only unit-stride operations in the phase domain of :mod:`~symstride.network.phases`:

* a convolution becomes a :class:`TiedConv` with ``C_out·R^d`` filters over ``C_in·B^d``
  channels, ``W'[o·R^d + φ(q), c·B^d + φ(r), j] = w[o, c, m]`` with
  ``B·j + r = s·q + δ·m − p + B·e``, bias ``b'[o·R^d + φ(q)] = b[o]``;
* activations and batch-norm are unchanged up to repeating per-channel parameters per phase
  (:mod:`~symstride.network.pointwise`);
* average pooling is a fixed depthwise :class:`TiedConv` (divided by a fixed per-position count
  when ``count_include_pad=False``); max pooling a :class:`TiedMaxPool`: per-phase window maxima,
  then a maximum across phases, padding with ``−∞``;
* residual blocks keep body and shortcut in the same phase basis and add;
* a :class:`Mask` before a layer exactly where :mod:`~symstride.network.boundary` says so.

Every operation is plain data (integer index maps, numpy arrays) with a ``forward``; the
parameters are the strided network's own (PyTorch ``state_dict`` layout).

>>> from .strided import Network
>>> net = Network.from_spec({"input": {"channels": 1, "size": [9]},
...     "layers": [{"type": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1},
...                {"type": "relu"},
...                {"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 1}]})
>>> eq = net.destride()
>>> eq.input.basis.phases, [type(op).__name__ for op in eq.ops]
((4,), ['TiedConv', 'PhaseActivation', 'TiedConv'])
>>> eq.ops[0].weight_index.shape, eq.ops[0].padding       # 2·2 filters over 1·4 channels, k' = 2
((4, 4, 2), ((1, 0),))
>>> [op.path for op in eq.masks]   # layer 0 gives 5 samples in 2 phases; layer 2 reads position 5
['2']
>>> params = net.random_params(seed=1); x = net.random_input(seed=1)
>>> float(abs(eq.forward(x, params) - net.forward(x, params)).max()) < 1e-12
True
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.errors import SymstrideError
from ..core.indexing import output_shape
from .boundary import Boundary, decide_mask
from .phase_ops import (
    InputStage, Mask, PhaseActivation, PhaseBatchNorm, PhaseOp, PhaseResidual, TiedConv, TiedMaxPool, run_ops,
    zero_overhang_after,
)
from .phases import PhaseBasis, TapArrays, axis_map, mask_keep, phase_padding, phase_taps
from .pooling import inside_counts
from .limits import check_network_size
from .spec import Activation, BatchNorm, ConvLayer, NetworkLayer, Pool, layer_stride, walk
from .arrays import input_array

__all__ = [
    "EquivalentNetwork",
    "destride_network",
    "windowed_op",
    "phase_divisor",
]


@dataclass(frozen=True, eq=False)
class EquivalentNetwork:
    """The non-strided network with tied filters equivalent to ``network``."""

    network: Any  #: the strided :class:`~symstride.network.strided.Network`
    input: InputStage
    ops: tuple[PhaseOp, ...]

    def forward(self, x: Any, params: Mapping[str, Any]) -> np.ndarray:
        """Output on ``x`` with the strided network's parameters; equals ``network.forward``."""
        return run_ops(self.ops, self.input.forward(input_array(x, self.network.spec)), params)

    @property
    def windowed(self) -> list[TiedConv | TiedMaxPool]:
        """The operations that read windows (convolutions and pooling), depth first."""
        return [op for op in walk(self.ops) if isinstance(op, (TiedConv, TiedMaxPool))]

    @property
    def boundaries(self) -> list[Boundary]:
        """The boundary analysis of every windowed operation."""
        return [op.boundary for op in self.windowed]

    @property
    def masks(self) -> list[TiedConv | TiedMaxPool]:
        """The operations preceded by a mask."""
        return [op for op in self.windowed if op.mask is not None]

    def __repr__(self) -> str:
        n = len(self.windowed)
        return (f"EquivalentNetwork(space-to-depth by {list(self.input.basis.phases)}, {n} unit-stride windowed "
                f"operations, masks before {[op.path for op in self.masks] or 'none'})")


# ---------------------------------------------------------------------------------------------
# the construction

def _maps(spec, out_phases: Sequence[int]) -> tuple[...]:
    return tuple(axis_map(k, s, d, p, r) for k, s, d, (p, _), r in zip(spec.kernel, spec.stride, spec.dilation, spec.padding, out_phases))


def windowed_op(layer: ConvLayer | Pool, spec, basis: PhaseBasis, zero_overhang: bool, after: tuple[int, ...]):
    """The phase-domain operation of one windowed layer (``spec``: its geometry) reading ``basis``
    and writing ``after`` phases, with the mask its boundary analysis asks for."""
    maps = _maps(spec, after)
    assert tuple(m.in_phases for m in maps) == basis.phases, "phase bases out of step"
    channels = layer.out_shape.channels
    out = PhaseBasis.of(channels, output_shape(spec, basis.size), after)
    padding = phase_padding(maps, basis.length, out.length)
    fill = -np.inf if isinstance(layer, Pool) and layer.mode == "max" else 0.0
    boundary = decide_mask(layer.path, layer.kind, spec, basis, zero_overhang, fill)
    mask = Mask(mask_keep(basis.size, basis.phases, basis.length), fill) if boundary.needed else None
    if isinstance(layer, Pool) and layer.mode == "max":
        guard = Mask(mask_keep(out.size, out.phases, out.length), 0.0) if out.has_overhang else None
        return TiedMaxPool(layer.path, basis, out, maps, tuple(phase_taps(maps)), padding, -np.inf, boundary, mask, guard)
    n_out = out.count
    if isinstance(layer, ConvLayer):
        bias = np.repeat(np.arange(channels), n_out) if layer.bias else None
        return TiedConv(layer.path, "conv", basis, out, maps, spec.weight_shape, TapArrays(phase_taps(maps)),
                        bias, spec.groups, padding, boundary, mask)
    exact_mean = layer.count_include_pad or not any(l for l, _ in spec.padding)
    weight = np.full(spec.weight_shape, 1.0 / spec.taps if exact_mean else 1.0)
    divisor = None if exact_mean else phase_divisor(spec, basis, out)
    return TiedConv(layer.path, "avgpool", basis, out, maps, spec.weight_shape, TapArrays(phase_taps(maps)),
                    None, spec.groups, padding, boundary, mask, weight, divisor)


def phase_divisor(spec, basis: PhaseBasis, out: PhaseBasis, count_include_pad: bool = False) -> np.ndarray:
    """The divisor of an average pooling per output phase sample, ``(R^d, *A_out)``.

    PyTorch divides a window by its taps inside ``[−p, N + p)`` (``count_include_pad``) or inside
    ``[0, N)``; a window reaching past the end (``ceil_mode``) counts only what it covers.  Past the
    end of the output, where nothing is read, the divisor is 1.
    """
    d = len(out.size)
    div = np.ones((*out.phases, *out.length))
    for axis, (n_in, n_out, k, s, (p, _), r, a) in enumerate(
        zip(basis.size, out.size, spec.kernel, spec.stride, spec.padding, out.phases, out.length)
    ):
        counts = inside_counts(n_in + 2 * p, k, s, 0, n_out) if count_include_pad else inside_counts(n_in, k, s, p, n_out)
        pos = r * np.arange(a)[None, :] + np.arange(r)[:, None]
        per = np.where(pos < n_out, counts[np.minimum(pos, n_out - 1)], 1)
        shape = [1] * (2 * d)
        shape[axis], shape[d + axis] = r, a
        div = div * per.reshape(shape)
    return div.reshape(out.count, *out.length)


def _build(layers: Sequence[NetworkLayer], basis: PhaseBasis, zero_overhang: bool, after: tuple[int, ...], prepad: str | None):
    ndim = len(after)
    # R for each layer: the strides of the later layers of this list, times `after`
    suffix = [after]
    for layer in reversed(layers[1:]):
        suffix.append(tuple(a * s for a, s in zip(suffix[-1], layer_stride(layer, ndim))))
    suffix.reverse()
    ops = []
    for layer, r in zip(layers, suffix):
        if isinstance(layer, (ConvLayer, Pool)):
            spec = layer.conv if isinstance(layer, ConvLayer) else layer.pool
            if isinstance(layer, ConvLayer) and layer.path == prepad:
                spec = spec.replace(padding=0)
            op = windowed_op(layer, spec, basis, zero_overhang, r)
        elif isinstance(layer, Activation):
            op = PhaseActivation(layer.path, layer.name, layer.options, basis)
        elif isinstance(layer, BatchNorm):
            op = PhaseBatchNorm(layer.path, basis, np.repeat(np.arange(basis.channels), basis.count), layer.eps)
        else:
            body, out, _ = _build(layer.body, basis, zero_overhang, r, prepad)
            shortcut, out_s, _ = _build(layer.shortcut, basis, zero_overhang, r, prepad) if layer.shortcut else ((), basis, zero_overhang)
            assert out == out_s, "residual branches in different phase bases"
            op = PhaseResidual(layer.path, basis, out, body, shortcut)
        zero_overhang = zero_overhang_after(op, zero_overhang)
        basis = getattr(op, "output", basis)
        ops.append(op)
    return tuple(ops), basis, zero_overhang


def _first_padding_mode(layers: Sequence[NetworkLayer]) -> ConvLayer | None:
    """The convolution whose non-zero padding mode can be applied before space-to-depth:
    the first layer that is not pointwise, when it is such a convolution."""
    for layer in layers:
        if isinstance(layer, (Activation, BatchNorm)):
            continue  # copying pads (reflect, replicate, circular) commute with pointwise maps
        if isinstance(layer, ConvLayer) and layer.padding_mode != "zeros":
            return layer
        return None
    return None


#: The largest number of input phases ``Π S`` of a tied network (its banks grow as ``(Π S)^2``).
MAX_NETWORK_PHASES = 2**14


def destride_network(network) -> EquivalentNetwork:
    """The equivalent non-strided network of a strided :class:`~symstride.network.strided.Network`.

    Raises :class:`~symstride.core.errors.SymstrideError` for a reflect/replicate/circular padding
    on a convolution that is not the first window-reading layer: such padding copies samples
    from the far side of the true feature map, which in the phase domain lie in other phases
    and at positions that depend on ``N``; it is not a per-phase operation.
    """
    spec = network.spec
    check_network_size(spec)
    first = _first_padding_mode(spec.layers)
    for layer in walk(spec.layers):
        if isinstance(layer, ConvLayer) and layer.padding_mode != "zeros" and layer is not first:
            raise SymstrideError(
                f"{layer.label}: padding_mode={layer.padding_mode!r} is exact only on the first layer (applied "
                "before space-to-depth); on a later layer it copies samples across the boundary of the "
                "feature map, which in the phase domain is not a per-phase operation"
            )
    size = spec.input.size
    padding = ((0, 0),) * spec.ndim
    if first is not None:
        padding = first.conv.padding
        size = tuple(n + l + r for n, (l, r) in zip(size, padding))
    stride = network.total_stride
    if prod(stride) > MAX_NETWORK_PHASES:  # the tied banks grow as (Π S)^2: refuse rather than hang
        raise SymstrideError(
            f"the network's total stride {tuple(stride)} gives {prod(stride)} input phases (Π S); symstride "
            f"builds tied networks with at most {MAX_NETWORK_PHASES}"
        )
    basis = PhaseBasis.of(spec.input.channels, size, stride)
    stage = InputStage(basis, padding, first.padding_mode if first else "zeros", first.path if first else None)
    ops, out, _ = _build(spec.layers, basis, True, (1,) * spec.ndim, stage.serves)
    assert out.phases == (1,) * spec.ndim and out.length == spec.output.size
    return EquivalentNetwork(network, stage, ops)
