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
    transposed_output_shape,
)
from .params import ConvSpec, ConvTransposeSpec

__all__ = ["Mismatch", "VerifyReport", "verify_taps", "verify_subsampling", "verify_transposed_taps", "verify_adjoint"]


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
    #: ``"index"`` (integer index analysis per tap) or ``"matrix"`` (SymPy matrices compared entry by entry).
    method: str = "index"

    def __bool__(self) -> bool:
        return self.exact

    def __str__(self) -> str:
        verdict = "exact" if self.exact else "NOT exact"
        lines = [f"{self.identity}: {verdict}"]
        if self.method == "matrix":
            lines.append(
                f"  input size {_shape(self.size)} → output {_shape(self.output_shape)}; "
                f"{self.terms_checked} entries of the SymPy matrices compared exactly"
            )
        elif self.taps_checked:
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


def _check_channels(channels: int, g: int, n_phases: int, layout: str) -> Mismatch | None:
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


def _term(weight: str, x_pos: Sequence[int]) -> str:
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
    absent: tuple[str, str] = ("nothing (it reads padding)", "nothing (it reads padding or the zero extension)"),
) -> VerifyReport:
    """Compare per tap: ``reference[m]`` is one read (pos, live) per axis; ``claimed[m]`` any number.

    ``absent`` says, for the reference and the claimed side, what it means that a tap reads
    no input sample at an output position.

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
    strided = _term(weight, ref_pos) if ref_pos is not None else absent[0]
    if not claimed.get(m):
        equivalent = "no term with it (the tap is missing from the map)"
    elif not got:
        equivalent = absent[1]
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
            raise ValueError(f"tap {list(m)}: tap, phase and offset must each have {spec.ndim} entries")
        if not all(0 <= mm < k for mm, k in zip(m, spec.kernel)):
            raise ValueError(f"tap {list(m)} is outside the kernel {spec.kernel}")
        for name, vec, bound in (("phase", r, spec.stride), ("offset", j, kq)):
            if not all(0 <= v < b for v, b in zip(vec, bound)):
                return Mismatch(f"tap [{_fmt(m)}]: {name} {list(vec)} is outside [0, {_shape(bound)})", tap=m)
        if (r, j) in slots:
            return Mismatch(f"tap [{_fmt(m)}]: phase {list(r)} offset {list(j)} already holds tap [{_fmt(slots[r, j])}]", tap=m)
        slots[r, j] = m
        entries.append((m, r, j))
    return entries


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

    def axes_of(r: tuple[int, ...], j: tuple[int, ...]) -> list:
        axes = []
        for jj, rr, s, (pl, _), n, no, k in zip(j, r, spec.stride, spec.padding, size, n_out, kq):
            coarse = np.arange(no) + jj
            padded = s * coarse + rr  # index into the padded, trimmed/extended input
            pos, live = _axis_reads(padded - pl, n)
            axes.append((pos, live & (padded < s * (no + k - 1))))
        return axes

    return _verify_bank(
        identity, spec, taps, size, n_out, kq, layout, axes_of,
        reference=lambda: _strided_reads(spec, size, n_out), channels=(spec.in_channels, "inputs"),
        describe=("the strided layer", "the equivalent layer"),
    )


def _verify_bank(
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
        raise ValueError(f"equivalent kernel {tuple(kq)} must have {spec.ndim} positive entries")
    entries = _claimed_taps(spec, taps, kq)
    if isinstance(entries, Mismatch):
        return VerifyReport(identity, False, size, n_out, 0, 0, entries)
    claimed: dict[tuple[int, ...], list] = {}
    for m, r, j in entries:
        claimed.setdefault(m, []).append(axes_of(r, j))
    count, role = channels
    channel_problem = _check_channels(count, spec.groups, phase_count(spec), layout)
    if channel_problem is not None:
        return VerifyReport(identity, False, size, n_out, 0, 0, channel_problem)
    notes = (f"channels: {count}·{phase_count(spec)} equivalent {role} decode uniquely; groups={spec.groups} preserved",)
    extra = {} if absent is None else {"absent": absent}
    return _compare(identity, size, n_out, spec.kernel, reference(), claimed, describe, notes, **extra)


def verify_subsampling(spec: ConvSpec, size: Any, *, factor: Any = None, offset: Any = 0) -> VerifyReport:
    """Decide Theorem 1 exactly: ``Conv_s(w) = D_s ∘ Conv_1(w)`` on inputs of ``size``.

    ``factor``/``offset`` describe the subsampling operator being claimed (default: the
    stride, offset 0); a wrong factor or offset is rejected with the first differing output.
    """
    from .operators import Subsample

    if not isinstance(spec, ConvSpec):
        raise TypeError(f"verify_subsampling expects a ConvSpec (e.g. Conv(...).spec), got {type(spec).__name__}")
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


# -- transposed convolution ----------------------------------------------------------------------


def _transposed_reads(spec: ConvTransposeSpec, size: tuple[int, ...], n_out: tuple[int, ...]) -> dict:
    """Reference side: tap ``m`` at output ``t`` reads ``x[n]`` where ``s·n + δ·m = t + p_left``, if any."""
    reads = {}
    for m in np.ndindex(*spec.kernel):
        axes = []
        for mm, s, d, (pl, _), n, no in zip(m, spec.stride, spec.dilation, spec.padding, size, n_out):
            reach = np.arange(no) + pl - d * mm
            pos, live = _axis_reads(reach // s, n)
            axes.append((pos, live & (reach % s == 0)))
        reads[tuple(int(v) for v in m)] = axes
    return reads


#: What "no term" means for a transposed layer and for its sub-pixel equivalent.
_TRANSPOSED_ABSENT = (
    "nothing (no input sample lands there with this tap)",
    "nothing (wrong phase, or it reads the zero padding)",
)


def verify_transposed_taps(
    spec: ConvTransposeSpec,
    taps: Sequence[Tap],
    size: Any,
    *,
    kernel: Sequence[int] | None = None,
    layout: str = "pytorch",
) -> VerifyReport:
    """Decide exactly whether a tap map realises the transposed layer as sub-pixel convolution.

    Each entry ``(m, r, j)`` of ``taps`` claims ``W'[chan(o, φ(r)), c, j] = w[c, o, m]``: tap
    ``m`` feeds output phase ``r`` at offset ``j`` of the unit-stride bank (``kernel`` is its size
    ``k'``, by default the true one).  The claimed layer is that unit-stride convolution, with the
    same groups, over the input padded by ``k' − 1 − ⌊p_left/s⌋`` on the left (and trimmed or
    extended on the right), followed by depth-to-space in ``layout`` order and the crop of
    :func:`~symstride.indexing.transposed_geometry`.  Compared tap by tap with the transposed
    layer's own reads ``s·n + δ·m = t + p_left``; a tap in the wrong phase or at the wrong offset
    is named with the first output it gets wrong.
    """
    check_layout(layout)
    size = input_size(spec, size)
    n_out = transposed_output_shape(spec, size)
    kq = tuple(kernel) if kernel is not None else equivalent_kernel(spec)
    identity = (
        f"Transposed convolution (stride {_shape(spec.stride)} as {phase_count(spec)} output phases "
        f"+ depth-to-space, layout {layout})"
    )

    def axes_of(r: tuple[int, ...], j: tuple[int, ...]) -> list:
        axes = []
        for jj, rr, s, (pl, _), n, no, k in zip(j, r, spec.stride, spec.padding, size, n_out, kq):
            start, crop = divmod(pl, s)
            fine = np.arange(no) + crop  # position after depth-to-space, before the crop
            prepared = fine // s + jj  # the block's read in the prepared input
            pos, live = _axis_reads(prepared - (k - 1 - start), n)
            axes.append((pos, live & (fine % s == rr)))
        return axes

    return _verify_bank(
        identity, spec, taps, size, n_out, kq, layout, axes_of,
        reference=lambda: _transposed_reads(spec, size, n_out), channels=(spec.out_channels, "outputs"),
        describe=("the transposed layer", "the equivalent layer"), absent=_TRANSPOSED_ABSENT,
    )


#: ``verify_adjoint(method="auto")`` compares SymPy matrices up to this many entries.
ADJOINT_MATRIX_ENTRIES = 4096


def verify_adjoint(
    spec: ConvTransposeSpec, size: Any, *, adjoint: ConvSpec | None = None, method: str = "auto"
) -> VerifyReport:
    """Decide ``⟨Conv_s x, y⟩ = ⟨x, ConvT_s y⟩`` exactly: the transposed layer's tensor is the
    transpose of the convolution's, both reading the same weight tensor ``w[c, o, m]``.

    ``size`` is the transposed layer's input size ``N`` (the convolution's output); the
    convolution acts on ``N_out`` samples and may produce more than ``N`` outputs when
    ``output_padding ≥ s`` (possible with dilation) — the identity holds on its first ``N``.
    ``adjoint`` is the convolution claimed (default ``spec.adjoint``).  ``method="matrix"``
    builds both SymPy matrices and compares them entry by entry; ``"index"`` compares, tap by
    tap, which input each output reads (any size); ``"auto"`` picks the matrices when they are
    small (at most :data:`ADJOINT_MATRIX_ENTRIES` entries).
    """
    if method not in ("auto", "matrix", "index"):
        raise ValueError(f"unknown method {method!r}; expected one of 'auto', 'matrix', 'index'")
    size = input_size(spec, size)
    n_out = transposed_output_shape(spec, size)
    conv = spec.adjoint if adjoint is None else adjoint
    if not isinstance(conv, ConvSpec):
        raise TypeError(f"adjoint must be a ConvSpec, got {type(conv).__name__}")
    identity = f"Adjoint (ConvT_s = Conv_s^T, stride {_shape(spec.stride)})"

    def fail(reason: str, method: str = "index") -> VerifyReport:
        return VerifyReport(identity, False, size, n_out, 0, 0, Mismatch(reason), method=method)

    for name, mine, theirs in (
        ("kernel", spec.kernel, conv.kernel),
        ("groups", spec.groups, conv.groups),
        ("input channels (the transposed layer's outputs)", spec.out_channels, conv.in_channels),
        ("output channels (the transposed layer's inputs)", spec.in_channels, conv.out_channels),
    ):
        if mine != theirs:
            return fail(f"the convolution has {name} {theirs}, the transposed layer needs {mine}: "
                        "the adjoint reads the same weight tensor")
    try:
        n_conv = output_shape(conv, n_out)
    except ValueError as exc:
        return fail(f"the convolution cannot act on the transposed layer's output size {_shape(n_out)}: {exc}")
    entries = conv.out_channels * prod(size) * conv.in_channels * prod(n_out)
    if method == "matrix" or (method == "auto" and entries <= ADJOINT_MATRIX_ENTRIES):
        return _adjoint_matrices(identity, spec, conv, size, n_out, n_conv)
    claimed = {}
    for m, axes in _strided_reads(conv, n_out, n_conv).items():
        inverted = []
        for (pos, live), n, no in zip(axes, size, n_out):
            i = np.arange(pos.size)
            keep = live & (i < n)  # the conv's output i pairs with the transposed input i
            inv = np.full(no, -1, dtype=np.int64)
            inv[pos[keep]] = i[keep]
            inverted.append((inv, inv >= 0))
        claimed[m] = [inverted]
    notes = (f"the convolution acts on {_shape(n_out)} samples and has {_shape(n_conv)} outputs; the first {_shape(size)} pair with the transposed input",)
    return _compare(
        identity, size, n_out, spec.kernel, _transposed_reads(spec, size, n_out), claimed,
        ("the transposed layer", "the transpose of the convolution"), notes,
        (_TRANSPOSED_ABSENT[0], "nothing (no convolution output reads that sample with this tap)"),
    )


def _adjoint_matrices(
    identity: str, spec: ConvTransposeSpec, conv: ConvSpec, size: tuple[int, ...], n_out: tuple[int, ...], n_conv: tuple[int, ...]
) -> VerifyReport:
    """Compare ``ConvT.matrix(N)`` with the transpose of ``Conv.matrix(N_out)`` (rows ``i < N``)."""
    import itertools

    from .operators import Conv
    from .transposed import ConvTranspose

    mt = ConvTranspose(spec).matrix(size)
    mc = Conv(conv).matrix(n_out)
    kept = [o * prod(n_conv) + int(np.ravel_multi_index(i, n_conv))
            for o in range(conv.out_channels) for i in itertools.product(*map(range, size))
            if all(a < b for a, b in zip(i, n_conv))]
    notes = ("ConvT.matrix(N) against Conv.matrix(N_out)^T, restricted to the convolution's first N outputs",)
    if len(kept) != mt.cols:
        reason = f"the convolution has {_shape(n_conv)} outputs, fewer than the transposed layer's {_shape(size)} inputs"
        return VerifyReport(identity, False, size, n_out, 0, 0, Mismatch(reason), notes, method="matrix")
    mct = mc.extract(kept, list(range(mc.cols))).T
    if mt == mct:
        return VerifyReport(identity, True, size, n_out, 0, mt.rows * mt.cols, None, notes, method="matrix")
    for (row, col) in itertools.product(range(mt.rows), range(mt.cols)):
        if mt[row, col] != mct[row, col]:
            o, t = divmod(row, prod(n_out))
            c, n = divmod(col, prod(size))
            t, n = np.unravel_index(t, n_out), np.unravel_index(n, size)
            where = f"y[0, {o}, {_fmt(map(int, t))}] ← x[0, {c}, {_fmt(map(int, n))}]"
            reason = (f"entry {where}: the transposed layer has {mt[row, col]}, "
                      f"the transpose of the convolution has {mct[row, col]}")
            mismatch = Mismatch(reason, output=(0, o, *map(int, t)), strided=str(mt[row, col]), equivalent=str(mct[row, col]))
            return VerifyReport(identity, False, size, n_out, 0, mt.rows * mt.cols, mismatch, notes, method="matrix")
    raise AssertionError("unequal matrices without a differing entry")  # pragma: no cover
