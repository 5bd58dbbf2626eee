"""Definitive z3 verdicts kept on disk (core/decisions.py, proof/stored.py): what makes
``symstride prove --list`` cheap on a second run, and why it stays honest.

A stored verdict is reused only for exactly the same query (same SMT-LIB text, or same obligation
srepr and same decision procedure source); ``unknown`` is never stored; ``off`` disables the store.
"""

from __future__ import annotations

import pytest
import sympy as sp

from symstride.core import decisions
from symstride.core.smt import decide
from symstride.proof.discharge import Discharged, Obligation, discharge
from symstride.proof.stored import decided, procedure_fingerprint

s = sp.Symbol("s", integer=True, positive=True)
r = sp.Symbol("r", integer=True, nonnegative=True)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSTRIDE_Z3_CACHE", str(tmp_path))
    return tmp_path


def _never(ob):
    raise AssertionError(f"decided again: {ob.what}")


def test_a_proved_obligation_is_not_decided_twice(store):
    ob = Obligation(sp.Eq(sp.ceiling(-r / s), 0), (r < s,), "⌈−r/s⌉ = 0")
    first = decided(ob, discharge)
    again = decided(ob, _never)
    assert first.status == again.status == "proved" and again.reason.endswith("(decided earlier; stored)")


def test_a_refuted_obligation_keeps_its_counterexample(store):
    ob = Obligation(sp.Eq(s * r, r * sp.Min(97, s)), (), "s·r = r·min(97, s)")
    first = decided(ob, discharge)
    again = decided(ob, _never)
    assert first.status == again.status == "refuted"
    assert again.counterexample == first.counterexample and again.counterexample[s] > 97


def test_unknown_is_never_stored(store):
    ob = Obligation(sp.Eq(s, s), (), "undecided")
    calls = []

    def unknown(o):
        calls.append(o)
        return Discharged(o, "unknown", None, "z3 gave up")

    assert decided(ob, unknown).status == "unknown" and decided(ob, unknown).status == "unknown"
    assert len(calls) == 2 and not list(store.rglob("*.json"))


def test_a_changed_hypothesis_is_a_new_query(store):
    decided(Obligation(sp.Ge(s, 1), (), "s ≥ 1"), discharge)
    with pytest.raises(AssertionError, match="decided again"):
        decided(Obligation(sp.Ge(s, 1), (r < s,), "s ≥ 1"), _never)
    assert len(procedure_fingerprint()) == 64


def test_off_disables_the_store(monkeypatch):
    monkeypatch.setenv("SYMSTRIDE_Z3_CACHE", "off")
    assert decisions.cache_directory() is None
    with pytest.raises(AssertionError, match="decided again"):
        decided(Obligation(sp.Ge(s, 1), (), "s ≥ 1"), _never)


def test_z3_is_not_asked_again_for_the_same_query(store, monkeypatch):
    import z3

    first = decide(sp.Eq(sp.floor(r / s), 0), assuming=[r < s])
    monkeypatch.setattr(z3.Solver, "check", lambda self, *a: (_ for _ in ()).throw(AssertionError("z3 asked again")))
    again = decide(sp.Eq(sp.floor(r / s), 0), assuming=[r < s])
    assert first.status == again.status == "proved" and "stored" in again.reason
    with pytest.raises(AssertionError, match="z3 asked again"):  # a new query reaches z3
        decide(sp.Eq(sp.floor(r / s), 1), assuming=[r < s])
