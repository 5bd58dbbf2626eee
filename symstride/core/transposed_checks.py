"""Exact checks of the transposed layer: its sub-pixel equivalent and its adjoint.

:func:`verify_transposed_taps` decides, tap by tap, whether a claimed tap map realises a
transposed convolution as a unit-stride convolution followed by depth-to-space;
:func:`verify_adjoint` decides that the transposed layer is the transpose of the convolution
reading the same weights, by index analysis or by comparing SymPy matrices.
"""

from __future__ import annotations

from math import prod
from typing import Any, Sequence

import numpy as np

from .indexing import (
    Tap,
    check_layout,
    equivalent_kernel,
    input_size,
    output_shape,
    phase_count,
    transposed_output_shape,
)
from .params import ConvSpec, ConvTransposeSpec
from .tap_comparison import (
    Mismatch,
    VerifyReport,
    _axis_reads,
    _compare,
    _fmt,
    _shape,
    _strided_reads,
    _transposed_reads,
    _verify_bank,
)

__all__ = ["verify_transposed_taps", "verify_adjoint", "ADJOINT_MATRIX_ENTRIES"]


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
    :func:`~symstride.core.indexing.transposed_geometry`.  Compared tap by tap with the transposed
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

    from ..algebra.operators import Conv
    from ..layer.transposed import ConvTranspose

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
