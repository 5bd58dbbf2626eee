"""The shared machinery of the exact single-layer checks: per-tap reads and their comparison.

Each layer is described by what every tap ``m`` reads at every output position, one
``(position, live)`` pair per axis (:func:`strided_reads`, :func:`transposed_reads`);
:func:`compare_reads` decides whether a claimed map reads the same samples tap by tap, and
:func:`verify_bank` does so for a claimed phase filter bank.  The verdict is a
:class:`VerifyReport`, naming the first :class:`Mismatch`.  Used by :mod:`symstride.core.verify`
(strided layers) and :mod:`symstride.core.transposed_checks` (transposed layers and adjoints).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import SymstrideError
from .indexing import Tap, channel_decode, phase_count
from .params import ConvSpec, ConvTransposeSpec
from .results import Result

__all__ = ["Mismatch", "VerifyReport", "axis_reads", "check_channels", "compare_reads", "first_difference", "index_text", "shape_text", "strided_reads", "transposed_reads", "verify_bank",
           "MAX_EXACT_INDEX", "MAX_CHECK_BYTES", "check_extent"]



#: Exact tap checks compute positions in int64: every size, padding and position stays below this.
MAX_EXACT_INDEX = 2**62
#: The memory an exact tap check may take (bytes), estimated before anything is allocated.
MAX_CHECK_BYTES = 2 * 10**9
#: Bytes per (tap, axis, output position) of the per-axis reads, both sides and the signature.
_BYTES_PER_READ = 32


def check_extent(identity: str, spec: Any, size: Sequence[int], n_out: Sequence[int]) -> None:
    """Refuse, before allocating, a check whose indices leave int64 or whose arrays exceed memory.

    Positions are held as int64; a size, padding or position at or beyond
    :data:`MAX_EXACT_INDEX` (2^62) would wrap around (an empty ``arange`` compares nothing), so
    it is refused, naming the value and the limit.  The per-axis reads take about
    ``32 · Π k · Σ N_out`` bytes; more than :data:`MAX_CHECK_BYTES` is refused with the figure.

    >>> from symstride.core.params import ConvSpec
    >>> check_extent("Theorem 2", ConvSpec.create(kernel=3, stride=2, padding=2**62), (8,), (2**62 + 3,))
    Traceback (most recent call last):
    ...
    symstride.core.errors.SymstrideError: Theorem 2: padding 4611686018427387904 on axis 0 is beyond the limit 2^62 of exact index arithmetic (positions are int64); use a smaller padding
    """
    values = [
        ("padding", "padding", [max(p, key=abs) for p in spec.padding]),
        ("output_padding", "output_padding", list(getattr(spec, "output_padding", ()))),
        ("input size", "size", list(size)),
        ("output length", "size", list(n_out)),
        ("stride·output length", "size", [s * n for s, n in zip(spec.stride, n_out)]),
        ("dilation·kernel", "kernel or dilation", [d * k for d, k in zip(spec.dilation, spec.kernel)]),
    ]
    for name, remedy, vals in values:
        for axis, v in enumerate(vals):
            if abs(v) >= MAX_EXACT_INDEX:
                raise SymstrideError(
                    f"{identity}: {name} {v} on axis {axis} is beyond the limit 2^62 of exact index arithmetic "
                    f"(positions are int64); use a smaller {remedy}"
                )
    need = _BYTES_PER_READ * prod(spec.kernel) * sum(n_out)
    if need > MAX_CHECK_BYTES:
        raise SymstrideError(
            f"{identity}: the exact check on an input of size {shape_text(size)} would need about {need / 1e9:.1f} GB "
            f"({prod(spec.kernel)} taps × {sum(n_out)} output positions summed over the axes); "
            f"symstride's exact checks use at most {MAX_CHECK_BYTES / 1e9:g} GB — use a smaller size"
        )


@dataclass(frozen=True)
class Mismatch:
    """Where two bilinear maps first differ."""

    reason: str
    output: tuple[int, ...] | None = None
    tap: tuple[int, ...] | None = None
    strided: str | None = None
    equivalent: str | None = None

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, repr=False)
class VerifyReport(Result):
    """The outcome of an exact check: ``exact``, what was compared, and the first mismatch.

    Speaks the report protocol (:mod:`symstride.core.results`): ``ok`` is ``exact``; ``failure``
    the first mismatch.  An exact check is on one input size: it proves nothing for all sizes.
    """

    identity: str
    exact: bool
    size: tuple[int, ...]
    output_shape: tuple[int, ...]
    taps_checked: int
    terms_checked: int
    mismatch: Mismatch | None = None
    notes: tuple[str, ...] = field(default=())
    #: ``"index"`` (integer index analysis per tap) or ``"matrix"`` (SymPy matrices compared entry by entry).
    method: str = "index"

    @property
    def ok(self) -> bool:
        return self.exact

    @property
    def failure(self) -> str | None:
        if self.exact:
            return None
        return str(self.mismatch) if self.mismatch is not None else f"{self.identity}: NOT exact"

    def json_fields(self) -> dict[str, Any]:
        m = self.mismatch
        return {
            "identity": self.identity, "exact": self.exact, "method": self.method,
            "size": list(self.size), "output_shape": list(self.output_shape),
            "taps_checked": self.taps_checked, "terms_checked": self.terms_checked, "notes": list(self.notes),
            "mismatch": None if m is None else {
                "reason": m.reason, "output": None if m.output is None else list(m.output),
                "tap": None if m.tap is None else list(m.tap), "strided": m.strided, "equivalent": m.equivalent,
            },
        }

    def __str__(self) -> str:
        verdict = "exact" if self.exact else "NOT exact"
        lines = [f"{self.identity}: {verdict}"]
        if self.method == "matrix":
            lines.append(
                f"  input size {shape_text(self.size)} → output {shape_text(self.output_shape)}; "
                f"{self.terms_checked} entries of the SymPy matrices compared exactly"
            )
        elif self.taps_checked:
            lines.append(
                f"  input size {shape_text(self.size)} → output {shape_text(self.output_shape)}; "
                f"{self.taps_checked} taps at each of {prod(self.output_shape)} output positions "
                f"({self.terms_checked} tap reads), decided by integer arithmetic"
            )
        else:
            lines.append(f"  input size {shape_text(self.size)} → output {shape_text(self.output_shape)}; decided before comparing taps")
        lines += [f"  {note}" for note in self.notes]
        if self.mismatch is not None:
            lines.append(f"  first difference: {self.mismatch}")
        return "\n".join(lines)


def shape_text(values: Sequence[int]) -> str:
    return "×".join(map(str, values))


def index_text(index: Iterable[int]) -> str:
    return ", ".join(map(str, index))


def check_channels(channels: int, g: int, n_phases: int, layout: str) -> Mismatch | None:
    """Each equivalent group must hold exactly its original group's ``channels``, in every phase.

    For Theorem 2 these are the input channels the equivalent layer reads; for a transposed
    layer the output channels it produces (before depth-to-space).
    """
    cin_g = channels // g
    seen = {}
    for new in range(channels * n_phases):
        c, flat = channel_decode(new, channels, n_phases, layout)
        if not (0 <= c < channels and 0 <= flat < n_phases) or (c, flat) in seen:
            return Mismatch(f"equivalent channel {new} does not decode to a unique (channel, phase) pair")
        seen[c, flat] = new
        if c // cin_g != new // (cin_g * n_phases):
            return Mismatch(
                f"layout {layout!r} puts channel {c} (group {c // cin_g}) phase {flat} at equivalent channel "
                f"{new}, which a grouped convolution with groups={g} assigns to group {new // (cin_g * n_phases)}; "
                "the phase-major order splits groups across phases"
            )
    return None


def axis_reads(start: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Input positions read along one axis and whether they are real samples (not padding)."""
    live = (start >= 0) & (start < n)
    return start, live


