"""Exact checks that involve operators: Theorem 1 and the adjoint of the transposed layer.

:func:`verify_subsampling` decides ``Conv_s(w) = D_s ∘ Conv_1(w)`` by index analysis;
:func:`verify_adjoint` decides that the transposed layer is the transpose of the convolution
reading the same weights, by index analysis or by comparing SymPy matrices.
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError

from math import prod
from typing import Any

import numpy as np

from ..core.indexing import input_size, output_shape, transposed_output_shape
from ..core.params import ConvSpec, ConvTransposeSpec
from ..core.verify import TRANSPOSED_ABSENT
from .conv_transpose import ConvTranspose
from .operators import Conv
from .resampling import Subsample
from ..core.tap_comparison import (
    Mismatch,
    VerifyReport,
    axis_reads,
    check_extent,
    compare_reads,
    index_text,
    shape_text,
    strided_reads,
    transposed_reads,
)

__all__ = ["verify_subsampling", "verify_adjoint", "ADJOINT_MATRIX_ENTRIES"]


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
        raise SymstrideError(f"unknown method {method!r}; expected one of 'auto', 'matrix', 'index'")
    size = input_size(spec, size)
    n_out = transposed_output_shape(spec, size)
    conv = spec.adjoint if adjoint is None else adjoint
    if not isinstance(conv, ConvSpec) or conv.direction != "strided":
        raise SymstrideTypeError(f"adjoint must be a (strided) ConvSpec, got {type(conv).__name__}")
    identity = f"Adjoint (ConvT_s = Conv_s^T, stride {shape_text(spec.stride)})"
    check_extent(identity, spec, size, n_out)

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
        return fail(f"the convolution cannot act on the transposed layer's output size {shape_text(n_out)}: {exc}")
    entries = conv.out_channels * prod(size) * conv.in_channels * prod(n_out)
    if method == "matrix" or (method == "auto" and entries <= ADJOINT_MATRIX_ENTRIES):
        return _adjoint_matrices(identity, spec, conv, size, n_out, n_conv)
    claimed = {}
    for m, axes in strided_reads(conv, n_out, n_conv).items():
        inverted = []
        for (pos, live), n, no in zip(axes, size, n_out):
            i = np.arange(pos.size)
            keep = live & (i < n)  # the conv's output i pairs with the transposed input i
            inv = np.full(no, -1, dtype=np.int64)
            inv[pos[keep]] = i[keep]
            inverted.append((inv, inv >= 0))
        claimed[m] = [inverted]
    notes = (f"the convolution acts on {shape_text(n_out)} samples and has {shape_text(n_conv)} outputs; the first {shape_text(size)} pair with the transposed input",)
    return compare_reads(
        identity, size, n_out, spec.kernel, transposed_reads(spec, size, n_out), claimed,
        ("the transposed layer", "the transpose of the convolution"), notes,
        (TRANSPOSED_ABSENT[0], "nothing (no convolution output reads that sample with this tap)"),
    )


def _adjoint_matrices(
    identity: str, spec: ConvTransposeSpec, conv: ConvSpec, size: tuple[int, ...], n_out: tuple[int, ...], n_conv: tuple[int, ...]
) -> VerifyReport:
    """Compare ``ConvT.matrix(N)`` with the transpose of ``Conv.matrix(N_out)`` (rows ``i < N``)."""
    import itertools

    mt = ConvTranspose(spec).matrix(size)
    mc = Conv(conv).matrix(n_out)
    kept = [o * prod(n_conv) + int(np.ravel_multi_index(i, n_conv))
            for o in range(conv.out_channels) for i in itertools.product(*map(range, size))
            if all(a < b for a, b in zip(i, n_conv))]
    notes = ("ConvT.matrix(N) against Conv.matrix(N_out)^T, restricted to the convolution's first N outputs",)
    if len(kept) != mt.cols:
        reason = f"the convolution has {shape_text(n_conv)} outputs, fewer than the transposed layer's {shape_text(size)} inputs"
        return VerifyReport(identity, False, size, n_out, 0, 0, Mismatch(reason), notes, method="matrix")
    mct = mc.extract(kept, list(range(mc.cols))).T
    if mt == mct:
        return VerifyReport(identity, True, size, n_out, 0, mt.rows * mt.cols, None, notes, method="matrix")
    for (row, col) in itertools.product(range(mt.rows), range(mt.cols)):
        if mt[row, col] != mct[row, col]:
            o, t = divmod(row, prod(n_out))
            c, n = divmod(col, prod(size))
            t, n = np.unravel_index(t, n_out), np.unravel_index(n, size)
            where = f"y[0, {o}, {index_text(map(int, t))}] ← x[0, {c}, {index_text(map(int, n))}]"
            reason = (f"entry {where}: the transposed layer has {mt[row, col]}, "
                      f"the transpose of the convolution has {mct[row, col]}")
            mismatch = Mismatch(reason, output=(0, o, *map(int, t)), strided=str(mt[row, col]), equivalent=str(mct[row, col]))
            return VerifyReport(identity, False, size, n_out, 0, mt.rows * mt.cols, mismatch, notes, method="matrix")
    raise AssertionError("unequal matrices without a differing entry")  # pragma: no cover


def verify_subsampling(spec: ConvSpec, size: Any, *, factor: Any = None, offset: Any = 0) -> VerifyReport:
    """Decide Theorem 1 exactly: ``Conv_s(w) = D_s ∘ Conv_1(w)`` on inputs of ``size``.

    ``factor``/``offset`` describe the subsampling operator being claimed (default: the
    stride, offset 0); a wrong factor or offset is rejected with the first differing output.
    """
    if not isinstance(spec, ConvSpec) or spec.direction != "strided":
        raise SymstrideTypeError(f"verify_subsampling expects a ConvSpec (e.g. Conv(...).spec), got {type(spec).__name__}")
    size = input_size(spec, size)
    n_out = output_shape(spec, size)
    sub = Subsample(spec.stride if factor is None else factor, offset)
    if len(sub.factor) == 1 and spec.ndim > 1:
        sub = Subsample(sub.factor * spec.ndim, sub.offset * spec.ndim)
    unit = spec.replace(stride=1)
    n_unit = output_shape(unit, size)
    identity = f"Theorem 1 (Conv with stride {shape_text(spec.stride)} = {sub!r} ∘ unit-stride Conv)"
    check_extent(identity, spec, size, n_out)
    n_sub = sub.output_shape(n_unit)
    if n_sub != n_out:
        mismatch = Mismatch(
            f"{sub!r} of the unit-stride output ({shape_text(n_unit)}) has {shape_text(n_sub)} samples, "
            f"the strided layer has {shape_text(n_out)}"
        )
        return VerifyReport(identity, False, size, n_out, 0, 0, mismatch)
    claimed = {}
    for m in np.ndindex(*spec.kernel):
        axes = []
        for mm, f, o, d, (pl, _), n, no in zip(m, sub.factor, sub.offset, spec.dilation, spec.padding, size, n_out):
            t = f * np.arange(no) + o  # the unit-stride output kept by D
            axes.append(axis_reads(t + d * mm - pl, n))
        claimed[tuple(int(v) for v in m)] = [axes]
    return compare_reads(
        identity, size, n_out, spec.kernel, strided_reads(spec, size, n_out), claimed,
        ("the strided layer", f"{sub!r} ∘ Conv_1"),
    )
