"""Theorem 2 and the sub-pixel theorem on any number of axes: the product of the 1-D proofs.

The d-axis statement is not re-derived axis by axis: its chain cites the proved 1-D theorem
through the rule ``separable-product`` (:mod:`symstride.proof.products`), with the substitution
of each axis's symbols recorded::

    y[n_1, …, n_d] = Σ_m w[m] x̃[s_1 n_1 + δ_1 m_1, …]                       definition
                   = Σ_r Σ_j W'[φ(r), j] x̃_r[n + j]                          product over axes of lines 0 = 5 of Theorem 2 (1-D)
                   = Σ_{c'} Σ_j W'[c', j] z[c', n + j]                        a unit-stride convolution over phase channels

and for the transposed layer ``y[t] = u[t + (p mod s)]`` per axis, the product of lines 0 and 9 of
the 1-D sub-pixel theorem.  Only the last step of Theorem 2 — numbering the ``P = s_1 ⋯ s_d``
phases by one channel index — is not a product; it is proved as in 1-D.  The 1-D results are the
named proofs ``polyphase-1d`` and ``transposed-1d`` (so no proof cites itself).

>>> d = polyphase_product_proof(2)
>>> d.steps[1].product.cites, d.steps[1].product.lines
('polyphase-1d', (0, 5))
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..core.errors import SymstrideError
from .derivation import Derivation
from .polyphase import PROOF_GRID, phase_definitions, polyphase_steps, symbolic_formula
from .products import AxisProduct
from .signals import LayerSignals
from .step import Grid, Step
from .subpixel import SUBPIXEL_GRID, bank_formula, grid_of, subpixel_steps
from .transposed_signals import TransposedSignals
from ..render.printing import Display

__all__ = ["polyphase_product_proof", "subpixel_product_proof", "SMALL_AXES_GRID", "axis_substitutions"]

#: Evidence grid per axis for three or more axes (the product step is proved for every value;
#: this grid only feeds the exact and float64 evidence): s ≤ 2, k ∈ {2, 3}, δ = 1, p ≤ 1, N = 4
#: (o_p = 0 for the transposed layer).
SMALL_AXES_GRID = {"s": range(1, 3), "k": range(2, 4), "d": range(1, 2), "p": range(0, 2), "op": range(0, 1), "N": range(4, 5)}

_FIELDS = ("s", "k", "d", "pl", "pr", "N", "n", "m", "r", "j", "q", "t", "a")
_TFIELDS = ("s", "k", "d", "pl", "pr", "op", "N", "t", "n", "m", "r", "a", "q", "j", "e", "i")


def axis_substitutions(one: Any, many: Any, fields: tuple[str, ...]) -> tuple[dict, ...]:
    """Per axis of ``many``, the map from the 1-D symbols of ``one`` to that axis's symbols."""
    (base,) = one.axes
    return tuple({getattr(base, f): getattr(ax, f) for f in fields} for ax in many.axes)


def _check_ndim(ndim: int) -> None:
    if not isinstance(ndim, int) or isinstance(ndim, bool) or ndim < 2:
        raise SymstrideError(f"the product over axes needs ndim ≥ 2 (an integer), got {ndim!r}; ndim = 1 is the 1-D proof itself")


def polyphase_product_proof(ndim: int) -> Derivation:
    """Theorem 2 on ``ndim`` axes as the separable product of the 1-D Theorem 2 (symbolic, one channel pair)."""
    _check_ndim(ndim)
    ch = LayerSignals.symbolic(ndim)
    lhs, chain = polyphase_steps(ch)
    W_lhs, W_rhs = symbolic_formula(ch)
    defs = ch.base_definitions() + phase_definitions(ch, W_lhs, W_rhs)
    product = AxisProduct("polyphase-1d", (0, 5), axis_substitutions(LayerSignals.symbolic(1), ch, _FIELDS))
    steps = [
        chain[0],
        Step(chain[5].expr, "separable-product", (f"Theorem 2 in one axis (lines 0 = 5 of its chain) on each of the {ndim} axes, "
                                                  "with s_i, k_i, δ_i, p_i, N_i, n_i for s, k, δ, p, N, n",), product=product),
        chain[6],
    ]
    values = PROOF_GRID.get(ndim, SMALL_AXES_GRID)
    statement = [
        f"For all positive integers s_i, k_i, δ_i, N_i and p_i ≥ 0 with N_i + 2p_i ≥ δ_i(k_i − 1) + 1 on each of the {ndim} axes, the strided convolution",
        Display(sp.Eq(lhs, steps[0].expr, evaluate=False)),
        f"equals a unit-stride convolution over the P = s_1 ⋯ s_{ndim} phases of the zero-padded input:",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        "with k'_i = ⌊δ_i(k_i − 1)/s_i⌋ + 1 and the filter bank W' defined below: the product over the axes of the 1-D theorem.",
    ]
    return ch.derivation(
        f"Theorem 2 on {ndim} axes, the product of the 1-D theorem", lhs, steps, defs, ch.proof_grid(values),
        theorem="Theorem 2, stride removal", statement=statement, name=f"polyphase-{ndim}d",
    )


def subpixel_product_proof(ndim: int) -> Derivation:
    """The sub-pixel theorem on ``ndim`` axes as the separable product of the 1-D one (symbolic, one channel pair)."""
    _check_ndim(ndim)
    ch = TransposedSignals.symbolic(ndim)
    chain = subpixel_steps(ch)
    last = len(chain) - 1
    product = AxisProduct("transposed-1d", (0, last), axis_substitutions(TransposedSignals.symbolic(1), ch, _TFIELDS))
    steps = [
        chain[0],
        Step(chain[-1].expr, "separable-product", (f"the sub-pixel theorem in one axis (lines 0 = {last} of its chain) on each of the {ndim} axes",),
             product=product),
    ]
    table, constraints = grid_of(ch, SUBPIXEL_GRID.get(ndim, SMALL_AXES_GRID))
    W_lhs, W_rhs = bank_formula(ch)
    lhs = ch.lhs()
    statement = [
        f"For all positive integers s_i, k_i, δ_i, N_i, every p_i ≥ 0 and o_p,i smaller than s_i or δ_i on each of the {ndim} axes "
        "with at least one output sample, the transposed convolution",
        Display(sp.Eq(lhs, steps[0].expr, evaluate=False)),
        f"equals depth-to-space of a unit-stride convolution with P = s_1 ⋯ s_{ndim} output phases, cropped:",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        "the product over the axes of the 1-D sub-pixel theorem.",
    ]
    return ch.derivation(
        f"The sub-pixel theorem on {ndim} axes, the product of the 1-D theorem", steps, ch.definitions(W_lhs, W_rhs),
        Grid(table, tuple(ch.output_domain()), tuple(constraints)),
        theorem="Theorem, sub-pixel convolution", statement=statement, name=f"transposed-{ndim}d",
        where=["xhat", "xtilde", "W'", "v", "u"],
    )
