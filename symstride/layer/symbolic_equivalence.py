"""Theorem 2 for a layer with symbolic parameters: the equivalence in the user's symbols.

``destride(Conv(kernel=k, stride=s))`` with SymPy integer symbols gives a
:class:`SymbolicEquivalence`: the equivalent kernel ``k' = ⌊δ(k−1)/s⌋ + 1`` per axis, the
number of phases ``P = Π s``, the entry formula of ``W'`` (the same code as for a concrete
layer, :class:`~symstride.layer.equivalence.StridedFormula`), the derivation of Theorem 2 in the
user's symbols, and :meth:`SymbolicEquivalence.subs`, which gives values and returns exactly
the concrete equivalence.  What needs numbers (the filter bank as an array when the kernel is
symbolic, the tap list, ``verify``, exports) asks for values.

>>> import sympy as sp
>>> from symstride import Conv, destride
>>> k, s = sp.symbols("k s", integer=True, positive=True)
>>> eq = destride(Conv(kernel=k, stride=s))
>>> eq.kernel, eq.phases, eq.in_channels
((floor((k - 1)/s) + 1,), s, s)
>>> eq.formula
Piecewise((w[j*s + r], j*s + r <= k - 1), (0, True))
>>> eq.subs({k: 7, s: 3}).kernel
(3,)
>>> eq.verify(size=9)
Traceback (most recent call last):
    ...
symstride.core.symbolic_params.ConcreteValuesNeeded: verify needs concrete parameters: the layer has symbols k, s; call .subs({k: ..., s: ...}) first
"""

from __future__ import annotations

from functools import cached_property
from math import prod
from typing import TYPE_CHECKING, Any, Mapping

import sympy as sp

from .equivalence import Equivalence, PhaseEquivalence, StridedFormula
from ..core.errors import SymstrideError, SymstrideTypeError
from ..core.indexing import LAYOUTS, Tap, check_layout
from ..algebra.operators import Conv
from ..core.params import ConvSpec
from ..core.symbolic_params import SymbolicConvSpec, needs_values

if TYPE_CHECKING:  # pragma: no cover
    from ..proof.derivation import Derivation

__all__ = ["SymbolicEquivalence", "symbolic_equivalence_text"]


def _product(values: Any) -> Any:
    values = tuple(values)
    return prod(values) if all(isinstance(v, int) for v in values) else sp.Mul(*values)


def _as_int(expr: Any) -> Any:
    """A SymPy number as an int (so that concrete axes stay ints), anything else unchanged."""
    return int(expr) if isinstance(expr, (int, sp.Integer)) else expr


