"""Known values and properties of the integer index arithmetic in :mod:`symstride.core.indexing`.

Known values are tables (worked out by hand from DESIGN.md); properties are checked with
Hypothesis.  Where PyTorch defines the same quantity (output shapes, pixel_unshuffle's channel
order) it is the oracle.  Everything here is exact integer arithmetic: no tolerances.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from math import prod

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride.core import indexing
from symstride.core.indexing import (
    Tap,
    channel_decode,
    channel_index,
    equivalent_kernel,
    output_length,
    output_shape,
    phase_count,
    phase_index,
    phase_vector,
    phases,
    prepared_length,
    prepared_shape,
    split_tap,
    structural_zeros,
    tap_map,
    weight_gather_index,
)
from symstride.core.params import ConvSpec

_SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1


def examples(n: int) -> int:
    return n * _SCALE


@pytest.fixture(autouse=True, scope="module")
def _single_thread_torch():
    """Tiny tensors only: skip torch's intra-op thread pool (restored after the module)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------------------------
# output_length
# --------------------------------------------------------------------------------------------

OUTPUT_LENGTH_TABLE = [
    # n, kernel, stride, (left, right), dilation, expected
    (5, 3, 1, (0, 0), 1, 3),
    (5, 3, 2, (0, 0), 1, 2),
    (6, 3, 2, (0, 0), 1, 2),
    (7, 3, 2, (0, 0), 1, 3),
    (7, 3, 2, (1, 1), 1, 4),
    (224, 7, 2, (3, 3), 1, 112),
    (112, 3, 2, (1, 1), 1, 56),
    (56, 1, 2, (0, 0), 1, 28),
    (9, 3, 2, (1, 1), 1, 5),
    (8, 3, 2, (1, 1), 1, 4),
    (3, 3, 1, (0, 0), 1, 1),  # exactly fits
    (1, 3, 1, (1, 1), 1, 1),  # fits only thanks to padding
    (2, 3, 5, (0, 1), 1, 1),
    (10, 3, 1, (0, 0), 2, 6),
    (10, 3, 3, (0, 0), 3, 2),
    (7, 3, 3, (0, 0), 3, 1),  # span 7
    (4, 2, 4, (2, 3), 1, 2),
    (1, 1, 1, (0, 0), 1, 1),
    (1, 1, 4, (0, 0), 1, 1),
    (5, 5, 2, (0, 4), 1, 3),
]


@pytest.mark.parametrize("n, k, s, p, d, expected", OUTPUT_LENGTH_TABLE)
def test_output_length_known_values(n, k, s, p, d, expected):
    assert output_length(n, k, s, p, d) == expected


@pytest.mark.parametrize("n, k, s, p, d, expected", OUTPUT_LENGTH_TABLE)
def test_output_length_table_agrees_with_torch(n, k, s, p, d, expected):
    x = F.pad(torch.zeros(1, 1, n), p)
    y = F.conv1d(x, torch.zeros(1, 1, k), stride=s, dilation=d)
    assert y.shape[-1] == expected


@settings(max_examples=examples(150))
@given(
    n=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 5), d=st.integers(1, 4),
    left=st.integers(0, 5), right=st.integers(0, 5),
)
def test_output_length_matches_torch_or_refuses(n, k, s, d, left, right):
    x = F.pad(torch.zeros(1, 1, n), (left, right))
    if n + left + right < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="the kernel does not fit the padded input"):
            output_length(n, k, s, (left, right), d)
        with pytest.raises(RuntimeError):
            F.conv1d(x, torch.zeros(1, 1, k), stride=s, dilation=d)
    else:
        expected = F.conv1d(x, torch.zeros(1, 1, k), stride=s, dilation=d).shape[-1]
        assert output_length(n, k, s, (left, right), d) == expected


def test_output_length_refusal_message():
    with pytest.raises(
        ValueError,
        match=r"padded length 4 \(input 2 \+ padding 1\+1\) is shorter than the dilated kernel span "
        r"δ\(k−1\)\+1 = 5",
    ):
        output_length(2, 3, 1, (1, 1), 2)


