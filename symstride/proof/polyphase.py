"""Theorem 2 as a derivation: a strided convolution is a unit-stride convolution on phases.

One builder writes the chain for a concrete layer (numbers substituted: what
``destride(layer).derivation`` returns) and for symbolic stride ``s``, kernel ``k``, dilation
``δ`` and padding ``p`` (the proof ``symstride.prove("polyphase")``); the lines are the same,
only the parameters differ::

    y[n] = Σ_m w[m] x̃[s n + δ m]                                   definition
         = u[s n]                                                   stride as subsampling
         = Σ_r Σ_{m: δm ≡ r (mod s)} w[m] x̃[s n + δ m]             split by residues
         = Σ_r Σ_{j=0}^{⌈(δ(k−1)+1−r)/s⌉−1} [δ | sj + r] w[(sj + r)/δ] x̃[s(n + j) + r]   reindex
         = Σ_r Σ_j … x̃_r[n + j]                                     phases
         = Σ_r Σ_{j=0}^{k'−1} W'[φ(r), j] x̃_r[n + j]                structural zeros
         = Σ_{c'} Σ_j W'[c', j] z[c', n + j]                        unit-stride convolution

per spatial axis, with channels and groups carried along.  The bound of the reindexed sum is
derived by :func:`symstride.proof.rules.reindex_bounds`, never typed in.
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from typing import Any, Sequence

import sympy as sp

from .derivation import Derivation
from .step import Step
from ..core.indexing import equivalent_kernel
from ..algebra.lines import add, mul
from ..render.printing import Display
from .rules import Bijection, IndexSet, Partition, SideCondition, reindex_bounds
from .signals import LayerSignals, join, nested_sum, vec
from ..algebra.expansion import INDEX, Definition

__all__ = ["polyphase_derivation", "symbolic_layer_derivation", "symbol_grid", "LAYER_GRID", "polyphase_proof", "polyphase_steps", "phase_definitions"]


def phase_definitions(ch: LayerSignals, formula_lhs: sp.Indexed, formula: Any) -> list[Definition]:
    """The phase signals ``x̃_r``, the equivalent filter bank ``W'`` (its entry formula) and ``z``."""
    axes = ch.axes
    o, c = ch.o, ch.c
    chan = [(c, 0, ch.cin - 1)] if ch.channels else []
    r_syms, j_syms = [ax.r for ax in axes], [ax.j for ax in axes]
    defs = []
    # phases of the padded input, trimmed or zero-extended to s(N_out + k' − 1)
    r = r_syms
    a = [ax.a for ax in axes]
    src = [add(mul(ax.s, ax.a), ax.r) for ax in axes]
    fits = sp.And(*(sp.Le(add(mul(ax.s, ax.a), ax.r), add(ax.padded, -1), evaluate=False) for ax in axes), evaluate=False)
    body = sp.Piecewise((ch.X(c, src), fits), (0, True), evaluate=False)
    pdom = [(ax.r, 0, ax.s - 1) for ax in axes] + chan + [(ax.a, 0, add(ax.out_length, ax.kq, -2)) for ax in axes]
    defs.append(Definition(ch.phase_signal(r, c, a), body, tuple(pdom), note="the phase signal (zero past the end of the input)"))
    # the equivalent filter bank: W'[o, c·P + φ(r), j]
    placeholders = INDEX
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
    wd += [(rs, 0, ax.s - 1) for rs, ax in zip(r_syms, axes)] + [(js, 0, add(ax.kq, -1)) for js, ax in zip(j_syms, axes)]
    defs.append(Definition(formula_lhs, formula, tuple(wd), inverse=inverse, note="the equivalent filter bank"))
    # the prepared input z = S2D_s(prep(x)) over all C·P channels
    z_c = ch.phase_channel(c, r) if ch.channels else ch.phi(r)
    z_lhs = ch.z[(z_c, *a)]
    zc, zr = ch.decode(placeholders[0])
    z_inv = {ax.r: v for ax, v in zip(axes, zr)}
    z_inv.update({ax.a: placeholders[1 + k] for k, ax in enumerate(axes)})
    if ch.channels:
        z_inv[c] = zc
    zdom = chan + [(ax.r, 0, ax.s - 1) for ax in axes] + [(ax.a, 0, add(ax.out_length, ax.kq, -2)) for ax in axes]
    defs.append(Definition(z_lhs, ch.phase_signal(r, c, a), tuple(zdom), inverse=z_inv, note="the prepared input (space-to-depth)"))
    return defs


