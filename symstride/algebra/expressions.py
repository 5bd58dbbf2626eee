"""Operator expressions: products of operators, and filter banks claimed entry by entry.

``a * b`` of two operators is a :class:`~symstride.algebra.operators.Compose` (applied right to left); :class:`Bank` is a
convolution whose bank a user writes out — the usual right-hand side of a claimed identity.
The helpers read an expression's structure (its operators, spatial axes, input channels)
before :mod:`symstride.algebra.identities` decides it.
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError

from fractions import Fraction
from math import prod
from typing import Any, Sequence

import numpy as np
import sympy as sp

from .operators import Compose, Conv, Operator
from .resampling import DepthToSpace, SpaceToDepth

__all__ = ["Bank", "operator_chain", "spatial_axes", "input_channels"]


def _bank_entry(entry: Any, position: int) -> sp.Expr:
    """A filter-bank entry as SymPy: expressions and numbers only (strings are never parsed)."""
    if isinstance(entry, sp.Basic):
        return entry
    if isinstance(entry, (bool, str, bytes)) or not isinstance(entry, (int, float, np.integer, np.floating)):
        raise SymstrideTypeError(
            f"filter-bank entry {position} must be a SymPy expression or a number, got {entry!r} "
            f"of type {type(entry).__name__} (strings are not parsed)"
        )
    return sp.sympify(entry)


class Bank(Operator):
    """A convolution whose filter bank is given entry by entry (a claimed equivalent bank).

    ``weights`` has shape ``(C_out, C_in/groups, *k)``; entries are SymPy expressions in weight
    symbols (``Conv(...).weights`` or ``sympy.IndexedBase("w")[i]``) or numbers, e.g. the bank
    ``[[[w[0], w[2]], [w[1], 0]]]`` claimed for a 3-tap stride-2 layer on two phases.
    """

    def __init__(self, weights: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> None:
        arr = np.array(weights, dtype=object)
        if arr.ndim < 3:
            raise SymstrideError(f"a filter bank needs shape (C_out, C_in/groups, *kernel), got an array of {arr.ndim} axes")
        entries = [_bank_entry(e, i) for i, e in enumerate(arr.reshape(-1))]
        self.weights = np.array(entries, dtype=object).reshape(arr.shape)
        cout, cin_g, *kernel = arr.shape
        self.spec = Conv(kernel=tuple(kernel), stride=stride, padding=padding, dilation=dilation,
                         in_channels=cin_g * groups, out_channels=cout, groups=groups).spec

    def __repr__(self) -> str:
        return f"Bank(shape={self.weights.shape}, stride={self.spec.stride})"

    def _latex(self, printer: Any) -> str:
        rows = [" & ".join(printer._print(e) for e in row) for row in self.weights.reshape(-1, self.weights.shape[-1])]
        return r"\operatorname{Conv}_{1}\left(\cdot\,;\ \begin{pmatrix} %s \end{pmatrix}\right)" % r" \\ ".join(rows)


def operator_chain(expr: Operator) -> tuple[Operator, ...]:
    """The operators of an expression, outermost first (``ops[-1]`` is applied first)."""
    ops = expr.ops if isinstance(expr, Compose) else (expr,) if isinstance(expr, Operator) else None
    if ops is not None:
        for op in ops:  # identities are decided on concrete sizes: a layer with symbols needs values first
            symbols = getattr(getattr(op, "spec", None), "symbols", ())
            if symbols:
                from ..core.symbolic_params import needs_values

                raise needs_values(f"identity with {op!r}", symbols)
        return ops
    raise SymstrideTypeError(f"identity expects symstride operators (Conv, D, SpaceToDepth, … and their products with *), got {type(expr).__name__}")


def spatial_axes(op: Operator) -> int | None:
    """The spatial axes an operator fixes (None: it fits any, as ``D(2)`` does)."""
    if isinstance(op, (Conv, Bank)):
        return op.spec.ndim
    for attr in ("factor", "stride"):
        values = getattr(op, attr, None)
        if values is not None and len(values) > 1:
            return len(values)
    return None


def input_channels(ops: Sequence[Operator], ndim: int) -> int | None:
    """The input channels the expression needs: fixed by its first convolution (None: any)."""
    factor = Fraction(1)  # channels here = input channels × factor
    for op in reversed(ops):
        if isinstance(op, (Conv, Bank)):
            need = op.spec.in_channels / factor
            if need.denominator != 1:
                raise SymstrideError(f"{op!r} expects {op.spec.in_channels} channels, which no input channel count gives there")
            return int(need)
        if isinstance(op, (SpaceToDepth, DepthToSpace)):
            P = prod(op.stride) if len(op.stride) > 1 else op.stride[0] ** ndim
            if isinstance(op, DepthToSpace) and (factor / P).denominator != 1:
                return int(P / factor) if (P / factor).denominator == 1 else P  # the fewest channels it accepts
            factor = factor * P if isinstance(op, SpaceToDepth) else factor / P
    return None

