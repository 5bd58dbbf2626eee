"""Expansion of derivation lines into terms, and the definitions that unfold derived signals.

A line becomes a list of :class:`Term`\\ s — nested summation limits, conditions, a coefficient and
a product of ``Indexed`` atoms — and every atom with a :class:`Definition` is unfolded until only
primitive atoms remain; a read outside a definition's domain is recorded as an assertion.  This is
the symbolic first stage of :mod:`symstride.terms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.core.function import AppliedUndef
from sympy.core.operations import AssocOp

from .arith import EvaluationError
from ..render.printing import Iverson

__all__ = ["Term", "Definition", "INDEX", "expand", "unfold"]


def _replace(expr: Any, mapping: Mapping[Any, Any]) -> Any:
    """``expr.xreplace(mapping)`` without SymPy's evaluation of the rebuilt nodes.

    Expressions rebuilt here are only evaluated numerically (never printed or simplified), so
    the nodes are constructed raw: no canonical ordering, no assumption queries — the cost of
    unfolding definitions drops from SymPy's construction time to a tree walk.
    """
    if expr in mapping:
        return mapping[expr]
    if not expr.args:
        return expr
    args = tuple(_replace(a, mapping) for a in expr.args)
    if all(a is b for a, b in zip(args, expr.args)):
        return expr
    if isinstance(expr, AssocOp):  # Add, Mul: keep their commutativity flag
        return type(expr)._from_args(args, expr.is_commutative)
    new = sp.Basic.__new__(type(expr), *args)
    if isinstance(expr, ExprWithLimits):  # Sum.__new__ sets this slot on the instance
        new.is_commutative = expr.is_commutative
    return new


@dataclass(frozen=True)
class Term:
    """``coeff · Π atoms`` summed over ``limits`` (outermost first) where every condition holds.

    ``assertions`` are ``(condition, message)`` pairs (messages format with ``str``) that must hold wherever the term
    contributes (reads inside the domains of the definitions that were unfolded).
    """

    limits: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...] = ()
    conditions: tuple[Any, ...] = ()
    coeff: sp.Expr = sp.S.One
    atoms: tuple[sp.Indexed, ...] = ()
    assertions: tuple[tuple[Any, Any], ...] = ()

    def times(self, other: "Term") -> "Term":
        return Term(
            self.limits + other.limits,
            self.conditions + other.conditions,
            self.coeff * other.coeff,
            self.atoms + other.atoms,
            self.assertions + other.assertions,
        )


_ONE = Term()


def expand(expr: Any) -> list[Term]:
    """``expr`` as a list of terms; summation variables become fresh dummies."""
    expr = sp.sympify(expr)
    if isinstance(expr, sp.UnevaluatedExpr):
        return expand(expr.args[0])
    if isinstance(expr, sp.Add):
        return [t for arg in expr.args for t in expand(arg)]
    if isinstance(expr, sp.Mul):
        terms = [_ONE]
        for factor in expr.args:
            terms = [a.times(b) for a in terms for b in expand(factor)]
        return terms
    if isinstance(expr, sp.Sum):
        subs: dict = {}
        limits = []
        for var, lo, hi in reversed(expr.limits):  # outermost first; bounds may use outer variables
            fresh = sp.Dummy(var.name, integer=True)
            limits.append((fresh, _replace(sp.sympify(lo), subs), _replace(sp.sympify(hi), subs)))
            subs[var] = fresh
        body = _replace(expr.function, subs)
        return [Term(tuple(limits) + t.limits, t.conditions, t.coeff, t.atoms, t.assertions) for t in expand(body)]
    if isinstance(expr, sp.Piecewise):
        out, previous = [], []
        for piece, cond in expr.args:
            here = [sp.Not(c) for c in previous] + ([] if cond == sp.true else [cond])
            previous.append(cond)
            if piece == 0:
                continue
            out += [Term(t.limits, tuple(here) + t.conditions, t.coeff, t.atoms, t.assertions) for t in expand(piece)]
        return out
    if isinstance(expr, Iverson):
        return [Term(conditions=(expr.args[0],))]
    if isinstance(expr, (sp.Indexed, AppliedUndef)):
        return [Term(atoms=(expr,))]
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0 and expr.base.has(sp.Indexed, sp.Sum):
        return expand(sp.Mul(*([expr.base] * int(expr.exp)), evaluate=False))
    if expr.has(sp.Indexed, sp.Sum, sp.Piecewise, AppliedUndef):
        raise EvaluationError(f"cannot expand {expr} ({type(expr).__name__}) into a sum of products")
    if expr == 0:
        return []
    return [Term(coeff=expr)]


@dataclass(frozen=True)
class Definition:
    """What an indexed signal means: ``lhs = rhs`` for the variables in ``domain``.

    ``lhs`` is ``base[pattern…]``; each pattern entry is usually a variable, but may be an
    expression such as ``c·P + φ(r)`` when ``inverse`` says how to recover the variables from an
    index (``inverse[v]`` is an expression in :data:`INDEX` placeholders ``i0, i1, …``).
    ``rhs=None`` marks a primitive signal (an input or a weight): it stays an atom, and its
    reads are only checked against the domain.  ``note`` says in words what the signal is.
    """

    lhs: sp.Indexed
    rhs: Any
    domain: tuple[tuple[sp.Symbol, Any, Any], ...] = ()
    inverse: Mapping[sp.Symbol, Any] | None = None
    note: str = ""

    @property
    def base(self) -> sp.IndexedBase:
        return self.lhs.base

    @property
    def name(self) -> str:
        return self.lhs.base.label.name

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return tuple(v for v, _, _ in self.domain)

    def read(self, atom: sp.Indexed) -> tuple[dict, list[tuple[Any, Any]]]:
        """The variables an atom binds, and the assertions that it lies inside the domain."""
        pattern = self.lhs.indices
        if len(atom.indices) != len(pattern):
            raise EvaluationError(f"{atom} has {len(atom.indices)} indices, but {self.lhs} has {len(pattern)}")
        placeholders = dict(zip(INDEX, atom.indices))
        if self.inverse is not None:
            binding = {v: _replace(sp.sympify(e), placeholders) for v, e in self.inverse.items()}
        else:
            binding = {}
            for p, i in zip(pattern, atom.indices):
                if not p.is_Symbol:
                    raise EvaluationError(f"{self.lhs}: the index {p} is not a variable; give the definition an inverse")
                binding[p] = i
        assertions = []
        where = _Outside(atom, self.lhs)
        with sp.evaluate(False):  # built for numeric evaluation only: skip SymPy's simplification
            for p, i in zip(pattern, atom.indices):
                if not p.is_Symbol or self.inverse is not None:
                    assertions.append((sp.Eq(_replace(p, binding), i), where))
            for v, lo, hi in self.domain:  # bounds may depend on the other variables
                value = binding[v]
                assertions.append((sp.Ge(value, _replace(sp.sympify(lo), binding)), where))
                assertions.append((sp.Le(value, _replace(sp.sympify(hi), binding)), where))
        return binding, assertions


@dataclass(frozen=True)
class _Outside:
    """The message of a read outside a definition's domain (formatted only when it is needed)."""

    atom: sp.Indexed
    lhs: sp.Indexed

    def __str__(self) -> str:
        return f"{sp.sstr(self.atom)} is outside the domain of {sp.sstr(self.lhs)}"