def test_output_shape_matches_torch_conv3d():
    spec = ConvSpec.create(kernel=(3, 2, 5), stride=(2, 3, 1), padding=((1, 0), 2, (0, 3)), dilation=(1, 2, 1))
    size = (7, 6, 5)
    x = F.pad(torch.zeros(1, 1, *size), (0, 3, 2, 2, 1, 0))
    y = F.conv3d(x, torch.zeros(1, 1, 3, 2, 5), stride=(2, 3, 1), dilation=(1, 2, 1))
    assert output_shape(spec, size) == tuple(y.shape[2:]) == (3, 3, 4)


def test_output_shape_int_size_broadcasts():
    spec = ConvSpec.create(kernel=3, stride=2, padding=1, ndim=2)
    assert output_shape(spec, 9) == output_shape(spec, (9, 9)) == (5, 5)


@pytest.mark.parametrize(
    "size, exc, message",
    [
        ((9,), ValueError, r"size has 1 axes but the layer has 2 spatial axes"),
        ((9, 9, 9), ValueError, r"size has 3 axes but the layer has 2 spatial axes"),
        ((9, 0), ValueError, r"size must be a positive integer on every axis, got 0 \(axis 1\)"),
        ((-1, 9), ValueError, r"size must be a positive integer on every axis, got -1 \(axis 0\)"),
        ((9, 2.0), TypeError, r"size \(axis 1\) must be an integer, got 2.0"),
        ((True, 9), TypeError, r"size \(axis 0\) must be an integer, got True"),
        ((9, 2), ValueError, r"the kernel does not fit the padded input"),
        ((10**5, 10**5), ValueError, r"exceeds 1000000000 elements"),
    ],
)
def test_output_shape_bad_sizes(size, exc, message):
    spec = ConvSpec.create(kernel=3, stride=2, padding=(1, 0), in_channels=1)
    with pytest.raises(exc, match=message):
        output_shape(spec, size)


# --------------------------------------------------------------------------------------------
# equivalent_kernel, phase_count
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, stride, dilation, expected",
    [
        (3, 2, 1, (2,)),
        (7, 2, 1, (4,)),
        (3, 2, 2, (3,)),
        (1, 2, 1, (1,)),
        (1, 4, 3, (1,)),
        (3, 1, 1, (3,)),
        (3, 1, 2, (5,)),  # unit stride: the dilated span
        (2, 3, 1, (1,)),
        (4, 3, 1, (2,)),
        (5, 4, 3, (4,)),
        (5, 2, 1, (3,)),
        (4, 2, 1, (2,)),
        ((3, 7), 2, 1, (2, 4)),
        ((3, 3), (2, 1), (1, 2), (2, 5)),
        ((3, 1, 5), (2, 2, 3), (2, 1, 2), (3, 1, 3)),
    ],
)
def test_equivalent_kernel_known_values(kernel, stride, dilation, expected):
    spec = ConvSpec.create(kernel=kernel, stride=stride, dilation=dilation)
    assert equivalent_kernel(spec) == expected


@settings(max_examples=examples(150))
@given(k=st.integers(1, 12), s=st.integers(1, 6), d=st.integers(1, 5))
def test_equivalent_kernel_is_the_smallest_that_holds_every_tap(k, s, d):
    (kq,) = equivalent_kernel(ConvSpec.create(kernel=k, stride=s, dilation=d))
    # k' phase samples cover the dilated span δ(k−1)+1 ...
    assert s * kq >= d * (k - 1) + 1
    # ... and k'−1 do not: the last tap's offset is exactly k'−1
    assert (d * (k - 1)) // s == kq - 1
    assert max(t.offset[0] for t in tap_map(ConvSpec.create(kernel=k, stride=s, dilation=d))) == kq - 1


@pytest.mark.parametrize("stride, expected", [(1, 1), (2, 2), ((2, 2), 4), ((2, 3), 6), ((2, 1, 3), 6), ((4, 4, 4), 64)])
def test_phase_count(stride, expected):
    assert phase_count(ConvSpec.create(kernel=1, stride=stride)) == expected


# --------------------------------------------------------------------------------------------
# The tap map m ↦ (r, j)
# --------------------------------------------------------------------------------------------


