"""Theorem 3's index arithmetic: layers of a strided network in the multi-rate phase domain.

Per axis, a layer with stride ``s`` is followed by the stride ``R = Π_{later} s_i`` of the
layers after it, so its output is represented by ``R`` phases and its input by ``B = s·R``
phases: ``z[c·B^d + φ(r), a] = x[c, B·a + r]`` (channel-major, as ``pixel_unshuffle``).  Output
sample ``n = R·a + q`` of a kernel tap ``m`` reads input position ``s·n + δ·m − p``
``= B·a + s·q + δ·m − p``; writing ``s·q + δ·m − p + B·e = B·j + r`` (Euclidean division — the rule of :mod:`symstride.core.phasemap` — with
``e = ceil(p/B)`` phase samples of left zero padding so that ``B·j + r ≥ 0``) the read is phase
``r`` of the input at phase-domain offset ``a + j − e``.  Hence the layer is a unit-stride
layer in the phase domain with kernel ``K' = max j + 1`` and the tied filter bank
``W'[o·R^d + φ(q), c·B^d + φ(r), j] = w[o, c, m]``: each original weight lands once for every
output phase ``q``, i.e. ``R^d`` times.

>>> m = axis_map(kernel=3, stride=2, dilation=1, pad_left=1, out_phases=2)
>>> m.in_phases, m.pad_phase, m.kernel_eq
(4, 1, 2)
>>> m.remainder, m.shift      # r[q][m] and j[q][m]
(((3, 0, 1), (1, 2, 3)), ((0, 1, 1), (1, 1, 1)))
>>> phase_length(9, 4), mask_keep((9,), (4,), (3,)).astype(int).tolist()
(3, [[1, 1, 1], [1, 1, 0], [1, 1, 0], [1, 1, 0]])
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import NamedTuple, Sequence

import numpy as np

from ..core.indexing import bank_gather_index
from ..core.phasemap import AxisPhaseMap, PhaseMap, axis_phase_map

__all__ = [
    "PhaseTap",
    "PhaseBasis",
    "axis_map",
    "phase_length",
    "phase_taps",
    "tied_weight_index",
    "phase_tap_arrays",
    "TapArrays",
    "phase_padding",
    "mask_keep",
]


def phase_length(n: int, phases_: int) -> int:
    """Phase-domain length ``A = ceil(N / R)`` holding a feature map of true length ``N``."""
    return -(-n // phases_)


def axis_map(kernel: int, stride: int, dilation: int, pad_left: int, out_phases: int) -> AxisPhaseMap:
    """The tap map ``(q, m) ↦ (r, j)`` of one axis: the strided rule of :mod:`symstride.core.phasemap` with ``R = out_phases``."""
    return axis_phase_map(kernel, stride, dilation, pad_left, out_phases, "strided")


class PhaseTap(NamedTuple):
    """Tap ``m`` of output phase ``φ(q)`` reads input phase ``φ(r)`` at offset ``j``."""

    out_phase: int
    tap: tuple[int, ...]
    in_phase: int
    offset: tuple[int, ...]


def phase_taps(maps: Sequence[AxisPhaseMap]) -> list[PhaseTap]:
    """All ``R^d · Π k`` taps of a layer, from the layer's :class:`~symstride.core.phasemap.PhaseMap` (row-major φ)."""
    pm = PhaseMap(tuple(maps))
    m, r, q, j = pm.arrays
    return [PhaseTap(int(qq), t.tap, int(rr), t.offset) for t, qq, rr in zip(pm.taps, q, r)]


