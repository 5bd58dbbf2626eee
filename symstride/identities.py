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
from dataclasses import dataclass, field
from math import prod
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

from .lines import add, mul
from .operators import Conv, DepthToSpace, Operator, Pointwise, SpaceToDepth, Subsample
from .params import per_axis
from .printing import Iverson
from .terms import INDEX, Definition, EvaluationError, Frame, compare, evaluate, numeric, random_values

__all__ = ["Compose", "Bank", "Identity", "IdentityResult", "Counterexample", "identity", "DEFAULT_SIZES"]

#: Input sizes tried per axis: 1-D all of 1..12, 2-D all of 1..6 on each axis.
DEFAULT_SIZES = {1: range(1, 13), 2: range(1, 7), 3: range(1, 4)}

_INT = {"integer": True, "nonnegative": True}


class Compose(Operator):
    """``ops[0] * ops[1] * …``: ``ops[-1]`` is applied first."""

    def __init__(self, *ops: Operator) -> None:
        if len(ops) < 2 or not all(isinstance(op, Operator) for op in ops):
            raise TypeError("Compose needs at least two symstride operators")
        self.ops = tuple(ops)

    @classmethod
    def of(cls, a: Operator, b: Operator) -> "Compose":
        left = a.ops if isinstance(a, Compose) else (a,)
        right = b.ops if isinstance(b, Compose) else (b,)
        return cls(*left, *right)

    def __repr__(self) -> str:
        return " * ".join(repr(op) for op in self.ops)

    def _latex(self, printer: Any) -> str:
        return r" \circ ".join(printer._print(op) for op in self.ops)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Compose) and self.ops == other.ops

    def __hash__(self) -> int:
        return hash((Compose, self.ops))


def _bank_entry(entry: Any, position: int) -> sp.Expr:
    """A filter-bank entry as SymPy: expressions and numbers only (strings are never parsed)."""
    if isinstance(entry, sp.Basic):
        return entry
    if isinstance(entry, (bool, str, bytes)) or not isinstance(entry, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"filter-bank entry {position} must be a SymPy expression or a number, got {entry!r} "
            f"of type {type(entry).__name__} (strings are not parsed)"
        )
    return sp.sympify(entry)


