"""Exact evaluation of derivation lines over grids of parameter values.

A derivation line is a SymPy expression built from finite ``Sum``\\ s (bounds may be symbolic),
products, ``Piecewise`` selections, Iverson brackets, integer index arithmetic (``floor``, ``ceiling``, ``Mod``)
and ``Indexed`` symbols — weights ``w[o, c, m]``, inputs ``x[c, q]`` and derived signals such as
padded inputs, phase signals or the equivalent filter bank, whose :class:`Definition` maps them
back to the inputs and weights.

Evaluation happens in two stages:

1. **Expansion** (symbolic, once per line): the expression becomes a list of :class:`Term`\\ s —
   nested summation limits, conditions, a coefficient and a product of ``Indexed`` atoms — and
   every defined atom is unfolded through its definition until only primitive atoms remain.
   Reading a signal outside the domain of its definition is recorded as an assertion.
2. **Instantiation** (numeric, vectorised): for every row of a :class:`Frame` (one row per
   parameter instance and output index) the summation limits are enumerated with NumPy
   (a ragged expansion — bounds may depend on outer indices), conditions filter the rows and the
   atoms' indices are computed exactly in rational integer arithmetic.  The result is a
   :class:`Table`: for every output row, the polynomial in the primitive atoms.

Two lines are equal exactly when their tables agree as polynomials (:func:`compare`); the
same tables evaluate numerically on pseudo-random float64 values (:func:`numeric`).  Nothing
is expanded with SymPy, so a grid of thousands of parameter instances takes a few NumPy calls.
An empty sum (upper bound below the lower bound) is zero, the usual convention on paper.

>>> import sympy as sp
>>> n, m, N = sp.symbols("n m N", integer=True)
>>> x, w = sp.IndexedBase("x"), sp.IndexedBase("w")
>>> frame = Frame.grid({N: [6]}, domain=[(n, 0, N - 3)])
>>> a = evaluate(sp.Sum(w[m] * x[n + m], (m, 0, 2)), frame)
>>> b = evaluate(w[0] * x[n] + w[2] * x[n + 2] + w[1] * x[n + 1], frame)
>>> compare(a, b) is None
True
>>> print(compare(a, evaluate(w[0] * x[n] + w[1] * x[n + 2], frame)).describe(frame))
at N = 6, n = 0: the first side has w[0]·x[0] + w[1]·x[1] + w[2]·x[2], the second side has w[0]·x[0] + w[1]·x[2] (first difference: w[1]·x[1])
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.core.function import AppliedUndef
from sympy.core.operations import AssocOp

from .arith import EvaluationError, _Frac, _truth, _value, integer_values, truth_values
from .printing import Iverson

__all__ = [
    "EvaluationError",
    "Definition",
    "Term",
    "Frame",
    "Table",
    "Difference",
    "expand",
    "unfold",
    "evaluate",
    "compare",
    "numeric",
    "random_values",
    "MAX_ROWS",
]

#: The largest number of (instance, output, summation index) rows one evaluation may create.
MAX_ROWS = 30_000_000


# ---------------------------------------------------------------------------------------------
# Expansion into terms, and definitions.
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Frames: rows of parameter values and output indices.
# ---------------------------------------------------------------------------------------------


def _ragged(cols: dict, n: int, var: sp.Symbol, lo: np.ndarray, hi: np.ndarray) -> tuple[dict, np.ndarray, int]:
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
            keep &= _truth(sp.sympify(c), cols, n)
        cols = {k: v[keep] for k, v in cols.items()}
        n = int(keep.sum())
        instance = np.arange(n, dtype=np.int64)
        cols = dict(cols)
        for var, lo, hi in domain:
            lo_v, hi_v = integer_values(lo, cols, n), integer_values(hi, cols, n)
            cols, parent, n = _ragged(cols, n, var, lo_v, hi_v)
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

    def row_values(self, row: int) -> dict[str, int]:
        return {str(s): int(self.columns[s][row]) for s in (*self.parameters, *self.outputs)}


# ---------------------------------------------------------------------------------------------
# Evaluation into tables of monomials.
# ---------------------------------------------------------------------------------------------


@dataclass
class _Block:
    """The rows of one term: output row, coefficient, and each atom's base and indices."""

    out: np.ndarray
    num: np.ndarray
    den: np.ndarray
    atoms: list[tuple[str, np.ndarray]]  # (base name, int64 matrix rows × rank)
    inner: dict[int, tuple[str, "Table"]] = field(default_factory=dict)  # function atoms: slot → (name, argument)


