"""The operators without weights: subsampling ``D_s``, space-to-depth and its inverse, pointwise maps.

They rearrange or select samples (a pointwise map changes values only), so the identities between
them and the strided layers of :mod:`~symstride.algebra.operators` are index identities:

>>> from symstride.algebra.operators import Conv
>>> conv = Conv(kernel=3, stride=2)
>>> conv.matrix(5) == Subsample(2).matrix(3) * conv.unit_stride().matrix(5)
True
>>> DepthToSpace(2).matrix(4) * SpaceToDepth(2).matrix(4) == sp.eye(4)
True
"""

from __future__ import annotations

import itertools
from math import prod
from typing import Any, Sequence

import sympy as sp

from ..core.errors import SymstrideError
from ..core.indexing import check_layout, channel_index, phase_index
from ..core.params import as_int, per_axis
from .operators import Operator, check_matrix_size, flat_index, format_axes

__all__ = ["Subsample", "D", "SpaceToDepth", "DepthToSpace", "Pointwise"]


class Subsample(Operator):
    """The subsampling operator ``D_s``: keep every ``s``-th sample, starting at ``offset``.

    >>> Subsample(2).matrix(5)
    Matrix([
    [1, 0, 0, 0, 0],
    [0, 0, 1, 0, 0],
    [0, 0, 0, 0, 1]])
    """

    def __init__(self, factor: Any, offset: Any = 0) -> None:
        self.factor = per_axis(factor, "factor", len(factor) if isinstance(factor, (tuple, list)) else 1, minimum=1)
        self.offset = per_axis(offset, "offset", len(self.factor), minimum=0)
        for axis, (o, s) in enumerate(zip(self.offset, self.factor)):
            if o >= s:
                raise SymstrideError(f"subsampling offset must be smaller than the factor, got {o} >= {s} (axis {axis})")

    def output_shape(self, size: Any) -> tuple[int, ...]:
        """``ceil((N − offset) / s)`` samples per axis."""
        size = _as_shape(size, len(self.factor))
        return tuple(max(0, -(-(n - o) // s)) for n, o, s in zip(size, self.offset, self.factor))

    def matrix(self, size: Any, channels: int = 1) -> sp.Matrix:
        """The 0/1 selection matrix on ``channels`` channels of spatial shape ``size``."""
        size = _as_shape(size, len(self.factor))
        out = self.output_shape(size)
        rows, cols = channels * prod(out), channels * prod(size)
        check_matrix_size(rows, cols, "subsampling")
        entries = {}
        for c in range(channels):
            for i_flat, i in enumerate(itertools.product(*map(range, out))):
                src = [s * ii + o for ii, s, o in zip(i, self.factor, self.offset)]
                entries[c * prod(out) + i_flat, c * prod(size) + flat_index(src, size)] = 1
        return sp.Matrix(sp.SparseMatrix(rows, cols, entries))

    def __repr__(self) -> str:
        f = format_axes(self.factor)
        return f"D({f})" if not any(self.offset) else f"D({f}, offset={format_axes(self.offset)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Subsample) and (self.factor, self.offset) == (other.factor, other.offset)

    def __hash__(self) -> int:
        return hash((Subsample, self.factor, self.offset))

    def _latex(self, printer: Any) -> str:
        from ..render.templates import render_template

        return render_template("operator_subsample.tex", op=self).strip()

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self._latex(None)}$"


#: Short name for :class:`Subsample`, as in the literature.
D = Subsample


def _as_shape(size: Any, ndim: int) -> tuple[int, ...]:
    return per_axis(size, "size", ndim, minimum=1)


class SpaceToDepth(Operator):
    """Space-to-depth by ``s``: ``z[chan(c, φ(r)), a] = x[c, s·a + r]`` — a permutation of entries.

    >>> SpaceToDepth(2).matrix(4)
    Matrix([
    [1, 0, 0, 0],
    [0, 0, 1, 0],
    [0, 1, 0, 0],
    [0, 0, 0, 1]])
    """

    def __init__(self, stride: Any, layout: str = "pytorch") -> None:
        ndim = len(stride) if isinstance(stride, (tuple, list)) else 1
        self.stride = per_axis(stride, "stride", ndim, minimum=1)
        self.layout = check_layout(layout)

    def matrix(self, size: Any, channels: int = 1) -> sp.Matrix:
        """The permutation matrix on ``channels`` channels of spatial shape ``size``."""
        channels = as_int(channels, "channels")
        size = _as_shape(size, len(self.stride))
        for axis, (n, s) in enumerate(zip(size, self.stride)):
            if n % s:
                raise SymstrideError(f"space-to-depth needs each size divisible by the stride: {n} by {s} (axis {axis})")
        coarse = tuple(n // s for n, s in zip(size, self.stride))
        n_phases = prod(self.stride)
        n = channels * prod(size)
        check_matrix_size(n, n, "space-to-depth")
        entries = {}
        for c in range(channels):
            for r in itertools.product(*map(range, self.stride)):
                ch = channel_index(c, phase_index(r, self.stride), channels, n_phases, self.layout)
                for a_flat, a in enumerate(itertools.product(*map(range, coarse))):
                    src = [s * aa + rr for aa, s, rr in zip(a, self.stride, r)]
                    entries[ch * prod(coarse) + a_flat, c * prod(size) + flat_index(src, size)] = 1
        return sp.Matrix(sp.SparseMatrix(n, n, entries))

    def __repr__(self) -> str:
        return f"SpaceToDepth({format_axes(self.stride)}, layout={self.layout!r})"

    def _latex(self, printer: Any) -> str:
        return r"\operatorname{S2D}_{%s}" % format_axes(self.stride)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpaceToDepth) and (self.stride, self.layout) == (other.stride, other.layout)

    def __hash__(self) -> int:
        return hash((SpaceToDepth, self.stride, self.layout))


class DepthToSpace(Operator):
    """Depth-to-space by ``s``, the inverse permutation of :class:`SpaceToDepth` (``pixel_shuffle``).

    >>> DepthToSpace(2).matrix(4) == SpaceToDepth(2).matrix(4).T
    True
    """

    def __init__(self, stride: Any, layout: str = "pytorch") -> None:
        self.inverse = SpaceToDepth(stride, layout)
        self.stride, self.layout = self.inverse.stride, self.inverse.layout

    def matrix(self, size: Any, channels: int = 1) -> sp.Matrix:
        """The permutation matrix on ``channels`` output channels of spatial shape ``size``."""
        return self.inverse.matrix(size, channels).T

    def __repr__(self) -> str:
        return f"DepthToSpace({format_axes(self.stride)}, layout={self.layout!r})"

    def _latex(self, printer: Any) -> str:
        return r"\operatorname{D2S}_{%s}" % format_axes(self.stride)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DepthToSpace) and self.inverse == other.inverse

    def __hash__(self) -> int:
        return hash((DepthToSpace, self.inverse))


class Pointwise(Operator):
    """A pointwise map ``σ`` applied to every entry (ReLU, an affine batch-norm, …), left uninterpreted.

    Identities with pointwise maps are decided for *every* such map: ``σ(P) = σ(Q)`` holds
    exactly when ``P = Q``.  ``name`` must be an identifier; ``relu`` and ``tanh`` are also used
    numerically in float64 checks (any other name is evaluated as ``tanh``).
    """

    def __init__(self, name: str = "sigma") -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise SymstrideError(f"a pointwise map needs an identifier as its name, got {name!r}")
        self.name = name

    def __repr__(self) -> str:
        return f"Pointwise({self.name!r})"

    def _latex(self, printer: Any) -> str:
        return printer._print(sp.Symbol(self.name))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pointwise) and self.name == other.name

    def __hash__(self) -> int:
        return hash((Pointwise, self.name))
