"""Symbolic operators: strided convolution, subsampling ``D_s`` and space-to-depth.

The operators are small immutable objects built on a :class:`~symstride.core.params.ConvSpec`.
Weights are SymPy ``Indexed`` symbols ``w[o, c, m]`` (channel indices are omitted when the
layer has one input and one output channel, so a 1-D kernel reads ``w[0], w[1], w[2]``).
For small concrete sizes every operator has an explicit SymPy matrix — its convolution
tensor — so that identities such as Theorem 1 can be checked as exact matrix equalities:

>>> from symstride.algebra.resampling import Subsample
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
from ..core.symbolic_params import SymbolicConvSpec, has_symbols
from .symbolic_layer import SymbolicParameters

__all__ = ["Operator", "Compose", "Layer", "Conv", "SymbolicConv", "MAX_MATRIX_ENTRIES", "check_matrix_size", "flat_index", "format_axes", "kernel_argument"]

#: Explicit SymPy matrices are for small concrete sizes; larger ones are refused.
MAX_MATRIX_ENTRIES = 250_000


def check_matrix_size(rows: int, cols: int, what: str) -> None:
    """Refuse an explicit SymPy matrix of more than :data:`MAX_MATRIX_ENTRIES` entries."""
    if rows * cols > MAX_MATRIX_ENTRIES:
        raise SymstrideError(
            f"the {what} matrix would have {rows}×{cols} entries; explicit SymPy matrices are "
            f"limited to {MAX_MATRIX_ENTRIES} entries (use verify(size=...) for large sizes)"
        )


def format_axes(values: Sequence[int]) -> str:
    """``(2, 2)`` → ``2`` when every axis agrees, else ``(2, 3)`` (for reprs and subscripts)."""
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


def flat_index(index: Sequence[int], shape: Sequence[int]) -> int:
    """The row-major position of ``index`` in an array of ``shape`` (rows and columns of the matrices)."""
    flat = 0
    for i, n in zip(index, shape):
        flat = flat * n + i
    return flat


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

    direction = "strided"  #: the spec's direction (``ConvTranspose``: ``"transposed"``)
    def _adopt(self, kernel: Any, kernel_size: Any, make: Any, name: str) -> None:
        """The one constructor path of both directions: the kernel (or ``kernel_size``) if it is a spec of this direction, else ``make(kernel)``."""
        kernel = kernel_argument(kernel, kernel_size, type(self).__name__)
        if isinstance(kernel, ConvSpec) and kernel.direction != self.direction:
            raise SymstrideTypeError(f"{type(self).__name__} needs a {self.direction} ConvSpec, got a {type(kernel).__name__} (use {'Conv' if self.direction == 'transposed' else 'ConvTranspose'})")
        self._set(kernel if isinstance(kernel, ConvSpec) else make(kernel), name)

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
        check_matrix_size(rows, cols, what)
        entries: dict[tuple[int, int], sp.Expr] = {}
        for o, t, c, n, weight in terms:
            key = (o * prod(n_out) + flat_index(t, n_out), c * prod(size) + flat_index(n, size))
            entries[key] = entries.get(key, 0) + weight
        return sp.Matrix(sp.SparseMatrix(rows, cols, entries))

    # -- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        s = self.spec
        parts = [f"kernel={s.kernel if s.ndim > 1 else s.kernel[0]}", f"stride={format_axes(s.stride)}"]  # the kernel fixes ndim
        if any(p != (0, 0) for p in s.padding):  # a (left, right) pair only inside a per-axis list
            pads = [p[0] if p[0] == p[1] else p for p in s.padding]
            parts.append(f"padding={pads[0] if len(set(pads)) == 1 and not isinstance(pads[0], tuple) else pads}")
        if any(getattr(s, "output_padding", ())):
            parts.append(f"output_padding={format_axes(s.output_padding)}")
        if any(d != 1 for d in s.dilation):
            parts.append(f"dilation={format_axes(s.dilation)}")
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

    def __new__(cls, kernel: Any = None, *args: Any, **kwargs: Any) -> "Conv":
        """A :class:`SymbolicConv` when a parameter is a SymPy symbol."""
        given = (kernel, kwargs.get("kernel_size"), *(kwargs.get(k) for k in ("stride", "padding", "dilation")))
        if cls is Conv and (isinstance(kernel, SymbolicConvSpec) or has_symbols(*(v for v in given if v is not None))):
            cls = SymbolicConv
        return super().__new__(cls)

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
        spec_class = SymbolicConvSpec if isinstance(self, SymbolicConv) else ConvSpec
        self._adopt(kernel, kernel_size, lambda k: k if isinstance(k, SymbolicConvSpec) else spec_class.create(
            k, stride, padding, dilation, in_channels, out_channels, groups), name)

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


class SymbolicConv(SymbolicParameters, Conv):
    """A :class:`Conv` with SymPy symbols among its parameters (what ``Conv(kernel=k, …)`` builds)."""

    def rebuild(self, spec: Any) -> Conv:
        return Conv(spec, name=self.name)
