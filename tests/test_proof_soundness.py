"""Proved means proved: every named proof is proved for all values, and its failing twins are rejected.

For each named proof: a forged line that a finite grid cannot tell apart is rejected as no
instance of its rule (naming the step and the rule); a side condition that is false for some
values is refuted with z3's counterexample; citing the result being proved is rejected; a cycle
of lemma citations is rejected.  The symbolic verdicts are decided by :func:`prove_step` (z3),
independent of the grid evidence.
"""

from __future__ import annotations

import pytest
import sympy as sp

from symstride import Conv, destride
from symstride.proof.proofs import PROOFS, lemma_application, proof_status
from symstride.proof.rules import RULES, SideCondition
from symstride.proof.step import Step
from symstride.proof.citations import using_registry
from symstride.proof.step_proofs import prove_step
from symstride.proof.subsampling import subsampling_proof

I = {"integer": True, "nonnegative": True}
P = {"integer": True, "positive": True}


def parts(name):
    out = PROOFS[name][1]()
    for d in out:
        d.result = name
    return out


def first_failure(d):
    for i in range(len(d.steps)):
        p = prove_step(d, i)
        if not p.proved:
            return i, p
    return None, None


@pytest.mark.parametrize("name", list(PROOFS))
def test_every_named_proof_is_proved_for_all_values(name):
    proved, why = proof_status(name)
    assert proved, why
    for d in parts(name):
        assert first_failure(d) == (None, None)


# ---------------------------------------------------------------------------------------------
# forged lines: true on any finite grid, rejected for all values
# ---------------------------------------------------------------------------------------------


def test_theorem_1_with_n_min_97_s_is_rejected_though_the_grid_cannot_see_it():
    d = subsampling_proof()
    d.result = "stride-as-subsampling"
    s, n = sp.Symbol("s", **P), sp.Symbol("n", **I)
    forged = d.with_step(1, d.steps[1].expr.base[n * sp.Min(97, s)])
    report = forged.check()
    assert not report.ok and not report.proved and report.failed_step == 1
    assert report.failure.startswith("step 1 (unfold a definition): line 1 is not an instance of the rule: index 1 of ")
    assert "s = " in report.failure  # z3's counterexample, with s ≥ 98
    assert all(o.ok for _, o in report.steps[1].checks)  # the grid (s ≤ 4) sees nothing wrong
    also = d.with_step(1, d.steps[1].expr.base[n * sp.Min(4, s)]).check()
    assert also.failed_step == 1 and "not an instance" in also.failure


def _shift_index(expr, base, by=1):
    def moved(a):
        return a.func(a.base, *([a.indices[0] + by] + list(a.indices[1:])))

    return expr.replace(lambda a: isinstance(a, sp.Indexed) and a.base.label.name == base, moved)


def _min_s(expr, base):
    """The first index of every ``base[…]`` read, multiplied by min(1, s − 96)·… = a factor 1 for s ≤ 96."""
    def forged(a):
        s = next(iter(sorted((x for x in a.free_symbols if x.name.startswith("s")), key=str)), None)
        i0 = a.indices[0]
        return a.func(a.base, *([i0 + sp.Min(0, s - 97)] + list(a.indices[1:]))) if s is not None else a.func(a.base, i0 + 1, *a.indices[1:])

    return expr.replace(lambda a: isinstance(a, sp.Indexed) and a.base.label.name == base, forged)


FORGED = [  # (proof, part, step, signal whose first index is forged)
    ("stride-as-subsampling", 0, 1, "u"),
    ("polyphase", 0, 3, "xtilde"),
    ("polyphase", 1, 1, "xphase"),  # the product over axes
    ("polyphase", 1, 2, "z"),
    ("network-layer", 0, 4, "x"),
    ("network", 0, 1, "X"),  # the one-layer rule, instantiated
    ("network", 0, 2, "Yprev"),
    ("composition", 0, 2, "w_2"),
    ("transposed", 0, 8, "u"),
    ("transposed", 1, 1, "u"),  # the product over axes
    ("subsampling-composition", 0, 2, "x"),
    ("noble-identity", 0, 2, "x"),
    ("noble-identity-transposed", 0, 2, "x"),
    ("pointwise-commutes", 0, 1, "x"),
    ("pointwise-commutes", 1, 1, "x"),
    ("space-to-depth-permutation", 0, 1, "x"),
    ("space-to-depth-permutation", 1, 2, "Z"),
]


@pytest.mark.parametrize("name, part, step, base", FORGED, ids=[f"{f[0]}-{f[1]}-{f[2]}" for f in FORGED])
def test_a_forged_step_of_each_proof_is_rejected_naming_the_step_and_rule(name, part, step, base):
    d = parts(name)[part]
    expr = d.steps[step].expr
    has_s = any(x.name.startswith("s") for x in expr.free_symbols)
    forged_expr = _min_s(expr, base) if has_s else _shift_index(expr, base)
    assert forged_expr != expr
    forged = d.with_step(step, forged_expr)
    verdict = prove_step(forged, step)
    assert verdict.status in ("not an instance", "refuted"), verdict.detail
    assert f"line {step} is not an instance of the rule" in verdict.detail
    report_failure = f"step {step} ({d.steps[step].title}): {verdict.detail}"
    assert report_failure.startswith(f"step {step} ({RULES[d.steps[step].rule].title})")