class SymbolicEquivalence(StridedFormula, PhaseEquivalence):
    """A strided layer with symbolic parameters and its unit-stride equivalent over ``P = Π s`` phases.

    Attributes as :class:`~symstride.layer.equivalence.Equivalence` (``layer``, ``spec``, ``layout``,
    ``kernel``, ``phases``, ``in_channels``, ``out_channels``, ``groups``, ``formula``,
    ``structural_zeros``), with SymPy expressions in the layer's symbols where they depend on
    them; ``symbols`` lists the symbols and ``tap_rule`` gives the tap map as expressions.
    """

    tap_rule_latex = Equivalence.tap_rule_latex

    def __init__(self, layer: Conv, layout: str = "pytorch") -> None:
        if not isinstance(layer.spec, SymbolicConvSpec):
            raise SymstrideTypeError(f"SymbolicEquivalence expects a layer with symbolic parameters, got {layer!r}")
        self.layer = layer
        self.spec = spec = layer.spec
        self.layout = check_layout(layout)
        if layout == "tf" and spec.groups > 1:
            raise SymstrideError(
                f"layout='tf' orders channels phase-major (φ(r)·C + c), which splits each of the groups={spec.groups} "
                "channel groups across phases, so no grouped unit-stride convolution reads them; use layout='pytorch'"
            )
        self.kernel = tuple(_as_int(sp.floor(d * (k - 1) / s) + 1) for k, s, d in zip(spec.kernel, spec.stride, spec.dilation))
        self.phases = _product(spec.stride)
        self.groups = spec.groups
        self.in_channels = spec.in_channels * self.phases
        self.out_channels = spec.out_channels

    # -- the symbols ----------------------------------------------------------------------------
    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The layer's symbols, in order of first appearance."""
        return self.spec.symbols

    @property
    def structural_zeros(self) -> Any:
        """Zeros of ``W'`` per channel pair: ``Π s·k' − Π k`` (the tap map is injective)."""
        return _as_int(_product(s * kq for s, kq in zip(self.spec.stride, self.kernel)) - _product(self.spec.kernel))

    @property
    def weight_shape(self) -> tuple:
        """Shape of ``W'``: ``(out_channels, in_channels/groups, *k')``."""
        return (self.out_channels, _as_int(sp.sympify(self.in_channels) / self.groups), *self.kernel)

    @cached_property
    def tap_rule(self) -> Tap:
        """Where tap ``m`` lands, per axis: phase ``r = δm mod s`` and offset ``j = ⌊δm/s⌋`` (``δm = s·j + r``)."""
        m = tuple(sp.Symbol("m" if self.spec.ndim == 1 else f"m_{a + 1}", integer=True, nonnegative=True) for a in range(self.spec.ndim))
        return Tap(m, tuple(sp.Mod(d * ma, s) for ma, s, d in zip(m, self.spec.stride, self.spec.dilation)),
                   tuple(sp.floor(d * ma / s) for ma, s, d in zip(m, self.spec.stride, self.spec.dilation)))

    def subs(self, mapping: Mapping[Any, Any]) -> PhaseEquivalence:
        """The equivalence with values for some or all symbols: exactly ``destride`` of the substituted layer."""
        layer = self.layer.subs(mapping)
        return Equivalence(layer, self.layout) if isinstance(layer.spec, ConvSpec) else SymbolicEquivalence(layer, self.layout)

    # -- what needs numbers (the filter bank does not depend on the padding) --------------------
    def _bank(self, what: str) -> Equivalence:
        """The concrete equivalence with padding 0, when kernel, stride and dilation are numbers."""
        spec = self.spec
        if any(spec.axis_symbolic(a) for a in range(spec.ndim)):
            raise needs_values(what, tuple(v for v in spec.symbols if set(spec.parameters_of(v)) - {"padding"}))
        return Equivalence(Conv(_unpadded(spec), name=self.layer.name), self.layout)

    @property
    def filters(self) -> sp.ImmutableDenseNDimArray:
        """``W'`` as a SymPy array (when only the padding is symbolic: ``W'`` does not depend on it)."""
        return self._bank("the filter bank as an array").filters

    @property
    def taps(self) -> tuple[Tap, ...]:
        """The tap list (when kernel, stride and dilation are numbers); :attr:`tap_rule` is the symbolic map."""
        return self._bank("the tap list").taps

    @property
    def weight_index(self) -> Any:
        return self._bank("the gather index of W'").weight_index

    @property
    def live_phases(self) -> list:
        return self._bank("the list of live phases").live_phases

    @property
    def phase_vectors(self) -> list:
        return self._bank("the list of phases").phase_vectors

    def verify(self, size: Any = None) -> Any:
        """Asks for values: an exact check needs numbers (``.subs({...}).verify(size=...)``)."""
        raise needs_values("verify", self.symbols)

    def verify_subsampling(self, size: Any = None) -> Any:
        raise needs_values("verify_subsampling", self.symbols)

    # -- the derivation ---------------------------------------------------------------------------
    @cached_property
    def derivation(self) -> "Derivation":
        """Theorem 2 derived in the layer's symbols (the symbolic proof's chain), checked on a grid of values."""
        from ..proof.polyphase import symbolic_layer_derivation

        return symbolic_layer_derivation(self)

    # -- export and display -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """As :meth:`Equivalence.to_json`; symbolic entries are strings of SymPy expressions, ``"symbols"`` lists them."""
        js = lambda v: v if isinstance(v, int) else str(v)  # noqa: E731
        spec = self.spec
        return {
            "symbols": spec.symbols_json(),
            "kernel": [js(v) for v in spec.kernel],
            "stride": [js(v) for v in spec.stride],
            "dilation": [js(v) for v in spec.dilation],
            "padding": [[js(l), js(r)] for l, r in spec.padding],
            "in_channels": spec.in_channels,
            "out_channels": spec.out_channels,
            "groups": self.groups,
            "layout": self.layout,
            "channel_order": LAYOUTS[self.layout],
            "phases": js(self.phases),
            "equivalent_kernel": [js(v) for v in self.kernel],
            "equivalent_in_channels": js(self.in_channels),
            "tap_rule": {"tap": [str(m) for m in self.tap_rule.tap], "phase": [str(v) for v in self.tap_rule.phase],
                         "offset": [str(v) for v in self.tap_rule.offset]},
            "structural_zeros": js(self.structural_zeros),
            "formula": {"latex": self.formula_latex(), "text": self.formula_text(), "sympy": str(self.formula)},
        }

    def __repr__(self) -> str:
        return symbolic_equivalence_text(self)

    def latex(self) -> str:
        """The derivation of Theorem 2 in the layer's symbols, as a LaTeX fragment."""
        return self.derivation.latex()

    def document(self) -> str:
        """A standalone LaTeX document holding :meth:`latex`."""
        return self.derivation.document()

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template

        return render_template("equivalence_inline.tex", eq=self).strip()


