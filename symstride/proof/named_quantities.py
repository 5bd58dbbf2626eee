"""The named quantities of a layer's derivation: ``k' = ⌊δ(k − 1)/s⌋ + 1`` and ``N_out``, per axis.

A symbolic derivation (stride, kernel, dilation, padding as symbols) writes these quantities
out in every line; named once (:class:`~symstride.render.abbreviations.Abbreviation`), the
lines read ``Σ_{j=0}^{k'−1}`` instead of ``Σ_{j=0}^{⌊δ(k−1)/s⌋}``.  A concrete layer's
quantities are numbers and get no name.

>>> import sympy as sp
>>> from symstride.proof.transposed_signals import TransposedSignals
>>> [ab.symbol for ab in layer_abbreviations(TransposedSignals.symbolic(1).axes, transposed=True)]
[k', N_out]
"""

from __future__ import annotations

from typing import Any, Sequence

import sympy as sp

from ..render.abbreviations import Abbreviation, QuantityName

__all__ = ["layer_abbreviations"]


def _symbolic(value: Any) -> bool:
    return bool(sp.sympify(value).free_symbols)


def layer_abbreviations(axes: Sequence[Any], *, transposed: bool) -> tuple[Abbreviation, ...]:
    """``k'`` of every axis (``k'_1``, ``k'_2`` … with several axes) and, for a transposed layer,
    its output length ``N_out`` — each only where it is symbolic."""
    many = len(axes) > 1
    out = []
    for i, ax in enumerate(axes, 1):
        if _symbolic(ax.kq):
            out.append(Abbreviation(sp.Symbol(f"k'_{i}" if many else "k'"), ax.kq, "the kernel size of a phase filter" + (f" on axis {i}" if many else "")))
    if transposed:
        for i, ax in enumerate(axes, 1):
            if _symbolic(ax.out_length):
                out.append(Abbreviation(QuantityName(f"N_out_{i}" if many else "N_out"), ax.out_length, "the output length" + (f" on axis {i}" if many else "")))
    return tuple(out)
