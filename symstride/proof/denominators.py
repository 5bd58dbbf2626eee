"""Relations with a positive symbolic denominator, multiplied out: the same claim in integer terms.

A change of summation variables ``j = (s q + δ m − p + B e − r)/B`` puts a quotient by a product
of symbols into an obligation such as ``(X + δ m)/B ≥ ⌈X/B⌉``; z3 then reasons over the reals with a
nonlinear division and may give up.  Where the denominator ``D`` is positive for every value of
its symbols (SymPy's assumptions say so), ``a/D ⋈ b`` is equivalent to ``a ⋈ b·D`` — for ``=``
too, since ``D ≠ 0`` — so :func:`cleared` returns an equivalent claim without the quotient.  It
is used as a second attempt on an obligation z3 left undecided (:mod:`symstride.proof.step_proofs`);
a proof of the cleared claim is a proof of the original one.

>>> import sympy as sp
>>> B = sp.Symbol("B", integer=True, positive=True)
>>> x, m = sp.symbols("x m", integer=True)
>>> cleared(sp.Ge((x + m) / B, sp.ceiling(x / B)))
-B*ceiling(x/B) + m + x >= 0
>>> cleared(sp.Ge(x / 2, 1))  # a numeric denominator is left alone
x/2 >= 1
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["cleared", "nonlinear_denominator"]

_RELATIONS = (sp.Eq, sp.Ne, sp.Ge, sp.Gt, sp.Le, sp.Lt)


def cleared(claim: Any) -> Any:
    """``claim`` with every relation ``a ⋈ b`` whose ``a − b`` has a positive symbolic denominator
    ``D`` written as ``D·(a − b) ⋈ 0`` (conjunctions, disjunctions and negations rebuilt)."""
    claim = sp.sympify(claim)
    if isinstance(claim, (sp.And, sp.Or)):
        return claim.func(*(cleared(a) for a in claim.args))
    if isinstance(claim, sp.Not):
        return sp.Not(cleared(claim.args[0]))
    if not isinstance(claim, _RELATIONS):
        return claim
    num, den = sp.fraction(sp.together(claim.lhs - claim.rhs))
    if den == 1 or den.is_number or den.is_positive is not True or den.has(sp.floor, sp.ceiling, sp.Mod):
        return claim
    return type(claim)(sp.expand(num), 0)


def nonlinear_denominator(claim: Any) -> bool:
    """Whether a relation of ``claim`` divides by a product of two or more symbols (``R·s``): the
    case z3 handles worst, where :func:`cleared` is worth trying first.

    >>> import sympy as sp
    >>> R, s = sp.symbols("R s", integer=True, positive=True)
    >>> x = sp.Symbol("x", integer=True)
    >>> nonlinear_denominator(sp.Ge(x / (R * s), 1)), nonlinear_denominator(sp.Ge(x / s, 1))
    (True, False)
    """
    claim = sp.sympify(claim)
    for rel in claim.atoms(*_RELATIONS):
        _, den = sp.fraction(sp.together(rel.lhs - rel.rhs))
        if not den.is_number and sp.Poly(den, *sorted(den.free_symbols, key=str)).total_degree() >= 2:
            return True
    return False
