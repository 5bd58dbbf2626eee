"""Normalisation and validation of layer parameters (:mod:`symstride.core.params`).

Every bad input must raise ``ValueError`` or ``TypeError`` with a message naming the offending
value and the rule it broke; the messages are pinned with ``match=`` so that a regression in
the wording (or a different error firing first) is caught.
"""

from __future__ import annotations

import re

import numpy as np
import torch
import pytest

from symstride.core.errors import SymstrideError
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride import reference
from symstride.core.indexing import output_length, output_shape
from symstride.core.params import MAX_ELEMENTS, MAX_TAPS, ConvSpec, as_int, normalize_padding, per_axis

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


def test_docstring_example():
    spec = ConvSpec.create(kernel=3, stride=(2, 1), padding=((0, 1), 1))
    assert (spec.kernel, spec.stride, spec.padding) == ((3, 3), (2, 1), ((0, 1), (1, 1)))


def test_defaults():
    spec = ConvSpec.create(kernel=3)
    assert spec == ConvSpec(kernel=(3,), stride=(1,), dilation=(1,), padding=((0, 0),))
    assert (spec.in_channels, spec.out_channels, spec.groups) == (1, 1, 1)
    assert spec.ndim == 1 and spec.taps == 3 and spec.weight_shape == (1, 1, 3)


@pytest.mark.parametrize(
    "kwargs, kernel, stride, dilation, padding",
    [
        (dict(kernel=3), (3,), (1,), (1,), ((0, 0),)),
        (dict(kernel=3, ndim=2), (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0))),
        (dict(kernel=3, stride=2, padding=1, dilation=2, ndim=3), (3, 3, 3), (2, 2, 2), (2, 2, 2), ((1, 1),) * 3),
        (dict(kernel=(3, 5)), (3, 5), (1, 1), (1, 1), ((0, 0), (0, 0))),
        (dict(kernel=[3, 5], stride=[2, 1]), (3, 5), (2, 1), (1, 1), ((0, 0), (0, 0))),
        (dict(kernel=3, stride=(2, 1)), (3, 3), (2, 1), (1, 1), ((0, 0), (0, 0))),
        (dict(kernel=3, dilation=(1, 1, 2)), (3, 3, 3), (1, 1, 1), (1, 1, 2), ((0, 0),) * 3),
        # padding: per-axis ints, (left, right) pairs, mixed, a single pair broadcast
        (dict(kernel=3, padding=(1, 2)), (3, 3), (1, 1), (1, 1), ((1, 1), (2, 2))),
        (dict(kernel=3, padding=((0, 1),)), (3,), (1,), (1,), ((0, 1),)),
        (dict(kernel=3, padding=[(0, 1), (2, 3)]), (3, 3), (1, 1), (1, 1), ((0, 1), (2, 3))),
        (dict(kernel=(3, 3), padding=[(0, 1)]), (3, 3), (1, 1), (1, 1), ((0, 1), (0, 1))),
        (dict(kernel=(3, 3), padding=[2, (0, 1)]), (3, 3), (1, 1), (1, 1), ((2, 2), (0, 1))),
        (dict(kernel=3, padding=[1, 2, 3]), (3, 3, 3), (1, 1, 1), (1, 1, 1), ((1, 1), (2, 2), (3, 3))),
        (dict(kernel=(3, 1), padding=((1, 0), 0), stride=(1, 2)), (3, 1), (1, 2), (1, 1), ((1, 0), (0, 0))),
        # one-entry sequences broadcast like ints
        (dict(kernel=(3,), stride=(2, 2)), (3, 3), (2, 2), (1, 1), ((0, 0), (0, 0))),
        # NumPy integers and arrays are accepted
        (dict(kernel=np.int64(3), stride=np.array([2, 1])), (3, 3), (2, 1), (1, 1), ((0, 0), (0, 0))),
        (dict(kernel=3, padding=np.array([[0, 1], [1, 0]])), (3, 3), (1, 1), (1, 1), ((0, 1), (1, 0))),
        (dict(kernel=range(1, 4)), (1, 2, 3), (1, 1, 1), (1, 1, 1), ((0, 0),) * 3),
    ],
)
def test_create_normalises(kwargs, kernel, stride, dilation, padding):
    spec = ConvSpec.create(**kwargs)
    assert spec.kernel == kernel
    assert spec.stride == stride
    assert spec.dilation == dilation
    assert spec.padding == padding
    assert spec.ndim == len(kernel)
    # plain Python ints all the way down (hashable, JSON-friendly, exact)
    for value in (*spec.kernel, *spec.stride, *spec.dilation, *(v for pair in spec.padding for v in pair)):
        assert type(value) is int


