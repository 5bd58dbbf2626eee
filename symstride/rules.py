"""The rule library: the named rules a derivation step may cite, and what each one claims.

Every step of a :class:`~symstride.derivation.Derivation` names a rule from :data:`RULES`.  A
rule has a statement (its general form, in text and LaTeX) and, where the rule makes a claim of
its own beyond "the two lines are equal", an **instance** — a small object recording the
concrete claim of one step, checked exactly over the derivation's parameter grid:

* :class:`Partition` — residue classes split an index range: every ``m`` lies in exactly one
  class ``r`` (rule ``residue-split``);
* :class:`Bijection` — a change of summation variables is a bijection between the two index
  sets, checked in both directions (rules ``reindex`` and ``unit-stride-convolution``);
* :class:`SameSet` — two nestings of finite sums run over the same index tuples (``exchange-sums``);
* :class:`SideCondition` — a condition on the parameters (and on quantified indices), decided
  by SymPy from the symbols' assumptions when it can, otherwise exhaustively on the grid.

Rules that are identities between operators (``subsampling-composition``, ``noble-identity``,
``pointwise-commutes``, ``space-to-depth-permutation``) are proved as lemmas in
:mod:`symstride.proofs`.

The bounds of a reindexed sum are derived here, not assumed: :func:`reindex_bounds` solves
``δ·lo ≤ s·j + r ≤ δ·hi`` for ``j``.

>>> import sympy as sp
>>> s, k, d = sp.symbols("s k delta", integer=True, positive=True)
>>> r = sp.Symbol("r", integer=True, nonnegative=True)
>>> lo, hi, conds = reindex_bounds(0, k - 1, scale=d, stride=s, residue=r)
>>> from symstride.printing import text
>>> lo, text(hi)
(0, '⌈(δ·(k - 1) + 1 - r)/s⌉ - 1')
>>> [c.text for c in conds]
['⌈(δ·lo − r)/s⌉ = 0 because 0 ≤ r ≤ s − 1', '⌊(δ·hi − r)/s⌋ = ⌈(δ·hi + 1 − r)/s⌉ − 1 (integers, s ≥ 1)']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from .arith import EvaluationError, integer_values, truth_values
from .lines import add, ceil_div, floor_div, mul
from .terms import Frame, _ragged

__all__ = [
    "Rule",
    "RULES",
    "rule",
    "Outcome",
    "IndexSet",
    "Partition",
    "Bijection",
    "SameSet",
    "SideCondition",
    "reindex_bounds",
    "decide",
]


# ---------------------------------------------------------------------------------------------
# Outcomes of checks.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The result of one check: ``ok``, what was checked (``detail``), and how it was decided."""

    ok: bool
    detail: str
    method: str = "exhaustive"

    def __bool__(self) -> bool:
        return self.ok


def _enumerate(frame_cols: dict, n: int, limits: Sequence[tuple], instance: np.ndarray) -> tuple[dict, int, np.ndarray]:
    cols = dict(frame_cols)
    for var, lo, hi in limits:
        lo_v = integer_values(lo, cols, n, lambda: f"the lower bound {lo} of {var}")
        hi_v = integer_values(hi, cols, n, lambda: f"the upper bound {hi} of {var}")
        cols, parent, n = _ragged(cols, n, var, lo_v, hi_v)
        instance = instance[parent]
    return cols, n, instance


def _where(frame: Frame, instance: int, cols: dict, row: int, names: Sequence[sp.Symbol]) -> str:
    rows = np.flatnonzero(frame.instance == instance)
    params = frame.describe_row(int(rows[0])) if rows.size else ""
    extra = ", ".join(f"{v} = {int(cols[v][row])}" for v in names)
    return ", ".join(p for p in (params, extra) if p)


