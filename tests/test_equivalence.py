"""Theorem 2: the symbolic equivalence, its exact verification, and their failing twins."""

import itertools

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride import Conv, SymstrideError, destride
from symstride.reference import destride_input
from symstride.core.indexing import Tap, equivalent_kernel, weight_gather_index
from symstride.core.verify import verify_taps
from tests.tap_twins import corrupt_one_tap

w = sp.IndexedBase("w")
TOL = 1e-10  # float64 agreement with PyTorch


def test_filters_1d_worked_example():
    eq = destride(Conv(kernel=3, stride=2))
    assert eq.filters == sp.ImmutableDenseNDimArray([[[w[0], w[2]], [w[1], 0]]])
    assert eq.structural_zeros == 1 and eq.kernel == (2,) and eq.in_channels == 2


def test_filters_2d_3x3_stride2_live_taps():
    eq = destride(Conv(kernel=(3, 3), stride=2, padding=1))
    expected = [
        [[w[0, 0], w[0, 2]], [w[2, 0], w[2, 2]]],
        [[w[0, 1], 0], [w[2, 1], 0]],
        [[w[1, 0], w[1, 2]], [0, 0]],
        [[w[1, 1], 0], [0, 0]],
    ]
    assert eq.filters == sp.ImmutableDenseNDimArray([expected])
    live = [sum(1 for e in sp.flatten(eq.filters[0, p].tolist()) if e != 0) for p in range(4)]
    assert live == [4, 2, 2, 1] and eq.structural_zeros == 7


def test_filters_dilation_leaves_a_phase_empty():
    eq = destride(Conv(kernel=3, stride=2, dilation=2))
    assert eq.filters == sp.ImmutableDenseNDimArray([[[w[0], w[1], w[2]], [0, 0, 0]]])
    assert eq.live_phases == [(0,)]


def test_filters_layouts_multichannel():
    layer = Conv(kernel=2, stride=2, in_channels=2, out_channels=1)
    torch_order = destride(layer).filters
    tf_order = destride(layer, layout="tf").filters
    # pytorch: channel c·P + r; tf: r·C + c
    assert list(torch_order[0, :, 0]) == [w[0, 0, 0], w[0, 0, 1], w[0, 1, 0], w[0, 1, 1]]
    assert list(tf_order[0, :, 0]) == [w[0, 0, 0], w[0, 1, 0], w[0, 0, 1], w[0, 1, 1]]


@pytest.mark.parametrize(
    "layer",
    [Conv(3, stride=2), Conv(5, stride=3, dilation=2), Conv((3, 4), stride=(2, 3), in_channels=2, out_channels=2), Conv((2, 3, 2), stride=(2, 1, 2), dilation=(1, 2, 1))],
)
def test_formula_agrees_with_filters(layer):
    eq = destride(layer)
    sym = eq.index_symbols
    cin_g = layer.in_channels // layer.groups
    for o, c in itertools.product(range(layer.out_channels), range(cin_g)):
        for r in eq.phase_vectors:
            for j in itertools.product(*map(range, eq.kernel)):
                subs = {sym["o"][0]: o, sym["c"][0]: c, **dict(zip(sym["r"], r)), **dict(zip(sym["j"], j))}
                lhs_index = eq.formula_lhs.subs(subs).indices
                value = eq.formula.subs(subs)
                entry = eq.filters[lhs_index if layer.channel_indexed else (0, *lhs_index)]
                assert value == entry, (o, c, r, j)


def test_tf_layout_with_groups_is_refused():
    with pytest.raises(SymstrideError, match="phase-major .* splits each of the groups=2"):
        destride(Conv(3, stride=2, in_channels=4, out_channels=4, groups=2), layout="tf")


def test_destride_rejects_non_layers():
    with pytest.raises(TypeError, match="expects a symstride Conv layer"):
        destride("conv3x3")
    with pytest.raises(ValueError, match="unknown layout 'nchw'; expected one of 'pytorch', 'tf'"):
        destride(Conv(3, stride=2), layout="nchw")


# -- exact verification -------------------------------------------------------------------------

@st.composite
def configs(draw):
    nd = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
    g = draw(st.sampled_from([1, 2]))
    size = tuple(
        draw(st.integers(max(1, dd * (kk - 1) + 1 - sum(pp)), max(1, dd * (kk - 1) + 1 - sum(pp)) + (6 if nd < 3 else 3)))
        for kk, dd, pp in zip(k, d, p)
    )
    layout = draw(st.sampled_from(["pytorch", "tf"])) if g == 1 else "pytorch"
    return Conv(k, stride=s, padding=p, dilation=d, in_channels=g, out_channels=2 * g, groups=g), size, layout


