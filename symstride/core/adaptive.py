"""The windows of adaptive pooling, and whether they stride.

PyTorch's adaptive pooling from ``n`` samples to ``m`` reads, for output ``i``, the window
``[floor(i·n/m), ceil((i+1)·n/m))`` (``start_index``/``end_index`` in ATen's
``AdaptivePooling.h``).  Its geometry depends on the input size, so a model's example input
fixes it: :func:`adaptive_windows` lists the windows, :func:`window_stride` says how far
consecutive windows move (the stride the pooling has *in effect*: 2 for 12 → 6, although the
operator has no ``stride`` argument), and :func:`uniform_window` recognises the windows of an
ordinary pooling — start ``s·i``, length ``k`` for every ``i`` — which is then converted with
Theorem 2 like any strided pooling.  Integer arithmetic only.

>>> adaptive_windows(12, 6)[:3]
[(0, 2), (2, 4), (4, 6)]
>>> uniform_window(12, 6), uniform_window(7, 3), uniform_window(12, 5)
((2, 2), (3, 2), None)
>>> window_stride(12, 5), window_stride(2, 7), window_stride(5, 1)
(3, 1, 1)
"""

from __future__ import annotations

from .errors import SymstrideError

from .params import as_int

__all__ = ["adaptive_windows", "window_stride", "uniform_window"]


def _sizes(n_in: int, n_out: int) -> tuple[int, int]:
    n_in, n_out = as_int(n_in, "input size"), as_int(n_out, "output size")
    if n_in < 1 or n_out < 1:
        raise SymstrideError(f"adaptive pooling needs positive sizes, got input {n_in} and output {n_out}")
    return n_in, n_out


def adaptive_windows(n_in: int, n_out: int) -> list[tuple[int, int]]:
    """The half-open window ``[start, end)`` that each of the ``n_out`` outputs reduces.

    >>> adaptive_windows(5, 3)
    [(0, 2), (1, 4), (3, 5)]
    """
    n_in, n_out = _sizes(n_in, n_out)
    return [((i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)) for i in range(n_out)]


def window_stride(n_in: int, n_out: int) -> int:
    """The largest step between consecutive window starts (1 when there is one output).

    A step above 1 means the pooling skips input positions between window starts: it
    subsamples, whatever its arguments say.

    >>> window_stride(416 // 32 - 1, 6)   # AlexNet's adaptive pooling 12 → 6 at 416×416
    2
    """
    windows = adaptive_windows(n_in, n_out)
    return max([1] + [b[0] - a[0] for a, b in zip(windows, windows[1:])])


def uniform_window(n_in: int, n_out: int) -> tuple[int, int] | None:
    """``(k, s)`` when the windows are those of a pooling with kernel ``k``, stride ``s``, no padding.

    That is: output ``i`` reads ``[s·i, s·i + k)`` for every ``i``.  With a single output the
    stride is immaterial and reported as 1.  None when the windows are not uniform (their
    lengths or steps vary, as for 12 → 5).

    >>> uniform_window(8, 8), uniform_window(6, 1), uniform_window(2, 7), uniform_window(1, 6)
    ((1, 1), (6, 1), None, None)
    """
    windows = adaptive_windows(n_in, n_out)
    k = windows[0][1] - windows[0][0]
    s = windows[1][0] - windows[0][0] if len(windows) > 1 else 1
    if s >= 1 and all(start == s * i and end - start == k for i, (start, end) in enumerate(windows)):
        return k, s
    return None