def _base(frame: Frame) -> tuple[dict, int, np.ndarray]:
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
        cols, n, instance = _enumerate(cols, n, self.limits, instance)
        keep = np.ones(n, dtype=bool)
        for c in self.conditions:
            keep &= truth_values(c, cols, n)
        return {k: v[keep] for k, v in cols.items()}, int(keep.sum()), instance[keep]

    def text(self) -> str:
        from .printing import text

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
        cols, n, inst = _base(frame)
        cols, n, inst = _enumerate(cols, n, self.context, inst)
        cols, n, inst = self.source.enumerate(cols, n, inst)
        items = n
        ids = np.arange(n)
        cols = {**cols, _ROW: ids}
        cols2, n2, inst2 = _enumerate(cols, n, (self.part,), inst)
        hit = truth_values(self.member, cols2, n2)
        counts = np.bincount(cols2[_ROW][hit], minlength=n)
        bad = np.flatnonzero(counts != 1)
        var = self.part[0]
        if bad.size:
            row = int(bad[0])
            names = tuple(v for v, _, _ in self.context) + self.source.variables
            where = _where(frame, int(inst[row]), cols, row, names)
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
        cols, n, inst = _base(frame)
        cols, n, inst = _enumerate(cols, n, self.context, inst)
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
            where = _where(frame, int(inst[row]), cols, row, context_vars + a.variables)
            return Outcome(False, f"{names[0]} index ({where}) maps to {img}, outside the {names[1]} set {b.text()}")
        returned = {v: integer_values(e, moved, n) for v, e in back.items()}
        same = np.ones(n, dtype=bool)
        for v in a.variables:
            same &= returned[v] == cols[v]
        if not same.all():
            row = int(np.argmin(same))
            where = _where(frame, int(inst[row]), cols, row, context_vars + a.variables)
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
            cols, n, inst = _base(frame)
            cols, n, inst = _enumerate(cols, n, self.context, inst)
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


# ---------------------------------------------------------------------------------------------
# Side conditions.
# ---------------------------------------------------------------------------------------------


def decide(cond: Any) -> bool | None:
    """Decide ``cond`` from the symbols' assumptions alone (SymPy's ``is_*`` queries), or None."""
    cond = sp.sympify(cond)
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, sp.And):
        votes = [decide(a) for a in cond.args]
        if any(v is False for v in votes):
            return False
        return True if all(votes) else None
    if isinstance(cond, sp.Or):
        votes = [decide(a) for a in cond.args]
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
    non-negative lower bound are treated as non-negative integers); what SymPy cannot decide is
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
        verdict = None if stmt.has(sp.floor, sp.ceiling, sp.Mod) else decide(stmt.xreplace(weakened))
        if verdict is True:
            return Outcome(True, f"{self.text}: follows from the assumptions", "SymPy")
        cols, n, inst = _base(frame)
        cols, n, inst = _enumerate(cols, n, self.over, inst)
        ok = truth_values(stmt, cols, n)
        if not ok.all():
            row = int(np.argmin(ok))
            where = _where(frame, int(inst[row]), cols, row, tuple(v for v, _, _ in self.over))
            return Outcome(False, f"{self.text}: false at {where}")
        return Outcome(True, f"{self.text}: holds on all {n} cases", "exhaustive")


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
        conditions.append(SideCondition(sp.Eq(raw_lo, 0, evaluate=False), "⌈(δ·lo − r)/s⌉ = 0 because 0 ≤ r ≤ s − 1", over))
    else:
        new_lo = raw_lo
    new_hi = add(ceil_div(add(reach_hi, 1, mul(-1, residue)), stride), -1)
    if stride == 1 and residue == 0:
        new_hi = reach_hi
    conditions.append(
        SideCondition(sp.Eq(raw_hi, new_hi, evaluate=False), "⌊(δ·hi − r)/s⌋ = ⌈(δ·hi + 1 − r)/s⌉ − 1 (integers, s ≥ 1)", over)
    )
    return new_lo, new_hi, conditions


