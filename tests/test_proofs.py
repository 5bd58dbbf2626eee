"""Proofs for symbolic parameters and the rule library: every rule and every proof has a failing twin.

Each rule is exercised by a step that cites it: the true step checks, a false one (wrong bound,
wrong residue, off by one, a wrong lemma) fails *at that step*, and the failure names it.
"""

from __future__ import annotations

import pytest
import sympy as sp

from symstride import Conv, destride
from symstride.cli import main
from symstride.proof.derivation import Derivation
from symstride.proof.step import Grid, Step
from symstride.algebra.lines import add
from symstride.render.pdf import compile_pdf
from symstride.render.printing import Iverson
from symstride.proof.proofs import PROOFS, lemma_application, prove
from symstride.proof.rules import RULES, IndexSet, SameSet
from symstride.proof.signals import nested_sum
from symstride.proof.subsampling import subsampling_derivation
from symstride.algebra.expansion import Definition
from symstride.algebra.conv_transpose import ConvTranspose

I = {"integer": True, "nonnegative": True}
m, j, r, n, t = (sp.Symbol(s, **I) for s in "m j r n t".split())


@pytest.fixture(scope="module")
def proofs():
    return {name: prove(name) for name in PROOFS}


def test_every_proof_checks(proofs):
    for name, proof in proofs.items():
        assert proof.ok, f"{name}: {proof.failure}"


def test_the_polyphase_proof_derives_the_reindexed_bound(proofs):
    one_d = proofs["polyphase"].parts[0]
    (limit,) = [lim for lim in one_d.steps[3].expr.limits if lim[0].name == "j"]
    s, k, d = (sp.Symbol(name, integer=True, positive=True) for name in ("s", "k", "delta"))
    hi = limit[2]
    assert sp.simplify(hi - (sp.ceiling((d * (k - 1) + 1 - r) / s) - 1)) == 0
    assert "⌈(δ·(k - 1) + 1 - r)/s⌉ - 1" in one_d.text()


def test_the_proofs_cover_their_grids(proofs):
    report = proofs["polyphase"].parts[0].check()
    assert report.instances == 2808 and "s ∈ {1, …, 4}, k ∈ {1, …, 7}, δ ∈ {1, …, 3}, p ∈ {0, …, 3}, N ∈ {1, …, 12}" in report.grid
    assert proofs["polyphase"].parts[1].check().instances > 1000  # 2-D
    assert proofs["composition"].parts[0].check().instances > 1000


# ---------------------------------------------------------------------------------------------
# a broken variant of one step of each proof fails at that step
# ---------------------------------------------------------------------------------------------


def _bump(expr, var_name):
    """Replace the variable ``var_name`` by ``var_name + 1`` (an off-by-one)."""
    (v,) = [s for s in expr.free_symbols | {a for a in expr.atoms(sp.Symbol)} if s.name == var_name][:1]
    return expr.xreplace({v: v + 1})


BROKEN = [  # (proof, part, step, how the line is broken)
    ("stride-as-subsampling", 0, 1, lambda e: e.func(e.base, e.indices[0] + 1)),
    ("polyphase", 0, 3, lambda e: e.replace(sp.ceiling, lambda a: sp.ceiling(a) + 1)),
    ("polyphase", 1, 1, lambda e: _shift_atom(e, "xphase", 2)),  # the product over axes with axis 1's read moved
    ("composition", 0, 7, lambda e: e.replace(sp.ceiling, lambda a: sp.ceiling(a) - 1)),
    ("subsampling-composition", 0, 2, lambda e: e.func(e.base, e.indices[0] + 1)),
    ("noble-identity", 0, 3, lambda e: _bump(e, "n")),
    ("pointwise-commutes", 1, 2, lambda e: e.func(e.args[0].func(e.args[0].base, e.args[0].indices[1], e.args[0].indices[0]))),
    ("space-to-depth-permutation", 0, 2, lambda e: e.func(e.base, e.indices[0] + 1)),
    ("transposed", 0, 4, lambda e: e.replace(sp.ceiling, lambda a: sp.ceiling(a) + 1)),
    ("transposed", 1, 1, lambda e: _shift_atom(e, "u", 1)),  # the product over axes with axis 2's crop moved
    ("noble-identity-transposed", 0, 2, lambda e: _bump(e, "t")),
]


