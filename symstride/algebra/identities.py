"""User identities between operator expressions: decided for every input size, or refuted.

Operators compose with ``*`` (applied right to left): ``D(2) * D(3)``, ``D(2) * Conv(kernel=3)``,
``Bank(W) * SpaceToDepth(2)``, ``Pointwise("relu") * D(2)``.  :func:`identity` pairs two
expressions.  **Meaning**: for every input size (per axis ``N ≥ 1``) at which both sides are
defined, the output shapes agree and every output entry agrees as a polynomial in the weights
and the input (and for every pointwise map); sizes where only one side is defined are reported,
and claim nothing.

:meth:`Identity.check` is a decision procedure (:mod:`symstride.algebra.decision`): both sides are written
through their operators' index forms, every output entry is a finite sum of terms
``coef · x[c, i]`` whose guards, read positions and output lengths are integer-affine in ``(N, n)``
with floor/mod by constants, so "the identity fails" is a linear-integer-arithmetic formula that
z3 decides completely.  The result is **proved** for every input size, or **refuted** with a
counterexample at the smallest failing input size (its first differing output entry and both
sides there, computed by the exact evaluator).  Where the procedure cannot decide (pointwise maps
between linear segments that differ, or z3 running out of time) the result is bounded evidence —
"holds for N ≤ 40 (not proved)" — never a proof.  The exact evaluator and the NumPy reference of
every operator on small sizes are a second opinion.

>>> from symstride import Conv, D
>>> identity(D(2) * D(3), D(6)).check().proved
True
>>> print(identity(D(13), D(14)).check().counterexample)
at input size N = 14: the left side has output shape 1 channel × 2, the right side 1 channel × 1
>>> print(identity(D(2) * D(2), D(4, offset=1)).check().counterexample)
at input size N = 2, output y[0, 0]: the left side is x[0, 0], the right side is x[0, 1]
>>> identity(D(20) * Conv(kernel=3), Conv(kernel=3, stride=20)).check().proved
True
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError

import itertools
from typing import Any, Sequence

import numpy as np
import sympy as sp

from .arith import EvaluationError, integer_values
from .decision import IDENTITY_TIMEOUT_MS, IdentityDecision, Sides, decide_identity
from .evaluation import evaluate
from .expressions import Bank, input_channels, operator_chain, spatial_axes
from .frames import Frame, ragged
from .identity_result import Counterexample, IdentityResult, grid_text
from .index_forms import INT
from .numeric_forms import apply_numeric
from .operators import Compose, Operator
from .polynomials import compare
from .random_evaluation import numeric, random_values
from ..core.params import per_axis

__all__ = ["Compose", "Bank", "Identity", "IdentityResult", "Counterexample", "identity", "DEFAULT_SIZES", "BOUNDED_SIZES"]

#: Input sizes of the exact and float64 second opinion, per axis: 1-D 1..12, 2-D 1..6, 3-D 1..3.
DEFAULT_SIZES = {1: range(1, 13), 2: range(1, 7), 3: range(1, 4)}

#: Input sizes of the bounded evidence where the procedure does not decide: 1-D N ≤ 40, 2-D ≤ 12, 3-D ≤ 5.
BOUNDED_SIZES = {1: range(1, 41), 2: range(1, 13), 3: range(1, 6)}


def _check_sizes(sizes: Any) -> list[int] | None:
    """``sizes`` as a list of positive ints (per-axis input lengths), or a ValueError/TypeError naming the value."""
    if sizes is None:
        return None
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (list, tuple, range)):
        raise SymstrideTypeError(f"sizes must be a list of positive integers (input lengths per axis), got {sizes!r}")
    out = []
    for v in sizes:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise SymstrideTypeError(f"sizes must hold integers (input lengths per axis), got {v!r} of type {type(v).__name__}")
        if v < 1:
            raise SymstrideError(f"sizes must be positive input lengths (N ≥ 1), got {int(v)}")
        out.append(int(v))
    if not out:
        raise SymstrideError(f"sizes must be a non-empty list of positive integers, got {sizes!r}")
    return sorted(set(out))


class Identity:
    """``lhs = rhs`` between two operator expressions (see the module docstring)."""

    def __init__(self, lhs: Operator, rhs: Operator, *, sizes: Sequence[int] | None = None, channels: int | None = None) -> None:
        self.lhs, self.rhs = lhs, rhs
        left, right = operator_chain(lhs), operator_chain(rhs)
        dims = {d for d in map(spatial_axes, left + right) if d is not None}
        if len(dims) > 1:
            raise SymstrideError(f"the two sides mix operators with {sorted(dims)} spatial axes")
        self.ndim = dims.pop() if dims else 1
        needs = {c for c in (input_channels(left, self.ndim), input_channels(right, self.ndim)) if c is not None}
        if len(needs) > 1:
            raise SymstrideError(f"the two sides act on inputs with different channel counts: {sorted(needs)}")
        self.channels = channels if channels is not None else (needs.pop() if needs else 1)
        self.sizes = _check_sizes(sizes)
        self._result: IdentityResult | None = None

    def __repr__(self) -> str:
        return f"{self.lhs!r} = {self.rhs!r}"

    def latex(self) -> str:
        """The identity and its verdict (checks it), as a LaTeX paragraph."""
        return self.check().latex()

    def text(self) -> str:
        return str(self.check())

    def _grid(self, table: dict) -> list[tuple[int, ...]]:
        """Input sizes of a grid, smallest first (by ΣN, then axis by axis) — the order "smallest" means."""
        values = self.sizes if self.sizes is not None else list(table.get(self.ndim, range(1, 4)))
        return sorted(itertools.product(values, repeat=self.ndim), key=lambda s: (sum(s), s))

    def check(self, *, seed: int = 0, timeout_ms: int = IDENTITY_TIMEOUT_MS) -> IdentityResult:
        """Decide the identity for every input size (see the module docstring); cached for the defaults.

        ``timeout_ms`` bounds each z3 query; when z3 does not answer in time the result is bounded
        evidence (``.proved`` False), never a proof.
        """
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms < 1:
            raise SymstrideError(f"timeout_ms must be a positive integer (milliseconds per z3 query), got {timeout_ms!r}")
        if seed == 0 and timeout_ms == IDENTITY_TIMEOUT_MS and self._result is not None:
            return self._result
        result = self._check(seed, timeout_ms)
        if seed == 0 and timeout_ms == IDENTITY_TIMEOUT_MS:
            self._result = result
        return result

    def _check(self, seed: int, timeout_ms: int) -> IdentityResult:
        try:
            sides = Sides.build(operator_chain(self.lhs), operator_chain(self.rhs), self.ndim, self.channels)
        except EvaluationError as exc:
            raise SymstrideError(f"{self!r} cannot be evaluated: {exc}") from None
        decision = decide_identity(self.lhs, self.rhs, ndim=self.ndim, channels=self.channels, timeout_ms=timeout_ms)
        notes = []
        if decision.one_sided is not None:
            size, side = decision.one_sided
            notes.append(f"only the {side} side is defined at {_size_text(size)} (the smallest such size); "
                         "the identity claims nothing where only one side is defined")
        # the bounded grid where the decision leaves entries open (undecided, or a shape refutation
        # whose smaller sizes' entries were not decided): it finds the smallest failure there
        settled = decision.status == "proved" or (decision.status == "refuted" and decision.smallest)
        grid = self._grid(DEFAULT_SIZES if settled else BOUNDED_SIZES)
        both, mismatch = self._walk(sides, grid)
        tables = self._tables(sides, both)
        error = self._numeric(sides, tables, both, seed) if tables else None
        outputs, terms = (tables[0].size, tables[1].terms + tables[2].terms) if tables else (0, 0)
        common = dict(sizes=tuple(both), outputs=outputs, terms=terms, max_error=error, notes=tuple(notes))
        first = self._first_failure(sides, both, mismatch, tables)
        if decision.status == "proved":
            if first is not None:  # never print PROVED over an exact counterexample
                raise EvaluationError(f"the decision procedure proved {self!r} but the exact evaluator finds {first} (an internal error)")
            return IdentityResult(self, "proved", decision.argument, **common)
        if first is not None:
            first = Counterexample(first.size, first.output, first.left, first.right, first.reason, _covers(grid, first.size))
        if decision.status == "refuted":
            ce = self._counterexample(sides, decision)
            if first is not None and (sum(first.size), first.size) < (sum(ce.size), ce.size):
                if decision.smallest:
                    raise EvaluationError(f"z3 found {ce.size} smallest for {self!r} but the exact evaluator fails at {first.size} (an internal error)")
                ce = first
            elif not ce.smallest and _covers(grid, ce.size):  # every smaller size was compared exactly
                ce = Counterexample(ce.size, ce.output, ce.left, ce.right, ce.reason, True)
            return IdentityResult(self, "refuted", decision.argument, counterexample=ce, reason=decision.reason, **common)
        # not decided: bounded evidence, and a refutation when the grid finds one
        bounded = f"bounded evidence: both sides compared exactly on every input size with {grid_text(tuple(grid), self.ndim)}"
        if first is not None:
            return IdentityResult(self, "refuted", f"refuted by exact evaluation: comparing both sides exactly on {grid_text(tuple(grid), self.ndim)}, smallest sizes first, finds this failure first",
                                  counterexample=first, reason=decision.reason, bound=tuple(grid), **common)
        return IdentityResult(self, "not proved", f"{decision.argument}; {bounded}", reason=decision.reason, bound=tuple(grid), **common)

    def _walk(self, sides: Sides, grid: list) -> tuple[list, Counterexample | None]:
        """Sizes where both sides exist with equal shapes, and the first size (in grid order) where shapes differ."""
        both, mismatch = [], None
        for size in grid:
            env = dict(zip(sides.N, size))
            if not all(bool(sp.sympify(c).subs(env)) for side in (sides.left, sides.right) for c in side.defined):
                continue
            shapes = [_shape_at(side, env) for side in (sides.left, sides.right)]
            if shapes[0] != shapes[1]:
                if mismatch is None:
                    mismatch = Counterexample(size, None, "", "", _shape_reason(*shapes))
                continue
            both.append(size)
        return both, mismatch

    def _tables(self, sides: Sides, both: list) -> tuple | None:
        if not both:
            return None
        c = sp.Dummy("c", **INT)
        n = [sp.Dummy(f"n{a}", **INT) for a in range(self.ndim)]
        frame = _frame_of(sides.N, both, [(c, 0, sides.left.channels - 1), *((na, 0, L - 1) for na, L in zip(n, sides.left.size))])
        try:
            lhs = evaluate(sides.left.base[(c, *n)], frame, sides.definitions)
            rhs = evaluate(sides.right.base[(c, *n)], frame, sides.definitions)
        except EvaluationError as exc:
            raise SymstrideError(f"{self!r} cannot be evaluated: {exc}") from None
        return frame, lhs, rhs, (c, *n)

    def _first_failure(self, sides: Sides, both: list, mismatch: Counterexample | None, tables: tuple | None) -> Counterexample | None:
        """The first failure on the grid (grid order): an entry before the first shape mismatch, or that mismatch."""
        if tables is not None:
            frame, lhs, rhs, index = tables
            diff = compare(lhs, rhs)
            if diff is not None:
                row = diff.row
                size = tuple(int(frame.columns[Na][row]) for Na in sides.N)
                if mismatch is None or (sum(size), size) < (sum(mismatch.size), mismatch.size):
                    output = tuple(int(frame.columns[v][row]) for v in index)
                    return Counterexample(size, output, diff.left_text, diff.right_text)
        return mismatch

    def _counterexample(self, sides: Sides, decision: IdentityDecision, smallest: bool | None = None) -> Counterexample:
        """The decided failure, evaluated exactly at its size: the shapes, or both sides' entry."""
        smallest = decision.smallest if smallest is None else smallest
        env = dict(zip(sides.N, decision.size))
        if decision.output is None:
            shapes = [_shape_at(side, env) for side in (sides.left, sides.right)]
            return Counterexample(decision.size, None, "", "", _shape_reason(*shapes), smallest)
        index = [sp.Dummy("c", **INT), *(sp.Dummy(f"n{a}", **INT) for a in range(self.ndim))]
        frame = Frame.grid({**{Na: [v] for Na, v in env.items()}, **{v: [k] for v, k in zip(index, decision.output)}})
        lhs = evaluate(sides.left.base[tuple(index)], frame, sides.definitions)
        rhs = evaluate(sides.right.base[tuple(index)], frame, sides.definitions)
        diff = compare(lhs, rhs)
        if diff is None:
            raise EvaluationError(f"z3 refuted {self!r} at {decision.size}, output {decision.output}, but the exact evaluator finds both sides equal there (an internal error)")
        return Counterexample(decision.size, decision.output, diff.left_text, diff.right_text, "", smallest)

    def _numeric(self, sides: Sides, tables: tuple, sizes: list, seed: int) -> float:
        """max |exact table − NumPy reference| over both sides: the exact tables against the references."""
        frame, lhs, rhs, index = tables
        got_l, got_r = numeric(lhs, seed), numeric(rhs, seed)
        worst = 0.0
        starts = np.searchsorted(frame.instance, np.arange(frame.instances + 1))
        for inst, size in enumerate(sizes):
            rows = np.arange(starts[inst], starts[inst + 1])
            grids = np.indices((self.channels, *size))
            x = random_values("x", list(grids), seed)[None]
            for side, got in ((self.lhs, got_l), (self.rhs, got_r)):
                y = x
                for op in reversed(operator_chain(side)):
                    y = apply_numeric(op, y, seed, self.ndim)
                idx = tuple(frame.columns[v][rows] for v in index)
                worst = max(worst, float(np.max(np.abs(y[0][idx] - got[rows]))) if rows.size else 0.0)
        return worst


