"""The signals of a transposed layer, per axis and across channels, for the sub-pixel derivation.

A :class:`TAxis` holds one spatial axis's parameters (numbers or symbols) with the derived
lengths of the sub-pixel form — ``N_out``, ``k'``, the crop and the blocks; a
:class:`TransposedSignals` adds the channel structure, the signals ``x``, ``x̂``, ``x̃``, ``W'``,
``v``, ``u`` with their :class:`~symstride.algebra.expansion.Definition`\\ s, the notation and the NumPy
reference.  :mod:`symstride.proof.subpixel` writes the chain of steps over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Sequence

import numpy as np
import sympy as sp

from .derivation import Derivation
from .step import Grid, Step, instance_oracle
from ..algebra.lines import add, ceil_div, floor_div, mul
from ..render.printing import Notation
from .named_quantities import layer_abbreviations
from .signals import PhaseChannels, instance_arrays, names, nested_sum
from ..algebra.expansion import INDEX, Definition

__all__ = ["TAxis", "TransposedSignals", "is_one"]

_INT = {"integer": True, "nonnegative": True}


def is_one(v: Any) -> bool:
    return isinstance(v, int) and v == 1


@dataclass
class TAxis:
    """One spatial axis of a transposed layer: parameters (ints or symbols) and index symbols."""

    s: Any
    k: Any
    d: Any
    pl: Any
    pr: Any
    op: Any
    N: sp.Symbol
    t: sp.Symbol
    n: sp.Symbol
    m: sp.Symbol
    r: sp.Symbol
    a: sp.Symbol
    q: sp.Symbol
    j: sp.Symbol
    e: sp.Symbol
    i: sp.Symbol

    @property
    def split(self) -> bool:
        """Whether the output of this axis has phases (stride ≠ 1 or symbolic)."""
        return not is_one(self.s)

    @property
    def rv(self) -> Any:
        return self.r if self.split else sp.S.Zero

    @property
    def span(self) -> Any:
        return mul(self.d, add(self.k, -1))

    @property
    def out_length(self) -> Any:
        """``N_out = (N − 1) s − p_l − p_r + δ(k − 1) + o_p + 1``."""
        pads = mul(-2, self.pl) if self.pl == self.pr and not isinstance(self.pl, int) else add(mul(-1, self.pl), mul(-1, self.pr))
        return add(mul(add(self.N, -1), self.s), pads, self.span, self.op, 1)

    @property
    def kq(self) -> Any:
        """``k' = ⌊δ(k − 1)/s⌋ + 1``."""
        return add(floor_div(self.span, self.s), 1)

    @property
    def skipped(self) -> Any:
        """``⌊p_l/s⌋``: the blocks the crop discards."""
        return floor_div(self.pl, self.s)

    @property
    def crop(self) -> Any:
        """``p_l mod s``: where the output starts after depth-to-space."""
        if isinstance(self.pl, int) and isinstance(self.s, int):
            return sp.Integer(self.pl % self.s)
        return sp.Mod(self.pl, self.s, evaluate=False)

    @property
    def last_block(self) -> Any:
        """``⌈(p_l + N_out)/s⌉ − 1``: the last block a kept output sample lies in."""
        return add(ceil_div(add(self.pl, self.out_length), self.s), -1)

    @property
    def blocks(self) -> Any:
        """``E``, the number of blocks the unit-stride convolution computes."""
        return add(self.last_block, 1, mul(-1, self.skipped))

    @property
    def left_pad(self) -> Any:
        """``k' − 1 − ⌊p_l/s⌋`` zeros in front of the input (negative: samples trimmed)."""
        return add(self.kq, -1, mul(-1, self.skipped))


