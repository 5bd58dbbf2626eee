"""Symbolic operators: strided convolution, subsampling ``D_s`` and space-to-depth.

The operators are small immutable objects built on a :class:`~symstride.core.params.ConvSpec`.
Weights are SymPy ``Indexed`` symbols ``w[o, c, m]`` (channel indices are omitted when the
layer has one input and one output channel, so a 1-D kernel reads ``w[0], w[1], w[2]``).
For small concrete sizes every operator has an explicit SymPy matrix — its convolution
tensor — so that identities such as Theorem 1 can be checked as exact matrix equalities:

>>> conv = Conv(kernel=3, stride=2)
>>> conv.weights
[w[0], w[1], w[2]]
>>> conv.matrix(5)
Matrix([
[w[0], w[1], w[2],    0,    0],
[   0,    0, w[0], w[1], w[2]]])
>>> conv.matrix(5) == Subsample(2).matrix(3) * conv.unit_stride().matrix(5)
True
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError
import itertools
from functools import cached_property
from math import prod
from typing import Any, Sequence

import sympy as sp

from ..core.indexing import check_layout, channel_index, input_size, output_shape, phase_index
from ..core.params import ConvSpec, as_int, per_axis

__all__ = ["Operator", "Compose", "Layer", "Conv", "Subsample", "D", "SpaceToDepth", "DepthToSpace", "Pointwise", "MAX_MATRIX_ENTRIES", "kernel_argument"]

#: Explicit SymPy matrices are for small concrete sizes; larger ones are refused.
MAX_MATRIX_ENTRIES = 250_000


def _check_matrix_size(rows: int, cols: int, what: str) -> None:
    if rows * cols > MAX_MATRIX_ENTRIES:
        raise SymstrideError(
            f"the {what} matrix would have {rows}×{cols} entries; explicit SymPy matrices are "
            f"limited to {MAX_MATRIX_ENTRIES} entries (use verify(size=...) for large sizes)"
        )


def _fmt_axes(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


class Operator:
    """Operators compose with ``*``, applied right to left: ``(A * B)(x) = A(B(x))``.

    Compositions are checked against each other with :func:`symstride.identity`.
    """

    def __mul__(self, other: object) -> "Operator":
        if not isinstance(other, Operator):
            return NotImplemented
        return Compose.of(self, other)


class Compose(Operator):
    """``ops[0] * ops[1] * …``: ``ops[-1]`` is applied first."""

    def __init__(self, *ops: Operator) -> None:
        if len(ops) < 2 or not all(isinstance(op, Operator) for op in ops):
            raise SymstrideTypeError("Compose needs at least two symstride operators")
        self.ops = tuple(ops)

    @classmethod
    def of(cls, a: Operator, b: Operator) -> "Compose":
        left = a.ops if isinstance(a, Compose) else (a,)
        right = b.ops if isinstance(b, Compose) else (b,)
        return cls(*left, *right)

    def __repr__(self) -> str:
        return " * ".join(repr(op) for op in self.ops)

    def _latex(self, printer: Any) -> str:
        return r" \circ ".join(printer._print(op) for op in self.ops)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Compose) and self.ops == other.ops

    def __hash__(self) -> int:
        return hash((Compose, self.ops))


class Layer(Operator):
    """What every layer with symbolic weights shares: its validated ``spec`` and weight symbols.

    Subclasses (:class:`Conv`, :class:`~symstride.algebra.conv_transpose.ConvTranspose`) set ``spec`` and
    ``name`` through :meth:`_set`.  Weight symbols follow the spec's PyTorch weight shape:
    ``name[a, b, *tap]`` with ``(a, b)`` its first two axes, or ``name[*tap]`` when both are 1.
    """

    def _set(self, spec: Any, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise SymstrideError(f"name must be an identifier such as 'w', got {name!r}")
        self.spec = spec
        self.name = name

    # -- parameters -------------------------------------------------------------------------
    kernel = property(lambda self: self.spec.kernel, doc="Kernel size per axis.")
    stride = property(lambda self: self.spec.stride, doc="Stride per axis.")
    dilation = property(lambda self: self.spec.dilation, doc="Dilation per axis.")
    padding = property(lambda self: self.spec.padding, doc="(left, right) padding per axis.")
    in_channels = property(lambda self: self.spec.in_channels, doc="Input channels.")
    out_channels = property(lambda self: self.spec.out_channels, doc="Output channels.")
    groups = property(lambda self: self.spec.groups, doc="Channel groups.")
    ndim = property(lambda self: self.spec.ndim, doc="Number of spatial axes.")

    # -- symbols ----------------------------------------------------------------------------
    @cached_property
    def base(self) -> sp.IndexedBase:
        """The weight's ``IndexedBase``."""
        return sp.IndexedBase(self.name)

    @property
    def channel_indexed(self) -> bool:
        """Whether weight symbols carry channel indices (not for a one-channel-to-one layer)."""
        return self.spec.weight_shape[:2] != (1, 1)

    def weight(self, a: Any, b: Any, tap: Sequence[Any]) -> sp.Indexed:
        """The symbol ``w[a, b, *tap]`` (``w[*tap]`` for a one-channel layer); indices may be symbolic.

        ``(a, b)`` index the weight tensor's first two axes: ``(o, c)`` for a convolution,
        ``(c, o)`` for a transposed convolution (PyTorch's layouts).
        """
        idx = (a, b, *tap) if self.channel_indexed else tuple(tap)
        return self.base[idx]

    @property
    def weights(self) -> list[sp.Indexed]:
        """Every weight symbol, in PyTorch's row-major weight order."""
        shape = self.spec.weight_shape
        return [self.weight(a, b, m) for a, b, *m in itertools.product(*map(range, shape))]

    @cached_property
    def weight_array(self) -> sp.ImmutableDenseNDimArray:
        """The weights as a SymPy array of the spec's weight shape."""
        return sp.ImmutableDenseNDimArray(self.weights, self.spec.weight_shape)

    def _tensor(self, size: tuple[int, ...], n_out: tuple[int, ...], terms: Any, what: str) -> sp.Matrix:
        """The layer's matrix, rows ``(o, *t)`` and columns ``(c, *n)`` row-major, summing the
        ``(o, t, c, n, weight)`` terms (a lazy iterable, consumed after the size check)."""
        rows, cols = self.spec.out_channels * prod(n_out), self.spec.in_channels * prod(size)
        _check_matrix_size(rows, cols, what)
        entries: dict[tuple[int, int], sp.Expr] = {}
        for o, t, c, n, weight in terms:
            key = (o * prod(n_out) + _ravel(t, n_out), c * prod(size) + _ravel(n, size))
            entries[key] = entries.get(key, 0) + weight
        return sp.Matrix(sp.SparseMatrix(rows, cols, entries))

    # -- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        s = self.spec
        parts = [f"kernel={s.kernel if s.ndim > 1 else s.kernel[0]}", f"stride={_fmt_axes(s.stride)}"]  # the kernel fixes ndim
        if any(p != (0, 0) for p in s.padding):  # a (left, right) pair only inside a per-axis list
            pads = [p[0] if p[0] == p[1] else p for p in s.padding]
            parts.append(f"padding={pads[0] if len(set(pads)) == 1 and not isinstance(pads[0], tuple) else pads}")
        if any(getattr(s, "output_padding", ())):
            parts.append(f"output_padding={_fmt_axes(s.output_padding)}")
        if any(d != 1 for d in s.dilation):
            parts.append(f"dilation={_fmt_axes(s.dilation)}")
        if s.in_channels != 1 or s.out_channels != 1:
            parts += [f"in_channels={s.in_channels}", f"out_channels={s.out_channels}"]
        if s.groups != 1:
            parts.append(f"groups={s.groups}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.spec, self.name) == (other.spec, other.name)

    def __hash__(self) -> int:
        return hash((type(self), self.spec, self.name))

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self._latex(None)}$"