def _shift_atom(expr, base, position, by=1):
    """Every ``base[…]`` read with its index ``position`` moved by ``by``."""
    def moved(a):
        idx = list(a.indices)
        idx[position] = idx[position] + by
        return a.func(a.base, *idx)

    return expr.replace(lambda a: isinstance(a, sp.Indexed) and a.base.label.name == base, moved)


def _limit_to_zero(expr, name):
    """The sum over ``name`` cut to its first term (a phase dropped)."""
    return expr.replace(lambda a: isinstance(a, sp.Sum) and any(v.name == name for v, _, _ in a.limits),
                        lambda a: a.func(a.function, *((v, lo, lo) if v.name == name else (v, lo, hi) for v, lo, hi in a.limits)))


@pytest.mark.parametrize("name, part, step, corrupt", BROKEN, ids=[f"{b[0]}-{b[1]}-{b[2]}" for b in BROKEN])
def test_a_broken_step_of_a_proof_fails_at_that_step(proofs, name, part, step, corrupt):
    d = proofs[name].parts[part]
    broken = d.with_step(step, corrupt(d.steps[step].expr))
    report = broken.check()
    assert not report.ok
    assert report.failed_step == step, report.failure
    assert report.failure.startswith(f"step {step} ({d.steps[step].title})")


# ---------------------------------------------------------------------------------------------
# every rule: a true instance passes, a false one fails and is named
# ---------------------------------------------------------------------------------------------


def _tiny(lines, rules, instances=(), *, extra=()):
    """y[n] = lines[0] = lines[1] …, over k ≤ 5 taps and inputs N ≤ 9 (one step per rule)."""
    k, N = (sp.Symbol(s, integer=True, positive=True) for s in "k N".split())
    x, w, v = (sp.IndexedBase(s) for s in "x w v".split())
    exprs = [f(k, x, w, v) for f in lines]
    steps = [Step(exprs[0], "definition")] + [
        Step(e, rule, (), (), instances[i] if i < len(instances) else ()) for i, (e, rule) in enumerate(zip(exprs[1:], rules))
    ]
    defs = [
        Definition(x[t], None, ((t, 0, N - 1),)),
        Definition(w[t], None, ((t, 0, k - 1),)),
        Definition(v[t], None, ((t, 0, k - 1),)),
        *extra,
    ]
    grid = Grid({k: range(1, 6), N: range(1, 10)}, ((n, 0, N - k),), (sp.Ge(N, k),))
    return Derivation("tiny", sp.IndexedBase("y")[n], steps, definitions=defs, grid=grid)


conv = lambda k, x, w, v: sp.Sum(w[m] * x[n + m], (m, 0, k - 1))  # noqa: E731
tri = lambda k, x, w, v: sp.Sum(sp.Sum(w[j] * x[n + m], (j, 0, m)), (m, 0, k - 1))  # noqa: E731


def _exchange(lo):
    k = sp.Symbol("k", integer=True, positive=True)
    return SameSet((), IndexSet(((m, 0, k - 1), (j, 0, m))), IndexSet(((j, 0, k - 1), (m, lo(j), k - 1))))


RULE_CASES = {
    "exchange-sums": (
        _tiny([tri, lambda k, x, w, v: sp.Sum(sp.Sum(w[j] * x[n + m], (m, j, k - 1)), (j, 0, k - 1))], ["exchange-sums"], [(_exchange(lambda j: j),)]),
        _tiny([tri, lambda k, x, w, v: sp.Sum(sp.Sum(w[j] * x[n + m], (m, j + 1, k - 1)), (j, 0, k - 1))], ["exchange-sums"], [(_exchange(lambda j: j + 1),)]),
    ),
    "linearity": (
        _tiny([lambda k, x, w, v: sp.Sum((w[m] + v[m]) * x[n + m], (m, 0, k - 1)), lambda k, x, w, v: conv(k, x, w, v) + sp.Sum(v[m] * x[n + m], (m, 0, k - 1))], ["linearity"]),
        _tiny([lambda k, x, w, v: sp.Sum((w[m] + v[m]) * x[n + m], (m, 0, k - 1)), lambda k, x, w, v: conv(k, x, w, v) + sp.Sum(v[m] * x[n + m], (m, 0, k - 2))], ["linearity"]),
    ),
    "index-arithmetic": (
        _tiny([conv, lambda k, x, w, v: sp.Sum(w[m] * x[add(m, n)], (m, 0, k - 1))], ["index-arithmetic"]),
        _tiny([conv, lambda k, x, w, v: sp.Sum(w[m] * x[add(m, n, -1)], (m, 1, k - 1))], ["index-arithmetic"]),
    ),
}


