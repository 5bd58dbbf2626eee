"""The signals of one convolution layer as indexed SymPy objects, shared by the derivations.

:class:`LayerSignals` holds a layer's per-axis parameters — numbers for a concrete layer,
positive-integer symbols for a proof — with the index symbols, the channel bookkeeping and
the definitions of the signals the derivations of Theorems 1 and 2 talk about: the input
``x``, the weights ``w``, the zero-padded input ``x̃`` and the unit-stride convolution ``u``.
It also writes the first line every such derivation starts from (the strided convolution) and
its float64 oracle (the NumPy reference convolution).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import sympy as sp

from .step import Step
from ..algebra.lines import add, ceil_div, floor_div, mul
from ..render.printing import Iverson, Notation
from .named_quantities import layer_abbreviations
from .rules import SideCondition
from ..algebra.expansion import Definition
from ..algebra.random_evaluation import random_values

if TYPE_CHECKING:  # pragma: no cover
    from .derivation import Derivation
    from .step import Grid
    from ..core.params import ConvSpec

__all__ = ["LayerSignals", "Axis", "nested_sum", "names", "vec", "join", "sub", "flatten_phase", "join_channel", "split_channel", "instance_arrays", "PhaseChannels"]

_INT = {"integer": True, "nonnegative": True}


def nested_sum(body: Any, limits: Sequence[tuple]) -> Any:
    """``Σ_{limits[0]} Σ_{limits[1]} … body``, outermost first; a limit may carry a condition.

    Each limit is ``(var, lo, hi)`` or ``(var, lo, hi, condition)``; a condition becomes an
    Iverson bracket ``[condition]·…`` on the summand, printed under the sum sign.
    """
    for limit in reversed(limits):
        var, lo, hi = limit[:3]
        if len(limit) > 3 and limit[3] is not None and limit[3] != sp.true:
            body = sp.Mul(Iverson(limit[3]), body, evaluate=False)
        body = sp.Sum(body, (var, lo, hi))
    return body


def names(base: str, ndim: int) -> tuple[sp.Symbol, ...]:
    if ndim == 1:
        return (sp.Symbol(base, **_INT),)
    return tuple(sp.Symbol(f"{base}_{a + 1}", **_INT) for a in range(ndim))


@dataclass
class Axis:
    """One spatial axis: parameters (ints or symbols), its input size symbol and index symbols."""

    s: Any
    k: Any
    d: Any
    pl: Any
    pr: Any
    N: sp.Symbol
    n: sp.Symbol
    m: sp.Symbol
    r: sp.Symbol
    j: sp.Symbol
    q: sp.Symbol
    t: sp.Symbol
    a: sp.Symbol

    @property
    def split(self) -> bool:
        """Whether this axis has phases (stride ≠ 1 or symbolic)."""
        return not (isinstance(self.s, int) and self.s == 1)

    @property
    def rv(self) -> Any:
        """The phase of this axis in the lines: the symbol r, or 0 when the stride is 1."""
        return self.r if self.split else sp.S.Zero

    @property
    def padded(self) -> Any:
        """``N + p_l + p_r`` as written (``N + 2 p`` for symmetric symbolic padding)."""
        if self.pl == self.pr and not isinstance(self.pl, int):
            return add(self.N, mul(2, self.pl))
        return add(self.N, self.pl, self.pr)

    @property
    def span(self) -> Any:
        """``δ(k − 1)``, the reach of the dilated kernel."""
        return mul(self.d, add(self.k, -1))

    @property
    def unit_length(self) -> Any:
        """Length of the unit-stride output, ``N + p_l + p_r − δ(k − 1)``."""
        return add(self.padded, mul(-1, self.span))

    @property
    def out_length(self) -> Any:
        """Length of the strided output, ``⌊(N + p_l + p_r − δ(k − 1) − 1)/s⌋ + 1``."""
        return add(floor_div(add(self.unit_length, -1), self.s), 1)

    @property
    def kq(self) -> Any:
        """The equivalent kernel size ``k' = ⌊δ(k − 1)/s⌋ + 1``."""
        return add(floor_div(self.span, self.s), 1)

    @property
    def has_padding(self) -> bool:
        return not (self.pl == 0 and self.pr == 0)


