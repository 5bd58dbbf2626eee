"""The sub-pixel theorem as a derivation: a transposed convolution is a unit-stride one plus depth-to-space.

One builder writes the chain for a concrete transposed layer (numbers substituted: what
``destride(ConvTranspose(...)).derivation`` returns) and for symbolic stride ``s``, kernel
``k``, dilation ``δ``, padding ``p`` and output padding ``o_p`` (``symstride.prove("transposed")``);
the lines are the same, only the parameters differ.  Per spatial axis, with channels and groups
carried along::

    y[t] = Σ_m Σ_n [s n + δ m = t + p] w[m] x[n]                      definition (scatter)
         = Σ_m [s | t + p − δ m] w[m] x̂[(t + p − δ m)/s]              gather (solve for n)
         = Σ_r Σ_a [s a + r = t + p] Σ_m [s | t + p − δ m] …          split the outputs by phase
         = Σ_r Σ_a […] Σ_{m: δm ≡ r (mod s)} w[m] x̂[a − (δ m − r)/s]  the taps of phase r
         = Σ_r Σ_a […] Σ_q [δ | s q + r] w[(s q + r)/δ] x̂[a − q]      reindex δm = s q + r
         = Σ_r Σ_a […] Σ_j … x̂[a − (k' − 1) + j]                       flip j = k' − 1 − q
         = Σ_r Σ_a […] Σ_{j=0}^{k'−1} W'[φ(r), j] x̂[a − (k' − 1) + j]  structural zeros
         = Σ_r Σ_a […] v[φ(r), a − ⌊p/s⌋]                              one unit-stride convolution
         = Σ_r Σ_a […] u[s (a − ⌊p/s⌋) + r]                            depth-to-space
         = u[t + (p mod s)]                                            crop

where ``x̂`` is the input extended by zeros, ``x̃`` the input with ``k' − 1 − ⌊p/s⌋`` zeros in
front, ``v = Conv_1(x̃; W')`` with ``C_out·P`` channels and ``u = D2S_s(v)``.  The bounds of the
reindexed sum come from :func:`symstride.rules.reindex_bounds`, never typed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import sympy as sp

from .derivation import Derivation, Grid, Step, instance_oracle
from .lines import add, ceil_div, floor_div, mul
from .printing import Display, Notation, Operator
from .rules import Bijection, IndexSet, Partition, SideCondition, reindex_bounds
from .signals import PhaseChannels, instance_arrays, join, names, nested_sum, vec
from .terms import INDEX, Definition

if TYPE_CHECKING:  # pragma: no cover
    from .transposed import TransposedEquivalence

__all__ = ["TransposedSignals", "subpixel_steps", "subpixel_derivation", "subpixel_proof", "PROOF_GRID"]

_INT = {"integer": True, "nonnegative": True}


def _divides(divisor: Any, value: Any) -> Any:
    """``divisor | value`` written ``value mod divisor = 0``."""
    return sp.Eq(sp.Mod(value, divisor, evaluate=False), 0, evaluate=False)


def _minus(a: Any, quotient: Any) -> Any:
    """``a − quotient`` printed as written (``a − (δm − r)/s``, not ``a − 1·(δm − r)/s``)."""
    return sp.Add(a, sp.Mul(-1, quotient, evaluate=False), evaluate=False)


#: Words of the prose that are mathematics: printed through the notation, not escaped.
_MATH_WORDS = {
    "x̂": sp.Symbol("xhat"), "x̃": sp.Symbol("xtilde"), "Conv_1": Operator("Conv", 1), "D2S_s": Operator("D2S", "s"),
    "C_out": sp.Symbol("C_out"),
}
_MATH_SPLIT = re.compile("(" + "|".join(map(re.escape, _MATH_WORDS)) + ")")


def _pieces(*parts: Any) -> tuple:
    """Prose pieces with the words of :data:`_MATH_WORDS` turned into SymPy objects."""
    out: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            out += [_MATH_WORDS.get(bit, bit) for bit in _MATH_SPLIT.split(part) if bit]
        else:
            out.append(part)
    return tuple(out)


def _is_one(v: Any) -> bool:
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
        return not _is_one(self.s)

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
        return Notation(lead, {"xhat": r"\hat{x}", "xtilde": r"\tilde{x}"}, {"xhat": "x̂", "xtilde": "x̃"})

    def reference(self, params: dict[str, int], seed: int) -> np.ndarray:
        """The transposed layer on pseudo-random data (NumPy reference), indexed by the output indices."""
        from .reference import conv_transpose

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


def subpixel_steps(ch: TransposedSignals) -> list[Step]:
    """The ten lines of the chain (see the module docstring)."""
    axes, o = ch.axes, ch.o
    cv = ch.c_value()
    ci, ol = ch.group_in(o, cv), ch.local_out(o)
    clim = ch.channel_limits()
    t, m, r = [ax.t for ax in axes], [ax.m for ax in axes], [ax.rv for ax in axes]
    reach = [add(ax.t, ax.pl, mul(-1, ax.d, ax.m)) for ax in axes]  # t + p − δm

    # (0) the definition: the scatter
    scatter = [sp.Eq(add(mul(ax.s, ax.n), mul(ax.d, ax.m)), add(ax.t, ax.pl), evaluate=False) for ax in axes]
    lims0 = clim + [(ax.m, 0, add(ax.k, -1)) for ax in axes] + [(ax.n, 0, add(ax.N, -1), cond) for ax, cond in zip(axes, scatter)]
    steps = [Step(nested_sum(mul(ch.weight(ci, ol, m), ch.signal(ch.x, ci, [ax.n for ax in axes])), lims0), "definition",
                  ("the transposed convolution with stride ", vec([ax.s for ax in axes]), ": input sample n adds w x[n] at s n + δ m − p"))]

    # (1) gather: the sum over n has at most one term, n = (t + p − δm)/s
    divisible = [None if _is_one(ax.s) else _divides(ax.s, rch) for ax, rch in zip(axes, reach)]
    reads1 = [rch if _is_one(ax.s) else mul(rch, sp.Pow(ax.s, -1, evaluate=False)) for ax, rch in zip(axes, reach)]
    lims1 = clim + [(ax.m, 0, add(ax.k, -1), dv) for ax, dv in zip(axes, divisible)]
    steps.append(Step(nested_sum(mul(ch.weight(ci, ol, m), ch.signal(ch.xh, ci, reads1)), lims1), "gather",
                      _pieces("s n = t + p − δ m has the one solution n = (t + p − δ m)/s when s divides t + p − δ m; x̂ is x extended by zeros")))

    # (2) split the outputs by phase: t + p = s a + r
    blocks = [(ax.a, ax.skipped, ax.last_block, sp.Eq(add(mul(ax.s, ax.a), ax.r), add(ax.t, ax.pl), evaluate=False)) for ax in axes if ax.split]
    phase_lims = [(ax.r, 0, add(ax.s, -1)) for ax in axes if ax.split] + blocks
    a_of = {ax.a: ax.a if ax.split else add(ax.t, ax.pl) for ax in axes}
    steps.append(Step(nested_sum(mul(ch.weight(ci, ol, m), ch.signal(ch.xh, ci, reads1)), phase_lims + lims1), "output-phase-split",
                      ("every t + p is s a + r for exactly one phase ", *join([sp.Eq(ax.r, sp.Mod(add(ax.t, ax.pl), ax.s), evaluate=False) for ax in axes if ax.split]),
                       " (Euclidean division)"),
                      (), tuple(_phase_bijection(ax) for ax in axes if ax.split)))

    # (3) the taps of phase r: s | s a + r − δ m ⇔ δ m ≡ r (mod s)
    classes = [sp.Eq(sp.Mod(mul(ax.d, ax.m), ax.s, evaluate=False), ax.r, evaluate=False) if ax.split else None for ax in axes]
    lims3 = clim + [(ax.m, 0, add(ax.k, -1), cl) for ax, cl in zip(axes, classes)]
    reads3 = [_minus(ax.a, mul(add(mul(ax.d, ax.m), mul(-1, ax.r)), sp.Pow(ax.s, -1, evaluate=False))) if ax.split else add(ax.t, ax.pl, mul(-1, ax.d, ax.m))
              for ax in axes]
    steps.append(Step(nested_sum(mul(ch.weight(ci, ol, m), ch.signal(ch.xh, ci, reads3)), phase_lims + lims3), "phase-taps",
                      ("with t + p = s a + r, s divides t + p − δ m exactly when ", *join([c for c in classes if c is not None])),
                      (), tuple(Partition((), IndexSet(((ax.m, 0, add(ax.k, -1)),)), (ax.r, 0, add(ax.s, -1)), cl)
                                for ax, cl in zip(axes, classes) if cl is not None)))

    # (4) reindex δ m = s q + r: the bounds of q are derived, not assumed
    qlims, conds, bijections, taps4, reads4 = [], [], [], [], []
    for ax in axes:
        lo, hi, side = reindex_bounds(0, add(ax.k, -1), scale=ax.d, stride=ax.s, residue=ax.rv)
        conds += side
        q_reach = add(mul(ax.s, ax.q), ax.rv)
        dv = None if _is_one(ax.d) else _divides(ax.d, q_reach)
        qlims.append((ax.q, lo, hi, dv))
        taps4.append(q_reach if dv is None else mul(q_reach, sp.Pow(ax.d, -1, evaluate=False)))
        reads4.append(add(a_of[ax.a], mul(-1, ax.q)))
        bijections.append(Bijection(
            ((ax.r, 0, add(ax.s, -1)),) if ax.split else (),
            IndexSet(((ax.m, 0, add(ax.k, -1)),), (sp.Eq(sp.Mod(mul(ax.d, ax.m), ax.s, evaluate=False), ax.rv, evaluate=False),)),
            IndexSet(((ax.q, lo, hi),), () if dv is None else (dv,)),
            {ax.q: (ax.d * ax.m - ax.rv) / ax.s}, {ax.m: (ax.s * ax.q + ax.rv) / ax.d},
        ))
    steps.append(Step(nested_sum(mul(ch.weight(ci, ol, taps4), ch.signal(ch.xh, ci, reads4)), phase_lims + clim + qlims), "reindex",
                      ("m ↦ (q, r) with ", *join([sp.Eq(mul(ax.d, ax.m), add(mul(ax.s, ax.q), ax.rv), evaluate=False) for ax in axes]),
                       ", the Euclidean division of δm by s"), tuple(conds), tuple(bijections)))

    # (5) flip q = k' − 1 − j: a cross-correlation
    jlims, taps5, reads5, flips = [], [], [], []
    for ax, (_, lo, hi, dv) in zip(axes, qlims):
        delay = add(ax.kq, -1, mul(-1, ax.j))
        q_reach = add(mul(ax.s, delay), ax.rv)
        jlims.append((ax.j, add(ax.kq, -1, mul(-1, hi)), add(ax.kq, -1), None if dv is None else _divides(ax.d, q_reach)))
        taps5.append(q_reach if dv is None else mul(q_reach, sp.Pow(ax.d, -1, evaluate=False)))
        reads5.append(add(a_of[ax.a], mul(-1, add(ax.kq, -1)), ax.j))
        ctx = ((ax.r, 0, add(ax.s, -1)),) if ax.split else ()
        flips.append(Bijection(ctx, IndexSet(((ax.q, lo, hi),)), IndexSet(((ax.j, add(ax.kq, -1, mul(-1, hi)), add(ax.kq, -1)),)),
                               {ax.j: ax.kq - 1 - ax.q}, {ax.q: ax.kq - 1 - ax.j}))
    steps.append(Step(nested_sum(mul(ch.weight(ci, ol, taps5), ch.signal(ch.xh, ci, reads5)), phase_lims + clim + jlims), "reindex",
                      ("flip ", *join([sp.Eq(ax.q, add(ax.kq, -1, mul(-1, ax.j)), evaluate=False) for ax in axes[:1]]),
                       ": the convolution becomes a cross-correlation"), (), tuple(flips)))

    # (6) extend to k' taps per phase: the filter bank W' and its structural zeros
    j = [ax.j for ax in axes]
    W_idx = (ch.out_channel(o, r), cv, *j) if ch.channels else (ch.out_channel(o, r), *j)
    klims = [(ax.j, 0, add(ax.kq, -1)) for ax in axes]
    fits = tuple(SideCondition(sp.Ge(lo, 0, evaluate=False), "every phase sum has at most k' terms" + (f" (axis {x + 1})" if ch.nd > 1 else ""),
                               ((ax.r, 0, add(ax.s, -1)),) if ax.split else ())
                 for x, (ax, (_, lo, _, _)) in enumerate(zip(axes, jlims)))
    steps.append(Step(nested_sum(mul(ch.W[W_idx], ch.signal(ch.xh, ci, reads5)), phase_lims + clim + klims), "structural-zeros",
                      ("W' of kernel size k' = ⌊δ(k − 1)/s⌋ + 1 per axis; entries with s(k' − 1 − j) + r > δ(k − 1) or δ ∤ s(k' − 1 − j) + r are 0",),
                      fits))

    # (7) the P phase filters of every output channel are one unit-stride convolution v = Conv_1(x̃; W')
    e_of = [add(a_of[ax.a], mul(-1, ax.skipped)) for ax in axes]
    steps.append(Step(nested_sum(ch.v[(ch.out_channel(o, r), *e_of)], phase_lims), "phase-filters",
                      _pieces("x̂[a − (k' − 1) + j] = x̃[a − ⌊p/s⌋ + j]: v = Conv_1(x̃; W') has C_out·P output channels, "
                       "channel ", ch.out_channel(sp.Symbol("o"), [ax.r for ax in axes]) if ch.channels else ch.phi([ax.r for ax in axes]),
                       " holding phase r of output channel o")))

    # (8) depth-to-space interleaves the phases
    u_at = [add(mul(ax.s, e), ax.rv) for ax, e in zip(axes, e_of)]
    steps.append(Step(nested_sum(ch.signal(ch.u, o, u_at), phase_lims), "depth-to-space",
                      _pieces("u = D2S_s(v): ", sp.Eq(ch.signal(ch.u, sp.Symbol("o"), [add(mul(ax.s, ax.e), ax.rv) for ax in axes]),
                                               ch.v[(ch.out_channel(sp.Symbol("o"), r), *[ax.e for ax in axes])], evaluate=False),
                       ", the inverse permutation of space-to-depth")))

    # (9) merge the phases again: crop by p mod s
    steps.append(Step(ch.signal(ch.u, o, [add(ax.t, ax.crop) for ax in axes]), "crop",
                      ("s(a − ⌊p/s⌋) + r = t + p − s⌊p/s⌋ = t + (p mod s) for the one pair (r, a): keep N_out samples of u from ",
                       vec([ax.crop for ax in axes]))))
    return steps


def _phase_bijection(ax: TAxis) -> Bijection:
    """``t ↦ (r, a) = ((t + p) mod s, ⌊(t + p)/s⌋)`` maps the outputs onto the (phase, block) pairs."""
    inside = (sp.Le(0, add(mul(ax.s, ax.a), ax.r, mul(-1, ax.pl)), evaluate=False),
              sp.Le(add(mul(ax.s, ax.a), ax.r, mul(-1, ax.pl)), add(ax.out_length, -1), evaluate=False))
    return Bijection(
        (), IndexSet(((ax.t, 0, add(ax.out_length, -1)),)),
        IndexSet(((ax.r, 0, add(ax.s, -1)), (ax.a, ax.skipped, ax.last_block)), inside),
        {ax.r: sp.Mod(ax.t + ax.pl, ax.s), ax.a: sp.floor((ax.t + ax.pl) / ax.s)}, {ax.t: ax.s * ax.a + ax.r - ax.pl},
    )


def bank_formula(ch: TransposedSignals) -> tuple[sp.Indexed, Any]:
    """``W'[φ(r), j]`` and its entry formula for symbolic parameters (one channel pair)."""
    taps, conditions = [], []
    for ax in ch.axes:
        reach = add(mul(ax.s, add(ax.kq, -1, mul(-1, ax.j))), ax.r)
        taps.append(mul(reach, sp.Pow(ax.d, -1, evaluate=False)))
        conditions += [_divides(ax.d, reach), sp.Le(reach, ax.span, evaluate=False)]
    lhs = ch.W[(ch.phi([ax.r for ax in ch.axes]), *[ax.j for ax in ch.axes])]
    return lhs, sp.Piecewise((ch.w[tuple(taps)], sp.And(*conditions, evaluate=False)), (0, True), evaluate=False)


