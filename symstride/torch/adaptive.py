"""Adaptive pooling at the sizes of the example input: kept, converted, or refused.

Adaptive pooling has no ``stride`` argument, yet from ``n`` to ``m`` samples its windows move by
up to ``ceil(n/m)`` samples (:mod:`symstride.core.adaptive`).  Once the example input fixes
``n``, :func:`adaptive_rule` decides per layer:

- the windows never move by more than one sample (global pooling, ``n ≤ m``, ``n = m``): the
  layer does not stride and is kept as it is (None);
- the windows are those of an ordinary pooling (start ``s·i``, length ``k`` — 12 → 6 is kernel 2,
  stride 2; 7 → 3 is kernel 3, stride 2): an :class:`AdaptivePoolAt` holding the Theorem 2
  :class:`~symstride.torch.pooling.DestridedPool` with that kernel and stride;
- the windows stride with varying steps or lengths (12 → 5): no stride-free equivalent,
  :class:`SymstrideError` saying so.

Pooling over a box is pooling along each axis in turn, so an axis whose windows do not stride
but are not uniform (2 → 7) is left to an adaptive pooling applied after the strided axes are
converted.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..core.adaptive import adaptive_windows, uniform_window, window_stride
from ..core.errors import SymstrideError
from .pooling import DestridedPool, pool_spec

__all__ = ["AdaptivePoolAt", "adaptive_rule", "output_sizes"]

_ADAPTIVE = {
    ("avg", 1): F.adaptive_avg_pool1d, ("avg", 2): F.adaptive_avg_pool2d, ("avg", 3): F.adaptive_avg_pool3d,
    ("max", 1): F.adaptive_max_pool1d, ("max", 2): F.adaptive_max_pool2d, ("max", 3): F.adaptive_max_pool3d,
}


def output_sizes(output_size: Any, sizes: Sequence[int]) -> tuple[int, ...]:
    """PyTorch's ``output_size`` argument per axis (an int for all axes, None keeping an axis's size).

    >>> output_sizes((None, 7), (12, 2)), output_sizes(6, (12, 12))
    ((12, 7), (6, 6))
    """
    values = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * len(sizes)
    if len(values) != len(sizes):
        raise SymstrideError(f"output_size {output_size!r} does not have {len(sizes)} axes")
    return tuple(int(n) if v is None else int(v) for v, n in zip(values, sizes))


class AdaptivePoolAt(nn.Module):
    """Adaptive pooling with uniform windows, as the stride-free pooling it equals at ``sizes``.

    The geometry holds only for inputs with spatial sizes ``sizes`` (those of the example
    input); any other size raises ``ValueError`` rather than computing a different pooling.

    >>> import torch
    >>> at = adaptive_rule("avg", (12, 12), 6)
    >>> at
    AdaptivePoolAt(
      sizes=(12, 12), output=(6, 6)
      (pool): DestridedPool(avg, kernel=(2, 2), stride=(2, 2), padding=(0, 0))
    )
    >>> x = torch.randn(1, 2, 12, 12, dtype=torch.float64)
    >>> float((at(x) - torch.nn.functional.adaptive_avg_pool2d(x, 6)).abs().max()) < 1e-15
    True
    """

    def __init__(
        self, kind: str, sizes: Sequence[int], output: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
        rest: Sequence[int | None] = (),
    ) -> None:
        super().__init__()
        self.kind = kind
        self.sizes = tuple(int(n) for n in sizes)
        self.output = tuple(int(m) for m in output)
        self.pool = DestridedPool(kind, pool_spec(tuple(kernel), tuple(stride), 0, 1, len(self.sizes)))
        #: Output sizes of the non-striding adaptive pooling applied afterwards (None: axis done), or ().
        self.rest = tuple(rest)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[2:]) != self.sizes:
            raise SymstrideError(
                f"this adaptive pooling was converted for spatial sizes {self.sizes} (the example input's), "
                f"got an input of shape {tuple(x.shape)}"
            )
        y = self.pool(x)
        if self.rest:
            y = _ADAPTIVE[self.kind, len(self.sizes)](y, self.rest)
        return y

    def extra_repr(self) -> str:
        rest = f", then adaptive to {self.rest}" if self.rest else ""
        return f"sizes={self.sizes}, output={self.output}{rest}"


def adaptive_rule(kind: str, sizes: Sequence[int], output_size: Any) -> AdaptivePoolAt | None:
    """None when adaptive pooling from ``sizes`` to ``output_size`` does not stride, else its equivalent.

    ``kind`` is ``"avg"`` or ``"max"``.  Raises :class:`SymstrideError` when the windows stride
    non-uniformly, naming the axis and its window starts.

    >>> adaptive_rule("avg", (7, 7), 1) is None, adaptive_rule("max", (2, 2), 7) is None
    (True, True)
    >>> adaptive_rule("max", (12,), 5)
    Traceback (most recent call last):
      ...
    symstride.core.errors.SymstrideError: adaptive pooling 12 → 5 (axis 0) strides non-uniformly (window starts [0, 2, 4, 7, 9], steps up to 3): it is no strided pooling, and has no stride-free equivalent here
    """
    if kind not in ("avg", "max"):
        raise SymstrideError(f"kind must be 'avg' or 'max', got {kind!r}")
    sizes = tuple(int(n) for n in sizes)
    out = output_sizes(output_size, sizes)
    steps = [window_stride(n, m) for n, m in zip(sizes, out)]
    if all(step == 1 for step in steps):
        return None
    geometry, rest = [], []
    for axis, (n, m, step) in enumerate(zip(sizes, out, steps)):
        uniform = uniform_window(n, m)
        rest.append(None)
        if uniform is None and step == 1:  # does not stride: left to an adaptive pooling afterwards
            uniform, rest[-1] = (1, 1), m
        if uniform is None:
            starts = [a for a, _ in adaptive_windows(n, m)]
            shown = starts if len(starts) <= 8 else [*starts[:8], "…"]
            raise SymstrideError(
                f"adaptive pooling {n} → {m} (axis {axis}) strides non-uniformly (window starts "
                f"[{', '.join(map(str, shown))}], steps up to {step}): it is no strided pooling, "
                "and has no stride-free equivalent here"
            )
        geometry.append(uniform)
    kept = rest if any(m is not None for m in rest) else ()
    return AdaptivePoolAt(kind, sizes, out, [k for k, _ in geometry], [s for _, s in geometry], kept)
