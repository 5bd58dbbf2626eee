"""Deciding integer claims for *all* values of their symbols: SymPy expressions to z3.

A derivation step or an identity is proved only when its claim holds for every value of every
free symbol.  SymPy's assumption queries settle few such claims (``⌈−r/s⌉ = 0`` given
``0 ≤ r < s`` is already beyond them); the z3 SMT solver decides them: :func:`decide` asks z3
whether the *negation* of the claim, together with the assumptions, has an integer model.

* ``unsat`` — no model: the claim is **proved** for all values;
* ``sat`` — z3's model is a **counterexample** (a dict of symbol values);
* ``unknown`` — nonlinear integer arithmetic is undecidable in general; z3 may give up or exhaust
  its resource limit (:data:`RLIMIT`, deterministic) or, on an overloaded machine, the wall-clock
  :data:`TIMEOUT_MS`, and then nothing is claimed (the caller says "not proved").

Translation (:func:`to_z3`) is total or refuses: integer symbols become z3 ``Int`` constants
(with their SymPy assumptions — positive, nonnegative, … — as hypotheses), rationals stay exact,
``floor``/``ceiling``/``Mod`` of a quotient become fresh integers pinned by their defining
inequalities, ``Piecewise``/``Min``/``Max`` become ``If``.  With ``Translator(native_division=True)``
a quotient by a positive integer *constant* becomes z3's own ``div``/``mod`` (floor division for a
positive divisor — the same value, but a term that can be copied and substituted into, as
:mod:`symstride.algebra.decision` does for every tap of a convolution), and a relation with rational
coefficients is multiplied by its common denominator so that it stays integer arithmetic.  A definition is only *conditional*
on its divisor being nonzero, so a division by zero leaves the value free — which can only
prevent a proof, never produce a false one.  Anything else (indexed signals, unknown functions)
raises :class:`Untranslatable`.

>>> import sympy as sp
>>> s = sp.Symbol("s", integer=True, positive=True)
>>> r = sp.Symbol("r", integer=True, nonnegative=True)
>>> decide(sp.Eq(sp.ceiling(-r / s), 0), assuming=[r < s]).status
'proved'
>>> out = decide(sp.Eq(sp.floor(r / s), 0))
>>> out.status, out.counterexample[r] >= out.counterexample[s]
('refuted', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import sympy as sp

from .decisions import query_key, recall, remember

__all__ = ["Untranslatable", "Decision", "Translator", "to_z3", "decide", "TIMEOUT_MS", "RLIMIT"]

#: Default time z3 may spend on one claim, in milliseconds.
TIMEOUT_MS = 120_000
#: Default resource limit of z3 on one claim (z3's deterministic ``rlimit`` count: a verdict does
#: not depend on the machine's load; about 15 s of z3's work on a 2020s CPU core).
RLIMIT = 30_000_000


class Untranslatable(ValueError):
    """The claim uses something the z3 translation does not cover (it is then not proved)."""


@dataclass(frozen=True)
class Decision:
    """What z3 established about a claim: ``status`` is ``proved``, ``refuted`` or ``unknown``."""

    status: str
    counterexample: Mapping[sp.Symbol, int] | None = None
    reason: str = ""

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    def __bool__(self) -> bool:
        return self.proved


@dataclass
class Translator:
    """One translation context: z3 constants per symbol, fresh integers and their definitions."""

    symbols: dict = field(default_factory=dict)
    hypotheses: list = field(default_factory=list)
    native_division: bool = False
    #: the z3 context the terms live in (None: z3's main context)
    ctx: Any = None
    _fresh: int = 0
    _rounded: dict = field(default_factory=dict)

    def symbol(self, sym: sp.Symbol) -> Any:
        import z3

        if sym not in self.symbols:
            name = f"{sym.name}!{len(self.symbols)}"
            if sym.is_integer:
                v = z3.Int(name, self.ctx)
            elif sym.is_rational or sym.is_real:
                v = z3.Real(name, self.ctx)
            else:
                raise Untranslatable(f"symbol {sym} has no integer or real assumption, so it cannot be reasoned about")
            self.symbols[sym] = v
            for query, make in (
                ("is_positive", lambda x: x > 0),
                ("is_nonnegative", lambda x: x >= 0),
                ("is_negative", lambda x: x < 0),
                ("is_nonpositive", lambda x: x <= 0),
            ):
                if getattr(sym, query):
                    self.hypotheses.append(make(v))
        return self.symbols[sym]

    def fresh_int(self, stem: str) -> Any:
        import z3

        self._fresh += 1
        return z3.Int(f"{stem}!f{self._fresh}", self.ctx)

    def quotient(self, num: Any, den: Any, kind: str) -> Any:
        """floor or ceiling of ``num/den`` as a fresh integer, defined when ``den ≠ 0``."""
        import z3

        q = self.fresh_int(kind)
        if kind == "floor":
            pos = z3.And(q * den <= num, num < (q + 1) * den)
            neg = z3.And(q * den >= num, num > (q + 1) * den)
        else:  # ceiling
            pos = z3.And((q - 1) * den < num, num <= q * den)
            neg = z3.And((q - 1) * den > num, num >= q * den)
        self.hypotheses.append(z3.Implies(den > 0, pos))
        self.hypotheses.append(z3.Implies(den < 0, neg))
        return q

    def rounded(self, arg: sp.Expr, kind: str) -> Any:
        """``⌊arg⌋`` or ``⌈arg⌉``; the same rounding met twice is the same fresh integer."""
        key = (sp.sympify(arg), kind)
        if key not in self._rounded:
            self._rounded[key] = self._round(arg, kind)
        return self._rounded[key]

    def _round(self, arg: sp.Expr, kind: str) -> Any:
        import z3

        num, den = sp.sympify(arg).as_numer_denom()
        if self.native_division and den.is_Integer and den > 0:
            zn = self.term(num)
            if z3.is_int(zn):
                return zn / int(den) if kind == "floor" else -((-zn) / int(den))
        zn, zd = self.term(num), self.term(den)
        if all(z3.is_int(t) for t in (zn, zd)):
            return self.quotient(zn, zd, kind)
        x = self.term(arg)  # a real-valued argument: floor through z3's ToInt
        return z3.ToInt(x) if kind == "floor" else -z3.ToInt(-x)

    def term(self, e: Any) -> Any:
        import z3

        e = sp.sympify(e)
        if isinstance(e, sp.Symbol):
            return self.symbol(e)
        if e.is_Integer:
            return z3.IntVal(int(e), self.ctx)
        if e.is_Rational:
            return z3.RealVal(f"{e.p}/{e.q}", self.ctx)
        if e is sp.true or e is sp.false:
            return z3.BoolVal(bool(e), self.ctx)
        if isinstance(e, sp.Add):
            return z3.Sum([self.term(a) for a in e.args])
        if isinstance(e, sp.Mul):
            out = self.term(e.args[0])
            for a in e.args[1:]:
                out = out * self.term(a)
            return out
        if isinstance(e, sp.Pow) and e.exp.is_Integer:
            n = int(e.exp)
            if n >= 0:
                out = z3.IntVal(1, self.ctx)
                for _ in range(n):
                    out = out * self.term(e.base)
                return out
            base = self.term(e.base)
            out = z3.RealVal(1, self.ctx)
            for _ in range(-n):
                out = out / z3.ToReal(base) if z3.is_int(base) else out / base
            return out
        if isinstance(e, sp.floor):
            return self.rounded(e.args[0], "floor")
        if isinstance(e, sp.ceiling):
            return self.rounded(e.args[0], "ceiling")
        if isinstance(e, sp.Mod):
            a, b = e.args
            if self.native_division and b.is_Integer and b > 0:
                za = self.term(a)
                if z3.is_int(za):
                    return za % int(b)
            return self.term(a) - self.term(b) * self.rounded(a / b, "floor")
        if isinstance(e, (sp.Min, sp.Max)):
            args = [self.term(a) for a in e.args]
            out = args[0]
            for a in args[1:]:
                out = z3.If(a < out, a, out) if isinstance(e, sp.Min) else z3.If(a > out, a, out)
            return out
        if isinstance(e, sp.Abs):
            a = self.term(e.args[0])
            return z3.If(a < 0, -a, a)
        if isinstance(e, sp.Piecewise):
            out = None
            for expr, cond in reversed(e.args):
                value = self.term(expr)
                if out is None:
                    if cond is not sp.true:  # no branch taken: the value is left free
                        out = z3.If(self.term(cond), value, self.fresh_int("undefined") if z3.is_int(value) else z3.Real("undefined", self.ctx))
                    else:
                        out = value
                else:
                    out = z3.If(self.term(cond), value, out)
            return out
        if isinstance(e, sp.Rel):
            if self.native_division:
                e = _integral(e)
            a, b = self.term(e.lhs), self.term(e.rhs)
            return {sp.Eq: lambda: a == b, sp.Ne: lambda: a != b, sp.Lt: lambda: a < b, sp.Le: lambda: a <= b,
                    sp.Gt: lambda: a > b, sp.Ge: lambda: a >= b}[type(e)]()
        if isinstance(e, sp.And):
            return z3.And(*[self.term(a) for a in e.args])
        if isinstance(e, sp.Or):
            return z3.Or(*[self.term(a) for a in e.args])
        if isinstance(e, sp.Not):
            return z3.Not(self.term(e.args[0]))
        if isinstance(e, sp.Equivalent):
            args = [self.term(a) for a in e.args]
            return z3.And(*[a == args[0] for a in args[1:]])
        if isinstance(e, sp.Implies):
            return z3.Implies(self.term(e.args[0]), self.term(e.args[1]))
        raise Untranslatable(f"{e} ({type(e).__name__}) has no translation to integer arithmetic")


def _integral(rel: sp.Rel) -> sp.Rel:
    """``a ⋈ b`` with rational coefficients as ``q·a ⋈ q·b`` (q > 0 their common denominator).

    Only the top-level numeric coefficients are scaled (arguments of ``floor`` and ``Mod`` stay
    as they are), so ``n ≤ N/2 − 1`` becomes ``2n ≤ N − 2``: the same relation, in integers.
    """
    q = 1
    for side in (rel.lhs, rel.rhs):
        for term in sp.Add.make_args(sp.expand(side, deep=False)):
            coeff, _ = term.as_coeff_Mul()
            if coeff.is_Rational:
                q = sp.ilcm(q, coeff.q)
    return rel if q == 1 else type(rel)(sp.expand(q * rel.lhs, deep=False), sp.expand(q * rel.rhs, deep=False), evaluate=False)


def to_z3(expr: Any, translator: Translator | None = None) -> tuple[Any, Translator]:
    """``expr`` as a z3 term, with the translator holding its symbols and definitions."""
    translator = translator or Translator()
    return translator.term(expr), translator


def decide(claim: Any, *, assuming: Iterable[Any] = (), timeout_ms: int = TIMEOUT_MS, rlimit: int = RLIMIT,
           native_division: bool = False) -> Decision:
    """Prove ``claim`` for all values of its symbols under ``assuming``, or refute it, or say unknown.

    The symbols' SymPy assumptions (integer, positive, nonnegative, …) are hypotheses too;
    ``native_division`` selects z3's ``div``/``mod`` for quotients by positive constants.

    >>> N = sp.Symbol("N", integer=True, positive=True)
    >>> decide(sp.Eq(2 * sp.floor(N / 2) + sp.Mod(N, 2), N), native_division=True).status
    'proved'
    """
    import z3

    claim = sp.sympify(claim)
    if claim is sp.true:
        return Decision("proved", reason="trivially true")
    # A fresh context for every claim: z3's search depends on the ids of its terms, which in a
    # shared context depend on every term built before — the verdict must depend on the claim only.
    ctx = z3.Context()
    tr = Translator(native_division=native_division, ctx=ctx)
    try:
        goal = tr.term(claim)
        hyps = [tr.term(a) for a in assuming]
    except Untranslatable as exc:
        return Decision("unknown", reason=str(exc))
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", int(timeout_ms))
    solver.set("rlimit", int(rlimit))
    solver.add(*tr.hypotheses, *hyps, z3.Not(goal))
    key = query_key(solver.sexpr(), rlimit)
    stored = recall(key)  # a verdict z3 reached on exactly this query before (core/decisions.py)
    if stored is not None:
        status, values, reason = stored
        names = {str(v): sym for sym, v in tr.symbols.items()}
        model = {names[n]: (int(x) if isinstance(x, int) else sp.Rational(x)) for n, x in values.items() if n in names}
        return Decision(status, model if status == "refuted" else None, reason=reason)
    verdict = solver.check()
    if verdict == z3.unsat:
        remember(key, "proved", {}, "z3: the negation has no integer model")
        return Decision("proved", reason="z3: the negation has no integer model")
    if verdict == z3.sat:
        model = solver.model()
        values = {}
        for sym, v in tr.symbols.items():
            val = model.eval(v, model_completion=True)
            values[sym] = int(val.as_long()) if z3.is_int_value(val) else sp.Rational(str(val.as_fraction()))
        remember(key, "refuted", {str(tr.symbols[k]): (v if isinstance(v, int) else str(v)) for k, v in values.items()},
                 "z3 found values where the claim fails")
        return Decision("refuted", values, reason="z3 found values where the claim fails")
    return Decision("unknown", reason=f"z3: {solver.reason_unknown() or 'unknown'}")