def _layer_case(step, corrupt):
    d = destride(Conv(kernel=3, stride=2, padding=1)).derivation
    return d, d.with_step(step, corrupt(d.steps[step].expr))


def _theorem1_case(step, corrupt):
    d = subsampling_derivation(Conv(kernel=3, stride=2))
    return d, d.with_step(step, corrupt(d.steps[step].expr))


R = sp.Symbol("r", integer=True, nonnegative=True)
M = sp.Symbol("m", integer=True, nonnegative=True)
LAYER_CASES = {
    "definition": _layer_case(0, lambda e: e.func(e.function, (M, 0, 1))),  # a tap dropped
    "stride-as-subsampling": _layer_case(1, lambda e: e.func(e.base, e.indices[0] + 1)),
    "residue-split": _layer_case(2, lambda e: e.replace(Iverson, lambda c: Iverson(sp.Eq(sp.Mod(M, 2), 0)))),
    "reindex": _layer_case(3, lambda e: e.replace(sp.ceiling, lambda a: sp.ceiling(a) + 1)),
    "phase-signals": _layer_case(4, lambda e: e.replace(lambda a: isinstance(a, sp.Indexed) and a.base.label.name == "xphase", lambda a: a.func(a.base, a.indices[0], a.indices[1] + 1))),
    "structural-zeros": _layer_case(5, lambda e: e.func(e.function, *((v, lo, hi - 1) if v.name == "j" else (v, lo, hi) for v, lo, hi in e.limits))),
    "unit-stride-convolution": _layer_case(6, lambda e: e.func(e.function, *((v, lo, hi - 1) if v.name == "c'" else (v, lo, hi) for v, lo, hi in e.limits))),
    "unfold": _theorem1_case(2, lambda e: e.func(e.base, e.indices[0] + 1)),
}


def _transposed_case(rule, corrupt):
    d = destride(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1)).derivation
    step = next(i for i, s in enumerate(d.steps) if s.rule == rule)
    return d, d.with_step(step, corrupt(d.steps[step].expr))


LAYER_CASES.update({  # the rules of the sub-pixel derivation (symstride.proof.subpixel)
    "gather": _transposed_case("gather", lambda e: _shift_atom(e, "xhat", 0)),
    "output-phase-split": _transposed_case("output-phase-split", lambda e: _limit_to_zero(e, "r")),
    "phase-taps": _transposed_case("phase-taps", lambda e: e.replace(Iverson, lambda c: Iverson(sp.Eq(c.lhs, 0)) if c.lhs.has(sp.Mod) else Iverson(c))),
    "phase-filters": _transposed_case("phase-filters", lambda e: _shift_atom(e, "v", 1)),
    "depth-to-space": _transposed_case("depth-to-space", lambda e: _shift_atom(e, "u", 0)),
    "crop": _transposed_case("crop", lambda e: _shift_atom(e, "u", 0, -1)),
})

def _cited_case(build, result, corrupt):
    d = build()
    d.result = result
    return d, d.with_step(1, corrupt(d.steps[1].expr))


def _product_case():
    from symstride.proof.separable import polyphase_product_proof

    return _cited_case(lambda: polyphase_product_proof(2), "polyphase", lambda e: _shift_atom(e, "xphase", 2))


def _instantiation_case():
    from symstride.proof.network_theorem import network_step_proof

    return _cited_case(network_step_proof, "network", lambda e: _shift_atom(e, "X", 1))


LAYER_CASES.update({  # the rules that cite a proved result: the product over axes, an instantiation
    "separable-product": _product_case(),
    "apply-result": _instantiation_case(),
})

