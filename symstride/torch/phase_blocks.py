"""Phase-domain modules for the branching graphs of ``destride_model(..., mode="network")``.

A feature map of ``C`` channels and true size ``N`` held by ``R`` phases per axis is a tensor
in one of three layouts (``P = Π R``, ``A = ceil(N / R)``, :class:`~symstride.network.phases.PhaseBasis`):

* ``canonical`` ``(b, C·P, *A)``, channel ``c·P + φ(r)`` — the layout of Theorem 3, of every
  tied convolution, pooling and batch-norm;
* ``split`` ``(b, *channels, P, *A)`` — the channel axis of the original split into several
  (a channel shuffle's ``view``), the phase axis kept after all of them;
* ``last`` ``(b, *A, P, C)`` — the original permuted to channels-last (ConvNeXt), so that
  ``LayerNorm(C)`` and ``Linear`` act on the last axis exactly as in the original.

Concatenation along channels needs no module: in the canonical layout the phases of channel
``c`` are the ``P`` consecutive channels ``c·P … c·P + P − 1``, so ``torch.cat`` of the branches'
phase tensors along axis 1 holds channel ``offset_k + c`` of branch ``k`` at
``(offset_k + c)·P + φ(r)`` — branch-major, each branch keeping its phase blocks — which is the
canonical layout of the concatenation.  Splitting is :class:`PhaseSplit` with sizes ``c_k·P``.

>>> import torch
>>> z = torch.arange(2 * 4 * 3.).reshape(1, 8, 3)      # C = 2 channels, P = 4 phases, A = 3
>>> [t.shape[1] for t in PhaseSplit((1, 1), 4)(z)]      # two channels of 4 phase channels each
[4, 4]
"""

from __future__ import annotations

from math import prod
from typing import Any, Sequence

import torch
from torch import nn

from .spacetodepth import DepthToSpace

__all__ = [
    "PHASE_LAYOUTS",
    "PhaseSplit",
    "PhaseLayout",
    "PhaseElementwise",
    "PhaseGlobalPool",
    "PhaseGroupNorm",
    "PhaseOutput",
]

#: The layouts a phase-domain value may have (see the module docstring).
PHASE_LAYOUTS = ("canonical", "split", "last")


class PhaseSplit(nn.Module):
    """``torch.split`` along channels in the canonical layout: ``sizes`` original channels, each ``P`` phase channels."""

    def __init__(self, sizes: Sequence[int], phases: int) -> None:
        super().__init__()
        self.sizes = [int(c) * phases for c in sizes]

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return torch.split(z, self.sizes, dim=1)

    def extra_repr(self) -> str:
        return f"phase channels {self.sizes}"