@dataclass
class Table:
    """A line evaluated on a frame: per output row, a polynomial in the primitive atoms."""

    blocks: list[_Block]
    rows: int
    terms: int = field(init=False)

    def __post_init__(self) -> None:
        self.terms = int(sum(b.out.size for b in self.blocks))


def _apply_ready(conditions: list, cols: dict, n: int) -> tuple[list, np.ndarray]:
    """Filter rows by the conditions whose symbols are all bound; return the others."""
    pending = []
    mask = np.ones(n, dtype=bool)
    for c in conditions:
        if all(s in cols for s in c.free_symbols if isinstance(s, sp.Symbol)):
            mask &= _truth(c, cols, n)
        else:
            pending.append(c)
    return pending, mask


def _evaluate_term(term: Term, frame: Frame, definitions: Mapping[str, Definition]) -> _Block:
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
        cols, parent, n = _ragged(cols, n, var, lo_v, hi_v)
        out = out[parent]
    if pending:
        mask = np.ones(n, dtype=bool)
        for c in pending:
            mask &= _truth(c, cols, n)
        cols = {k: v[mask] for k, v in cols.items()}
        out, n = out[mask], int(mask.sum())
    for cond, message in term.assertions:
        ok = _truth(cond, cols, n)
        if not ok.all():
            bad = int(np.argmin(ok))
            where = frame.describe_row(int(out[bad]))
            raise EvaluationError(f"{message} (at {where}; {_bound_values(term, cols, bad)})")
    coeff = _value(term.coeff, cols, n).reduced()
    atoms = []
    inner = {}
    for slot, atom in enumerate(term.atoms):
        if isinstance(atom, AppliedUndef):  # a pointwise map: its argument, evaluated on these rows
            (arg,) = atom.args
            table = evaluate(arg, Frame(dict(cols), np.arange(n, dtype=np.int64), tuple(cols), ()), definitions)
            inner[slot] = (atom.func.__name__, table)
            atoms.append((f"{atom.func.__name__}(·)", _polynomial_ids(table, n)[:, None]))
            continue
        index = [integer_values(i, cols, n, lambda i=i, atom=atom: f"the index {i} of {atom}") for i in atom.indices]
        atoms.append((atom.base.label.name, np.stack(index, axis=1) if index else np.zeros((n, 0), dtype=np.int64)))
    return _Block(out, coeff.num, coeff.dens, atoms, inner)


def _bound_values(term: Term, cols: dict, row: int) -> str:
    return ", ".join(f"{v.name} = {int(cols[v][row])}" for v, _, _ in term.limits) or "no summation index"


def evaluate(expr: Any, frame: Frame, definitions: Mapping[str, Definition] | None = None) -> Table:
    """Evaluate ``expr`` exactly on every row of ``frame`` (unfolding ``definitions``)."""
    definitions = definitions or {}
    return evaluate_terms(unfold(expand(expr), definitions), frame, definitions)


def evaluate_terms(terms: Sequence[Term], frame: Frame, definitions: Mapping[str, Definition] | None = None) -> Table:
    """Evaluate expanded (and unfolded) terms on every row of ``frame``."""
    return Table([_evaluate_term(t, frame, definitions or {}) for t in terms], frame.size)


# ---------------------------------------------------------------------------------------------
# Exact comparison.
# ---------------------------------------------------------------------------------------------

