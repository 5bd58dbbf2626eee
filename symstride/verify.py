"""Exact verification of the single-layer identities on concrete sizes.

Both sides of every identity here are bilinear in the weights ``w`` and the input ``x``: each
output entry is a sum of products ``w[e]·x[f]``.  Two such maps are equal exactly when, for every
output entry and every weight, the input samples multiplied by that weight agree.  Because a
weight ``w[o, c, m]`` of a convolution meets the input only through its tap ``m`` and its
channels ``(o, c)``, that comparison factors into

* a **channel check** — every equivalent input channel decodes to one original channel and one
  phase, and each output channel reads the same channels (groups) on both sides; and
* a **tap check** — for every tap ``m`` and every output position, the input sample that ``m``
  reads is the same on both sides, or both read padding.  The position on each axis depends on
  that axis alone, so this is integer arithmetic on ``O(Π k · Σ N_out)`` numbers plus one
  boolean sweep over the output grid per tap.

No floating point and no polynomial expansion is involved, so layers with hundreds of channels
and 224×224 inputs are decided exactly in milliseconds.  A failed check names the first
differing output entry (row-major) and the tap responsible.

>>> from symstride.params import ConvSpec
>>> from symstride.indexing import Tap, tap_map
>>> spec = ConvSpec.create(kernel=3, stride=2, padding=1)
>>> verify_taps(spec, tap_map(spec), size=8).exact
True
>>> wrong = [Tap((0,), (0,), (0,)), Tap((1,), (1,), (1,)), Tap((2,), (0,), (1,))]
>>> print(verify_taps(spec, wrong, size=8).mismatch)
tap [1] at output y[0, 0, 0]: the strided layer has w[0, 0, 1]·x[0, 0, 0], the equivalent layer has w[0, 0, 1]·x[0, 0, 2]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any, Iterable, Sequence

import numpy as np

from .indexing import (
    Tap,
    channel_decode,
    check_layout,
    equivalent_kernel,
    input_size,
    output_length,
    output_shape,
    phase_count,
)
from .params import ConvSpec

__all__ = ["Mismatch", "VerifyReport", "verify_taps", "verify_subsampling"]


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


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of an exact check: ``exact``, what was compared, and the first mismatch."""

    identity: str
    exact: bool
    size: tuple[int, ...]
    output_shape: tuple[int, ...]
    taps_checked: int
    terms_checked: int
    mismatch: Mismatch | None = None
    notes: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return self.exact

    def __str__(self) -> str:
        verdict = "exact" if self.exact else "NOT exact"
        lines = [f"{self.identity}: {verdict}"]
        if self.taps_checked:
            lines.append(
                f"  input size {_shape(self.size)} → output {_shape(self.output_shape)}; "
                f"{self.taps_checked} taps at each of {prod(self.output_shape)} output positions "
                f"({self.terms_checked} tap reads), decided by integer arithmetic"
            )
        else:
            lines.append(f"  input size {_shape(self.size)} → output {_shape(self.output_shape)}; decided before comparing taps")
        lines += [f"  {note}" for note in self.notes]
        if self.mismatch is not None:
            lines.append(f"  first difference: {self.mismatch}")
        return "\n".join(lines)

    __repr__ = __str__


def _shape(values: Sequence[int]) -> str:
    return "×".join(map(str, values))


def _fmt(index: Iterable[int]) -> str:
    return ", ".join(map(str, index))


def _check_channels(spec: ConvSpec, layout: str) -> Mismatch | None:
    """Each equivalent group must read exactly its original group's channels, in every phase."""
    n_phases = phase_count(spec)
    g = spec.groups
    cin_g = spec.in_channels // g
    seen = {}
    for new in range(spec.in_channels * n_phases):
        c, flat = channel_decode(new, spec.in_channels, n_phases, layout)
        if not (0 <= c < spec.in_channels and 0 <= flat < n_phases) or (c, flat) in seen:
            return Mismatch(f"equivalent channel {new} does not decode to a unique (channel, phase) pair")
        seen[c, flat] = new
        if c // cin_g != new // (cin_g * n_phases):
            return Mismatch(
                f"layout {layout!r} puts channel {c} (group {c // cin_g}) phase {flat} at equivalent channel "
                f"{new}, which a grouped convolution with groups={g} assigns to group {new // (cin_g * n_phases)}; "
                "the phase-major order splits groups across phases"
            )
    return None