class PhaseLayout(nn.Module):
    """A channel reshape or permutation (``view``, ``reshape``, ``transpose``, ``permute``) on phase tensors.

    ``source``/``target`` are ``(layout, channels)``: the layout and the original channel axes
    (one entry for ``canonical`` and ``last``).  ``order`` (optional) permutes the channel
    axes of the ``split`` layout.  Every case is a reshape and a permutation that leaves the
    phase index ``φ(r)`` of every sample where the target layout expects it:

    >>> z = torch.arange(6 * 4.).reshape(1, 6 * 4, 1)    # C = 6, P = 4, A = 1: sample c·4 + φ
    >>> shuffle = [PhaseLayout(("canonical", (6,)), ("split", (2, 3)), 4), PhaseLayout(("split", (2, 3)), ("split", (3, 2)), 4, (1, 0)),
    ...            PhaseLayout(("split", (3, 2)), ("canonical", (6,)), 4)]
    >>> y = z
    >>> for step in shuffle: y = step(y)
    >>> (y[0, :, 0].reshape(6, 4)[:, 0] / 4).tolist()   # channel shuffle of 2 groups: 0 3 1 4 2 5
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """

    def __init__(self, source: tuple[str, tuple[int, ...]], target: tuple[str, tuple[int, ...]], phases: int,
                 order: Sequence[int] | None = None) -> None:
        super().__init__()
        self.source, self.target, self.phases = source, target, int(phases)
        self.order = None if order is None else tuple(order)

    def _split(self, z: torch.Tensor, ndim: int) -> torch.Tensor:
        """``(b, *channels, P, *A)`` from the source layout."""
        layout, channels = self.source
        if layout == "canonical":
            return z.reshape(z.shape[0], *channels, self.phases, *z.shape[2:])
        if layout == "last":  # (b, *A, P, C) → (b, C, P, *A)
            return z.permute(0, ndim + 2, ndim + 1, *range(1, ndim + 1))
        return z

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        layout, channels = self.source
        ndim = z.dim() - (2 if layout == "canonical" else 2 + len(channels) if layout == "split" else 3)
        y = self._split(z, ndim)
        if self.order is not None:
            k = len(channels)
            y = y.permute(0, *(1 + a for a in self.order), *range(k + 1, y.dim()))
        layout, channels = self.target
        spatial = y.shape[y.dim() - ndim:]
        y = y.reshape(y.shape[0], *channels, self.phases, *spatial)
        if layout == "canonical":
            return y.reshape(y.shape[0], channels[0] * self.phases, *spatial)
        if layout == "last":  # (b, C, P, *A) → (b, *A, P, C)
            return y.permute(0, *range(3, 3 + ndim), 2, 1)
        return y

    def extra_repr(self) -> str:
        return f"{self.source[0]} {list(self.source[1])} → {self.target[0]} {list(self.target[1])}, P={self.phases}"


class PhaseElementwise(nn.Module):
    """An elementwise operation (``add``, ``sub``, ``mul``, ``div``) of phase tensors in one
    basis and layout, per-channel tensors and numbers — a residual sum, a squeeze-and-excitation
    product ``scale · x``, ConvNeXt's layer scale.

    ``operands`` says per argument ``"phase"`` (a phase tensor), ``"channel"`` (a tensor of the
    original, broadcast along channels: in the canonical layout its channel axis is repeated
    ``P`` times, channel ``c`` ↦ ``c·P + φ``; in the last layout it gains a phase axis before
    the channels) or a number.  ``channel_axis`` is the channel axis of such a tensor counted
    from the end in the original layout.
    """

    def __init__(self, function: Any, operands: Sequence[Any], phases: int, layout: str, channel_axis: int) -> None:
        super().__init__()
        self.function, self.operands, self.phases = function, list(operands), int(phases)
        self.layout, self.channel_axis = layout, int(channel_axis)

    def _broadcast(self, t: torch.Tensor) -> torch.Tensor:
        if self.layout == "last":
            return t.unsqueeze(-2) if t.dim() >= 2 else t
        axis = t.dim() + self.channel_axis
        if axis < 0 or t.shape[axis] == 1:
            return t
        return t.repeat_interleave(self.phases, dim=axis)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        args, it = [], iter(tensors)
        for kind in self.operands:
            if kind == "phase":
                args.append(next(it))
            elif kind == "channel":
                args.append(self._broadcast(next(it)))
            else:
                args.append(kind)
        return self.function(*args)

    def extra_repr(self) -> str:
        return f"{getattr(self.function, '__name__', self.function)}, operands {self.operands}, {self.layout}"


def _true_samples(z: torch.Tensor, channels: int, keep: torch.Tensor | None, fill: float) -> torch.Tensor:
    """``(b, channels, P·Π A)`` (sample ``φ·Π A + a`` of each channel), the samples past the end set to ``fill``."""
    flat = z.reshape(z.shape[0], channels, -1)
    if keep is None:
        return flat
    return torch.where(keep.reshape(-1), flat, torch.full((), fill, dtype=z.dtype, device=z.device))