def test_specs_are_equal_and_hashable_across_spellings():
    a = ConvSpec.create(kernel=[3, 3], stride=2, padding=1)
    b = ConvSpec.create(kernel=3, stride=(2, 2), padding=((1, 1), (1, 1)), ndim=2)
    assert a == b and hash(a) == hash(b)
    assert a != ConvSpec.create(kernel=3, stride=2, padding=1)  # 1-D


def test_spec_is_immutable():
    spec = ConvSpec.create(kernel=3)
    with pytest.raises(Exception):
        spec.kernel = (5,)  # type: ignore[misc]


def test_channels_and_groups():
    spec = ConvSpec.create(kernel=(3, 2), in_channels=6, out_channels=4, groups=2)
    assert spec.weight_shape == (4, 3, 3, 2)
    assert spec.taps == 6


def test_replace_revalidates_and_keeps_ndim():
    spec = ConvSpec.create(kernel=3, stride=2, padding=1, ndim=2)
    wider = spec.replace(stride=1)
    assert wider.stride == (1, 1) and wider.kernel == (3, 3) and wider.padding == spec.padding
    assert spec.stride == (2, 2)  # the original is untouched
    with pytest.raises(ValueError, match=r"stride must be a positive integer on every axis, got 0 \(axis 0\)"):
        spec.replace(stride=0)
    with pytest.raises(ValueError, match=r"groups=4 must divide in_channels=1"):
        spec.replace(groups=4)


@pytest.mark.parametrize(
    "kwargs, text",
    [
        (dict(kernel=3, stride=2), "1-D, kernel 3, stride 2, padding 0, dilation 1, 1→1 channels"),
        (dict(kernel=(3, 5), stride=2, padding=((0, 1), 1), in_channels=4, out_channels=8, groups=2),
         "2-D, kernel 3×5, stride 2, padding 0:1×1, dilation 1, 4→8 channels, groups 2"),
        (dict(kernel=3, padding=((1, 2), (1, 2)), dilation=(1, 2)),
         "2-D, kernel 3, stride 1, padding 1:2, dilation 1×2, 1→1 channels"),
    ],
)
def test_describe(kwargs, text):
    assert ConvSpec.create(**kwargs).describe() == text


@settings(max_examples=100)
@given(
    nd=st.integers(1, 4),
    data=st.data(),
)
def test_create_round_trips_normalised_values(nd, data):
    ints = lambda lo, hi: st.lists(st.integers(lo, hi), min_size=nd, max_size=nd).map(tuple)  # noqa: E731
    kernel, stride, dilation = data.draw(ints(1, 9)), data.draw(ints(1, 9)), data.draw(ints(1, 9))
    pads = tuple(data.draw(st.tuples(st.integers(0, 9), st.integers(0, 9))) for _ in range(nd))
    spec = ConvSpec.create(kernel=kernel, stride=stride, padding=pads, dilation=dilation)
    assert (spec.kernel, spec.stride, spec.dilation, spec.padding) == (kernel, stride, dilation, pads)
    # creating again from the normalised spec is the identity
    assert ConvSpec.create(spec.kernel, spec.stride, spec.padding, spec.dilation) == spec


# --------------------------------------------------------------------------------------------
# Bad input: every case pins its message
# --------------------------------------------------------------------------------------------