def test_tap_map_worked_example_1d():
    # DESIGN: k=3, s=2: m=0 → (r=0, j=0), m=1 → (r=1, j=0), m=2 → (r=0, j=1)
    taps = tap_map(ConvSpec.create(kernel=3, stride=2))
    assert taps == [
        Tap(tap=(0,), phase=(0,), offset=(0,)),
        Tap(tap=(1,), phase=(1,), offset=(0,)),
        Tap(tap=(2,), phase=(0,), offset=(1,)),
    ]


@pytest.mark.parametrize(
    "kernel, stride, dilation, expected",
    [
        # (tap, phase, offset) triples, 1-D
        (3, 2, 2, [(0, 0, 0), (1, 0, 1), (2, 0, 2)]),  # every tap in phase 0: δ = s
        (4, 3, 1, [(0, 0, 0), (1, 1, 0), (2, 2, 0), (3, 0, 1)]),
        (3, 3, 2, [(0, 0, 0), (1, 2, 0), (2, 1, 1)]),  # δm = 0, 2, 4
        (2, 1, 3, [(0, 0, 0), (1, 0, 3)]),
        (3, 4, 3, [(0, 0, 0), (1, 3, 0), (2, 2, 1)]),  # δm = 0, 3, 6
    ],
)
def test_tap_map_known_values_1d(kernel, stride, dilation, expected):
    taps = tap_map(ConvSpec.create(kernel=kernel, stride=stride, dilation=dilation))
    assert [(t.tap[0], t.phase[0], t.offset[0]) for t in taps] == expected


def test_tap_map_2d_3x3_stride2_live_taps_per_phase():
    spec = ConvSpec.create(kernel=3, stride=2, ndim=2)
    taps = tap_map(spec)
    assert len(taps) == 9
    counts = Counter(t.phase for t in taps)
    assert counts == {(0, 0): 4, (0, 1): 2, (1, 0): 2, (1, 1): 1}
    assert [counts[r] for r in phases(spec.stride)] == [4, 2, 2, 1]
    assert equivalent_kernel(spec) == (2, 2)
    assert structural_zeros(spec) == 7
    # the phase (1, 1) filter holds w[1, 1] at offset (0, 0)
    assert [t for t in taps if t.phase == (1, 1)] == [Tap((1, 1), (1, 1), (0, 0))]


def test_tap_map_is_row_major_over_taps():
    taps = tap_map(ConvSpec.create(kernel=(2, 3), stride=(2, 2)))
    assert [t.tap for t in taps] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


@st.composite
def specs(draw, max_ndim=3):
    nd = draw(st.integers(1, max_ndim))
    ax = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(nd))  # noqa: E731
    g = draw(st.integers(1, 3))
    return ConvSpec.create(
        kernel=ax(1, 5), stride=ax(1, 4), dilation=ax(1, 3),
        in_channels=g * draw(st.integers(1, 2)), out_channels=g * draw(st.integers(1, 2)), groups=g,
    )


@settings(max_examples=examples(150))
@given(spec=specs())
def test_tap_map_is_euclidean_division_and_injective(spec):
    taps = tap_map(spec)
    kq = equivalent_kernel(spec)
    assert len(taps) == spec.taps
    assert [t.tap for t in taps] == list(itertools.product(*map(range, spec.kernel)))
    for t in taps:
        for m, r, j, s, d, kk in zip(t.tap, t.phase, t.offset, spec.stride, spec.dilation, kq):
            assert d * m == s * j + r
            assert 0 <= r < s and 0 <= j < kk
    # distinct taps land on distinct (phase, offset) entries
    assert len({(t.phase, t.offset) for t in taps}) == len(taps)


@pytest.mark.parametrize(
    "tap, stride, dilation, expected",
    [((0,), (2,), (1,), ((0,), (0,))), ((5,), (2,), (1,), ((1,), (2,))), ((2, 3), (3, 2), (2, 1), ((1, 1), (1, 1))),
     ((4, 0, 1), (4, 2, 1), (1, 3, 2), ((0, 0, 0), (1, 0, 2)))],
)
def test_split_tap_known_values(tap, stride, dilation, expected):
    assert split_tap(tap, stride, dilation) == expected


