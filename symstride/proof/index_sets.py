"""Claims about index sets, checked by enumeration: partitions, bijections and equal nestings.

A derivation step that splits, reindexes or exchanges finite sums records its concrete claim as
an instance — :class:`Partition`, :class:`Bijection` or :class:`SameSet` over :class:`IndexSet`\\ s —
and each is checked exactly on the derivation's parameter grid, giving an :class:`Outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from ..algebra.arith import EvaluationError, integer_values, truth_values
from ..algebra.frames import Frame, ragged

__all__ = ["Outcome", "IndexSet", "Partition", "Bijection", "SameSet", "base_set", "enumerate_set", "where_set"]


@dataclass(frozen=True)
class Outcome:
    """The result of one check: ``ok``, what was checked (``detail``), and how it was decided."""

    ok: bool
    detail: str
    method: str = "exhaustive"

    def __bool__(self) -> bool:
        return self.ok


def enumerate_set(frame_cols: dict, n: int, limits: Sequence[tuple], instance: np.ndarray) -> tuple[dict, int, np.ndarray]:
    cols = dict(frame_cols)
    for var, lo, hi in limits:
        lo_v = integer_values(lo, cols, n, lambda: f"the lower bound {lo} of {var}")
        hi_v = integer_values(hi, cols, n, lambda: f"the upper bound {hi} of {var}")
        cols, parent, n = ragged(cols, n, var, lo_v, hi_v)
        instance = instance[parent]
    return cols, n, instance


def where_set(frame: Frame, instance: int, cols: dict, row: int, names: Sequence[sp.Symbol]) -> str:
    rows = np.flatnonzero(frame.instance == instance)
    params = frame.describe_row(int(rows[0])) if rows.size else ""
    extra = ", ".join(f"{v} = {int(cols[v][row])}" for v in names)
    return ", ".join(p for p in (params, extra) if p)


def base_set(frame: Frame) -> tuple[dict, int, np.ndarray]:
    """One row per parameter instance."""
    first = np.unique(frame.instance, return_index=True)[1]
    cols = {p: frame.columns[p][first] for p in frame.parameters}
    return cols, int(first.size), frame.instance[first]


@dataclass(frozen=True)
class IndexSet:
    """The index tuples of nested finite sums: ``limits`` (outermost first) and ``conditions``."""

    limits: tuple[tuple[sp.Symbol, Any, Any], ...]
    conditions: tuple[Any, ...] = ()

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return tuple(v for v, _, _ in self.limits)

    def members(self, cols: dict, n: int) -> np.ndarray:
        """Whether the values in ``cols`` lie in the set (bounds and conditions)."""
        ok = np.ones(n, dtype=bool)
        for var, lo, hi in self.limits:
            v = cols[var]
            ok &= (v >= integer_values(lo, cols, n)) & (v <= integer_values(hi, cols, n))
        for c in self.conditions:
            ok &= truth_values(c, cols, n)
        return ok

    def enumerate(self, cols: dict, n: int, instance: np.ndarray) -> tuple[dict, int, np.ndarray]:
        cols, n, instance = enumerate_set(cols, n, self.limits, instance)
        keep = np.ones(n, dtype=bool)
        for c in self.conditions:
            keep &= truth_values(c, cols, n)
        return {k: v[keep] for k, v in cols.items()}, int(keep.sum()), instance[keep]

    def text(self) -> str:
        from ..render.printing import text

        parts = [f"{text(lo)} ≤ {v} ≤ {text(hi)}" for v, lo, hi in self.limits]
        parts += [text(c) for c in self.conditions]
        return ", ".join(parts)


@dataclass(frozen=True)
class Partition:
    """Every index of ``source`` lies in exactly one class ``part`` (a variable with its range).

    ``member`` is the condition "index in class": e.g. ``δm ≡ r (mod s)`` with part ``r ∈ [0, s−1]``.
    """

    context: tuple[tuple[sp.Symbol, Any, Any], ...]
    source: IndexSet
    part: tuple[sp.Symbol, Any, Any]
    member: Any

    def check(self, frame: Frame) -> Outcome:
        cols, n, inst = base_set(frame)
        cols, n, inst = enumerate_set(cols, n, self.context, inst)
        cols, n, inst = self.source.enumerate(cols, n, inst)
        items = n
        ids = np.arange(n)
        cols = {**cols, _ROW: ids}
        cols2, n2, inst2 = enumerate_set(cols, n, (self.part,), inst)
        hit = truth_values(self.member, cols2, n2)
        counts = np.bincount(cols2[_ROW][hit], minlength=n)
        bad = np.flatnonzero(counts != 1)
        var = self.part[0]
        if bad.size:
            row = int(bad[0])
            names = tuple(v for v, _, _ in self.context) + self.source.variables
            where = where_set(frame, int(inst[row]), cols, row, names)
            return Outcome(False, f"{int(counts[row])} classes {var} contain the index ({where}); a partition needs exactly one")
        return Outcome(True, f"each of {items} indices lies in exactly one class {var} (enumerated)")


_ROW = sp.Dummy("row", integer=True)


@dataclass(frozen=True)
class Bijection:
    """``forward`` maps ``source`` onto ``target`` and ``backward`` is its inverse (both enumerated).

    ``forward`` gives each target variable as an expression in the source variables (and the
    context), ``backward`` each source variable in the target variables.
    """

    context: tuple[tuple[sp.Symbol, Any, Any], ...]
    source: IndexSet
    target: IndexSet
    forward: Mapping[sp.Symbol, Any]
    backward: Mapping[sp.Symbol, Any]

    def _one_way(self, frame: Frame, a: IndexSet, b: IndexSet, there: Mapping, back: Mapping, names: tuple[str, str]) -> Outcome | int:
        cols, n, inst = base_set(frame)
        cols, n, inst = enumerate_set(cols, n, self.context, inst)
        cols, n, inst = a.enumerate(cols, n, inst)
        context_vars = tuple(v for v, _, _ in self.context)
        try:
            image = {v: integer_values(e, cols, n, lambda v=v, e=e: f"{v} = {e}") for v, e in there.items()}
        except EvaluationError as exc:
            return Outcome(False, f"the map {names[0]} → {names[1]} is not integer-valued: {exc}")
        moved = {**{k: v for k, v in cols.items() if k not in a.variables}, **image}
        inside = b.members(moved, n)
        if not inside.all():
            row = int(np.argmin(inside))
            img = ", ".join(f"{v} = {int(image[v][row])}" for v in b.variables)
            where = where_set(frame, int(inst[row]), cols, row, context_vars + a.variables)
            return Outcome(False, f"{names[0]} index ({where}) maps to {img}, outside the {names[1]} set {b.text()}")
        returned = {v: integer_values(e, moved, n) for v, e in back.items()}
        same = np.ones(n, dtype=bool)
        for v in a.variables:
            same &= returned[v] == cols[v]
        if not same.all():
            row = int(np.argmin(same))
            where = where_set(frame, int(inst[row]), cols, row, context_vars + a.variables)
            return Outcome(False, f"the two maps are not inverse: {names[0]} index ({where}) does not map back to itself")
        return n

    def check(self, frame: Frame) -> Outcome:
        there = self._one_way(frame, self.source, self.target, self.forward, self.backward, ("source", "target"))
        if isinstance(there, Outcome):
            return there
        back = self._one_way(frame, self.target, self.source, self.backward, self.forward, ("target", "source"))
        if isinstance(back, Outcome):
            return back
        src = ", ".join(map(str, self.source.variables))
        tgt = ", ".join(map(str, self.target.variables))
        return Outcome(True, f"({src}) ↔ ({tgt}) is a bijection on all {there} index tuples (enumerated both ways)")


@dataclass(frozen=True)
class SameSet:
    """Two nestings of finite sums run over the same index tuples (exchange of finite sums)."""

    context: tuple[tuple[sp.Symbol, Any, Any], ...]
    first: IndexSet
    second: IndexSet

    def check(self, frame: Frame) -> Outcome:
        variables = sorted(self.first.variables, key=str)
        if sorted(self.second.variables, key=str) != variables:
            return Outcome(False, "the two nestings sum over different variables")
        tables = []
        for s in (self.first, self.second):
            cols, n, inst = base_set(frame)
            cols, n, inst = enumerate_set(cols, n, self.context, inst)
            cols, n, inst = s.enumerate(cols, n, inst)
            ctx = [cols[v] for v, _, _ in self.context]
            rows = np.stack([inst, *ctx, *(cols[v] for v in variables)], axis=1) if n else np.zeros((0, 1 + len(ctx) + len(variables)), dtype=np.int64)
            tables.append(rows[np.lexsort(rows.T[::-1])] if n else rows)
        a, b = tables
        if a.shape != b.shape or not np.array_equal(a, b):
            only = _first_extra(a, b) or _first_extra(b, a)
            return Outcome(False, f"the nestings differ: {only}")
        return Outcome(True, f"both nestings enumerate the same {a.shape[0]} index tuples")


def _first_extra(a: np.ndarray, b: np.ndarray) -> str | None:
    bset = {tuple(r) for r in b.tolist()}
    for r in a.tolist():
        if tuple(r) not in bset:
            return f"index tuple {tuple(r[1:])} of instance {r[0]} occurs in one nesting only"
    return None