def _torch_conv(nd):
    return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]


def _numeric_agrees(layer, size, taps, layout):
    """Float64 oracle: PyTorch's strided conv vs the unit-stride conv of the bank ``taps`` claims."""
    spec = layer.spec
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, spec.in_channels, *size))
    wt = rng.standard_normal(spec.weight_shape)
    flat_pad = [v for pair in reversed(spec.padding) for v in pair]
    conv = _torch_conv(spec.ndim)
    y = conv(F.pad(torch.tensor(x), flat_pad), torch.tensor(wt), stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
    index = weight_gather_index(spec, layout, taps)
    bank = np.where(index >= 0, wt.reshape(-1)[np.maximum(index, 0)], 0.0)
    z = destride_input(x, spec.kernel, spec.stride, spec.padding, spec.dilation, layout)
    y2 = conv(torch.tensor(z), torch.tensor(bank), groups=spec.groups)
    return float((y - y2).abs().max()) < TOL


@settings(max_examples=80, deadline=None)
@given(configs())
def test_verify_is_exact_and_agrees_with_pytorch(config):
    layer, size, layout = config
    eq = destride(layer, layout=layout)
    report = eq.verify(size=size)
    assert report.exact, str(report)
    assert _numeric_agrees(layer, size, eq.taps, layout)
    assert eq.verify_subsampling(size=size).exact


@settings(max_examples=80, deadline=None)
@given(configs(), st.data())
def test_corrupted_maps_rejected_exactly_when_pytorch_disagrees(config, data):
    """The failing twin: move one tap; verify must say not exact iff the numbers disagree."""
    layer, size, layout = config
    eq = destride(layer, layout=layout)
    taps, t = corrupt_one_tap(data, eq.taps, eq.kernel, layer.stride)  # always a real corruption
    report = verify_taps(layer.spec, taps, size, kernel=eq.kernel, layout=layout)
    slots = [(u.phase, u.offset) for u in taps]
    if len(set(slots)) < len(slots):
        assert not report.exact and "already holds tap" in report.mismatch.reason
        return
    assert report.exact == _numeric_agrees(layer, size, taps, layout)
    if not report.exact:
        assert report.mismatch.tap == t.tap
        assert f"tap [{', '.join(map(str, t.tap))}]" in str(report)


def test_moved_tap_is_named_with_both_sides():
    eq = destride(Conv(kernel=(3, 3), stride=2, padding=1))
    taps = [t._replace(offset=(1, 1)) if t.tap == (1, 2) else t for t in eq.taps]
    report = verify_taps(eq.spec, taps, (8, 8), kernel=eq.kernel)
    assert not report.exact
    assert report.mismatch.tap == (1, 2)
    assert report.mismatch.reason == (
        "tap [1, 2] at output y[0, 0, 0, 0]: the strided layer has w[0, 0, 1, 2]·x[0, 0, 0, 1], "
        "the equivalent layer has w[0, 0, 1, 2]·x[0, 0, 2, 1]"
    )


def test_verify_large_layer_exact():
    layer = Conv((3, 3), stride=2, padding=1, in_channels=64, out_channels=128)
    report = destride(layer).verify(size=(224, 224))
    assert report.exact and report.output_shape == (112, 112)


def test_verify_subsampling_rejects_wrong_operator():
    from symstride.algebra.operator_checks import verify_subsampling

    spec = Conv((3, 3), stride=2).spec
    assert verify_subsampling(spec, (8, 8)).exact
    report = verify_subsampling(spec, (8, 8), offset=1)
    assert not report.exact and "tap [0, 0] at output y[0, 0, 0, 0]" in str(report)
    report = verify_subsampling(spec, (9, 9), factor=3)
    assert not report.exact and "D(3) of the unit-stride output (7×7) has 3×3 samples" in str(report)


def test_report_reads_like_a_report():
    eq = destride(Conv(kernel=3, stride=2))
    text = str(eq)
    for fragment in ["over 2 phases", "phase r=0 │ w[0]  w[2]", "phase r=1 │ w[1]  0", "m=2", "formula  W'[r, j] = w[2*j + r]"]:
        assert fragment in text
    assert str(eq.verify(size=9)).startswith("Theorem 2 (stride 2 as 2 phases, layout pytorch): exact")
    assert eq._repr_latex_().startswith("$\\displaystyle")
