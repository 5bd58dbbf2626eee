"""The separable product over axes: a d-axis identity as the product of a proved 1-D one.

A step citing the rule ``separable-product`` carries an :class:`AxisProduct`: the name of a
proved 1-D result, the two lines of its chain it uses (``e_a = e_b``, equal because every step
between them is proved), and, per axis ``i = 1 … d``, the substitution ``σ_i`` of the 1-D
symbols (parameters, input size, output index) by the symbols of axis ``i``.  The schema:

1. both lines of the step (the previous one and the new one) are **unfolded** down to the
   primitive signals (inputs and weights) with the d-axis definitions, and the two 1-D lines with
   the 1-D definitions (every read inside its definition's domain: obligations);
2. the **product** of the unfolded 1-D line over the axes — ``σ_1(T_1) ⊗ … ⊗ σ_d(T_d)``: sums
   over the concatenated summation variables, the conjunction of the guards, the product of the
   coefficients, every primitive signal read at the indices of all axes (slot by slot: a 1-D
   read ``w[e]`` becomes ``w[σ_1(e), …, σ_d(e)]``) — must equal the unfolded d-axis line in the
   checker's normal form, every index and index set compared by z3 for all values;
3. the substitutions are **independent**: each covers every free symbol of the 1-D result and
   no two axes share a symbol; the d-axis hypotheses imply each axis's copy of the 1-D ones.

Soundness (for every d): after unfolding, both 1-D lines are bilinear forms in the primitive
signals, ``Σ c(m, i) w[m] x[i]``, equal for all signals and parameter values, so their
coefficients ``c(m, i)`` agree.  The product line's coefficient of ``w[m_1, …, m_d] x[i_1, …, i_d]``
is ``Π_i c_i(m_i, i_i)`` (the index set is a product and the guard a conjunction), the same on
both sides — so the d-axis lines are equal.  A step with axes swapped, or one axis's stride used
on another, is no product: an index comparison is refuted and the step fails, naming it.

>>> from symstride.proof.proofs import prove
>>> proof = prove("polyphase", ndim=3)
>>> proof.proved, [s.rule for s in proof.parts[-1].steps]
(True, ['definition', 'separable-product', 'unit-stride-convolution'])
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product as cartesian
from typing import Any, Mapping, Sequence

import sympy as sp

from .discharge import Obligation
from .schemas import NotAnInstance, compare_terms
from .summands import Summand, SummandError, bound_symbol, summands, unfold_summands
from ..render.printing import text

__all__ = ["AxisProduct", "product_obligations", "axis_product"]


@dataclass(frozen=True)
class AxisProduct:
    """The recorded instance of a ``separable-product`` step (see the module docstring).

    ``cites`` names the proved 1-D result, ``lines`` the two lines of its chain, ``axes`` the
    substitutions ``σ_i`` (1-D symbol → symbol of axis ``i``), one per axis, in axis order.
    """

    cites: str
    lines: tuple[int, int]
    axes: tuple[Mapping[sp.Symbol, Any], ...]

    def describe(self) -> str:
        maps = "; ".join(", ".join(f"{k} ↦ {v}" for k, v in sigma.items()) for sigma in self.axes)
        return f"the 1-D result {self.cites} (lines {self.lines[0]} = {self.lines[1]}) on each of {len(self.axes)} axes: {maps}"


def _scalars(expr: Any) -> set:
    """The scalar symbols of ``expr`` (not the names of the signals it reads)."""
    expr = sp.sympify(expr)
    labels = {i.base.label for i in expr.atoms(sp.Indexed)}
    return {s for s in expr.free_symbols if isinstance(s, sp.Symbol) and s not in labels}


def _substitute(t: Summand, sigma: Mapping[sp.Symbol, Any]) -> Summand:
    """σ applied to a summand: free symbols replaced, bound variables renamed (by name)."""
    by_name = {k.name: v for k, v in sigma.items()}
    mapping: dict = {}
    for v in t.variables:
        if v.name not in by_name:
            raise NotAnInstance(f"the substitution of an axis does not rename the summation variable {v}")
        mapping[v] = bound_symbol(by_name[v.name])
    for s in set().union(*(_scalars(c) for c in (*t.condition, t.coeff, *t.factors))):
        if s not in mapping:
            if s.name not in by_name:
                raise NotAnInstance(f"the substitution of an axis leaves {s} shared between axes")
            mapping[s] = by_name[s.name]
    return Summand(
        tuple(mapping[v] for v in t.variables),
        tuple(sp.sympify(c).xreplace(mapping) for c in t.condition),
        sp.sympify(t.coeff).xreplace(mapping),
        tuple(sp.sympify(f).xreplace(mapping) for f in t.factors),
    )


def axis_product(lines: Sequence[Sequence[Summand]]) -> list[Summand]:
    """``T_1 ⊗ … ⊗ T_d``: the product of one unfolded line per axis (already substituted)."""
    out = []
    for combo in cartesian(*lines):
        factors: dict[str, list] = {}
        for t in combo:
            names = [f.base.label.name if isinstance(f, sp.Indexed) else None for f in t.factors]
            if None in names:
                raise NotAnInstance(f"a product over axes reads only indexed signals, not {text(t.factors[names.index(None)])}")
            if len(set(names)) != len(names):
                raise NotAnInstance(f"{names[0]} is read twice in one summand: its reads cannot be paired across axes")
            for f in t.factors:
                factors.setdefault(f.base.label.name, []).append(f)
        reads = []
        for name, per_axis in factors.items():
            if len(per_axis) != len(combo):
                raise NotAnInstance(f"{name} is read on {len(per_axis)} of the {len(combo)} axes")
            widths = {len(f.indices) for f in per_axis}
            if len(widths) != 1:
                raise NotAnInstance(f"{name} has different numbers of indices on different axes")
            slots = [i for slot in range(widths.pop()) for i in (f.indices[slot] for f in per_axis)]
            reads.append(per_axis[0].base[tuple(slots)])
        out.append(Summand(
            tuple(v for t in combo for v in t.variables),
            tuple(c for t in combo for c in t.condition),
            sp.Mul(*(t.coeff for t in combo)),
            tuple(reads),
        ))
    return out


def _unfolded(expr: Any, definitions: Mapping[str, Any], hypotheses: Sequence[Any], obligations: list, where: str,
              names: set[str]) -> list[Summand]:
    try:
        terms, reads = unfold_summands(summands(expr), names, definitions)
    except SummandError as exc:
        raise NotAnInstance(f"{where}: {exc}") from None
    for r in reads:
        obligations.append(Obligation(sp.And(*r.inside), tuple(hypotheses) + tuple(r.summand.condition),
                                      f"{where}: the read {text(r.atom)} lies in the domain of its definition"))
    return terms


def product_obligations(d: Any, number: int, instance: AxisProduct, cited: Any) -> list[Obligation]:
    """The obligations under which step ``number`` of ``d`` is the product over axes of the lines
    ``instance.lines`` of the 1-D derivation ``cited``; :class:`NotAnInstance` when it is none."""
    axes = instance.axes
    if len(axes) < 1:
        raise NotAnInstance("a product over axes needs at least one axis")
    free = set()
    for i in instance.lines:
        if not 0 <= i < len(cited.steps):
            raise NotAnInstance(f"the cited {instance.cites} has no line {i}")
    for i in instance.lines:
        free |= _scalars(cited.steps[i].expr)
    free |= {s for h in cited.hypotheses for s in _scalars(h)}
    for a, sigma in enumerate(axes, 1):
        missing = sorted(str(s) for s in free if s not in sigma)
        if missing:
            raise NotAnInstance(f"the substitution of axis {a} leaves {', '.join(missing)} of {instance.cites} shared between axes")
    for a in range(len(axes)):
        for b in range(a + 1, len(axes)):
            images_a = {s for v in axes[a].values() for s in sp.sympify(v).free_symbols}
            images_b = {s for v in axes[b].values() for s in sp.sympify(v).free_symbols}
            shared = images_a & images_b
            if shared:
                raise NotAnInstance(f"axes {a + 1} and {b + 1} share {', '.join(sorted(map(str, shared)))}: the axes are not independent")
    obligations: list[Obligation] = []
    hyps = tuple(d.hypotheses)
    for a, sigma in enumerate(axes, 1):
        for h in cited.hypotheses:
            obligations.append(Obligation(sp.sympify(h).xreplace(dict(sigma)), hyps, f"axis {a} satisfies the hypothesis {text(h)} of {instance.cites}"))
    # the cited result's defined signals are unfolded; its primitives (inputs, weights) stay atoms:
    # it holds for all of them, so they may be any signal of this derivation
    names = {n for n, e in cited.definitions.items() if e.rhs is not None}
    undefined = sorted(n for n in names if n not in d.definitions or d.definitions[n].rhs is None)
    if undefined:
        raise NotAnInstance(f"{', '.join(undefined)} of {instance.cites} {'is' if len(undefined) == 1 else 'are'} not defined here")
    pairs = ((instance.lines[0], d.steps[number - 1].expr, "the previous line"), (instance.lines[1], d.steps[number].expr, "the new line"))
    for line, expr, where in pairs:
        one = _unfolded(cited.steps[line].expr, cited.definitions, cited.hypotheses, obligations, f"line {line} of {instance.cites}", names)
        expected = axis_product([[_substitute(t, sigma) for t in one] for sigma in axes])
        mine = _unfolded(expr, d.definitions, hyps, obligations, where, names)
        obligations += compare_terms(expected, mine, hypotheses=hyps, where=f"{where} against the product of line {line} of {instance.cites}: ")
    return obligations
