"""The one multirate phase map: every tap map derives from ``s·q + δ·m − p = B·D + r``.

Each test asserts on every example; strategies build the interesting cases (padding beyond a
block, dilation not coprime with the stride, several phases) instead of filtering them.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride.core.indexing import layer_phase_map, tap_map, transposed_tap_map
from symstride.core.params import ConvSpec, ConvTransposeSpec
from symstride.core.phasemap import axis_phase_map, phase_map, phase_reads
from symstride.core.verify import verify_taps, verify_transposed_taps
from symstride.network.phases import axis_map, phase_taps

axes = st.fixed_dictionaries({
    "kernel": st.integers(1, 7), "stride": st.integers(1, 4), "dilation": st.integers(1, 3),
    "pad_left": st.integers(0, 9), "phases": st.integers(1, 4),
})


@settings(max_examples=200, deadline=None)
@given(axes, st.sampled_from(["strided", "transposed"]))
def test_every_entry_satisfies_the_rule_and_fits_the_bank(a, direction):
    ax = axis_phase_map(**a, direction=direction)
    B, e = a["stride"] * a["phases"], ax.pad_phase
    entries = ax.entries()
    assert sorted((m, q) for m, q, _, _ in entries) == sorted(itertools.product(range(a["kernel"]), range(a["phases"])))
    for m, q, r, j in entries:
        D = j - e if direction == "strided" else e - j
        assert a["stride"] * q + a["dilation"] * m - a["pad_left"] == B * D + r
        assert 0 <= r < B and 0 <= j < ax.kernel_eq
    assert ax.in_phases * ax.out_phases == B * a["phases"]


@settings(max_examples=100, deadline=None)
@given(axes)
def test_phase_reads_of_an_entry_is_the_strided_layers_read(a):
    """Output ``n = R·a + q`` of tap ``m`` reads ``s·n + δ·m − p``: exactly where the entry reads."""
    ax = axis_phase_map(**a)
    R, B = a["phases"], ax.block
    for m, q, r, j in ax.entries():
        pos, mine = phase_reads("strided", 5 * R, R, B, r, q, j, ax.pad_phase)
        n = [t for t in range(5 * R) if mine[t]]
        assert n == list(range(q, 5 * R, R))
        assert [int(pos[t]) for t in n] == [a["stride"] * t + a["dilation"] * m - a["pad_left"] for t in n]


@settings(max_examples=100, deadline=None)
@given(axes)
def test_phase_reads_of_a_transposed_entry_is_the_scatter(a):
    """Input ``n`` feeds output ``t`` with ``s·n + δ·m = t + p``: the entry for ``t`` reads that ``n``."""
    ax = axis_phase_map(**a, direction="transposed")
    R, B = a["phases"], ax.block
    for m, q, r, j in ax.entries():
        pos, mine = phase_reads("transposed", 6 * B, R, B, q, r, j, ax.pad_phase)
        for t in range(6 * B):
            if mine[t]:
                n = int(pos[t])
                assert n % R == q and a["stride"] * n + a["dilation"] * m == t + a["pad_left"]


@pytest.mark.parametrize("kernel, stride, dilation", [((3,), (2,), (1,)), ((5, 3), (3, 2), (2, 1)), ((2, 2, 3), (2, 1, 3), (1, 2, 1))])
def test_single_layer_tap_maps_are_the_phase_map_at_one_phase(kernel, stride, dilation):
    spec = ConvSpec.create(kernel=kernel, stride=stride, dilation=dilation)
    assert [(t.tap, t.phase, t.offset) for t in tap_map(spec)] == [
        (m, tuple(d * mm % s for mm, s, d in zip(m, stride, dilation)), tuple(d * mm // s for mm, s, d in zip(m, stride, dilation)))
        for m in itertools.product(*map(range, kernel))
    ]
    tspec = ConvTransposeSpec.create(kernel=kernel, stride=stride, dilation=dilation)
    pm = layer_phase_map(tspec)
    assert pm.direction == "transposed" and pm.in_phases == (1,) * len(kernel)
    assert [(t.tap, t.phase, t.offset) for t in transposed_tap_map(tspec)] == [(t.tap, t.out_phase, t.offset) for t in pm.taps]


def test_network_tap_map_is_the_phase_map():
    maps = [axis_map(3, 2, 1, 1, 2), axis_map(2, 1, 2, 0, 3)]
    taps = phase_taps(maps)
    pm = phase_map((3, 2), (2, 1), (1, 2), (1, 0), (2, 3))
    assert len(taps) == len(pm.taps) == 2 * 3 * 3 * 2
    assert [(t.tap, t.offset) for t in taps] == [(t.tap, t.offset) for t in pm.taps]
    assert pm.structural_zeros == 4 * 3 * 2 * 3 * 2 * 2 - len(pm.taps)


def test_a_wrong_offset_is_rejected_naming_the_tap():
    """The failing twin: the verifiers read a claimed map through the same rule and catch a bad entry."""
    spec = ConvSpec.create(kernel=3, stride=2, padding=1)
    taps = tap_map(spec)
    assert verify_taps(spec, taps, 9).exact
    wrong = [taps[0], taps[1]._replace(offset=(1,)), taps[2]]
    report = verify_taps(spec, wrong, 9)
    assert not report.exact and report.mismatch.tap == (1,)
    assert "tap [1]" in str(report.mismatch)
    tspec = ConvTransposeSpec.create(kernel=3, stride=2, padding=1, output_padding=1)
    ttaps = transposed_tap_map(tspec)
    assert verify_transposed_taps(tspec, ttaps, 5).exact
    bad = [ttaps[0]._replace(phase=(1,)), *ttaps[1:]]
    report = verify_transposed_taps(tspec, bad, 5)
    assert not report.exact and "tap [0]" in str(report.mismatch)


def test_bad_direction_and_arguments_are_value_errors():
    with pytest.raises(ValueError, match="unknown direction 'sideways'"):
        axis_phase_map(3, 2, direction="sideways")
    with pytest.raises(ValueError, match="stride must be an integer ≥ 1, got 0"):
        axis_phase_map(3, 0)
    with pytest.raises(ValueError, match="every argument needs 2 entries"):
        phase_map((3, 3), (2,))


def test_strided_and_transposed_layers_are_one_spec_type_with_a_direction():
    from symstride import Conv
    from symstride.algebra.operator_checks import verify_subsampling

    spec = ConvSpec.create(kernel=3, stride=2, padding=1)
    tspec = ConvTransposeSpec.create(kernel=3, stride=2, padding=1, output_padding=1)
    assert isinstance(tspec, ConvSpec) and (spec.direction, tspec.direction) == ("strided", "transposed")
    assert spec.output_padding == () and tspec.output_padding == (1,)
    assert tspec != ConvSpec.create(kernel=3, stride=2, padding=1)  # same fields, other direction
    assert tspec.adjoint.direction == "strided" and tspec.adjoint.weight_shape == tspec.weight_shape
    with pytest.raises(TypeError, match="Conv needs a strided ConvSpec, got a ConvTransposeSpec"):
        Conv(tspec)
    with pytest.raises(TypeError, match="verify_subsampling expects a ConvSpec .* got ConvTransposeSpec"):
        verify_subsampling(tspec, 5)
