"""Theorem 2 as a derivation: a strided convolution is a unit-stride convolution on phases.

One builder writes the chain for a concrete layer (numbers substituted, what
``destride(layer).derivation`` returns) and for symbolic stride ``s``, kernel ``k``, dilation
``δ`` and padding ``p`` (the proof of :func:`symstride.prove`); the lines are the same, only
the parameters differ::

    y[n] = Σ_m w[m] x̃[s n + δ m]                                   definition
         = u[s n]                                                   stride as subsampling
         = Σ_r Σ_{m: δm ≡ r (mod s)} w[m] x̃[s n + δ m]             split by residues
         = Σ_r Σ_{j=0}^{⌈(δ(k−1)+1−r)/s⌉−1} [δ | sj + r] w[(sj + r)/δ] x̃[s(n + j) + r]   reindex
         = Σ_r Σ_j … x̃_r[n + j]                                     phases
         = Σ_r Σ_{j=0}^{k'−1} W'[φ(r), j] x̃_r[n + j]                structural zeros
         = Σ_{c'} Σ_j W'[c', j] z[c', n + j]                        unit-stride convolution

per spatial axis, with channels and groups carried along.  The bound of the reindexed sum is
derived by :func:`symstride.rules.reindex_bounds`, never typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import sympy as sp

from .derivation import Derivation, Grid, Step, instance_oracle
from .indexing import equivalent_kernel, output_length
from .printing import Display, Iverson, Notation, Operator
from .rules import Bijection, IndexSet, Partition, SideCondition, add, ceil_div, mul, reindex_bounds
from .terms import Definition, random_values

if TYPE_CHECKING:  # pragma: no cover
    from .equivalence import Equivalence
    from .params import ConvSpec

__all__ = ["polyphase_derivation", "nested_sum"]

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


def _names(base: str, ndim: int) -> tuple[sp.Symbol, ...]:
    if ndim == 1:
        return (sp.Symbol(base, **_INT),)
    return tuple(sp.Symbol(f"{base}_{a + 1}", **_INT) for a in range(ndim))


@dataclass
class _Axis:
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
        return self.N + self.pl + self.pr

    @property
    def unit_length(self) -> Any:
        return self.padded - self.d * (self.k - 1)

    @property
    def out_length(self) -> Any:
        return sp.floor((self.padded - self.d * (self.k - 1) - 1) / self.s) + 1

    @property
    def kq(self) -> Any:
        return sp.floor(self.d * (self.k - 1) / self.s) + 1

    @property
    def has_padding(self) -> bool:
        return not (self.pl == 0 and self.pr == 0)


class _Chain:
    """Everything the polyphase chain needs: axes, channel structure, signals and notation."""

    def __init__(self, axes: list[_Axis], cin: int, cout: int, groups: int, layout: str, channel_indexed: bool) -> None:
        self.axes = axes
        self.nd = len(axes)
        self.cin, self.cout, self.groups, self.layout = cin, cout, groups, layout
        self.cin_g = cin // groups
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

    # -- channel bookkeeping ------------------------------------------------------------------
    def input_channel(self, o: Any, c: Any) -> Any:
        """The global input channel read by output channel ``o`` through local channel ``c``."""
        if self.groups == 1:
            return c
        return add(mul(sp.floor(o / (self.cout // self.groups)), self.cin_g), c)

    def phi(self, r: Sequence[Any]) -> Any:
        """Row-major flattening φ(r) = ((r_1 s_2 + r_2) s_3 + r_3)…, written out."""
        terms = []
        for a, (ax, ra) in enumerate(zip(self.axes, r)):
            weight = prod(bx.s for bx in self.axes[a + 1 :]) if all(isinstance(bx.s, int) for bx in self.axes[a + 1 :]) else sp.Mul(*(bx.s for bx in self.axes[a + 1 :]))
            terms.append(mul(weight, ra))
        return add(*terms)

    def phase_channel(self, c: Any, r: Sequence[Any]) -> Any:
        """c·P + φ(r) (PyTorch) or φ(r)·C + c (TensorFlow)."""
        if not self.channels:
            return self.phi(r)
        if self.layout == "pytorch":
            return add(mul(c, self.P), self.phi(r))
        return add(mul(self.phi(r), self.cin_g), c)

    def decode(self, flat: Any) -> tuple[Any, list[Any]]:
        """Inverse of :meth:`phase_channel`: (c, r) from a channel index expression."""
        if not self.channels:
            c, rest = sp.S.Zero, flat
        elif self.layout == "pytorch":
            c, rest = sp.floor(flat / self.P), sp.Mod(flat, self.P)
        else:
            c, rest = sp.Mod(flat, self.cin_g), sp.floor(flat / self.cin_g)
        r = []
        for a in range(self.nd):
            below = sp.Mul(*(bx.s for bx in self.axes[a + 1 :]))
            r.append(sp.Mod(sp.floor(rest / below), self.axes[a].s))
        return c, r

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
        return Notation(lead, names, text_names)


def _definitions(ch: _Chain, formula_lhs: sp.Indexed, formula: Any, r_syms: Sequence[sp.Symbol], j_syms: Sequence[sp.Symbol]) -> list[Definition]:
    axes = ch.axes
    o, c = ch.o, ch.c
    q = [ax.q for ax in axes]
    defs = []
    chan = [(c, 0, ch.cin - 1)] if ch.channels else []
    defs.append(Definition(ch.X(c, q, ch.x), None, tuple(chan + [(ax.q, 0, ax.N - 1) for ax in axes]), note="the input"))
    wdom = [(o, 0, ch.cout - 1), (c, 0, ch.cin_g - 1)] if ch.channels else []
    m = [ax.m for ax in axes]
    defs.append(Definition(ch.W_in(o, c, m), None, tuple(wdom + [(ax.m, 0, ax.k - 1) for ax in axes]), note="the weights"))
    if ch.padded:
        inside = sp.And(
            *(c for ax in axes if ax.has_padding
              for c in (sp.Le(ax.pl, ax.q, evaluate=False), sp.Le(ax.q, add(ax.N, ax.pl, -1), evaluate=False))),
            evaluate=False,
        )
        body = sp.Piecewise((ch.X(c, [add(ax.q, -ax.pl) for ax in axes], ch.x), inside), (0, True))
        defs.append(Definition(ch.X(c, q), body, tuple(chan + [(ax.q, 0, ax.padded - 1) for ax in axes]), note="the zero-padded input"))
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
    defs.append(Definition(ch.Y(o, t, ch.u), body, tuple(odom + [(ax.t, 0, ax.unit_length - 1) for ax in axes]), note="the unit-stride convolution"))
    # phases of the padded input, trimmed or zero-extended to s(N_out + k' − 1)
    r = [ax.r for ax in axes]
    a = [ax.a for ax in axes]
    src = [add(mul(ax.s, ax.a), ax.r) for ax in axes]
    fits = sp.And(*(sp.Le(add(mul(ax.s, ax.a), ax.r), add(ax.N, ax.pl, ax.pr, -1), evaluate=False) for ax in axes), evaluate=False)
    body = sp.Piecewise((ch.X(c, src), fits), (0, True))
    pdom = [(ax.r, 0, ax.s - 1) for ax in axes] + chan + [(ax.a, 0, ax.out_length + ax.kq - 2) for ax in axes]
    defs.append(Definition(ch.phase_signal(r, c, a), body, tuple(pdom), note="the phase signal (zero past the end of the input)"))
    # the equivalent filter bank: W'[o, c·P + φ(r), j]
    placeholders = sp.symbols("i0:8", integer=True)
    lead = 2 if ch.channels else 0
    inverse: dict = {}
    if ch.channels:
        cc, rr = ch.decode(placeholders[1])
        inverse[o] = placeholders[0]
        inverse[c] = cc
    else:
        cc, rr = ch.decode(placeholders[0])
        lead = 1
    inverse.update({rs: rv for rs, rv in zip(r_syms, rr)})
    inverse.update({js: placeholders[lead + k] for k, js in enumerate(j_syms)})
    wd = [(o, 0, ch.cout - 1), (c, 0, ch.cin_g - 1)] if ch.channels else []
    wd += [(rs, 0, ax.s - 1) for rs, ax in zip(r_syms, axes)] + [(js, 0, ax.kq - 1) for js, ax in zip(j_syms, axes)]
    defs.append(Definition(formula_lhs, formula, tuple(wd), inverse=inverse, note="the equivalent filter bank"))
    # the prepared input z = S2D_s(prep(x)) over all C·P channels
    z_c = ch.phase_channel(c, r) if ch.channels else ch.phi(r)
    z_lhs = ch.z[(z_c, *a)]
    zc, zr = ch.decode(placeholders[0])
    z_inv = {ax.r: v for ax, v in zip(axes, zr)}
    z_inv.update({ax.a: placeholders[1 + k] for k, ax in enumerate(axes)})
    if ch.channels:
        z_inv[c] = zc
    zdom = chan + [(ax.r, 0, ax.s - 1) for ax in axes] + [(ax.a, 0, ax.out_length + ax.kq - 2) for ax in axes]
    defs.append(Definition(z_lhs, ch.phase_signal(r, c, a), tuple(zdom), inverse=z_inv, note="the prepared input (space-to-depth)"))
    return defs


def _lines(ch: _Chain, r_syms: Sequence[sp.Symbol], j_syms: Sequence[sp.Symbol]) -> tuple[sp.Indexed, list[Step]]:
    axes, nd = ch.axes, ch.nd
    o, c = ch.o, ch.c
    cv = ch.c_value()
    n = [ax.n for ax in axes]
    m = [ax.m for ax in axes]
    r = [ax.rv for ax in axes]
    lhs = ch.Y(o, n, ch.y)
    clim = ch.channel_limits()
    cg = ch.input_channel(o, cv)

    # (0) the definition of the strided convolution
    reads0 = [add(mul(ax.s, ax.n), mul(ax.d, ax.m)) for ax in axes]
    term0 = mul(ch.W_in(o, cv, m), ch.X(cg, reads0))
    e0 = nested_sum(term0, clim + [(ax.m, 0, ax.k - 1) for ax in axes])
    s_vec = tuple(ax.s for ax in axes)
    why0 = ["the strided convolution (cross-correlation) with stride ", _vec(s_vec)]
    if ch.padded:
        why0 += [" on ", sp.Symbol("xtilde"), ", the zero-padded input"]
    steps = [Step(e0, "definition", tuple(why0))]

    # (1) stride as subsampling
    e1 = ch.Y(o, [mul(ax.s, ax.n) for ax in axes], ch.u)
    size_ok = [
        SideCondition(
            sp.Eq(ax.out_length, ceil_div(ax.unit_length, ax.s)),
            "the strided output is as long as the subsampled unit-stride output" + (f" (axis {i + 1})" if nd > 1 else ""),
        )
        for i, ax in enumerate(axes)
    ]
    y_, u_ = sp.symbols("y u")
    why1 = (sp.Eq(y_, sp.Mul(Operator("D", _sub(s_vec)), u_, evaluate=False), evaluate=False), " where u is the unit-stride convolution")
    steps.append(Step(e1, "stride-as-subsampling", why1, tuple(size_ok)))

    # (2) split every sum over m by the residue of δm mod s
    split = [(ax.r, 0, ax.s - 1) for ax in axes if ax.split]
    mlims = [(ax.m, 0, ax.k - 1, sp.Eq(sp.Mod(mul(ax.d, ax.m), ax.s), ax.r) if ax.split else None) for ax in axes]
    e2 = nested_sum(term0, clim + split + mlims)
    partitions = tuple(
        Partition((), IndexSet(((ax.m, 0, ax.k - 1),)), (ax.r, 0, ax.s - 1), sp.Eq(sp.Mod(ax.d * ax.m, ax.s), ax.r))
        for ax in axes if ax.split
    )
    classes = [sp.Eq(sp.Mod(mul(ax.d, ax.m), ax.s), ax.r, evaluate=False) for ax in axes if ax.split]
    steps.append(Step(e2, "residue-split", ("into the classes ", *_join(classes)), (), partitions))

    # (3) reindex m = (s j + r)/δ: the bounds of j are derived, not assumed
    jlims, conds, bijections, w_taps, reads3 = [], [], [], [], []
    for ax in axes:
        lo, hi, side = reindex_bounds(0, ax.k - 1, scale=ax.d, stride=ax.s, residue=ax.rv)
        conds += side
        reach = add(mul(ax.s, ax.j), ax.rv)
        divisible = sp.Eq(sp.Mod(reach, ax.d), 0) if not (isinstance(ax.d, int) and ax.d == 1) else None
        jlims.append((ax.j, lo, hi, divisible))
        tap = reach if divisible is None else mul(reach, sp.Pow(ax.d, -1, evaluate=False))
        w_taps.append(tap)
        reads3.append(add(mul(ax.s, add(ax.n, ax.j)), ax.rv))
        ctx = ((ax.r, 0, ax.s - 1),) if ax.split else ()
        bijections.append(
            Bijection(
                ctx,
                IndexSet(((ax.m, 0, ax.k - 1),), (sp.Eq(sp.Mod(ax.d * ax.m, ax.s), ax.rv),)),
                IndexSet(((ax.j, lo, hi),), () if divisible is None else (divisible,)),
                {ax.j: (ax.d * ax.m - ax.rv) / ax.s},
                {ax.m: (ax.s * ax.j + ax.rv) / ax.d},
            )
        )
    term3 = mul(ch.W_in(o, cv, w_taps), ch.X(cg, reads3))
    e3 = nested_sum(term3, clim + split + jlims)
    maps = [sp.Eq(mul(ax.d, ax.m), add(mul(ax.s, ax.j), ax.rv)) for ax in axes]
    steps.append(Step(e3, "reindex", ("m ↦ (j, r) with ", *_join(maps), ", the Euclidean division of δm by s"), tuple(conds), tuple(bijections)))

    # (4) the phases of the padded input
    npj = [add(ax.n, ax.j) for ax in axes]
    term4 = mul(ch.W_in(o, cv, w_taps), ch.phase_signal(r, cg, npj))
    e4 = nested_sum(term4, clim + split + jlims)
    phase_eq = sp.Eq(
        ch.phase_signal([ax.r for ax in axes], ch.c, [ax.a for ax in axes]),
        ch.X(ch.c, [add(mul(ax.s, ax.a), ax.r) for ax in axes]),
        evaluate=False,
    )
    steps.append(Step(e4, "phase-signals", ("the phases ", phase_eq, " (space-to-depth by ", _vec(s_vec), ")")))

    # (5) extend to k' taps per phase: the equivalent filter bank and its structural zeros
    chan_eq = ch.phase_channel(cv, r) if ch.channels else ch.phi(r)
    W_idx = (o, chan_eq, *j_syms) if ch.channels else (chan_eq, *j_syms)
    term5 = mul(ch.W[W_idx], ch.phase_signal(r, cg, npj))
    klims = [(ax.j, 0, _kq_display(ax)) for ax in axes]
    e5 = nested_sum(term5, clim + split + klims)
    fits = [
        SideCondition(sp.Le(hi, _kq_display(ax), evaluate=False), "every phase sum has at most k' terms" + (f" (axis {i + 1})" if nd > 1 else ""), ((ax.r, 0, ax.s - 1),) if ax.split else ())
        for i, (ax, (_, _, hi, _)) in enumerate(zip(axes, jlims))
    ]
    kq_text = [sp.Eq(sp.Symbol("k'"), _kq_display(ax) + 1, evaluate=False) for ax in axes[:1]]
    steps.append(Step(e5, "structural-zeros", ("W' of kernel size ", *kq_text, " per axis; entries with sj + r > δ(k−1) or δ ∤ sj + r are 0" if any(not (isinstance(ax.d, int) and ax.d == 1) for ax in axes) else "; entries with sj + r > δ(k−1) are 0"), tuple(fits)))

    # (6) a unit-stride convolution over the C·P phase channels of z
    cp = ch.cp
    ctot = mul(ch.cin_g, ch.P) if ch.channels else ch.P
    zc = add(mul(sp.floor(o / (ch.cout // ch.groups)), ctot), cp) if ch.groups > 1 else cp
    W6 = (o, cp, *j_syms) if ch.channels else (cp, *j_syms)
    term6 = mul(ch.W[W6], ch.z[(zc, *npj)])
    e6 = nested_sum(term6, [(cp, 0, add(ctot, -1))] + klims)
    cvars = ([ch.c] if ch.channels and ch.cin_g > 1 else []) + [ax.r for ax in axes if ax.split]
    src = IndexSet(tuple(([(ch.c, 0, ch.cin_g - 1)] if ch.channels and ch.cin_g > 1 else []) + [(ax.r, 0, ax.s - 1) for ax in axes if ax.split]))
    fwd_c = ch.phase_channel(cv, r) if ch.channels else ch.phi(r)
    dc, dr = ch.decode(cp)
    back = {ax.r: v for ax, v in zip(axes, dr) if ax.split}
    if ch.channels and ch.cin_g > 1:
        back[ch.c] = dc
    bij = Bijection((), src, IndexSet(((cp, 0, ctot - 1),)), {cp: fwd_c}, back) if cvars else None
    layout = "c·P + φ(r)" if ch.layout == "pytorch" else "φ(r)·C + c"
    steps.append(Step(e6, "unit-stride-convolution", (f"the pairs (c, r) are the channels c' = {layout} of z", " (groups kept)" if ch.groups > 1 else ""), (), (bij,) if bij else ()))
    return lhs, steps


def _kq_display(ax: _Axis) -> Any:
    """k' − 1 as printed: a number, or ⌊δ(k − 1)/s⌋ written out."""
    if all(isinstance(v, int) for v in (ax.k, ax.s, ax.d)):
        return sp.Integer(ax.d * (ax.k - 1) // ax.s)
    return sp.floor(sp.Mul(mul(ax.d, add(ax.k, -1)), sp.Pow(ax.s, -1, evaluate=False), evaluate=False), evaluate=False)


def _vec(values: Sequence[Any]) -> Any:
    values = list(values)
    if len(set(values)) == 1:
        return sp.sympify(values[0])
    return sp.Tuple(*values)


def _join(items: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for i, item in enumerate(items):
        if i:
            out.append(", ")
        out.append(item)
    return out


def _sub(values: Sequence[Any]) -> str:
    values = list(values)
    return str(values[0]) if len(set(values)) == 1 else "(" + ",".join(map(str, values)) + ")"


# ---------------------------------------------------------------------------------------------
# Concrete layers: destride(layer).derivation
# ---------------------------------------------------------------------------------------------


def _sizes(spec: "ConvSpec") -> list[list[int]]:
    """Input sizes to check on, per axis: from the smallest that fits to a few strides beyond."""
    out = []
    for k, s, d, (pl, pr) in zip(spec.kernel, spec.stride, spec.dilation, spec.padding):
        smallest = max(d * (k - 1) + 1 - pl - pr, 1)
        count = 2 * s + 1 if spec.ndim == 1 else s + 1
        out.append(list(range(smallest, smallest + count)))
    return out


def polyphase_derivation(eq: "Equivalence", *, sizes: Sequence[Sequence[int]] | None = None) -> Derivation:
    """The derivation of ``eq`` (Theorem 2 with the layer's numbers substituted)."""
    from .reference import conv

    spec = eq.spec
    nd = spec.ndim
    syms = {name: _names(name, nd) for name in ("n", "m", "q", "t", "a")}
    N = _names("N", nd)
    r_syms, j_syms = eq.index_symbols["r"], eq.index_symbols["j"]
    axes = [
        _Axis(s, k, d, pl, pr, N[i], syms["n"][i], syms["m"][i], r_syms[i], j_syms[i], syms["q"][i], syms["t"][i], syms["a"][i])
        for i, (k, s, d, (pl, pr)) in enumerate(zip(spec.kernel, spec.stride, spec.dilation, spec.padding))
    ]
    ch = _Chain(axes, spec.in_channels, spec.out_channels, spec.groups, eq.layout, eq.layer.channel_indexed)
    lhs, steps = _lines(ch, r_syms, j_syms)
    defs = _definitions(ch, eq.formula_lhs, eq.formula, r_syms, j_syms)
    sizes = [list(v) for v in (sizes if sizes is not None else _sizes(spec))]
    domain = ([(ch.o, 0, ch.cout - 1)] if ch.channels else []) + [(ax.n, 0, ax.out_length - 1) for ax in axes]
    grid = Grid(dict(zip(N, sizes)), tuple(domain))

    def reference(params: dict[str, int], seed: int) -> np.ndarray:
        size = [params[str(v)] for v in N]
        grids = np.indices((spec.in_channels, *size))
        x = random_values("x", list(grids) if ch.channels else list(grids[1:]), seed)[None]
        wg = np.indices(spec.weight_shape)
        w = random_values("w", list(wg) if ch.channels else list(wg[2:]), seed)
        y = conv(x, w, stride=spec.stride, padding=spec.padding, dilation=spec.dilation, groups=spec.groups)[0]
        return y if ch.channels else y[0]

    kq = equivalent_kernel(spec)
    zeros = eq.structural_zeros
    statement = [
        f"Let y be the {nd}-D strided convolution ({spec.describe()}):",
        Display(sp.Eq(lhs, steps[0].expr, evaluate=False)),
        "With the phases of the " + ("zero-padded " if ch.padded else "") + "input (space-to-depth by ", _vec(spec.stride),
        f") in the {eq.in_channels} channels of z, it is a unit-stride convolution with kernel size k' = {_axes_text(kq)}:",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        f"whose filter bank W' has {zeros} structural zero{'s' if zeros != 1 else ''} per channel pair.",
    ]
    from .filterbank import FilterBank

    return Derivation(
        _title(eq),
        lhs,
        steps,
        theorem="Theorem 2, stride removal",
        statement=statement,
        definitions=defs,
        where=[d.name for d in defs if d.rhs is not None],
        grid=grid,
        notation=ch.notation(),
        oracle=instance_oracle(reference),
        oracle_name="the NumPy reference convolution",
        blocks=[FilterBank(eq)],
        name="polyphase",
    )


def _title(eq: "Equivalence") -> str:
    spec = eq.spec
    kernel = "×".join(map(str, spec.kernel)) if spec.ndim > 1 else f"{spec.kernel[0]}-tap"
    parts = [f"stride-{_axes_text(spec.stride)}"]
    if any(d != 1 for d in spec.dilation):
        parts.append(f"dilation-{_axes_text(spec.dilation)}")
    padding = "" if all(p == (0, 0) for p in spec.padding) else " padded"
    return (
        f"A {' '.join(parts)}{padding} convolution with a {kernel} kernel is a unit-stride convolution "
        f"on {eq.phases} phases"
    )


def _axes_text(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))
