"""Side conditions a derivation step relies on, and the derived bounds of a reindexed sum.

A :class:`SideCondition` is decided by SymPy from the symbols' assumptions when it can, and
otherwise exhaustively on the parameter grid; :func:`reindex_bounds` solves
``δ·lo ≤ s·j + r ≤ δ·hi`` for ``j`` and returns each rewriting of the bounds as a side condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..algebra.arith import truth_values
from ..algebra.frames import Frame
from .index_sets import Outcome, base_set, enumerate_set, where_set
from ..algebra.lines import add, ceil_div, floor_div, mul
from ..render.printing import text

__all__ = ["SideCondition", "decide_by_assumptions", "reindex_bounds"]


def decide_by_assumptions(cond: Any) -> bool | None:
    """Decide ``cond`` from the symbols' assumptions alone (SymPy's ``is_*`` queries), or None."""
    cond = sp.sympify(cond)
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, sp.And):
        votes = [decide_by_assumptions(a) for a in cond.args]
        if any(v is False for v in votes):
            return False
        return True if all(votes) else None
    if isinstance(cond, sp.Or):
        votes = [decide_by_assumptions(a) for a in cond.args]
        if any(votes):
            return True
        return False if all(v is False for v in votes) else None
    if isinstance(cond, sp.Rel):
        diff = sp.expand(cond.lhs - cond.rhs)
        query = {
            sp.Ge: lambda d: d.is_nonnegative,
            sp.Gt: lambda d: d.is_positive,
            sp.Le: lambda d: (-d).is_nonnegative,
            sp.Lt: lambda d: (-d).is_positive,
            sp.Eq: lambda d: d.is_zero,
            sp.Ne: lambda d: d.is_nonzero,
        }.get(type(cond))
        return None if query is None else query(diff)
    return None


@dataclass(frozen=True)
class SideCondition:
    """A condition a step relies on: ``statement`` for all ``over`` indices (and every parameter).

    Checked first by SymPy from the symbols' assumptions (quantified indices with a
    non-negative lower bound are treated as non-negative integers); what SymPy cannot decide_by_assumptions is
    decided exhaustively on the derivation's parameter grid.
    """

    statement: Any
    text: str
    over: tuple[tuple[sp.Symbol, Any, Any], ...] = ()

    def check(self, frame: Frame) -> Outcome:
        stmt = sp.sympify(self.statement)
        weakened = {}
        for var, lo, _ in self.over:
            if (sp.sympify(lo)).is_nonnegative:
                weakened[var] = sp.Dummy(var.name, integer=True, nonnegative=True)
        # SymPy's assumptions cannot see through floor, ceiling and Mod (and querying them is slow)
        verdict = None if stmt.has(sp.floor, sp.ceiling, sp.Mod) else decide_by_assumptions(stmt.xreplace(weakened))
        if verdict is True:
            return Outcome(True, f"{self.text}: follows from the assumptions", "SymPy")
        cols, n, inst = base_set(frame)
        cols, n, inst = enumerate_set(cols, n, self.over, inst)
        ok = truth_values(stmt, cols, n)
        if not ok.all():
            row = int(np.argmin(ok))
            where = where_set(frame, int(inst[row]), cols, row, tuple(v for v, _, _ in self.over))
            return Outcome(False, f"{self.text}: false at {where}")
        return Outcome(True, f"{self.text}: holds on all {n} cases", "exhaustive")


def _math(expr: Any) -> str:
    """``expr`` as prose mathematics: the plain-text printer with true minus signs."""
    return text(expr).replace("-", "−")


def reindex_bounds(
    lo: Any, hi: Any, *, scale: Any, stride: Any, residue: Any, shift: Any = 0, context: tuple = ()
) -> tuple[sp.Expr, sp.Expr, list[SideCondition]]:
    """The range of ``j`` when ``m`` runs over ``[lo, hi]`` and ``scale·m + shift = stride·j + residue``.

    Solving ``scale·lo + shift ≤ stride·j + residue ≤ scale·hi + shift`` for ``j``
    (``stride > 0``) gives ``⌈(scale·lo + shift − r)/s⌉ ≤ j ≤ ⌊(scale·hi + shift − r)/s⌋``.  With
    ``lo = 0``, no shift and ``0 ≤ r < s`` the lower bound is 0; the upper bound is written
    ``⌈(scale·hi + shift + 1 − r)/s⌉ − 1``.  Each rewriting is returned as a side condition
    (quantified over ``r`` and the ``context`` limits), so the derivation checks it rather than
    assuming it.
    """
    lo, hi, scale, stride, residue, shift = map(sp.sympify, (lo, hi, scale, stride, residue, shift))
    reach_hi = add(mul(scale, hi), shift)
    raw_lo = ceil_div(add(mul(scale, lo), shift, mul(-1, residue)), stride)
    raw_hi = floor_div(add(reach_hi, mul(-1, residue)), stride)
    over = tuple(context) + (((residue, 0, stride - 1),) if residue.is_Symbol else ())
    conditions = []
    if lo == 0 and shift == 0:
        new_lo = sp.S.Zero
        conditions.append(SideCondition(sp.Eq(raw_lo, 0, evaluate=False),
                                        f"the lowest index is {_math(raw_lo)} = 0 because 0 ≤ {_math(residue)} ≤ {_math(add(stride, -1))}", over))
    else:
        new_lo = raw_lo
    new_hi = add(ceil_div(add(reach_hi, 1, mul(-1, residue)), stride), -1)
    if stride == 1 and residue == 0:
        new_hi = reach_hi
    conditions.append(
        SideCondition(sp.Eq(raw_hi, new_hi, evaluate=False),
                      f"the highest index is {_math(raw_hi)} = {_math(new_hi)}" + (f" (integers, {_math(stride)} ≥ 1)" if stride.free_symbols else ""), over)
    )
    return new_lo, new_hi, conditions
