"""Congruence hypotheses solved for a symbol, and verdicts that do not depend on what ran before.

The composition proof's step 7 has the obligation ``(m₁ + q·s₁ − r)/(s₁·s₂) ≤ ⌈(k₁ − r + q·s₁)/(s₁·s₂)⌉ − 1``
under ``(m₁ + q·s₁) mod (s₁·s₂) = r``.  z3 settled it only with a lucky history of earlier queries in
the same process (its search depends on term ids of a shared context); now every claim is decided
in a fresh z3 context and the congruence is solved first (:mod:`symstride.proof.congruences`).
"""

from __future__ import annotations

import subprocess
import sys

import sympy as sp
from hypothesis import given, settings, strategies as st

from symstride.proof.congruences import eliminate_congruences
from symstride.proof.discharge import Obligation, discharge

POS = dict(integer=True, positive=True)
NONNEG = dict(integer=True, nonnegative=True)
s1, s2, k1 = (sp.Symbol(n, **POS) for n in ("s_1", "s_2", "k_1"))
m1, q, r = (sp.Symbol(n, **NONNEG) for n in ("m_1", "q", "r"))
B = s1 * s2
HYPS = (sp.Le(m1, k1 - 1), sp.Le(q, s2 - 1), sp.Le(r, B - 1), sp.Eq(sp.Mod(m1 + q * s1, B), r))


def _claim(k):
    return sp.Le((m1 + q * s1 - r) / B, sp.ceiling((k - r + q * s1) / B) - 1)


def test_step_7_obligation_is_proved():
    out = discharge(Obligation(_claim(k1), HYPS, "inside sigma"))
    assert out.status == "proved", out.detail()


def test_step_7_obligation_forged_by_one_is_refuted():
    """Failing twin: with k₁ − 1 for k₁ the bound is false (m₁ = k₁ − 1 reads past it)."""
    out = discharge(Obligation(_claim(k1 - 1), HYPS, "inside sigma (forged)"))
    assert out.status == "refuted", out.detail()
    v = out.counterexample
    x = v[m1] + v[q] * v[s1]
    assert x % (v[s1] * v[s2]) == v[r] and v[m1] <= v[k1] - 1  # the counterexample satisfies the hypotheses
    assert not (x - v[r]) // (v[s1] * v[s2]) <= -(-(v[k1] - 1 - v[r] + v[q] * v[s1]) // (v[s1] * v[s2])) - 1


def test_elimination_is_not_used_when_the_divisor_may_be_zero():
    """``r < b`` follows from ``m mod b = r`` only for b > 0; with b = 0 allowed it must not be proved."""
    b = sp.Symbol("b", **NONNEG)
    m = sp.Symbol("m", **NONNEG)
    out = eliminate_congruences(sp.Lt(r, b), (sp.Eq(sp.Mod(m, b), r),))
    assert out is not None and out.divisors == (b,)  # the rewrite is conditional on b > 0 …
    verdict = discharge(Obligation(sp.Lt(r, b), (sp.Eq(sp.Mod(m, b), r),), "r < b"))
    assert verdict.status != "proved", verdict.detail()  # … which discharge checks


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 20), st.integers(0, 40), st.integers(0, 5), st.integers(-8, 8))
def test_elimination_preserves_meaning(vs1, vs2, vk1, vm1, vq, vt):
    """At every point, the original hypotheses and claim agree with the eliminated ones at t = (x − r)/b."""
    out = eliminate_congruences(_claim(k1), HYPS)
    (t,) = out.claim.free_symbols - {s1, s2, k1, q, r, m1}
    bb = vs1 * vs2
    vr = (vm1 + vq * vs1) % bb
    point = {s1: vs1, s2: vs2, k1: vk1, m1: vm1, q: vq, r: vr}
    original = all(bool(h.subs(point)) for h in HYPS)
    elim_point = {s1: vs1, s2: vs2, k1: vk1, q: vq, r: vr, t: (vm1 + vq * vs1 - vr) // bb}
    assert all(bool(h.subs(elim_point)) for h in out.assuming) == original
    assert bool(out.claim.subs(elim_point)) == bool(_claim(k1).subs(point))
    # and from the other side: any t gives an m₁ whose congruence holds by construction
    back = {s1: vs1, s2: vs2, k1: vk1, q: vq, r: vr, t: vt}
    vm = vt * bb + vr - vq * vs1
    assert all(bool(h.subs(back)) for h in out.assuming) == (vm >= 0 and all(bool(h.subs({**point, m1: vm})) for h in HYPS))


def test_verdicts_do_not_depend_on_earlier_proofs():
    """Regression: the composition proof was 'not proved' after other proofs ran in the same process."""
    code = (
        "from symstride import prove\n"
        "from symstride.proof.composition import composition_proof\n"
        "prove('stride-as-subsampling')\n"
        "r = composition_proof().check()\n"
        "print(r.proved)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True", out.stdout
