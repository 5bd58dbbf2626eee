"""Tables: per output row, a polynomial in the primitive atoms — and their exact comparison.

A :class:`Table` is what evaluating a line on a frame gives.  Two tables are compared as
polynomials (:func:`compare`) by encoding each monomial as a row of integer atom ids and summing
rational coefficients; the same canonical encoding gives the argument ``P`` of a pointwise map
``σ(P)`` an identity, so ``σ(P)`` and ``σ(Q)`` are the same atom exactly when ``P = Q``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import sympy as sp

from .arith import EvaluationError
from .frames import Frame

__all__ = ["Table", "Difference", "compare", "MAX_DEGREE", "PolynomialBlock", "polynomial_ids"]


@dataclass
class PolynomialBlock:
    """The rows of one term: output row, coefficient, and each atom's base and indices."""

    out: np.ndarray
    num: np.ndarray
    den: np.ndarray
    atoms: list[tuple[str, np.ndarray]]  # (base name, int64 matrix rows × rank)
    inner: dict[int, tuple[str, "Table"]] = field(default_factory=dict)  # function atoms: slot → (name, argument)


@dataclass
class Table:
    """A line evaluated on a frame: per output row, a polynomial in the primitive atoms."""

    blocks: list[PolynomialBlock]
    rows: int
    terms: int = field(init=False)

    def __post_init__(self) -> None:
        self.terms = int(sum(b.out.size for b in self.blocks))


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

    @property
    def left_text(self) -> str:
        """The first side's polynomial on the row, as text (``w[0]·x[0, 1] + …``)."""
        return self._poly(self.left)

    @property
    def right_text(self) -> str:
        """The second side's polynomial on the row, as text."""
        return self._poly(self.right)

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


def polynomial_ids(table: Table, n: int) -> np.ndarray:
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
    """The polynomial of a registered id, factors and monomials in (name, index) order.

    The order does not depend on the registry's ids (which follow the order atoms were first seen
    in the process), so the same polynomial always prints the same way.
    """
    terms = []
    for row in _POLYS[int(pid)]:
        atoms = sorted(_ATOMS[int(a)] for a in row[:MAX_DEGREE] if a >= 0)
        terms.append((atoms, "·".join(_atom_text(*a) for a in atoms) or "1", sp.Rational(int(row[-2]), int(row[-1]))))
    terms.sort(key=lambda t: t[0])
    return Difference._poly([(mono, coeff) for _, mono, coeff in terms])