def _covers(grid: list, size: tuple[int, ...]) -> bool:
    """Whether the grid holds every size smaller than ``size`` (ΣN first, then axis by axis)."""
    ndim = len(size)
    values = sorted({v for s in grid for v in s})
    if values != list(range(1, len(values) + 1)) or len(grid) != len(values) ** ndim:
        return False
    return sum(size) - (ndim - 1) <= (values[-1] if values else 0) + (1 if ndim == 1 else 0)


def _shape_at(side: Any, env: dict) -> tuple[int, ...]:
    return (side.channels, *(int(sp.sympify(L).subs(env)) for L in side.size))


def _shape_reason(left: tuple[int, ...], right: tuple[int, ...]) -> str:
    return f"the left side has output shape {_shape(left)}, the right side {_shape(right)}"


def _size_text(size: tuple[int, ...]) -> str:
    return ", ".join(f"N{'' if len(size) == 1 else a + 1} = {n}" for a, n in enumerate(size))


def _frame_of(N: tuple, sizes: list, domain: list) -> Frame:
    """A frame over exactly the given input sizes (not a full product grid)."""
    cols = {Na: np.array([s[a] for s in sizes], dtype=np.int64) for a, Na in enumerate(N)}
    n = len(sizes)
    instance = np.arange(n, dtype=np.int64)
    for var, lo, hi in domain:
        cols, parent, n = ragged(cols, n, var, integer_values(lo, cols, n), integer_values(hi, cols, n))
        instance = instance[parent]
    return Frame(cols, instance, tuple(N), tuple(v for v, _, _ in domain))


def _shape(shape: tuple[int, ...]) -> str:
    return f"{shape[0]} channel{'s' if shape[0] != 1 else ''} × " + "×".join(map(str, shape[1:]))


def identity(lhs: Operator, rhs: Operator, *, sizes: Sequence[int] | None = None, channels: int | None = None) -> Identity:
    """The claimed identity ``lhs = rhs`` between operator expressions; ``.check()`` decides it.

    ``sizes`` (positive input lengths, per axis) replaces the grid of the second opinion and of
    the bounded evidence (it never bounds a proof); ``channels`` the input channels when no
    convolution fixes them (default 1).

    >>> from symstride import D
    >>> identity(D(2), D(2), sizes=[0])
    Traceback (most recent call last):
    ...
    symstride.core.errors.SymstrideError: sizes must be positive input lengths (N ≥ 1), got 0
    """
    for side in (lhs, rhs):
        operator_chain(side)
    if channels is not None:
        channels = per_axis(channels, "channels", 1, minimum=1)[0]
    return Identity(lhs, rhs, sizes=sizes, channels=channels)
