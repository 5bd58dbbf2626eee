"""Frames: the rows an evaluation runs on, one per parameter instance and output index.

A :class:`Frame` is a grid of parameter values filtered by constraints and expanded over the
output domain; :func:`ragged` is the ragged expansion of one index whose bounds may depend on
the columns already there (shared with the summation limits of :mod:`symstride.algebra.evaluation`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from .arith import EvaluationError, truth, integer_values

__all__ = ["Frame", "MAX_ROWS", "ragged"]

#: The largest number of (instance, output, summation index) rows one evaluation may create.
MAX_ROWS = 30_000_000


def ragged(cols: dict, n: int, var: sp.Symbol, lo: np.ndarray, hi: np.ndarray) -> tuple[dict, np.ndarray, int]:
    counts = np.clip(hi - lo + 1, 0, None)
    total = int(counts.sum())
    if total > MAX_ROWS:
        raise EvaluationError(
            f"enumerating {var} would create {total} rows (limit {MAX_ROWS}); use a smaller grid"
        )
    parent = np.repeat(np.arange(n), counts)
    starts = np.cumsum(counts) - counts
    offsets = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
    new = {k: v[parent] for k, v in cols.items()}
    new[var] = lo[parent] + offsets
    return new, parent, total


@dataclass
class Frame:
    """Rows to evaluate on: one per parameter instance and output index.

    ``columns`` maps each parameter and output-index symbol to an int64 array; ``instance``
    numbers the parameter instances (rows of the grid that satisfied the constraints);
    ``parameters`` and ``outputs`` name the symbols in display order.
    """

    columns: dict[sp.Symbol, np.ndarray]
    instance: np.ndarray
    parameters: tuple[sp.Symbol, ...]
    outputs: tuple[sp.Symbol, ...]

    @property
    def size(self) -> int:
        return int(self.instance.size)

    @property
    def instances(self) -> int:
        return int(self.instance.max()) + 1 if self.instance.size else 0

    @classmethod
    def grid(
        cls,
        values: Mapping[sp.Symbol, Sequence[int]],
        domain: Sequence[tuple[sp.Symbol, Any, Any]] = (),
        constraints: Sequence[Any] = (),
    ) -> "Frame":
        """Every combination of parameter ``values`` satisfying ``constraints``, times the output ``domain``."""
        params = tuple(values)
        combos = list(itertools.product(*(list(values[p]) for p in params)))
        n = len(combos)
        table = np.array(combos, dtype=np.int64).reshape(n, len(params))
        cols = {p: table[:, i].copy() for i, p in enumerate(params)}
        keep = np.ones(n, dtype=bool)
        for c in constraints:
            keep &= truth(sp.sympify(c), cols, n)
        cols = {k: v[keep] for k, v in cols.items()}
        n = int(keep.sum())
        instance = np.arange(n, dtype=np.int64)
        cols = dict(cols)
        for var, lo, hi in domain:
            lo_v, hi_v = integer_values(lo, cols, n), integer_values(hi, cols, n)
            cols, parent, n = ragged(cols, n, var, lo_v, hi_v)
            instance = instance[parent]
        return cls(cols, instance, params, tuple(v for v, _, _ in domain))

    def select(self, rows: np.ndarray) -> "Frame":
        """The sub-frame of some rows (instances renumbered densely)."""
        inst = self.instance[rows]
        _, dense = np.unique(inst, return_inverse=True)
        return Frame({k: v[rows] for k, v in self.columns.items()}, dense.astype(np.int64), self.parameters, self.outputs)

    def describe_row(self, row: int) -> str:
        """``N = 9, n = 2``-style description of one row."""
        parts = [f"{p} = {int(self.columns[p][row])}" for p in self.parameters]
        parts += [f"{v} = {int(self.columns[v][row])}" for v in self.outputs]
        return ", ".join(parts)