class TransposedSignals(PhaseChannels):
    """A transposed layer's axes, channel structure, signals and notation."""

    def __init__(self, axes: list[TAxis], cin: int, cout: int, groups: int, layout: str, channel_indexed: bool) -> None:
        self.axes, self.nd = axes, len(axes)
        self.cin, self.cout, self.groups, self.layout = cin, cout, groups, layout
        self.cin_g, self.cout_g = cin // groups, cout // groups
        self.phase_count = cout  # the output channels are split into phases
        self.channels = channel_indexed
        self.o, self.c, self.oq = (sp.Symbol(v, **_INT) for v in ("o", "c", "o'"))
        self.P = prod(ax.s for ax in axes) if all(isinstance(ax.s, int) for ax in axes) else sp.Mul(*(ax.s for ax in axes))
        self.x, self.w, self.y = sp.IndexedBase("x"), sp.IndexedBase("w"), sp.IndexedBase("y")
        self.xh, self.xt = sp.IndexedBase("xhat"), sp.IndexedBase("xtilde")
        self.W, self.v, self.u = sp.IndexedBase("W'"), sp.IndexedBase("v"), sp.IndexedBase("u")
        self.spec = None

    @classmethod
    def concrete(cls, spec: Any, *, layout: str, channel_indexed: bool, r: Sequence[sp.Symbol], j: Sequence[sp.Symbol]) -> "TransposedSignals":
        nd = spec.ndim
        sym = {key: names(key, nd) for key in ("N", "t", "n", "m", "a", "q", "e", "i")}
        axes = [
            TAxis(s, k, d, pl, pr, op, *(sym[key][x] for key in ("N", "t", "n", "m")), r[x], sym["a"][x], sym["q"][x], j[x], sym["e"][x], sym["i"][x])
            for x, (k, s, d, (pl, pr), op) in enumerate(zip(spec.kernel, spec.stride, spec.dilation, spec.padding, spec.output_padding))
        ]
        out = cls(axes, spec.in_channels, spec.out_channels, spec.groups, layout, channel_indexed)
        out.spec = spec
        return out

    @classmethod
    def symbolic(cls, ndim: int = 1) -> "TransposedSignals":
        """A one-channel layer with symbols for stride, kernel, dilation, padding and output padding per axis."""
        pos = {"integer": True, "positive": True}
        sym = {key: names(key, ndim) for key in ("t", "n", "m", "r", "a", "q", "j", "e", "i")}
        par = {
            key: tuple(sp.Symbol(f"{label}_{x + 1}" if ndim > 1 else label, **(pos if key in ("s", "k", "d", "N") else _INT)) for x in range(ndim))
            for key, label in (("s", "s"), ("k", "k"), ("d", "delta"), ("p", "p"), ("op", "o_p"), ("N", "N"))
        }
        axes = [
            TAxis(par["s"][x], par["k"][x], par["d"][x], par["p"][x], par["p"][x], par["op"][x], par["N"][x],
                  *(sym[key][x] for key in ("t", "n", "m", "r", "a", "q", "j", "e", "i")))
            for x in range(ndim)
        ]
        return cls(axes, 1, 1, 1, "pytorch", False)

    # -- channel bookkeeping (φ, phase_channel and decode from PhaseChannels) --------------------
    def out_channel(self, o: Any, r: Sequence[Any]) -> Any:
        """The equivalent output channel of output channel ``o`` and phase ``r`` (the layout's order)."""
        return self.phase_channel(o, r)

    def group_in(self, o: Any, c: Any) -> Any:
        """The global input channel of local channel ``c`` in the group of output channel ``o``."""
        return c if self.groups == 1 else add(mul(sp.floor(o / self.cout_g), self.cin_g), c)

    def local_out(self, o: Any) -> Any:
        """Output channel ``o`` within its group (the weight's second index)."""
        return o if self.groups == 1 else add(o, mul(-1, self.cout_g, sp.floor(o / self.cout_g)))

    def c_value(self) -> Any:
        return self.c if self.channels and self.cin_g > 1 else sp.S.Zero

    def channel_limits(self) -> list[tuple]:
        return [(self.c, 0, self.cin_g - 1)] if self.channels and self.cin_g > 1 else []

    # -- indexed helpers ------------------------------------------------------------------------
    def weight(self, c: Any, o: Any, taps: Sequence[Any]) -> sp.Indexed:
        return self.w[(c, o, *taps)] if self.channels else self.w[tuple(taps)]

    def signal(self, base: sp.IndexedBase, c: Any, pos: Sequence[Any]) -> sp.Indexed:
        return base[(c, *pos)] if self.channels else base[tuple(pos)]

    def lhs(self) -> sp.Indexed:
        return self.signal(self.y, self.o, [ax.t for ax in self.axes])

    # -- grids, oracle, notation ---------------------------------------------------------------
    def output_domain(self) -> list[tuple]:
        return ([(self.o, 0, self.cout - 1)] if self.channels else []) + [(ax.t, 0, add(ax.out_length, -1)) for ax in self.axes]

    def has_output(self) -> list[Any]:
        """Grid constraints: every axis has at least one output sample."""
        return [sp.Ge(ax.out_length, 1, evaluate=False) for ax in self.axes]

    def notation(self) -> Notation:
        lead = {name: 0 for name in ("x", "xhat", "xtilde", "y", "v", "u")}
        return Notation(lead, {"xhat": r"\hat{x}", "xtilde": r"\tilde{x}"}, {"xhat": "x̂", "xtilde": "x̃"},
                        layer_abbreviations(self.axes, transposed=True))

    def reference(self, params: dict[str, int], seed: int) -> np.ndarray:
        """The transposed layer on pseudo-random data (NumPy reference), indexed by the output indices."""
        from ..reference.convolution import conv_transpose

        value, x, w = instance_arrays(params, self.axes, self.cin, (self.cin, self.cout_g), self.channels, seed)
        y = conv_transpose(
            x, w, stride=[value(ax.s) for ax in self.axes], dilation=[value(ax.d) for ax in self.axes],
            padding=[(value(ax.pl), value(ax.pr)) for ax in self.axes], output_padding=[value(ax.op) for ax in self.axes],
            groups=self.groups,
        )[0]
        return y if self.channels else y[0]

    def derivation(self, title: str, steps: Sequence[Step], definitions: Sequence[Definition], grid: Grid, **options: Any) -> Derivation:
        options.setdefault("notation", self.notation())
        return Derivation(
            title, self.lhs(), steps, definitions=definitions, grid=grid,
            oracle=instance_oracle(self.reference), oracle_name="the NumPy reference transposed convolution", **options,
        )

    # -- definitions ---------------------------------------------------------------------------
    def definitions(self, W_lhs: sp.Indexed, W_rhs: Any) -> list[Definition]:
        """``x``, ``w`` (primitive), ``x̂``, ``x̃``, the filter bank ``W'``, ``v = Conv_1(x̃; W')`` and ``u = D2S_s(v)``."""
        axes, o, c = self.axes, self.o, self.c
        chan = [(c, 0, self.cin - 1)] if self.channels else []
        n = [ax.n for ax in axes]
        defs = [Definition(self.signal(self.x, c, n), None, tuple(chan + [(ax.n, 0, add(ax.N, -1)) for ax in axes]), note="the input")]
        m = [ax.m for ax in axes]
        wdom = [(c, 0, self.cin - 1), (o, 0, self.cout_g - 1)] if self.channels else []
        defs.append(Definition(self.weight(c, o, m), None, tuple(wdom + [(ax.m, 0, add(ax.k, -1)) for ax in axes]), note="the weights"))
        inside = sp.And(*(cond for ax in axes for cond in (sp.Le(0, ax.n, evaluate=False), sp.Le(ax.n, add(ax.N, -1), evaluate=False))), evaluate=False)
        xh_dom = chan + [(ax.n, mul(-1, ax.span), ax.last_block) for ax in axes]
        defs.append(Definition(self.signal(self.xh, c, n), sp.Piecewise((self.signal(self.x, c, n), inside), (0, True), evaluate=False),
                               tuple(xh_dom), note="the input extended by zeros"))
        i = [ax.i for ax in axes]
        xt_dom = chan + [(ax.i, 0, add(ax.blocks, ax.kq, -2)) for ax in axes]
        defs.append(Definition(self.signal(self.xt, c, i), self.signal(self.xh, c, [add(ax.i, mul(-1, ax.left_pad)) for ax in axes]),
                               tuple(xt_dom), note="the input with k' − 1 − ⌊p/s⌋ zeros in front (a negative count trims)"))
        # the equivalent filter bank W'[chan(o, φ(r)), c, j]
        lead = 2 if self.channels else 1
        oo, rr = self.decode(INDEX[0])
        inverse = {ax.r: rv for ax, rv in zip(axes, rr)}
        inverse.update({ax.j: INDEX[lead + x] for x, ax in enumerate(axes)})
        wd = []
        if self.channels:
            inverse.update({o: oo, c: INDEX[1]})
            wd = [(o, 0, self.cout - 1), (c, 0, self.cin_g - 1)]
        wd += [(ax.r, 0, add(ax.s, -1)) for ax in axes] + [(ax.j, 0, add(ax.kq, -1)) for ax in axes]
        defs.append(Definition(W_lhs, W_rhs, tuple(wd), inverse=inverse, note="the equivalent filter bank"))
        # v = Conv_1(x̃; W'), C_out·P output channels
        oq, e, j = self.oq, [ax.e for ax in axes], [ax.j for ax in axes]
        cv = self.c_value()
        group_of = sp.floor(oq / (self.cout_g * self.P)) if self.groups > 1 else None
        cin = cv if group_of is None else add(mul(group_of, self.cin_g), cv)
        W_idx = (oq, cv, *j) if self.channels else (oq, *j)
        body = nested_sum(mul(self.W[W_idx], self.signal(self.xt, cin, [add(ex, jx) for ex, jx in zip(e, j)])),
                          self.channel_limits() + [(ax.j, 0, add(ax.kq, -1)) for ax in axes])
        vdom = [(oq, 0, add(mul(self.cout, self.P), -1))] + [(ax.e, 0, add(ax.blocks, -1)) for ax in axes]
        defs.append(Definition(self.v[(oq, *e)], body, tuple(vdom), note="the unit-stride convolution with C_out·P channels"))
        # u = D2S_s(v)
        src = self.out_channel(o, [sp.Mod(ax.i, ax.s) for ax in axes])
        udom = ([(o, 0, self.cout - 1)] if self.channels else []) + [(ax.i, 0, add(mul(ax.s, ax.blocks), -1)) for ax in axes]
        defs.append(Definition(self.signal(self.u, o, i), self.v[(src, *[sp.floor(ax.i / ax.s) for ax in axes])], tuple(udom),
                               note="depth-to-space of v"))
        return defs