BAD = [
    # --- non-positive kernel / stride / dilation
    (dict(kernel=0), ValueError, r"kernel must be a positive integer on every axis, got 0 (axis 0)"),
    (dict(kernel=-3), ValueError, r"kernel must be a positive integer on every axis, got -3 (axis 0)"),
    (dict(kernel=(3, 0)), ValueError, r"kernel must be a positive integer on every axis, got 0 (axis 1)"),
    (dict(kernel=3, stride=0), ValueError, r"stride must be a positive integer on every axis, got 0 (axis 0)"),
    (dict(kernel=3, stride=(2, -1)), ValueError, r"stride must be a positive integer on every axis, got -1 (axis 1)"),
    (dict(kernel=3, dilation=0), ValueError, r"dilation must be a positive integer on every axis, got 0 (axis 0)"),
    (dict(kernel=3, dilation=(1, 1, -2)), ValueError,
     r"dilation must be a positive integer on every axis, got -2 (axis 2)"),
    # --- floats, bools, strings, None, nested sequences
    (dict(kernel=3.0), TypeError, r"kernel (axis 0) must be an integer, got 3.0 of type float"),
    (dict(kernel=(3, 2.5)), TypeError, r"kernel (axis 1) must be an integer, got 2.5 of type float"),
    (dict(kernel=3, stride=2.0), TypeError, r"stride (axis 0) must be an integer, got 2.0 of type float"),
    (dict(kernel=3, dilation=1.0), TypeError, r"dilation (axis 0) must be an integer, got 1.0 of type float"),
    (dict(kernel=True), TypeError, r"kernel (axis 0) must be an integer, got True of type bool"),
    (dict(kernel=3, stride=(True, 2)), TypeError, r"stride (axis 0) must be an integer, got True of type bool"),
    (dict(kernel=np.float64(3)), TypeError, r"kernel (axis 0) must be an integer, got"),
    (dict(kernel="3"), TypeError, r"kernel must be an int or a sequence of ints, got the string '3'"),
    (dict(kernel=3, stride="2"), TypeError, r"stride must be an int or a sequence of ints, got the string '2'"),
    (dict(kernel=3, dilation=b"1"), TypeError, r"dilation must be an int or a sequence of ints, got the string b'1'"),
    (dict(kernel=(3, "3")), TypeError, r"kernel (axis 1) must be an integer, got '3' of type str"),
    (dict(kernel=None), TypeError, r"kernel (axis 0) must be an integer, got None of type NoneType"),
    (dict(kernel=((3, 3),)), TypeError, r"kernel (axis 0) must be an integer, got (3, 3) of type tuple"),
    (dict(kernel=()), ValueError, r"kernel must name at least one axis, got an empty sequence"),
    (dict(kernel=3, stride=[]), ValueError, r"stride must name at least one axis, got an empty sequence"),
    # --- per-axis lists of different lengths
    (dict(kernel=(3, 3), stride=(1, 2, 1)), ValueError,
     r"kernel has 2 entries but the layer has 3 spatial axes; per-axis lists must all have the same length"),
    (dict(kernel=(3, 3, 3), dilation=(1, 2)), ValueError, r"dilation has 2 entries but the layer has 3 spatial axes"),
    (dict(kernel=(3, 3), ndim=3), ValueError, r"kernel has 2 entries but the layer has 3 spatial axes"),
    (dict(kernel=(3, 3), padding=(1, 1, 1)), ValueError, r"kernel has 2 entries but the layer has 3 spatial axes"),
    (dict(kernel=3, stride=(2, 2), padding=(1, 1, 1)), ValueError,
     r"stride has 2 entries but the layer has 3 spatial axes"),
    (dict(kernel=3, padding=(1, 2), ndim=1), ValueError, r"padding has 2 entries but the layer has 1 spatial axes"),
    (dict(kernel=3, padding=(1, 2, 3), ndim=2), ValueError, r"padding has 3 entries but the layer has 2 spatial axes"),
    # --- padding
    (dict(kernel=3, padding=-1), ValueError, r"padding must be non-negative, got -1 (left, axis 0)"),
    (dict(kernel=3, padding=(0, -2)), ValueError, r"padding must be non-negative, got -2 (left, axis 1)"),
    (dict(kernel=3, padding=((0, -1),)), ValueError, r"padding must be non-negative, got -1 (right, axis 0)"),
    (dict(kernel=3, padding=((-1, 0), (0, 0))), ValueError, r"padding must be non-negative, got -1 (left, axis 0)"),
    (dict(kernel=3, padding=((0, 1, 2),)), ValueError,
     r"padding on axis 0 must be an int or a (left, right) pair, got (0, 1, 2)"),
    (dict(kernel=3, padding=((1,), (2,))), ValueError,
     r"padding on axis 0 must be an int or a (left, right) pair, got (1,)"),
    (dict(kernel=3, padding=((0.5, 1),)), TypeError, r"padding left (axis 0) must be an integer, got 0.5"),
    (dict(kernel=3, padding=((1, 1.0),)), TypeError, r"padding right (axis 0) must be an integer, got 1.0"),
    (dict(kernel=3, padding=((True, 0),)), TypeError, r"padding left (axis 0) must be an integer, got True"),
    (dict(kernel=3, padding="same"), TypeError, r"padding must be an int or a sequence of ints, got the string 'same'"),
    (dict(kernel=3, padding=()), ValueError, r"padding must name at least one axis, got an empty sequence"),
    # --- channels and groups
    (dict(kernel=3, in_channels=0), ValueError, r"in_channels must be a positive integer, got 0"),
    (dict(kernel=3, out_channels=-4), ValueError, r"out_channels must be a positive integer, got -4"),
    (dict(kernel=3, groups=0), ValueError, r"groups must be a positive integer, got 0"),
    (dict(kernel=3, in_channels=2.0), TypeError, r"in_channels must be an integer, got 2.0 of type float"),
    (dict(kernel=3, out_channels=True), TypeError, r"out_channels must be an integer, got True of type bool"),
    (dict(kernel=3, groups="1"), TypeError, r"groups must be an integer, got '1' of type str"),
    (dict(kernel=3, in_channels=6, out_channels=4, groups=4), ValueError, r"groups=4 must divide in_channels=6"),
    (dict(kernel=3, in_channels=6, out_channels=4, groups=3), ValueError, r"groups=3 must divide out_channels=4"),
    (dict(kernel=3, in_channels=1, out_channels=2, groups=2), ValueError, r"groups=2 must divide in_channels=1"),
    # --- size limits
    (dict(kernel=(10**4, 10**4)), ValueError,
     r"kernel (10000, 10000) has 100000000 taps per channel pair; symstride accepts at most 10000000"),
    (dict(kernel=MAX_TAPS + 1), ValueError, r"has 10000001 taps per channel pair; symstride accepts at most 10000000"),
    (dict(kernel=(10**3, 10**3), in_channels=10**2, out_channels=10**2), ValueError,
     r"the layer has 10000000000 weights (out_channels*in_channels/groups*taps), 80.0 GB in float64; "
     r"symstride accepts at most 1000000000 (8 GB)"),
]


