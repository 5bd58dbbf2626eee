"""Max and average pooling in NumPy with PyTorch semantics (``ceil_mode=False``).

Both slide a window of ``k`` taps (dilation ``δ``, stride ``s``) over the input padded by ``p``
on each side; max pooling pads with ``−∞`` (padding never wins), average pooling pads with
zeros and divides by ``Π k`` (``count_include_pad=True``) or by the number of taps that fall
inside the input (``count_include_pad=False``).

>>> import numpy as np
>>> x = np.arange(5.0).reshape(1, 1, 5)
>>> max_pool(x, kernel=(3,), stride=(2,), padding=(1,))
array([[[1., 3., 4.]]])
>>> avg_pool(x, kernel=(3,), stride=(2,), padding=(1,), count_include_pad=False)
array([[[0.5, 2. , 3.5]]])
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from ..core.indexing import output_length

__all__ = ["max_pool", "avg_pool", "tap_windows", "inside_counts"]


def tap_windows(kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int], n_out: Sequence[int]):
    """``(m, slices)`` for every tap ``m``: the slices of the padded input read at all outputs."""
    for m in itertools.product(*map(range, kernel)):
        yield m, (Ellipsis, *(slice(d * mm, d * mm + s * (n - 1) + 1, s) for mm, s, d, n in zip(m, stride, dilation, n_out)))


def _geometry(x, kernel, stride, padding, dilation):
    dilation = dilation or (1,) * len(kernel)
    n_out = tuple(output_length(n, k, s, (p, p), d) for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    return dilation, n_out


def max_pool(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
             dilation: Sequence[int] | None = None) -> np.ndarray:
    """``torch.nn.functional.max_pool{1,2,3}d`` (padding with ``−∞``)."""
    dilation, n_out = _geometry(x, kernel, stride, padding, dilation)
    xp = np.pad(x, [(0, 0), (0, 0), *((p, p) for p in padding)], constant_values=-np.inf)
    out = np.full(x.shape[:2] + n_out, -np.inf)
    for _, window in tap_windows(kernel, stride, dilation, n_out):
        np.maximum(out, xp[window], out=out)
    return out


def inside_counts(n_in: int, kernel: int, stride: int, padding: int, n_out: int, dilation: int = 1) -> np.ndarray:
    """Per output position, how many of the window's taps fall inside ``[0, n_in)`` (one axis)."""
    n = np.arange(n_out)[:, None]
    pos = stride * n + dilation * np.arange(kernel)[None, :] - padding
    return ((pos >= 0) & (pos < n_in)).sum(axis=1)


def avg_pool(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
             count_include_pad: bool = True) -> np.ndarray:
    """``torch.nn.functional.avg_pool{1,2,3}d`` (zero padding)."""
    _, n_out = _geometry(x, kernel, stride, padding, None)
    xp = np.pad(x, [(0, 0), (0, 0), *((p, p) for p in padding)])
    out = np.zeros(x.shape[:2] + n_out)
    for _, window in tap_windows(kernel, stride, (1,) * len(kernel), n_out):
        out += xp[window]
    if count_include_pad:
        return out / np.prod(kernel)
    counts = np.ones(n_out)
    for axis, (n, k, s, p, no) in enumerate(zip(x.shape[2:], kernel, stride, padding, n_out)):
        shape = [1] * len(n_out)
        shape[axis] = no
        counts = counts * inside_counts(n, k, s, p, no).reshape(shape)
    return out / counts
