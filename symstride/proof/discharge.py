"""Proof obligations of a derivation step, discharged for all values of their symbols by z3.

Checking a step (:mod:`symstride.proof.schemas`) produces :class:`Obligation`\\ s — an index equality
``s·n + δ·m = t + δ·m`` at ``t := s·n``, the equivalence of two index sets, a read inside the
domain of a definition, a side condition — each a claim with the hypotheses under which it must
hold (the theorem's hypotheses, the summation bounds, the guards).  :func:`discharge` asks
:func:`symstride.core.smt.decide` to prove each one for **all** integer values of its symbols:

* ``proved`` — z3 found no counterexample to the negation: the obligation holds for all values;
* ``refuted`` — z3's model is a counterexample, reported with the obligation;
* ``unknown`` — z3 gave up (nonlinear integer arithmetic is undecidable) or the claim has no
  translation: the step is *not proved*, and says why.

>>> import sympy as sp
>>> s = sp.Symbol("s", integer=True, positive=True)
>>> n = sp.Symbol("n", integer=True, nonnegative=True)
>>> ok = discharge(Obligation(sp.Eq(s * n, n * s), (), "index"))
>>> ok.status
'proved'
>>> bad = discharge(Obligation(sp.Eq(s * n, n * sp.Min(97, s)), (), "index s·n = n·min(97, s)"))
>>> bad.status, bad.counterexample[s] > 97
('refuted', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

import sympy as sp

from ..core.smt import RLIMIT, decide
from .congruences import eliminate_congruences

__all__ = ["Obligation", "Discharged", "discharge", "describe_values", "canonical"]


@dataclass(frozen=True)
class Obligation:
    """``claim`` must hold for all values of its symbols satisfying ``assuming``; ``what`` says
    in words which part of the step it is (``"index 2 of x̃"``, ``"side condition: …"``)."""

    claim: Any
    assuming: tuple[Any, ...]
    what: str


@dataclass(frozen=True)
class Discharged:
    """An obligation and z3's verdict on it (see the module docstring)."""

    obligation: Obligation
    status: str
    counterexample: Mapping[sp.Symbol, Any] | None = field(default=None, compare=False)
    reason: str = ""

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    def detail(self) -> str:
        what = self.obligation.what
        if self.status == "proved":
            return f"{what}: proved for all values (z3)"
        if self.status == "refuted":
            return f"{what}: false at {describe_values(self.counterexample or {})}"
        return f"{what}: not proved ({self.reason})"


def describe_values(values: Mapping[sp.Symbol, Any]) -> str:
    """``s = 5, n = 1`` — symbols in name order."""
    return ", ".join(f"{k} = {v}" for k, v in sorted(values.items(), key=lambda kv: str(kv[0]))) or "any values"


#: z3's resource limit for the quick attempts (the claim's own hypotheses, range facts).
QUICK_RLIMIT = 4_000_000


@lru_cache(maxsize=8192)
def _decide(claim: Any, assuming: tuple[Any, ...], rlimit: int = RLIMIT) -> tuple[str, tuple, str]:
    out = decide(claim, assuming=assuming, rlimit=rlimit)
    ce = tuple(sorted(out.counterexample.items(), key=lambda kv: str(kv[0]))) if out.counterexample else ()
    return out.status, ce, out.reason


def canonical(expr: Any) -> Any:
    """``expr`` rebuilt bottom-up with SymPy's automatic evaluation (the written sums and products
    of the lines become ordinary ones): one fixed form, so that the same index written two ways
    is recognised.  No ``simplify``, no ``expand``."""
    expr = sp.sympify(expr)
    if not expr.args or isinstance(expr, (sp.Symbol, sp.Number)):
        return expr
    args = [canonical(a) for a in expr.args]
    func = sp.Add if isinstance(expr, sp.Add) else expr.func
    try:
        return func(*args)
    except (TypeError, ValueError):
        return expr


def _relevant(claim: Any, assuming: tuple[Any, ...]) -> tuple[Any, ...]:
    """The hypotheses that share a symbol with the claim, closed under sharing symbols with a chosen one… once."""
    symbols = set(claim.free_symbols)
    chosen = [a for a in assuming if a.free_symbols & symbols and a.free_symbols <= symbols | _parameters(assuming)]
    return tuple(chosen)


def _parameters(assuming: tuple[Any, ...]) -> set:
    return set()


