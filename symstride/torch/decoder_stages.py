"""One stage of a decoder at its input resolution, evaluated without its structural zeros.

A strided transposed convolution in a decoder chain (:mod:`symstride.decoder`) becomes a
unit-stride convolution between phase maps whose bank ``W'`` is mostly structural zeros: of the
``R^d`` input phases an output phase reads only the few its taps name.  :class:`TiedTransposedStage`
runs it by its tap map instead: for every output phase ``r`` and each of its taps ``(m, q, j)``
(tap ``m`` of the kernel joins input phase ``q`` to output phase ``r`` at offset ``j``), the
unit-stride window at offset ``j`` of input phase ``q`` is gathered and multiplied by the
original weight's tap ``m`` — one batched product per output phase, the original's
multiply-accumulates.  The weight and bias are the original layer's Parameters (tied); the
per-phase filters are gathered from them on every call.
"""

from __future__ import annotations

from math import prod
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..decoder import Stage
from .layers import as_parameter

__all__ = ["TiedTransposedStage", "stage_taps"]


def stage_taps(stage: Stage) -> list[list[tuple[int, int, tuple[int, ...]]]]:
    """For every output phase (flat, row-major), its taps ``(m_flat, q_flat, j)`` in the stage's tap map."""
    kernel = stage.layer.conv.kernel
    per_phase: list[list[tuple[int, int, tuple[int, ...]]]] = [[] for _ in range(prod(stage.out_phases))]
    for m, q, r, j in stage.entries:
        r_flat = int(np.ravel_multi_index(r, stage.out_phases))
        per_phase[r_flat].append((int(np.ravel_multi_index(m, kernel)), int(np.ravel_multi_index(q, stage.in_phases)), tuple(j)))
    return per_phase


class TiedTransposedStage(nn.Module):
    """A decoder stage on its padded phase-map input ``(b, C_in·R^d, *A_padded)`` (channel
    ``c·R^d + φ(q)``), giving ``(b, C_out·B^d, *A_out)`` (channel ``o·B^d + φ(r)``).

    Output phases with fewer taps than the most are padded with taps on a zero weight entry.
    """

    def __init__(self, stage: Stage, weight: torch.Tensor, bias: torch.Tensor | None,
                 padded: Sequence[int], tied_names: dict[str, str] | None = None) -> None:
        super().__init__()
        conv = stage.layer.conv
        self.path, self.groups = stage.layer.path, conv.groups
        self.in_phases, self.out_phases = prod(stage.in_phases), prod(stage.out_phases)
        self.out_length = tuple(stage.out_coarse)
        self.weight = as_parameter(weight)
        self.bias = None if bias is None else as_parameter(bias)
        taps = stage_taps(stage)
        self.taps = max(len(t) for t in taps)
        kernel_size = prod(conv.kernel)
        strides = np.cumprod((1, *tuple(padded)[::-1]))[:-1][::-1]
        grid = np.zeros(1, dtype=np.int64)
        for n, st in zip(self.out_length, strides):
            grid = (grid[:, None] + st * np.arange(n)[None, :]).reshape(-1)
        base = np.zeros((self.taps, self.out_phases), dtype=np.int64)
        tap_m = np.full((self.out_phases, self.taps), -1, dtype=np.int64)  # −1: a padding tap on a zero weight
        for r, phase_taps in enumerate(taps):
            for t, (m, q, j) in enumerate(phase_taps):
                base[t, r] = q * prod(padded) + int(np.dot(j, strides))
                tap_m[r, t] = m
        self.register_buffer("windows", torch.as_tensor((base[:, :, None] + grid[None, None, :]).reshape(-1)), persistent=False)
        # filter index (g, B^d, C_out/g, C_in/g·T) into the original weight (C_in, C_out/g, *k), flattened
        cin, cout_g = conv.in_channels, conv.out_channels // conv.groups
        cin_g = cin // conv.groups
        g, c, o = np.ogrid[:conv.groups, :cin_g, :cout_g]
        rows = ((g * cin_g + c) * cout_g + o) * kernel_size  # (g, C_in/g, C_out/g)
        index = rows[:, None, :, :, None] + tap_m[None, :, None, None, :]  # (g, B^d, C_in/g, C_out/g, T)
        index = np.where(tap_m[None, :, None, None, :] >= 0, index, cin * cout_g * kernel_size)
        self.register_buffer("filter_index", torch.as_tensor(np.ascontiguousarray(index.transpose(0, 1, 3, 2, 4))), persistent=False)
        #: Original state-dict names of the tied tensors (see :func:`symstride.torch.tied.original_names`).
        self.tied_names = dict(tied_names or {})

    def phase_filters(self) -> torch.Tensor:
        """``(groups, B^d, C_out/g, C_in/g·T)``: each output phase's filter, gathered from the original weight."""
        flat = torch.cat([self.weight.reshape(-1), self.weight.new_zeros(1)])
        index = self.filter_index
        return flat[index.reshape(-1)].reshape(*index.shape[:3], -1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch, g = z.shape[0], self.groups
        channels = z.shape[1] // self.in_phases
        flat = z.reshape(batch, channels, -1)
        cols = torch.gather(flat, 2, self.windows.expand(batch, channels, -1))  # (b, C_in, T·B^d·ΠA)
        cols = cols.reshape(batch, g, channels // g, self.taps, self.out_phases, -1).permute(0, 1, 4, 2, 3, 5)
        cols = cols.reshape(batch, g, self.out_phases, -1, cols.shape[-1])  # (b, g, B^d, C_in/g·T, ΠA)
        y = torch.matmul(self.phase_filters(), cols)  # (b, g, B^d, C_out/g, ΠA)
        y = y.permute(0, 1, 3, 2, 4).reshape(batch, -1, *self.out_length)  # channel (g·o_g + o)·B^d + φ(r)
        if self.bias is not None:
            y = y + self.bias.repeat_interleave(self.out_phases).reshape(1, -1, *([1] * len(self.out_length)))
        return y

    def extra_repr(self) -> str:
        return f"layer {self.path}, phases {self.in_phases}→{self.out_phases}, {self.taps} tap(s) per output phase"