_PAD = -(2**40)


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, axis=0, return_inverse=True)``, through one int64 code per row when it fits."""
    if rows.shape[0] == 0:
        return rows, np.zeros(0, dtype=np.int64)
    lo, hi = rows.min(axis=0), rows.max(axis=0)
    span = (hi - lo + 1).astype(object)
    total = 1
    for v in span:
        total *= int(v)
    if total >= 2**62:
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        return uniq, inverse.reshape(-1)
    code = np.zeros(rows.shape[0], dtype=np.int64)
    for col in range(rows.shape[1]):  # row-major mixed radix keeps the lexicographic order
        code = code * int(span[col]) + (rows[:, col] - lo[col])
    uniq_code, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return rows[first], inverse.reshape(-1)


def _encode(tables: Sequence[Table]) -> tuple[list[np.ndarray], list[tuple[str, tuple[int, ...]]]]:
    """Monomial keys (out, sorted atom ids…) for every block row of every table, and the atom list."""
    names = sorted({name for t in tables for b in t.blocks for name, _ in b.atoms})
    base_id = {name: i for i, name in enumerate(names)}
    rank = max([m.shape[1] for t in tables for b in t.blocks for _, m in b.atoms] or [0])
    chunks = []
    for t in tables:
        for b in t.blocks:
            for name, m in b.atoms:
                rows = np.full((m.shape[0], rank + 1), _PAD, dtype=np.int64)
                rows[:, 0] = base_id[name]
                rows[:, 1 : m.shape[1] + 1] = m
                chunks.append(rows)
    if chunks:
        all_atoms = np.concatenate(chunks)
        uniq, inverse = _unique_rows(all_atoms)
    else:
        uniq, inverse = np.zeros((0, rank + 1), dtype=np.int64), np.zeros(0, dtype=np.int64)
    atom_list = [(names[int(r[0])], tuple(int(v) for v in r[1:] if v != _PAD)) for r in uniq]
    width = max([len(b.atoms) for t in tables for b in t.blocks] or [0])
    keys, pos = [], 0
    for t in tables:
        parts = []
        for b in t.blocks:
            ids = np.full((b.out.size, width), -1, dtype=np.int64)
            for k, (_, m) in enumerate(b.atoms):
                ids[:, k] = inverse[pos : pos + m.shape[0]]
                pos += m.shape[0]
            ids.sort(axis=1)
            parts.append(np.concatenate([b.out[:, None], ids], axis=1))
        keys.append(np.concatenate(parts) if parts else np.zeros((0, width + 1), dtype=np.int64))
    return keys, atom_list


def _coefficients(table: Table) -> tuple[np.ndarray, np.ndarray]:
    if not table.blocks:
        return np.zeros(0, dtype=np.int64), np.ones(0, dtype=np.int64)
    return np.concatenate([b.num for b in table.blocks]), np.concatenate([b.den for b in table.blocks])


def _collect(keys: np.ndarray, num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique monomial keys with summed rational coefficients (zeros dropped)."""
    if keys.shape[0] == 0:
        return keys, num, den
    uniq, inverse = _unique_rows(keys)
    common = int(np.lcm.reduce(den)) if den.size else 1
    total = np.zeros(uniq.shape[0], dtype=np.int64)
    np.add.at(total, inverse, num * (common // den))
    nonzero = total != 0
    g = np.gcd(total, common)
    g[g == 0] = 1
    return uniq[nonzero], (total // g)[nonzero], (common // g)[nonzero]


@dataclass
class Difference:
    """The first output row where two tables differ, with both polynomials there."""

    row: int
    left: list[tuple[str, Any]]  # (monomial text, coefficient)
    right: list[tuple[str, Any]]
    first: str

    @staticmethod
    def _poly(terms: list[tuple[str, Any]]) -> str:
        if not terms:
            return "0"
        out = ""
        for k, (mono, coeff) in enumerate(terms):
            c = sp.Rational(coeff)
            sign = "-" if c < 0 else "+"
            mag = abs(c)
            body = mono if mag == 1 else (str(mag) if mono == "1" else f"{mag}·{mono}")
            if mono == "1" and mag == 1:
                body = "1"
            out += (("-" if sign == "-" else "") if k == 0 else f" {sign} ") + body
        return out

    def describe(self, frame: Frame, names: tuple[str, str] = ("the first side", "the second side")) -> str:
        return (
            f"at {frame.describe_row(self.row)}: {names[0]} has {self._poly(self.left)}, "
            f"{names[1]} has {self._poly(self.right)} (first difference: {self.first})"
        )


def _atom_text(name: str, idx: tuple) -> str:
    if name.endswith("(·)"):
        return f"{name[:-3]}({_polynomial_text(idx[0])})"
    return f"{name}[{', '.join(map(str, idx))}]"


def _mono_text(ids: np.ndarray, atoms: list) -> str:
    parts = [_atom_text(*atoms[int(i)]) for i in ids if i >= 0]
    return "·".join(parts) or "1"


def compare(a: Table, b: Table) -> Difference | None:
    """None when ``a`` and ``b`` are the same polynomial on every row, else the first difference."""
    (ka, kb), atoms = _encode([a, b])
    na, da = _coefficients(a)
    nb, db = _coefficients(b)
    keys = np.concatenate([ka, kb])
    diff_keys, diff_num, _ = _collect(keys, np.concatenate([na, -nb]), np.concatenate([da, db]))
    if diff_keys.shape[0] == 0:
        return None
    first = int(np.argmin(diff_keys[:, 0]))  # keys are sorted: smallest output row first
    row = int(diff_keys[first, 0])

    def poly(k: np.ndarray, num: np.ndarray, den: np.ndarray) -> list[tuple[str, Any]]:
        sel = k[:, 0] == row
        uk, un, ud = _collect(k[sel], num[sel], den[sel])
        return [(_mono_text(key[1:], atoms), sp.Rational(int(p), int(q))) for key, p, q in zip(uk, un, ud)]

    return Difference(row, poly(ka, na, da), poly(kb, nb, db), _mono_text(diff_keys[first, 1:], atoms))


# ---------------------------------------------------------------------------------------------
# Pointwise maps: σ(P) is an atom identified by the polynomial P.
# ---------------------------------------------------------------------------------------------

#: Highest degree of a monomial inside the argument of a pointwise map.
MAX_DEGREE = 8

_ATOM_IDS: dict[tuple, int] = {}
_ATOMS: list[tuple] = []
_POLY_IDS: dict[bytes, int] = {}
_POLYS: list[np.ndarray] = []


def _polynomial_ids(table: Table, n: int) -> np.ndarray:
    """One id per row: rows get the same id exactly when they hold the same polynomial.

    The polynomial of each row is written canonically — monomials as sorted global atom ids
    with reduced coefficients, monomials sorted — and its bytes are the key of a registry, so
    ``σ(P)`` and ``σ(Q)`` are the same atom exactly when ``P = Q``, in any line.
    """
    (keys,), atom_list = _encode([table])
    num, den = _coefficients(table)
    keys, num, den = _collect(keys, num, den)
    for a in atom_list:
        if a not in _ATOM_IDS:
            _ATOM_IDS[a] = len(_ATOMS)
            _ATOMS.append(a)
    local = np.array([_ATOM_IDS[a] for a in atom_list] + [-1], dtype=np.int64)
    width = keys.shape[1] - 1
    if width > MAX_DEGREE:
        raise EvaluationError(f"a pointwise map's argument has monomials of degree {width} > {MAX_DEGREE}")
    mono = np.full((keys.shape[0], MAX_DEGREE), -1, dtype=np.int64)
    mono[:, :width] = local[keys[:, 1:]]
    mono.sort(axis=1)
    rows = np.column_stack([keys[:, 0], mono, num, den])
    rows = rows[np.lexsort(rows.T[::-1])]
    bounds = np.searchsorted(rows[:, 0], np.arange(n + 1))
    ids = np.empty(n, dtype=np.int64)
    for i in range(n):
        segment = rows[bounds[i] : bounds[i + 1], 1:]
        key = segment.tobytes()
        pid = _POLY_IDS.get(key)
        if pid is None:
            pid = _POLY_IDS[key] = len(_POLYS)
            _POLYS.append(segment.copy())
        ids[i] = pid
    return ids


def _polynomial_text(pid: int) -> str:
    terms = []
    for row in _POLYS[int(pid)]:
        mono = "·".join(_atom_text(*_ATOMS[int(a)]) for a in row[:MAX_DEGREE] if a >= 0) or "1"
        terms.append((mono, sp.Rational(int(row[-2]), int(row[-1]))))
    return Difference._poly(terms)


# ---------------------------------------------------------------------------------------------
# Float64 evaluation on pseudo-random values.
# ---------------------------------------------------------------------------------------------

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def random_values(name: str, index: Sequence[np.ndarray] | np.ndarray, seed: int = 0) -> np.ndarray:
    """Deterministic pseudo-random float64 in [−1, 1) for atoms ``name[index]``.

    ``index`` is one int array per index position (or a rows × rank matrix).  The same atom
    gets the same value in every line and every instance, so oracles can build their arrays
    from this function too.
    """
    if isinstance(index, np.ndarray) and index.ndim == 2:
        index = [index[:, k] for k in range(index.shape[1])]
    index = [np.asarray(i, dtype=np.int64) for i in index]
    shape = np.broadcast(*index).shape if index else ()
    with np.errstate(over="ignore"):
        h = np.full(shape, (zlib.crc32(name.encode()) << 16) ^ (seed * 0x9E3779B9 + 1), dtype=np.uint64)
        for i in index:
            h = _mix(h ^ (i.astype(np.uint64) & _MASK))
        h = _mix(h)
    return (h >> np.uint64(11)).astype(np.float64) / float(2**52) - 1.0


def numeric(table: Table, seed: int = 0) -> np.ndarray:
    """The table's value on every row, with every atom replaced by :func:`random_values`."""
    total = np.zeros(table.rows, dtype=np.float64)
    for b in table.blocks:
        v = b.num.astype(np.float64) / b.den.astype(np.float64)
        for slot, (name, m) in enumerate(b.atoms):
            if slot in b.inner:
                func, arg = b.inner[slot]
                v = v * POINTWISE.get(func, np.tanh)(numeric(arg, seed))
            else:
                v = v * random_values(name, m, seed)
        np.add.at(total, b.out, v)
    return total


#: Float64 stand-ins for pointwise maps in numeric checks (any other name is evaluated as tanh).
POINTWISE = {"relu": lambda v: np.maximum(v, 0.0), "tanh": np.tanh, "sigma": np.tanh}