@pytest.mark.parametrize("kwargs, exc, message", BAD, ids=[repr(k)[:60] for k, _, _ in BAD])
def test_create_rejects(kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)) as info:
        ConvSpec.create(**kwargs)
    assert issubclass(type(info.value), exc) and isinstance(info.value, SymstrideError)  # one refusal type (issue 13 item 11)


@pytest.mark.parametrize(
    "padding, message",
    [
        # a float or bool where an int or a (left, right) pair belongs: either error type is
        # acceptable, but the message must name the value
        (2.0, r"2\.0"),
        (True, r"True"),
        ((1, 2.5), r"2\.5"),
    ],
)
def test_create_rejects_non_integer_padding(padding, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ConvSpec.create(kernel=3, padding=padding)


def test_size_limits_are_inclusive():
    assert ConvSpec.create(kernel=MAX_TAPS).taps == MAX_TAPS
    spec = ConvSpec.create(kernel=10**3, in_channels=10**3, out_channels=10**3)
    assert prod_weights(spec) == MAX_ELEMENTS
    # grouping divides the weight count: 10^10 weights in total but 10^9 with groups=10
    grouped = ConvSpec.create(kernel=10**3, in_channels=10**4, out_channels=10**3, groups=10)
    assert prod_weights(grouped) == MAX_ELEMENTS


def prod_weights(spec: ConvSpec) -> int:
    n = 1
    for v in spec.weight_shape:
        n *= v
    return n


# --------------------------------------------------------------------------------------------
# The helpers on their own
# --------------------------------------------------------------------------------------------


def test_as_int():
    assert as_int(3, "x") == 3 and type(as_int(np.int32(3), "x")) is int
    with pytest.raises(TypeError, match=r"x must be an integer, got 3.5 of type float"):
        as_int(3.5, "x")
    with pytest.raises(TypeError, match=r"x must be an integer, got False of type bool"):
        as_int(False, "x")
    with pytest.raises(TypeError, match=r"x must be an integer, got '3' of type str"):
        as_int("3", "x")


def test_per_axis_minimum():
    assert per_axis(0, "padding", 2, minimum=0) == (0, 0)
    assert per_axis((1, 2), "stride", 2, minimum=1) == (1, 2)
    with pytest.raises(ValueError, match=r"offset must be an integer >= 2 on every axis, got 1 \(axis 1\)"):
        per_axis((3, 1), "offset", 2, minimum=2)


def test_normalize_padding():
    assert normalize_padding(1, 2) == ((1, 1), (1, 1))
    assert normalize_padding([(1, 0)], 3) == ((1, 0),) * 3
    assert normalize_padding([0, (2, 3)], 2) == ((0, 0), (2, 3))
    with pytest.raises(ValueError, match=r"padding has 2 entries but the layer has 3 spatial axes"):
        normalize_padding((1, 2), 3)


# --------------------------------------------------------------------------------------------
# A kernel that does not fit the padded input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, k, s, p, d, message",
    [
        (2, 3, 1, (0, 0), 1, r"padded length 2 \(input 2 \+ padding 0\+0\) is shorter than the dilated kernel span δ\(k−1\)\+1 = 3"),
        (1, 2, 1, (0, 0), 1, r"padded length 1 \(input 1 \+ padding 0\+0\).* = 2"),
        (3, 3, 2, (0, 1), 2, r"padded length 4 \(input 3 \+ padding 0\+1\).* = 5"),
        (4, 5, 1, (0, 0), 3, r"padded length 4 .* = 13"),
    ],
)
def test_kernel_must_fit_padded_input(n, k, s, p, d, message):
    with pytest.raises(ValueError, match=message):
        output_length(n, k, s, p, d)
    # the boundary: one more sample of padding and it fits with a single output
    span = d * (k - 1) + 1
    assert output_length(span, k, s, (0, 0), d) == 1


