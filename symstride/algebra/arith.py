"""Exact vectorised integer arithmetic for index expressions.

Index expressions (``s·j + r``, ``⌈(3 − r)/2⌉``, ``(sj + r)/δ``, ``Mod``, ``Piecewise``) and
conditions (relations, ``And``/``Or``/``Not``, Iverson brackets) are evaluated on columns of
int64 values — one row per (parameter instance, output index, summation index) — in exact
rational arithmetic: no floating point, no SymPy simplification.  Used by
:mod:`symstride.terms` to enumerate sums and by :mod:`symstride.proof.rules` to check claims.

>>> import numpy as np, sympy as sp
>>> r, s = sp.symbols("r s", integer=True)
>>> cols = {r: np.array([0, 1, 2]), s: np.array([2, 2, 3])}
>>> integer_values(sp.ceiling((3 - r) / s) - 1, cols, 3).tolist()
[1, 0, 0]
>>> truth_values(sp.Eq(sp.Mod(r, s), 0), cols, 3).tolist()
[True, False, False]
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import sympy as sp

from ..core.errors import SymstrideError
from ..render.printing import Iverson

__all__ = ["EvaluationError", "integer_values", "truth_values", "truth", "exact_value"]


class EvaluationError(SymstrideError):
    """A line cannot be evaluated: a non-integer index, a read outside a definition, a bad bound."""


# ---------------------------------------------------------------------------------------------
# Exact vectorised integer/rational arithmetic on columns of values.
# ---------------------------------------------------------------------------------------------


class _Frac:
    """Rational numbers as a numerator array and a positive denominator array.

    ``den is None`` means every value is an integer — the common case, kept free of gcds.
    Fractions are reduced only when an integer is needed.  Arrays are int64 while every value
    provably fits (each sum and product is bounded before it is formed, :func:`_exact`) and
    Python integers (object arrays) otherwise, so no value ever wraps around silently.
    """

    __slots__ = ("num", "den")

    def __init__(self, num: np.ndarray, den: np.ndarray | None = None) -> None:
        self.num, self.den = num, den

    @classmethod
    def const(cls, value: sp.Rational, n: int) -> "_Frac":
        num = np.full(n, int(value.p), dtype=_dtype(int(value.p)))
        return cls(num) if value.q == 1 else cls(num, np.full(n, int(value.q), dtype=_dtype(int(value.q))))

    @property
    def dens(self) -> np.ndarray:
        return np.ones_like(self.num) if self.den is None else self.den

    def reduced(self) -> "_Frac":
        if self.den is None:
            return self
        g = np.gcd(self.num, self.den)
        g[g == 0] = 1
        den = self.den // g
        return _Frac(self.num // g, None if (den == 1).all() else den)

    def integer(self, what: Any) -> np.ndarray:
        f = self.reduced()
        if f.den is not None:
            bad = int(np.argmax(f.den != 1))
            what = what() if callable(what) else what
            raise EvaluationError(f"{what} is not an integer (value {f.num[bad]}/{f.den[bad]})")
        return f.num


#: Magnitudes below this bound are held as int64; larger ones as Python integers.
INT64_BOUND = 2**63


def _dtype(value: int) -> Any:
    return np.int64 if -INT64_BOUND < value < INT64_BOUND else object


def _magnitude(a: np.ndarray) -> int:
    return int(np.abs(a).max()) if a.size else 0


def _exact(op: Any, a: np.ndarray, b: np.ndarray, bound: Any) -> np.ndarray:
    """``op(a, b)`` exactly: in int64 when ``bound(|a|max, |b|max)`` (a bound on every result,
    computed with Python integers) is below 2^63, in Python integers otherwise."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != object and b.dtype != object and bound(_magnitude(a), _magnitude(b)) < INT64_BOUND:
        return op(a, b)
    return op(a.astype(object), b.astype(object))