# --------------------------------------------------------------------------------------------
# structural zeros
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, stride, dilation, expected",
    [
        (3, 2, 1, 1),  # DESIGN worked example: phase 1 filter [w1, 0]
        ((3, 3), 2, 1, 7),
        (1, 2, 1, 1),  # 1x1 stride 2: phase 1 is all zeros
        ((1, 1), 2, 1, 3),
        (3, 2, 2, 3),  # k'=3, every tap in phase 0: 2·3 − 3
        (3, 1, 1, 0),
        (3, 1, 2, 2),  # unit stride dilated: holes of the dilation
        (4, 2, 1, 0),
        ((7, 7), 2, 1, 15),  # 4·16 − 49
        ((3, 3, 3), 2, 1, 37),  # 8·8 − 27
    ],
)
def test_structural_zeros_known_values(kernel, stride, dilation, expected):
    assert structural_zeros(ConvSpec.create(kernel=kernel, stride=stride, dilation=dilation)) == expected


# --------------------------------------------------------------------------------------------
# phase_index / phase_vector
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phase, stride, flat",
    [((0,), (2,), 0), ((1,), (2,), 1), ((0, 1), (2, 2), 1), ((1, 0), (2, 2), 2), ((1, 1), (2, 2), 3),
     ((1, 2), (2, 3), 5), ((0, 2), (2, 3), 2), ((1, 0), (2, 3), 3), ((1, 0, 0), (2, 2, 2), 4),
     ((0, 0, 1), (2, 2, 2), 1), ((1, 0, 2), (2, 1, 3), 5), ((3, 3), (4, 4), 15)],
)
def test_phase_index_known_values(phase, stride, flat):
    assert phase_index(phase, stride) == flat
    assert phase_vector(flat, stride) == phase


@settings(max_examples=examples(100))
@given(stride=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple))
def test_phase_index_is_row_major_bijection(stride):
    vectors = list(phases(stride))
    assert vectors == list(itertools.product(*(range(s) for s in stride)))
    assert [phase_index(r, stride) for r in vectors] == list(range(prod(stride)))
    assert [phase_vector(i, stride) for i in range(prod(stride))] == vectors


# --------------------------------------------------------------------------------------------
# Channel orders
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "c, flat, channels, n_phases, layout, expected",
    [
        (0, 0, 3, 4, "pytorch", 0),
        (1, 2, 3, 4, "pytorch", 6),
        (2, 3, 3, 4, "pytorch", 11),
        (0, 0, 3, 4, "tf", 0),
        (1, 2, 3, 4, "tf", 7),
        (2, 3, 3, 4, "tf", 11),
        (2, 0, 3, 4, "tf", 2),
        (0, 1, 3, 4, "tf", 3),
        (0, 1, 3, 4, "pytorch", 1),
    ],
)
def test_channel_index_known_values(c, flat, channels, n_phases, layout, expected):
    assert channel_index(c, flat, channels, n_phases, layout) == expected
    assert channel_decode(expected, channels, n_phases, layout) == (c, flat)


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
@settings(max_examples=examples(100))
@given(channels=st.integers(1, 6), n_phases=st.integers(1, 9))
def test_channel_index_round_trip(layout, channels, n_phases):
    seen = []
    for c in range(channels):
        for flat in range(n_phases):
            ch = channel_index(c, flat, channels, n_phases, layout)
            assert channel_decode(ch, channels, n_phases, layout) == (c, flat)
            seen.append(ch)
    assert sorted(seen) == list(range(channels * n_phases))


def test_channel_index_default_layout_is_pytorch():
    assert channel_index(1, 0, 3, 4) == 4
    assert channel_decode(4, 3, 4) == (1, 0)


@pytest.mark.parametrize("fn, args", [(channel_index, (0, 0, 1, 1)), (channel_decode, (0, 1, 1))])
def test_unknown_layout_is_refused(fn, args):
    with pytest.raises(ValueError, match=r"unknown layout 'nhwc'; expected one of 'pytorch', 'tf'"):
        fn(*args, layout="nhwc")


@pytest.mark.parametrize("factor", [2, 3])
def test_pytorch_channel_order_is_pixel_unshuffle(factor):
    c_in, h, w = 3, 2, 2
    x = torch.arange(c_in * h * factor * w * factor, dtype=torch.int64).reshape(1, c_in, h * factor, w * factor)
    z = F.pixel_unshuffle(x, factor)
    stride = (factor, factor)
    n_phases = factor * factor
    for c in range(c_in):
        for r in phases(stride):
            ch = channel_index(c, phase_index(r, stride), c_in, n_phases, "pytorch")
            for a0, a1 in itertools.product(range(h), range(w)):
                assert z[0, ch, a0, a1] == x[0, c, factor * a0 + r[0], factor * a1 + r[1]]