class PhaseChannels:
    """φ, the phase channel of a (channel, phase) pair and its inverse, for a class with ``axes``,
    ``layout``, ``channels`` (whether signals carry a channel index) and ``phase_count`` (the
    channels that are split into phases)."""

    def phi(self, r: Sequence[Any]) -> Any:
        """Row-major flattening φ(r) = ((r_1 s_2 + r_2) s_3 + r_3)…, written out."""
        return flatten_phase([ax.s for ax in self.axes], r)

    def phase_channel(self, c: Any, r: Sequence[Any]) -> Any:
        """c·P + φ(r) (PyTorch) or φ(r)·C + c (TensorFlow)."""
        return join_channel(c, r, [ax.s for ax in self.axes], self.phase_count, self.layout, self.channels)

    def decode(self, flat: Any) -> tuple[Any, list[Any]]:
        """Inverse of :meth:`phase_channel`: (c, r) from a channel index expression."""
        return split_channel(flat, [ax.s for ax in self.axes], self.phase_count, self.layout, self.channels)


class LayerSignals(PhaseChannels):
    """A layer's axes, channel structure, signals and notation (see the module docstring)."""

    def __init__(self, axes: list[Axis], cin: int, cout: int, groups: int, layout: str, channel_indexed: bool) -> None:
        self.axes = axes
        self.nd = len(axes)
        self.cin, self.cout, self.groups, self.layout = cin, cout, groups, layout
        self.cin_g = cin // groups
        self.phase_count = self.cin_g  # the input channels are split into phases
        self.channels = channel_indexed
        self.o = sp.Symbol("o", **_INT)
        self.c = sp.Symbol("c", **_INT)
        self.cp = sp.Symbol("c'", **_INT)
        self.P = prod(ax.s for ax in axes) if all(isinstance(ax.s, int) for ax in axes) else sp.Mul(*(ax.s for ax in axes))
        self.padded = any(ax.has_padding for ax in axes)
        self.x, self.w = sp.IndexedBase("x"), sp.IndexedBase("w")
        self.xt = sp.IndexedBase("xtilde") if self.padded else self.x
        self.u, self.xr = sp.IndexedBase("u"), sp.IndexedBase("xphase")
        self.W, self.z = sp.IndexedBase("W'"), sp.IndexedBase("z")
        self.y = sp.IndexedBase("y")

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def concrete(cls, spec: "ConvSpec", *, layout: str = "pytorch", channel_indexed: bool | None = None,
                 r: Sequence[sp.Symbol] | None = None, j: Sequence[sp.Symbol] | None = None) -> "LayerSignals":
        """The signals of a layer; the input sizes ``N`` stay symbols (the grid varies them).

        The spec's parameters may be ints or symbols (a
        :class:`~symstride.core.symbolic_params.SymbolicConvSpec`): each axis keeps what it is given.
        """
        nd = spec.ndim
        sym = {name: names(name, nd) for name in ("n", "m", "q", "t", "a", "N", "r", "j")}
        r = tuple(r) if r is not None else sym["r"]
        j = tuple(j) if j is not None else sym["j"]
        axes = [
            Axis(s, k, d, pl, pr, sym["N"][i], sym["n"][i], sym["m"][i], r[i], j[i], sym["q"][i], sym["t"][i], sym["a"][i])
            for i, (k, s, d, (pl, pr)) in enumerate(zip(spec.kernel, spec.stride, spec.dilation, spec.padding))
        ]
        if channel_indexed is None:
            channel_indexed = not (spec.out_channels == 1 and spec.in_channels // spec.groups == 1)
        out = cls(axes, spec.in_channels, spec.out_channels, spec.groups, layout, channel_indexed)
        out.spec = spec
        return out

    @classmethod
    def symbolic(cls, ndim: int = 1) -> "LayerSignals":
        """A one-channel layer with positive-integer symbols for stride, kernel, dilation and padding per axis."""
        pos = {"integer": True, "positive": True}
        sym = {name: names(name, ndim) for name in ("n", "m", "q", "t", "a", "r", "j")}
        par = {
            name: tuple(sp.Symbol(f"{label}_{a + 1}" if ndim > 1 else label, **(pos if name != "p" else _INT)) for a in range(ndim))
            for name, label in (("s", "s"), ("k", "k"), ("d", "delta"), ("p", "p"), ("N", "N"))
        }
        axes = [
            Axis(par["s"][i], par["k"][i], par["d"][i], par["p"][i], par["p"][i], par["N"][i], sym["n"][i], sym["m"][i],
                 sym["r"][i], sym["j"][i], sym["q"][i], sym["t"][i], sym["a"][i])
            for i in range(ndim)
        ]
        out = cls(axes, 1, 1, 1, "pytorch", False)
        out.spec = None
        return out

    @property
    def parameters(self) -> list[sp.Symbol]:
        """The symbolic layer parameters (s, k, δ, p_l, p_r per axis), in that order."""
        out = []
        for ax in self.axes:
            for v in (ax.s, ax.k, ax.d, ax.pl, ax.pr):
                if isinstance(v, sp.Symbol) and v not in out:
                    out.append(v)
        return out

    def output_domain(self) -> list[tuple]:
        """The output indices and their ranges: ``o`` (with channels) and ``n`` per axis."""
        return ([(self.o, 0, self.cout - 1)] if self.channels else []) + [(ax.n, 0, add(ax.out_length, -1)) for ax in self.axes]

    def fits(self) -> list[Any]:
        """Grid constraints: the dilated kernel fits the padded input on every axis."""
        return [sp.Ge(ax.padded, add(ax.span, 1), evaluate=False) for ax in self.axes]

    # -- the first lines every derivation starts from --------------------------------------------
    def strided_term(self) -> tuple[sp.Indexed, Any]:
        """``y[o, n]`` and the summand ``w[o, c, m] x̃[c_g, s n + δ m]`` of the strided convolution."""
        cv = self.c_value()
        lhs = self.Y(self.o, [ax.n for ax in self.axes], self.y)
        reads = [add(mul(ax.s, ax.n), mul(ax.d, ax.m)) for ax in self.axes]
        return lhs, mul(self.W_in(self.o, cv, [ax.m for ax in self.axes]), self.X(self.input_channel(self.o, cv), reads))

    def strided_sum(self) -> tuple[sp.Indexed, Any]:
        """``y[o, n]`` and the strided convolution ``Σ_c Σ_m w[o, c, m] x̃[c_g, s n + δ m]``."""
        lhs, term = self.strided_term()
        return lhs, nested_sum(term, self.channel_limits() + [(ax.m, 0, ax.k - 1) for ax in self.axes])

    def definition_step(self) -> Step:
        """Line 0: the definition of the strided convolution."""
        why = ["the strided convolution (cross-correlation) with stride ", vec([ax.s for ax in self.axes])]
        if self.padded:
            why += [" on ", sp.Symbol("xtilde"), ", the zero-padded input"]
        return Step(self.strided_sum()[1], "definition", tuple(why))

    def subsampling_step(self, rule: str = "stride-as-subsampling") -> Step:
        """Line 1: the strided output at ``n`` is the unit-stride output at ``s·n`` — citing Theorem 1,
        or (in Theorem 1's own proof, ``rule="unfold"``) folding the definition of ``u`` at ``t = s·n``."""
        from ..render.printing import OperatorName

        size_ok = tuple(
            SideCondition(
                sp.Eq(ax.out_length, ceil_div(ax.unit_length, ax.s), evaluate=False),
                "the strided output is as long as the subsampled unit-stride output" + (f" (axis {i + 1})" if self.nd > 1 else ""),
            )
            for i, ax in enumerate(self.axes)
        )
        y_, u_ = sp.symbols("y u")
        op = OperatorName("D", sub([ax.s for ax in self.axes]))
        line = self.Y(self.o, [mul(ax.s, ax.n) for ax in self.axes], self.u)
        if rule == "unfold":
            why = ("u, the unit-stride convolution, read at the multiples of the stride",)
        else:
            why = (sp.Eq(y_, sp.Mul(op, u_, evaluate=False), evaluate=False), " where u is the unit-stride convolution")
        return Step(line, rule, why, size_ok)

    # -- derivations about this layer -------------------------------------------------------------
    def concrete_grid(self, sizes: Sequence[Sequence[int]] | None = None) -> "Grid":
        """Input sizes per axis (default: from the smallest the kernel fits to a few strides beyond)."""
        from .step import Grid

        if sizes is None:
            sizes = []
            for ax in self.axes:
                smallest = max(ax.d * (ax.k - 1) + 1 - ax.pl - ax.pr, 1)
                sizes.append(range(smallest, smallest + (2 * ax.s + 1 if self.nd == 1 else ax.s + 1)))
        return Grid({ax.N: list(v) for ax, v in zip(self.axes, sizes)}, tuple(self.output_domain()))

    def proof_grid(self, values: dict[str, Sequence[int]]) -> "Grid":
        """Every combination of ``values`` (keys ``s``, ``k``, ``d``, ``p``, ``N``) per axis where the kernel fits."""
        from .step import Grid

        grid = {}
        for ax in self.axes:
            for key, sym in (("s", ax.s), ("k", ax.k), ("d", ax.d), ("p", ax.pl), ("N", ax.N)):
                grid[sym] = list(values[key])
        return Grid(grid, tuple(self.output_domain()), tuple(self.fits()))

    def derivation(self, title: str, lhs: Any, steps: Sequence[Step], definitions: Sequence[Definition], grid: "Grid", **options: Any) -> "Derivation":
        """A derivation about this layer, checked in float64 against the NumPy reference convolution."""
        from .derivation import Derivation
        from .step import instance_oracle

        options.setdefault("notation", self.notation())
        options.setdefault("hypotheses", tuple(grid.constraints) + tuple(self.fits()) + tuple(
            c for v, lo, hi in grid.domain for c in (sp.Ge(v, lo), sp.Le(v, hi))))
        return Derivation(
            title, lhs, steps, definitions=definitions, grid=grid,
            oracle=instance_oracle(self.reference), oracle_name="the NumPy reference convolution", **options,
        )

    # -- the float64 oracle ----------------------------------------------------------------------
    def reference(self, params: dict[str, int], seed: int) -> np.ndarray:
        """The strided layer on pseudo-random data (NumPy reference), indexed by the output indices."""
        from ..reference.convolution import conv

        value, x, w = instance_arrays(params, self.axes, self.cin, (self.cout, self.cin_g), self.channels, seed)
        y = conv(
            x, w, stride=[value(ax.s) for ax in self.axes], dilation=[value(ax.d) for ax in self.axes],
            padding=[(value(ax.pl), value(ax.pr)) for ax in self.axes], groups=self.groups,
        )[0]
        return y if self.channels else y[0]

    # -- channel bookkeeping ------------------------------------------------------------------
    def input_channel(self, o: Any, c: Any) -> Any:
        """The global input channel read by output channel ``o`` through local channel ``c``."""
        if self.groups == 1:
            return c
        return add(mul(sp.floor(o / (self.cout // self.groups)), self.cin_g), c)

    # -- indexed helpers ----------------------------------------------------------------------
    def W_in(self, o: Any, c: Any, taps: Sequence[Any]) -> sp.Indexed:
        return self.w[(o, c, *taps)] if self.channels else self.w[tuple(taps)]

    def X(self, c: Any, pos: Sequence[Any], base: sp.IndexedBase | None = None) -> sp.Indexed:
        base = base if base is not None else self.xt
        return base[(c, *pos)] if self.channels else base[tuple(pos)]

    def Y(self, o: Any, n: Sequence[Any], base: sp.IndexedBase) -> sp.Indexed:
        return base[(o, *n)] if self.channels else base[tuple(n)]

    def phase_signal(self, r: Sequence[Any], c: Any, pos: Sequence[Any]) -> sp.Indexed:
        idx = (*r, c, *pos) if self.channels else (*r, *pos)
        return self.xr[idx]

    def channel_limits(self) -> list[tuple]:
        return [(self.c, 0, self.cin_g - 1)] if self.channels and self.cin_g > 1 else []

    def c_value(self) -> Any:
        return self.c if self.channels and self.cin_g > 1 else sp.S.Zero

    def notation(self) -> Notation:
        lead = {"x": 0, "xtilde": 0, "u": 0, "y": 0, "z": 0, "xphase": self.nd}
        names = {"xphase": r"\tilde{x}" if self.padded else "x", "xtilde": r"\tilde{x}"}
        text_names = {"xphase": "x̃" if self.padded else "x", "xtilde": "x̃"}
        return Notation(lead, names, text_names, layer_abbreviations(self.axes, transposed=False))

    def base_definitions(self) -> list[Definition]:
        """The input ``x`` and weights ``w`` (primitive), the padded input ``x̃`` and ``u = Conv_1(x̃; w)``."""
        ch = self
        axes = ch.axes
        o, c = ch.o, ch.c
        q = [ax.q for ax in axes]
        defs = []
        chan = [(c, 0, ch.cin - 1)] if ch.channels else []
        defs.append(Definition(ch.X(c, q, ch.x), None, tuple(chan + [(ax.q, 0, add(ax.N, -1)) for ax in axes]), note="the input"))
        wdom = [(o, 0, ch.cout - 1), (c, 0, ch.cin_g - 1)] if ch.channels else []
        m = [ax.m for ax in axes]
        defs.append(Definition(ch.W_in(o, c, m), None, tuple(wdom + [(ax.m, 0, ax.k - 1) for ax in axes]), note="the weights"))
        if ch.padded:
            inside = sp.And(
                *(c for ax in axes if ax.has_padding
                  for c in (sp.Le(ax.pl, ax.q, evaluate=False), sp.Le(ax.q, add(ax.N, ax.pl, -1), evaluate=False))),
                evaluate=False,
            )
            body = sp.Piecewise((ch.X(c, [add(ax.q, -ax.pl) for ax in axes], ch.x), inside), (0, True), evaluate=False)
            defs.append(Definition(ch.X(c, q), body, tuple(chan + [(ax.q, 0, add(ax.padded, -1)) for ax in axes]), note="the zero-padded input"))
        # the unit-stride convolution u = Conv_1(x̃; w)
        t = [ax.t for ax in axes]
        reads = [add(ax.t, mul(ax.d, ax.m)) for ax in axes]
        body = nested_sum(
            mul(ch.W_in(o, c, m), ch.X(ch.input_channel(o, c), reads)),
            ch.channel_limits() + [(ax.m, 0, ax.k - 1) for ax in axes],
        )
        if ch.channels and ch.cin_g == 1:
            body = body.xreplace({c: 0})
        odom = [(o, 0, ch.cout - 1)] if ch.channels else []
        defs.append(Definition(ch.Y(o, t, ch.u), body, tuple(odom + [(ax.t, 0, add(ax.unit_length, -1)) for ax in axes]), note="the unit-stride convolution"))
        return defs


def instance_arrays(params: dict[str, int], axes: Sequence[Any], cin: int, weight_lead: tuple[int, int], channels: bool,
                    seed: int) -> tuple[Any, np.ndarray, np.ndarray]:
    """For a float64 oracle: the parameter lookup, the input ``x`` (batch 1) and the weights ``w``
    of one grid instance, filled with the same pseudo-random values the exact tables use."""

    def value(v: Any) -> int:
        return params[str(v)] if isinstance(v, sp.Symbol) else int(v)

    grids = np.indices((cin, *(value(ax.N) for ax in axes)))
    x = random_values("x", list(grids) if channels else list(grids[1:]), seed)[None]
    wg = np.indices((*weight_lead, *(value(ax.k) for ax in axes)))
    return value, x, random_values("w", list(wg) if channels else list(wg[2:]), seed)


def _product(values: Sequence[Any]) -> Any:
    return prod(values) if all(isinstance(v, int) for v in values) else sp.Mul(*values)


def flatten_phase(strides: Sequence[Any], r: Sequence[Any]) -> Any:
    """Row-major flattening φ(r) = ((r_1 s_2 + r_2) s_3 + r_3)… of a phase vector, written out."""
    return add(*(mul(_product(strides[a + 1 :]), ra) for a, ra in enumerate(r)))


def join_channel(c: Any, r: Sequence[Any], strides: Sequence[Any], count: Any, layout: str, channels: bool = True) -> Any:
    """The phase channel of channel ``c`` (of ``count``) and phase ``r``: c·P + φ(r) (PyTorch) or φ(r)·C + c (TensorFlow)."""
    if not channels:
        return flatten_phase(strides, r)
    if layout == "pytorch":
        return add(mul(c, _product(strides)), flatten_phase(strides, r))
    return add(mul(flatten_phase(strides, r), count), c)


def split_channel(flat: Any, strides: Sequence[Any], count: Any, layout: str, channels: bool = True) -> tuple[Any, list[Any]]:
    """Inverse of :func:`join_channel`: ``(c, r)`` from a channel index expression."""
    P = _product(strides)
    if not channels:
        c, rest = sp.S.Zero, flat
    elif layout == "pytorch":
        c, rest = sp.floor(flat / P), sp.Mod(flat, P)
    else:
        c, rest = sp.Mod(flat, count), sp.floor(flat / count)
    return c, [sp.Mod(sp.floor(rest / sp.Mul(*strides[a + 1 :])), s) for a, s in enumerate(strides)]


def vec(values: Sequence[Any]) -> Any:
    values = list(values)
    if len(set(values)) == 1:
        return sp.sympify(values[0])
    return sp.Tuple(*values)


def join(items: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for i, item in enumerate(items):
        if i:
            out.append(", ")
        out.append(item)
    return out


def sub(values: Sequence[Any]) -> str:
    values = list(values)
    return str(values[0]) if len(set(values)) == 1 else "(" + ",".join(map(str, values)) + ")"