LEMMA_CASES = {  # the lemma rules, each applied (lemma_application: its proof's first line = its last line) with a false twin
    "subsampling-composition": ("subsampling-composition", 0, 3, lambda e: e.func(e.base, e.indices[0] + 1)),
    "noble-identity": ("noble-identity", 0, 3, lambda e: e.replace(lambda a: isinstance(a, sp.Indexed) and a.base.label.name == "Dsx", lambda a: a.func(a.base, a.indices[0] + 1))),
    "pointwise-commutes": ("pointwise-commutes", 0, 2, lambda e: e.func(e.args[0].func(e.args[0].base, e.args[0].indices[0] + 1))),
    "space-to-depth-permutation": ("space-to-depth-permutation", 0, 2, lambda e: e.func(e.base, e.indices[0] + 1)),
    "noble-identity-transposed": ("noble-identity-transposed", 0, 4, lambda e: _shift_atom(e, "Usc", 0)),
}


def test_every_rule_has_a_true_and_a_false_instance():
    assert set(RULE_CASES) | set(LAYER_CASES) | set(LEMMA_CASES) == set(RULES)


def test_every_lemma_rule_has_its_proof():
    assert {name for name, r in RULES.items() if r.lemma} == set(LEMMA_CASES) <= set(PROOFS)


@pytest.mark.parametrize("name", sorted(RULE_CASES))
def test_generic_rules(name):
    good, bad = RULE_CASES[name]
    assert good.check().ok, good.check().failure
    report = bad.check()
    assert report.failed_step == 1 and report.failure.startswith(f"step 1 ({RULES[name].title})")


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_rules_of_the_layer_derivations(name):
    good, bad = LAYER_CASES[name]
    step = max(i for i, s in enumerate(good.steps) if s.rule == name)  # Theorem 1 unfolds twice; the case breaks the last
    assert good.check().ok
    report = bad.check()
    assert report.failed_step == step, report.failure
    assert report.failure.startswith(f"step {step} ({RULES[name].title})")


@pytest.mark.parametrize("name", sorted(LEMMA_CASES))
def test_lemma_rules(proofs, name):
    proof, part, _, corrupt = LEMMA_CASES[name]
    # the lemma's own proof never cites the lemma …
    assert all(s.rule != name for d in proofs[proof].parts for s in d.steps)
    # … a derivation citing it is proved once the lemma is, and a false instance is rejected at that step
    d = lemma_application(proof)
    assert d.steps[1].rule == name
    report = d.check()
    assert report.ok and report.proved, report.failure or report.unproved
    report = d.with_step(1, corrupt(d.steps[1].expr)).check()
    assert report.failed_step == 1 and report.failure.startswith(f"step 1 ({RULES[name].title})")


# ---------------------------------------------------------------------------------------------
# symstride prove
# ---------------------------------------------------------------------------------------------


def test_prove_list_prints_names_first_one_per_line(proofs, capsys):
    assert main(["prove", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == list(PROOFS)
    assert [line.split("\t")[1] for line in lines] == ["proved" if proofs[name].proved else "NOT proved" for name in PROOFS]


def test_prove_text_is_a_numbered_chain_with_rules_and_checks(capsys):
    assert main(["prove", "noble-identity"]) == 0
    out = capsys.readouterr().out
    assert "(3)      = Σ_{m=0..k - 1} w[m]·(D_s x)[n + m]   [unfold a definition]" in out
    assert "Check of “The noble identity”: PROVED for all values of N, k, s" in out
    assert out.rstrip().endswith("every cited lemma proved.")


def test_prove_latex_compiles(capsys, tmp_path):
    assert main(["prove", "composition", "--format", "latex"]) == 0
    tex = capsys.readouterr().out
    assert "\\begin{proof}" in tex and "\\sigma" in tex
    assert compile_pdf(tex, tmp_path / "composition.pdf").read_bytes().startswith(b"%PDF")


def test_prove_exits_1_when_a_step_fails_and_2_for_bad_input(capsys, monkeypatch):
    from symstride.proof import proofs as proofs_module

    def broken():
        d = proofs_module.subsampling_composition()
        return [d.with_step(2, d.steps[2].expr.func(d.steps[2].expr.base, d.steps[2].expr.indices[0] + 1))]

    monkeypatch.setitem(proofs_module.PROOFS, "broken", ("a broken lemma", broken))
    assert main(["prove", "broken"]) == 1
    assert "step 2 (integer arithmetic on an index)" in capsys.readouterr().err
    assert main(["prove", "nope"]) == 2
    assert "no proof named 'nope'; the proofs are: stride-as-subsampling, polyphase" in capsys.readouterr().err
    assert main(["prove"]) == 2
