"""Theorem 3 for L layers, with padding and boundary masks: induction on the layers.

A strided network has layers ``l = 1 … L`` (stride ``s_l``, kernel ``k_l``, dilation ``δ_l``,
padding ``p_l``) with pointwise maps ``σ`` between them.  With ``R_l = s_{l+1} ⋯ s_L`` (stride still
to come after layer ``l``), ``B_l = s_l R_l = R_{l−1}`` and ``e_l = ⌈p_l/B_l⌉``, write
``Y_l[q, b] = y_l[R_l b + q]`` for the ``R_l`` output phases of layer ``l`` (``Y_0``: the
``R_0 = s_1 ⋯ s_L`` phases of the input, its space-to-depth).  **Theorem 3**: for every ``l``,

    Y_l[q, b] = Σ_r Σ_{j=0}^{K−1} W'_l[q, r, j] · M_{l−1}[r, b + j − e_l] · σ(Y_{l−1}[r, b + j − e_l])

with the layer's tied bank ``W'_l`` (each weight once per output phase ``q``) and the boundary mask
``M_{l−1}[r, a] = [0 ≤ B_l a + r ≤ N_{l−1} − 1]`` (zero where a phase sample lies before the start or past
the end of ``y_{l−1}``; it is the identity on the samples read when none does).  So the strided
network is a unit-stride network of tied layers on the phases of its input, and ``y_L = Y_L``
(``R_L = 1``).

*Proof*, by induction on ``l``.  ``l = 0`` is the definition of ``Y_0``.  The induction step is
the derivation :func:`network_step_proof`, for all values of the layer's symbols (so for every
layer): line 1 cites the one-layer rule (the proof ``network-layer``, rule ``apply-result``);
line 2 unfolds the layer's input phases ``X`` and the input ``x = σ(y_{l−1})`` and folds the
previous layer's phases (``B_l a + r − B_l e_l = B_l (a − e_l) + r``, an index identity) and its
mask.  Nothing is checked on a grid only: both steps are proved for all values by z3.

>>> d = network_step_proof()
>>> [s.rule for s in d.steps]
['definition', 'apply-result', 'unfold']
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..algebra.expansion import Definition
from ..algebra.lines import add, mul
from ..render.printing import Display, Notation
from .derivation import Derivation
from .network_layer import layer_rule_proof
from .products import AxisProduct
from .signals import nested_sum
from .step import Step

__all__ = ["network_step_proof", "THEOREM_3"]

#: The statement of Theorem 3 for L layers (prose), printed before the induction step.
THEOREM_3 = (
    "For a strided network of L layers (stride s_l, kernel k_l, dilation δ_l, padding p_l ≥ 0, pointwise maps σ between "
    "layers), with R_l = s_(l+1)⋯s_L, B_l = s_l R_l = R_(l−1), e_l = ⌈p_l/B_l⌉ and the output phases Y_l[q, b] = y_l[R_l b + q] "
    "(Y_0: the R_0 = s_1⋯s_L phases of the input), for every l = 1, …, L and all values of the symbols, "
    "Y_l is the unit-stride convolution of the masked, shifted phases of σ(Y_(l−1)) with the tied bank W'_l below, "
    "each weight appearing once per output phase; hence y_L = Y_L is a unit-stride network of tied layers on the "
    "phases of the input. Proof: by induction on l; l = 0 is the definition of Y_0, and the induction step is the "
    "derivation below, for layer l's symbols (s = s_l, k = k_l, δ = δ_l, p = p_l, R = R_l, N = N_(l−1), the length of y_(l−1))."
)


def network_step_proof() -> Derivation:
    """The induction step of Theorem 3: layer ``l``'s output phases from layer ``l − 1``'s (1-D, one channel pair)."""
    one = layer_rule_proof()
    pos, idx = {"integer": True, "positive": True}, {"integer": True, "nonnegative": True}
    s, k, d, R, N = (sp.Symbol(n, **pos) for n in ("s", "k", "delta", "R", "N"))  # as in the one-layer rule
    p, q, b, m, r, j, a, t, i = (sp.Symbol(n, **idx) for n in ("p", "q", "b", "m", "r", "j", "a", "t", "i"))
    B = mul(s, R)
    e = sp.ceiling(p / (s * R))
    x, W, Yp, yp, M = (sp.IndexedBase(n) for n in ("x", "W'", "Yprev", "yprev", "M"))
    sigma = sp.Function("sigma")
    K_hi = one.steps[-1].expr.limits[0][2]  # the tap range of the one-layer rule (j = 0 … K − 1)
    back = add(b, j, mul(-1, e))
    line2 = nested_sum(mul(W[q, r, j], M[r, back], sigma(Yp[r, back])), [(r, 0, add(B, -1)), (j, 0, K_hi)])
    identity = {v: v for v in (s, k, d, R, N, p, q, b, m, r, j, a, t, i)}  # layer l's symbols are the rule's own
    steps = [
        one.steps[0],
        Step(one.steps[-1].expr, "apply-result", ("the one-layer rule (network-layer, lines 0 = 6) for layer l",),
             product=AxisProduct("network-layer", (0, len(one.steps) - 1), (identity,))),
        Step(line2, "unfold", ("the layer's input phases X[r, a] = x[B a + r − B e] with x = σ(y_(l−1)) and y_(l−1)[B a' + r] = Y_(l−1)[r, a'] "
                               "(R_(l−1) = B); zero outside y_(l−1): the mask M",)),
    ]
    inside = sp.And(sp.Le(0, a, evaluate=False), sp.Le(add(mul(B, a), r), add(N, -1), evaluate=False), evaluate=False)
    top = one.definitions["X"].domain[1][2]  # the phase samples the layer reads
    definitions = [d for d in one.definitions.values() if d.name != "x"] + [
        Definition(yp[i], None, ((i, 0, add(N, -1)),), note="the output of layer l − 1"),
        Definition(x[i], sigma(yp[i]), ((i, 0, add(N, -1)),), note="the input of layer l: the pointwise map of y_(l−1)"),
        Definition(Yp[r, a], yp[add(mul(B, a), r)], ((r, 0, add(B, -1)), (a, 0, add(N, -1))), note="the R_(l−1) = B output phases of layer l − 1"),
        Definition(M[r, a], sp.Piecewise((1, inside), (0, True), evaluate=False), ((r, 0, add(B, -1)), (a, -sp.ceiling(p / (s * R)), top)),
                   note="the boundary mask of layer l − 1: 1 on the samples of y_(l−1), 0 before its start and past its end"),
    ]
    statement = [
        THEOREM_3,
        Display(sp.Eq(one.lhs, steps[-1].expr, evaluate=False)),
        "with e = ⌈p/B⌉, B = s R and W'[q, r, j] = w[m] where B j + r = s q + δ m − p + B e (0 elsewhere).",
    ]
    return Derivation(
        "Theorem 3 for L layers: the induction step", one.lhs, steps, theorem="Theorem 3, strided networks", statement=statement,
        definitions=definitions, where=["xtilde", "y", "X", "W'", "x", "Yprev", "M"], grid=one.grid, hypotheses=one.hypotheses,
        notation=Notation({"x": 0, "y": 0, "xtilde": 0, "yprev": 0, "X": 1, "Y": 1, "Yprev": 1, "M": 1},
                          {"xtilde": r"\tilde{x}", "yprev": r"y_{l-1}", "Yprev": r"Y_{l-1}"}, {"xtilde": "x̃", "yprev": "y_(l−1)", "Yprev": "Y_(l−1)"}),
        name="network",
    )
