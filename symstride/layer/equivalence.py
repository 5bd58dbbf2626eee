"""Theorem 2: one strided layer is one unit-stride layer on the phases of its input.

``destride(layer)`` builds the equivalence for a :class:`~symstride.algebra.operators.Conv`: the tap
map ``m ↦ (r, j)`` with ``δ·m = s·j + r``, the equivalent filter bank ``W'`` in terms of the
original weight symbols (with its structural zeros), the entry formula of ``W'``, and exact
verification on concrete sizes.

>>> from symstride import Conv, destride
>>> eq = destride(Conv(kernel=3, stride=2))
>>> eq.kernel, eq.phases, eq.in_channels
((2,), 2, 2)
>>> eq.filters
[[[w[0], w[2]], [w[1], 0]]]
>>> eq.formula
Piecewise((w[2*j + r], 2*j + r <= 2), (0, True))
>>> eq.verify(size=9).exact
True
"""

from __future__ import annotations

from functools import cached_property
from math import prod
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ..core.errors import SymstrideError, SymstrideTypeError
from ..core.indexing import (
    LAYOUTS,
    channel_index,
    check_layout,
    equivalent_kernel,
    phase_count,
    phase_index,
    phases,
    structural_zeros,
    tap_arrays,
    tap_map,
    weight_gather_index,
)
from ..algebra.operators import Conv
from ..core.params import MAX_ELEMENTS, MAX_TAPS, ConvSpec
from ..algebra.operator_checks import verify_subsampling
from ..core.tap_comparison import VerifyReport
from ..core.verify import verify_taps
from .filterbank import FilterBank

if TYPE_CHECKING:  # pragma: no cover
    from ..proof.derivation import Derivation

__all__ = ["PhaseEquivalence", "StridedFormula", "Equivalence", "default_size", "channel_twin"]


def _text(expr: sp.Basic) -> str:
    return sp.sstr(expr, order="none")


def default_size(spec: ConvSpec) -> tuple[int, ...]:
    """A small input size that exercises both boundaries and the interior on every axis."""
    return tuple(
        max(d * (k - 1) + 1 - pl - pr, 1) + 3 * s + 1
        for k, s, d, (pl, pr) in zip(spec.kernel, spec.stride, spec.dilation, spec.padding)
    )


