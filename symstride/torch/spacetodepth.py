"""N-D space-to-depth and depth-to-space as PyTorch modules, in both channel layouts.

PyTorch's ``PixelUnshuffle``/``PixelShuffle`` are 2-D only and channel-major; these work on any
number of spatial axes, with per-axis strides, in either layout of
:data:`symstride.core.indexing.LAYOUTS`:

- ``layout="pytorch"``: ``z[n, c·P + φ(r), a] = x[n, c, s·a + r]`` (``pixel_unshuffle``);
- ``layout="tf"``: ``z[n, φ(r)·C + c, a] = x[n, c, s·a + r]`` (TensorFlow/ONNX ``SpaceToDepth``).

``SpaceToDepth`` can keep only some phases (in the order given): the equivalent layer of a
strided convolution drops the phases that carry no weight.
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from math import prod
from typing import Sequence

import torch
from torch import nn

from ..core.indexing import check_layout
from ..core.params import per_axis

__all__ = ["SpaceToDepth", "DepthToSpace"]


class _Resample(nn.Module):
    """Shared bookkeeping: a stride per spatial axis (an int broadcasts) and a layout."""

    def __init__(self, stride: int | Sequence[int], layout: str = "pytorch") -> None:
        super().__init__()
        self.layout = check_layout(layout)
        if isinstance(stride, Sequence):
            self.stride = per_axis(stride, "stride", len(stride), minimum=1)
        else:
            self.stride = per_axis(stride, "stride", 1, minimum=1)[0]

    def strides(self, ndim: int) -> tuple[int, ...]:
        """The per-axis strides for a tensor with ``ndim`` spatial axes."""
        if isinstance(self.stride, int):
            return (self.stride,) * ndim
        if len(self.stride) != ndim:
            raise SymstrideError(
                f"{type(self).__name__} has strides for {len(self.stride)} spatial axes "
                f"but the input has {ndim}"
            )
        return self.stride

    def extra_repr(self) -> str:
        return f"stride={self.stride}, layout={self.layout!r}"


class SpaceToDepth(_Resample):
    """Split every spatial axis into its ``s`` phases and stack them as channels.

    ``phases`` (optional) lists the phase vectors ``r`` to keep, in output order; the default
    keeps all ``P = Π s`` in row-major order φ.  Every spatial size must be divisible by its
    stride.

    >>> import torch
    >>> x = torch.arange(8.).reshape(1, 1, 8)
    >>> SpaceToDepth(2)(x)
    tensor([[[0., 2., 4., 6.],
             [1., 3., 5., 7.]]])
    >>> SpaceToDepth(2, phases=[(1,)])(x)
    tensor([[[1., 3., 5., 7.]]])
    """

    def __init__(
        self,
        stride: int | Sequence[int],
        layout: str = "pytorch",
        phases: Sequence[Sequence[int]] | None = None,
    ) -> None:
        super().__init__(stride, layout)
        self.phases = None if phases is None else tuple(tuple(int(v) for v in r) for r in phases)
        if self.phases is not None and not self.phases:
            raise SymstrideError("SpaceToDepth needs at least one phase to keep")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *sizes = x.shape
        s = self.strides(len(sizes))
        for axis, (n, sa) in enumerate(zip(sizes, s)):
            if n % sa:
                raise SymstrideError(
                    f"space-to-depth needs each spatial size divisible by its stride: "
                    f"{n} by {sa} (axis {axis})"
                )
        coarse = [n // sa for n, sa in zip(sizes, s)]
        if self.phases is None:
            return self._all_phases(x, s, coarse)
        kept = []
        for r in self.phases:
            if len(r) != len(s) or any(not 0 <= ra < sa for ra, sa in zip(r, s)):
                raise SymstrideError(f"phase {r} is not a phase of stride {s}")
            kept.append(x[(slice(None), slice(None), *(slice(ra, None, sa) for ra, sa in zip(r, s)))])
        dim = 2 if self.layout == "pytorch" else 1
        return torch.stack(kept, dim=dim).reshape(b, c * len(kept), *coarse)

    def _all_phases(self, x: torch.Tensor, s: tuple[int, ...], coarse: list[int]) -> torch.Tensor:
        b, c = x.shape[:2]
        ndim = len(s)
        split = [b, c]
        for n, sa in zip(coarse, s):
            split += [n, sa]
        blocks = [3 + 2 * a for a in range(ndim)]
        grid = [2 + 2 * a for a in range(ndim)]
        order = [0, 1, *blocks, *grid] if self.layout == "pytorch" else [0, *blocks, 1, *grid]
        return x.reshape(split).permute(order).reshape(b, c * prod(s), *coarse)

    def extra_repr(self) -> str:
        kept = "" if self.phases is None else f", phases={list(self.phases)}"
        return super().extra_repr() + kept


class DepthToSpace(_Resample):
    """Inverse of :class:`SpaceToDepth` with all phases (``pixel_shuffle`` for ``layout="pytorch"``).

    >>> import torch
    >>> x = torch.randn(2, 3, 4, 6, 5)
    >>> s2d, d2s = SpaceToDepth((2, 3, 1), layout="tf"), DepthToSpace((2, 3, 1), layout="tf")
    >>> torch.equal(d2s(s2d(x)), x)
    True
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b, cp, *sizes = z.shape
        s = self.strides(len(sizes))
        ndim = len(s)
        n_phases = prod(s)
        if cp % n_phases:
            raise SymstrideError(f"depth-to-space needs channels divisible by Π s = {n_phases}, got {cp}")
        c = cp // n_phases
        if self.layout == "pytorch":
            y = z.reshape(b, c, *s, *sizes)
            ch, blocks = 1, [2 + a for a in range(ndim)]
        else:
            y = z.reshape(b, *s, c, *sizes)
            ch, blocks = 1 + ndim, [1 + a for a in range(ndim)]
        grid = [2 + ndim + a for a in range(ndim)]
        order = [0, ch] + [ax for pair in zip(grid, blocks) for ax in pair]
        return y.permute(order).reshape(b, c, *(n * sa for n, sa in zip(sizes, s)))
