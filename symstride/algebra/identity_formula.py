"""The failure of an identity between operator chains as a linear-integer-arithmetic formula.

:class:`LinearEncoding` reads both sides' index forms (a :class:`~symstride.algebra.decision.Sides`),
unfolds every output entry ``y[o, n]`` to terms ``a · μ · x[c, i]`` (summation indices enumerated,
so ``a``, the weight monomial ``μ`` and the channel ``c`` are concrete; a channel that depends on
the position through ``Mod(e, s)`` is split into its ``s`` residues) and translates the rest —
guards, read positions, output lengths, domains — with :class:`symstride.core.smt.Translator` (native
``div``/``mod`` by constants).  The formula "some entry or shape differs" is then decided by z3;
:meth:`LinearEncoding.smallest_failure` finds the smallest failing size by binary search.

>>> from symstride import D
>>> from symstride.algebra.decision import Sides
>>> enc = LinearEncoding(Sides.build((D(8), D(4)), (D(16),), 1, 1))
>>> enc.status(), enc.smallest_failure()
('refuted', ((17,), None))
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from math import lcm
from typing import Any

import numpy as np
import sympy as sp

from .arith import EvaluationError, integer_values, truth_values
from .index_forms import INT
from .expansion import expand, unfold
from ..core.smt import Translator, Untranslatable

__all__ = ["LinearEncoding", "smallest_model", "MAX_TERMS"]

#: Most enumerated terms (over both sides) the encoding builds; beyond, the identity is not decided.
MAX_TERMS = 200_000


def smallest_model(solver: Any, objectives: list[tuple[Any, int]]) -> tuple[Any, bool]:
    """Minimise each ``(objective, lower bound)`` in turn (lexicographically) by binary search.

    Returns the last model and whether every minimum was established (False when z3 answered
    ``unknown`` on the way; the model is still a model), or ``(None, False)`` when ``solver`` has
    no model z3 can find.
    """
    import z3

    if solver.check() != z3.sat:
        return None, False
    model, minimal = solver.model(), True
    for obj, lo in objectives:
        hi = model.eval(obj, model_completion=True).as_long()
        while minimal and lo < hi:
            mid = (lo + hi) // 2
            solver.push()
            solver.add(obj <= mid)
            verdict = solver.check()
            if verdict == z3.sat:
                model = solver.model()
                hi = model.eval(obj, model_completion=True).as_long()
            elif verdict == z3.unsat:
                lo = mid + 1
            else:
                minimal = False
            solver.pop()
        solver.add(obj == hi)
    return model, minimal


class LinearEncoding:
    """Shapes, domains and entries of two sides as z3 formulas (``entries=False``: shapes only)."""

    def __init__(self, sides: Any, timeout_ms: int = 20_000, *, entries: bool = True) -> None:
        import z3

        self.sides, self.timeout, self.reason, self.minimal = sides, int(timeout_ms), "", True
        tr = self.tr = Translator(native_division=True)
        L, R = sides.left, sides.right
        self.Nz = [tr.symbol(Na) for Na in sides.N]
        self.def_l = z3.And([tr.term(sp.sympify(c)) for c in L.defined] + [z3.BoolVal(True)])
        self.def_r = z3.And([tr.term(sp.sympify(c)) for c in R.defined] + [z3.BoolVal(True)])
        if L.channels != R.channels:
            same = z3.BoolVal(False)
        else:
            same = z3.And([tr.term(sp.Eq(a, b)) for a, b in zip(L.size, R.size)] + [z3.BoolVal(True)])
        self.shape_mismatch = z3.And(self.def_l, self.def_r, z3.Not(same))
        self.n = [sp.Dummy(f"n{a}", **INT) for a in range(sides.ndim)]
        self.o, self.i = z3.Int("o"), [z3.Int(f"i{a}") for a in range(sides.ndim)]
        self.entry_failure = self.outside = z3.BoolVal(False)
        self._status: str | None = None
        if entries:
            try:
                self._encode_entries(same)
            except (Untranslatable, EvaluationError) as exc:
                self.reason = f"the index forms leave linear integer arithmetic: {exc}"
                self._status = "unknown"

    # -- building ------------------------------------------------------------------------------
    def _in_range(self, signal: Any) -> Any:
        import z3

        inside = [self.tr.term(v <= size - 1) for v, size in zip(self.n, signal.size)]
        return z3.And(*inside, self.o >= 0, self.o < signal.channels)

    def _encode_entries(self, same: Any) -> None:
        import z3

        sides = self.sides
        groups: dict = defaultdict(lambda: ([], []))
        outside, count = [], 0
        for k, (signal, defined) in enumerate(((sides.left, self.def_l), (sides.right, self.def_r))):
            reads = []
            for o in range(signal.channels):
                terms = unfold(expand(signal.base[(sp.Integer(o), *self.n)]), sides.definitions)
                for term in terms:
                    reads.append(z3.And(self.o == o, self._outside(term)))
                    for key, coef, present in self._rows(term, o):
                        groups[key][k].append((coef, present))
                        count += 1
                        if count > MAX_TERMS:
                            raise Untranslatable(f"more than {MAX_TERMS} enumerated terms")
            outside.append(z3.And(defined, self._in_range(signal), z3.Or(*reads) if reads else z3.BoolVal(False)))
        self.outside = z3.Or(*outside)
        by_channel = defaultdict(list)
        for key, (left, right) in groups.items():
            if len(left) == len(right) and all(a == b and p.eq(q) for (a, p), (b, q) in zip(left, right)):
                continue  # the same terms on both sides
            scale = lcm(*(int(sp.Rational(c).q) for c, _ in left + right))
            total = [z3.Sum([z3.If(p, z3.IntVal(int(c * scale)), z3.IntVal(0)) for c, p in side] + [z3.IntVal(0)]) for side in (left, right)]
            by_channel[key[0]].append(total[0] != total[1])
        differs = z3.Or([z3.And(self.o == o, z3.Or(*ds)) for o, ds in by_channel.items()] + [z3.BoolVal(False)])
        self.entry_failure = z3.And(self.def_l, self.def_r, same, self._in_range(sides.left), differs)

    def _outside(self, term: Any) -> Any:
        """Some summation index where the term is present but reads outside a signal's domain."""
        import z3

        tr = self.tr
        ranges = [z3.And(tr.symbol(v) >= tr.term(lo), tr.symbol(v) <= tr.term(hi)) for v, lo, hi in term.limits]
        guard = [tr.term(c) for c in term.conditions]
        asserted = [tr.term(c) for c, _ in term.assertions]
        return z3.And(*ranges, *guard, z3.Not(z3.And(*asserted, z3.BoolVal(True))))

    def _rows(self, term: Any, o: int) -> list[tuple[tuple, sp.Rational, Any]]:
        """The term with its summation indices enumerated: (monomial key, coefficient, presence)."""
        import z3

        x = self.sides.x
        xs = [a for a in term.atoms if isinstance(a, sp.Indexed) and a.base == x]
        weights = [a for a in term.atoms if isinstance(a, sp.Indexed) and a.base != x]
        if len(xs) != 1 or len(weights) + 1 != len(term.atoms):
            raise Untranslatable(f"a term reads {len(xs)} input entries and {len(term.atoms) - len(xs) - len(weights)} pointwise maps (not linear in the input)")
        (xa,) = xs
        limits = [v for v, _, _ in term.limits]
        discrete = [i for w in weights for i in w.indices] + [xa.indices[0]]
        spatial = set(self.sides.N) | set(self.n)
        mods = sorted({m for d in discrete for m in sp.sympify(d).atoms(sp.Mod) if m.free_symbols & spatial}, key=sp.default_sort_key)
        if any(not m.args[1].is_Integer or m.args[1] <= 0 for m in mods):
            raise Untranslatable(f"a channel or weight index depends on the position through {mods}")
        out = []
        for residues in itertools.product(*(range(int(m.args[1])) for m in mods)):
            pinned = dict(zip(mods, map(sp.Integer, residues)))
            idx = [sp.sympify(d).xreplace(pinned) for d in discrete]
            if any(not (sp.sympify(d).free_symbols <= set(limits)) for d in idx):
                raise Untranslatable(f"a channel or weight index depends on the input size or the position: {idx}")
            cols, rows = self._enumerate(term.limits)
            keep = np.ones(rows, dtype=bool)
            spatial_conds = [sp.Eq(m, r) for m, r in pinned.items()]
            for c in term.conditions:
                if sp.sympify(c).free_symbols <= set(limits):
                    keep &= truth_values(c, cols, rows)
                else:
                    spatial_conds.append(c)
            values = [integer_values(d, cols, rows) for d in idx]
            if term.coeff.free_symbols:
                raise Untranslatable(f"the coefficient {term.coeff} depends on an index")
            coef = sp.Rational(term.coeff)
            present = z3.And(*[self.tr.term(c) for c in spatial_conds], *[self.tr.term(p) == i for p, i in zip(xa.indices[1:], self.i)])
            lz = [self.tr.symbol(v) for v in limits]
            for r in np.nonzero(keep)[0]:
                vals = [int(v[r]) for v in values]
                pos, mono = 0, []
                for w in weights:
                    mono.append((w.base.label.name, tuple(vals[pos : pos + len(w.indices)])))
                    pos += len(w.indices)
                key = (o, tuple(sorted(mono)), vals[-1])
                pairs = [(z, z3.IntVal(int(cols[v][r]))) for z, v in zip(lz, limits)]
                out.append((key, coef, z3.substitute(present, *pairs) if pairs else present))
        return out

    @staticmethod
    def _enumerate(limits: Any) -> tuple[dict, int]:
        cols: dict = {}
        rows = 1
        for v, lo, hi in limits:
            lo_v, hi_v = (np.broadcast_to(integer_values(b, cols, rows), (rows,)) for b in (lo, hi))
            counts = np.clip(hi_v - lo_v + 1, 0, None)
            parent = np.repeat(np.arange(rows), counts)
            offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
            cols = {k: c[parent] for k, c in cols.items()}
            cols[v] = lo_v[parent] + offsets
            rows = int(counts.sum())
        return cols, rows

    # -- deciding ------------------------------------------------------------------------------
    def _solver(self, *formulas: Any) -> Any:
        import z3

        s = z3.Solver()
        s.set("timeout", self.timeout)
        s.add(*self.tr.hypotheses, *formulas)
        return s

    def status(self) -> str:
        """``proved`` (no shape, entry or read fails for any size), ``refuted`` or ``unknown``."""
        import z3

        if self._status is None:
            verdict = self._solver(z3.Or(self.shape_mismatch, self.entry_failure, self.outside)).check()
            if verdict == z3.unsat:
                self._status = "proved"
            elif verdict == z3.unknown:
                self._status, self.reason = "unknown", f"z3 answered unknown within {self.timeout} ms"
            else:
                again = self._solver(z3.Or(self.shape_mismatch, self.entry_failure)).check()
                if again == z3.unsat:
                    raise EvaluationError("an index form reads outside a signal at some input size (an internal error)")
                self._status = "refuted" if again == z3.sat else "unknown"
                if again == z3.unknown:
                    self.reason = f"z3 answered unknown within {self.timeout} ms"
        return self._status

    def _sizes(self) -> list[tuple[Any, int]]:
        import z3

        return [(z3.Sum(self.Nz), len(self.Nz))] + [(Na, 1) for Na in self.Nz]

    def smallest_failure(self) -> tuple[tuple[int, ...], tuple[int, ...] | None] | None:
        """The smallest failing size (least Σ N, then lexicographic) and its first differing entry.

        ``output`` is None for a shape mismatch; None overall when nothing fails.
        """
        import z3

        model, self.minimal = smallest_model(self._solver(z3.Or(self.shape_mismatch, self.entry_failure)), self._sizes())
        if model is None:
            return None
        size = tuple(model.eval(Na, model_completion=True).as_long() for Na in self.Nz)
        fixed = [Na == v for Na, v in zip(self.Nz, size)]
        if self._solver(self.shape_mismatch, *fixed).check() == z3.sat:
            return size, None
        nz = [self.tr.symbol(v) for v in self.n]
        model, minimal = smallest_model(self._solver(self.entry_failure, *fixed), [(self.o, 0)] + [(v, 0) for v in nz])
        if model is None:
            return None
        self.minimal = self.minimal and minimal
        return size, tuple(model.eval(v, model_completion=True).as_long() for v in [self.o, *nz])

    def one_sided(self) -> tuple[tuple[int, ...], str] | None:
        """The smallest size where exactly one side is defined, and which side (None: never)."""
        import z3

        model, _ = smallest_model(self._solver(z3.Xor(self.def_l, self.def_r)), self._sizes())
        if model is None:
            return None
        size = tuple(model.eval(Na, model_completion=True).as_long() for Na in self.Nz)
        return size, "left" if z3.is_true(model.eval(self.def_l, model_completion=True)) else "right"

    def ever_defined(self) -> bool:
        """Whether both sides are defined at some input size (z3 unknown counts as yes)."""
        import z3

        return self._solver(self.def_l, self.def_r).check() != z3.unsat