def _axis_reads(start: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
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


def _term(weight: str, x_pos: Sequence[int] | None) -> str:
    if x_pos is None:
        return "nothing (it reads padding)"
    return f"{weight}·x[0, 0, {_fmt(x_pos)}]"


def _compare(
    identity: str,
    size: tuple[int, ...],
    n_out: tuple[int, ...],
    kernel: tuple[int, ...],
    reference: dict[tuple[int, ...], list[tuple[np.ndarray, np.ndarray]]],
    claimed: dict[tuple[int, ...], list[list[tuple[np.ndarray, np.ndarray]]]],
    describe_claim: Any,
    notes: tuple[str, ...] = (),
) -> VerifyReport:
    """Compare per tap: ``reference[m]`` is one read (pos, live) per axis; ``claimed[m]`` any number.

    Whether an output position agrees depends on each axis only through that axis's
    *signature*: which reads are live there and which positions coincide.  Positions with the
    same signature on every axis behave identically, so the grid check runs over one
    representative (the first position) of each signature class per axis — a handful near
    each boundary and one for the interior — instead of the whole output grid.
    """
    ndim = len(n_out)
    reps = []
    for a in range(ndim):
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

    first: tuple[tuple[int, ...], tuple] | None = None
    n_taps = 0
    for m, full_ref in reference.items():
        n_taps += 1
        ref_axes = on_reps(full_ref)
        ref_live = _grid([live for _, live in ref_axes])
        count = np.zeros(classes, dtype=np.int64)
        agree = np.zeros(classes, dtype=bool)
        for full in claimed.get(m, []):
            axes = on_reps(full)
            live = _grid([lv for _, lv in axes])
            same = _grid([(pos == rpos) for (pos, _), (rpos, _) in zip(axes, ref_axes)])
            count += live
            agree |= live & same
        ok = (count == ref_live) & (~ref_live | agree)
        if not ok.all():
            bad = min(tuple(int(r[i]) for r, i in zip(reps, idx)) for idx in zip(*np.nonzero(~ok)))
            if first is None or bad < first[0]:
                first = (bad, m)
    notes = (
        *notes,
        f"positions: {_shape(classes)} classes of identical boundary signature per axis "
        f"(of {_shape(n_out)}), one representative each",
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
    weight = f"w[0, 0, {_fmt(m)}]"
    strided = _term(weight, ref_pos)
    if not claimed.get(m):
        equivalent = "no term with it (the tap is missing from the map)"
    elif not got:
        equivalent = "nothing (it reads padding or the zero extension)"
    else:
        equivalent = " + ".join(_term(weight, g) for g in got)
    reason = (
        f"tap [{_fmt(m)}] at output y[0, 0, {_fmt(out)}]: {describe_claim[0]} has {strided}, "
        f"{describe_claim[1]} has {equivalent}"
    )
    mismatch = Mismatch(reason, output=(0, 0, *out), tap=m, strided=strided, equivalent=equivalent)
    return VerifyReport(identity, False, size, n_out, n_taps, n_taps * prod(n_out), mismatch, notes)


def _strided_reads(spec: ConvSpec, size: tuple[int, ...], n_out: tuple[int, ...]) -> dict:
    """Reference side: tap ``m`` at output ``i`` reads ``x[s·i + δ·m − p_left]`` on every axis."""
    reads = {}
    for m in np.ndindex(*spec.kernel):
        axes = []
        for mm, s, d, (pl, _), n, no in zip(m, spec.stride, spec.dilation, spec.padding, size, n_out):
            axes.append(_axis_reads(s * np.arange(no) + d * mm - pl, n))
        reads[tuple(int(v) for v in m)] = axes
    return reads


def verify_taps(
    spec: ConvSpec,
    taps: Sequence[Tap],
    size: Any,
    *,
    kernel: Sequence[int] | None = None,
    layout: str = "pytorch",
) -> VerifyReport:
    """Decide exactly whether a tap map realises Theorem 2 for ``spec`` on inputs of ``size``.

    The claimed equivalent layer is the unit-stride convolution, with the same groups, of the
    filter bank that ``taps`` defines (``W'[o, chan(c, φ(r)), j] = w[o, c, m]`` for each entry,
    structural zeros elsewhere; ``kernel`` is its size ``k'``, by default the true one) over the
    input padded by ``spec.padding``, trimmed or zero-extended to ``s·(N_out + k' − 1)`` and
    space-to-depth'd in ``layout`` order.
    """
    check_layout(layout)
    size = input_size(spec, size)
    n_out = output_shape(spec, size)
    kq = tuple(kernel) if kernel is not None else equivalent_kernel(spec)
    identity = f"Theorem 2 (stride {_shape(spec.stride)} as {phase_count(spec)} phases, layout {layout})"
    if len(kq) != spec.ndim or any(k < 1 for k in kq):
        raise ValueError(f"equivalent kernel {tuple(kq)} must have {spec.ndim} positive entries")

    def fail(reason: str, tap: tuple[int, ...] | None = None) -> VerifyReport:
        return VerifyReport(identity, False, size, n_out, 0, 0, Mismatch(reason, tap=tap))

    slots: dict[tuple, tuple[int, ...]] = {}
    claimed: dict[tuple[int, ...], list] = {}
    for t in taps:
        m, r, j = (tuple(int(v) for v in part) for part in t)
        if not (len(m) == len(r) == len(j) == spec.ndim):
            raise ValueError(f"tap {list(m)}: tap, phase and offset must each have {spec.ndim} entries")
        if not all(0 <= mm < k for mm, k in zip(m, spec.kernel)):
            raise ValueError(f"tap {list(m)} is outside the kernel {spec.kernel}")
        for name, vec, bound in (("phase", r, spec.stride), ("offset", j, kq)):
            if not all(0 <= v < b for v, b in zip(vec, bound)):
                return fail(f"tap [{_fmt(m)}]: {name} {list(vec)} is outside [0, {_shape(bound)})", m)
        if (r, j) in slots:
            return fail(
                f"tap [{_fmt(m)}]: phase {list(r)} offset {list(j)} already holds tap [{_fmt(slots[r, j])}]", m
            )
        slots[r, j] = m
        axes = []
        for jj, rr, s, (pl, _), n, no, k in zip(j, r, spec.stride, spec.padding, size, n_out, kq):
            coarse = np.arange(no) + jj
            padded = s * coarse + rr  # index into the padded, trimmed/extended input
            pos, live = _axis_reads(padded - pl, n)
            axes.append((pos, live & (padded < s * (no + k - 1))))
        claimed.setdefault(m, []).append(axes)
    channel_problem = _check_channels(spec, layout)
    if channel_problem is not None:
        return VerifyReport(identity, False, size, n_out, 0, 0, channel_problem)
    notes = (f"channels: {spec.in_channels}·{phase_count(spec)} equivalent inputs decode uniquely; groups={spec.groups} preserved",)
    return _compare(
        identity, size, n_out, spec.kernel, _strided_reads(spec, size, n_out), claimed,
        ("the strided layer", "the equivalent layer"), notes,
    )


def verify_subsampling(spec: ConvSpec, size: Any, *, factor: Any = None, offset: Any = 0) -> VerifyReport:
    """Decide Theorem 1 exactly: ``Conv_s(w) = D_s ∘ Conv_1(w)`` on inputs of ``size``.

    ``factor``/``offset`` describe the subsampling operator being claimed (default: the
    stride, offset 0); a wrong factor or offset is rejected with the first differing output.
    """
    from .operators import Subsample

    size = input_size(spec, size)
    n_out = output_shape(spec, size)
    sub = Subsample(spec.stride if factor is None else factor, offset)
    if len(sub.factor) == 1 and spec.ndim > 1:
        sub = Subsample(sub.factor * spec.ndim, sub.offset * spec.ndim)
    unit = spec.replace(stride=1)
    n_unit = output_shape(unit, size)
    identity = f"Theorem 1 (Conv with stride {_shape(spec.stride)} = {sub!r} ∘ unit-stride Conv)"
    n_sub = sub.output_shape(n_unit)
    if n_sub != n_out:
        mismatch = Mismatch(
            f"{sub!r} of the unit-stride output ({_shape(n_unit)}) has {_shape(n_sub)} samples, "
            f"the strided layer has {_shape(n_out)}"
        )
        return VerifyReport(identity, False, size, n_out, 0, 0, mismatch)
    claimed = {}
    for m in np.ndindex(*spec.kernel):
        axes = []
        for mm, f, o, d, (pl, _), n, no in zip(m, sub.factor, sub.offset, spec.dilation, spec.padding, size, n_out):
            t = f * np.arange(no) + o  # the unit-stride output kept by D
            axes.append(_axis_reads(t + d * mm - pl, n))
        claimed[tuple(int(v) for v in m)] = [axes]
    return _compare(
        identity, size, n_out, spec.kernel, _strided_reads(spec, size, n_out), claimed,
        ("the strided layer", f"{sub!r} ∘ Conv_1"),
    )
