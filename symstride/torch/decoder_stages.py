"""One stage of a decoder at its input resolution, evaluated without its structural zeros.

A strided transposed convolution in a decoder chain (:mod:`symstride.decoder`) becomes a
unit-stride convolution between phase maps whose bank ``W'`` is mostly structural zeros: of the
``R^d`` input phases an output phase reads only the few its taps name.  :class:`TiedTransposedStage`
runs it by its tap map instead: for every output phase ``r`` and each of its taps ``(m, q, j)``
(tap ``m`` of the kernel joins input phase ``q`` to output phase ``r`` at offset ``j``), the
unit-stride window at offset ``j`` of input phase ``q`` is gathered and multiplied by the
original weight's tap ``m`` — one product per class of output phases that use the same kernel
taps, the original's multiply-accumulates.  The weight and bias are the original layer's Parameters (tied); the
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
from .tied import InferenceCache

__all__ = ["TiedTransposedStage", "stage_taps"]


def stage_taps(stage: Stage) -> list[list[tuple[int, int, tuple[int, ...]]]]:
    """For every output phase (flat, row-major), its taps ``(m_flat, q_flat, j)`` in the stage's tap map."""
    kernel = stage.layer.conv.kernel
    per_phase: list[list[tuple[int, int, tuple[int, ...]]]] = [[] for _ in range(prod(stage.out_phases))]
    for m, q, r, j in stage.entries:
        r_flat = int(np.ravel_multi_index(r, stage.out_phases))
        per_phase[r_flat].append((int(np.ravel_multi_index(m, kernel)), int(np.ravel_multi_index(q, stage.in_phases)), tuple(j)))
    return per_phase


class TiedTransposedStage(InferenceCache, nn.Module):
    """A decoder stage on its padded phase-map input ``(b, C_in·R^d, *A_padded)`` (channel
    ``c·R^d + φ(q)``), giving ``(b, C_out·B^d, *A_out)`` (channel ``o·B^d + φ(r)``).

    Output phases whose taps use the same kernel entries (in the same order) share one filter:
    with ``B = s·R`` there are at most ``s^d`` such classes, whatever ``R``.  Each class is one
    gather of its windows and one product with the original weight's columns of its taps.
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
        strides = np.cumprod((1, *tuple(padded)[::-1]))[:-1][::-1]
        grid = np.zeros(1, dtype=np.int64)
        for n, st in zip(self.out_length, strides):
            grid = (grid[:, None] + st * np.arange(n)[None, :]).reshape(-1)
        classes: dict[tuple[int, ...], list[int]] = {}
        taps = stage_taps(stage)
        for r, phase_taps in enumerate(taps):
            classes.setdefault(tuple(m for m, _, _ in phase_taps), []).append(r)
        #: per class: (kernel entries m of its taps, its output phases)
        self.classes = [(list(ms), rs) for ms, rs in classes.items()]
        for k, (ms, rs) in enumerate(self.classes):
            base = np.array([[q * prod(padded) + int(np.dot(j, strides)) for _, q, j in taps[r]] for r in rs],
                            dtype=np.int64).reshape(len(rs), len(ms))
            windows = base.T[:, :, None] + grid[None, None, :]  # (T, n, ΠA): tap-major, then phase, then sample
            self.register_buffer(f"windows_{k}", torch.as_tensor(windows.reshape(-1)), persistent=False)
            self.register_buffer(f"taps_{k}", torch.as_tensor(np.array(ms, dtype=np.int64)), persistent=False)
            self.register_buffer(f"phases_{k}", torch.as_tensor(np.array(rs, dtype=np.int64)), persistent=False)
        #: Original state-dict names of the tied tensors (see :func:`symstride.torch.tied.original_names`).
        self.tied_names = dict(tied_names or {})

    def class_filter(self, k: int) -> torch.Tensor:
        """``(groups, C_out/g, C_in/g·T)``: the filter class ``k`` shares, gathered from the original weight."""
        def build() -> torch.Tensor:
            w = self.weight
            cin, cout_g, g = w.shape[0], w.shape[1], self.groups
            view = w.reshape(g, cin // g, cout_g, -1).permute(0, 2, 1, 3)  # (g, C_out/g, C_in/g, K)
            return view[..., getattr(self, f"taps_{k}")].reshape(g, cout_g, -1)
        return self.prepared(f"filter_{k}", [self.weight], build)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch, g = z.shape[0], self.groups
        channels = z.shape[1] // self.in_phases
        flat = z.reshape(batch, channels, -1)
        out = None
        samples = prod(self.out_length)
        for k, (ms, rs) in enumerate(self.classes):
            windows = getattr(self, f"windows_{k}")
            cols = torch.gather(flat, 2, windows.expand(batch, channels, -1))  # (b, C_in, T·n·ΠA)
            cols = cols.reshape(batch, g, channels // g * len(ms), len(rs) * samples)
            y = torch.matmul(self.class_filter(k), cols)  # (b, g, C_out/g, n·ΠA); zeros for phases no tap reaches
            y = y.reshape(batch, -1, len(rs), samples)
            if len(self.classes) == 1:
                out = y
                break
            if out is None:
                out = y.new_empty(batch, y.shape[1], self.out_phases, y.shape[-1])
            out.index_copy_(2, getattr(self, f"phases_{k}"), y)
        y = out.reshape(batch, -1, *self.out_length)  # channel (g·o_g + o)·B^d + φ(r)
        if self.bias is not None:
            y = y + self.bias.repeat_interleave(self.out_phases).reshape(1, -1, *([1] * len(self.out_length)))
        return y

    def extra_repr(self) -> str:
        return f"layer {self.path}, phases {self.in_phases}→{self.out_phases}, {len(self.classes)} filter class(es)"
