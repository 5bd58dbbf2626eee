"""The normal form the proof checker compares lines in: sums of guarded products over index sets.

A derivation line is a finite sum of :class:`Summand`\\ s.  A summand is

    Σ_{(v_1, …, v_k) ∈ ℤ^k : condition} coeff · f_1 · … · f_m

— its bound ``variables``, one ``condition`` (the conjunction of the summation bounds, the
Iverson brackets and the ``Piecewise`` guards on the way down), a ``coeff`` free of signals and
the ``factors`` (``Indexed`` signal reads, and pointwise maps ``σ(…)`` whose argument is a line
of its own).  Each rewriting into this form is an exact identity under the convention of the
project (a sum whose upper bound is below its lower bound is empty):

* nested sums merge their index sets — so exchanging finite sums and distributing products over
  sums (linearity) leave the normal form unchanged;
* ``[c]·f`` and ``Piecewise((f, c), (0, True))`` restrict the index set to ``c``;
* products of sums are sums over the product of the index sets (a clashing bound variable is
  renamed with a prime).

Bound variables keep their names (a fixed, canonical form: no ``simplify``, no ``expand``), so
two lines are compared variable by variable; index expressions are compared for *all* values by
z3 (:mod:`symstride.proof.discharge`), never by evaluation on a grid.

:func:`unfold` replaces a signal by its definition (:class:`~symstride.algebra.expansion.Definition`),
returning the reads it made so that the checker proves each lies inside the definition's domain.

>>> import sympy as sp
>>> m, n = sp.symbols("m n", integer=True)
>>> k = sp.Symbol("k", integer=True, positive=True)
>>> w, x = sp.IndexedBase("w"), sp.IndexedBase("x")
>>> [str(t) for t in summands(sp.Sum(w[m] * x[n + m], (m, 0, k - 1)))]
['Σ_(m) [(m >= 0) & (m <= k - 1)] 1·w[m]·x[m + n]']
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef

from ..algebra.expansion import Definition
from ..render.printing import Iverson

__all__ = ["Summand", "summands", "unfold_summands", "Read", "substitute", "defined_bases", "SummandError", "bound_symbol", "conjuncts"]


class SummandError(ValueError):
    """A line cannot be put in the normal form (an unsupported construct)."""


@dataclass(frozen=True)
class Summand:
    """``Σ_{variables : condition} coeff · Π factors`` (see the module docstring)."""

    variables: tuple[sp.Symbol, ...] = ()
    condition: tuple[Any, ...] = ()  # conjuncts
    coeff: Any = sp.S.One
    factors: tuple[Any, ...] = ()

    def times(self, other: "Summand") -> "Summand":
        clash = set(self.variables) & set(other.variables)
        if clash:
            other = rename(other, clash, set(self.variables) | set(other.variables) | self.free() | other.free())
        return Summand(self.variables + other.variables, self.condition + other.condition,
                       sp.Mul(self.coeff, other.coeff), self.factors + other.factors)

    def free(self) -> set:
        out: set = set()
        for c in (*self.condition, self.coeff, *self.factors):
            out |= sp.sympify(c).free_symbols
        return out

    @property
    def guard(self) -> Any:
        return sp.And(*self.condition) if self.condition else sp.true

    def signature(self) -> tuple:
        return tuple(sorted(_base_name(f) for f in self.factors))

    def __str__(self) -> str:
        vs = ", ".join(map(str, self.variables))
        body = "·".join([sp.sstr(self.coeff)] + [sp.sstr(f) for f in self.factors])
        return f"Σ_({vs}) [{sp.sstr(self.guard)}] {body}"


def bound_symbol(v: sp.Symbol) -> sp.Symbol:
    """A summation variable as the normal form holds it: an integer symbol of the same name and
    no other assumption (its range is its bounds — an assumption such as ``nonnegative`` on the
    symbol would otherwise become a hypothesis of the proof)."""
    return sp.Symbol(v.name, integer=True)


def conjuncts(c: Any) -> tuple[Any, ...]:
    """The conjuncts of a condition, flattened."""
    c = sp.sympify(c)
    if c is sp.true:
        return ()
    if isinstance(c, sp.And):
        return tuple(x for a in c.args for x in conjuncts(a))
    return (c,)


def _base_name(f: Any) -> str:
    if isinstance(f, sp.Indexed):
        return f.base.label.name
    return type(f).__name__


def rename(t: Summand, names: set, taken: set) -> Summand:
    """Rename the bound variables ``names`` of ``t`` to primed names not in ``taken``."""
    mapping = {}
    for v in t.variables:
        if v in names:
            new = v
            while new in taken or new in mapping.values():
                new = sp.Symbol(new.name + "'", integer=True)
            mapping[v] = new
    return substitute(t, mapping, rebind=True)


def substitute(t: Summand, mapping: Mapping[Any, Any], *, rebind: bool = False) -> Summand:
    """``t`` with ``mapping`` applied to its condition, coefficient and factors (and, with
    ``rebind``, to the bound variables themselves: a renaming)."""
    variables = tuple(mapping.get(v, v) for v in t.variables) if rebind else tuple(v for v in t.variables if v not in mapping)
    return Summand(
        variables,
        tuple(sp.sympify(c).xreplace(mapping) for c in t.condition),
        sp.sympify(t.coeff).xreplace(mapping),
        tuple(sp.sympify(f).xreplace(mapping) for f in t.factors),
    )


def summands(expr: Any) -> list[Summand]:
    """``expr`` in the normal form: a list of summands (empty for zero)."""
    expr = sp.sympify(expr)
    if isinstance(expr, sp.UnevaluatedExpr):
        return summands(expr.args[0])
    if isinstance(expr, sp.Add):
        return [t for a in expr.args for t in summands(a)]
    if isinstance(expr, sp.Mul):
        out = [Summand()]
        for factor in expr.args:
            out = [a.times(b) for a in out for b in summands(factor)]
        return out
    if isinstance(expr, sp.Sum):
        body = expr.function
        limits = list(expr.limits)
        bounds: list[Any] = []
        variables: list[sp.Symbol] = []
        renamed: dict = {}
        for var, lo, hi in reversed(limits):  # outermost first; bounds may use outer variables
            lo, hi = sp.sympify(lo).xreplace(renamed), sp.sympify(hi).xreplace(renamed)
            renamed[var] = var = bound_symbol(var)
            variables.append(var)
            if lo != -sp.oo:
                bounds.append(sp.Ge(var, lo, evaluate=False))
            if hi != sp.oo:
                bounds.append(sp.Le(var, hi, evaluate=False))
        body = body.xreplace(renamed)
        out = []
        for t in summands(body):
            clash = set(variables) & set(t.variables)
            if clash:
                t = rename(t, clash, set(variables) | t.free())
            out.append(Summand(tuple(variables) + t.variables, tuple(bounds) + t.condition, t.coeff, t.factors))
        return out
    if isinstance(expr, sp.Piecewise):
        out, previous = [], []
        for piece, cond in expr.args:
            here = [sp.Not(c) for c in previous] + list(conjuncts(cond))
            previous.append(cond)
            out += [Summand(t.variables, tuple(here) + t.condition, t.coeff, t.factors) for t in summands(piece)]
        return out
    if isinstance(expr, Iverson):
        return [Summand(condition=conjuncts(expr.args[0]))]
    if isinstance(expr, (sp.Indexed, AppliedUndef)):
        return [Summand(factors=(expr,))]
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0 and expr.base.has(sp.Indexed, sp.Sum):
        return summands(sp.Mul(*([expr.base] * int(expr.exp)), evaluate=False))
    if expr.has(sp.Indexed, sp.Sum, sp.Piecewise, AppliedUndef, Iverson):
        raise SummandError(f"cannot write {expr} ({type(expr).__name__}) as a sum of guarded products")
    if expr == 0:
        return []
    return [Summand(coeff=expr)]


@dataclass(frozen=True)
class Read:
    """A read ``atom`` of a defined signal that was unfolded: it must satisfy ``inside`` wherever
    the summand it occurs in contributes (the definition holds on its domain only)."""

    atom: Any
    inside: tuple[Any, ...]
    summand: Summand  # the summand the read occurred in (its variables and condition)


def defined_bases(expr: Any) -> set[str]:
    """The names of the indexed signals ``expr`` reads (also inside pointwise maps)."""
    return {i.base.label.name for i in sp.sympify(expr).atoms(sp.Indexed)}


def unfold_summands(terms: Sequence[Summand], names: set[str], definitions: Mapping[str, Definition], *,
           depth: int = 8) -> tuple[list[Summand], list[Read]]:
    """Replace every read of a signal in ``names`` by its definition (also inside pointwise maps)."""
    reads: list[Read] = []
    out: list[Summand] = []
    work = [(t, 0) for t in terms]
    while work:
        t, level = work.pop()
        for pos, f in enumerate(t.factors):
            if isinstance(f, sp.Indexed) and f.base.label.name in names:
                break
            if isinstance(f, AppliedUndef) and defined_bases(f) & names:
                new_args = []
                for a in f.args:
                    inner, inner_reads = unfold_summands(summands(a), names, definitions, depth=depth)
                    reads.extend(Read(r.atom, r.inside, _nest(t, r.summand)) for r in inner_reads)
                    new_args.append(rebuild(inner))
                f2 = f.func(*new_args)
                work.append((replace(t, factors=t.factors[:pos] + (f2,) + t.factors[pos + 1:]), level))
                break
        else:
            out.append(t)
            continue
        if not isinstance(f, sp.Indexed):
            continue
        if level >= depth:
            raise SummandError(f"definitions nest deeper than {depth} levels at {f}")
        d = definitions[f.base.label.name]
        if d.rhs is None:
            raise SummandError(f"{f.base.label.name} is a primitive signal (an input or a weight): it has no definition to unfold")
        binding, assertions = d.read(f)
        reads.append(Read(f, tuple(a for a, _ in assertions), t))
        rest = replace(t, factors=t.factors[:pos] + t.factors[pos + 1:])
        body = sp.sympify(d.rhs).xreplace(binding)
        for b in summands(body):
            work.append((rest.times(b), level + 1))
    out.reverse()
    return out, reads


def _nest(outer: Summand, inner: Summand) -> Summand:
    """The summand of a read inside a pointwise map: the outer variables and condition, then the inner ones."""
    return Summand(outer.variables + inner.variables, outer.condition + inner.condition, inner.coeff, inner.factors)


def rebuild(terms: Sequence[Summand]) -> Any:
    """A SymPy expression equal to the sum of ``terms`` (for the argument of a pointwise map)."""
    parts = []
    for t in terms:
        body = sp.Mul(t.coeff, *t.factors, evaluate=False)
        if t.condition:
            body = sp.Mul(Iverson(sp.And(*t.condition)), body, evaluate=False)
        for v in reversed(t.variables):
            body = sp.Sum(body, (v, -sp.oo, sp.oo))
        parts.append(body)
    return sp.Add(*parts, evaluate=False) if parts else sp.S.Zero
