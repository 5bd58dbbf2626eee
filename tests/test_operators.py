"""Symbolic operators and Theorem 1 on explicit SymPy convolution tensors."""

import itertools

import numpy as np
import pytest
import sympy as sp

from symstride import Conv, D, SpaceToDepth, Subsample
from symstride.reference import conv


@pytest.mark.parametrize(
    "layer, size",
    [
        (Conv(3, stride=2), 7),
        (Conv(3, stride=2, padding=1), 6),
        (Conv(4, stride=3, padding=(1, 2), dilation=1), 9),
        (Conv(2, stride=2, dilation=2), 8),
        (Conv((3, 2), stride=(2, 1), padding=((0, 1), 1)), (5, 4)),
        (Conv(2, stride=2, in_channels=2, out_channels=2, groups=2), 5),
        (Conv(1, stride=3, in_channels=2, out_channels=3), 7),
    ],
)
def test_theorem1_on_convolution_tensors(layer, size):
    """Conv_s = D_s · Conv_1 as an exact equality of SymPy matrices."""
    unit = layer.unit_stride()
    n_unit = unit.output_shape(size)
    selection = D(layer.stride).matrix(n_unit, channels=layer.out_channels)
    assert layer.matrix(size) == selection * unit.matrix(size)


def test_theorem1_failing_twin_wrong_offset():
    layer = Conv(3, stride=2)
    unit = layer.unit_stride()
    wrong = Subsample(2, offset=1).matrix(unit.output_shape(9))  # too few samples
    assert wrong.shape[0] != layer.matrix(9).shape[0]
    wrong = Subsample(2, offset=1).matrix(unit.output_shape(8))  # same number of rows, wrong samples
    assert wrong.shape[0] == layer.matrix(8).shape[0]
    assert layer.matrix(8) != wrong * unit.matrix(8)


def test_conv_matrix_matches_numeric_reference():
    layer = Conv((3, 2), stride=(2, 1), padding=((1, 0), 1), dilation=(1, 2), in_channels=2, out_channels=2)
    size = (6, 5)
    rng = np.random.default_rng(3)
    w = rng.integers(-5, 6, layer.spec.weight_shape)
    x = rng.integers(-5, 6, (1, 2, *size))
    subs = dict(zip(layer.weights, w.reshape(-1).tolist()))
    matrix = layer.matrix(size).subs(subs)
    y = np.array(matrix, dtype=np.int64) @ x.reshape(-1)
    expected = conv(x, w, stride=(2, 1), padding=((1, 0), 1), dilation=(1, 2))
    np.testing.assert_array_equal(y, expected.reshape(-1))


def test_weight_symbols_one_channel_and_many():
    assert Conv(3).weights == [sp.IndexedBase("w")[i] for i in range(3)]
    layer = Conv(2, in_channels=2, out_channels=1, name="v")
    assert str(layer.weights[-1]) == "v[0, 1, 1]"


def test_space_to_depth_is_a_permutation_and_matches_reference():
    from symstride.reference import space_to_depth

    for layout in ("pytorch", "tf"):
        op = SpaceToDepth((2, 3), layout)
        m = op.matrix((4, 6), channels=2)
        assert m * m.T == sp.eye(48)
        x = np.arange(48).reshape(1, 2, 4, 6)
        np.testing.assert_array_equal(np.array(m, dtype=int) @ x.reshape(-1), space_to_depth(x, (2, 3), layout).reshape(-1))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Subsample(2, offset=2), "offset must be smaller than the factor"),
        (lambda: Subsample(0), "factor must be a positive integer"),
        (lambda: Conv(3, name="not a name"), "name must be an identifier"),
        (lambda: Conv(3).matrix(2), "kernel does not fit the padded input"),
        (lambda: Conv(3, in_channels=4, out_channels=4).matrix((2000,)), "explicit SymPy matrices are limited"),
        (lambda: SpaceToDepth(2).matrix(5), "divisible by the stride: 5 by 2"),
    ],
)
def test_bad_input(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_repr_and_latex():
    layer = Conv((3, 3), stride=2, padding=1, in_channels=2, out_channels=4)
    assert repr(layer) == "Conv(kernel=(3, 3), stride=2, padding=1, in_channels=2, out_channels=4)"  # evaluable: Conv takes no ndim
    assert sp.latex(layer) == r"\operatorname{Conv}_{s=2}^{k=3,\,p=1}(x;\, w)"
    assert layer._repr_latex_().startswith("$\\displaystyle ")
    assert sp.latex(D((2, 3), (1, 0))) == r"D_{(2,3)}^{(\,1,0\,)}" and sp.latex(D(2, 1)) == r"D_{2}^{(\,1\,)}"
    assert repr(D(2)) == "D(2)"