def polyphase_steps(ch: LayerSignals) -> tuple[sp.Indexed, list[Step]]:
    """The left-hand side and the seven lines of the chain (see the module docstring)."""
    axes, nd = ch.axes, ch.nd
    o, c = ch.o, ch.c
    cv = ch.c_value()
    n = [ax.n for ax in axes]
    m = [ax.m for ax in axes]
    r = [ax.rv for ax in axes]
    j_syms = [ax.j for ax in axes]
    clim = ch.channel_limits()
    cg = ch.input_channel(o, cv)

    lhs, term0 = ch.strided_term()
    steps = [ch.definition_step(), ch.subsampling_step()]
    s_vec = tuple(ax.s for ax in axes)

    # (2) split every sum over m by the residue of δm mod s
    split = [(ax.r, 0, ax.s - 1) for ax in axes if ax.split]
    mlims = [(ax.m, 0, ax.k - 1, sp.Eq(sp.Mod(mul(ax.d, ax.m), ax.s, evaluate=False), ax.r) if ax.split else None) for ax in axes]
    e2 = nested_sum(term0, clim + split + mlims)
    partitions = tuple(
        Partition((), IndexSet(((ax.m, 0, ax.k - 1),)), (ax.r, 0, ax.s - 1), sp.Eq(sp.Mod(mul(ax.d, ax.m), ax.s, evaluate=False), ax.r, evaluate=False))
        for ax in axes if ax.split
    )
    classes = [sp.Eq(sp.Mod(mul(ax.d, ax.m), ax.s, evaluate=False), ax.r, evaluate=False) for ax in axes if ax.split]
    steps.append(Step(e2, "residue-split", ("u unfolded, into the classes ", *join(classes)), (), partitions, unfold=(ch.u.label.name,)))

    # (3) reindex m = (s j + r)/δ: the bounds of j are derived, not assumed
    jlims, conds, bijections, w_taps, reads3 = [], [], [], [], []
    for ax in axes:
        lo, hi, side = reindex_bounds(0, ax.k - 1, scale=ax.d, stride=ax.s, residue=ax.rv)
        conds += side
        reach = add(mul(ax.s, ax.j), ax.rv)
        divisible = sp.Eq(sp.Mod(reach, ax.d, evaluate=False), 0, evaluate=False) if not (isinstance(ax.d, int) and ax.d == 1) else None
        jlims.append((ax.j, lo, hi, divisible))
        tap = reach if divisible is None else mul(reach, sp.Pow(ax.d, -1, evaluate=False))
        w_taps.append(tap)
        reads3.append(add(mul(ax.s, add(ax.n, ax.j)), ax.rv))
        ctx = ((ax.r, 0, ax.s - 1),) if ax.split else ()
        bijections.append(
            Bijection(
                ctx,
                IndexSet(((ax.m, 0, ax.k - 1),), (sp.Eq(sp.Mod(mul(ax.d, ax.m), ax.s, evaluate=False), ax.rv, evaluate=False),)),
                IndexSet(((ax.j, lo, hi),), () if divisible is None else (divisible,)),
                {ax.j: (ax.d * ax.m - ax.rv) / ax.s},
                {ax.m: (ax.s * ax.j + ax.rv) / ax.d},
            )
        )
    term3 = mul(ch.W_in(o, cv, w_taps), ch.X(cg, reads3))
    e3 = nested_sum(term3, clim + split + jlims)
    maps = [sp.Eq(mul(ax.d, ax.m), add(mul(ax.s, ax.j), ax.rv), evaluate=False) for ax in axes]
    steps.append(Step(e3, "reindex", ("m ↦ (j, r) with ", *join(maps), ", the Euclidean division of δm by s"), tuple(conds), tuple(bijections)))

    # (4) the phases of the padded input
    npj = [add(ax.n, ax.j) for ax in axes]
    term4 = mul(ch.W_in(o, cv, w_taps), ch.phase_signal(r, cg, npj))
    e4 = nested_sum(term4, clim + split + jlims)
    phase_eq = sp.Eq(
        ch.phase_signal([ax.r for ax in axes], ch.c, [ax.a for ax in axes]),
        ch.X(ch.c, [add(mul(ax.s, ax.a), ax.r) for ax in axes]),
        evaluate=False,
    )
    steps.append(Step(e4, "phase-signals", ("the phases ", phase_eq, " (space-to-depth by ", vec(s_vec), ")")))

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


