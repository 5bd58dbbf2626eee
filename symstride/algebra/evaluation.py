"""Exact, vectorised evaluation of a derivation line on every row of a frame.

The numeric second stage of :mod:`symstride.terms`: the summation limits of each expanded term
are enumerated with NumPy (bounds may depend on outer indices), conditions filter the rows,
assertions are checked, and the atoms' indices are computed in exact rational integer arithmetic,
giving a :class:`~symstride.algebra.polynomials.Table`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from .arith import EvaluationError, truth, exact_value, integer_values
from .expansion import Definition, Term, expand, unfold
from .frames import Frame, ragged
from .polynomials import Table, PolynomialBlock, polynomial_ids

__all__ = ["evaluate", "evaluate_terms"]


def _apply_ready(conditions: list, cols: dict, n: int) -> tuple[list, np.ndarray]:
    """Filter rows by the conditions whose symbols are all bound; return the others."""
    pending = []
    mask = np.ones(n, dtype=bool)
    for c in conditions:
        if all(s in cols for s in c.free_symbols if isinstance(s, sp.Symbol)):
            mask &= truth(c, cols, n)
        else:
            pending.append(c)
    return pending, mask


def _evaluate_term(term: Term, frame: Frame, definitions: Mapping[str, Definition]) -> PolynomialBlock:
    cols = dict(frame.columns)
    n = frame.size
    out = np.arange(n, dtype=np.int64)
    pending = list(term.conditions)
    for var, lo, hi in term.limits:
        pending, mask = _apply_ready(pending, cols, n)
        if not mask.all():
            cols = {k: v[mask] for k, v in cols.items()}
            out, n = out[mask], int(mask.sum())
        lo_v = integer_values(lo, cols, n, lambda: f"the lower bound {lo} of {var}")
        hi_v = integer_values(hi, cols, n, lambda: f"the upper bound {hi} of {var}")
        cols, parent, n = ragged(cols, n, var, lo_v, hi_v)
        out = out[parent]
    if pending:
        mask = np.ones(n, dtype=bool)
        for c in pending:
            mask &= truth(c, cols, n)
        cols = {k: v[mask] for k, v in cols.items()}
        out, n = out[mask], int(mask.sum())
    for cond, message in term.assertions:
        ok = truth(cond, cols, n)
        if not ok.all():
            bad = int(np.argmin(ok))
            where = frame.describe_row(int(out[bad]))
            raise EvaluationError(f"{message} (at {where}; {_bound_values(term, cols, bad)})")
    coeff = exact_value(term.coeff, cols, n).reduced()
    atoms = []
    inner = {}
    for slot, atom in enumerate(term.atoms):
        if isinstance(atom, AppliedUndef):  # a pointwise map: its argument, evaluated on these rows
            (arg,) = atom.args
            table = evaluate(arg, Frame(dict(cols), np.arange(n, dtype=np.int64), tuple(cols), ()), definitions)
            inner[slot] = (atom.func.__name__, table)
            atoms.append((f"{atom.func.__name__}(·)", polynomial_ids(table, n)[:, None]))
            continue
        index = [integer_values(i, cols, n, lambda i=i, atom=atom: f"the index {i} of {atom}") for i in atom.indices]
        atoms.append((atom.base.label.name, np.stack(index, axis=1) if index else np.zeros((n, 0), dtype=np.int64)))
    return PolynomialBlock(out, coeff.num, coeff.dens, atoms, inner)


def _bound_values(term: Term, cols: dict, row: int) -> str:
    return ", ".join(f"{v.name} = {int(cols[v][row])}" for v, _, _ in term.limits) or "no summation index"


def evaluate(expr: Any, frame: Frame, definitions: Mapping[str, Definition] | None = None) -> Table:
    """Evaluate ``expr`` exactly on every row of ``frame`` (unfolding ``definitions``)."""
    definitions = definitions or {}
    return evaluate_terms(unfold(expand(expr), definitions), frame, definitions)


def evaluate_terms(terms: Sequence[Term], frame: Frame, definitions: Mapping[str, Definition] | None = None) -> Table:
    """Evaluate expanded (and unfolded) terms on every row of ``frame``."""
    return Table([_evaluate_term(t, frame, definitions or {}) for t in terms], frame.size)
