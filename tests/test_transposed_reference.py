"""The NumPy transposed convolution and its decomposition, against PyTorch's conv_transpose{1,2,3}d.

Float64, random data, tolerance 1e-10 (absolute, on values of order 1–10).
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from symstride.core.indexing import transposed_geometry, transposed_output_shape, transposed_tap_map
from symstride.core.params import ConvTransposeSpec
from symstride.reference.convolution import (
    conv,
    conv_transpose,
    depth_to_space,
    destride_transposed_bias,
    destride_transposed_input,
    destride_transposed_output,
    destride_transposed_weights,
    pad_or_trim,
)
from tests.transposed_cases import TOL, configs, data, examples, params, torch_conv_transpose
from tests.transposed_cases import single_thread_torch  # noqa: F401 (autouse fixture)


@settings(max_examples=examples(80))
@given(configs())
def test_conv_transpose_matches_torch(case):
    spec, size, seed = case
    x, w = data(spec, size, seed)
    expected = torch_conv_transpose(x, w, groups=spec.groups, **params(spec))
    got = conv_transpose(x, w, groups=spec.groups, **params(spec))
    assert got.shape == expected.shape == (2, spec.out_channels, *transposed_output_shape(spec, size))
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@settings(max_examples=examples(80))
@given(configs(), st.sampled_from(["pytorch", "tf"]))
def test_decomposition_matches_torch(case, layout):
    """unit-stride conv with C_out·P channels → depth-to-space → crop equals conv_transpose."""
    spec, size, seed = case
    if layout == "tf" and spec.groups > 1:
        spec = spec.replace(groups=1)
    x, w = data(spec, size, seed)
    p = params(spec)
    expected = torch_conv_transpose(x, w, groups=spec.groups, **p)
    bank = destride_transposed_weights(w, spec.stride, spec.dilation, layout, groups=spec.groups)
    z = conv(destride_transposed_input(x, spec.kernel, **p), bank, groups=spec.groups)
    got = destride_transposed_output(z, spec.kernel, layout=layout, size=size, **p)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@settings(max_examples=examples(40))
@given(configs(max_ndim=2), st.integers(0, 3), st.integers(0, 3))
def test_asymmetric_padding_is_a_crop_of_the_unpadded_output(case, left, right):
    spec, size, seed = case
    spec = spec.replace(padding=0)
    x, w = data(spec, size, seed)
    p = params(spec)
    full = torch_conv_transpose(x, w, groups=spec.groups, **p)
    if full.shape[2] - left - right < 1:
        return
    pads = ((left, right),) + ((0, 0),) * (spec.ndim - 1)
    expected = full[:, :, left:full.shape[2] - right]
    p["padding"] = pads
    np.testing.assert_allclose(conv_transpose(x, w, groups=spec.groups, **p), expected, rtol=0, atol=TOL)
    bank = destride_transposed_weights(w, spec.stride, spec.dilation, groups=spec.groups)
    z = conv(destride_transposed_input(x, spec.kernel, **p), bank, groups=spec.groups)
    got = destride_transposed_output(z, spec.kernel, size=size, **p)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


def test_bias_repeats_per_phase_in_both_layouts():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((2, 3, 3, 2)), rng.standard_normal(3)
    expected = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=(2, 3), padding=1).numpy()
    for layout in ("pytorch", "tf"):
        z = conv(destride_transposed_input(x, (3, 2), (2, 3), 1), destride_transposed_weights(w, (2, 3), layout=layout))
        z = z + destride_transposed_bias(b, (2, 3), layout)[None, :, None, None]
        got = destride_transposed_output(z, (3, 2), (2, 3), 1, layout=layout, size=(5, 4))
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


def test_worked_example_1d():
    """k=3, s=2: even outputs get taps 0 and 2 (flipped: [w2, w0]), odd outputs tap 1 (filter [0, w1])."""
    w = np.array([[[1.0, 10.0, 100.0]]])
    bank = destride_transposed_weights(w, 2)
    assert bank.tolist() == [[[100.0, 1.0]], [[0.0, 10.0]]]
    spec = ConvTransposeSpec.create(kernel=3, stride=2)
    assert [(t.tap, t.phase, t.offset) for t in transposed_tap_map(spec)] == [
        ((0,), (0,), (1,)), ((1,), (1,), (1,)), ((2,), (0,), (0,))]


def test_wrong_phase_assignment_changes_the_result():
    """The decomposition is not vacuous: swapping the two output phases of the bank breaks it."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 1, 6)), rng.standard_normal((1, 1, 3))
    expected = conv_transpose(x, w, stride=2, padding=1, output_padding=1)
    bank = destride_transposed_weights(w, 2)[::-1].copy()
    z = conv(destride_transposed_input(x, 3, 2, 1, 1), bank)
    got = destride_transposed_output(z, 3, 2, 1, 1, size=6)
    assert np.abs(got - expected).max() > 1e-3


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
def test_depth_to_space_matches_pixel_shuffle_order(layout):
    z = np.arange(2 * 12 * 2 * 3, dtype=np.float64).reshape(2, 12, 2, 3)
    got = depth_to_space(z, 2, layout)
    if layout == "pytorch":
        expected = torch.nn.functional.pixel_shuffle(torch.from_numpy(z), 2).numpy()
    else:  # phase-major: channel φ(r)·C + c
        expected = torch.nn.functional.pixel_shuffle(
            torch.from_numpy(z.reshape(2, 4, 3, 2, 3).transpose(0, 2, 1, 3, 4).reshape(2, 12, 2, 3)), 2).numpy()
    np.testing.assert_array_equal(got, expected)