def _check_size(spec: Any, kernel: tuple[int, ...], phases: int) -> None:
    """Refuse, before building anything, an equivalent too large to construct (rather than hang)."""
    if phases > MAX_TAPS:
        raise SymstrideError(
            f"stride {spec.stride} gives {phases} phases (Π s); symstride builds equivalents with at most {MAX_TAPS}"
        )
    entries = spec.out_channels * (spec.in_channels // spec.groups) * phases * prod(kernel)
    if entries > MAX_ELEMENTS:
        raise SymstrideError(
            f"the equivalent filter bank would have {entries} entries (out_channels·in_channels/groups·Π s·Π k'); "
            f"symstride builds at most {MAX_ELEMENTS}"
        )


class PhaseEquivalence:
    """What every phase equivalence shares: a layer, its phases and its unit-stride filter bank.

    Subclasses set ``layer``, ``spec``, ``layout``, ``kernel`` (``k'``), ``phases`` (``P``),
    ``in_channels``, ``out_channels``, ``groups``, ``taps`` and ``structural_zeros`` (through
    :meth:`_setup`) and define ``weight_index``, ``channel_expr``, ``formula_lhs`` and
    ``formula``; the filter bank as SymPy array and the formula's printing are shared.
    """

    def _setup(self, layer: Any, layout: str, *, channels: str) -> None:
        self.layer = layer
        self.spec = layer.spec
        self.layout = check_layout(layout)
        if layout == "tf" and layer.groups > 1:
            raise SymstrideError(
                f"layout='tf' orders channels phase-major (φ(r)·C + c), which splits each of the "
                f"groups={layer.groups} channel groups across phases, so no grouped unit-stride convolution "
                f"{channels} them; use layout='pytorch' for grouped layers"
            )
        self.kernel = equivalent_kernel(self.spec)
        self.phases = phase_count(self.spec)
        self.groups = self.spec.groups
        _check_size(self.spec, self.kernel, self.phases)
        self.structural_zeros = structural_zeros(self.spec)

    # -- structure ----------------------------------------------------------------------------
    @property
    def weight_shape(self) -> tuple[int, ...]:
        """Shape of ``W'``: ``(out_channels, in_channels/groups, *k')``."""
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    @property
    def phase_vectors(self) -> list[tuple[int, ...]]:
        """Every phase ``r``, in the order of φ."""
        return list(phases(self.spec.stride))

    @property
    def live_phases(self) -> list[tuple[int, ...]]:
        """Phases that carry at least one weight (the others can be dropped)."""
        used = {tuple(r) for r in np.unique(self.tap_arrays[1].T, axis=0).tolist()}
        return [r for r in self.phase_vectors if r in used]

    @cached_property
    def filters(self) -> sp.ImmutableDenseNDimArray:
        """``W'`` as a SymPy array in terms of the original weight symbols."""
        weights = self.layer.weights
        entries = [weights[i] if i >= 0 else sp.S.Zero for i in self.weight_index.reshape(-1)]
        return sp.ImmutableDenseNDimArray(entries, self.weight_shape)

    # -- the entry formula ----------------------------------------------------------------------
    @cached_property
    def index_symbols(self) -> dict[str, tuple[sp.Symbol, ...]]:
        """The symbols of the formula: ``o``, ``c``, phases ``r`` and offsets ``j`` per axis."""
        nd = self.spec.ndim
        names = ("r", "j") if nd == 1 else None
        r = (sp.Symbol("r", integer=True, nonnegative=True),) if names else tuple(
            sp.Symbol(f"r_{a + 1}", integer=True, nonnegative=True) for a in range(nd)
        )
        j = (sp.Symbol("j", integer=True, nonnegative=True),) if names else tuple(
            sp.Symbol(f"j_{a + 1}", integer=True, nonnegative=True) for a in range(nd)
        )
        o, c = sp.symbols("o c", integer=True, nonnegative=True)
        return {"o": (o,), "c": (c,), "r": r, "j": j}

    def _phase_terms(self) -> list[sp.Expr]:
        """The terms of φ(r) = Σ_a r_a·Π_{b>a} s_b, in axis order."""
        terms, weight = [], 1
        for r, s in reversed(list(zip(self.index_symbols["r"], self.spec.stride))):
            terms.append(weight * r)
            weight *= s
        return terms[::-1]

    @cached_property
    def phase_expr(self) -> sp.Expr:
        """φ(r) as an expression in the phase symbols (row-major), terms in axis order."""
        return sp.Add(*self._phase_terms(), evaluate=False)

    def _entry_formula(self, reaches: list[sp.Expr], weight_of: Any) -> sp.Expr:
        """``weight_of(m)`` with ``m = reach/δ`` per axis where that is a tap, else 0 (a Piecewise).

        ``reaches`` are the per-axis expressions of ``δ·m`` in the phase and offset symbols.
        """
        taps, conditions = [], []
        for reach, k, s, d, kq in zip(reaches, self.spec.kernel, self.spec.stride, self.spec.dilation, self.kernel):
            unit = isinstance(d, int) and d == 1  # a symbolic dilation may be anything ≥ 1
            taps.append(reach if unit else reach / d)
            if not unit:
                conditions.append(sp.Eq(sp.Mod(reach, d), 0))
            if not all(isinstance(v, int) for v in (k, s, d, kq)):  # symbolic: the bound is part of the formula
                conditions.append(sp.Le(reach, d * (k - 1), evaluate=False))
            elif s * (kq - 1) + s - 1 > d * (k - 1):  # some (r, j) in range overshoot the kernel
                conditions.append(reach <= d * (k - 1))
        entry = weight_of(taps)
        if not conditions:
            return entry
        symbolic = not all(isinstance(v, int) for v in (*self.spec.kernel, *self.spec.stride, *self.spec.dilation))
        # with symbols SymPy would rewrite s·j + r ≤ δ(k − 1) into another form: keep it as written
        return sp.Piecewise((entry, sp.And(*conditions)), (sp.S.Zero, True), evaluate=not symbolic)

    @property
    def equation(self) -> sp.Eq:
        """``W'[...] = formula`` as a SymPy equation."""
        return sp.Eq(self.formula_lhs, self.formula, evaluate=False)

    def formula_text(self) -> str:
        """The entry formula as one line of plain text."""
        f = self.formula
        if isinstance(f, sp.Piecewise):
            (entry, cond), _ = f.args
            return f"{_text(self.formula_lhs)} = {_text(entry)} if {_text(cond)} else 0"
        return f"{_text(self.formula_lhs)} = {_text(f)}"

    def formula_latex(self) -> str:
        """The entry formula as LaTeX (through the template ``formula.tex``)."""
        from ..render.templates import render_template

        f = self.formula
        if isinstance(f, sp.Piecewise):
            (entry, cond), _ = f.args
        else:
            entry, cond = f, None
        return render_template("formula.tex", lhs=self.formula_lhs, entry=entry, condition=cond).strip()


def channel_twin(eq: "Equivalence") -> "Equivalence | None":
    """The same equivalence with at most two groups of at most two channels each (None if it is one).

    Its derivation has the same lines as ``eq``'s with smaller channel counts, so checking it
    costs the same whatever ``eq``'s channel counts (the check of ``eq`` itself enumerates every
    output channel and sums over every input channel).

    >>> from symstride import Conv, destride
    >>> channel_twin(destride(Conv(kernel=3, stride=2, in_channels=64, out_channels=128, groups=4))).spec.describe()
    '1-D, kernel 3, stride 2, padding 0, dilation 1, 4→4 channels, groups 2'
    >>> channel_twin(destride(Conv(kernel=3, stride=2, in_channels=2, out_channels=2))) is None
    True
    """
    spec = eq.spec
    g = min(spec.groups, 2)
    cin, cout = g * min(spec.in_channels // spec.groups, 2), g * min(spec.out_channels // spec.groups, 2)
    if (cin, cout, g) == (spec.in_channels, spec.out_channels, spec.groups):
        return None
    return Equivalence(type(eq.layer)(spec.replace(in_channels=cin, out_channels=cout, groups=g)), eq.layout)


class StridedFormula:
    """The entry formula of a strided layer's ``W'``, for concrete and symbolic parameters alike.

    Mixed into :class:`Equivalence` and :class:`~symstride.symbolic_equivalence.SymbolicEquivalence`
    (which share :class:`PhaseEquivalence`'s index symbols and ``_entry_formula``): one piece of
    code writes ``W'[o, c·P + φ(r), j] = w[o, c, (s·j + r)/δ]`` whatever the parameters are.
    """

    # -- the entry formula ----------------------------------------------------------------------
    @cached_property
    def channel_expr(self) -> sp.Expr:
        """The equivalent (group-local) channel of input channel ``c`` and phase ``r``."""
        (c,) = self.index_symbols["c"]
        if not self.layer.channel_indexed:
            return self.phase_expr
        cin_g = self.spec.in_channels // self.groups
        if self.layout == "pytorch":
            return sp.Add(self.phases * c, *self._phase_terms(), evaluate=False)
        return sp.Add(*(cin_g * t for t in self._phase_terms()), c, evaluate=False)

    @cached_property
    def formula_lhs(self) -> sp.Indexed:
        """``W'[o, chan(c, φ(r)), j]`` (``W'[φ(r), j]`` for a one-channel layer)."""
        (o,) = self.index_symbols["o"]
        idx = (o, self.channel_expr) if self.layer.channel_indexed else (self.channel_expr,)
        return sp.IndexedBase("W'")[(*idx, *self.index_symbols["j"])]

    @cached_property
    def formula(self) -> sp.Expr:
        """The entry of ``W'``: ``w[o, c, (s·j + r)/δ]`` where that is a tap, else 0 (a Piecewise)."""
        (o,), (c,) = self.index_symbols["o"], self.index_symbols["c"]
        reaches = [
            sp.Add(s * j, r, evaluate=False) if not (isinstance(s, int) and s == 1) else sp.Add(j, r, evaluate=False)
            for r, j, s in zip(self.index_symbols["r"], self.index_symbols["j"], self.spec.stride)
        ]
        return self._entry_formula(reaches, lambda taps: self.layer.weight(o, c, taps))


class Equivalence(StridedFormula, PhaseEquivalence):
    """A strided layer and its unit-stride equivalent over ``P = Π s`` phase channels.

    Attributes: ``layer`` (the strided :class:`Conv`), ``layout``, ``kernel`` (``k'``),
    ``phases`` (``P``), ``in_channels`` (``C_in·P``), ``out_channels``, ``groups``, ``taps``
    (the tap map), ``filters`` (``W'`` as a SymPy array), ``formula`` (its entry formula),
    ``structural_zeros`` (per channel pair).
    """

    #: The tap map's rule, as LaTeX (the filter-bank block of a derivation prints it).
    tap_rule_latex = r"\delta m = s j + r"

    def __init__(self, layer: Conv, layout: str = "pytorch") -> None:
        if not isinstance(layer, Conv) or not isinstance(layer.spec, ConvSpec):
            raise SymstrideTypeError(f"Equivalence expects a concrete symstride Conv layer (destride takes symbolic ones), got {layer!r}")
        self._setup(layer, layout, channels="reads")
        self.in_channels = self.spec.in_channels * self.phases
        self.out_channels = self.spec.out_channels

    # -- structure ----------------------------------------------------------------------------
    @cached_property
    def taps(self) -> tuple:
        """Every original tap with its phase and offset (:func:`~symstride.indexing.tap_map`), built on first use."""
        return tuple(tap_map(self.spec))

    @property
    def tap_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:attr:`taps` as ``(m, r, j)`` arrays of shape ``(ndim, Π k)`` (no object per tap)."""
        return tap_arrays(self.spec)

    @cached_property
    def weight_index(self) -> np.ndarray:
        """Gather index: ``W'.flat = w.flat[weight_index]``, −1 at structural zeros."""
        return weight_gather_index(self.spec, self.layout)

    def phase_channel(self, phase: tuple[int, ...], o: int = 0, c: int = 0) -> int:
        """The equivalent (group-local) input channel holding phase ``r`` of input channel ``c``."""
        cin_g = self.spec.in_channels // self.groups
        return channel_index(c, phase_index(phase, self.spec.stride), cin_g, self.phases, self.layout)

    def phase_filter_index(self, phase: tuple[int, ...], o: int = 0, c: int = 0) -> np.ndarray:
        """The gather index of the phase-``r`` filter that output ``o`` applies to input channel ``c``.

        Built from the one-channel bank (the tap structure does not depend on channels) and
        offset to ``w[o, c]``, so it costs ``O(P·Π k')`` whatever the channel counts.
        """
        one = weight_gather_index(self.spec.replace(in_channels=1, out_channels=1, groups=1), self.layout)
        local = one[0, phase_index(phase, self.spec.stride)]
        base = (o * (self.spec.in_channels // self.groups) + c) * self.spec.taps
        return np.where(local >= 0, local + base, -1)

    # -- checks ---------------------------------------------------------------------------------
    def verify(self, size: Any = None) -> VerifyReport:
        """Decide Theorem 2 exactly on an input of spatial ``size`` (default: :func:`default_size`)."""
        size = default_size(self.spec) if size is None else size
        return verify_taps(self.spec, self.taps, size, kernel=self.kernel, layout=self.layout)

    def verify_subsampling(self, size: Any = None) -> VerifyReport:
        """Decide Theorem 1 (stride = subsampling after the unit-stride layer) exactly."""
        size = default_size(self.spec) if size is None else size
        return verify_subsampling(self.spec, size)

    @cached_property
    def derivation(self) -> "Derivation":
        """The derivation of this equivalence: Theorem 2 step by step with the layer's numbers.

        ``eq.derivation.check()`` checks every step; ``eq.derivation.latex()`` renders it.
        """
        from ..proof.polyphase import polyphase_derivation

        return polyphase_derivation(self, blocks=[FilterBank(self)], twin=channel_twin(self))

    # -- export and display -----------------------------------------------------------------------
    def to_json(self, *, taps: bool = True) -> dict[str, Any]:
        """The equivalence as the JSON document of ``symstride derive --format json``
        (``taps=False``: with an empty tap list, for writers that stream the taps themselves)."""
        return {
            "kernel": list(self.spec.kernel),
            "stride": list(self.spec.stride),
            "dilation": list(self.spec.dilation),
            "padding": [list(p) for p in self.spec.padding],
            "in_channels": self.spec.in_channels,
            "out_channels": self.spec.out_channels,
            "groups": self.groups,
            "layout": self.layout,
            "channel_order": LAYOUTS[self.layout],
            "phases": self.phases,
            "equivalent_kernel": list(self.kernel),
            "equivalent_in_channels": self.in_channels,
            "taps": [{"tap": list(t.tap), "phase": list(t.phase), "offset": list(t.offset)} for t in self.taps] if taps else [],
            "structural_zeros": self.structural_zeros,
            "formula": {"latex": self.formula_latex(), "text": self.formula_text()},
        }

    def __repr__(self) -> str:  # one line, evaluable with symstride's names imported
        return f"destride({self.layer!r}, layout={self.layout!r})"

    def __str__(self) -> str:
        from .report import equivalence_text

        return equivalence_text(self)

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template

        return render_template("equivalence_inline.tex", eq=self).strip()

    def _latex(self, printer: Any) -> str:
        """``sympy.latex(eq)``: the equivalence as one formula (not the text report)."""
        return self._repr_latex_().removeprefix("$\\displaystyle").removesuffix("$").strip()