def test_reference_conv_refuses_a_kernel_that_does_not_fit():
    x = np.zeros((1, 1, 4, 6))
    w = np.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"the kernel does not fit the padded input: padded length 4 .* span δ\(k−1\)\+1 = 5"):
        reference.conv(x, w, dilation=2)
    # padding rescues it
    assert reference.conv(x, w, dilation=2, padding=((1, 0), 0)).shape == (1, 1, 1, 2)
    with pytest.raises(ValueError, match=r"the kernel does not fit the padded input"):
        reference.destride_input(x, 3, 2, 0, 2)
    with pytest.raises(ValueError, match=r"the kernel does not fit the padded input"):
        output_shape(ConvSpec.create(kernel=3, dilation=2, ndim=2), (4, 6))


@pytest.mark.parametrize(
    "call, exc, message",
    [
        (lambda: reference.conv(np.zeros((1, 3, 5)), np.zeros((2, 1, 3)), groups=2), ValueError,
         r"groups=2 must divide in_channels=3"),
        (lambda: reference.conv(np.zeros((1, 4, 5)), np.zeros((3, 2, 3)), groups=2), ValueError,
         r"groups=2 must divide out_channels=3"),
        (lambda: reference.conv(np.zeros((1, 4, 5)), np.zeros((2, 1, 3)), groups=2), ValueError,
         r"weight expects 1 channels per group × 2 groups = 2 input channels, but x has 4"),
        (lambda: reference.conv(np.zeros((1, 1, 5)), np.zeros((1, 1, 3, 3))), ValueError,
         r"weight has 2 spatial axes but x has 1"),
        (lambda: reference.conv(np.zeros((1, 1, 5)), np.zeros((1, 1, 3)), stride=0), ValueError,
         r"stride must be a positive integer on every axis, got 0 \(axis 0\)"),
        (lambda: reference.conv(np.zeros((1, 1, 5)), np.zeros((1, 1, 3)), padding=(0, 1)), ValueError,
         r"padding has 2 entries but the layer has 1 spatial axes"),
        (lambda: reference.conv(np.zeros((1, 1, 5)), np.zeros((1, 1, 3)), dilation=1.5), TypeError,
         r"dilation \(axis 0\) must be an integer, got 1.5"),
        (lambda: reference.conv(np.zeros((1, 1, 5)), np.zeros((1, 1, 3)), groups=True), TypeError,
         r"groups must be an integer, got True"),
        (lambda: reference.conv(np.zeros((5,)), np.zeros((1, 1, 3))), ValueError,
         r"x must have shape \(batch, channels, \*spatial\) with at least one spatial axis, got shape \(5,\)"),
        (lambda: reference.conv([["a"]], np.zeros((1, 1, 3))), TypeError, r"x must be a numeric array, got dtype <U1"),
    ],
)
def test_reference_conv_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