def _statement(ch: TransposedSignals, steps: Sequence[Step], opening: str, extra: str) -> list[Any]:
    lhs = ch.lhs()
    return [
        opening, Display(sp.Eq(lhs, steps[0].expr, evaluate=False)),
        "equals depth-to-space of a unit-stride convolution with " + extra + ", cropped:",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        *_pieces("where u = D2S_s(v), v = Conv_1(x̃; W') and x̃ is the input with k' − 1 − ⌊p/s⌋ zeros in front, k' = ⌊δ(k − 1)/s⌋ + 1."),
    ]


# ---------------------------------------------------------------------------------------------
# Concrete layers: destride(ConvTranspose(...)).derivation
# ---------------------------------------------------------------------------------------------


def subpixel_derivation(eq: "TransposedEquivalence", *, sizes: Sequence[Sequence[int]] | None = None) -> Derivation:
    """The derivation of ``eq`` (the sub-pixel theorem with the layer's numbers substituted).

    Checked on the input sizes ``sizes`` (per axis; by default the smallest with an output to a
    few more) against :func:`symstride.reference.conv_transpose`.
    """
    from .filterbank import FilterBank

    spec = eq.spec
    ch = TransposedSignals.concrete(spec, layout=eq.layout, channel_indexed=eq.layer.channel_indexed,
                                    r=eq.index_symbols["r"], j=eq.index_symbols["j"])
    if ch.channels:  # the formula's o and c are the derivation's
        ch.o, ch.c = eq.index_symbols["o"][0], eq.index_symbols["c"][0]
    steps = subpixel_steps(ch)
    if sizes is None:
        sizes = []
        for ax in ch.axes:
            first = next(n for n in range(1, 64) if (n - 1) * ax.s - ax.pl - ax.pr + ax.span + ax.op + 1 >= 1)
            sizes.append(range(first, first + (ax.s + 3 if ch.nd == 1 else 2)))
    grid = Grid({ax.N: list(v) for ax, v in zip(ch.axes, sizes)}, tuple(ch.output_domain()))
    kind = "×".join(map(str, spec.kernel)) if spec.ndim > 1 else f"{spec.kernel[0]}-tap"
    stride = str(spec.stride[0]) if len(set(spec.stride)) == 1 else "×".join(map(str, spec.stride))
    statement = _statement(ch, steps, f"Let y be the {spec.ndim}-D transposed convolution ({spec.describe()}):",
                           f"{eq.out_channels} output channels ({spec.out_channels}·{eq.phases} phases)")
    return ch.derivation(
        f"A stride-{stride} transposed convolution with a {kind} kernel is a unit-stride convolution on {eq.phases} output phases",
        steps, ch.definitions(eq.formula_lhs, eq.formula), grid,
        theorem="Theorem, sub-pixel convolution", statement=statement, blocks=[FilterBank(eq)], name="subpixel",
        where=["xhat", "xtilde", "W'", "v", "u"],
    )


