"""The one multirate phase map: Theorem 3's index rule, which every tap map in symstride derives from.

Per axis, a layer with stride ``s``, dilation ``δ`` and left padding ``p`` relates samples held
in ``R`` phases to samples held in ``B = s·R`` phases by one Euclidean division::

    s·q + δ·m − p = B·D + r,     0 ≤ q < R,  0 ≤ m < k,  0 ≤ r < B.

* **strided** (Theorem 3; Theorem 2 is ``R = 1``, ``p = 0`` after pre-padding): output phase
  ``q`` of tap ``m`` reads input phase ``r`` at phase-domain offset ``j = D + e``, where
  ``e = ceil(p/B)`` samples of left zero padding make ``j ≥ 0``; ``K' = max j + 1``.
* **transposed** (the sub-pixel theorem is ``R = 1``, ``p = 0`` and a crop; a decoder's layer
  reads ``R`` input phases): input phase ``q`` of tap ``m`` feeds output phase ``r``, output
  block ``b`` reading input block ``b − D``; as a cross-correlation the offset is
  ``j = D_max − D`` with ``D_max`` blocks of left padding, ``K' = D_max − D_min + 1``.

:func:`phase_map` combines the axes (phases flattened row-major, as φ); its ``taps`` are the
entries ``(m, φ(q), φ(r), j)`` every filter bank, tied bank and exported mapping is built from,
and :func:`phase_reads` is the one read rule the exact verifiers compare against the layer's own
reads (:mod:`symstride.core.verify`, :mod:`symstride.decoder.equivalent`).

>>> one = phase_map(kernel=(3,), stride=(2,))                  # Theorem 2, k = 3, s = 2
>>> [(t.tap, t.in_phase, t.offset) for t in one.taps], one.kernel_eq
([((0,), (0,), (0,)), ((1,), (1,), (0,)), ((2,), (0,), (1,))], (2,))
>>> up = phase_map(kernel=(3,), stride=(2,), direction="transposed")   # sub-pixel, k = 3, s = 2
>>> [(t.tap, t.out_phase, t.offset) for t in up.taps]
[((0,), (0,), (1,)), ((1,), (1,), (1,)), ((2,), (0,), (0,))]
>>> net = axis_phase_map(kernel=3, stride=2, dilation=1, pad_left=1, phases=2)   # Theorem 3, R = 2
>>> net.in_phases, net.pad_phase, net.kernel_eq, net.remainder, net.shift
(4, 1, 2, ((3, 0, 1), (1, 2, 3)), ((0, 1, 1), (1, 1, 1)))
"""

from __future__ import annotations

from .errors import SymstrideError

import itertools
from dataclasses import dataclass
from functools import cached_property
from math import prod
from typing import NamedTuple, Sequence

import numpy as np

__all__ = ["DIRECTIONS", "AxisPhaseMap", "axis_phase_map", "PhaseMapTap", "PhaseMap", "phase_map", "phase_reads", "flat_phase"]

#: ``"strided"``: ``R`` output phases read ``B = s·R`` input phases; ``"transposed"``: ``R`` input
#: phases feed ``B`` output phases.
DIRECTIONS = ("strided", "transposed")


def _check_direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise SymstrideError(f"unknown direction {direction!r}; expected one of {', '.join(map(repr, DIRECTIONS))}")
    return direction