# --------------------------------------------------------------------------------------------
# Validation gaps found while writing this suite (see each docstring for the failure seen)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, attribute, expected",
    [
        (dict(kernel=iter([3, 5])), "kernel", (3, 5)),
        (dict(kernel=3, stride=(s for s in (2, 1))), "stride", (2, 1)),
        (dict(kernel=3, padding=iter([1, (0, 1)])), "padding", ((1, 1), (0, 1))),
    ],
    ids=["kernel-iterator", "stride-generator", "padding-iterator"],
)
def test_one_shot_iterables_are_read_once(kwargs, attribute, expected):
    """Regression: ``create`` used to iterate each argument twice (once in ``_ndim_of`` to infer
    ``ndim``, once to read it), so a generator arrived empty and the user was told they passed
    "an empty sequence" (fixed by ``_materialize``).  Either read the values or refuse one-shot
    iterables with a TypeError; never the misleading error.
    """
    try:
        spec = ConvSpec.create(**kwargs)
    except TypeError:
        return  # refusing one-shot iterables outright is acceptable
    assert getattr(spec, attribute) == expected


@pytest.mark.parametrize(
    "ndim, exc",
    [(0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError)],
)
def test_explicit_ndim_is_validated(ndim, exc):
    """``ConvSpec.create(..., ndim=...)`` is public but ``ndim`` is never validated: ``ndim=0``
    returns a spec with no spatial axes (``kernel=()``, ``taps == 1``), ``ndim=2.0`` fails with
    Python's "can't multiply sequence by non-int of type 'float'", ``ndim=True`` is taken as 1.
    """
    with pytest.raises(exc, match=r"ndim"):
        ConvSpec.create(kernel=3, ndim=ndim)


@pytest.mark.parametrize("groups", [0, -2])
def test_destride_weights_refuses_non_positive_groups(groups):
    """``reference.destride_weights`` converts ``groups`` with ``as_int`` but only compares it with
    1 (to refuse ``layout='tf'``), so ``groups=0`` or ``-2`` is silently accepted, unlike every
    other entry point (``ConvSpec.create``, ``reference.conv``), which says
    "groups must be a positive integer, got 0".
    """
    with pytest.raises(ValueError, match=rf"groups must be a positive integer, got {groups}"):
        reference.destride_weights(np.ones((2, 1, 3)), 2, groups=groups)


@pytest.mark.parametrize(
    "value, expected",
    [(np.array(3), (3,)), (np.array([3, 5]), (3, 5)), (torch.tensor([3, 5]), (3, 5)), (torch.tensor(3), (3,))],
    ids=["numpy-0d", "numpy-1d", "torch-1d", "torch-0d"],
)
def test_array_like_kernels_work_or_are_refused_by_name(value, expected):
    """Array-likes holding integers are either read (as NumPy 1-d arrays are) or refused with a
    message that names the parameter, as errors.py promises ("naming the offending value and
    the rule it broke").  A raw "iteration over a 0-d array/tensor" from deep inside the
    normalisation names neither.
    """
    try:
        spec = ConvSpec.create(kernel=value)
    except (TypeError, ValueError) as exc:
        assert "kernel" in str(exc), f"message does not name the parameter: {exc}"
    else:
        assert spec.kernel == expected