# ---------------------------------------------------------------------------------------------
# Symbolic parameters: the proof
# ---------------------------------------------------------------------------------------------

#: Parameter values of the exhaustive check: every combination with output padding below stride
#: or dilation (PyTorch's rule) and at least one output sample.  1-D: s ≤ 4, k ≤ 5, δ ≤ 3,
#: p ≤ 3, o_p ≤ 2, N ≤ 5; 2-D, per axis: s ≤ 2, k ∈ {2, 3}, δ ≤ 2, p ≤ 1, o_p ≤ 1, N = 3.
PROOF_GRID = {
    1: {"s": range(1, 5), "k": range(1, 6), "d": range(1, 4), "p": range(0, 4), "op": range(0, 3), "N": range(1, 6)},
    2: {"s": range(1, 3), "k": range(2, 4), "d": range(1, 3), "p": range(0, 2), "op": range(0, 2), "N": range(3, 4)},
}


def subpixel_proof(ndim: int = 1, *, grid: dict | None = None) -> Derivation:
    """The sub-pixel theorem for symbolic stride, kernel, dilation, padding and output padding (one channel pair)."""
    if ndim not in PROOF_GRID and grid is None:
        raise ValueError(f"the sub-pixel proof is checked for ndim in {sorted(PROOF_GRID)}, got {ndim}")
    ch = TransposedSignals.symbolic(ndim)
    steps = subpixel_steps(ch)
    values = grid or PROOF_GRID[ndim]
    table, constraints = {}, []
    for ax in ch.axes:
        for key, sym in (("s", ax.s), ("k", ax.k), ("d", ax.d), ("p", ax.pl), ("op", ax.op), ("N", ax.N)):
            table[sym] = list(values[key])
        constraints.append(sp.Or(sp.Lt(ax.op, ax.s), sp.Lt(ax.op, ax.d)))
    constraints += ch.has_output()
    W_lhs, W_rhs = bank_formula(ch)
    words = " on every axis" if ndim > 1 else ""
    statement = _statement(
        ch, steps,
        f"For all positive integers stride s, kernel size k, dilation δ, input length N, every padding p ≥ 0 and output "
        f"padding o_p smaller than s or δ{words} with at least one output sample, the transposed convolution",
        "P = " + ("s_1 s_2" if ndim == 2 else "s") + " output phases",
    )
    return ch.derivation(
        f"The sub-pixel theorem for symbolic parameters ({ndim}-D)", steps, ch.definitions(W_lhs, W_rhs),
        Grid(table, tuple(ch.output_domain()), tuple(constraints)),
        theorem="Theorem, sub-pixel convolution", statement=statement, name="transposed" if ndim == 1 else f"transposed-{ndim}d",
        where=["xhat", "xtilde", "W'", "v", "u"],
    )
