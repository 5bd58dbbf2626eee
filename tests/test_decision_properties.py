"""Property tests of the decision procedure: true rewrites inside random chains are proved for every
input size, and their corrupted twins are refuted with a counterexample that really differs.

Chains are 1-D, 2-D and 3-D with strides, dilations, asymmetric padding, groups and channels.
Each rewrite is a theorem (Theorem 1: Conv_s = D_s ∘ Conv_1; D_a ∘ D_b = D_ab with offsets;
Conv_s = W' ∘ space-to-depth with the polyphase bank W'); its twin corrupts one thing (an offset,
a stride, a bank entry).  Every example asserts the verdict; every refutation is re-evaluated by
the NumPy reference of each operator on random data at the counterexample's size.
"""

from __future__ import annotations

import itertools
import os
from math import prod

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride import Bank, Conv, D, SpaceToDepth, identity
from symstride.algebra.expressions import operator_chain
from symstride.algebra.numeric_forms import apply_numeric
from symstride.algebra.random_evaluation import random_values


def examples(n: int) -> int:
    """``max_examples`` for a Hypothesis test, ten times more under the ``thorough`` profile."""
    return n * 10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else n


def assert_refuted_for_real(lhs, rhs, result) -> None:
    """Refuted, with the smallest failing size, and the NumPy references differ there."""
    assert result.status == "refuted" and not result.proved and not result.ok, str(result)
    ce = result.counterexample
    assert ce.smallest and result.failure == str(ce)
    idn = result.identity
    x = random_values("x", list(np.indices((idn.channels, *ce.size))), 5)[None]
    out = []
    for side in (lhs, rhs):
        y = x
        for op in reversed(operator_chain(side)):
            y = apply_numeric(op, y, 5, idn.ndim)
        out.append(y[0])
    if ce.output is None:
        assert out[0].shape != out[1].shape
    else:
        assert out[0].shape == out[1].shape and abs(out[0][ce.output] - out[1][ce.output]) > 1e-9


