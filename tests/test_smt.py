"""symstride.core.smt: claims decided for all values by z3, with counterexamples; never a false proof."""

import pytest
import sympy as sp

from symstride.core.smt import Translator, Untranslatable, decide, to_z3

s, k, d = sp.symbols("s k delta", integer=True, positive=True)
r, p, n = sp.symbols("r p n", integer=True, nonnegative=True)


@pytest.mark.parametrize(
    "claim, assuming",
    [
        (sp.Eq(sp.ceiling(-r / s), 0), [r < s]),
        (sp.Le(sp.ceiling((d * (k - 1) + 1 - r) / s) - 1, sp.floor(d * (k - 1) / s)), [r < s]),
        (sp.Eq(sp.floor((d * (k - 1) - r) / s), sp.ceiling((d * (k - 1) + 1 - r) / s) - 1), []),
        (sp.Eq(sp.Mod(s * n + r, s), r), [r < s]),
        (sp.Eq(sp.floor((s * n + r) / s), n), [r < s]),
    ],
)
def test_true_claims_are_proved(claim, assuming):
    assert decide(claim, assuming=assuming).status == "proved"
    if not claim.has(d, k):  # quotients by the symbol s only: z3's own div/mod must agree
        assert decide(claim.subs(s, 3), assuming=[a.subs(s, 3) for a in assuming], native_division=True).status == "proved"


@pytest.mark.parametrize(
    "claim, bad",
    [
        (sp.Eq(n * sp.Min(97, s), n * s), lambda m: m[s] > 97 and m[n] != 0),  # true on any grid s <= 97
        (sp.Eq(sp.ceiling(-r / s), 0), lambda m: m[r] >= m[s]),  # the assumption r < s is needed
        (sp.Eq(sp.floor(r / s), 0), lambda m: m[r] >= m[s]),
    ],
)
def test_false_claims_are_refuted_with_a_counterexample(claim, bad):
    out = decide(claim)
    assert out.status == "refuted" and not out.proved
    assert bad(out.counterexample)
    assert claim.subs(out.counterexample) is sp.false


N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize(
    "claim, holds",
    [
        (sp.Eq(2 * sp.floor(N / 2) + sp.Mod(N, 2), N), True),
        (sp.Eq(sp.ceiling((N - 1) / 3), sp.floor((N + 1) / 3)), True),
        (sp.Eq(sp.ceiling(sp.ceiling(N / 200) / 2), sp.ceiling(N / 400)), True),  # D_2 D_200 = D_400 lengths
        (sp.Le(n, N / 2 - 1) | sp.Ge(2 * n, N - 1), True),  # a rational coefficient in a relation
        (sp.Eq(sp.ceiling(N / 13), sp.ceiling(N / 14)), False),  # D_13 = D_14: first fails at N = 14
        (sp.Eq(sp.floor(N / 2), N / 2), False),
    ],
)
def test_native_division_by_constants(claim, holds):
    import z3

    out = decide(claim, native_division=True)
    assert out.status == ("proved" if holds else "refuted")
    if not holds:
        assert claim.subs(out.counterexample) is sp.false
    term, tr = to_z3(claim, Translator(native_division=True))
    assert not tr.hypotheses or all(str(h).count("!f") == 0 for h in tr.hypotheses)  # no fresh quotient integers
    kinds = set()

    def walk(e):
        if z3.is_app(e):
            kinds.add(e.decl().kind())
            for child in e.children():
                walk(child)

    walk(term)
    assert z3.Z3_OP_TO_REAL not in kinds  # stays integer arithmetic
    assert bool(kinds & {z3.Z3_OP_IDIV, z3.Z3_OP_MOD}) == claim.has(sp.floor, sp.ceiling, sp.Mod)


def test_division_by_zero_never_proves():
    x = sp.Symbol("x", integer=True)  # may be 0: floor(1/x) is then unconstrained
    assert not decide(sp.Eq(sp.floor(1 / x) * 0 + sp.floor(1 / x), 1)).proved


def test_untranslatable_claims_are_unknown_not_proved():
    w = sp.IndexedBase("w")
    out = decide(sp.Eq(w[n], w[n]) & sp.Eq(sp.sin(n), 0))
    assert out.status == "unknown" and "no translation" in out.reason
    with pytest.raises(Untranslatable, match="no integer or real assumption"):
        to_z3(sp.Symbol("z") + 1)
