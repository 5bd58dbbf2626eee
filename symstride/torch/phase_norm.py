"""Normalisation in the phase basis: statistics pooled over the phases of each original channel.

In the phase basis of Theorem 3 a feature map of ``C`` channels is held as ``C·R^d`` phase
channels (channel ``c·R^d + φ(q)`` holds the samples ``R·a + q`` of original channel ``c``), and
some phase samples lie past the end of the true map (*junk*: ``R·a + q ≥ N``, see
:func:`symstride.network.phases.mask_keep`).  A normalisation that takes statistics over a
channel (batch-norm in training mode) or over groups of channels (group-norm, layer-norm) must
take them over the original channel — all of its phases — and over true samples only; then it
computes exactly what the original computes.  :func:`masked_moments` is that reduction;
:class:`PhaseBatchNorm` uses it, with the original layer's parameters and running statistics
(tied: the same tensors, updated in place as the original would update them).

>>> import torch
>>> z = torch.arange(8.0).reshape(1, 1, 2, 4)           # one channel, R^d = 2 phases of length 4
>>> keep = torch.tensor([[True] * 4, [True] * 3 + [False]])  # the last sample of phase 1 is junk
>>> m = masked_moments(z, keep, dims=(0, 2, 3))
>>> float(m.mean), float(m.count)
(3.0, 7.0)
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import SymstrideError
from ..network.phases import mask_keep

__all__ = ["Moments", "masked_moments", "phase_keep", "split_channel_phases"]


class Moments(NamedTuple):
    """Mean, biased variance and sample count of a masked reduction (``keepdim`` shapes)."""

    mean: torch.Tensor
    var: torch.Tensor
    count: torch.Tensor

    def unbiased_var(self) -> torch.Tensor:
        """``var · n / (n − 1)``: what PyTorch stores in ``running_var``."""
        return self.var * self.count / (self.count - 1)


def masked_moments(x: torch.Tensor, keep: torch.Tensor | None, dims: Sequence[int]) -> Moments:
    """Mean and biased variance of ``x`` over ``dims``, counting only the samples where ``keep``.

    ``keep`` (boolean, broadcastable to ``x``; None: every sample) marks the true samples.  Junk
    samples contribute neither value nor gradient, even when they hold inf or NaN (the deviations
    are masked before they are squared).
    """
    dims = tuple(d % x.dim() for d in dims)
    if keep is None:
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        count = torch.full_like(mean, prod(x.shape[d] for d in dims))
        return Moments(mean, var, count)
    keep = keep.expand(x.shape)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    count = keep.to(x.dtype).sum(dim=dims, keepdim=True)
    mean = torch.where(keep, x, zero).sum(dim=dims, keepdim=True) / count
    deviation = torch.where(keep, x - mean, zero)
    var = (deviation * deviation).sum(dim=dims, keepdim=True) / count
    return Moments(mean, var, count)


def split_channel_phases(z: torch.Tensor, phases: int) -> torch.Tensor:
    """``(b, C·P, *A)`` → ``(b, C, P, *A)``: each original channel with its ``P`` phases."""
    return z.reshape(z.shape[0], z.shape[1] // phases, phases, *z.shape[2:])


def phase_keep(size: Sequence[int], phases: Sequence[int], length: Sequence[int]) -> torch.Tensor | None:
    """Boolean ``(Π R, *A)``: which phase samples are true samples; None when all are (``R·A = N``)."""
    if all(r * a == n for n, r, a in zip(size, phases, length)):
        return None
    return torch.as_tensor(mask_keep(size, phases, length))


class PhaseBatchNorm(nn.Module):
    """A batch-norm layer of the original model, run on its phase-basis input.

    The parameters (``weight``, ``bias``) and buffers (``running_mean``, ``running_var``,
    ``num_batches_tracked``) are the original layer's own tensors, of the original channel count.
    In eval mode every phase channel of channel ``c`` is normalised with channel ``c``'s running
    statistics; in training mode with the batch statistics of channel ``c`` pooled over its phases
    and true samples (:func:`masked_moments`), and the running statistics are updated exactly as
    the original layer updates them.  (The name is symstride.network's phase operation; this is
    its PyTorch module, kept out of ``__all__``.)
    """

    def __init__(self, path: str, bn: nn.modules.batchnorm._BatchNorm, phases: int, keep: torch.Tensor | None,
                 tied_names: dict[str, str] | None = None) -> None:
        super().__init__()
        if not bn.track_running_stats or bn.running_mean is None:
            raise SymstrideError(f"{type(bn).__name__} without running statistics cannot be run in the phase basis")
        self.path, self.phases = path, int(phases)
        self.eps, self.momentum = float(bn.eps), bn.momentum
        self.weight, self.bias = bn.weight, bn.bias  # the original Parameters (None when not affine)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            self.register_buffer(name, getattr(bn, name))  # the original buffers, updated in place
        self.register_buffer("keep", keep, persistent=False)
        #: Original state-dict names of the tied tensors (see :func:`symstride.torch.tied.original_names`).
        self.tied_names = dict(tied_names or {})
        self.train(bn.training)

    @classmethod
    def check_channel_source(cls, channel_source: np.ndarray, phases: int) -> None:
        """Refuse a phase layout other than ``c·P + φ`` (the one the pooled statistics read)."""
        expected = np.arange(len(channel_source)) // phases
        if not np.array_equal(np.asarray(channel_source), expected):
            raise SymstrideError("internal: phase channels are not ordered c·P + φ; pooled statistics need that order")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        flat = z.reshape(z.shape[0], z.shape[1] // self.phases, -1)  # (b, C, P·ΠA): F.batch_norm's (N, C, L)
        if not self.training:
            y = F.batch_norm(flat, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
            return y.reshape(z.shape)
        split = split_channel_phases(z, self.phases)
        dims = (0, *range(2, split.dim()))
        moments = masked_moments(split, self.keep, dims)
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
            self.running_mean.mul_(1 - factor).add_(factor * moments.mean.reshape(-1))
            self.running_var.mul_(1 - factor).add_(factor * moments.unbiased_var().reshape(-1))
        shape = (1, -1, *([1] * (split.dim() - 2)))
        y = (split - moments.mean) * torch.rsqrt(moments.var + self.eps)
        if self.weight is not None:
            y = y * self.weight.reshape(shape) + self.bias.reshape(shape)
        return y.reshape(z.shape)

    def extra_repr(self) -> str:
        return f"layer {self.path}, {self.phases} phase(s) per channel, statistics pooled over phases" + (
            " and true samples" if self.keep is not None else "")
