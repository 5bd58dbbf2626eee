"""Hypotheses ``(X mod b) = r`` eliminated: ``X = b·t + r`` with a fresh integer ``t``.

An obligation of a polyphase or composition step often reads "``(m + q·s₁ − r)/(s₁·s₂)`` is at most
…" under the hypothesis ``(m + q·s₁) mod (s₁·s₂) = r``: the quotient is an integer *because* of the
congruence.  z3 sees a real division by a product of symbols and a ``mod`` by a product —
nonlinear arithmetic on which it may run out of resources.  The same statement with the symbol
``m`` solved from ``m + q·s₁ = s₁·s₂·t + r`` reads ``t ≤ …``: SymPy cancels the quotient and z3 is
left with one rounding.

Why this is sound: for ``b > 0``, ``X mod b = r`` holds exactly when ``0 ≤ r < b`` and
``X = b·t + r`` for some integer ``t``.  If ``X = c·v + Y`` with ``c = ±1`` and ``v`` a symbol
not in ``Y``, ``b`` or ``r``, then ``v = c·(b·t + r − Y)`` is a bijection between the integer
values of ``v`` and of ``t`` (the others fixed), so "for all ``v``: hypotheses ⇒ claim" and "for all
``t``: hypotheses ⇒ claim, with ``v`` replaced" say the same.  ``v``'s own assumptions
(nonnegative, positive, …) become hypotheses on its replacement, and ``b > 0`` must be proved
by the caller before the rewritten form is used (:func:`eliminate_congruences` returns it as a
condition).

>>> import sympy as sp
>>> s, m, r = (sp.Symbol(n, integer=True, positive=True) for n in "smr")
>>> out = eliminate_congruences(sp.Le((m - r) / s, 3), (sp.Eq(sp.Mod(m, s), r),))
>>> out.claim, out.divisors
(t_m <= 3, (s,))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

__all__ = ["Eliminated", "eliminate_congruences"]


@dataclass(frozen=True)
class Eliminated:
    """The claim and hypotheses with congruences solved; valid when every divisor is positive."""

    claim: Any
    assuming: tuple[Any, ...]
    divisors: tuple[Any, ...]


def _congruence(h: Any) -> tuple[Any, Any, Any] | None:
    """``(X, b, r)`` for a hypothesis ``Eq(Mod(X, b), r)`` (either side) with a symbolic ``b``."""
    if not isinstance(h, sp.Eq):
        return None
    for mod, r in ((h.lhs, h.rhs), (h.rhs, h.lhs)):
        if isinstance(mod, sp.Mod) and not mod.args[1].is_number and not r.has(sp.Mod):
            return mod.args[0], mod.args[1], r
    return None


def _solvable_symbol(x: Any, b: Any, r: Any) -> tuple[sp.Symbol, int] | None:
    """A symbol ``v`` with ``x = c·v + (terms without v)``, ``c = ±1``, ``v`` not in ``b`` or ``r``."""
    x = sp.expand(x)
    for v in sorted(x.free_symbols - b.free_symbols - r.free_symbols, key=str):
        c = x.coeff(v)
        if c in (1, -1) and not (x - c * v).has(v):
            return v, int(c)
    return None


def _fresh(stem: str, taken: set) -> sp.Symbol:
    name = f"t_{stem}"
    while name in taken:
        name += "'"
    return sp.Symbol(name, integer=True)


def _assumptions(v: sp.Symbol, e: Any) -> list[Any]:
    """``v``'s sign assumptions as hypotheses on the expression replacing it."""
    facts = []
    for query, make in (("is_positive", sp.Gt), ("is_nonnegative", sp.Ge), ("is_negative", sp.Lt), ("is_nonpositive", sp.Le)):
        if getattr(v, query):
            facts.append(make(e, 0))
    return facts


def eliminate_congruences(claim: Any, assuming: tuple[Any, ...]) -> Eliminated | None:
    """The obligation with each solvable congruence hypothesis eliminated, or None if there is none.

    Each ``Eq(Mod(X, b), r)`` whose ``X`` has a symbol with coefficient ±1 (not in ``b``, ``r``)
    is replaced by ``0 ≤ r``, ``r < b`` and that symbol's sign assumptions, and the symbol is
    replaced everywhere by ``c·(b·t + r − Y)`` with a fresh integer ``t``.  The result holds
    only where every returned divisor is positive.
    """
    claim, hyps = sp.sympify(claim), list(assuming)
    divisors: list[Any] = []
    taken = {str(x) for e in (claim, *hyps) for x in e.free_symbols}
    changed = True
    while changed:
        changed = False
        for i, h in enumerate(hyps):
            found = _congruence(h)
            solvable = found and _solvable_symbol(found[0], found[1], found[2])
            if not solvable:
                continue
            x, b, r = found
            v, c = solvable
            t = _fresh(v.name, taken)
            taken.add(t.name)
            value = sp.expand(c * (b * t + r - (sp.expand(x) - c * v)))
            rest = [sp.sympify(o).xreplace({v: value}) for j, o in enumerate(hyps) if j != i]
            hyps = rest + [sp.Ge(r, 0), sp.Lt(r, b)] + _assumptions(v, value)
            claim = _cancelled(claim.xreplace({v: value}))
            divisors.append(b)
            changed = True
            break
    if not divisors:
        return None
    hyps = [h for h in (_cancelled(h) for h in hyps) if h is not sp.true]
    return Eliminated(claim, tuple(hyps), tuple(divisors))


def _cancelled(e: Any) -> Any:
    """Each side of each relation in ``e`` with its quotients cancelled (``(b·t)/b`` → ``t``)."""
    if isinstance(e, sp.Rel):
        return type(e)(sp.cancel(e.lhs), sp.cancel(e.rhs))
    if isinstance(e, (sp.And, sp.Or, sp.Not)):
        return type(e)(*[_cancelled(a) for a in e.args])
    return e