def _kq_display(ax: Any) -> Any:
    """k' − 1 as printed: a number, or ⌊δ(k − 1)/s⌋ written out."""
    if all(isinstance(v, int) for v in (ax.k, ax.s, ax.d)):
        return sp.Integer(ax.d * (ax.k - 1) // ax.s)
    return sp.floor(sp.Mul(mul(ax.d, add(ax.k, -1)), sp.Pow(ax.s, -1, evaluate=False), evaluate=False), evaluate=False)


# ---------------------------------------------------------------------------------------------
# Concrete layers: destride(layer).derivation
# ---------------------------------------------------------------------------------------------


def polyphase_derivation(
    eq: Any, *, sizes: Sequence[Sequence[int]] | None = None, blocks: Sequence[Any] = (), twin: Any = None
) -> Derivation:
    """The derivation of ``eq`` (Theorem 2 with the layer's numbers substituted).

    It is checked on the input sizes ``sizes`` (per axis; by default from the smallest input
    the kernel fits to a few strides beyond) against the NumPy reference convolution.
    ``eq`` is the layer's equivalence (:mod:`symstride.layer` calls this from ``eq.derivation``;
    nothing here imports that layer); ``blocks`` are shown with the derivation (the equivalence
    passes its filter bank).  ``twin``, the same equivalence with fewer channels, is checked in
    place of ``eq`` (same lines; the report says so): the check then costs the same whatever the
    channel counts.
    """
    spec = eq.spec
    ch = LayerSignals.concrete(
        spec, layout=eq.layout, channel_indexed=eq.layer.channel_indexed, r=eq.index_symbols["r"], j=eq.index_symbols["j"]
    )
    lhs, steps = polyphase_steps(ch)
    defs = ch.base_definitions() + phase_definitions(ch, eq.formula_lhs, eq.formula)
    kq = equivalent_kernel(spec)
    zeros = eq.structural_zeros
    statement = [
        f"Let y be the {spec.ndim}-D strided convolution ({spec.describe()}):",
        Display(sp.Eq(lhs, steps[0].expr, evaluate=False)),
        "With the phases of the " + ("zero-padded " if ch.padded else "") + "input (space-to-depth by ", vec(spec.stride),
        f") in the {eq.in_channels} channels of z, it is a unit-stride convolution with kernel size k' = {_axes_text(kq)}:",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        f"whose filter bank W' has {zeros} structural zero{'s' if zeros != 1 else ''} per channel pair.",
    ]
    note = "" if twin is None else (
        f"checked on the same layer with {twin.spec.in_channels}→{twin.spec.out_channels} channels"
        f" (groups={twin.groups}) standing for {spec.in_channels}→{spec.out_channels} (groups={eq.groups}):"
        " the lines treat channels only through chan(c, φ(r)) and the group of o, alike for every count"
    )
    return ch.derivation(
        _title(eq), lhs, steps, defs, ch.concrete_grid(sizes),
        theorem="Theorem 2, stride removal", statement=statement, blocks=list(blocks), name="polyphase",
        checked_by=None if twin is None else polyphase_derivation(twin, sizes=sizes), checked_by_note=note,
    )


# ---------------------------------------------------------------------------------------------
# Symbolic parameters: the proof
# ---------------------------------------------------------------------------------------------

#: Parameter values of the exhaustive check, per number of axes: every combination in which the
#: dilated kernel fits the padded input.  1-D: s ≤ 4, k ≤ 7, δ ≤ 3, p ≤ 3, N ≤ 12 (2 808 layers);
#: 2-D, per axis: s ≤ 3, k ∈ {2, 3}, δ ≤ 2, p ≤ 1, N ∈ {4, 5} (2 025 layers).
PROOF_GRID = {
    1: {"s": range(1, 5), "k": range(1, 8), "d": range(1, 4), "p": range(0, 4), "N": range(1, 13)},
    2: {"s": range(1, 4), "k": range(2, 4), "d": range(1, 3), "p": range(0, 2), "N": range(4, 6)},
}


def symbolic_formula(ch: LayerSignals) -> tuple[sp.Indexed, Any]:
    """``W'[φ(r), j]`` and its entry formula for symbolic parameters (one channel pair)."""
    taps, conditions = [], []
    for ax in ch.axes:
        reach = add(mul(ax.s, ax.j), ax.r)
        taps.append(mul(reach, sp.Pow(ax.d, -1, evaluate=False)))
        conditions += [sp.Eq(sp.Mod(reach, ax.d, evaluate=False), 0, evaluate=False), sp.Le(reach, mul(ax.d, add(ax.k, -1)), evaluate=False)]
    lhs = ch.W[(ch.phi([ax.r for ax in ch.axes]), *[ax.j for ax in ch.axes])]
    return lhs, sp.Piecewise((ch.w[tuple(taps)], sp.And(*conditions, evaluate=False)), (0, True), evaluate=False)


def polyphase_proof(ndim: int = 1, *, grid: dict | None = None) -> Derivation:
    """Theorem 2 for symbolic stride, kernel, dilation and padding on ``ndim`` axes (one channel pair)."""
    if ndim not in PROOF_GRID and grid is None:
        raise SymstrideError(f"the polyphase proof is checked for ndim in {sorted(PROOF_GRID)}, got {ndim}")
    ch = LayerSignals.symbolic(ndim)
    lhs, steps = polyphase_steps(ch)
    W_lhs, W_rhs = symbolic_formula(ch)
    defs = ch.base_definitions() + phase_definitions(ch, W_lhs, W_rhs)
    axes_words = "on every axis" if ndim > 1 else ""
    statement = [
        f"For all positive integers stride s, kernel size k, dilation δ, input length N and every padding p ≥ 0 {axes_words}"
        " with N + 2p ≥ δ(k − 1) + 1, the strided convolution",
        Display(sp.Eq(lhs, steps[0].expr, evaluate=False)),
        "equals a unit-stride convolution over the P = s" + ("_1 s_2" if ndim == 2 else "") + " phases of the zero-padded input:",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        "with kernel size k' = ⌊δ(k − 1)/s⌋ + 1 per axis and the filter bank W' defined below.",
    ]
    return ch.derivation(
        f"Theorem 2 for symbolic parameters ({ndim}-D)", lhs, steps, defs, ch.proof_grid(grid or PROOF_GRID[ndim]),
        theorem="Theorem 2, stride removal", statement=statement, name="polyphase" if ndim == 1 else f"polyphase-{ndim}d",
    )


#: Values of the symbols of a user's layer in the exhaustive check of its derivation, per number of
#: axes (input sizes follow from them: see :func:`symbol_grid`).
LAYER_GRID = {
    1: {"s": range(1, 5), "k": range(1, 7), "d": range(1, 4), "p": range(0, 3)},
    2: {"s": range(1, 4), "k": range(1, 4), "d": range(1, 3), "p": range(0, 2)},
}
#: On three or more axes every symbol takes two values.
SMALL_GRID = {"s": range(1, 3), "k": range(2, 4), "d": range(1, 3), "p": range(0, 2)}


def symbolic_layer_derivation(eq: Any, *, grid: dict | None = None) -> Derivation:
    """Theorem 2 for a layer with symbolic parameters: the chain of :func:`polyphase_steps` in the user's symbols.

    ``eq`` is a :class:`~symstride.layer.symbolic_equivalence.SymbolicEquivalence`; the derivation
    is the symbolic proof's chain with the layer's own symbols and numbers, checked on
    ``grid`` (default :data:`LAYER_GRID`) for its symbols and every input size that fits.
    """
    spec = eq.spec
    ch = LayerSignals.concrete(spec, layout=eq.layout, channel_indexed=eq.layer.channel_indexed,
                               r=eq.index_symbols["r"], j=eq.index_symbols["j"])
    lhs, steps = polyphase_steps(ch)
    defs = ch.base_definitions() + phase_definitions(ch, eq.formula_lhs, eq.formula)
    padded = "zero-padded " if ch.padded else ""
    pads = [vec([l for l, _ in spec.padding])] if all(l == r for l, r in spec.padding) else [sp.Tuple(*map(sp.Tuple, spec.padding))]
    statement = [
        "For all values of the integer symbols ", *join(spec.symbols), " (kernel, stride and dilation positive, padding "
        "nonnegative) and every input size for which the dilated kernel fits the padded input, the "
        f"{spec.ndim}-D strided convolution with kernel ", vec(spec.kernel), ", stride ", vec(spec.stride),
        ", dilation ", vec(spec.dilation), ", padding ", *pads,
        Display(sp.Eq(lhs, steps[0].expr, evaluate=False)),
        f"equals a unit-stride convolution over the ", sp.Eq(sp.Symbol("P"), eq.phases, evaluate=False),
        f" phases of the {padded}input:",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        "with kernel size ", sp.Eq(sp.Symbol("k'"), vec(eq.kernel), evaluate=False),
        " (per axis) and the filter bank W' defined below.",
    ]
    values = grid or LAYER_GRID.get(spec.ndim, SMALL_GRID)
    return ch.derivation(
        f"A strided convolution with symbols {', '.join(map(str, spec.symbols))} is a unit-stride convolution on its phases",
        lhs, steps, defs, symbol_grid(ch, values), theorem="Theorem 2, stride removal", statement=statement, name="polyphase",
    )


def symbol_grid(ch: LayerSignals, values: dict[str, Sequence[int]]) -> Any:
    """Where a user's symbolic layer is checked: every combination of ``values`` (keys ``s``, ``k``,
    ``d``, ``p``) for its symbols, and input sizes ``N`` per axis from the smallest any instance fits
    to the longest dilated kernel (plus two strides in 1-D), keeping the instances where the kernel
    fits; concrete parameters stay as they are."""
    from .step import Grid

    grid: dict[Any, list[int]] = {}
    keys = lambda ax: (("s", ax.s), ("k", ax.k), ("d", ax.d), ("p", ax.pl), ("p", ax.pr))  # noqa: E731
    for ax in ch.axes:
        for key, v in keys(ax):
            if isinstance(v, sp.Symbol) and v not in grid:
                grid[v] = list(values[key])
    for ax in ch.axes:
        low = {v: min(grid[v]) for _, v in keys(ax) if isinstance(v, sp.Symbol)}
        high = {v: max(grid[v]) for _, v in keys(ax) if isinstance(v, sp.Symbol)}
        at = lambda v, pick: int(pick.get(v, v))  # noqa: E731
        shortest = max(at(ax.d, low) * (at(ax.k, low) - 1) + 1 - at(ax.pl, high) - at(ax.pr, high), 1)
        longest = at(ax.d, high) * (at(ax.k, high) - 1) + 1 + (2 * at(ax.s, high) if ch.nd == 1 else 0)
        grid[ax.N] = list(range(shortest, max(longest, shortest) + 1))
    return Grid(grid, tuple(ch.output_domain()), tuple(ch.fits()))


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
