"""Steps as instances of their rules: the rewrite a rule allows, re-applied and compared.

A rule of :data:`symstride.proof.rules.RULES` allows some of these **moves** (its schema), each an exact
identity on the normal form of :mod:`symstride.proof.summands`:

``unfold``
    replace a defined signal ``u[e]`` by its definition at ``t := e`` (in either line: folding is
    unfolding read backwards); each read must lie in the definition's domain — an obligation.
``eliminate``
    ``Σ_v [C(v)] f(v) = [C(W)] f(W)`` when the guard determines ``v``: the obligation
    ``C(v) ⇒ v = W`` for all values (and ``W`` an integer where it is used).  This is the residue
    split (``r := δm mod s``), the gather ``s·n = e`` and the split of the outputs by phase.
``reindex``
    a change of summation variables ``m ↦ j`` with its inverse, both recorded by the step
    (:class:`~symstride.proof.index_sets.Bijection`); the obligations say the maps are inverse on the
    two index sets and integer-valued, so the map is a bijection between them.

After its moves the previous line and the new one must have the same normal form **up to index
arithmetic**: the same summation variables, the same signals in the same order, and — decided by
z3 for all values of all symbols, under the theorem's hypotheses and the summation bounds — equal
index sets, equal coefficients and equal indices.  Anything else is *not an instance of the
rule*: the step fails, naming the first difference.  Exchanging finite sums and linearity are
identities of the normal form itself (sums over one index set; products distributed).

:func:`instance_obligations` returns the obligations of one step (or the reason it is no
instance); :mod:`symstride.proof.step_proofs` discharges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef

from .discharge import Obligation
from ..algebra.expansion import Definition
from ..render.printing import text
from .summands import Summand, SummandError, bound_symbol, conjuncts, defined_bases, substitute, summands, unfold_summands

__all__ = ["NotAnInstance", "instance_obligations", "compare_terms", "integral", "MOVES"]

#: The moves a schema may use (see the module docstring).
MOVES = ("unfold", "eliminate", "reindex")


class NotAnInstance(ValueError):
    """The new line is not what the rule gives from the previous one."""


def integral(expr: Any) -> Any:
    """The condition that ``expr`` is an integer: ``den | num`` for a quotient, true for a polynomial."""
    num, den = sp.sympify(expr).as_numer_denom()
    if den == 1 or den.is_number and den in (1, -1):
        return sp.true
    return sp.Eq(sp.Mod(num, den), 0)


def _eq_scaled(var: Any, expr: Any) -> Any:
    """``var = expr`` without division: ``den·var = num``."""
    num, den = sp.sympify(expr).as_numer_denom()
    return sp.Eq(den * var, num)


@dataclass
class _Ctx:
    hypotheses: tuple[Any, ...]
    definitions: Mapping[str, Definition]
    obligations: list[Obligation]
    moves: Any = None  # (a, b) -> (a, b): the reindex and eliminate moves, also applied inside pointwise maps

    def need(self, claim: Any, assuming: Sequence[Any], what: str) -> None:
        self.obligations.append(Obligation(claim, tuple(self.hypotheses) + tuple(assuming), what))


def instance_obligations(prev: Any, cur: Any, *, moves: Sequence[str], hypotheses: Sequence[Any],
                         definitions: Mapping[str, Definition], unfold_names: Sequence[str] | None = None,
                         maps: Sequence[tuple[Mapping, Mapping]] = (), witnesses: Mapping[Any, Any] | None = None,
                         ) -> list[Obligation]:
    """The obligations under which ``cur`` follows from ``prev`` by the given moves.

    Raises :class:`NotAnInstance` naming the first structural difference.
    """
    ctx = _Ctx(tuple(hypotheses), definitions, [])
    try:
        a, b = summands(prev), summands(cur)
    except SummandError as exc:
        raise NotAnInstance(str(exc)) from None
    if "unfold" in moves:
        a, b = _unfold_both(a, b, prev, cur, ctx, unfold_names)

    def apply(a: list[Summand], b: list[Summand], outer: Sequence[Any] = ()) -> tuple[list[Summand], list[Summand]]:
        names = {v.name for t in (*a, *b) for v in t.variables} | {v.name for v in outer}
        if "reindex" in moves:
            for forward, backward in maps:
                forward, backward = _bound_map(forward, backward, names)
                b = [_reindex(t, forward, backward, ctx) for t in b]
        if "eliminate" in moves:
            names_a = {v for t in a for v in t.variables}
            names_b = {v for t in b for v in t.variables}
            wit = _bound_map(dict(witnesses or {}), {}, names)[0]
            b = [_eliminate(t, set(t.variables) - names_a, wit, ctx, "the new line") for t in b]
            a = [_eliminate(t, set(t.variables) - names_b, wit, ctx, "the previous line") for t in a]
        return a, b

    ctx.moves = apply
    a, b = apply(a, b)
    _compare(a, b, (), ctx, "")
    return ctx.obligations


def compare_terms(a: Sequence[Summand], b: Sequence[Summand], *, hypotheses: Sequence[Any], where: str = "") -> list[Obligation]:
    """The obligations under which two lines already in the normal form are equal (no moves):
    the same summands, and equal index sets, coefficients and indices for all values."""
    ctx = _Ctx(tuple(hypotheses), {}, [])
    ctx.moves = lambda x, y, outer=(): (x, y)
    _compare(a, b, (), ctx, where)
    return ctx.obligations


# ---------------------------------------------------------------------------------------------
# Moves.
# ---------------------------------------------------------------------------------------------


def _unfold_both(a: list[Summand], b: list[Summand], prev: Any, cur: Any, ctx: _Ctx,
                 names: Sequence[str] | None) -> tuple[list[Summand], list[Summand]]:
    order = list(ctx.definitions)
    defined = {n for n, d in ctx.definitions.items() if d.rhs is not None}
    if names is not None:
        unknown = [n for n in names if n not in defined]
        if unknown:
            raise NotAnInstance(f"{', '.join(unknown)} has no definition to unfold")
        a, ra = unfold_summands(a, set(names), ctx.definitions)
        b, rb = unfold_summands(b, set(names), ctx.definitions)
        _reads(ra + rb, ctx)
        return a, b
    for _ in range(8):  # unfold the latest-defined signal read by one line only, until both read the same
        ba = set().union(*(defined_bases(_line(t)) for t in a)) if a else set()
        bb = set().union(*(defined_bases(_line(t)) for t in b)) if b else set()
        diff = sorted((ba ^ bb) & defined, key=order.index)
        if not diff:
            break
        name = diff[-1]
        if name in bb:
            b, reads = unfold_summands(b, {name}, ctx.definitions)
        else:
            a, reads = unfold_summands(a, {name}, ctx.definitions)
        _reads(reads, ctx)
    return a, b


def _line(t: Summand) -> Any:
    return sp.Tuple(*t.factors, *t.condition)


def _reads(reads: Sequence[Any], ctx: _Ctx) -> None:
    for r in reads:
        ctx.need(sp.And(*r.inside), r.summand.condition, f"the read {text(r.atom)} lies in the domain of its definition")


def _reindex(t: Summand, forward: Mapping, backward: Mapping, ctx: _Ctx) -> Summand:
    new = [v for v in forward if v in t.variables]
    if not new:
        return t
    if set(new) != set(forward):
        raise NotAnInstance(f"the change of variables {_maps_text(forward)} does not match the summation variables {', '.join(map(str, t.variables))}")
    old = list(backward)
    names = ", ".join(map(str, new))
    # onto: every new index comes from an integer old index, and the maps are inverse there
    g_int = [integral(backward[o]) for o in old]
    f_of_g = [sp.Eq(sp.sympify(forward[v]).xreplace(dict(backward)), v) for v in new]
    ctx.need(sp.And(*g_int, *f_of_g), t.condition, f"the change of variables {_maps_text(backward)} is onto ({names} ↦ old ↦ {names})")
    # the old index set: where the forward map lands in the new set and the backward map returns
    # (so the forward map is one-to-one there by construction)
    moved = substitute(t, dict(forward))
    back = [_eq_scaled(o, sp.sympify(backward[o]).xreplace(dict(forward))) for o in old]
    guard = tuple(integral(forward[v]) for v in new) + tuple(back) + moved.condition
    variables = tuple(v for v in t.variables if v not in forward) + tuple(old)
    return Summand(variables, guard, moved.coeff, moved.factors)


def _bound_map(forward: Mapping, backward: Mapping, names: set) -> tuple[dict, dict]:
    """The maps with their variables as the normal form names them (:func:`bound_symbol`)."""
    names = names | {v.name for v in (*forward, *backward)}

    def fix(e: Any) -> Any:
        e = sp.sympify(e)
        return e.xreplace({s: bound_symbol(s) for s in e.free_symbols if isinstance(s, sp.Symbol) and s.name in names})

    return ({bound_symbol(k): fix(v) for k, v in forward.items()}, {bound_symbol(k): fix(v) for k, v in backward.items()})


def _maps_text(m: Mapping) -> str:
    return ", ".join(f"{k} = {text(v)}" for k, v in m.items())


def _eliminate(t: Summand, extra: set, witnesses: Mapping, ctx: _Ctx, where: str) -> Summand:
    for v in [v for v in t.variables if v in extra]:
        w = witnesses.get(v)
        if w is None:
            w = _solve_guard(t, v)
        if w is None:
            raise NotAnInstance(f"{where} sums over {v}, which the previous line does not, and no condition determines {v}")
        rest = [c for c in t.condition]
        ctx.need(_eq_scaled(v, w), rest, f"the condition determines {v} = {text(w)}")
        moved = substitute(t, {v: w})
        t = Summand(moved.variables, (integral(w),) + moved.condition, moved.coeff, moved.factors)
    return t


def _solve_guard(t: Summand, v: Any) -> Any:
    for c in t.condition:
        if isinstance(c, sp.Eq):
            diff = sp.sympify(c.lhs - c.rhs)
            if not diff.has(v):
                continue
            a = diff.diff(v)
            if a.has(v) or any(v in f.free_symbols for f in diff.atoms(sp.floor, sp.ceiling, sp.Mod)):
                continue
            return sp.together(-(diff - a * v) / a)
    return None


# ---------------------------------------------------------------------------------------------
# Comparison up to index arithmetic.
# ---------------------------------------------------------------------------------------------


def _compare(a: Sequence[Summand], b: Sequence[Summand], outer: tuple, ctx: _Ctx, where: str) -> None:
    sig_a = sorted(t.signature() for t in a)
    sig_b = sorted(t.signature() for t in b)
    if sig_a != sig_b:
        raise NotAnInstance(f"{where}the summands differ: {_sigs(sig_a)} against {_sigs(sig_b)}")
    pool = list(b)
    for t in a:
        u = next(x for x in pool if x.signature() == t.signature())
        pool.remove(u)
        _compare_summand(t, u, outer, ctx, where)


def _sigs(sigs: Sequence[tuple]) -> str:
    return " + ".join("·".join(s) or "1" for s in sigs) or "0"


def _compare_summand(t: Summand, u: Summand, outer: tuple, ctx: _Ctx, where: str) -> None:
    if set(t.variables) != set(u.variables):
        raise NotAnInstance(
            f"{where}the summation variables differ: ({', '.join(map(str, t.variables))}) against ({', '.join(map(str, u.variables))})"
        )
    common = set(t.condition) & set(u.condition)
    for mine, theirs, word in ((t, u, "previous"), (u, t, "new")):
        given = outer + tuple(c for c in mine.condition)
        for c in theirs.condition:
            if c not in common:
                ctx.need(c, given, f"{where}the index set of the {word} line lies in the other's: {text(c)}")
    inside = outer + t.condition
    ctx.need(sp.Eq(t.coeff, u.coeff), inside, f"{where}the coefficients agree ({text(t.coeff)} and {text(u.coeff)})")
    fa = sorted(t.factors, key=_key)
    fb = sorted(u.factors, key=_key)
    for f, g in zip(fa, fb):
        if isinstance(f, sp.Indexed):
            if len(f.indices) != len(g.indices):
                raise NotAnInstance(f"{where}{text(f)} and {text(g)} have different numbers of indices")
            for i, (x, y) in enumerate(zip(f.indices, g.indices)):
                ctx.need(sp.Eq(x, y), inside, f"{where}index {i + 1} of {f.base.label.name}: {text(x)} = {text(y)}")
        elif isinstance(f, AppliedUndef):
            if f.func != g.func or len(f.args) != len(g.args):
                raise NotAnInstance(f"{where}{text(f)} and {text(g)} apply different maps")
            for x, y in zip(f.args, g.args):
                try:
                    _compare(*ctx.moves(summands(x), summands(y), t.variables), inside, ctx, f"{where}inside {f.func}: ")
                except SummandError as exc:
                    raise NotAnInstance(str(exc)) from None
        else:
            raise NotAnInstance(f"{where}cannot compare {text(f)} with {text(g)}")


def _key(f: Any) -> str:
    return f.base.label.name if isinstance(f, sp.Indexed) else str(f.func)
