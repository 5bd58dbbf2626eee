"""Numeric forms: every operator run by its NumPy reference on seeded random data.

The float64 second opinion of :meth:`symstride.algebra.identities.Identity.check`: independent of the
index forms, it draws weights with the same seeded generator as :func:`symstride.algebra.random_evaluation.numeric`,
so the exact tables and the references can be compared entry by entry.
"""

from __future__ import annotations

from ..core.errors import SymstrideTypeError

import numpy as np
import sympy as sp

from .. import reference
from .expressions import Bank
from .operators import Conv, Operator
from .resampling import DepthToSpace, Pointwise, SpaceToDepth, Subsample
from .random_evaluation import POINTWISE, random_values

__all__ = ["apply_numeric"]


def _weight_values(weights: list[sp.Indexed], seed: int) -> dict[sp.Indexed, float]:
    return {w: float(random_values(w.base.label.name, [np.array([int(i)]) for i in w.indices], seed)[0]) for w in weights}


def apply_numeric(op: Operator, x: np.ndarray, seed: int, ndim: int) -> np.ndarray:
    """``op`` applied to ``x`` (batch first) by its NumPy reference, weights drawn with ``seed``."""
    if isinstance(op, Conv):
        w = np.array([random_values(op.name, [np.array([int(i)]) for i in wt.indices], seed)[0] for wt in op.weights]).reshape(op.spec.weight_shape)
        s = op.spec
        return reference.conv(x, w, stride=s.stride, padding=s.padding, dilation=s.dilation, groups=s.groups)
    if isinstance(op, Bank):
        symbols = sorted({a for e in op.weights.reshape(-1) for a in e.atoms(sp.Indexed)}, key=str)
        values = _weight_values(symbols, seed)
        w = np.array([float(e.xreplace(values)) for e in op.weights.reshape(-1)]).reshape(op.weights.shape)
        s = op.spec
        return reference.conv(x, w, stride=s.stride, padding=s.padding, dilation=s.dilation, groups=s.groups)
    if isinstance(op, Subsample):
        f, o = (v * ndim if len(v) == 1 else v for v in (op.factor, op.offset))
        return x[(slice(None), slice(None), *(slice(oo, None, ff) for ff, oo in zip(f, o)))]
    if isinstance(op, SpaceToDepth):
        return reference.space_to_depth(x, op.stride * ndim if len(op.stride) == 1 else op.stride, op.layout)
    if isinstance(op, DepthToSpace):
        return reference.depth_to_space(x, op.stride * ndim if len(op.stride) == 1 else op.stride, op.layout)
    if isinstance(op, Pointwise):
        return POINTWISE.get(op.name, np.tanh)(x)
    raise SymstrideTypeError(f"no NumPy reference for {op!r}")
