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

Both verifiers read the claimed bank through :func:`symstride.core.phasemap.phase_reads`, the
read rule of the one phase map (the decoder's stages use it too).  This module holds the tap checks of strided layers (Theorem 2) and of transposed layers (the
sub-pixel theorem); the shared comparison machinery is :mod:`symstride.core.tap_comparison`, and
the checks that need operators (Theorem 1, the adjoint) are :mod:`symstride.algebra.operator_checks`.

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

from .indexing import Tap, check_layout, equivalent_kernel, input_size, output_shape, phase_count, transposed_output_shape
from .params import ConvSpec, ConvTransposeSpec
from .phasemap import phase_reads
from .tap_comparison import VerifyReport, axis_reads, check_extent, compare_reads, shape_text, strided_reads, transposed_reads, verify_bank

__all__ = ["verify_taps", "verify_transposed_taps", "tap_counterexample", "TRANSPOSED_ABSENT"]


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
    identity = f"Theorem 2 (stride {shape_text(spec.stride)} as {phase_count(spec)} phases, layout {layout})"
    check_extent(identity, spec, size, n_out)

    return verify_bank(
        identity, spec, taps, size, n_out, kq, layout, lambda r, j: _strided_entry_reads(spec, size, n_out, kq, r, j),
        reference=lambda: strided_reads(spec, size, n_out), channels=(spec.in_channels, "inputs"),
        describe=("the strided layer", "the equivalent layer"),
    )


def _strided_entry_reads(spec: ConvSpec, size: tuple[int, ...], n_out: tuple[int, ...], kq: Sequence[int],
                         r: Sequence[int], j: Sequence[int]) -> list:
    """Per axis, ``(position, live)`` of bank entry ``(r, j)`` at every output: the phase map's read
    of the prepared input (padded, trimmed or zero-extended to ``s·(N_out + k' − 1)``)."""
    axes = []
    for jj, rr, s, (pl, _), n, no, k in zip(j, r, spec.stride, spec.padding, size, n_out, kq):
        padded, _ = phase_reads("strided", no, 1, s, rr, 0, jj, 0)  # index into the padded, trimmed/extended input
        pos, live = axis_reads(padded - pl, n)
        axes.append((pos, live & (padded < s * (no + k - 1))))
    return axes


def tap_counterexample(spec: ConvSpec, taps: Sequence[Tap], size: Any) -> VerifyReport:
    """Compare any multiset of claimed taps — missing, repeated or sharing a slot — with the strided
    layer, tap by tap, on inputs of ``size``: the first output where they differ.

    :func:`verify_taps` refuses such maps before comparing (they are no filter bank); this shows
    what the claimed bank (entries summed where taps share a slot) would compute instead.
    """
    size = input_size(spec, size)
    n_out = output_shape(spec, size)
    kq = equivalent_kernel(spec)
    claimed: dict[tuple[int, ...], list] = {}
    for t in taps:
        claimed.setdefault(tuple(t.tap), []).append(_strided_entry_reads(spec, size, n_out, kq, t.phase, t.offset))
    return compare_reads(f"Theorem 2 (stride {shape_text(spec.stride)}), the claimed taps as written", size, n_out,
                         spec.kernel, strided_reads(spec, size, n_out), claimed, ("the strided layer", "the claimed equivalent layer"))


#: What "no term" means for a transposed layer and for its sub-pixel equivalent.
TRANSPOSED_ABSENT = (
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
        f"Transposed convolution (stride {shape_text(spec.stride)} as {phase_count(spec)} output phases "
        f"+ depth-to-space, layout {layout})"
    )
    check_extent(identity, spec, size, n_out)

    def axes_of(r: tuple[int, ...], j: tuple[int, ...]) -> list:
        axes = []
        for jj, rr, s, (pl, _), n, no, k in zip(j, r, spec.stride, spec.padding, size, n_out, kq):
            start, crop = divmod(pl, s)  # output t sits at t + crop after depth-to-space
            read, mine = phase_reads("transposed", no, 1, s, 0, rr, jj, k - 1 - start, crop)
            pos, live = axis_reads(read, n)
            axes.append((pos, live & mine))
        return axes

    return verify_bank(
        identity, spec, taps, size, n_out, kq, layout, axes_of,
        reference=lambda: transposed_reads(spec, size, n_out), channels=(spec.out_channels, "outputs"),
        describe=("the transposed layer", "the equivalent layer"), absent=TRANSPOSED_ABSENT,
    )