def kernel_argument(kernel: Any, kernel_size: Any, layer: str) -> Any:
    """``kernel``, or PyTorch's spelling ``kernel_size`` (one of them, not both).

    Everything after ``kernel`` is keyword-only in :class:`Conv` and ``ConvTranspose``: their
    positional orders differ (dilation vs output padding third), so a positional call would
    silently mean different things.

    >>> Conv(kernel_size=3, stride=2).spec == Conv(kernel=3, stride=2).spec
    True
    >>> Conv(3, 2)
    Traceback (most recent call last):
    ...
    TypeError: Conv.__init__() takes from 1 to 2 positional arguments but 3 were given
    """
    if kernel is not None and kernel_size is not None:
        raise SymstrideTypeError(f"{layer} takes kernel or kernel_size (PyTorch's name for it), not both")
    if kernel is None and kernel_size is None:
        raise SymstrideTypeError(f"{layer} needs a kernel size: {layer}(kernel=3, stride=2, …) or kernel_size=3")
    return kernel if kernel is not None else kernel_size


class Conv(Layer):
    """A convolution layer (cross-correlation, PyTorch semantics) with symbolic weights.

    ``Conv(kernel, *, stride=1, padding=0, dilation=1, in_channels=1, out_channels=1, groups=1)``;
    per-axis parameters take an int or one value per spatial axis, padding also
    ``(left, right)`` pairs.  ``name`` is the weight symbol's name.
    """

    def __init__(
        self,
        kernel: Any = None,
        *,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        in_channels: Any = 1,
        out_channels: Any = 1,
        groups: Any = 1,
        name: str = "w",
        kernel_size: Any = None,
    ) -> None:
        kernel = kernel_argument(kernel, kernel_size, "Conv")
        if isinstance(kernel, ConvSpec):
            if kernel.direction != "strided":
                raise SymstrideTypeError(f"Conv needs a strided ConvSpec, got a {type(kernel).__name__} (use ConvTranspose)")
            spec = kernel
        else:
            spec = ConvSpec.create(kernel, stride, padding, dilation, in_channels, out_channels, groups)
        self._set(spec, name)

    @classmethod
    def from_spec(cls, spec: ConvSpec, *, name: str = "w") -> "Conv":
        """The layer of a validated :class:`ConvSpec`."""
        return cls(spec, name=name)

    def unit_stride(self) -> "Conv":
        """The same layer with stride 1 on every axis (same weight symbols)."""
        return Conv(self.spec.replace(stride=1), name=self.name)

    # -- convolution tensor -----------------------------------------------------------------
    def output_shape(self, size: Any) -> tuple[int, ...]:
        """Spatial output shape on an input of spatial shape ``size``."""
        return output_shape(self.spec, size)

    def matrix(self, size: Any) -> sp.Matrix:
        """The convolution tensor as a matrix: rows ``(o, *i)``, columns ``(c, *n)``, row-major.

        Zero padding is folded in: a tap that reads padding contributes nothing.
        """
        spec = self.spec
        size = input_size(spec, size)
        n_out = output_shape(spec, size)
        cin_g, cout_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups

        def terms():
            for o in range(spec.out_channels):
                group = o // cout_g
                for i in itertools.product(*map(range, n_out)):
                    for c_local in range(cin_g):
                        c = group * cin_g + c_local
                        for m in itertools.product(*map(range, spec.kernel)):
                            pos = [
                                s * ii + d * mm - p[0]
                                for ii, mm, s, d, p in zip(i, m, spec.stride, spec.dilation, spec.padding)
                            ]
                            if all(0 <= q < n for q, n in zip(pos, size)):
                                yield o, i, c, pos, self.weight(o, c_local, m)

        return self._tensor(size, n_out, terms(), "convolution")

    # -- display ----------------------------------------------------------------------------
    def _latex(self, printer: Any) -> str:
        from ..render.templates import render_template

        return render_template("operator_conv.tex", spec=self.spec, name=self.name).strip()


