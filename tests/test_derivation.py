"""Derivations: exact evaluation of lines, the rules' own checks, and step-by-step checking.

Every identity here has a failing twin: a corrupted line, bound, residue or map must be
rejected, with the step (or the instance) named.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symstride import Conv, destride
from symstride.proof.derivation import Derivation
from symstride.proof.step import Grid, Step
from symstride.algebra.lines import add, mul
from symstride.render.printing import Iverson, Written, latex, text
from symstride.proof.rules import Bijection, IndexSet, Partition, SameSet, SideCondition, reindex_bounds, rule
from symstride.algebra.expansion import Definition
from symstride.algebra.arith import EvaluationError
from symstride.algebra.frames import Frame
from symstride.algebra.polynomials import compare
from symstride.algebra.evaluation import evaluate
from symstride.algebra.random_evaluation import numeric

n, m, r, j, q, N, s = sp.symbols("n m r j q N s", integer=True)
x, w, v = sp.IndexedBase("x"), sp.IndexedBase("w"), sp.IndexedBase("v")


# ---------------------------------------------------------------------------------------------
# terms: exact evaluation
# ---------------------------------------------------------------------------------------------


def frame(sizes=(6, 7), out=lambda N: N - 3):
    return Frame.grid({N: list(sizes)}, domain=[(n, 0, out(N))])


def test_sums_with_dependent_bounds_and_conditions_evaluate_exactly():
    f = frame()
    direct = evaluate(w[0] * x[n] + w[1] * x[n + 1] + w[2] * x[n + 2], f)
    nested = evaluate(sp.Sum(sp.Sum(Iverson(sp.Eq(sp.Mod(m, 2), r)) * w[m] * x[n + m], (m, 0, 2)), (r, 0, 1)), f)
    dependent = evaluate(sp.Sum(sp.Sum(w[2 * j + r] * x[n + 2 * j + r], (j, 0, sp.ceiling((3 - r) / 2) - 1)), (r, 0, 1)), f)
    assert compare(direct, nested) is None
    assert compare(direct, dependent) is None


def test_an_off_by_one_bound_is_a_difference_naming_the_output_and_monomial():
    f = frame()
    good = evaluate(sp.Sum(w[m] * x[n + m], (m, 0, 2)), f)
    short = evaluate(sp.Sum(w[m] * x[n + m], (m, 0, 1)), f)
    diff = compare(good, short)
    assert diff is not None
    assert diff.describe(f).startswith("at N = 6, n = 0:")
    assert diff.first == "w[2]·x[2]"


def test_definitions_unfold_and_reads_outside_a_domain_are_errors():
    defs = {
        "x": Definition(x[q], None, ((q, 0, N - 1),)),
        "v": Definition(v[q], x[2 * q], ((q, 0, (N - 1) // 2),)),
    }
    f = frame(out=lambda N: (N - 1) // 2)
    assert compare(evaluate(v[n], f, defs), evaluate(x[2 * n], f, defs)) is None
    with pytest.raises(EvaluationError, match=r"x\[2\*n \+ 1\] is outside the domain of x\[q\]|outside the domain of x\[q\]"):
        evaluate(x[2 * n + N], f, defs)


def test_non_integer_indices_are_rejected():
    with pytest.raises(EvaluationError, match="not an integer"):
        evaluate(x[n / 2], frame())


def test_coefficients_are_exact_rationals_and_cancel():
    f = frame()
    half = evaluate(sp.Rational(1, 2) * x[n] + sp.Rational(1, 2) * x[n], f)
    assert compare(half, evaluate(x[n], f)) is None
    assert compare(evaluate(x[n] - x[n], f), evaluate(sp.S.Zero, f)) is None


def test_numeric_values_are_deterministic_and_agree_with_exact_equality():
    f = frame()
    a = numeric(evaluate(sp.Sum(w[m] * x[n + m], (m, 0, 2)), f))
    b = numeric(evaluate(w[2] * x[n + 2] + w[0] * x[n] + w[1] * x[n + 1], f))
    assert np.array_equal(a, numeric(evaluate(sp.Sum(w[m] * x[n + m], (m, 0, 2)), f)))
    assert np.max(np.abs(a - b)) < 1e-15


# ---------------------------------------------------------------------------------------------
# rules: instances and side conditions
# ---------------------------------------------------------------------------------------------

k, d = sp.symbols("k delta", integer=True, positive=True)
params = Frame.grid({s: range(1, 5), k: range(1, 8), d: range(1, 4)})


def test_residue_classes_partition_the_taps_and_a_wrong_residue_does_not():
    good = Partition((), IndexSet(((m, 0, k - 1),)), (r, 0, s - 1), sp.Eq(sp.Mod(d * m, s), r))
    assert good.check(params).ok
    wrong = Partition((), IndexSet(((m, 0, k - 1),)), (r, 0, s - 1), sp.Eq(sp.Mod(d * m + 1, s + 1), r))
    outcome = wrong.check(params)
    assert not outcome.ok and "a partition needs exactly one" in outcome.detail


def _reindex(hi):
    return Bijection(
        ((r, 0, s - 1),),
        IndexSet(((m, 0, k - 1),), (sp.Eq(sp.Mod(d * m, s), r),)),
        IndexSet(((j, 0, hi),), (sp.Eq(sp.Mod(s * j + r, d), 0),)),
        {j: (d * m - r) / s},
        {m: (s * j + r) / d},
    )


def test_the_derived_reindexing_bound_is_a_bijection_and_an_off_by_one_is_not():
    lo, hi, conditions = reindex_bounds(0, k - 1, scale=d, stride=s, residue=r)
    assert lo == 0
    assert _reindex(hi).check(params).ok
    outcome = _reindex(hi + 1).check(params)
    assert not outcome.ok and "outside the source set" in outcome.detail
    assert not _reindex(hi - 1).check(params).ok
    assert all(c.check(params).ok for c in conditions)


def test_exchanging_sums_over_a_triangle_needs_the_right_bounds():
    first = IndexSet(((m, 0, k - 1), (j, 0, m)))
    assert SameSet((), first, IndexSet(((j, 0, k - 1), (m, j, k - 1)))).check(params).ok
    outcome = SameSet((), first, IndexSet(((j, 0, k - 1), (m, j + 1, k - 1)))).check(params)
    assert not outcome.ok and "occurs in one nesting only" in outcome.detail


def test_side_conditions_are_decided_by_sympy_when_possible_else_on_the_grid():
    by_sympy = SideCondition(sp.Ge(k * d, 1), "k δ ≥ 1").check(params)
    assert by_sympy.ok and by_sympy.method == "SymPy"
    by_grid = SideCondition(sp.Eq(sp.floor((k - 1) / s) + 1, sp.ceiling(k / s)), "floor/ceil identity").check(params)
    assert by_grid.ok and by_grid.method == "exhaustive"
    false = SideCondition(sp.Eq(sp.floor(k / s), sp.ceiling(k / s)), "not an identity").check(params)
    assert not false.ok and "false at s = 2, k = 1" in false.detail


def test_unknown_rules_list_the_valid_ones():
    with pytest.raises(ValueError, match="unknown rule 'magic'; the rules are: definition, stride-as-subsampling"):
        rule("magic")
    with pytest.raises(ValueError, match="unknown rule"):
        Step(x[n], "magic")


# ---------------------------------------------------------------------------------------------
# derivations
# ---------------------------------------------------------------------------------------------

LAYERS = [
    Conv(kernel=3, stride=2),
    Conv(kernel=(3, 3), stride=2, padding=1),
    Conv(kernel=5, stride=3, dilation=2, padding=(1, 2)),
    Conv(kernel=(3, 2), stride=(2, 1), in_channels=2, out_channels=3),
    Conv(kernel=3, stride=2, padding=1, dilation=2, in_channels=4, out_channels=2, groups=2),
]


@pytest.mark.parametrize("layer", LAYERS, ids=repr)
def test_every_step_of_a_layers_derivation_checks(layer):
    report = destride(layer).derivation.check()
    assert report.ok, report.failure
    assert [s.rule for s in report.steps] == [
        "definition", "stride-as-subsampling", "residue-split", "reindex", "phase-signals", "structural-zeros", "unit-stride-convolution",
    ]
    assert report.max_error <= 1e-12 and report.oracle == "the NumPy reference convolution"


def test_the_tf_layout_derivation_checks():
    assert destride(Conv(kernel=(3, 3), stride=2, in_channels=2), layout="tf").derivation.check().ok


M = sp.Symbol("m", integer=True, nonnegative=True)


def _broken(number, expr):
    d = destride(Conv(kernel=3, stride=2, padding=1)).derivation
    return d.with_step(number, expr(d.steps[number].expr))


@pytest.mark.parametrize(
    "number, corrupt, says",
    [
        (2, lambda e: e.replace(Iverson, lambda c: Iverson(sp.Eq(sp.Mod(M, 2), 0))), "step 2 (split the sum by residues)"),
        (3, lambda e: e.replace(sp.ceiling, lambda a: sp.ceiling(a) + 1), "step 3 (reindex by a bijection)"),
        (4, lambda e: e.xreplace({sp.Symbol("j", integer=True, nonnegative=True): sp.Symbol("j", integer=True, nonnegative=True)}) * 2, "step 4 (phases of the input)"),
        (6, lambda e: e.func(e.function, (e.limits[0][0], 0, 0), *e.limits[1:]), "step 6 (a unit-stride convolution over phase channels)"),
    ],
)
def test_a_broken_step_fails_its_check_naming_the_step(number, corrupt, says):
    report = _broken(number, corrupt).check()
    assert not report.ok
    assert report.failed_step == number
    assert report.failure.startswith(says)
    # the other steps still check: the failure is local
    assert all(s.ok for s in report.steps if s.number not in (number, number + 1))


def test_a_wrong_filter_bank_formula_fails_at_the_structural_zeros():
    eq = destride(Conv(kernel=3, stride=2))
    d = eq.derivation
    wrong = {**d.definitions}
    W = wrong["W'"]
    wrong["W'"] = Definition(W.lhs, W.rhs.xreplace({sp.Integer(2): sp.Integer(1)}), W.domain, W.inverse, W.note)
    broken = Derivation(d.title, d.lhs, d.steps, definitions=list(wrong.values()), grid=d.grid, notation=d.notation, oracle=d.oracle, oracle_name=d.oracle_name)
    report = broken.check()
    # rejected for all values (the symbolic instance check names the index) and on the grid
    assert report.failed_step == 5 and "not an instance of the rule: index 1 of w" in report.failure
    assert any(kind == "exact" and not o.ok for kind, o in report.steps[5].checks)


def test_check_reports_read_like_a_table_and_are_cached():
    d = destride(Conv(kernel=3, stride=2)).derivation
    report = d.check()
    assert d.check() is report
    out = str(report)
    assert out.splitlines()[0] == "Check of “A stride-2 convolution with a 3-tap kernel is a unit-stride convolution on 2 phases”: PROVED for all values of N"
    assert "(3) reindex by a bijection  ✓ proved" in out
    assert "(m) ↔ (j) is a bijection on all 15 index tuples (enumerated both ways)" in out
    assert repr(report).startswith("CheckReport(ok: 'A stride-2") and "\n" not in repr(report)
    data = report.to_json()
    assert data["ok"] and data["proved"] and data["failure"] is None and data["steps"][3]["proof"]["status"] == "proved"


def test_text_of_a_derivation_numbers_the_chain_with_its_rules():
    out = str(destride(Conv(kernel=3, stride=2)).derivation)
    assert "(0) y[n] = Σ_{m=0..2} w[m]·x[2·n + m]" in out
    assert "(3)      = Σ_{r=0..1} Σ_{j=0..⌈(3 - r)/2⌉ - 1} w[2·j + r]·x[2·(n + j) + r]" in out
    assert "W'[r, j] = w[2·j + r] if 2·j + r ≤ 2 else 0" in out
    assert "phase r=1 │ w[1]  0" in out


def test_invalid_layers_fail_with_the_foundations_errors():
    with pytest.raises(ValueError, match="kernel must be a positive integer on every axis, got 0"):
        destride(Conv(kernel=0, stride=2)).derivation


# ---------------------------------------------------------------------------------------------
# printing lines as written
# ---------------------------------------------------------------------------------------------


def test_written_sums_print_in_the_order_written_and_fold_numbers():
    expr = add(mul(2, n), m)
    assert latex(expr) == "2 n + m" and text(expr) == "2·n + m"
    assert latex(add(add(N, 1, 1), -2)) == "N"
    assert isinstance(add(n, m), Written)


def test_conditional_sums_print_their_condition_under_the_sum_sign():
    expr = sp.Sum(Iverson(sp.Eq(sp.Mod(m, 2), r)) * w[m], (m, 0, 2))
    assert latex(expr) == r"\sum_{\substack{m=0 \\ m \equiv r \pmod{2}}}^{2} {w}_{m}"
    assert text(expr) == "Σ_{m=0..2, m ≡ r (mod 2)} w[m]"