# ---------------------------------------------------------------------------------------------
# The rule table.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A named rule: ``title`` (how a step cites it), its general ``statement`` (text and LaTeX).

    A step citing the rule carries the rule's concrete claims as instances (``Partition``,
    ``Bijection``, ``SameSet``) and side conditions.  A ``lemma`` rule relates operators; it is
    proved for symbolic parameters by the proof of the same name in :mod:`symstride.proofs`.
    """

    name: str
    title: str
    statement: str
    statement_latex: str
    lemma: bool = False
    short: str = ""

    @property
    def label(self) -> str:
        """A short label for the margin of a chain (the title when no short form is given)."""
        return self.short or self.title


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "definition",
            "definition",
            "the left-hand side is defined to be the first line",
            r"\text{the left-hand side is defined to be the first line}",
            short="definition",
        ),
        Rule(
            "stride-as-subsampling",
            "stride as subsampling (Theorem 1)",
            "Conv_s(x; w) = D_s Conv_1(x; w): the strided output at n is the unit-stride output at s·n",
            r"\operatorname{Conv}_s(x; w) = D_s \operatorname{Conv}_1(x; w),\quad y[n] = u[s n]",
            short="Theorem 1",
        ),
        Rule(
            "residue-split",
            "split the sum by residues",
            "Σ_{m ∈ M} f(m) = Σ_{r=0}^{s−1} Σ_{m ∈ M, δm ≡ r (mod s)} f(m)  (the residue classes partition M)",
            r"\sum_{m \in M} f(m) = \sum_{r=0}^{s-1} \sum_{\substack{m \in M \\ \delta m \equiv r \pmod{s}}} f(m)",
            short="residues",
        ),
        Rule(
            "reindex",
            "reindex by a bijection",
            "Σ_{m ∈ M} f(m) = Σ_{j ∈ J} f(g(j)) when g: J → M is a bijection (here δm = s·j + r, Euclidean division)",
            r"\sum_{m \in M} f(m) = \sum_{j \in J} f(g(j)),\quad g\colon J \to M \text{ bijective}",
            short="reindex",
        ),
        Rule(
            "exchange-sums",
            "exchange finite sums",
            "Σ_{a} Σ_{b} f(a, b) = Σ_{b} Σ_{a} f(a, b) over the same finite set of pairs",
            r"\sum_{a} \sum_{b} f(a, b) = \sum_{b} \sum_{a} f(a, b)",
            short="exchange",
        ),
        Rule(
            "linearity",
            "linearity",
            "sums and constant factors distribute: Σ (f + g) = Σ f + Σ g, Σ c·f = c·Σ f",
            r"\textstyle\sum (f + g) = \sum f + \sum g,\quad \sum c f = c \sum f",
            short="linearity",
        ),
        Rule(
            "index-arithmetic",
            "integer arithmetic on an index",
            "rewrite an index by integer arithmetic (both indices are the same integer for every value of the variables)",
            r"\text{rewrite an index by integer arithmetic}",
            short="arithmetic",
        ),
        Rule(
            "phase-signals",
            "phases of the input",
            "x[s·a + r] = x_r[a]: the r-th phase of x (space-to-depth by s)",
            r"x[s a + r] = x_r[a]",
            short="phases",
        ),
        Rule(
            "structural-zeros",
            "structural zeros",
            "extend each phase sum to k' = ⌊δ(k−1)/s⌋ + 1 taps; the added filter entries are zero",
            r"\sum_{j=0}^{J_r} f(j) = \sum_{j=0}^{k'-1} W'_{r,j}\, x_r[n + j],\quad W'_{r,j} = 0 \text{ for } j > J_r",
            short="zeros",
        ),
        Rule(
            "unit-stride-convolution",
            "a unit-stride convolution over phase channels",
            "the pairs (c, r) enumerate the C·P channels c' = c·P + φ(r) once each: the sum is Conv_1(z; W')",
            r"\sum_{c} \sum_{r} f(c P + \varphi(r)) = \sum_{c'=0}^{C P - 1} f(c')",
            short="unit-stride conv.",
        ),
        Rule(
            "gather",
            "solve the scatter for the input index",
            "Σ_{n=0}^{N−1} [s n = e] f(n) = [s | e] f̂(e/s), f̂ the zero extension of f: s n = e has at most one solution",
            r"\sum_{n=0}^{N-1} [s n = e]\, f(n) = [s \mid e]\, \hat f(e/s)",
            short="gather",
        ),
        Rule(
            "output-phase-split",
            "split the outputs by phase",
            "f(t) = Σ_{r=0}^{s−1} Σ_a [s a + r = t + p] f(t): every t + p is s a + r for exactly one pair (r, a), 0 ≤ r < s",
            r"f(t) = \sum_{r=0}^{s-1} \sum_{a} [s a + r = t + p]\, f(t)",
            short="output phases",
        ),
        Rule(
            "phase-taps",
            "the taps of an output phase",
            "with t + p = s a + r: s | t + p − δm ⇔ δm ≡ r (mod s), and (t + p − δm)/s = a − (δm − r)/s",
            r"s \mid s a + r - \delta m \iff \delta m \equiv r \pmod{s}",
            short="phase taps",
        ),
        Rule(
            "phase-filters",
            "the phase filters are one unit-stride convolution",
            "the P phase filters W'[chan(o, φ(r))] of every output channel o form one unit-stride convolution v = Conv_1(x̃; W') with C_out·P channels",
            r"\sum_{j} W'[\operatorname{chan}(o, \varphi(r)), j]\, \tilde x[e + j] = v[\operatorname{chan}(o, \varphi(r)), e]",
            short="phase filters",
        ),
        Rule(
            "depth-to-space",
            "depth-to-space is the inverse permutation of space-to-depth",
            "D2S_s v[o, s e + r] = v[chan(o, φ(r)), e]; D2S_s = S2D_s^{−1} (lemma space-to-depth-permutation)",
            r"\operatorname{D2S}_s v[o, s e + r] = v[\operatorname{chan}(o, \varphi(r)), e],\quad \operatorname{D2S}_s = \operatorname{S2D}_s^{-1}",
            short="D2S",
        ),
        Rule(
            "crop",
            "merge the phases: a crop",
            "Σ_r Σ_a [s a + r = t + p] u[s(a − ⌊p/s⌋) + r] = u[t + (p mod s)]: the one pair (r, a) gives s(a − ⌊p/s⌋) + r = t + (p mod s)",
            r"\sum_{r} \sum_{a} [s a + r = t + p]\, u[s(a - \lfloor p/s \rfloor) + r] = u[t + (p \bmod s)]",
            short="crop",
        ),
        Rule(
            "unfold",
            "unfold a definition",
            "replace a defined signal by its definition",
            r"\text{replace a defined signal by its definition}",
            short="unfold",
        ),
        Rule(
            "subsampling-composition",
            "composition of subsamplings",
            "D_a ∘ D_b = D_{ab}",
            r"D_a D_b = D_{a b}",
            lemma=True,
            short="D_a D_b = D_ab",
        ),
        Rule(
            "pointwise-commutes",
            "pointwise maps commute with subsampling and space-to-depth",
            "σ(D_s x) = D_s σ(x) and σ(S2D_s x) = S2D_s σ(x) for every pointwise σ",
            r"\sigma(D_s x) = D_s\, \sigma(x),\quad \sigma(\operatorname{S2D}_s x) = \operatorname{S2D}_s\, \sigma(x)",
            lemma=True,
            short="pointwise",
        ),
        Rule(
            "noble-identity",
            "the noble identity",
            "D_s ∘ Conv_1(U_s h) = Conv_1(h) ∘ D_s: filtering with h upsampled by s, then subsampling, equals subsampling, then filtering with h",
            r"D_s \operatorname{Conv}_1(\cdot\,; U_s h) = \operatorname{Conv}_1(\cdot\,; h)\, D_s",
            lemma=True,
            short="noble identity",
        ),
        Rule(
            "noble-identity-transposed",
            "the transposed noble identity",
            "Conv_1(U_s x; U_s h) = U_s Conv_1(x; h): upsampling, then filtering with h upsampled by s, equals filtering with h, then upsampling",
            r"\operatorname{Conv}_1(U_s x; U_s h) = U_s \operatorname{Conv}_1(x; h)",
            lemma=True,
            short="transposed noble",
        ),
        Rule(
            "space-to-depth-permutation",
            "space-to-depth is a permutation",
            "S2D_s is a permutation of the entries; its inverse is depth-to-space D2S_s",
            r"\operatorname{D2S}_s \operatorname{S2D}_s = I,\quad \operatorname{S2D}_s \operatorname{D2S}_s = I",
            lemma=True,
            short="permutation",
        ),
    )
}


def rule(name: str) -> Rule:
    """The rule called ``name``; an unknown name lists the valid ones."""
    try:
        return RULES[name]
    except KeyError:
        raise ValueError(f"unknown rule {name!r}; the rules are: {', '.join(RULES)}") from None