def _ravel(index: Sequence[int], shape: Sequence[int]) -> int:
    flat = 0
    for i, n in zip(index, shape):
        flat = flat * n + i
    return flat


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
        _check_matrix_size(rows, cols, "subsampling")
        entries = {}
        for c in range(channels):
            for i_flat, i in enumerate(itertools.product(*map(range, out))):
                src = [s * ii + o for ii, s, o in zip(i, self.factor, self.offset)]
                entries[c * prod(out) + i_flat, c * prod(size) + _ravel(src, size)] = 1
        return sp.Matrix(sp.SparseMatrix(rows, cols, entries))

    def __repr__(self) -> str:
        f = _fmt_axes(self.factor)
        return f"D({f})" if not any(self.offset) else f"D({f}, offset={_fmt_axes(self.offset)})"

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
        _check_matrix_size(n, n, "space-to-depth")
        entries = {}
        for c in range(channels):
            for r in itertools.product(*map(range, self.stride)):
                ch = channel_index(c, phase_index(r, self.stride), channels, n_phases, self.layout)
                for a_flat, a in enumerate(itertools.product(*map(range, coarse))):
                    src = [s * aa + rr for aa, s, rr in zip(a, self.stride, r)]
                    entries[ch * prod(coarse) + a_flat, c * prod(size) + _ravel(src, size)] = 1
        return sp.Matrix(sp.SparseMatrix(n, n, entries))

    def __repr__(self) -> str:
        return f"SpaceToDepth({_fmt_axes(self.stride)}, layout={self.layout!r})"

    def _latex(self, printer: Any) -> str:
        return r"\operatorname{S2D}_{%s}" % _fmt_axes(self.stride)

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
        return f"DepthToSpace({_fmt_axes(self.stride)}, layout={self.layout!r})"

    def _latex(self, printer: Any) -> str:
        return r"\operatorname{D2S}_{%s}" % _fmt_axes(self.stride)

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