# --------------------------------------------------------------------------------------------
# Prepared shapes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n_out, k_eq, stride, expected", [(5, 2, 2, 12), (1, 1, 1, 1), (4, 4, 2, 14), (3, 1, 3, 9), (112, 4, 2, 230)]
)
def test_prepared_length_known_values(n_out, k_eq, stride, expected):
    assert prepared_length(n_out, k_eq, stride) == expected


@pytest.mark.parametrize(
    "spec_kwargs, size, expected",
    [
        (dict(kernel=3, stride=2, padding=1, ndim=2), (9, 8), (6, 5)),  # reference docstring
        (dict(kernel=3, stride=2), 7, (4,)),  # N_out 3, k' 2
        (dict(kernel=7, stride=2, padding=3, ndim=2), 224, (115, 115)),  # N_out 112, k' 4
        (dict(kernel=1, stride=2), 5, (3,)),
        (dict(kernel=3, stride=1, dilation=2), 10, (10,)),  # N_out 6, k' 5
        (dict(kernel=(3, 5), stride=(2, 3), padding=((0, 1), (2, 0)), dilation=(1, 2)), (6, 11), (4, 4)),
    ],
)
def test_prepared_shape_known_values(spec_kwargs, size, expected):
    assert prepared_shape(ConvSpec.create(**spec_kwargs), size) == expected


# --------------------------------------------------------------------------------------------
# weight_gather_index
# --------------------------------------------------------------------------------------------


def test_weight_gather_index_worked_example():
    index = weight_gather_index(ConvSpec.create(kernel=3, stride=2))
    assert index.tolist() == [[[0, 2], [1, -1]]]


def test_weight_gather_index_two_channels_both_layouts():
    spec = ConvSpec.create(kernel=3, stride=2, in_channels=2)  # w flat: c0: 0 1 2, c1: 3 4 5
    assert weight_gather_index(spec, "pytorch").tolist() == [[[0, 2], [1, -1], [3, 5], [4, -1]]]
    assert weight_gather_index(spec, "tf").tolist() == [[[0, 2], [3, 5], [1, -1], [4, -1]]]


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
@settings(max_examples=examples(150))
@given(spec=specs())
def test_weight_gather_index_every_weight_exactly_once(layout, spec):
    index = weight_gather_index(spec, layout)
    cin_g = spec.in_channels // spec.groups
    n_phases = phase_count(spec)
    assert index.shape == (spec.out_channels, cin_g * n_phases, *equivalent_kernel(spec))
    assert index.dtype.kind == "i"
    live = index[index >= 0]
    assert sorted(live.tolist()) == list(range(prod(spec.weight_shape)))
    assert np.count_nonzero(index == -1) == spec.out_channels * cin_g * structural_zeros(spec)
    assert np.all(index >= -1)
    # and every weight lands where the tap map says
    w_index = np.arange(prod(spec.weight_shape)).reshape(spec.weight_shape)
    for t in tap_map(spec):
        flat = phase_index(t.phase, spec.stride)
        for c in range(cin_g):
            ch = channel_index(c, flat, cin_g, n_phases, layout)
            assert np.array_equal(index[(slice(None), ch, *t.offset)], w_index[(slice(None), c, *t.tap)])


def test_weight_gather_index_custom_taps():
    spec = ConvSpec.create(kernel=3, stride=2)
    wrong = [Tap((0,), (0,), (0,)), Tap((1,), (1,), (1,)), Tap((2,), (0,), (1,))]
    assert weight_gather_index(spec, taps=wrong).tolist() == [[[0, 2], [-1, 1]]]
    assert weight_gather_index(spec, taps=wrong).tolist() != weight_gather_index(spec).tolist()


def test_weight_gather_index_unknown_layout():
    with pytest.raises(ValueError, match=r"unknown layout 'NCHW'"):
        weight_gather_index(ConvSpec.create(kernel=3, stride=2), "NCHW")


def test_layouts_table():
    assert set(indexing.LAYOUTS) == {"pytorch", "tf"}
    assert indexing.check_layout("tf") == "tf"
