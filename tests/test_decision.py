"""Identities decided for every input size: proofs at large strides, refutations at the first failing size.

"First" is checked by brute force: both sides are evaluated exactly (the term evaluator, no z3) on
every smaller input size.  Every refutation is re-evaluated with the NumPy reference of each
operator on random data at the counterexample's size: the two sides really differ there.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from symstride import Bank, Conv, D, SpaceToDepth, identity
from symstride.algebra.decision import Sides, decide_identity, pointwise_normal_form
from symstride.algebra.expressions import operator_chain
from symstride.algebra.index_forms import INT
from symstride.algebra.numeric_forms import apply_numeric
from symstride.algebra.resampling import DepthToSpace, Pointwise
from symstride.algebra.evaluation import evaluate
from symstride.algebra.frames import Frame
from symstride.algebra.polynomials import compare
from symstride.algebra.random_evaluation import random_values

w = sp.IndexedBase("w")


def exact_failure(lhs, rhs, sizes_where, values, *, channels=None) -> bool:
    """Brute force, no z3: whether the identity fails (shapes, or an entry as polynomials) at some
    input size with every axis in ``values`` and ``sizes_where(N)`` true."""
    idn = identity(lhs, rhs, channels=channels)
    sides = Sides.build(operator_chain(lhs), operator_chain(rhs), idn.ndim, idn.channels)
    L, R = sides.left, sides.right
    grid = {Na: list(values) for Na in sides.N}
    where = [*L.defined, *R.defined, sizes_where(sides.N)]
    differ = [sp.Or(*(sp.Ne(a, b) for a, b in zip(L.size, R.size)))] if L.channels == R.channels else []
    if Frame.grid(grid, (), where + differ).size:
        return True
    c = sp.Dummy("c", **INT)
    n = [sp.Dummy(f"n{a}", **INT) for a in range(idn.ndim)]
    frame = Frame.grid(grid, [(c, 0, L.channels - 1), *((na, 0, size - 1) for na, size in zip(n, L.size))], where)
    if not frame.size:
        return False
    return compare(evaluate(L.base[(c, *n)], frame, sides.definitions), evaluate(R.base[(c, *n)], frame, sides.definitions)) is not None


def fails_exactly_at(lhs, rhs, size, **kw) -> bool:
    return exact_failure(lhs, rhs, lambda N: sp.And(*(sp.Eq(Na, v) for Na, v in zip(N, size))), sorted(set(size)), **kw)


def fails_before(lhs, rhs, size, **kw) -> bool:
    """Whether it fails at some size before ``size`` in the order "smallest" means: ΣN, then axis by axis."""
    def before(N):
        lex = sp.false
        for a in reversed(range(len(N))):
            lex = sp.Or(N[a] < size[a], sp.And(sp.Eq(N[a], size[a]), lex))
        total = sum(N)
        return sp.Or(total < sum(size), sp.And(sp.Eq(total, sum(size)), lex))
    return exact_failure(lhs, rhs, before, range(1, sum(size) - len(size) + 2), **kw)


def numeric_sides(lhs, rhs, size, channels, ndim, seed=3):
    """Both sides run by the NumPy reference on the same random input (weights seeded by name)."""
    x = random_values("x", list(np.indices((channels, *size))), seed)[None]
    out = []
    for side in (lhs, rhs):
        y = x
        for op in reversed(operator_chain(side)):
            y = apply_numeric(op, y, seed, ndim)
        out.append(y[0])
    return out


def assert_really_differs(lhs, rhs, result):
    ce = result.counterexample
    idn = result.identity
    a, b = numeric_sides(lhs, rhs, ce.size, idn.channels, idn.ndim)
    if ce.output is None:
        assert a.shape != b.shape, (a.shape, b.shape)
    else:
        assert a.shape == b.shape and abs(a[ce.output] - b[ce.output]) > 1e-9


# ---------------------------------------------------------------------------------------------
# false identities: refuted at their first failing size
# ---------------------------------------------------------------------------------------------

FALSE = [
    (D(13), D(14), (14,)),
    (D(8) * D(4), D(16), (17,)),
    (D(2) * D(7), D(13), (14,)),
    (D(400), D(401), (401,)),
    (D(20), D(20, offset=1), (2,)),
    (D(2) * D(200), D(400, offset=1), (2,)),
    (Conv(kernel=(3, 3, 3), stride=2), Conv(kernel=(3, 3, 3), stride=3), (3, 3, 5)),
    (D(20) * Conv(kernel=3), Conv(kernel=3, stride=21), (23,)),
    (D((13, 20)), D((13, 21)), (1, 21)),
]


@pytest.mark.parametrize("lhs, rhs, size", FALSE, ids=lambda v: repr(v))
def test_false_identities_are_refuted_at_the_first_failing_size(lhs, rhs, size):
    result = identity(lhs, rhs).check()
    assert not result.proved and not result.ok and result.status == "refuted"
    ce = result.counterexample
    assert ce.size == size and ce.smallest
    assert result.failure == str(ce) and "REFUTED" in str(result) and "smallest failing input size" in str(result)
    assert fails_exactly_at(lhs, rhs, size) and not fails_before(lhs, rhs, size)
    assert fails_before(lhs, rhs, size[:-1] + (size[-1] + 1,))  # the brute force does see that failure
    assert_really_differs(lhs, rhs, result)


def test_an_entry_counterexample_names_the_first_entry_and_both_sides():
    result = identity(D(2) * Conv(kernel=3), Conv(kernel=3, stride=2, padding=[(0, 1)])).check()
    ce = result.counterexample
    # equal at N = 3; at N = 4 the right side's padding gives it a second output
    assert ce.size == (4,) and ce.output is None and ce.reason == "the left side has output shape 1 channel × 1, the right side 1 channel × 2"
    assert not fails_exactly_at(D(2) * Conv(kernel=3), Conv(kernel=3, stride=2, padding=[(0, 1)]), (3,))
    result = identity(D(3) * Conv(kernel=2), Conv(kernel=2, stride=3, padding=[(1, 0)]) * D(1)).check()
    ce = result.counterexample
    assert ce.size == (2,) and ce.output == (0, 0) and ce.left == "w[0]·x[0, 0] + w[1]·x[0, 1]" and ce.right == "w[1]·x[0, 0]"
    assert_really_differs(D(3) * Conv(kernel=2), Conv(kernel=2, stride=3, padding=[(1, 0)]) * D(1), result)


# ---------------------------------------------------------------------------------------------
# true identities with large strides: proved for every size
# ---------------------------------------------------------------------------------------------

TRUE = [
    (D(2) * D(200), D(400)),
    (D(13) * D(20), D(260)),
    (D(20) * Conv(kernel=3), Conv(kernel=3, stride=20)),
    (D(13) * Conv(kernel=5, dilation=2, padding=[(1, 3)]), Conv(kernel=5, stride=13, dilation=2, padding=[(1, 3)])),
    (D(400) * Conv(kernel=3), Conv(kernel=3, stride=400)),
    (D(20, offset=7) * D(13, offset=3), D(260, offset=94)),
    (D((2, 3)) * Conv(kernel=(3, 2), padding=[(1, 0), (2, 1)], in_channels=2, out_channels=4, groups=2),
     Conv(kernel=(3, 2), stride=(2, 3), padding=[(1, 0), (2, 1)], in_channels=2, out_channels=4, groups=2)),
    (D(13) * Conv(kernel=3, dilation=13), Conv(kernel=3) * D(13)),
]


@pytest.mark.parametrize("lhs, rhs", TRUE, ids=lambda v: repr(v))
def test_true_identities_with_large_strides_are_proved(lhs, rhs):
    result = identity(lhs, rhs).check()
    assert result.proved and result.ok and result.failure is None and bool(result)
    assert "decided for all input sizes" in result.argument and "z3" in result.argument
    assert "PROVED for every input size" in str(result) and "(not proved)" not in str(result)


def test_proof_does_not_depend_on_the_grid():
    # the grid of the second opinion never reaches the first failure: the decision still refutes
    result = identity(D(400), D(401), sizes=[1, 2, 3]).check()
    assert result.counterexample.size == (401,)
    assert identity(D(2) * D(200), D(400), sizes=[5]).check().proved


# ---------------------------------------------------------------------------------------------
# pointwise maps
# ---------------------------------------------------------------------------------------------


def test_pointwise_maps_commute_with_index_only_operators():
    assert pointwise_normal_form((Pointwise("relu"), D(2), SpaceToDepth(2))) == (D(2), SpaceToDepth(2), Pointwise("relu"))
    for lhs, rhs in [
        (Pointwise("relu") * D(2), D(2) * Pointwise("relu")),
        (Pointwise("relu") * D(13) * Conv(kernel=3), D(13) * Pointwise("relu") * Conv(kernel=3)),
        (Conv(kernel=3, name="u") * Pointwise("relu") * Conv(kernel=3, stride=20), Conv(kernel=3, name="u") * D(20) * Pointwise("relu") * Conv(kernel=3)),
        (DepthToSpace(2) * Pointwise() * SpaceToDepth(2), Pointwise()),
    ]:
        result = identity(lhs, rhs).check()
        assert result.proved, str(result)
        assert "pointwise map commutes" in result.argument


def test_pointwise_maps_that_do_not_commute_are_refuted_or_bounded():
    result = identity(Conv(kernel=2) * Pointwise("relu"), Pointwise("relu") * Conv(kernel=2)).check()
    assert result.status == "refuted" and result.counterexample.size == (2,) and result.counterexample.smallest
    assert "quantifier alternation" in result.reason
    # true (a zero bank hides the difference) but beyond the decision: bounded evidence, never proved
    zero = Bank([[[0]]])
    result = identity(zero * Pointwise("relu") * Conv(kernel=3, padding=1), zero * Pointwise("relu") * Conv(kernel=1)).check()
    assert result.status == "not proved" and not result.proved and result.ok and result.failure is None
    assert result.headline == "holds for N ≤ 40 (not proved)" and "holds for N ≤ 40 (not proved)" in str(result)
    doc = result.to_json()
    assert doc["proved"] is False and doc["ok"] is True and doc["bounded_evidence"] == "N ≤ 40"
    # a shape mismatch is decided for every size even when the entries are not; the bounded grid
    # compares every smaller size exactly, so N = 14 is established as the smallest failing size
    result = identity(Pointwise("relu") * D(13), D(14) * Pointwise("relu")).check()
    assert result.counterexample.size == (14,) and result.counterexample.output is None and result.counterexample.smallest
    # (and beyond its bound a shape mismatch still refutes)
    result = identity(Pointwise("relu") * Conv(kernel=2), Conv(kernel=3) * Pointwise("relu")).check()
    assert result.status == "refuted" and result.counterexample.output is None


def test_z3_timeout_is_not_a_proof():
    result = identity(Conv(kernel=(3, 3), stride=2, padding=1), D((2, 2)) * Conv(kernel=(3, 3), padding=1)).check(timeout_ms=1)
    if result.status != "proved":  # z3 may still finish within a millisecond; then it proved it
        assert result.status == "not proved" and "z3" in result.reason and "(not proved)" in result.headline


# ---------------------------------------------------------------------------------------------
# the result object, sizes and rendering
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes, error, says", [
    ([], ValueError, "non-empty"),
    ([0], ValueError, "got 0"),
    ([-3], ValueError, "got -3"),
    ([2.5], TypeError, "2.5"),
    ([True], TypeError, "True"),
    ("12", TypeError, "'12'"),
])
def test_sizes_are_validated(sizes, error, says):
    with pytest.raises(error, match=says):
        identity(D(2), D(2), sizes=sizes)


def test_timeout_is_validated():
    for bad in (0, -5, 1.5, True):
        with pytest.raises(ValueError, match="timeout_ms must be a positive integer"):
            identity(D(2), D(2)).check(timeout_ms=bad)


def test_result_protocol_and_one_sided_sizes():
    result = identity(DepthToSpace(2) * SpaceToDepth(2), D(1), channels=2).check()
    assert result.proved
    assert any("only the right side is defined at N = 1" in n for n in result.notes)
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["proved"] is True and doc["failure"] is None and doc["meaning"].startswith("for every input size")
    assert "\n" not in repr(result) and repr(result).startswith("IdentityResult(ok: ")
    assert doc["kind"] == "IdentityResult" and doc["verdict"] == "proved"
    bad = identity(D(13), D(14)).check()
    doc = bad.to_json()
    assert doc["counterexample"]["size"] == [14] and doc["counterexample"]["smallest"] is True and doc["ok"] is False


def test_decide_identity_directly():
    out = decide_identity(D(400), D(401), ndim=1, channels=1)
    assert (out.status, out.size, out.output, out.smallest) == ("refuted", (401,), None, True)
    assert decide_identity(D(2) * D(200), D(400), ndim=1, channels=1).proved


def test_latex_of_every_verdict_compiles(tmp_path):
    from symstride.render.pdf import compile_pdf
    from symstride.render.templates import render_template

    zero = Bank([[[0]]])
    results = [
        identity(D(2) * D(200), D(400)).check(),
        identity(Conv(kernel=(3, 3, 3), stride=2), Conv(kernel=(3, 3, 3), stride=3)).check(),
        identity(zero * Pointwise("relu") * Conv(kernel=3, padding=1), zero * Pointwise("relu") * Conv(kernel=1)).check(),
    ]
    body = "\n".join(r.latex() for r in results)
    assert r"\textbf{proved for every input size}" in body and r"\textbf{refuted}" in body
    assert r"(not proved)" in body and r"\emph{Meaning:}" in body and r"\emph{Argument:}" in body
    for r in results:
        inline = r._repr_latex_()
        assert inline.startswith("$\\displaystyle") and inline.endswith("$")
    assert compile_pdf(render_template("document.tex", title="identities", body=body), tmp_path / "ids.pdf").exists()


def test_an_identity_whose_sides_are_never_both_defined_is_refused():
    # space-to-depth needs an even length: N on the left, N − 1 on the right
    with pytest.raises(ValueError, match="no input size where both sides .* are defined"):
        identity(SpaceToDepth(2), SpaceToDepth(2) * Conv(kernel=2)).check()


def test_depth_to_space_channels_that_depend_on_the_position_are_decided():
    # (D2S v)[c, t] reads channel 2c + (t mod 2): the conv weight's index depends on t mod 2
    conv = Conv(kernel=2, out_channels=2)
    bank = np.array(conv.weight_array.tolist(), dtype=object)
    assert identity(DepthToSpace(2) * conv, DepthToSpace(2) * Bank(bank)).check().proved
    wrong = bank.copy()
    wrong[1, 0, 1] = bank[1, 0, 0]  # a wrong bank entry, read only at odd t
    lhs, rhs = DepthToSpace(2) * conv, DepthToSpace(2) * Bank(wrong)
    result = identity(lhs, rhs).check()
    ce = result.counterexample
    assert (ce.size, ce.output, ce.smallest) == ((2,), (0, 1), True)
    assert ce.left == "w[1, 0, 0]·x[0, 0] + w[1, 0, 1]·x[0, 1]" and ce.right == "w[1, 0, 0]·x[0, 0] + w[1, 0, 0]·x[0, 1]"
    assert_really_differs(lhs, rhs, result)
    conv2 = Conv(kernel=(2, 2), in_channels=2, out_channels=4)
    assert identity(SpaceToDepth(2) * DepthToSpace(2) * conv2, conv2).check().proved


def test_an_index_form_reading_outside_its_input_is_never_proved():
    from dataclasses import replace

    from symstride.algebra.arith import EvaluationError
    from symstride.algebra.identity_formula import LinearEncoding
    from symstride.algebra.expansion import Definition

    sides = Sides.build((D(2),), (D(2),), 1, 1)
    name = sides.left.base.label.name
    d = sides.definitions[name]
    c, n = d.variables
    broken = Definition(d.lhs, sides.x[c, 2 * n + 1], d.domain)  # reads x[N] at odd N
    sides = replace(sides, right=sides.left, definitions={**sides.definitions, name: broken})
    with pytest.raises(EvaluationError, match="reads outside"):
        LinearEncoding(sides).status()
