r"""Building derivation lines in the order they are written.

SymPy sorts the terms of a sum and folds products as it builds them; derivation lines must read
as on paper (``2 n + m``, ``⌈(3 − r)/2⌉ − 1``, ``s (n + j) + r``).  These helpers build
unevaluated sums (:class:`~symstride.render.printing.Written`), products, and floor/ceiling divisions,
folding only numbers — so concrete parameters print as numbers and symbols as written.

>>> import sympy as sp
>>> from symstride.render.printing import latex
>>> n, m = sp.symbols("n m")
>>> print(latex(add(mul(2, n), m)), latex(ceil_div(add(3, mul(-1, m)), 2)))
2 n + m \left\lceil{\frac{3 - m}{2}}\right\rceil
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..render.abbreviations import fold_numbers
from ..render.printing import Written

__all__ = ["add", "mul", "floor_div", "ceil_div"]




def add(*terms: Any) -> sp.Expr:
    """An unevaluated sum of the non-zero terms, in the order given (numbers folded into the first one).

    >>> r = sp.Symbol("r")
    >>> add(2, 1, -r)
    3 - r
    """
    flat: list[sp.Expr] = []
    for t in map(sp.sympify, terms):  # a written sum inside a written sum is spliced in
        flat += list(t.args) if isinstance(t, Written) else [t]
    out = fold_numbers(flat)
    if not out:
        return sp.S.Zero
    if len(out) == 1:
        return out[0]
    return Written(*out, evaluate=False)


def mul(*factors: Any) -> sp.Expr:
    """An unevaluated product in the order given; ones dropped, zero absorbs."""
    factors = [g for f in map(sp.sympify, factors) for g in (f.args if _written_product(f) else (f,))]
    if any(f.is_Number and f == 0 for f in factors):
        return sp.S.Zero
    numbers = [f for f in factors if f.is_Number]
    rest = [f for f in factors if not f.is_Number]
    coeff = sp.Mul(*numbers) if numbers else sp.S.One
    if coeff == 1:
        factors = rest
    elif coeff == -1 and rest:
        return sp.Mul(-1, mul(*rest), evaluate=False) if len(rest) > 1 else -rest[0]
    else:
        factors = [coeff, *rest]
    if not factors:
        return sp.S.One
    if len(factors) == 1:
        return factors[0]
    return sp.Mul(*factors, evaluate=False)


def _rounded(rounding: Any, numerator: Any, denominator: Any) -> sp.Expr:
    num, den = sp.sympify(numerator), sp.sympify(denominator)
    if den == 1:
        return num
    if num.is_Number and den.is_Number:
        return rounding(num / den)
    return rounding(sp.Mul(num, sp.Pow(den, -1, evaluate=False), evaluate=False), evaluate=False)


def floor_div(numerator: Any, denominator: Any) -> sp.Expr:
    """``⌊numerator / denominator⌋`` printed as written (evaluated when both are numbers)."""
    return _rounded(sp.floor, numerator, denominator)


def ceil_div(numerator: Any, denominator: Any) -> sp.Expr:
    """``⌈numerator / denominator⌉`` printed as written (evaluated when both are numbers)."""
    return _rounded(sp.ceiling, numerator, denominator)


def _written_product(f: sp.Expr) -> bool:
    """A product of symbols written with :func:`mul` (spliced into an enclosing product)."""
    return isinstance(f, sp.Mul) and all(a.is_Symbol for a in f.args)
