"""Theorem 3, one layer of a network in phase bases: the index rule ``B·j + r = s·q + δ·m − p + B·e``.

In a network with strides ``s_1 … s_L`` layer ``l`` still has ``R = Π_{i>l} s_i`` of stride to
come; its input is represented by its ``B = s·R`` phases and its output by its ``R`` phases.  With
``e = ⌈p/B⌉`` blocks of left zero padding in the phase domain, the layer is a unit-stride
convolution from the ``B`` input phases to the ``R`` output phases (1-D, one channel pair; symbolic
``s, k, δ, p, R`` and input length ``N``)::

    Y[q, b] = y[R b + q]                                       the output phase q of the strided layer
            = Σ_m w[m] x̃[s (R b + q) + δ m]                     unfold y
            = Σ_m [inside] w[m] x[s (R b + q) + δ m − p]        unfold the zero padding
            = Σ_r Σ_{m: s q + δ m − p + B e ≡ r (mod B)} …       split by residues mod B
            = Σ_r Σ_j [δ | B j + r − s q + p − B e] w[(B j + r − s q + p − B e)/δ] x[B (b + j) + r − B e]
            = Σ_r Σ_j … X[r, b + j]                              the B input phases (zero outside the input)
            = Σ_r Σ_{j=0}^{K−1} W'[q, r, j] X[r, b + j]          structural zeros: W'[q, r, j] = w[m] where B j + r = s q + δ m − p + B e

Every weight ``w[m]`` appears once per output phase ``q``: ``R`` times — the parameter sharing.
Chaining layers (the induction of Theorem 3): layer ``l``'s ``R_l`` output phases are layer
``l + 1``'s ``B_{l+1} = s_{l+1} R_{l+1} = R_l`` input phases, shifted by ``e_{l+1}`` blocks, once the
samples past the end of ``y_l`` are zeroed — the boundary mask ``M[q, b] = [R b + q < N_out]``
after the pointwise map (which commutes with the phase split, lemma ``pointwise-commutes``).  The
mask is the identity when no phase sample lies past the end, e.g. when ``N_{l−1}`` is divisible
by ``B_l`` for every later layer that pads.  That chaining is stated here, not machine-checked.

Status: all seven steps are proved for all values by the checker.  The reindex step's bounds of
``j`` — nonlinear in ``B = s R`` — are settled once the quotient by ``B`` in the obligation is
multiplied out (an equivalent claim, :mod:`symstride.proof.denominators`); the rule is the named
proof ``network-layer``, cited by the induction step of Theorem 3 for L layers
(:mod:`symstride.proof.network_theorem`).

>>> d = layer_rule_proof()
>>> [s.rule for s in d.steps][3:5]
['residue-split', 'reindex']
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..algebra.expansion import Definition
from ..algebra.lines import add, ceil_div, floor_div, mul
from ..algebra.random_evaluation import random_values
from ..render.printing import Display, Notation
from .derivation import Derivation
from .rules import Bijection, IndexSet, Partition
from .signals import nested_sum
from .step import Grid, Step, instance_oracle

__all__ = ["layer_rule_proof", "NETWORK_LAYER_GRID"]

#: Parameter values of the exhaustive evidence: s, R ≤ 2, k ≤ 3, δ ≤ 2, p ≤ 2, N ≤ 9.
NETWORK_LAYER_GRID = {"s": range(1, 3), "R": range(1, 3), "k": range(1, 4), "d": range(1, 3), "p": range(0, 3), "N": range(1, 10)}

_POS = {"integer": True, "positive": True}
_IDX = {"integer": True, "nonnegative": True}


def layer_rule_proof(*, grid: dict | None = None) -> Derivation:
    """One layer of Theorem 3 in phase bases, for symbolic ``s, k, δ, p, R, N`` (1-D, one channel pair)."""
    s, k, d, R, N = (sp.Symbol(name, **_POS) for name in ("s", "k", "delta", "R", "N"))
    p = sp.Symbol("p", **_IDX)
    q, b, m, r, j, a, t, i = (sp.Symbol(name, **_IDX) for name in ("q", "b", "m", "r", "j", "a", "t", "i"))
    x, w, xt, y, Y, X, W = (sp.IndexedBase(name) for name in ("x", "w", "xtilde", "y", "Y", "X", "W'"))
    B = mul(s, R)
    e = ceil_div(p, B)
    Nout = add(floor_div(add(N, mul(2, p), mul(-1, d, add(k, -1)), -1), s), 1)
    K = add(floor_div(add(mul(s, add(R, -1)), mul(d, add(k, -1)), mul(-1, p), mul(B, e)), B), 1)  # taps per phase
    shift = add(mul(s, q), mul(-1, p), mul(B, e))  # s q − p + B e
    reach = add(shift, mul(d, m))  # s q + δ m − p + B e
    inside = sp.And(sp.Le(p, add(mul(s, add(mul(R, b), q)), mul(d, m)), evaluate=False),
                    sp.Le(add(mul(s, add(mul(R, b), q)), mul(d, m)), add(N, p, -1), evaluate=False), evaluate=False)
    tap = mul(add(mul(B, j), r, mul(-1, shift)), sp.Pow(d, -1, evaluate=False))  # (B j + r − s q + p − B e)/δ
    divides = sp.Eq(sp.Mod(add(mul(B, j), r, mul(-1, shift)), d, evaluate=False), 0, evaluate=False)
    read = add(mul(B, add(b, j)), r, mul(-1, mul(B, e)))  # B (b + j) + r − B e
    cls = sp.Eq(sp.Mod(reach, B, evaluate=False), r, evaluate=False)
    lo = ceil_div(add(shift, mul(-1, r)), B)
    hi = floor_div(add(shift, mul(d, add(k, -1)), mul(-1, r)), B)

    steps = [
        Step(y[add(mul(R, b), q)], "definition", ("the output phase q of the strided layer: Y[q, b] = y[R b + q]",)),
        Step(nested_sum(mul(w[m], xt[add(mul(s, add(mul(R, b), q)), mul(d, m))]), [(m, 0, add(k, -1))]), "unfold",
             ("y, the strided convolution of ", sp.Symbol("xtilde"), " with w, at t = R b + q")),
        Step(nested_sum(mul(w[m], x[add(mul(s, add(mul(R, b), q)), mul(d, m), mul(-1, p))]), [(m, 0, add(k, -1), inside)]), "unfold",
             (sp.Symbol("xtilde"), " is x padded by p zeros on the left")),
        Step(nested_sum(mul(w[m], x[add(mul(s, add(mul(R, b), q)), mul(d, m), mul(-1, p))]), [(r, 0, add(B, -1)), (m, 0, add(k, -1), sp.And(inside, cls))]),
             "residue-split", ("the classes ", cls, " of the B = s R input phases"), (),
             (Partition(((q, 0, R - 1),), IndexSet(((m, 0, k - 1),)), (r, 0, s * R - 1), sp.Eq(sp.Mod(s * q + d * m - p + s * R * sp.ceiling(p / (s * R)), s * R), r)),)),
    ]
    inside_j = sp.And(sp.Le(0, read, evaluate=False), sp.Le(read, add(N, -1), evaluate=False), evaluate=False)
    bij = Bijection(((q, 0, R - 1), (r, 0, s * R - 1)),
                    IndexSet(((m, 0, k - 1),), (sp.Eq(sp.Mod(s * q + d * m - p + s * R * sp.ceiling(p / (s * R)), s * R), r),)),
                    IndexSet(((j, lo, hi),), (sp.Eq(sp.Mod(s * R * j + r - s * q + p - s * R * sp.ceiling(p / (s * R)), d), 0),)),
                    {j: (s * q + d * m - p + s * R * sp.ceiling(p / (s * R)) - r) / (s * R)},
                    {m: (s * R * j + r - s * q + p - s * R * sp.ceiling(p / (s * R))) / d})
    steps.append(Step(nested_sum(mul(w[tap], x[read]), [(r, 0, add(B, -1)), (j, lo, hi, sp.And(divides, inside_j))]), "reindex",
                      ("m ↦ j with ", sp.Eq(add(mul(B, j), r), reach, evaluate=False), ": Euclidean division by B"), (), (bij,)))
    steps.append(Step(nested_sum(mul(w[tap], X[r, add(b, j)]), [(r, 0, add(B, -1)), (j, lo, hi, divides)]), "phase-signals",
                      ("the input phases ", sp.Eq(X[r, a], x[add(mul(B, a), r, mul(-1, mul(B, e)))], evaluate=False), " (zero outside the input)"),
                      unfold=("X",)))
    steps.append(Step(nested_sum(mul(W[q, r, j], X[r, add(b, j)]), [(r, 0, add(B, -1)), (j, 0, add(K, -1))]), "structural-zeros",
                      ("W'[q, r, j] = w[m] where B j + r = s q + δ m − p + B e, else 0",)))

    A = add(floor_div(add(Nout, -1), R), K)  # the phase samples the layer reads
    definitions = [
        Definition(x[i], None, ((i, 0, add(N, -1)),), note="the layer's input"),
        Definition(w[i], None, ((i, 0, add(k, -1)),), note="the weights"),
        Definition(xt[i], sp.Piecewise((x[add(i, mul(-1, p))], sp.And(sp.Le(p, i), sp.Le(i, add(N, p, -1)), evaluate=False)), (0, True), evaluate=False),
                   ((i, 0, add(N, mul(2, p), -1)),), note="the zero-padded input"),
        Definition(y[t], nested_sum(mul(w[m], xt[add(mul(s, t), mul(d, m))]), [(m, 0, add(k, -1))]), ((t, 0, add(Nout, -1)),), note="the strided layer"),
        Definition(X[r, a], sp.Piecewise((x[add(mul(B, a), r, mul(-1, mul(B, e)))],
                                          sp.And(sp.Le(0, add(mul(B, a), r, mul(-1, mul(B, e)))), sp.Le(add(mul(B, a), r, mul(-1, mul(B, e))), add(N, -1)), evaluate=False)),
                                         (0, True), evaluate=False),
                   ((r, 0, add(B, -1)), (a, 0, A)), note="the B input phases, e blocks of zeros on the left"),
        Definition(W[q, r, j], sp.Piecewise((w[tap], sp.And(divides, sp.Le(0, tap), sp.Le(tap, add(k, -1)), evaluate=False)), (0, True), evaluate=False),
                   ((q, 0, add(R, -1)), (r, 0, add(B, -1)), (j, 0, add(K, -1))), note="the layer's bank: R tied filters over B phases"),
    ]
    values = grid or NETWORK_LAYER_GRID
    fits = sp.Ge(add(N, mul(2, p)), add(mul(d, add(k, -1)), 1))
    b_hi = add(floor_div(add(Nout, -1, mul(-1, q)), R))
    # the theorem's hypotheses: the kernel fits, and (q, b) is an output phase sample (q < N_out too)
    hypotheses = (fits, sp.Le(q, add(Nout, -1)), sp.Ge(q, 0), sp.Le(q, add(R, -1)), sp.Ge(b, 0), sp.Le(b, b_hi))
    checked = Grid({s: list(values["s"]), R: list(values["R"]), k: list(values["k"]), d: list(values["d"]), p: list(values["p"]), N: list(values["N"])},
                   ((q, 0, sp.Min(add(R, -1), add(Nout, -1))), (b, 0, b_hi)), (fits,))

    def reference(pv: dict[str, int], seed: int) -> np.ndarray:
        from ..reference.convolution import conv

        xs = random_values("x", [np.arange(pv["N"])], seed)[None, None]
        ws = random_values("w", [np.arange(pv["k"])], seed)[None, None]
        out = conv(xs, ws, stride=pv["s"], dilation=pv["delta"], padding=[(pv["p"], pv["p"])])[0, 0]
        rr = pv["R"]
        grid_out = np.zeros((rr, len(out) // rr + 1))
        for tt, v in enumerate(out):
            grid_out[tt % rr, tt // rr] = v
        return grid_out

    statement = [
        "For all positive integers s, k, δ, R, N and every p ≥ 0 with N + 2p ≥ δ(k − 1) + 1, with B = s R and e = ⌈p/B⌉, the output phase q of the strided layer",
        Display(sp.Eq(Y[q, b], steps[0].expr, evaluate=False)),
        "is a unit-stride convolution over the B input phases X:",
        Display(sp.Eq(Y[q, b], steps[-1].expr, evaluate=False)),
        "with W'[q, r, j] = w[m] where B j + r = s q + δ m − p + B e (and 0 elsewhere): every weight appears once per output phase, R times.",
    ]
    return Derivation(
        "Theorem 3, one layer in phase bases", Y[q, b], steps, theorem="Theorem 3, the layer rule", statement=statement,
        definitions=definitions, where=["xtilde", "y", "X", "W'"], grid=checked, hypotheses=hypotheses,
        notation=Notation({"x": 0, "y": 0, "xtilde": 0, "X": 1, "Y": 1}, {"xtilde": r"\tilde{x}"}, {"xtilde": "x̃"}),
        oracle=instance_oracle(reference), oracle_name="the NumPy reference convolution, output split in R phases", name="network-layer",
    )