def symbolic_equivalence_text(eq: SymbolicEquivalence) -> str:
    """The readable statement of a :class:`~symstride.layer.symbolic_equivalence.SymbolicEquivalence` (symbols by name)."""
    spec = eq.spec
    rule = eq.tap_rule
    symbols = ", ".join(f"{s} ({' and '.join(spec.parameters_of(s))})" for s in spec.symbols)
    lines = [
        f"Theorem 2: a strided convolution is a unit-stride convolution over P = {eq.phases} phases",
        f"  layer       {spec.describe()}",
        f"  symbols     {symbols}: integers; kernel, stride, dilation positive, padding nonnegative",
        f"  strided     y = Conv_s(pad(x); w)        w  {tuple(spec.weight_shape)}",
        f"  equivalent  y = Conv_1(S2D_s(prep(x)); W')  W' {tuple(eq.weight_shape)}",
        f"  phases      P = Π s = {eq.phases}, input channels {spec.in_channels} → {eq.in_channels}",
        f"  kernel      k' = floor(δ(k−1)/s) + 1 = {eq.kernel[0] if len(set(eq.kernel)) == 1 else ', '.join(map(str, eq.kernel))}"
        + (" per axis" if len(set(eq.kernel)) > 1 else ""),
        f"  zeros       {eq.structural_zeros} structural zeros per channel pair (Π s·k' − Π k)",
        f"  layout      {eq.layout}: {LAYOUTS[eq.layout]}",
        "  prep(x)     pad by p, trim or zero-extend each axis to L = s·(N_out + k' − 1), then space-to-depth by s",
        "",
        "tap map  w[o, c, m] → W'[o, chan(c, φ(r)), j]   with δ·m = s·j + r:",
        f"  m={_vec(rule.tap)} → r={_vec(rule.phase)}  j={_vec(rule.offset)}",
        "",
        f"formula  {eq.formula_text()}",
        "",
        "(give values with .subs({...}) for the filter bank, the tap list, verify and exports)",
    ]
    return "\n".join(lines)


def _vec(values: Any) -> str:
    values = tuple(values)
    return str(values[0]) if len(values) == 1 else "(" + ",".join(map(str, values)) + ")"


def _unpadded(spec: SymbolicConvSpec) -> Any:
    """The concrete spec with padding 0 (for the filter bank, which the padding does not change)."""
    return SymbolicConvSpec(spec.kernel, spec.stride, spec.dilation, ((0, 0),) * spec.ndim,
                            spec.in_channels, spec.out_channels, spec.groups).subs({})