@dataclass(frozen=True)
class AxisPhaseMap:
    """One axis of the rule ``s·q + δ·m − p = B·D + r``: ``quotient[q][m] = D``, ``remainder[q][m] = r``."""

    direction: str
    kernel: int
    stride: int
    dilation: int
    pad_left: int
    phases: int  #: R: the phases on the side that is not split further
    quotient: tuple[tuple[int, ...], ...]
    remainder: tuple[tuple[int, ...], ...]

    @property
    def block(self) -> int:
        """``B = s·R``."""
        return self.stride * self.phases

    @property
    def in_phases(self) -> int:
        return self.block if self.direction == "strided" else self.phases

    @property
    def out_phases(self) -> int:
        return self.phases if self.direction == "strided" else self.block

    @property
    def pad_phase(self) -> int:
        """Left zero padding in the phase domain: ``e = ceil(p/B)`` (strided) or ``D_max`` (transposed)."""
        if self.direction == "strided":
            return -(-self.pad_left // self.block)
        return max(max(row) for row in self.quotient)

    @property
    def shift(self) -> tuple[tuple[int, ...], ...]:
        """The offset ``j[q][m]`` in the unit-stride phase-domain kernel."""
        e = self.pad_phase
        if self.direction == "strided":
            return tuple(tuple(d + e for d in row) for row in self.quotient)
        return tuple(tuple(e - d for d in row) for row in self.quotient)

    @property
    def kernel_eq(self) -> int:
        """``K'``: the unit-stride kernel size on this axis."""
        return max(max(row) for row in self.shift) + 1

    def entries(self) -> list[tuple[int, int, int, int]]:
        """``(m, q, r, j)`` for every tap and phase, tap-major."""
        shift = self.shift
        return [(m, q, self.remainder[q][m], shift[q][m]) for m in range(self.kernel) for q in range(self.phases)]


def axis_phase_map(kernel: int, stride: int, dilation: int = 1, pad_left: int = 0, phases: int = 1,
                   direction: str = "strided") -> AxisPhaseMap:
    """The rule on one axis, by Euclidean division by ``B = s·R`` (see the module docstring)."""
    _check_direction(direction)
    for name, value, low in (("kernel", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1), ("phases", phases, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise SymstrideError(f"{name} must be an integer ≥ {low}, got {value!r}")
    big = stride * phases
    split = [[divmod(stride * q + dilation * m - pad_left, big) for m in range(kernel)] for q in range(phases)]
    quotient = tuple(tuple(int(d) for d, _ in row) for row in split)
    remainder = tuple(tuple(int(r) for _, r in row) for row in split)
    return AxisPhaseMap(direction, int(kernel), int(stride), int(dilation), int(pad_left), int(phases), quotient, remainder)


def flat_phase(phase: Sequence[int], counts: Sequence[int]) -> int:
    """Row-major flattening φ of a phase vector (``counts`` phases per axis)."""
    flat = 0
    for r, n in zip(phase, counts):
        flat = flat * n + r
    return flat


class PhaseMapTap(NamedTuple):
    """Tap ``m`` joins phase vector ``in_phase`` of the input to ``out_phase`` of the output at ``offset`` ``j``."""

    tap: tuple[int, ...]
    in_phase: tuple[int, ...]
    out_phase: tuple[int, ...]
    offset: tuple[int, ...]


@dataclass(frozen=True)
class PhaseMap:
    """The rule on every axis of a layer: its taps, phases, kernel and padding in the phase domain."""

    axes: tuple[AxisPhaseMap, ...]

    @property
    def direction(self) -> str:
        return self.axes[0].direction

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def in_phases(self) -> tuple[int, ...]:
        return tuple(a.in_phases for a in self.axes)

    @property
    def out_phases(self) -> tuple[int, ...]:
        return tuple(a.out_phases for a in self.axes)

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(a.kernel for a in self.axes)

    @property
    def kernel_eq(self) -> tuple[int, ...]:
        return tuple(a.kernel_eq for a in self.axes)

    @property
    def pad_phase(self) -> tuple[int, ...]:
        return tuple(a.pad_phase for a in self.axes)

    @cached_property
    def taps(self) -> tuple[PhaseMapTap, ...]:
        """Every ``(m, q)`` with its ``(r, j)``: split phases outer (row-major), taps inner (row-major)."""
        split = tuple(a.phases for a in self.axes)
        shifts = [a.shift for a in self.axes]
        out = []
        for q in itertools.product(*map(range, split)):
            for m in itertools.product(*map(range, self.kernel)):
                r = tuple(a.remainder[qa][ma] for a, qa, ma in zip(self.axes, q, m))
                j = tuple(s[qa][ma] for s, qa, ma in zip(shifts, q, m))
                ins, outs = (r, q) if self.direction == "strided" else (q, r)
                out.append(PhaseMapTap(m, ins, outs, j))
        return tuple(out)

    @cached_property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(m, φ(in_phase), φ(out_phase), j)`` of every tap as int64 arrays (``m``, ``j``: one row per axis)."""
        n = len(self.taps)
        m = np.array([t.tap for t in self.taps], dtype=np.int64).reshape(n, self.ndim).T
        j = np.array([t.offset for t in self.taps], dtype=np.int64).reshape(n, self.ndim).T
        ins = np.array([flat_phase(t.in_phase, self.in_phases) for t in self.taps], dtype=np.int64)
        outs = np.array([flat_phase(t.out_phase, self.out_phases) for t in self.taps], dtype=np.int64)
        return m, ins, outs, j

    @property
    def structural_zeros(self) -> int:
        """Entries of one channel pair's bank that hold no weight: ``P_in·P_out·Π K' − #taps``."""
        return prod(self.in_phases) * prod(self.out_phases) * prod(self.kernel_eq) - len(self.taps)


def phase_map(kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int] | None = None,
              pad_left: Sequence[int] | None = None, phases: Sequence[int] | None = None,
              direction: str = "strided") -> PhaseMap:
    """The :class:`PhaseMap` of a layer; every argument per axis (``dilation`` 1, ``pad_left`` 0, ``phases`` 1 by default)."""
    nd = len(kernel)
    per = [tuple(v) if v is not None else (default,) * nd for v, default in ((dilation, 1), (pad_left, 0), (phases, 1))]
    if any(len(v) != nd for v in (stride, *per)):
        raise SymstrideError(f"phase_map: every argument needs {nd} entries (one per axis)")
    return PhaseMap(tuple(axis_phase_map(k, s, d, p, r, direction) for k, s, d, p, r in zip(kernel, stride, *per)))


def phase_reads(direction: str, n_out: int, split: int, block: int, phase_in: int, phase_out: int, offset: int,
                pad: int, crop: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Where one claimed bank entry reads, on one axis, at every output position ``t < n_out``.

    The entry joins input phase ``phase_in`` to output phase ``phase_out`` at offset ``offset``
    of a unit-stride layer over phase maps padded by ``pad`` blocks on the left.

    * strided (``split = R`` output phases, ``block = B`` input phases): output
      ``t = R·a + q`` (only ``q = phase_out`` is this entry's) reads input position
      ``B·(a + offset − pad) + phase_in``;
    * transposed (``split = R`` input phases, ``block = B`` output phases): output ``t`` sits
      at ``t + crop = B·b + phase_out`` and reads input position ``R·(b + offset − pad) + phase_in``.

    Returns ``(position, mine)``: the input position read (it may lie outside the input: the
    caller decides what is padding) and whether position ``t`` is this entry's output phase.
    """
    t = np.arange(n_out)
    if _check_direction(direction) == "strided":
        a, q = np.divmod(t, split)
        return block * (a + offset - pad) + phase_in, q == phase_out
    b, r = np.divmod(t + crop, block)
    return split * (b + offset - pad) + phase_in, r == phase_out