class Bank(Operator):
    """A convolution whose filter bank is given entry by entry (a claimed equivalent bank).

    ``weights`` has shape ``(C_out, C_in/groups, *k)``; entries are SymPy expressions in weight
    symbols (``Conv(...).weights`` or ``sympy.IndexedBase("w")[i]``) or numbers, e.g. the bank
    ``[[[w[0], w[2]], [w[1], 0]]]`` claimed for a 3-tap stride-2 layer on two phases.
    """

    def __init__(self, weights: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> None:
        arr = np.array(weights, dtype=object)
        if arr.ndim < 3:
            raise ValueError(f"a filter bank needs shape (C_out, C_in/groups, *kernel), got an array of {arr.ndim} axes")
        entries = [_bank_entry(e, i) for i, e in enumerate(arr.reshape(-1))]
        self.weights = np.array(entries, dtype=object).reshape(arr.shape)
        cout, cin_g, *kernel = arr.shape
        self.spec = Conv(kernel=tuple(kernel), stride=stride, padding=padding, dilation=dilation,
                         in_channels=cin_g * groups, out_channels=cout, groups=groups).spec

    def __repr__(self) -> str:
        return f"Bank(shape={self.weights.shape}, stride={self.spec.stride})"

    def _latex(self, printer: Any) -> str:
        rows = [" & ".join(printer._print(e) for e in row) for row in self.weights.reshape(-1, self.weights.shape[-1])]
        return r"\operatorname{Conv}_{1}\left(\cdot\,;\ \begin{pmatrix} %s \end{pmatrix}\right)" % r" \\ ".join(rows)


# ---------------------------------------------------------------------------------------------
# Index forms: each operator as a definition of its output signal in terms of its input.
# ---------------------------------------------------------------------------------------------


@dataclass
class _Signal:
    base: sp.IndexedBase
    channels: int
    size: tuple[Any, ...]  # per-axis length, an expression in the input size symbols
    defined: list[Any]  # conditions on the input sizes for the signal to exist


@dataclass
class _Builder:
    ndim: int
    definitions: list[Definition] = field(default_factory=list)
    count: int = 0

    def fresh(self) -> sp.IndexedBase:
        self.count += 1
        return sp.IndexedBase(f"v{self.count}")

    def indices(self, count: int) -> list[sp.Symbol]:
        return [sp.Dummy(f"i{k}", **_INT) for k in range(count)]


def _conv_form(op: Any, v: _Signal, b: _Builder, bank: np.ndarray | None = None) -> _Signal:
    spec = op.spec
    if spec.ndim != b.ndim:
        raise ValueError(f"{op!r} has {spec.ndim} spatial axes, the expression has {b.ndim}")
    if v.channels != spec.in_channels:
        raise ValueError(f"{op!r} expects {spec.in_channels} input channels, its input has {v.channels}")
    out = b.fresh()
    o, *n = b.indices(1 + b.ndim)
    c = sp.Dummy("c", **_INT)
    m = [sp.Dummy(f"m{a}", **_INT) for a in range(b.ndim)]
    cin_g, cout_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    pos = [add(mul(s, na), mul(d, ma), -pl) for s, d, (pl, _), na, ma in zip(spec.stride, spec.dilation, spec.padding, n, m)]
    inside = sp.And(*(sp.And(p >= 0, p <= size - 1) for p, size in zip(pos, v.size)))
    read = Iverson(inside) * v.base[(sp.floor(o / cout_g) * cin_g + c, *pos)]  # zero padding
    if bank is None:
        weight = op.weight(o, c, m) if isinstance(op, Conv) else None
    else:
        table = b.fresh()
        lookup = [
            (entry, sp.And(sp.Eq(o, oo), sp.Eq(c, cc), *(sp.Eq(ma, mm) for ma, mm in zip(m, mv))))
            for (oo, cc, *mv), entry in np.ndenumerate(bank) if entry != 0
        ]
        b.definitions.append(Definition(table[(o, c, *m)], sp.Piecewise(*lookup, (0, True)) if lookup else sp.S.Zero,
                                        ((o, 0, spec.out_channels - 1), (c, 0, cin_g - 1), *((ma, 0, k - 1) for ma, k in zip(m, spec.kernel))),
                                        note="the claimed filter bank"))
        weight = table[(o, c, *m)]
    body = sp.Sum(weight * read, (c, 0, cin_g - 1), *((ma, 0, k - 1) for ma, k in zip(m, spec.kernel)))
    size = tuple(sp.floor((N + pl + pr - d * (k - 1) - 1) / s) + 1 for N, k, s, d, (pl, pr) in zip(v.size, spec.kernel, spec.stride, spec.dilation, spec.padding))
    b.definitions.append(Definition(out[(o, *n)], body, ((o, 0, spec.out_channels - 1), *((na, 0, L - 1) for na, L in zip(n, size)))))
    fits = [N + pl + pr >= d * (k - 1) + 1 for N, k, d, (pl, pr) in zip(v.size, spec.kernel, spec.dilation, spec.padding)]
    return _Signal(out, spec.out_channels, size, v.defined + fits)


def _bank_form(op: Bank, v: _Signal, b: _Builder) -> _Signal:
    return _conv_form(op, v, b, op.weights)


def _axes_of(op: Any, values: tuple[int, ...], b: _Builder, what: str) -> tuple[int, ...]:
    if len(values) == 1:
        return values * b.ndim
    if len(values) != b.ndim:
        raise ValueError(f"{op!r} has {len(values)} axes, the expression has {b.ndim}")
    return values


def _subsample_form(op: Subsample, v: _Signal, b: _Builder) -> _Signal:
    factor = _axes_of(op, op.factor, b, "factor")
    offset = _axes_of(op, op.offset, b, "offset")
    out = b.fresh()
    c, *n = b.indices(1 + b.ndim)
    size = tuple(sp.ceiling((N - o) / s) for N, s, o in zip(v.size, factor, offset))
    body = v.base[(c, *(add(mul(s, na), o) for s, o, na in zip(factor, offset, n)))]
    b.definitions.append(Definition(out[(c, *n)], body, ((c, 0, v.channels - 1), *((na, 0, L - 1) for na, L in zip(n, size)))))
    return _Signal(out, v.channels, size, v.defined + [N > o for N, o in zip(v.size, offset)])


def _s2d_form(op: SpaceToDepth, v: _Signal, b: _Builder) -> _Signal:
    stride = _axes_of(op, op.stride, b, "stride")
    P = prod(stride)
    out = b.fresh()
    c = sp.Dummy("c", **_INT)
    r = [sp.Dummy(f"r{a}", **_INT) for a in range(b.ndim)]
    a = [sp.Dummy(f"a{k}", **_INT) for k in range(b.ndim)]
    phi = sum((ra * prod(stride[k + 1 :]) for k, ra in enumerate(r)), sp.S.Zero)
    chan = c * P + phi if op.layout == "pytorch" else phi * v.channels + c
    size = tuple(N / s for N, s in zip(v.size, stride))
    inverse = {c: sp.floor(INDEX[0] / P) if op.layout == "pytorch" else sp.Mod(INDEX[0], v.channels)}
    flat = sp.Mod(INDEX[0], P) if op.layout == "pytorch" else sp.floor(INDEX[0] / v.channels)
    for k, ra in enumerate(r):
        inverse[ra] = sp.Mod(sp.floor(flat / prod(stride[k + 1 :])), stride[k])
    inverse.update({ak: INDEX[1 + k] for k, ak in enumerate(a)})
    body = v.base[(c, *(s * ak + ra for s, ak, ra in zip(stride, a, r)))]
    domain = ((c, 0, v.channels - 1), *((ra, 0, s - 1) for ra, s in zip(r, stride)), *((ak, 0, L - 1) for ak, L in zip(a, size)))
    b.definitions.append(Definition(out[(chan, *a)], body, domain, inverse=inverse))
    return _Signal(out, v.channels * P, size, v.defined + [sp.Eq(sp.Mod(N, s), 0) for N, s in zip(v.size, stride)])


def _d2s_form(op: DepthToSpace, v: _Signal, b: _Builder) -> _Signal:
    stride = _axes_of(op, op.stride, b, "stride")
    P = prod(stride)
    if v.channels % P:
        raise ValueError(f"{op!r} needs channels divisible by {P}, its input has {v.channels}")
    channels = v.channels // P
    out = b.fresh()
    c, *t = b.indices(1 + b.ndim)
    r = [sp.Mod(tk, s) for tk, s in zip(t, stride)]
    phi = sum((ra * prod(stride[k + 1 :]) for k, ra in enumerate(r)), sp.S.Zero)
    chan = c * P + phi if op.layout == "pytorch" else phi * channels + c
    body = v.base[(chan, *(sp.floor(tk / s) for tk, s in zip(t, stride)))]
    size = tuple(N * s for N, s in zip(v.size, stride))
    b.definitions.append(Definition(out[(c, *t)], body, ((c, 0, channels - 1), *((tk, 0, L - 1) for tk, L in zip(t, size)))))
    return _Signal(out, channels, size, v.defined)


def _pointwise_form(op: Pointwise, v: _Signal, b: _Builder) -> _Signal:
    out = b.fresh()
    c, *n = b.indices(1 + b.ndim)
    body = sp.Function(op.name)(v.base[(c, *n)])
    b.definitions.append(Definition(out[(c, *n)], body, ((c, 0, v.channels - 1), *((na, 0, L - 1) for na, L in zip(n, v.size)))))
    return _Signal(out, v.channels, v.size, v.defined)


#: The index form of each operator type (table-driven; a new operator adds one entry).
INDEX_FORMS: dict[type, Callable[[Any, _Signal, _Builder], _Signal]] = {
    Conv: _conv_form,
    Bank: _bank_form,
    Subsample: _subsample_form,
    SpaceToDepth: _s2d_form,
    DepthToSpace: _d2s_form,
    Pointwise: _pointwise_form,
}


def _ops(expr: Operator) -> tuple[Operator, ...]:
    if isinstance(expr, Compose):
        return expr.ops
    if isinstance(expr, Operator):
        return (expr,)
    raise TypeError(f"identity expects symstride operators (Conv, D, SpaceToDepth, … and their products with *), got {type(expr).__name__}")


def _ndim(op: Operator) -> int | None:
    if isinstance(op, (Conv, Bank)):
        return op.spec.ndim
    for attr in ("factor", "stride"):
        values = getattr(op, attr, None)
        if values is not None and len(values) > 1:
            return len(values)
    return None


def _input_channels(ops: Sequence[Operator], ndim: int) -> int | None:
    """The input channels the expression needs: fixed by its first convolution (None: any)."""
    from fractions import Fraction

    factor = Fraction(1)  # channels here = input channels × factor
    for op in reversed(ops):
        if isinstance(op, (Conv, Bank)):
            need = op.spec.in_channels / factor
            if need.denominator != 1:
                raise ValueError(f"{op!r} expects {op.spec.in_channels} channels, which no input channel count gives there")
            return int(need)
        if isinstance(op, (SpaceToDepth, DepthToSpace)):
            P = prod(op.stride) if len(op.stride) > 1 else op.stride[0] ** ndim
            if isinstance(op, DepthToSpace) and (factor / P).denominator != 1:
                return int(P / factor) if (P / factor).denominator == 1 else P  # the fewest channels it accepts
            factor = factor * P if isinstance(op, SpaceToDepth) else factor / P
    return None


# ---------------------------------------------------------------------------------------------
# Numeric second opinion: the NumPy reference of every operator.
# ---------------------------------------------------------------------------------------------


def _weight_values(weights: list[sp.Indexed], seed: int) -> dict[sp.Indexed, float]:
    return {w: float(random_values(w.base.label.name, [np.array([int(i)]) for i in w.indices], seed)[0]) for w in weights}


def _apply(op: Operator, x: np.ndarray, seed: int, ndim: int) -> np.ndarray:
    from . import reference

    if isinstance(op, Conv):
        w = np.array([random_values(op.name, [np.array([int(i)]) for i in wt.indices], seed)[0] for wt in op.weights]).reshape(op.spec.weight_shape)
        s = op.spec
        return reference.conv(x, w, stride=s.stride, padding=s.padding, dilation=s.dilation, groups=s.groups)
    if isinstance(op, Bank):
        symbols = sorted({a for e in op.weights.reshape(-1) for a in e.atoms(sp.Indexed)}, key=str)
        values = _weight_values(symbols, seed)
        w = np.array([float(e.xreplace(values)) for e in op.weights.reshape(-1)]).reshape(op.weights.shape)
        s = op.spec
        return reference.conv(x, w, stride=s.stride, padding=s.padding, dilation=s.dilation, groups=s.groups)
    if isinstance(op, Subsample):
        f, o = (v * ndim if len(v) == 1 else v for v in (op.factor, op.offset))
        return x[(slice(None), slice(None), *(slice(oo, None, ff) for ff, oo in zip(f, o)))]
    if isinstance(op, SpaceToDepth):
        return reference.space_to_depth(x, op.stride * ndim if len(op.stride) == 1 else op.stride, op.layout)
    if isinstance(op, DepthToSpace):
        return reference.depth_to_space(x, op.stride * ndim if len(op.stride) == 1 else op.stride, op.layout)
    if isinstance(op, Pointwise):
        from .terms import POINTWISE

        return POINTWISE.get(op.name, np.tanh)(x)
    raise TypeError(f"no NumPy reference for {op!r}")


# ---------------------------------------------------------------------------------------------
# The identity and its result.
# ---------------------------------------------------------------------------------------------


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
        from .render import render_template

        return render_template("identity_inline.tex", result=self).strip()

    def latex(self) -> str:
        from .render import render_template

        return render_template("identity.tex", result=self)


class Identity:
    """``lhs = rhs`` between two operator expressions (see the module docstring)."""

    def __init__(self, lhs: Operator, rhs: Operator, *, sizes: Sequence[int] | None = None, channels: int | None = None) -> None:
        self.lhs, self.rhs = lhs, rhs
        left, right = _ops(lhs), _ops(rhs)
        dims = {d for d in map(_ndim, left + right) if d is not None}
        if len(dims) > 1:
            raise ValueError(f"the two sides mix operators with {sorted(dims)} spatial axes")
        self.ndim = dims.pop() if dims else 1
        needs = {c for c in (_input_channels(left, self.ndim), _input_channels(right, self.ndim)) if c is not None}
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

    def _build(self, expr: Operator, N: tuple[sp.Symbol, ...], x: sp.IndexedBase, b: _Builder) -> _Signal:
        v = _Signal(x, self.channels, N, [])
        for op in reversed(_ops(expr)):
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
        b = _Builder(self.ndim)
        q = sp.Dummy("q", **_INT)
        qs = [sp.Dummy(f"q{a}", **_INT) for a in range(self.ndim)]
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
        c = sp.Dummy("c", **_INT)
        n = [sp.Dummy(f"n{a}", **_INT) for a in range(self.ndim)]
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
                for op in reversed(_ops(side)):
                    y = _apply(op, y, seed, self.ndim)
                idx = tuple(frame.columns[v][rows] for v in list(frame.columns)[len(frame.parameters):])
                worst = max(worst, float(np.max(np.abs(y[0][idx] - got[rows]))) if rows.size else 0.0)
        return worst


def _frame_of(N: tuple, sizes: list, domain: list) -> Frame:
    """A frame over exactly the given input sizes (not a full product grid)."""
    cols = {Na: np.array([s[a] for s in sizes], dtype=np.int64) for a, Na in enumerate(N)}
    from .arith import integer_values
    from .terms import _ragged

    n = len(sizes)
    instance = np.arange(n, dtype=np.int64)
    for var, lo, hi in domain:
        cols, parent, n = _ragged(cols, n, var, integer_values(lo, cols, n), integer_values(hi, cols, n))
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
        _ops(side)
    if channels is not None:
        channels = per_axis(channels, "channels", 1, minimum=1)[0]
    return Identity(lhs, rhs, sizes=sizes, channels=channels)
