"""The operations of an equivalent network, all unit-stride in the phase domain: the input stage
(one space-to-depth), tied convolutions and poolings, activations, batch-norm and residual sums,
each with its boundary mask; and which of them leave zeros in the overhang.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping, Sequence, Union

import numpy as np

from ..reference.convolution import conv, pad, space_to_depth
from .boundary import Boundary
from .phases import PhaseBasis, PhaseTap, mask_keep, tied_weight_index
from .pointwise import ACTIVATIONS, batchnorm
from .arrays import parameter

__all__ = [
    "Mask",
    "InputStage",
    "TiedConv",
    "TiedMaxPool",
    "PhaseActivation",
    "PhaseBatchNorm",
    "PhaseResidual",
    "PhaseOp",
    "phase_pad",
    "split_phases",
    "run_ops",
    "zero_overhang_after",
]


def phase_pad(z: np.ndarray, padding: Sequence[tuple[int, int]], value: float = 0.0) -> np.ndarray:
    """Pad the spatial axes with ``value``; a negative width crops (as ``torch.nn.functional.pad``)."""
    crop = tuple(slice(max(0, -l), n - max(0, -r)) for (l, r), n in zip(padding, z.shape[2:]))
    z = z[(slice(None), slice(None), *crop)]
    widths = [(0, 0), (0, 0), *((max(0, l), max(0, r)) for l, r in padding)]
    return np.pad(z, widths, constant_values=value)


def split_phases(z: np.ndarray, n_phases: int) -> np.ndarray:
    """``(b, C·P, *A)`` → ``(b, C, P, *A)`` (channel-major phase order)."""
    return z.reshape(z.shape[0], z.shape[1] // n_phases, n_phases, *z.shape[2:])


@dataclass(frozen=True, eq=False)
class Mask:
    """A fixed 0/1 mask on a phase-domain input: samples with ``keep`` false become ``fill``.

    ``keep`` has shape ``(B^d, *A)`` and is shared by every channel (see
    :func:`~symstride.network.phases.mask_keep`).
    """

    keep: np.ndarray
    fill: float

    def full(self, channels: int) -> np.ndarray:
        """The mask over all ``channels·B^d`` phase channels, as 0/1 floats."""
        return np.tile(self.keep, (channels,) + (1,) * (self.keep.ndim - 1)).astype(np.float64)

    def apply(self, z: np.ndarray) -> np.ndarray:
        return np.where(self.keep, split_phases(z, self.keep.shape[0]), self.fill).reshape(z.shape)


@dataclass(frozen=True, eq=False)
class InputStage:
    """The only resampling: optional pre-padding (a padding mode of the first convolution),
    zero extension to ``S·A`` per axis, and one space-to-depth by ``S``."""

    basis: PhaseBasis  #: channels, padded size, phases S, length A
    padding: tuple[tuple[int, int], ...]  #: pre-padding (zeros when none)
    padding_mode: str
    serves: str | None  #: path of the convolution whose padding is applied here

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.serves is not None:
            x = pad(x, self.padding, self.padding_mode)
        extend = [(0, 0), (0, 0), *((0, s * a - n) for s, a, n in zip(self.basis.phases, self.basis.length, x.shape[2:]))]
        return space_to_depth(np.pad(x, extend), self.basis.phases)


@dataclass(frozen=True, eq=False)
class TiedConv:
    """A unit-stride convolution with a tied filter bank gathered from the original weight.

    ``taps`` is the phase tap map ``(φ(q), m) ↦ (φ(r), j)``; ``weight_index`` (shape
    ``(C_out·R^d, C_in/groups·B^d, *K')``, built from it) holds, for each entry of
    ``W'``, the flat index into the original weight ``(C_out, C_in/groups, *k)`` or −1 for a
    structural zero; ``bias_index[o·R^d + φ(q)] = o``.  Average pooling uses the same form
    with a ``fixed_weight`` instead of a parameter, and, for ``count_include_pad=False``, a
    fixed ``divisor`` of shape ``(R^d, *A_out)``.
    """

    path: str
    source: str  #: "conv" or "avgpool"
    inputs: PhaseBasis
    output: PhaseBasis
    axes: tuple[...]
    weight_shape: tuple[int, ...]
    taps: tuple[PhaseTap, ...]
    bias_index: np.ndarray | None
    groups: int
    padding: tuple[tuple[int, int], ...]  #: phase-domain zero padding (negative crops)
    boundary: Boundary
    mask: Mask | None
    fixed_weight: np.ndarray | None = None
    divisor: np.ndarray | None = None

    @property
    def label(self) -> str:
        return f"layer {self.path} ({self.source})"

    @cached_property
    def weight_index(self) -> np.ndarray:
        """The whole gather index (computed on first use; large for deep networks)."""
        return self.weight_index_rows()

    def weight_index_rows(self, rows: slice | None = None) -> np.ndarray:
        """A block of output channels of the gather index, built from :attr:`taps`."""
        return tied_weight_index(self.weight_shape, self.axes, self.taps, rows)

    def original_weight(self, params: Mapping[str, Any]) -> np.ndarray:
        if self.fixed_weight is not None:
            return self.fixed_weight
        return parameter(params, f"{self.path}.weight", self.weight_shape)

    def weight(self, params: Mapping[str, Any]) -> np.ndarray:
        """The tied bank ``W'`` for the given parameters."""
        flat = self.original_weight(params).reshape(-1)
        return np.where(self.weight_index >= 0, flat[np.maximum(self.weight_index, 0)], 0.0)

    def bias(self, params: Mapping[str, Any]) -> np.ndarray | None:
        """The repeated bias ``b'``, or None."""
        if self.bias_index is None:
            return None
        return parameter(params, f"{self.path}.bias", (self.weight_shape[0],))[self.bias_index]

    def forward(self, z: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        if self.mask is not None:
            z = self.mask.apply(z)
        y = conv(phase_pad(z, self.padding), self.weight(params), groups=self.groups)
        b = self.bias(params)
        if b is not None:
            y = y + b.reshape((1, -1) + (1,) * (y.ndim - 2))
        if self.divisor is not None:
            y = (split_phases(y, self.divisor.shape[0]) / self.divisor).reshape(y.shape)
        return y


@dataclass(frozen=True, eq=False)
class TiedMaxPool:
    """Max pooling in the phase domain: for output phase ``φ(q)`` of channel ``c``,
    ``max over taps (φ(r), j)`` of the ``−∞``-padded input channel ``c·B^d + φ(r)`` at offset ``j``,
    computed as window maxima per input phase and then a maximum across phases.

    Outputs past the end of the feature map may read nothing but padding and come out ``−∞``;
    a later convolution multiplies them by structural zeros, and ``0·(−∞)`` is NaN in floating
    point.  The ``guard`` (a mask on the output, fill 0) sets that overhang to 0; it never
    touches a true output, so exactness does not depend on it.
    """

    path: str
    inputs: PhaseBasis
    output: PhaseBasis
    axes: tuple[...]
    taps: tuple[PhaseTap, ...]
    padding: tuple[tuple[int, int], ...]
    pad_value: float
    boundary: Boundary
    mask: Mask | None
    guard: Mask | None = None  #: zeroes the output's overhang (see the class docstring)
    source: str = field(default="maxpool")

    @property
    def label(self) -> str:
        return f"layer {self.path} (maxpool)"

    def forward(self, z: np.ndarray, params: Mapping[str, Any] | None = None) -> np.ndarray:
        if self.mask is not None:
            z = self.mask.apply(z)
        zp = split_phases(phase_pad(z, self.padding, self.pad_value), self.inputs.count)
        length = self.output.length
        out = np.full((z.shape[0], self.inputs.channels, self.output.count, *length), -np.inf)
        by_phase: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        for t in self.taps:
            by_phase.setdefault((t.out_phase, t.in_phase), []).append(t.offset)
        for (q, r), offsets in by_phase.items():
            window = np.full((z.shape[0], self.inputs.channels, *length), -np.inf)
            for j in offsets:  # window maximum within phase r
                np.maximum(window, zp[(slice(None), slice(None), r, *(slice(jj, jj + a) for jj, a in zip(j, length)))], out=window)
            np.maximum(out[:, :, q], window, out=out[:, :, q])  # maximum across phases
        out = out.reshape(z.shape[0], -1, *length)
        return self.guard.apply(out) if self.guard is not None else out


@dataclass(frozen=True, eq=False)
class PhaseActivation:
    """An activation, unchanged (commuting lemma)."""

    path: str
    name: str
    options: tuple[tuple[str, float], ...]
    basis: PhaseBasis

    def forward(self, z: np.ndarray, params: Mapping[str, Any] | None = None) -> np.ndarray:
        return ACTIVATIONS[self.name].apply(z, dict(self.options))


@dataclass(frozen=True, eq=False)
class PhaseBatchNorm:
    """Batch-norm with per-channel parameters repeated per phase: phase channel ``i`` uses
    the parameters of channel ``channel_source[i]`` (``= i // R^d``)."""

    path: str
    basis: PhaseBasis
    channel_source: np.ndarray
    eps: float

    def forward(self, z: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        shape = (self.basis.channels,)
        w, b, m, v = (parameter(params, f"{self.path}.{n}", shape)[self.channel_source]
                      for n in ("weight", "bias", "running_mean", "running_var"))
        return batchnorm(z, w, b, m, v, self.eps)


@dataclass(frozen=True, eq=False)
class PhaseResidual:
    """``body(z) + shortcut(z)`` with both branches ending in the same phase basis."""

    path: str
    inputs: PhaseBasis
    output: PhaseBasis
    body: tuple["PhaseOp", ...]
    shortcut: tuple["PhaseOp", ...]

    def forward(self, z: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        return run_ops(self.body, z, params) + run_ops(self.shortcut, z, params)


PhaseOp = Union[TiedConv, TiedMaxPool, PhaseActivation, PhaseBatchNorm, PhaseResidual]


def run_ops(ops: Sequence[PhaseOp], z: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    for op in ops:
        z = op.forward(z, params)
    return z


def zero_overhang_after(op, zero_before: bool) -> bool:
    """Whether the overhang of ``op``'s output is known to hold zeros (``zero_before``: of its input).

    True when there is no overhang or the operation's guard zeroes it; otherwise only
    activations with ``f(0) = 0`` keep zeros zero.  Convolutions, pooling and batch-norm write arbitrary values there; a residual
    sum is zero where both branches are.
    """
    if isinstance(op, PhaseActivation):
        return not op.basis.has_overhang or (zero_before and ACTIVATIONS[op.name].zero_preserving)
    if isinstance(op, PhaseResidual):
        branch = True
        for ops in (op.body, op.shortcut):
            z = zero_before
            for inner in ops:
                z = zero_overhang_after(inner, z)
            branch = branch and z
        return branch or not op.output.has_overhang
    guard = getattr(op, "guard", None)
    if guard is not None:  # max pooling zeroes its own overhang
        inside = mask_keep(op.output.size, op.output.phases, op.output.length)
        return guard.fill == 0.0 and guard.keep.shape == inside.shape and not bool((guard.keep & ~inside).any())
    basis = getattr(op, "output", None) or op.basis
    return not basis.has_overhang