class PhaseGlobalPool(nn.Module):
    """Global average or max pooling of a canonical phase tensor: for channel ``c`` the mean
    (maximum) over all its phase channels ``c·P + φ`` and positions — the true samples only.

    ``keep`` (``(P, *A)``, from :func:`~symstride.network.phases.mask_keep`) masks the samples
    past the end of the true map; it is needed exactly when the basis has an overhang and the
    overhang is not known to be zero (for the mean; for the maximum whenever there is an
    overhang).  The mean divides by the true count ``Π N``.  ``shape`` is the original output's
    shape after the batch axis (``(C, 1, 1)`` for ``keepdim``, ``(C,)`` otherwise).
    """

    def __init__(self, kind: str, keep: torch.Tensor | None, count: int, shape: Sequence[int]) -> None:
        super().__init__()
        self.kind, self.count, self.shape = kind, int(count), tuple(shape)
        self.register_buffer("keep", keep, persistent=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.kind == "max":
            y = _true_samples(z, self.shape[0], self.keep, float("-inf")).amax(dim=2)
        else:
            y = _true_samples(z, self.shape[0], self.keep, 0.0).sum(dim=2) / self.count
        return y.reshape(z.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"{self.kind}, true samples {self.count}" + (", mask" if self.keep is not None else "")


class PhaseGroupNorm(nn.Module):
    """``GroupNorm(G, C)`` (``InstanceNorm``: ``G = C``) on a canonical phase tensor: the statistics of group ``g`` pooled over
    its channels' phases ``c·P + φ`` and positions, the true samples only (``keep``, as in
    :class:`PhaseGlobalPool`; None when there is no overhang); affine parameters repeated per phase."""

    def __init__(self, norm: nn.Module, keep: torch.Tensor | None, count: int, phases: int) -> None:
        super().__init__()
        groups = norm.num_groups if isinstance(norm, nn.GroupNorm) else norm.num_features  # InstanceNorm: a group per channel
        self.groups, self.eps, self.count, self.phases = groups, float(norm.eps), int(count), int(phases)
        self.norm = norm
        self.register_buffer("keep", keep, persistent=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b = z.shape[0]
        per_group = z.shape[1] // self.phases // self.groups
        data = z.reshape(b, self.groups, per_group, -1)  # (b, G, C/G, P·Π A)
        n = per_group * self.count  # true samples per group
        zero = torch.zeros((), dtype=z.dtype, device=z.device)
        keep = self.keep.reshape(-1) if self.keep is not None else None
        inside = data if keep is None else torch.where(keep, data, zero)
        mean = inside.sum(dim=(2, 3), keepdim=True) / n
        centred = data - mean
        spread = centred if keep is None else torch.where(keep, centred, zero)
        var = (spread * spread).sum(dim=(2, 3), keepdim=True) / n
        y = (centred / torch.sqrt(var + self.eps)).reshape(z.shape)
        if self.norm.affine:
            shape = (1, -1, *([1] * (z.dim() - 2)))
            weight = self.norm.weight.repeat_interleave(self.phases).reshape(shape)
            y = y * weight + self.norm.bias.repeat_interleave(self.phases).reshape(shape)
        return y

    def extra_repr(self) -> str:
        return f"groups {self.groups}, P={self.phases}" + (", mask" if self.keep is not None else "")


class PhaseOutput(nn.Module):
    """Back from the phase domain where a converted value is used outside it: depth-to-space by
    ``R`` and the crop to the true size ``N`` (the overhang dropped); a channels-last value
    (``layout="last"``, ``(b, *A, P, C)``) comes back channels-last, ``(b, *N, C)``."""

    def __init__(self, phases: Sequence[int], size: Sequence[int], layout: str = "canonical") -> None:
        super().__init__()
        self.size, self.layout = tuple(size), layout
        self.depth_to_space = DepthToSpace(tuple(phases)) if prod(phases) > 1 else None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        d = len(self.size)
        if self.layout == "last":  # (b, *A, P, C) → (b, C·P, *A)
            z = z.permute(0, d + 2, d + 1, *range(1, d + 1))
            z = z.reshape(z.shape[0], -1, *z.shape[3:])
        y = self.depth_to_space(z) if self.depth_to_space is not None else z
        y = y[(slice(None), slice(None), *(slice(0, n) for n in self.size))]
        return y.permute(0, *range(2, d + 2), 1) if self.layout == "last" else y

    def extra_repr(self) -> str:
        return f"size {self.size}, {self.layout}"
