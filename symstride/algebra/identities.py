"""User identities between operator expressions, decided exactly or refuted with a counterexample.

Operators compose with ``*`` (applied right to left): ``D(2) * D(3)``, ``D(2) * Conv(kernel=3)``,
``Bank(W) * SpaceToDepth(2)``, ``Pointwise("relu") * D(2)``.  :func:`identity` pairs two
expressions; :meth:`Identity.check` writes both as indexed signals (each operator's *index form*:
``(D_s v)[c, n] = v[c, s n]``, a convolution as its finite sum, space-to-depth as a permutation
of entries, a pointwise map as an uninterpreted function), evaluates them exactly on every
input size of a small grid, and compares them as polynomials in the weights and the input.  The
result says ``proved`` (on those sizes, for all weights and inputs — and for every pointwise
map) or ``refuted``, with a concrete counterexample: the input size, the first output entry
that differs and both sides' values there.  A float64 check runs the NumPy reference of every
operator on random data as an independent second opinion.

>>> from symstride import Conv, D
>>> identity(D(2) * D(3), D(6)).check().proved
True
>>> print(identity(D(2) * D(3), D(5)).check().counterexample)
at input size N = 6: the left side has output shape 1 channel × 1, the right side 1 channel × 2
>>> print(identity(D(2) * D(2), D(3)).check().counterexample)
at input size N = 4: the left side has output shape 1 channel × 1, the right side 1 channel × 2
>>> print(identity(D(2) * D(2), D(4, offset=1)).check().counterexample)
at input size N = 2, output y[0, 0]: the left side is x[0, 0], the right side is x[0, 1]
>>> identity(Conv(kernel=3, stride=2), D(2) * Conv(kernel=3)).check().proved
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import sympy as sp

from .arith import integer_values
from .expressions import Bank, input_channels, operator_chain, spatial_axes
from .operators import Compose
from .index_forms import INDEX_FORMS, INT, Builder, Signal
from .numeric_forms import apply_numeric
from .operators import Operator
from ..core.params import per_axis
from .expansion import Definition
from .arith import EvaluationError
from .frames import Frame, ragged
from .polynomials import compare
from .evaluation import evaluate
from .random_evaluation import numeric, random_values

__all__ = ["Compose", "Bank", "Identity", "IdentityResult", "Counterexample", "identity", "DEFAULT_SIZES"]

#: Input sizes tried per axis: 1-D all of 1..12, 2-D all of 1..6 on each axis.
DEFAULT_SIZES = {1: range(1, 13), 2: range(1, 7), 3: range(1, 4)}


@dataclass(frozen=True)
class Counterexample:
    """Where an identity fails: the input size, the output entry, and both sides there."""

    size: tuple[int, ...]
    output: tuple[int, ...] | None
    left: str
    right: str
    reason: str = ""

    def __str__(self) -> str:
        size = ", ".join(f"N{'' if len(self.size) == 1 else a + 1} = {n}" for a, n in enumerate(self.size))
        if self.output is None:
            return f"at input size {size}: {self.reason}"
        return f"at input size {size}, output y[{', '.join(map(str, self.output))}]: the left side is {self.left}, the right side is {self.right}"


@dataclass(frozen=True)
class IdentityResult:
    """``proved`` or not; what was compared; the counterexample when refuted."""

    identity: "Identity"
    proved: bool
    sizes: tuple[tuple[int, ...], ...]
    outputs: int
    terms: int
    max_error: float | None
    counterexample: Counterexample | None = None
    notes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.proved

    @property
    def verdict(self) -> str:
        return "proved" if self.proved else "refuted"

    def __str__(self) -> str:
        lines = [f"{self.identity!r}: {self.verdict.upper()}"]
        sizes = ", ".join("×".join(map(str, s)) for s in self.sizes)
        lines.append(f"  input sizes  {sizes} ({len(self.sizes)} sizes, {self.outputs} output entries, {self.terms} terms compared exactly)")
        if self.max_error is not None:
            lines.append(f"  float64      NumPy reference of every operator on random data: max |Δ| = {self.max_error:.1e}")
        lines += [f"  note         {n}" for n in self.notes]
        if self.counterexample is not None:
            lines.append(f"  counterexample: {self.counterexample}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template

        return render_template("identity_inline.tex", result=self).strip()

    def latex(self) -> str:
        from ..render.templates import render_template

        return render_template("identity.tex", result=self)


class Identity:
    """``lhs = rhs`` between two operator expressions (see the module docstring)."""

    def __init__(self, lhs: Operator, rhs: Operator, *, sizes: Sequence[int] | None = None, channels: int | None = None) -> None:
        self.lhs, self.rhs = lhs, rhs
        left, right = operator_chain(lhs), operator_chain(rhs)
        dims = {d for d in map(spatial_axes, left + right) if d is not None}
        if len(dims) > 1:
            raise ValueError(f"the two sides mix operators with {sorted(dims)} spatial axes")
        self.ndim = dims.pop() if dims else 1
        needs = {c for c in (input_channels(left, self.ndim), input_channels(right, self.ndim)) if c is not None}
        if len(needs) > 1:
            raise ValueError(f"the two sides act on inputs with different channel counts: {sorted(needs)}")
        self.channels = channels if channels is not None else (needs.pop() if needs else 1)
        self.sizes = list(sizes) if sizes is not None else list(DEFAULT_SIZES.get(self.ndim, range(1, 4)))

    def __repr__(self) -> str:
        return f"{self.lhs!r} = {self.rhs!r}"

    def latex(self) -> str:
        """The identity and its verdict (checks it), as a LaTeX paragraph."""
        return self.check().latex()

    def text(self) -> str:
        return str(self.check())

    def _build(self, expr: Operator, N: tuple[sp.Symbol, ...], x: sp.IndexedBase, b: Builder) -> Signal:
        v = Signal(x, self.channels, N, [])
        for op in reversed(operator_chain(expr)):
            form = INDEX_FORMS.get(type(op))
            if form is None:
                raise TypeError(f"{op!r} has no index form; known operators: {', '.join(t.__name__ for t in INDEX_FORMS)}")
            v = form(op, v, b)
        return v

    def check(self, *, seed: int = 0) -> IdentityResult:
        """Decide the identity on every input size of the grid (exactly), with a float64 second opinion; cached."""
        if seed == 0 and getattr(self, "_result", None) is not None:
            return self._result
        result = self._decide(seed)
        if seed == 0:
            self._result = result
        return result

    def _decide(self, seed: int) -> IdentityResult:
        N = tuple(sp.Symbol(f"N_{a + 1}" if self.ndim > 1 else "N", integer=True, positive=True) for a in range(self.ndim))
        x = sp.IndexedBase("x")
        b = Builder(self.ndim)
        q = sp.Dummy("q", **INT)
        qs = [sp.Dummy(f"q{a}", **INT) for a in range(self.ndim)]
        b.definitions.append(Definition(x[(q, *qs)], None, ((q, 0, self.channels - 1), *((qa, 0, Na - 1) for qa, Na in zip(qs, N)))))
        left = self._build(self.lhs, N, x, b)
        right = self._build(self.rhs, N, x, b)
        definitions = {d.name: d for d in b.definitions}
        # sizes where both sides exist, with equal output shapes (up to the first mismatch)
        both, notes, mismatch = [], [], None
        for size in itertools.product(self.sizes, repeat=self.ndim):
            env = dict(zip(N, size))
            exists = [all(bool(sp.sympify(c).subs(env)) for c in side.defined) for side in (left, right)]
            if not all(exists):
                if any(exists):
                    notes.append(size)
                continue
            shapes = [(side.channels, *(int(sp.sympify(L).subs(env)) for L in side.size)) for side in (left, right)]
            if shapes[0] != shapes[1]:
                mismatch = Counterexample(size, None, "", "", f"the left side has output shape {_shape(shapes[0])}, the right side {_shape(shapes[1])}")
                break
            both.append(size)
        skipped = (f"{len(notes)} input sizes where only one side is defined were skipped",) if notes else ()
        if not both:
            if mismatch is not None:
                return IdentityResult(self, False, (), 0, 0, None, mismatch, skipped)
            raise ValueError(f"no input size in {self.sizes[0]}..{self.sizes[-1]} per axis where both sides of {self!r} are defined")
        c = sp.Dummy("c", **INT)
        n = [sp.Dummy(f"n{a}", **INT) for a in range(self.ndim)]
        frame = _frame_of(N, both, [(c, 0, left.channels - 1), *((na, 0, L - 1) for na, L in zip(n, left.size))])
        try:
            lhs = evaluate(left.base[(c, *n)], frame, definitions)
            rhs = evaluate(right.base[(c, *n)], frame, definitions)
        except EvaluationError as exc:
            raise ValueError(f"{self!r} cannot be evaluated: {exc}") from None
        diff = compare(lhs, rhs)
        error = self._numeric(lhs, rhs, frame, both, seed)
        if diff is not None:  # an entry differs at a size before any shape mismatch
            row = diff.row
            size = tuple(int(frame.columns[Na][row]) for Na in N)
            output = (int(frame.columns[c][row]), *(int(frame.columns[na][row]) for na in n))
            mismatch = Counterexample(size, output, diff._poly(diff.left), diff._poly(diff.right))
        return IdentityResult(self, mismatch is None, tuple(both), frame.size, lhs.terms + rhs.terms, error, mismatch, skipped)

    def _numeric(self, lhs: Any, rhs: Any, frame: Frame, sizes: list, seed: int) -> float | None:
        """max |lhs − NumPy(rhs side)| and |rhs − NumPy(lhs side)|: the exact tables against the references."""
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
                idx = tuple(frame.columns[v][rows] for v in list(frame.columns)[len(frame.parameters):])
                worst = max(worst, float(np.max(np.abs(y[0][idx] - got[rows]))) if rows.size else 0.0)
        return worst


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

    ``sizes`` are the input lengths tried on every axis (default :data:`DEFAULT_SIZES`);
    ``channels`` the input channels when no convolution fixes them (default 1).
    """
    for side in (lhs, rhs):
        operator_chain(side)
    if channels is not None:
        channels = per_axis(channels, "channels", 1, minimum=1)[0]
    return Identity(lhs, rhs, sizes=sizes, channels=channels)