@st.composite
def conv_layers(draw, ndim: int, cin: int, name: str = "w", unit: bool = False):
    """A convolution with every parameter drawn (per axis), ``cin`` input channels."""
    big = 3 if ndim == 3 else 4
    kernel = tuple(draw(st.integers(1, 3 if ndim < 3 else 2)) for _ in range(ndim))
    stride = (1,) * ndim if unit else tuple(draw(st.sampled_from([1, 2, 3, big, 13 if ndim == 1 else 2])) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    padding = [tuple(draw(st.integers(0, 2)) for _ in range(2)) for _ in range(ndim)]
    cout = draw(st.integers(1, 2))
    groups = draw(st.sampled_from([g for g in (1, 2) if cin % g == 0 and cout % g == 0]))
    return Conv(kernel=kernel, stride=stride, dilation=dilation, padding=padding, in_channels=cin, out_channels=cout, groups=groups, name=name)


@st.composite
def surroundings(draw, ndim: int):
    """Operators applied before (``inner``, on the input) and after (``outer``) the rewritten part."""
    cin = draw(st.integers(1, 2))
    inner = draw(st.sampled_from(["none", "conv", "subsample"]))
    if inner == "conv":
        inner_op = draw(conv_layers(ndim, cin, "u", unit=True))
        mid = inner_op.spec.out_channels
    else:
        inner_op = D(tuple(draw(st.integers(1, 3)) for _ in range(ndim))) if inner == "subsample" else None
        mid = cin
    layer = draw(conv_layers(ndim, mid))
    outer = draw(st.sampled_from(["none", "conv", "subsample"]))
    if outer == "conv":
        outer_op = draw(conv_layers(ndim, layer.spec.out_channels, "v", unit=True))
    else:
        outer_op = D(tuple(draw(st.integers(1, 3)) for _ in range(ndim))) if outer == "subsample" else None
    return inner_op, layer, outer_op


def chain(outer, middle, inner):
    ops = [op for op in (outer,) if op is not None] + list(operator_chain(middle)) + [op for op in (inner,) if op is not None]
    out = ops[0]
    for op in ops[1:]:
        out = out * op
    return out


@settings(max_examples=examples(14))
@given(st.sampled_from([1, 1, 2, 3]).flatmap(surroundings), st.booleans())
def test_theorem1_in_random_chains_proved_and_its_twin_refuted(parts, offset_twin):
    inner, layer, outer = parts
    s = layer.spec.stride
    lhs = chain(outer, layer, inner)
    rhs = chain(outer, D(s) * Conv(layer.spec.replace(stride=1), name=layer.name), inner)
    result = identity(lhs, rhs).check()
    assert result.proved, str(result)
    if offset_twin and max(s) > 1:  # off-by-one offset on an axis with stride ≥ 2
        axis = next(a for a, v in enumerate(s) if v > 1)
        wrong = D(s, offset=tuple(int(a == axis) for a in range(len(s))))
    else:  # a wrong stride
        wrong = D(tuple(v + (a == 0) for a, v in enumerate(s)))
    twin = chain(outer, wrong * Conv(layer.spec.replace(stride=1), name=layer.name), inner)
    assert_refuted_for_real(lhs, twin, identity(lhs, twin).check())


@settings(max_examples=examples(14))
@given(st.integers(1, 3), st.data())
def test_subsampling_composes_with_offsets_and_its_twin_is_refuted(ndim, data):
    a = tuple(data.draw(st.sampled_from([1, 2, 3, 13, 20])) for _ in range(ndim))
    b = tuple(data.draw(st.sampled_from([1, 2, 5, 20])) for _ in range(ndim))
    oa = tuple(data.draw(st.integers(0, v - 1)) for v in a)
    ob = tuple(data.draw(st.integers(0, v - 1)) for v in b)
    inner = data.draw(st.sampled_from([None, Conv(kernel=(2,) * ndim, padding=[(0, 1)] * ndim, name="u")]))
    ab = tuple(x * y for x, y in zip(a, b))
    off = tuple(y * p + q for y, p, q in zip(b, oa, ob))
    lhs = chain(None, D(a, offset=oa) * D(b, offset=ob), inner)
    result = identity(lhs, chain(None, D(ab, offset=off), inner)).check()
    assert result.proved, str(result)
    axis = data.draw(st.integers(0, ndim - 1))
    if ab[axis] > 1:  # the offset one off (mod the factor) on one axis
        bad = tuple(v if k != axis else (v + 1 if v + 1 < f else v - 1) for k, (v, f) in enumerate(zip(off, ab)))
        twin = chain(None, D(ab, offset=bad), inner)
    else:
        twin = chain(None, D(tuple(f + (k == axis) for k, f in enumerate(ab)), offset=off), inner)
    assert_refuted_for_real(lhs, twin, identity(lhs, twin).check())


def polyphase_bank(layer: Conv) -> np.ndarray:
    """W' of Theorem 2 (no padding, PyTorch channel order c·P + φ(r)): W'[o, c·P + φ(r), j] = w[o, c, m] where δm = s j + r."""
    spec = layer.spec
    s, d, k = spec.stride, spec.dilation, spec.kernel
    kq = tuple((dd * (kk - 1)) // ss + 1 for kk, ss, dd in zip(k, s, d))
    P = prod(s)
    bank = np.zeros((spec.out_channels, spec.in_channels * P, *kq), dtype=object)
    for o, c in itertools.product(range(spec.out_channels), range(spec.in_channels)):
        for m in itertools.product(*map(range, k)):
            q = [dd * mm for dd, mm in zip(d, m)]
            j = tuple(qq // ss for qq, ss in zip(q, s))
            r = [qq % ss for qq, ss in zip(q, s)]
            phi = 0
            for rr, ss in zip(r, s):
                phi = phi * ss + rr
            bank[(o, c * P + phi, *j)] = layer.weight(o, c, m)
    return bank


@settings(max_examples=examples(12))
@given(st.sampled_from([1, 1, 2, 3]), st.data())
def test_space_to_depth_bank_proved_and_a_wrong_entry_refuted(ndim, data):
    big = 2 if ndim == 3 else 3
    kernel = tuple(data.draw(st.integers(1, 3 if ndim < 3 else 2)) for _ in range(ndim))
    stride = tuple(data.draw(st.integers(1, big)) for _ in range(ndim))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(ndim))
    cin, cout = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2 if ndim < 3 else 1))
    layer = Conv(kernel=kernel, stride=stride, dilation=dilation, in_channels=cin, out_channels=cout)
    bank = polyphase_bank(layer)
    rhs = Bank(bank) * SpaceToDepth(stride)
    result = identity(layer, rhs).check()
    assert result.proved, str(result)
    live = [idx for idx, e in np.ndenumerate(bank) if e != 0]
    wrong = bank.copy()
    if len(live) >= 2:  # two live entries swapped
        i, j = data.draw(st.lists(st.sampled_from(live), min_size=2, max_size=2, unique=True))
        wrong[i], wrong[j] = bank[j], bank[i]
    else:  # the only live entry dropped
        wrong[live[0]] = 0
    twin = Bank(wrong) * SpaceToDepth(stride)
    assert_refuted_for_real(layer, twin, identity(layer, twin).check())


def test_the_bank_helper_matches_the_worked_example():
    import sympy as sp

    w = sp.IndexedBase("w")
    assert polyphase_bank(Conv(kernel=3, stride=2)).tolist() == [[[w[0], w[2]], [w[1], 0]]]
    assert polyphase_bank(Conv(kernel=3, stride=2, dilation=2)).tolist() == [[[w[0], w[1], w[2]], [0, 0, 0]]]
