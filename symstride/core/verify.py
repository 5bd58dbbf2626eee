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

This module holds the checks of strided layers (Theorems 1 and 2); the transposed-layer and
adjoint checks live in :mod:`symstride.core.transposed_checks` and the shared comparison machinery in
:mod:`symstride.core.tap_comparison`, all re-exported here.

>>> from symstride.core.params import ConvSpec
>>> from symstride.core.indexing import Tap, tap_map
>>> spec = ConvSpec.create(kernel=3, stride=2, padding=1)
>>> verify_taps(spec, tap_map(spec), size=8).exact
True
>>> wrong = [Tap((0,), (0,), (0,)), Tap((1,), (1,), (1,)), Tap((2,), (0,), (1,))]
>>> print(verify_taps(spec, wrong, size=8).mismatch)
tap [1] at output y[0, 0, 0]: the strided layer has w[0, 0, 1]·x[0, 0, 0], the equivalent layer has w[0, 0, 1]·x[0, 0, 2]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .indexing import Tap, check_layout, equivalent_kernel, input_size, output_shape, phase_count
from .params import ConvSpec
from .tap_comparison import (  # _check_channels and _transposed_reads are re-exported for symstride.decoder
    Mismatch,
    VerifyReport,
    _axis_reads,
    _check_channels,
    _compare,
    _shape,
    _strided_reads,
    _transposed_reads,
    _verify_bank,
)
from .transposed_checks import ADJOINT_MATRIX_ENTRIES, verify_adjoint, verify_transposed_taps

__all__ = ["Mismatch", "VerifyReport", "verify_taps", "verify_subsampling", "verify_transposed_taps", "verify_adjoint"]


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


def verify_subsampling(spec: ConvSpec, size: Any, *, factor: Any = None, offset: Any = 0) -> VerifyReport:
    """Decide Theorem 1 exactly: ``Conv_s(w) = D_s ∘ Conv_1(w)`` on inputs of ``size``.

    ``factor``/``offset`` describe the subsampling operator being claimed (default: the
    stride, offset 0); a wrong factor or offset is rejected with the first differing output.
    """
    from ..algebra.operators import Subsample

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
