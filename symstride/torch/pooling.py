"""Strided max and average pooling as unit-stride reductions of phase slices (Theorem 2 for poolings).

Pooling reduces axis by axis: along each axis the window maximum (or sum) over the ``k`` taps,
each tap a phase slice ``x[δm :: s]`` — the per-phase window maxima and the maximum across
phases, in one pass per axis.
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from typing import Any

import torch
from torch import nn

from ..core.params import ConvSpec
from .padding import pad_to

__all__ = ["pool_spec", "DestridedPool"]


def pool_spec(kernel_size: Any, stride: Any, padding: Any, dilation: Any, ndim: int) -> ConvSpec:
    """A one-channel :class:`ConvSpec` holding a pooling window's geometry (``stride=None`` means the kernel)."""
    probe = ConvSpec.create(kernel=kernel_size, ndim=ndim)
    stride = probe.kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    return ConvSpec.create(kernel=probe.kernel, stride=stride, padding=padding, dilation=dilation, ndim=ndim)


def _pool_length(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size (``pooling_output_shape``), ceil mode included."""
    span = d * (k - 1) + 1
    if p > span // 2:
        raise SymstrideError(f"pooling padding {p} must be at most half of the (dilated) window {span}")
    out = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window must start inside the input or its left padding
    if out < 1:
        raise SymstrideError(f"the pooling window (span {span}) does not fit the padded input of size {n + 2 * p}")
    return out


class DestridedPool(nn.Module):
    """A strided max or average pooling as unit-stride reductions of phase slices.

    Axis by axis, the window maximum (or sum) over the ``k`` taps of the axis, each tap the
    phase slice ``x[δm : : s]`` — per-phase window maxima and the maximum across phases, in one
    pass per axis (a box window is a product of per-axis windows).  Max pads with ``-inf``, as
    PyTorch; average divides the sums by PyTorch's divisor per output position
    (``count_include_pad``, ``ceil_mode`` and ``divisor_override`` honoured).
    """

    def __init__(
        self,
        kind: str,
        spec: ConvSpec,
        *,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        if kind not in ("max", "avg"):
            raise SymstrideError(f"kind must be 'max' or 'avg', got {kind!r}")
        for axis, (l, r) in enumerate(spec.padding):
            if l != r:
                raise SymstrideError(f"pooling padding must be symmetric, got {l}:{r} (axis {axis})")
        if kind == "avg" and any(d != 1 for d in spec.dilation):
            raise SymstrideError("average pooling has no dilation")
        self.kind = kind
        self.spec = spec
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override
        self._divisors: dict[tuple, torch.Tensor] = {}

    def _divisor(self, sizes: tuple[int, ...], n_out: list[int], like: torch.Tensor) -> torch.Tensor | float:
        if self.divisor_override:
            return float(self.divisor_override)
        key = (*sizes, like.dtype, like.device)
        if key not in self._divisors:
            total = None
            for axis, (n, m, k, s, (p, _)) in enumerate(zip(sizes, n_out, self.spec.kernel, self.spec.stride, self.spec.padding)):
                starts = [s * i - p for i in range(m)]
                if self.count_include_pad:
                    counts = [min(a + k, n + p) - a for a in starts]
                else:
                    counts = [min(a + k, n) - max(a, 0) for a in starts]
                shape = [1] * len(sizes)
                shape[axis] = m
                vec = torch.tensor(counts, dtype=like.dtype, device=like.device).reshape(shape)
                total = vec if total is None else total * vec
            self._divisors[key] = total
        return self._divisors[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        sizes = tuple(x.shape[2:])
        if len(sizes) != spec.ndim:
            raise SymstrideError(f"input of shape {tuple(x.shape)} does not have {spec.ndim} spatial axes")
        n_out = [
            _pool_length(n, k, s, p[0], d, self.ceil_mode)
            for n, k, s, p, d in zip(sizes, spec.kernel, spec.stride, spec.padding, spec.dilation)
        ]
        lengths = [s * (n - 1) + d * (k - 1) + 1 for n, k, s, d in zip(n_out, spec.kernel, spec.stride, spec.dilation)]
        fill = float("-inf") if self.kind == "max" else 0.0
        out = pad_to(x, spec.padding, lengths, "zeros", fill)
        for axis, (k, s, d, n) in enumerate(zip(spec.kernel, spec.stride, spec.dilation, n_out)):
            index = [slice(None)] * out.dim()
            acc = None
            for m in range(k):  # tap m of this axis reads phase (d·m mod s), shifted by d·m div s
                index[2 + axis] = slice(d * m, d * m + s * (n - 1) + 1, s)
                tap = out[tuple(index)]
                if acc is None:
                    acc = tap
                else:
                    acc = torch.maximum(acc, tap) if self.kind == "max" else acc + tap
            out = acc
        if self.kind == "avg":
            out = out / self._divisor(sizes, n_out, out)
        return out

    def extra_repr(self) -> str:
        k, s, p = self.spec.kernel, self.spec.stride, [l for l, _ in self.spec.padding]
        text = f"{self.kind}, kernel={k}, stride={s}, padding={tuple(p)}"
        if self.kind == "max" and any(d != 1 for d in self.spec.dilation):
            text += f", dilation={self.spec.dilation}"
        if self.ceil_mode:
            text += ", ceil_mode=True"
        if self.kind == "avg" and not self.count_include_pad:
            text += ", count_include_pad=False"
        if self.divisor_override:
            text += f", divisor_override={self.divisor_override}"
        return text
