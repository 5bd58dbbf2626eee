"""The operator lemmas of the rule library, each proved for symbolic parameters by a derivation.

``D_a D_b = D_ab``, the noble identity and its transpose, pointwise maps commuting with
subsampling and space-to-depth, and space-to-depth being a permutation.  Each derivation ends
with the step that *folds* the definition it proves equal (rule ``unfold``), never citing the
lemma itself; the steps elsewhere that cite a lemma rule need its proof here to be proved
(:func:`symstride.proof.citations.lemma_verdict`).

>>> subsampling_composition().check().proved
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import sympy as sp

from .derivation import Derivation
from .step import Grid, Step, instance_oracle
from ..algebra.lines import add, ceil_div, floor_div, mul
from ..render.printing import Display, Iverson, Notation, OperatorName
from .rules import Bijection, IndexSet, SideCondition
from .signals import nested_sum
from ..algebra.random_evaluation import POINTWISE, random_values
from ..algebra.expansion import Definition

__all__ = ["subsampling_composition", "noble_identity", "transposed_noble_identity", "pointwise_commutes", "space_to_depth_permutation"]

_POS = {"integer": True, "positive": True}
_IDX = {"integer": True, "nonnegative": True}


def _sym(names: str, **assumptions: Any) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(n, **(assumptions or _IDX)) for n in names.split())


# ---------------------------------------------------------------------------------------------
# The operator lemmas of the rule library.
# ---------------------------------------------------------------------------------------------


def subsampling_composition() -> Derivation:
    """``D_a D_b = D_{ab}``: subsampling twice is subsampling once by the product."""
    a, b, N = _sym("a b N", **_POS)
    n, t = _sym("n t")
    x, v, y, u = (sp.IndexedBase(s) for s in ("x", "Dbx", "y", "Dabx"))
    steps = [
        Step(v[mul(a, n)], "definition", ("y = ", OperatorName("D", "a"), " v with v = ", OperatorName("D", "b"), " x")),
        Step(x[mul(b, sp.Mul(a, n, evaluate=False))], "unfold", ("v[t] = x[b t]",)),
        Step(x[mul(mul(a, b), n)], "index-arithmetic", ("b (a n) = (a b) n",)),
        Step(u[n], "unfold", ("the subsampling by a b: ", sp.Eq(u[n], x[mul(a, b, n)], evaluate=False)),
             (SideCondition(sp.Eq(ceil_div(ceil_div(N, b), a), ceil_div(N, mul(a, b)), evaluate=False), "both sides have the same length"),)),
    ]
    defs = [
        Definition(x[t], None, ((t, 0, add(N, -1)),), note="the input"),
        Definition(v[t], x[mul(b, t)], ((t, 0, add(ceil_div(N, b), -1)),), note="the input subsampled by b"),
        Definition(u[t], x[mul(a, b, t)], ((t, 0, add(ceil_div(N, mul(a, b)), -1)),), note="the input subsampled by a b"),
    ]
    grid = Grid({a: range(1, 6), b: range(1, 6), N: range(1, 41)}, ((n, 0, add(ceil_div(ceil_div(N, b), a), -1)),))

    def reference(p: dict[str, int], seed: int) -> np.ndarray:
        return random_values("x", [np.arange(p["N"])], seed)[:: p["b"]][:: p["a"]]

    return Derivation(
        "Subsampling twice is subsampling by the product", y[n], steps,
        theorem="Lemma, composition of subsamplings",
        statement=["For all positive integers a, b and input lengths N,", Display(sp.Eq(y[n], steps[-1].expr, evaluate=False)),
                   "where y = D_a D_b x: the composition of subsamplings by a and by b is the subsampling by a b."],
        definitions=defs, where=["Dbx", "Dabx"], grid=grid,
        notation=Notation({"x": 0, "y": 0, "Dbx": 0, "Dabx": 0}, {"Dbx": r"(D_{b} x)", "Dabx": r"(D_{a b} x)"}, {"Dbx": "(D_b x)", "Dabx": "(D_ab x)"}),
        oracle=instance_oracle(reference), oracle_name="NumPy slicing", name="subsampling-composition",
    )


def noble_identity() -> Derivation:
    """``D_s Conv_1(·; w↑s) = Conv_1(·; w) D_s``: the filter upsampled by ``s`` commutes with subsampling."""
    s, k, N = _sym("s k N", **_POS)
    n, m, t = _sym("n m t")
    x, w, u, v, y = (sp.IndexedBase(name) for name in ("x", "w", "u", "Dsx", "y"))
    steps = [
        Step(u[mul(s, n)], "definition", ("y = ", OperatorName("D", "s"), " u with u the unit-stride convolution with w upsampled by s",)),
        Step(nested_sum(mul(w[m], x[add(mul(s, n), mul(s, m))]), [(m, 0, add(k, -1))]), "unfold", ("u[t] = Σ w[m] x[t + s m]",)),
        Step(nested_sum(mul(w[m], x[mul(s, add(n, m))]), [(m, 0, add(k, -1))]), "index-arithmetic", ("s n + s m = s (n + m)",)),
        Step(nested_sum(mul(w[m], v[add(n, m)]), [(m, 0, add(k, -1))]), "unfold", ("the unit-stride convolution with w of ", OperatorName("D", "s"), " x"),
             (SideCondition(sp.Eq(ceil_div(add(N, mul(-1, s, add(k, -1))), s), add(ceil_div(N, s), mul(-1, add(k, -1)))), "both sides have the same length"),)),
    ]
    defs = [
        Definition(x[t], None, ((t, 0, add(N, -1)),), note="the input"),
        Definition(w[t], None, ((t, 0, add(k, -1)),), note="the filter"),
        Definition(u[t], nested_sum(mul(w[m], x[add(t, mul(s, m))]), [(m, 0, add(k, -1))]), ((t, 0, add(N, mul(-1, s, add(k, -1)), -1)),), note="filtering with w upsampled by s"),
        Definition(v[t], x[mul(s, t)], ((t, 0, add(ceil_div(N, s), -1)),), note="the input subsampled by s"),
    ]
    grid = Grid({s: range(1, 5), k: range(1, 6), N: range(1, 31)}, ((n, 0, add(ceil_div(add(N, mul(-1, s, add(k, -1))), s), -1)),),
                (sp.Ge(N, s * (k - 1) + 1),))

    def reference(p: dict[str, int], seed: int) -> np.ndarray:
        from ..reference.convolution import conv

        xs = random_values("x", [np.arange(p["N"])], seed)[None, None]
        ws = random_values("w", [np.arange(p["k"])], seed)[None, None]
        return conv(xs, ws, dilation=p["s"])[0, 0, :: p["s"]]

    return Derivation(
        "The noble identity", y[n], steps, theorem="Lemma, the noble identity",
        statement=["For all positive integers s, k and input lengths N ≥ s(k − 1) + 1, subsampling after the filter w upsampled by s",
                   Display(sp.Eq(y[n], steps[0].expr, evaluate=False)), "equals filtering the subsampled input with w:",
                   Display(sp.Eq(y[n], steps[-1].expr, evaluate=False))],
        definitions=defs, where=["u", "Dsx"], grid=grid,
        notation=Notation({"x": 0, "y": 0, "u": 0, "Dsx": 0}, {"Dsx": r"(D_{s} x)"}, {"Dsx": "(D_s x)"}),
        oracle=instance_oracle(reference), oracle_name="the NumPy reference convolution", name="noble-identity",
    )


def transposed_noble_identity() -> Derivation:
    """``Conv_1(U_s x; h↑s) = U_s Conv_1(x; h)``: upsampling commutes with a filter upsampled by ``s``.

    The dual of :func:`noble_identity`, the multirate identity behind sub-pixel convolution:
    filtering the upsampled input with ``h`` upsampled by ``s`` is upsampling the filtered input.
    """
    s, k, N = _sym("s k N", **_POS)
    t, m, i = _sym("t m i")
    x, h, xu, c, cu, y = (sp.IndexedBase(name) for name in ("x", "h", "Usx", "c", "Usc", "y"))
    divides = lambda e: sp.Eq(sp.Mod(e, s, evaluate=False), 0, evaluate=False)  # noqa: E731
    over_s = lambda e: mul(e, sp.Pow(s, -1, evaluate=False))  # noqa: E731
    steps = [
        Step(nested_sum(mul(h[m], xu[add(t, mul(s, m))]), [(m, 0, add(k, -1))]), "definition",
             ("y = Conv_1(", OperatorName("U", "s"), " x; h upsampled by s): y[t] = Σ h[m] (U_s x)[t + s m]",)),
        Step(nested_sum(mul(h[m], x[over_s(add(t, mul(s, m)))]), [(m, 0, add(k, -1), divides(add(t, mul(s, m))))]), "unfold",
             ("(U_s x)[i] = x[i/s] where s divides i, else 0",)),
        Step(sp.Mul(Iverson(divides(t)), nested_sum(mul(h[m], x[add(over_s(t), m)]), [(m, 0, add(k, -1))]), evaluate=False), "index-arithmetic",
             ("s | t + s m ⇔ s | t, and (t + s m)/s = t/s + m",)),
        Step(sp.Mul(Iverson(divides(t)), c[over_s(t)], evaluate=False), "unfold",
             ("c = Conv_1(x; h) read at t/s",),
             (SideCondition(sp.Eq(add(mul(s, add(N, -1)), 1, mul(-1, s, add(k, -1))), add(mul(s, add(N, -k)), 1)), "both sides have the same length"),)),
        Step(cu[t], "unfold", ("(U_s c)[t] = c[t/s] where s divides t, else 0",)),
    ]
    defs = [
        Definition(x[i], None, ((i, 0, add(N, -1)),), note="the input"),
        Definition(h[i], None, ((i, 0, add(k, -1)),), note="the filter"),
        Definition(xu[i], sp.Piecewise((x[over_s(i)], divides(i)), (0, True), evaluate=False), ((i, 0, mul(s, add(N, -1))),), note="the input upsampled by s"),
        Definition(c[i], nested_sum(mul(h[m], x[add(i, m)]), [(m, 0, add(k, -1))]), ((i, 0, add(N, -k)),), note="the filtered input"),
        Definition(cu[i], sp.Piecewise((c[over_s(i)], divides(i)), (0, True), evaluate=False), ((i, 0, mul(s, add(N, -k))),), note="the filtered input upsampled by s"),
    ]
    grid = Grid({s: range(1, 5), k: range(1, 6), N: range(1, 16)}, ((t, 0, mul(s, add(N, -k))),), (sp.Ge(N, k),))

    def reference(p: dict[str, int], seed: int) -> np.ndarray:
        from ..reference.convolution import conv

        up = np.zeros(p["s"] * (p["N"] - 1) + 1)
        up[:: p["s"]] = random_values("x", [np.arange(p["N"])], seed)
        hs = random_values("h", [np.arange(p["k"])], seed)[None, None]
        return conv(up[None, None], hs, dilation=p["s"])[0, 0]

    return Derivation(
        "The transposed noble identity", y[t], steps, theorem="Lemma, the transposed noble identity",
        statement=["For all positive integers s, k and input lengths N ≥ k, filtering the upsampled input with h upsampled by s",
                   Display(sp.Eq(y[t], steps[0].expr, evaluate=False)), "equals upsampling the filtered input:",
                   Display(sp.Eq(y[t], steps[-1].expr, evaluate=False))],
        definitions=defs, where=["Usx", "c", "Usc"], grid=grid,
        notation=Notation({"x": 0, "y": 0, "Usx": 0, "c": 0, "Usc": 0}, {"Usx": r"(U_{s} x)", "Usc": r"(U_{s} c)"}, {"Usx": "(U_s x)", "Usc": "(U_s c)"}),
        oracle=instance_oracle(reference), oracle_name="the NumPy reference convolution on the upsampled input", name="noble-identity-transposed",
    )


def pointwise_commutes() -> list[Derivation]:
    """``σ(D_s x) = D_s σ(x)`` and ``σ(S2D_s x) = S2D_s σ(x)`` for every pointwise ``σ``."""
    s, N = _sym("s N", **_POS)
    n, t, r, b = _sym("n t r b")
    x, ax, vx, z, y = (sp.IndexedBase(name) for name in ("x", "sigmax", "Dsx", "z", "y"))
    sigma = sp.Function("sigma")
    base = [Definition(x[t], None, ((t, 0, add(N, -1)),), note="the input"),
            Definition(ax[t], sigma(x[t]), ((t, 0, add(N, -1)),), note="σ applied to every sample")]
    notation = Notation({"x": 0, "y": 0, "sigmax": 0, "Dsx": 0, "z": 1}, {"sigmax": r"\sigma(x)", "Dsx": r"(D_{s} x)"}, {"sigmax": "σ(x)", "Dsx": "(D_s x)"})

    sub_steps = [
        Step(ax[mul(s, n)], "definition", ("y = ", OperatorName("D", "s"), " σ(x)")),
        Step(sigma(x[mul(s, n)]), "unfold", ("σ acts on each sample",)),
        Step(sigma(vx[n]), "unfold", ("the sample s n of x is sample n of ", OperatorName("D", "s"), " x")),
    ]
    grid = Grid({s: range(1, 6), N: range(1, 31)}, ((n, 0, add(ceil_div(N, s), -1)),))

    def sub_reference(p: dict[str, int], seed: int) -> np.ndarray:
        return POINTWISE["sigma"](random_values("x", [np.arange(p["N"])], seed))[:: p["s"]]

    first = Derivation(
        "Pointwise maps commute with subsampling", y[n], sub_steps, theorem="Lemma, pointwise maps and subsampling",
        statement=["For every pointwise map σ, all positive integers s and input lengths N,", Display(sp.Eq(y[n], sub_steps[-1].expr, evaluate=False)),
                   "where y = D_s σ(x): subsampling and σ commute."],
        definitions=base + [Definition(vx[t], x[mul(s, t)], ((t, 0, add(ceil_div(N, s), -1)),), note="the input subsampled by s")],
        where=["sigmax", "Dsx"], grid=grid, notation=notation,
        oracle=instance_oracle(sub_reference), oracle_name="NumPy with σ = tanh", name="pointwise-commutes",
    )
    s2d_steps = [
        Step(ax[add(mul(s, b), r)], "definition", ("y = ", OperatorName("S2D", "s"), " σ(x), phase r")),
        Step(sigma(x[add(mul(s, b), r)]), "unfold", ("σ acts on each sample",)),
        Step(sigma(z[r, b]), "unfold", ("the sample s b + r of x is phase r, sample b of ", OperatorName("S2D", "s"), " x")),
    ]
    grid2 = Grid({s: range(1, 6), N: range(1, 31)}, ((r, 0, add(s, -1)), (b, 0, add(floor_div(N, s), -1))), (sp.Eq(sp.Mod(N, s), 0),))

    def s2d_reference(p: dict[str, int], seed: int) -> np.ndarray:
        values = POINTWISE["sigma"](random_values("x", [np.arange(p["N"])], seed))
        return values.reshape(-1, p["s"]).T

    second = Derivation(
        "Pointwise maps commute with space-to-depth", y[r, b], s2d_steps, theorem="Lemma, pointwise maps and space-to-depth",
        statement=["For every pointwise map σ, all positive integers s and input lengths N divisible by s,",
                   Display(sp.Eq(y[r, b], s2d_steps[-1].expr, evaluate=False)), "where y = S2D_s σ(x): space-to-depth and σ commute."],
        definitions=base + [Definition(z[r, b], x[add(mul(s, b), r)], ((r, 0, add(s, -1)), (b, 0, add(floor_div(N, s), -1))), note="the phases of the input")],
        where=["sigmax", "z"], grid=grid2, notation=notation,
        oracle=instance_oracle(s2d_reference), oracle_name="NumPy with σ = tanh", name="pointwise-commutes-s2d",
    )
    return [first, second]


def space_to_depth_permutation() -> list[Derivation]:
    """``D2S_s S2D_s = I`` and ``S2D_s D2S_s = I``: space-to-depth is a permutation of the entries."""
    s, N, M = _sym("s N M", **_POS)
    t, r, b = _sym("t r b")
    x, z, y, zz, u = (sp.IndexedBase(name) for name in ("x", "z", "y", "Z", "u"))
    notation = Notation({"x": 0, "y": 0, "z": 1, "Z": 1, "u": 0}, {"Z": "z"}, {"Z": "z"})
    euclid = Bijection((), IndexSet(((t, 0, N - 1),)), IndexSet(((r, 0, s - 1), (b, 0, sp.floor(N / s) - 1))),
                       {r: sp.Mod(t, s), b: sp.floor(t / s)}, {t: s * b + r})
    there = [
        Step(z[sp.Mod(t, s, evaluate=False), floor_div(t, s)], "definition", ("y = ", OperatorName("D2S", "s"), " z with z = ", OperatorName("S2D", "s"), " x")),
        Step(x[add(mul(s, floor_div(t, s)), sp.Mod(t, s, evaluate=False))], "unfold", ("z[r, b] = x[s b + r]",)),
        Step(x[t], "index-arithmetic", ("Euclidean division: t = s ⌊t/s⌋ + (t mod s), and t ↦ (t mod s, ⌊t/s⌋) is a bijection",), (), (euclid,)),
    ]
    first = Derivation(
        "Depth-to-space undoes space-to-depth", y[t], there, theorem="Lemma, space-to-depth is a permutation",
        statement=["For all positive integers s and input lengths N divisible by s,", Display(sp.Eq(y[t], x[t], evaluate=False)),
                   "where y = D2S_s S2D_s x; the map is a bijection of the entries, so S2D_s is a permutation with inverse D2S_s."],
        definitions=[Definition(x[t], None, ((t, 0, add(N, -1)),), note="the input"),
                     Definition(z[r, b], x[add(mul(s, b), r)], ((r, 0, add(s, -1)), (b, 0, add(floor_div(N, s), -1))), note="the phases of x")],
        where=["z"], grid=Grid({s: range(1, 6), N: range(1, 31)}, ((t, 0, add(N, -1)),), (sp.Eq(sp.Mod(N, s), 0),)), notation=notation,
        oracle=instance_oracle(lambda p, seed: random_values("x", [np.arange(p["N"])], seed)), oracle_name="the input itself",
        name="space-to-depth-permutation",
    )
    back = [
        Step(u[add(mul(s, b), r)], "definition", ("y = ", OperatorName("S2D", "s"), " u with u = ", OperatorName("D2S", "s"), " z")),
        Step(zz[sp.Mod(add(mul(s, b), r), s, evaluate=False), floor_div(add(mul(s, b), r), s)], "unfold", ("u[t] = z[t mod s, ⌊t/s⌋]",)),
        Step(zz[r, b], "index-arithmetic", ("(s b + r) mod s = r and ⌊(s b + r)/s⌋ = b for 0 ≤ r < s",)),
    ]
    second = Derivation(
        "Space-to-depth undoes depth-to-space", y[r, b], back, theorem="Lemma, depth-to-space is the inverse",
        statement=["For all positive integers s and M,", Display(sp.Eq(y[r, b], zz[r, b], evaluate=False)), "where y = S2D_s D2S_s z."],
        definitions=[Definition(zz[r, b], None, ((r, 0, add(s, -1)), (b, 0, add(M, -1))), note="the phases"),
                     Definition(u[t], zz[sp.Mod(t, s), sp.floor(t / s)], ((t, 0, add(mul(s, M), -1)),), note="depth-to-space of z")],
        where=["u"], grid=Grid({s: range(1, 6), M: range(1, 9)}, ((r, 0, add(s, -1)), (b, 0, add(M, -1)))), notation=notation,
        oracle=instance_oracle(lambda p, seed: random_values("Z", list(np.indices((p["s"], p["M"]))), seed)), oracle_name="z itself",
        name="depth-to-space-inverse",
    )
    return [first, second]