def discharge(obligation: Obligation) -> Discharged:
    """Decide ``obligation`` with z3 (cached: the same claim under the same hypotheses is decided once).

    The claim and hypotheses are put in :func:`canonical` form; a claim that is one of its
    hypotheses is proved at once; otherwise z3 tries the hypotheses about the claim's own
    symbols first (fewer hypotheses: a proof from them is a proof), then all of them.
    """
    claim = canonical(obligation.claim)
    if claim is sp.true:
        return Discharged(obligation, "proved", reason="trivially true")
    assuming = tuple(canonical(a) for a in obligation.assuming)
    claim = _rewritten(claim, assuming)
    if claim in assuming or claim is sp.true:
        return Discharged(obligation, "proved", reason="it is a hypothesis")
    try:
        few = _relevant(claim, assuming)
        if few != assuming:
            status, ce, reason = _decide(claim, few, QUICK_RLIMIT)
            if status == "proved":
                return Discharged(obligation, status, None, reason)
        if any(a.has(sp.Mod, sp.floor) for a in assuming):
            status, ce, reason = _decide(claim, _rewritten_hypotheses(assuming), QUICK_RLIMIT)
            if status == "proved":
                return Discharged(obligation, status, None, reason)
            if _proved_without_congruences(claim, assuming):
                return Discharged(obligation, "proved", None, "z3, with the congruence hypotheses solved for a symbol")
        status, ce, reason = _decide(claim, assuming)
    except TypeError:  # unhashable pieces: decide without the cache
        out = decide(claim, assuming=assuming)
        status, ce, reason = out.status, tuple((out.counterexample or {}).items()), out.reason
    return Discharged(obligation, status, dict(ce) if ce else None, reason)


def _proved_without_congruences(claim: Any, assuming: tuple[Any, ...]) -> bool:
    """Whether z3 proves the claim with each ``X mod b = r`` hypothesis solved as ``X = b·t + r``
    (:mod:`symstride.proof.congruences`; valid once every divisor ``b`` is proved positive)."""
    out = eliminate_congruences(claim, assuming)
    if out is None:
        return False
    positive = all(_decide(sp.Gt(b, 0), _relevant(sp.Gt(b, 0), assuming) or assuming, QUICK_RLIMIT)[0] == "proved"
                   for b in out.divisors)
    return positive and _decide(canonical(out.claim), tuple(canonical(a) for a in out.assuming), QUICK_RLIMIT)[0] == "proved"


def _rewritten_hypotheses(assuming: tuple[Any, ...]) -> tuple[Any, ...]:
    """Each hypothesis rewritten by :func:`_range_facts` under the others *as already rewritten*
    (one at a time, so the set stays equivalent to the original)."""
    current = list(assuming)
    for i, a in enumerate(current):
        if a.has(sp.Mod, sp.floor):
            current[i] = _rewritten(a, tuple(current[:i] + current[i + 1:]))
    return tuple(current)


def _rewritten(claim: Any, assuming: tuple[Any, ...]) -> Any:
    """:func:`_range_facts` until nothing changes (nested roundings are rewritten inside out)."""
    for _ in range(4):
        if not claim.has(sp.Mod, sp.floor):
            break
        rewritten = canonical(_range_facts(claim, assuming))
        if rewritten == claim:
            break
        claim = rewritten
    return claim


def _range_facts(claim: Any, assuming: tuple[Any, ...]) -> Any:
    """Rewrite ``(b·q + a) mod b`` to ``a`` and ``⌊(b·q + a)/b⌋`` to ``q`` where the hypotheses give ``0 ≤ a < b``.

    ``q`` collects the terms of the numerator with ``b`` as a factor (``a`` the others).  Each
    rewrite is an identity wherever ``0 ≤ a < b``, which is proved by z3 under the same
    hypotheses first; it spares z3 the nonlinear reasoning about ``b·⌊x/b⌋`` that defeats it
    when ``b`` is a symbol.
    """
    claim = sp.sympify(claim)
    replacements = {}
    for node in claim.atoms(sp.Mod, sp.floor):
        if isinstance(node, sp.Mod):
            num, den = node.args
        else:
            num, den = node.args[0].as_numer_denom()
        if den.is_number:
            continue
        q, a = _split_multiple(num, den)
        if _decide(sp.And(sp.Ge(a, 0), sp.Lt(a, den)), _relevant(sp.And(sp.Ge(a, 0), sp.Lt(a, den)), assuming) or assuming,
                   QUICK_RLIMIT)[0] == "proved":
            replacements[node] = a if isinstance(node, sp.Mod) else q
    return claim.xreplace(replacements) if replacements else claim


def _split_multiple(num: Any, den: Any) -> tuple[Any, Any]:
    """``num = den·q + a`` with ``q`` the quotient of the terms that have ``den`` as a factor."""
    q, a = sp.S.Zero, sp.S.Zero
    for term in sp.Add.make_args(sp.sympify(num)):
        ratio = sp.cancel(term / den)
        if sp.fraction(ratio)[1] == 1:
            q += ratio
        else:
            a += term
    return q, a