# ---------------------------------------------------------------------------------------------
# side conditions false for some values: refuted with a counterexample
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PROOFS))
def test_a_side_condition_false_beyond_the_grid_is_refuted_with_a_counterexample(name):
    d = parts(name)[0]
    p = sorted(d.grid.values, key=str)[0]
    top = max(d.grid.values[p])
    step = len(d.steps) - 1
    cond = SideCondition(sp.Le(p, top), f"{p} ≤ {top} (true on the whole grid)")
    wrong = d.with_step(step, conditions=d.steps[step].conditions + (cond,))
    verdict = prove_step(wrong, step)
    assert verdict.status == "refuted", verdict.detail
    assert verdict.detail.startswith(f"side condition ({p} ≤ {top} (true on the whole grid)): false at ")
    assert f"{p} = {top + 1}" in verdict.detail or any(
        o.counterexample and o.counterexample[p] > top for o in verdict.obligations if o.counterexample)
    report = wrong.check()
    assert not report.ok and report.failed_step == step


# ---------------------------------------------------------------------------------------------
# self-citation and cycles
# ---------------------------------------------------------------------------------------------


def test_theorem_1_citing_theorem_1_is_rejected():
    d = parts("stride-as-subsampling")[0]
    cited = d.with_step(1, rule="stride-as-subsampling")
    report = cited.check()
    assert not report.ok and report.failed_step == 1
    assert report.failure == ("step 1 (stride as subsampling (Theorem 1)): it cites stride as subsampling (Theorem 1), "
                              "the result this derivation proves: a proof cannot cite itself")


@pytest.mark.parametrize("lemma", [n for n, r in RULES.items() if r.lemma])
def test_a_lemma_whose_last_step_cites_the_lemma_is_rejected(lemma):
    d = parts(lemma)[0]
    last = len(d.steps) - 1
    verdict = prove_step(d.with_step(last, rule=lemma), last)
    assert verdict.status == "self-citation" and RULES[lemma].title in verdict.detail


def test_a_cycle_of_lemma_citations_is_rejected():
    def citing(lemma, other):
        def build():
            d = lemma_application(lemma)
            d.steps = (d.steps[0], Step(d.steps[1].expr, other, d.steps[1].why))
            return [d]
        return build

    # noble-identity "proved" by citing the transposed one, which is "proved" by citing noble-identity
    registry = {"noble-identity": citing("noble-identity", "noble-identity-transposed"),
                "noble-identity-transposed": citing("noble-identity-transposed", "noble-identity")}
    with using_registry(registry):
        d = lemma_application("noble-identity")
        verdict = prove_step(d, 1)
    assert not verdict.proved
    assert "citation cycle: noble-identity → noble-identity-transposed → noble-identity" in verdict.detail


def test_theorem_2_cites_theorem_1_only_once_theorem_1_is_proved():
    d = parts("polyphase")[0]
    assert d.steps[1].rule == "stride-as-subsampling"
    verdict = prove_step(d, 1)
    assert verdict.proved and verdict.cites == "stride-as-subsampling"

    def unproved():
        t1 = subsampling_proof()
        return [t1.with_step(1, t1.steps[1].expr.base[sp.Symbol("n", **I) * sp.Min(97, sp.Symbol("s", **P))])]

    with using_registry({"stride-as-subsampling": unproved}):
        verdict = prove_step(d, 1)
    assert verdict.status == "lemma not proved" and not verdict.proved


# ---------------------------------------------------------------------------------------------
# concrete layers: proved for every input size N
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [Conv(kernel=3, stride=2), Conv(kernel=(3, 2), stride=(2, 3), padding=1),
                                   Conv(kernel=5, stride=3, dilation=2, in_channels=2, out_channels=2)], ids=repr)
def test_a_concrete_layer_is_proved_for_every_input_size(layer):
    report = destride(layer).derivation.check()
    assert report.ok and report.proved, report.unproved
    assert report.verdict.startswith("PROVED for all values of N")
    assert report.to_json()["proved"] is True


def test_latex_says_theorem_and_proof_only_when_proved():
    d = subsampling_proof()
    d.result = "stride-as-subsampling"
    proved = d.latex()
    # Theorem 1 keeps its project name: the shared preamble's ``named`` theorem environment
    assert "\\begin{named}{Theorem 1}" in proved and "\\begin{proof}" in proved and "For all positive integers" in proved
    s, n = sp.Symbol("s", **P), sp.Symbol("n", **I)
    forged = d.with_step(1, d.steps[1].expr.base[n * sp.Min(97, s)]).latex()
    assert "\\begin{proof}" not in forged and "For all" not in forged and "Proved." not in forged
    assert "checked, not proved" in forged