def _name(atom: Any) -> str | None:
    """The base name of an indexed atom (None for a pointwise-function atom, which is not unfolded)."""
    return atom.base.label.name if isinstance(atom, sp.Indexed) else None


#: Placeholders for the indices of an atom in :attr:`Definition.inverse`.
INDEX = sp.symbols("i0:8", integer=True)


def unfold(terms: Iterable[Term], definitions: Mapping[str, Definition], *, depth: int = 32) -> list[Term]:
    """Replace every defined atom by its definition until only primitive atoms remain."""
    out: list[Term] = []
    work = [(t, 0) for t in terms]
    while work:
        term, level = work.pop()
        for k, atom in enumerate(term.atoms):
            d = definitions.get(_name(atom))
            if d is not None and d.rhs is not None:
                break
        else:
            assertions = list(term.assertions)
            for atom in term.atoms:
                d = definitions.get(_name(atom))
                if d is not None:
                    assertions += d.read(atom)[1]
            out.append(Term(term.limits, term.conditions, term.coeff, term.atoms, tuple(assertions)))
            continue
        if level >= depth:
            raise EvaluationError(f"definitions nest deeper than {depth} levels at {atom} (a circular definition?)")
        binding, assertions = d.read(atom)
        rest = Term(term.limits, term.conditions, term.coeff, term.atoms[:k] + term.atoms[k + 1 :], term.assertions + tuple(assertions))
        for t in expand(_replace(sp.sympify(d.rhs), binding)):
            work.append((rest.times(t), level + 1))
    out.reverse()
    return out
