"""The core of Theorem 3: two strided layers with a pointwise map between them, in phase bases.

For symbolic strides ``s1, s2`` and kernel sizes ``k1, k2`` (1-D, one channel, no padding or
dilation) the network ``y = Conv_{s2}(σ(Conv_{s1}(x; w1)); w2)`` is derived into a network
of unit-stride convolutions on the ``S = s1·s2`` phases of its input::

    y[n] = Σ_q Σ_{j=0}^{k2'−1} W2'[q, j] σ( Σ_{r=0}^{S−1} Σ_{i=0}^{k1'−1} W1'[q, r, i] x_r[n + j + i] )

The first layer becomes ``s2`` filters (one per output phase ``q``) over ``S`` input phases,
``W1'[q, r, i] = w1[S i + r − s1 q]``: every weight of ``w1`` appears ``s2`` times — striding
is weight sharing.  The second layer is Theorem 2 on the ``s2`` phases of ``σ(h)``, which are
``σ`` of the phases of ``h`` (pointwise maps commute with the phase split).  ``σ`` is left
uninterpreted: the exact checks hold for every pointwise map (``σ(P) = σ(Q)`` is decided by
``P = Q``), the float64 check uses ``tanh``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .derivation import Derivation
from .step import Grid, Step, instance_oracle
from ..algebra.lines import add, ceil_div, floor_div, mul
from ..render.printing import Display, Notation
from .rules import Bijection, IndexSet, Partition, SideCondition, reindex_bounds
from .signals import nested_sum
from ..algebra.expansion import Definition
from ..algebra.random_evaluation import random_values

__all__ = ["composition_proof", "COMPOSITION_GRID"]

#: Parameter values of the exhaustive check: every network with s1, s2 ≤ 3, k1, k2 ≤ 4 and
#: input lengths N ≤ 14 in which both kernels fit.
COMPOSITION_GRID = {"s1": range(1, 4), "s2": range(1, 4), "k1": range(1, 5), "k2": range(1, 5), "N": range(1, 15)}

_POS = {"integer": True, "positive": True}
_IDX = {"integer": True, "nonnegative": True}


def composition_proof(*, grid: dict | None = None) -> Derivation:
    """Two strided layers and a pointwise map as a unit-stride network on ``S = s1 s2`` phases."""
    s1, s2, k1, k2, N = (sp.Symbol(name, **_POS) for name in ("s_1", "s_2", "k_1", "k_2", "N"))
    n, m1, m2, q, r, j, i, t, b, a = (sp.Symbol(name, **_IDX) for name in ("n", "m_1", "m_2", "q", "r", "j", "i", "t", "b", "a"))
    x, w1, w2, h, hq, xr, y = (sp.IndexedBase(name) for name in ("x", "w_1", "w_2", "h", "hphase", "xphase", "y"))
    W1, W2 = sp.IndexedBase("W_1'"), sp.IndexedBase("W_2'")
    sigma = sp.Function("sigma")
    S = mul(s1, s2)

    Nh = add(floor_div(add(N, mul(-1, k1)), s1), 1)  # length of h
    Ny = add(floor_div(add(Nh, mul(-1, k2)), s2), 1)  # length of y
    k2q = add(floor_div(add(k2, -1), s2), 1)  # k2'
    k1q = add(floor_div(add(k1, -1, mul(s1, add(s2, -1))), S), 1)  # k1'

    # (0) the network
    term0 = mul(w2[m2], sigma(h[add(mul(s2, n), m2)]))
    e0 = nested_sum(term0, [(m2, 0, add(k2, -1))])
    steps = [Step(e0, "definition", ("a stride-s₂ layer on σ(h), where h is a stride-s₁ layer on x and σ any pointwise map",))]

    # (1)-(2): Theorem 2 on the second layer: residues of m2 mod s2, reindex m2 = s2 j + q
    cls2 = sp.Eq(sp.Mod(m2, s2, evaluate=False), q, evaluate=False)
    e1 = nested_sum(term0, [(q, 0, add(s2, -1)), (m2, 0, add(k2, -1), cls2)])
    steps.append(Step(e1, "residue-split", ("second layer: the classes ", cls2), (), (Partition((), IndexSet(((m2, 0, k2 - 1),)), (q, 0, s2 - 1), cls2),)))
    lo2, hi2, side2 = reindex_bounds(0, add(k2, -1), scale=1, stride=s2, residue=q)
    tap2 = add(mul(s2, j), q)
    e2 = nested_sum(mul(w2[tap2], sigma(h[add(mul(s2, add(n, j)), q)])), [(q, 0, add(s2, -1)), (j, lo2, hi2)])
    bij2 = Bijection(((q, 0, s2 - 1),), IndexSet(((m2, 0, k2 - 1),), (cls2,)), IndexSet(((j, lo2, hi2),)), {j: (m2 - q) / s2}, {m2: s2 * j + q})
    steps.append(Step(e2, "reindex", (sp.Eq(m2, tap2, evaluate=False), ", the Euclidean division of m₂ by s₂"), tuple(side2), (bij2,)))

    # (3) the phases of σ(h) are σ of the phases of h
    e3 = nested_sum(mul(w2[tap2], sigma(hq[q, add(n, j)])), [(q, 0, add(s2, -1)), (j, lo2, hi2)])
    steps.append(Step(e3, "pointwise-commutes", ("σ(h)[", add(mul(s2, b), q), "] = σ(h_q[b]) with the phases ", sp.Eq(hq[q, b], h[add(mul(s2, b), q)], evaluate=False))))

    # (4) structural zeros of the second layer's bank
    e4 = nested_sum(mul(W2[q, j], sigma(hq[q, add(n, j)])), [(q, 0, add(s2, -1)), (j, 0, add(k2q, -1))])
    steps.append(Step(e4, "structural-zeros", ("the second layer's bank W₂' has k₂' = ⌊(k₂ − 1)/s₂⌋ + 1 taps per phase",),
                      (SideCondition(sp.Le(hi2, add(k2q, -1), evaluate=False), "every phase sum of the second layer has at most k2' terms", ((q, 0, s2 - 1),)),)))

    # (5) the first layer, read at the phases: h_q[b] = Σ w1[m1] x[S b + s1 q + m1]
    reach = add(mul(s1, q), m1)
    inner5 = nested_sum(mul(w1[m1], x[add(mul(S, add(n, j)), reach)]), [(m1, 0, add(k1, -1))])
    e5 = nested_sum(mul(W2[q, j], sigma(inner5)), [(q, 0, add(s2, -1)), (j, 0, add(k2q, -1))])
    steps.append(Step(e5, "unfold", ("the first layer at the phases: ", sp.Eq(hq[q, b], nested_sum(mul(w1[m1], x[add(mul(S, b), reach)]), [(m1, 0, add(k1, -1))]), evaluate=False)),
                      unfold=("W_2'", "hphase", "h")))

    # (6)-(7): residues of s1 q + m1 mod S, reindex s1 q + m1 = S i + r
    cls1 = sp.Eq(sp.Mod(reach, S, evaluate=False), r, evaluate=False)
    inner6 = nested_sum(mul(w1[m1], x[add(mul(S, add(n, j)), reach)]), [(r, 0, add(S, -1)), (m1, 0, add(k1, -1), cls1)])
    e6 = nested_sum(mul(W2[q, j], sigma(inner6)), [(q, 0, add(s2, -1)), (j, 0, add(k2q, -1))])
    part1 = Partition(((q, 0, s2 - 1),), IndexSet(((m1, 0, k1 - 1),)), (r, 0, s1 * s2 - 1), sp.Eq(sp.Mod(s1 * q + m1, s1 * s2), r))
    steps.append(Step(e6, "residue-split", ("first layer: the classes ", cls1, " of its S = s₁s₂ input phases"), (), (part1,)))
    lo1, hi1, side1 = reindex_bounds(0, add(k1, -1), scale=1, stride=S, residue=r, shift=mul(s1, q), context=((q, 0, s2 - 1),))
    tap1 = add(mul(S, i), r, mul(-1, mul(s1, q)))
    inner7 = nested_sum(mul(w1[tap1], x[add(mul(S, add(n, j, i)), r)]), [(r, 0, add(S, -1)), (i, lo1, hi1)])
    e7 = nested_sum(mul(W2[q, j], sigma(inner7)), [(q, 0, add(s2, -1)), (j, 0, add(k2q, -1))])
    bij1 = Bijection(
        ((q, 0, s2 - 1), (r, 0, s1 * s2 - 1)),
        IndexSet(((m1, 0, k1 - 1),), (sp.Eq(sp.Mod(s1 * q + m1, s1 * s2), r),)),
        IndexSet(((i, lo1, hi1),)),
        {i: (s1 * q + m1 - r) / (s1 * s2)},
        {m1: s1 * s2 * i + r - s1 * q},
    )
    steps.append(Step(e7, "reindex", (sp.Eq(m1, tap1, evaluate=False), "; the bounds of i are solved from 0 ≤ m₁ ≤ k₁ − 1"), tuple(side1), (bij1,)))

    # (8) the S phases of the input
    inner8 = nested_sum(mul(w1[tap1], xr[r, add(n, j, i)]), [(r, 0, add(S, -1)), (i, lo1, hi1)])
    e8 = nested_sum(mul(W2[q, j], sigma(inner8)), [(q, 0, add(s2, -1)), (j, 0, add(k2q, -1))])
    steps.append(Step(e8, "phase-signals", ("the phases ", sp.Eq(xr[r, a], x[add(mul(S, a), r)], evaluate=False), " (space-to-depth by S)"), unfold=("W_2'", "xphase")))

    # (9) structural zeros of the first layer's bank: a unit-stride network
    inner9 = nested_sum(mul(W1[q, r, i], xr[r, add(n, j, i)]), [(r, 0, add(S, -1)), (i, 0, add(k1q, -1))])
    e9 = nested_sum(mul(W2[q, j], sigma(inner9)), [(q, 0, add(s2, -1)), (j, 0, add(k2q, -1))])
    fits = (
        SideCondition(sp.Ge(lo1, 0, evaluate=False), "the first layer's phase sums start at i ≥ 0", ((q, 0, s2 - 1), (r, 0, s1 * s2 - 1))),
        SideCondition(sp.Le(hi1, add(k1q, -1), evaluate=False), "and end at i ≤ k1' − 1", ((q, 0, s2 - 1), (r, 0, s1 * s2 - 1))),
    )
    steps.append(Step(e9, "structural-zeros", ("W₁'[q, r, i] = w₁[S i + r − s₁ q] where that is a tap, else 0: s₂ tied filters over S phases",), fits))

    definitions = [
        Definition(x[a], None, ((a, 0, add(N, -1)),), note="the input"),
        Definition(w1[a], None, ((a, 0, add(k1, -1)),), note="the first layer's weights"),
        Definition(w2[a], None, ((a, 0, add(k2, -1)),), note="the second layer's weights"),
        Definition(h[t], nested_sum(mul(w1[m1], x[add(mul(s1, t), m1)]), [(m1, 0, add(k1, -1))]), ((t, 0, add(Nh, -1)),), note="the first layer's output"),
        Definition(hq[q, b], h[add(mul(s2, b), q)], ((q, 0, add(s2, -1)), (b, 0, add(ceil_div(add(Nh, mul(-1, q)), s2), -1))), note="the phases of h"),
        Definition(
            xr[r, a], sp.Piecewise((x[add(mul(S, a), r)], sp.Le(add(mul(S, a), r), add(N, -1), evaluate=False)), (0, True), evaluate=False),
            ((r, 0, add(S, -1)), (a, 0, add(Ny, k2q, k1q))), note="the phases of the input (zero past its end)",
        ),
        Definition(W2[q, j], sp.Piecewise((w2[tap2], sp.Le(tap2, add(k2, -1), evaluate=False)), (0, True), evaluate=False),
                   ((q, 0, add(s2, -1)), (j, 0, add(k2q, -1))), note="the second layer's equivalent bank"),
        Definition(
            W1[q, r, i],
            sp.Piecewise((w1[tap1], sp.And(sp.Le(0, tap1, evaluate=False), sp.Le(tap1, add(k1, -1), evaluate=False), evaluate=False)), (0, True), evaluate=False),
            ((q, 0, add(s2, -1)), (r, 0, add(S, -1)), (i, 0, add(k1q, -1))), note="the first layer's equivalent bank: s2 filters, tied",
        ),
    ]
    values = grid or COMPOSITION_GRID
    checked = Grid(
        {s1: list(values["s1"]), s2: list(values["s2"]), k1: list(values["k1"]), k2: list(values["k2"]), N: list(values["N"])},
        ((n, 0, add(Ny, -1)),),
        (sp.Ge(N, k1), sp.Ge(Nh, k2)),
    )

    def reference(p: dict[str, int], seed: int) -> np.ndarray:
        from ..reference.convolution import conv

        xs = random_values("x", [np.arange(p["N"])], seed)[None, None]
        a1 = random_values("w_1", [np.arange(p["k_1"])], seed)[None, None]
        a2 = random_values("w_2", [np.arange(p["k_2"])], seed)[None, None]
        return conv(np.tanh(conv(xs, a1, stride=p["s_1"])), a2, stride=p["s_2"])[0, 0]

    notation = Notation(
        {"x": 0, "h": 0, "y": 0, "hphase": 1, "xphase": 1},
        {"hphase": "h", "xphase": "x", "W_1'": "{W'_{1}}", "W_2'": "{W'_{2}}"},
        {"hphase": "h", "xphase": "x", "W_1'": "W₁'", "W_2'": "W₂'"},
    )
    statement = [
        "For all positive integers s₁, s₂, k₁, k₂ and input lengths N for which both kernels fit, and every pointwise map σ, the network",
        Display(sp.Eq(y[n], e0, evaluate=False)),
        "with h the first layer (stride s₁, kernel k₁) equals a network of unit-stride convolutions on the S = s₁s₂ phases of its input:",
        Display(sp.Eq(y[n], e9, evaluate=False)),
        "The first layer becomes s₂ filters over S channels built from the same k₁ weights (tied), the second a unit-stride convolution over s₂ channels.",
    ]
    return Derivation(
        "Two strided layers are a unit-stride network on S = s1 s2 phases",
        y[n],
        steps,
        theorem="Theorem 3, core: strided layers in phase bases",
        statement=statement,
        definitions=definitions,
        grid=checked,
        notation=notation,
        oracle=instance_oracle(reference),
        oracle_name="the NumPy reference network with σ = tanh",
        name="composition",
    )