def _plus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _exact(np.add, a, b, lambda x, y: x + y)


def _times(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _exact(np.multiply, a, b, lambda x, y: x * y)


def _minus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _exact(np.subtract, a, b, lambda x, y: x + y)


def _as_int64(values: np.ndarray, what: Any) -> np.ndarray:
    """Exact integer results as int64, or a refusal naming the value that does not fit."""
    if values.dtype != object:
        return values
    big = _magnitude(values)
    if big >= INT64_BOUND:
        what = what() if callable(what) else what
        raise EvaluationError(
            f"{what} takes the value {big} (in magnitude), beyond the int64 range |v| < 2^63 of exact index arithmetic"
        )
    return values.astype(np.int64)


def _add(a: _Frac, b: _Frac) -> _Frac:
    if a.den is None and b.den is None:
        return _Frac(_plus(a.num, b.num))
    return _Frac(_plus(_times(a.num, b.dens), _times(b.num, a.dens)), _times(a.dens, b.dens))


def _mul(a: _Frac, b: _Frac) -> _Frac:
    if a.den is None and b.den is None:
        return _Frac(_times(a.num, b.num))
    return _Frac(_times(a.num, b.num), _times(a.dens, b.dens))


def _inv(a: _Frac, expr: Any) -> _Frac:
    if (a.num == 0).any():
        raise EvaluationError(f"division by zero in {expr}")
    sign = np.sign(a.num)
    return _Frac(a.dens * sign, np.abs(a.num))


def _floor(a: _Frac) -> np.ndarray:
    return a.num if a.den is None else a.num // a.den


def _cmp(a: _Frac, b: _Frac) -> np.ndarray:
    """Sign of a − b."""
    if a.den is None and b.den is None:
        return np.sign(_minus(a.num, b.num))
    return np.sign(_minus(_times(a.num, b.dens), _times(b.num, a.dens)))


_RELATIONS = {
    sp.Eq: lambda c: c == 0,
    sp.Ne: lambda c: c != 0,
    sp.Lt: lambda c: c < 0,
    sp.Le: lambda c: c <= 0,
    sp.Gt: lambda c: c > 0,
    sp.Ge: lambda c: c >= 0,
}


def exact_value(expr: Any, cols: Mapping[sp.Symbol, np.ndarray], n: int) -> _Frac:
    """Exact value of an integer/rational expression on every row."""
    if isinstance(expr, (int, np.integer)):
        expr = sp.Integer(int(expr))
    if expr.is_Rational:
        return _Frac.const(expr, n)
    if expr.is_Symbol:
        if expr not in cols:
            raise EvaluationError(f"no value for the symbol {expr} (not a parameter, output index or summation index)")
        return _Frac(np.asarray(cols[expr]))
    if isinstance(expr, sp.UnevaluatedExpr):
        return exact_value(expr.args[0], cols, n)
    if isinstance(expr, sp.Add):
        acc = exact_value(expr.args[0], cols, n)
        for arg in expr.args[1:]:
            acc = _add(acc, exact_value(arg, cols, n))
        return acc
    if isinstance(expr, sp.Mul):
        acc = exact_value(expr.args[0], cols, n)
        for arg in expr.args[1:]:
            acc = _mul(acc, exact_value(arg, cols, n))
        return acc
    if isinstance(expr, sp.Pow):
        base, exp = expr.args
        if not exp.is_Integer:
            raise EvaluationError(f"only integer powers can be evaluated, got {expr}")
        b = exact_value(base, cols, n)
        e = int(exp)
        num, den = b.num, b.den
        for _ in range(abs(e) - 1):
            num = _times(num, b.num)
            den = None if den is None else _times(den, b.den)
        out = _Frac(np.ones_like(num) if e == 0 else num, None if e == 0 else den)
        return _inv(out, expr) if e < 0 else out
    if isinstance(expr, sp.floor):
        return _Frac(_floor(exact_value(expr.args[0], cols, n)))
    if isinstance(expr, sp.ceiling):
        a = exact_value(expr.args[0], cols, n)
        return _Frac(a.num if a.den is None else -((-a.num) // a.den))
    if isinstance(expr, sp.Mod):
        a, q = (exact_value(arg, cols, n) for arg in expr.args)
        if (q.num == 0).any():
            raise EvaluationError(f"modulus zero in {expr}")
        if a.den is None and q.den is None:
            return _Frac(np.mod(a.num, q.num))
        quotient = _floor(_mul(a, _inv(q, expr)))
        return _add(a, _mul(_Frac(-quotient), q))
    if isinstance(expr, (sp.Min, sp.Max)):
        values = [exact_value(arg, cols, n) for arg in expr.args]
        acc = values[0]
        for v in values[1:]:
            take = _cmp(v, acc) < 0 if isinstance(expr, sp.Min) else _cmp(v, acc) > 0
            acc = _Frac(np.where(take, v.num, acc.num), None if v.den is None and acc.den is None else np.where(take, v.dens, acc.dens))
        return acc
    if isinstance(expr, Iverson):
        return _Frac(truth(expr.args[0], cols, n).astype(np.int64))
    if isinstance(expr, sp.Abs):
        a = exact_value(expr.args[0], cols, n)
        return _Frac(np.abs(a.num), a.den)
    if isinstance(expr, sp.Piecewise):
        num = np.zeros(n, dtype=np.int64)
        den = np.ones(n, dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        for piece, cond in expr.args:
            take = truth(cond, cols, n) & ~done
            if take.any():
                v = exact_value(piece, cols, n)
                num, den = np.where(take, v.num, num), np.where(take, v.dens, den)
            done |= take
        if not done.all():
            raise EvaluationError(f"no branch of {expr} applies")
        return _Frac(num, den).reduced()
    raise EvaluationError(f"cannot evaluate {expr} ({type(expr).__name__}) as an integer index expression")


def truth(cond: Any, cols: Mapping[sp.Symbol, np.ndarray], n: int) -> np.ndarray:
    """Exact truth value of a condition on every row."""
    if cond is sp.true or cond is True:
        return np.ones(n, dtype=bool)
    if cond is sp.false or cond is False:
        return np.zeros(n, dtype=bool)
    if type(cond) in _RELATIONS:
        return _RELATIONS[type(cond)](_cmp(exact_value(cond.lhs, cols, n), exact_value(cond.rhs, cols, n)))
    if isinstance(cond, sp.And):
        out = np.ones(n, dtype=bool)
        for arg in cond.args:
            out &= truth(arg, cols, n)
        return out
    if isinstance(cond, sp.Or):
        out = np.zeros(n, dtype=bool)
        for arg in cond.args:
            out |= truth(arg, cols, n)
        return out
    if isinstance(cond, sp.Not):
        return ~truth(cond.args[0], cols, n)
    if isinstance(cond, sp.Xor):
        out = np.zeros(n, dtype=bool)
        for arg in cond.args:
            out ^= truth(arg, cols, n)
        return out
    raise EvaluationError(f"cannot evaluate the condition {cond} ({type(cond).__name__})")


def integer_values(expr: Any, cols: Mapping[sp.Symbol, np.ndarray], n: int, what: Any = None) -> np.ndarray:
    """``expr`` on every row of ``cols`` as exact int64 (an error if some value is not an integer).

    ``what`` names the expression in that error: a string, or a callable returning one (so that
    messages are only formatted when needed).
    """
    what = what if what is not None else lambda: str(expr)
    return _as_int64(exact_value(sp.sympify(expr), cols, n).integer(what), what)


def truth_values(cond: Any, cols: Mapping[sp.Symbol, np.ndarray], n: int) -> np.ndarray:
    """A condition on every row of ``cols``, exactly."""
    return truth(cond, cols, n)