def test_geometry_skips_blocks_the_padding_crops():
    """Large padding: whole blocks ⌊p/s⌋ are never computed, and the input is trimmed on the left."""
    spec = ConvTransposeSpec.create(kernel=3, stride=2, padding=5)
    (ax,) = transposed_geometry(spec, 8)
    assert ax == (7, 2, 4, 1, (-1, -2))  # N_out = 7·2 + 2 + 1 − 10; ⌈(5+7)/2⌉ − 2 = 4 blocks
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, 8)), rng.standard_normal((1, 1, 3))
    z = conv(destride_transposed_input(x, 3, 2, 5), destride_transposed_weights(w, 2))
    np.testing.assert_allclose(destride_transposed_output(z, 3, 2, 5, size=8),
                               torch_conv_transpose(x, w, stride=2, padding=5), rtol=0, atol=TOL)


def test_pad_or_trim():
    x = np.arange(6.0).reshape(1, 1, 6)
    assert pad_or_trim(x, [(-2, 1)]).tolist() == [[[2, 3, 4, 5, 0]]]
    assert pad_or_trim(x, [(1, -4)]).tolist() == [[[0, 0, 1]]]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(stride=2, output_padding=2), ValueError,
         r"output_padding must be smaller than either stride or dilation \(PyTorch's rule\), got output_padding 2 "
         r"with stride 2 and dilation 1 \(axis 0\)"),
        (dict(stride=(1, 2), dilation=(2, 1), output_padding=(2, 1)), ValueError,
         r"got output_padding 2 with stride 1 and dilation 2 \(axis 0\)"),
        (dict(output_padding=-1), ValueError, r"output_padding must be an integer >= 0 on every axis, got -1"),
        (dict(output_padding=0.5), TypeError, r"output_padding \(axis 0\) must be an integer, got 0.5"),
        (dict(stride=0), ValueError, r"stride must be a positive integer on every axis, got 0"),
        (dict(groups=2, in_channels=3), ValueError, r"groups=2 must divide in_channels=3"),
    ],
)
def test_spec_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        ConvTransposeSpec.create(kernel=3, **kwargs)


def test_reference_errors():
    x, w = np.zeros((1, 2, 3)), np.zeros((2, 1, 3))
    with pytest.raises(ValueError, match=r"the transposed layer has no output: .* = -1 must be at least 1"):
        conv_transpose(x, w, stride=1, padding=3)
    with pytest.raises(ValueError, match=r"weight expects 3 input channels \(its first axis\), but x has 2"):
        conv_transpose(x, np.zeros((3, 1, 3)))
    with pytest.raises(ValueError, match=r"groups=2 must divide in_channels=3"):
        conv_transpose(np.zeros((1, 3, 3)), np.zeros((3, 1, 3)), groups=2)
    with pytest.raises(ValueError, match=r"output padding|output_padding must be smaller"):
        conv_transpose(x, w, stride=2, output_padding=3)
    with pytest.raises(ValueError, match=r"layout='tf' .* groups=2"):
        destride_transposed_weights(np.zeros((2, 1, 3)), 2, layout="tf", groups=2)
    with pytest.raises(ValueError, match=r"unit-stride output must have spatial shape \(4,\)"):
        destride_transposed_output(np.zeros((1, 2, 5)), 3, 2, size=3)
    with pytest.raises(ValueError, match=r"bias must be one-dimensional"):
        destride_transposed_bias(np.zeros((2, 2)), 2)