def _grid(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Outer AND / product over axes: the per-axis vectors broadcast to the output grid."""
    out = np.ones((), dtype=arrays[0].dtype)
    for axis, a in enumerate(arrays):
        shape = [1] * len(arrays)
        shape[axis] = a.size
        out = out * a.reshape(shape) if out.dtype != bool else out & a.reshape(shape)
    return out


def _term(weight: str, x_pos: Sequence[int]) -> str:
    return f"{weight}·x[0, 0, {index_text(x_pos)}]"


def first_difference(
    n_out: tuple[int, ...],
    reference: dict[Any, list[tuple[np.ndarray, np.ndarray]]],
    claimed: dict[Any, list[list[tuple[np.ndarray, np.ndarray]]]],
    keep: dict[Any, list[np.ndarray | None]] | None = None,
) -> tuple[tuple[tuple[int, ...], Any] | None, tuple[int, ...]]:
    """The one exact read comparison: ``(first difference or None, signature classes per axis)``.

    ``reference[m]`` is what tap ``m`` reads on the reference side, one ``(position, live)`` pair
    per axis over the ``n_out`` outputs; ``claimed[m]`` any number of such reads.  ``keep``, if
    given, holds for each claimed read a boolean array over the whole output grid (or None): a
    mask that blanks the read where it is False (a sample a boundary mask zeroes).  An output
    agrees for ``m`` when the number of live claimed reads equals the reference's (0 or 1) and,
    if the reference reads a sample, a live claimed read reads that same position.  The first
    difference is the smallest output (row-major) that disagrees and its tap ``m``.

    Whether an output position agrees depends on each axis only through that axis's
    *signature*: which reads are live there and which positions coincide.  Positions with the
    same signature on every axis behave identically, so without masks the grid check runs over
    one representative (the first position) of each signature class per axis — a handful near
    each boundary and one for the interior — instead of the whole output grid.  A mask is not
    separable by axes, so with masks every position is its own class.
    """
    ndim = len(n_out)
    masked = keep is not None and any(k is not None for ks in keep.values() for k in ks)
    reps = []
    for a in range(ndim):
        if masked:
            reps.append(np.arange(n_out[a]))
            continue
        columns = []
        for m, ref_axes in reference.items():
            rpos, rlive = ref_axes[a]
            columns.append(rlive)
            for axes in claimed.get(m, []):
                pos, live = axes[a]
                columns += [live, pos == rpos]
        signature = np.stack(columns, axis=1) if columns else np.zeros((n_out[a], 0), dtype=bool)
        _, first_index = np.unique(signature, axis=0, return_index=True)
        reps.append(np.sort(first_index))
    classes = tuple(len(r) for r in reps)

    def on_reps(pairs):
        return [(pos[r], live[r]) for (pos, live), r in zip(pairs, reps)]

    first: tuple[tuple[int, ...], Any] | None = None
    for m, full_ref in reference.items():
        ref_axes = on_reps(full_ref)
        ref_live = _grid([live for _, live in ref_axes])
        count = np.zeros(classes, dtype=np.int64)
        agree = np.zeros(classes, dtype=bool)
        masks = keep.get(m, []) if keep is not None else []
        for i, full in enumerate(claimed.get(m, [])):
            axes = on_reps(full)
            live = _grid([lv for _, lv in axes])
            if i < len(masks) and masks[i] is not None:
                live = live & masks[i]
            same = _grid([(pos == rpos) for (pos, _), (rpos, _) in zip(axes, ref_axes)])
            count += live
            agree |= live & same
        ok = (count == ref_live) & (~ref_live | agree)
        if not ok.all():
            bad = min(tuple(int(r[i]) for r, i in zip(reps, idx)) for idx in zip(*np.nonzero(~ok)))
            if first is None or bad < first[0]:
                first = (bad, m)
    return first, classes


def compare_reads(
    identity: str,
    size: tuple[int, ...],
    n_out: tuple[int, ...],
    kernel: tuple[int, ...],
    reference: dict[tuple[int, ...], list[tuple[np.ndarray, np.ndarray]]],
    claimed: dict[tuple[int, ...], list[list[tuple[np.ndarray, np.ndarray]]]],
    describe_claim: Any,
    notes: tuple[str, ...] = (),
    absent: tuple[str, str] = ("nothing (it reads padding)", "nothing (it reads padding or the zero extension)"),
) -> VerifyReport:
    """Compare per tap by :func:`first_difference` and report the first difference of a single layer.

    ``absent`` says, for the reference and the claimed side, what it means that a tap reads
    no input sample at an output position.
    """
    first, classes = first_difference(n_out, reference, claimed)
    n_taps = len(reference)
    notes = (
        *notes,
        f"positions: {shape_text(classes)} classes of identical boundary signature per axis "
        f"(of {shape_text(n_out)}), one representative each",
    )
    if first is None:
        return VerifyReport(identity, True, size, n_out, n_taps, n_taps * prod(n_out), None, notes)
    out, m = first
    ref_axes = reference[m]
    ref_pos = tuple(int(pos[i]) for (pos, _), i in zip(ref_axes, out)) if all(
        bool(live[i]) for (_, live), i in zip(ref_axes, out)
    ) else None
    got = []
    for axes in claimed.get(m, []):
        if all(bool(lv[i]) for (_, lv), i in zip(axes, out)):
            got.append(tuple(int(pos[i]) for (pos, _), i in zip(axes, out)))
    weight = f"w[0, 0, {index_text(m)}]"
    strided = _term(weight, ref_pos) if ref_pos is not None else absent[0]
    if not claimed.get(m):
        equivalent = "no term with it (the tap is missing from the map)"
    elif not got:
        equivalent = absent[1]
    else:
        equivalent = " + ".join(_term(weight, g) for g in got)
    reason = (
        f"tap [{index_text(m)}] at output y[0, 0, {index_text(out)}]: {describe_claim[0]} has {strided}, "
        f"{describe_claim[1]} has {equivalent}"
    )
    mismatch = Mismatch(reason, output=(0, 0, *out), tap=m, strided=strided, equivalent=equivalent)
    return VerifyReport(identity, False, size, n_out, n_taps, n_taps * prod(n_out), mismatch, notes)


def strided_reads(spec: ConvSpec, size: tuple[int, ...], n_out: tuple[int, ...]) -> dict:
    """Reference side: tap ``m`` at output ``i`` reads ``x[s·i + δ·m − p_left]`` on every axis."""
    reads = {}
    for m in np.ndindex(*spec.kernel):
        axes = []
        for mm, s, d, (pl, _), n, no in zip(m, spec.stride, spec.dilation, spec.padding, size, n_out):
            axes.append(axis_reads(s * np.arange(no) + d * mm - pl, n))
        reads[tuple(int(v) for v in m)] = axes
    return reads


def transposed_reads(spec: ConvTransposeSpec, size: tuple[int, ...], n_out: tuple[int, ...]) -> dict:
    """Reference side: tap ``m`` at output ``t`` reads ``x[n]`` where ``s·n + δ·m = t + p_left``, if any."""
    reads = {}
    for m in np.ndindex(*spec.kernel):
        axes = []
        for mm, s, d, (pl, _), n, no in zip(m, spec.stride, spec.dilation, spec.padding, size, n_out):
            reach = np.arange(no) + pl - d * mm
            pos, live = axis_reads(reach // s, n)
            axes.append((pos, live & (reach % s == 0)))
        reads[tuple(int(v) for v in m)] = axes
    return reads


def _claimed_taps(spec: Any, taps: Sequence[Tap], kq: Sequence[int]) -> list[tuple[tuple[int, ...], ...]] | Mismatch:
    """The claimed ``(m, r, j)`` entries as int tuples, or the first one that cannot be a bank entry.

    A phase or offset out of range, or two taps in one slot of the bank, is a mismatch; a
    malformed entry (wrong length, tap outside the kernel) is bad input.
    """
    slots: dict[tuple, tuple[int, ...]] = {}
    entries = []
    for t in taps:
        m, r, j = (tuple(int(v) for v in part) for part in t)
        if not (len(m) == len(r) == len(j) == spec.ndim):
            raise SymstrideError(f"tap {list(m)}: tap, phase and offset must each have {spec.ndim} entries")
        if not all(0 <= mm < k for mm, k in zip(m, spec.kernel)):
            raise SymstrideError(f"tap {list(m)} is outside the kernel {spec.kernel}")
        for name, vec, bound in (("phase", r, spec.stride), ("offset", j, kq)):
            if not all(0 <= v < b for v, b in zip(vec, bound)):
                return Mismatch(f"tap [{index_text(m)}]: {name} {list(vec)} is outside [0, {shape_text(bound)})", tap=m)
        if (r, j) in slots:
            return Mismatch(f"tap [{index_text(m)}]: phase {list(r)} offset {list(j)} already holds tap [{index_text(slots[r, j])}]", tap=m)
        slots[r, j] = m
        entries.append((m, r, j))
    return entries


def verify_bank(
    identity: str, spec: Any, taps: Sequence[Tap], size: tuple[int, ...], n_out: tuple[int, ...],
    kq: tuple[int, ...], layout: str, axes_of: Any, *, reference: Any, channels: tuple[int, str], describe: tuple[str, str],
    absent: tuple[str, str] | None = None,
) -> VerifyReport:
    """Decide a claimed phase filter bank: ``axes_of(r, j)`` gives the per-axis reads of a bank entry.

    Shared by Theorem 2 and the transposed layer: the claimed taps must fit the bank, the phase
    channels (``channels``: count and role) must decode uniquely and keep the groups, and every
    tap must read what ``reference()`` reads, at every output position.
    """
    if len(kq) != spec.ndim or any(k < 1 for k in kq):
        raise SymstrideError(f"equivalent kernel {tuple(kq)} must have {spec.ndim} positive entries")
    entries = _claimed_taps(spec, taps, kq)
    if isinstance(entries, Mismatch):
        return VerifyReport(identity, False, size, n_out, 0, 0, entries)
    claimed: dict[tuple[int, ...], list] = {}
    for m, r, j in entries:
        claimed.setdefault(m, []).append(axes_of(r, j))
    count, role = channels
    channel_problem = check_channels(count, spec.groups, phase_count(spec), layout)
    if channel_problem is not None:
        return VerifyReport(identity, False, size, n_out, 0, 0, channel_problem)
    notes = (f"channels: {count}·{phase_count(spec)} equivalent {role} decode uniquely; groups={spec.groups} preserved",)
    extra = {} if absent is None else {"absent": absent}
    return compare_reads(identity, size, n_out, spec.kernel, reference(), claimed, describe, notes, **extra)