def phase_tap_arrays(taps: Sequence[PhaseTap]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(φ(q), φ(r), m, j)`` of every tap as integer arrays (``m`` and ``j`` one row per axis)."""
    if isinstance(taps, TapArrays):
        return taps.arrays
    q = np.array([t.out_phase for t in taps], dtype=np.int64)
    r = np.array([t.in_phase for t in taps], dtype=np.int64)
    m = np.array([t.tap for t in taps], dtype=np.int64).reshape(len(q), -1).T
    j = np.array([t.offset for t in taps], dtype=np.int64).reshape(len(q), -1).T
    return q, r, m, j


class TapArrays(tuple):
    """A tuple of :class:`PhaseTap` that keeps its integer arrays (built once, reused per block)."""

    @property
    def arrays(self):
        cached = self.__dict__.get("_arrays")
        if cached is None:
            cached = self.__dict__["_arrays"] = phase_tap_arrays(tuple(self))
        return cached


def tied_weight_index(
    weight_shape: Sequence[int], maps: Sequence[AxisPhaseMap], taps: Sequence[PhaseTap] | None = None, rows: slice | None = None
) -> np.ndarray:
    """Gather index of the tied bank: ``W'.flat = w.flat[index]``, −1 for structural zeros.

    ``W'`` has shape ``(C_out·R^d, C_in/groups·B^d, *K')``; ``rows`` restricts it to a block of
    output channels (the whole bank can be large).  ``taps`` defaults to :func:`phase_taps`
    (passing another list builds the bank that list claims).

    >>> m = axis_map(kernel=3, stride=2, dilation=1, pad_left=0, out_phases=1)
    >>> tied_weight_index((1, 1, 3), [m]).tolist()     # phase 0: [w0, w2], phase 1: [w1, 0]
    [[[0, 2], [1, -1]]]
    """
    q, r, m_arr, j_arr = phase_tap_arrays(phase_taps(maps) if taps is None else taps)
    return bank_gather_index(weight_shape, 1, "strided", m_arr, r, q, j_arr, prod(m.in_phases for m in maps),
                             prod(m.out_phases for m in maps), tuple(m.kernel_eq for m in maps), rows=rows)


def phase_padding(maps: Sequence[AxisPhaseMap], in_length: Sequence[int], out_length: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Phase-domain ``(left, right)`` padding giving ``out_length`` outputs; a negative right crops."""
    return tuple((m.pad_phase, a_out + m.kernel_eq - 1 - a_in - m.pad_phase) for m, a_in, a_out in zip(maps, in_length, out_length))


def mask_keep(size: Sequence[int], phases_: Sequence[int], length: Sequence[int]) -> np.ndarray:
    """Boolean ``(R^d, *A)``: phase ``φ(q)`` sample ``a`` lies inside the true map, ``R·a + q < N`` per axis."""
    d = len(size)
    keep = np.ones((*phases_, *length), dtype=bool)
    for axis, (n, r, a) in enumerate(zip(size, phases_, length)):
        inside = (r * np.arange(a)[None, :] + np.arange(r)[:, None]) < n  # (R_axis, A_axis)
        shape = [1] * (2 * d)
        shape[axis], shape[d + axis] = r, a
        keep &= inside.reshape(shape)
    return keep.reshape(prod(phases_), *length)


@dataclass(frozen=True)
class PhaseBasis:
    """How a feature map is held: ``channels·Π R`` phase channels of phase-domain size ``length``.

    Sample ``(c·R^d + φ(q), a)`` is the true sample ``(c, R·a + q)`` when ``R·a + q < size`` on
    every axis, and lies past the end of the feature map otherwise.
    """

    channels: int
    size: tuple[int, ...]  #: true spatial size N
    phases: tuple[int, ...]  #: R per axis
    length: tuple[int, ...]  #: A per axis

    @classmethod
    def of(cls, channels: int, size: Sequence[int], phases_: Sequence[int]) -> "PhaseBasis":
        """The tightest basis: ``A = ceil(N / R)``."""
        return cls(channels, tuple(size), tuple(phases_), tuple(phase_length(n, r) for n, r in zip(size, phases_)))

    @property
    def count(self) -> int:
        """Number of phases ``Π R``."""
        return prod(self.phases)

    @property
    def has_overhang(self) -> bool:
        """Whether some phase samples lie past the end of the true feature map (``R ∤ N`` on an axis)."""
        return any(r * a > n for n, r, a in zip(self.size, self.phases, self.length))
