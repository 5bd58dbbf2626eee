"""The live taps of each phase of a strided convolution, as per-axis progressions.

In the equivalent bank ``W'`` of Theorem 2 the block of phase ``r`` is non-zero exactly on a
box of offsets with a constant step per axis; :func:`phase_windows` reads those boxes off
symstride's tap map, so the PyTorch forms and the ONNX pooling rewrite slice and convolve only what
carries weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from typing import Sequence

from .errors import SymstrideError
from .indexing import Tap, phase_index, phases, tap_map
from .params import ConvSpec

__all__ = ["PhaseWindow", "phase_windows"]


@dataclass(frozen=True)
class PhaseWindow:
    """The live taps of one phase ``r``: per axis the offsets ``j = start + step·t``, ``t < count``.

    In the equivalent bank the block of phase ``r`` is non-zero exactly on these offsets; they
    form a progression because ``δ·m = s·j + r`` fixes ``m`` modulo ``s/gcd(δ, s)``.
    """

    phase: tuple[int, ...]
    flat: int
    start: tuple[int, ...]
    count: tuple[int, ...]
    step: tuple[int, ...]

    def extent(self) -> tuple[int, ...]:
        """Offsets spanned per axis: ``step·(count − 1) + 1``."""
        return tuple(st * (c - 1) + 1 for st, c in zip(self.step, self.count))


def phase_windows(spec: ConvSpec, taps: Sequence[Tap] | None = None) -> tuple[PhaseWindow, ...]:
    """The live phases of ``spec`` (row-major φ order) with their exact windows, grouped from ``taps``
    (default :func:`~symstride.core.indexing.tap_map`); empty phases are left out, and each phase's taps
    must fill a box with a constant step per axis.

    >>> spec = ConvSpec.create(kernel=3, stride=2, dilation=3)
    >>> [(w.phase, w.start, w.count, w.step) for w in phase_windows(spec)]
    [((0,), (0,), (2,), (3,)), ((1,), (1,), (1,), (1,))]
    """
    offsets: dict[tuple[int, ...], list[set[int]]] = {}
    counts: dict[tuple[int, ...], int] = {}
    for t in tap_map(spec) if taps is None else taps:
        axes = offsets.setdefault(t.phase, [set() for _ in range(spec.ndim)])
        for a, j in enumerate(t.offset):
            axes[a].add(j)
        counts[t.phase] = counts.get(t.phase, 0) + 1
    windows = []
    for r in phases(spec.stride):
        if r not in offsets:
            continue
        start, count, step = [], [], []
        for a, js in enumerate(offsets[r]):
            js = sorted(js)
            st = js[1] - js[0] if len(js) > 1 else 1
            if js != list(range(js[0], js[-1] + 1, st)):
                raise SymstrideError(f"internal: phase {r} offsets {js} on axis {a} are not a progression")
            start.append(js[0])
            count.append(len(js))
            step.append(st)
        if prod(count) != counts[r]:
            raise SymstrideError(f"the taps of phase {r} do not fill their box of offsets ({counts[r]} taps, box {tuple(count)})")
        windows.append(PhaseWindow(r, phase_index(r, spec.stride), tuple(start), tuple(count), tuple(step)))
    return tuple(windows)
