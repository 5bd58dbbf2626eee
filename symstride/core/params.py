"""Parsing and validation of layer parameters.

Every public entry point turns user parameters into one immutable :class:`ConvSpec` here, so
that the rest of the library works with normalised per-axis tuples and never re-validates.

Per-axis parameters accept an int (broadcast to every axis) or a sequence with one entry per
axis; the number of spatial axes is the length of the longest sequence.  Padding also accepts
per-axis ``(left, right)`` pairs for asymmetric padding.

>>> spec = ConvSpec.create(kernel=3, stride=(2, 1), padding=((0, 1), 1))
>>> spec.kernel, spec.stride, spec.padding
((3, 3), (2, 1), ((0, 1), (1, 1)))
>>> ConvSpec.create(kernel=0, stride=2)
Traceback (most recent call last):
    ...
symstride.core.errors.SymstrideError: kernel must be a positive integer on every axis, got 0 (axis 0)
"""

from __future__ import annotations

from .errors import SymstrideError, SymstrideTypeError

import numbers
import operator
from dataclasses import dataclass
from math import prod
from typing import Any, ClassVar, Sequence

__all__ = ["ConvSpec", "ConvTransposeSpec", "MAX_TAPS", "MAX_ELEMENTS", "per_axis", "normalize_padding", "as_int"]

#: The largest number of kernel taps (per channel pair) symstride accepts.
MAX_TAPS = 10**7
#: The largest number of elements (weights, input samples) symstride will construct at once.
MAX_ELEMENTS = 10**9

_UNSET: Any = object()


def as_int(value: Any, name: str) -> int:
    """``value`` as an int, refusing bools, floats and strings (no silent truncation)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SymstrideTypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    return operator.index(value)


def _axis_values(value: Any, name: str) -> tuple:
    if isinstance(value, (str, bytes)):
        raise SymstrideTypeError(f"{name} must be an int or a sequence of ints, got the string {value!r}")
    if isinstance(value, (set, frozenset, dict)):
        raise SymstrideTypeError(f"{name} must be an ordered sequence (list or tuple), got the unordered {type(value).__name__} {value!r}")
    if isinstance(value, Sequence) or hasattr(value, "__iter__") and not isinstance(value, numbers.Number):
        items = tuple(value)
        if not items:
            raise SymstrideError(f"{name} must name at least one axis, got an empty sequence")
        return items
    return (value,)


def _broadcast(value: Any, name: str, ndim: int) -> tuple:
    """One entry per axis: a single value broadcasts, a list must have exactly ``ndim`` entries."""
    items = _axis_values(value, name)
    if len(items) == 1:
        items = items * ndim
    if len(items) != ndim:
        raise SymstrideError(
            f"{name} has {len(items)} entries but the layer has {ndim} spatial axes; "
            "per-axis lists must all have the same length (a single int broadcasts)"
        )
    return items


def per_axis(value: Any, name: str, ndim: int, *, minimum: int) -> tuple[int, ...]:
    """Normalise an int-or-sequence parameter to ``ndim`` ints, each ``>= minimum``."""
    items = _broadcast(value, name, ndim)
    out = []
    for axis, item in enumerate(items):
        v = as_int(item, f"{name} (axis {axis})")
        if v < minimum:
            rule = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise SymstrideError(f"{name} must be {rule} on every axis, got {v} (axis {axis})")
        out.append(v)
    return tuple(out)


def normalize_padding(value: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    """Normalise padding: an int, a per-axis sequence of ints, or per-axis ``(left, right)`` pairs."""
    items = _broadcast(value, "padding", ndim)
    pairs = []
    for axis, item in enumerate(items):
        if isinstance(item, numbers.Number) or isinstance(item, bool):
            left = right = as_int(item, f"padding (axis {axis})")
        else:
            pair = _axis_values(item, f"padding (axis {axis})")
            if len(pair) != 2:
                raise SymstrideError(
                    f"padding on axis {axis} must be an int or a (left, right) pair, got {item!r}"
                )
            left = as_int(pair[0], f"padding left (axis {axis})")
            right = as_int(pair[1], f"padding right (axis {axis})")
        for side, v in (("left", left), ("right", right)):
            if v < 0:
                raise SymstrideError(f"padding must be non-negative, got {v} ({side}, axis {axis})")
        pairs.append((left, right))
    return tuple(pairs)


def _materialize(value: Any) -> Any:
    """Read a one-shot iterable (generator, iterator, array) once, into a tuple of plain values.

    A set or dict is refused: its order is arbitrary, and per-axis values are ordered.
    """
    if isinstance(value, (str, bytes, numbers.Number)):
        return value
    if isinstance(value, (set, frozenset, dict)):
        raise SymstrideTypeError(
            f"got the {type(value).__name__} {value!r}, whose order is arbitrary; per-axis values need an "
            "ordered sequence (a list or tuple, one entry per axis)"
        )
    if hasattr(value, "__index__"):  # 0-d integer arrays and tensors
        try:
            return operator.index(value)
        except TypeError:
            pass
    try:
        items = iter(value)
    except TypeError:  # not iterable (e.g. a 0-d float array): per_axis names it
        return value
    return tuple(_materialize(v) for v in items)


def _ndim_of(*values: Any) -> int:
    ndim = 1
    for v in values:
        if isinstance(v, (str, bytes)):
            continue
        if isinstance(v, Sequence) or (hasattr(v, "__iter__") and not isinstance(v, numbers.Number)):
            ndim = max(ndim, len(tuple(v)))
    return ndim


def _infer_ndim(padding: Any, *values: Any) -> int:
    """The number of spatial axes: the longest per-axis list among ``values`` and ``padding``."""
    ndim = _ndim_of(*values)
    pad_items = _axis_values(padding, "padding")
    if len(pad_items) > 1 or not isinstance(pad_items[0], numbers.Integral):
        ndim = max(ndim, len(pad_items))
    return ndim


@dataclass(frozen=True)
class ConvSpec:
    """A convolution layer's hyper-parameters, normalised per spatial axis.

    Attributes follow PyTorch: ``kernel``, ``stride`` and ``dilation`` are per-axis tuples,
    ``padding`` per-axis ``(left, right)`` pairs, weights have shape
    ``(out_channels, in_channels // groups, *kernel)``.

    One spec type serves both directions of :mod:`symstride.core.phasemap`'s rule: ``direction``
    is ``"strided"`` here and ``"transposed"`` for :class:`ConvTransposeSpec`, which only adds
    ``output_padding`` validation and PyTorch's transposed weight shape.
    """

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    in_channels: int = 1
    out_channels: int = 1
    groups: int = 1
    #: Samples added at the right end of a transposed layer's output (empty for a convolution).
    output_padding: tuple[int, ...] = ()

    #: ``"strided"`` or ``"transposed"``: the direction of the phase map's rule.
    direction: ClassVar[str] = "strided"

    @classmethod
    def create(
        cls,
        kernel: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        in_channels: Any = 1,
        out_channels: Any = 1,
        groups: Any = 1,
        *,
        ndim: int | None = None,
    ) -> "ConvSpec":
        """Validate and normalise; the number of axes is the longest per-axis list (or ``ndim``)."""
        kernel, stride, padding, dilation = (_materialize(v) for v in (kernel, stride, padding, dilation))
        if ndim is not None:
            ndim = as_int(ndim, "ndim")
            if ndim < 1:
                raise SymstrideError(f"ndim must be a positive integer (the number of spatial axes), got {ndim}")
        else:
            ndim = _infer_ndim(padding, kernel, stride, dilation)
        k = per_axis(kernel, "kernel", ndim, minimum=1)
        s = per_axis(stride, "stride", ndim, minimum=1)
        d = per_axis(dilation, "dilation", ndim, minimum=1)
        p = normalize_padding(padding, ndim)
        cin = as_int(in_channels, "in_channels")
        cout = as_int(out_channels, "out_channels")
        g = as_int(groups, "groups")
        for name, v in (("in_channels", cin), ("out_channels", cout), ("groups", g)):
            if v < 1:
                raise SymstrideError(f"{name} must be a positive integer, got {v}")
        for name, v in (("in_channels", cin), ("out_channels", cout)):
            if v % g:
                raise SymstrideError(f"groups={g} must divide {name}={v}")
        taps = prod(k)
        if taps > MAX_TAPS:
            raise SymstrideError(
                f"kernel {k} has {taps} taps per channel pair; symstride accepts at most {MAX_TAPS}"
            )
        weights = cout * (cin // g) * taps
        if weights > MAX_ELEMENTS:
            raise SymstrideError(
                f"the layer has {weights} weights (out_channels*in_channels/groups*taps), {8 * weights / 1e9:.1f} GB "
                f"in float64; symstride accepts at most {MAX_ELEMENTS} ({8 * MAX_ELEMENTS / 1e9:g} GB)"
            )
        return cls(k, s, d, p, cin, cout, g)

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.kernel)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """PyTorch weight shape ``(C_out, C_in/groups, *kernel)``."""
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    @property
    def taps(self) -> int:
        """Taps per channel pair, ``prod(kernel)``."""
        return prod(self.kernel)

    def replace(self, **changes: Any) -> "ConvSpec":
        """A new validated spec with some parameters changed."""
        fields = dict(
            kernel=self.kernel, stride=self.stride, padding=self.padding, dilation=self.dilation,
            in_channels=self.in_channels, out_channels=self.out_channels, groups=self.groups,
        )
        fields.update(changes)
        return ConvSpec.create(**fields, ndim=self.ndim)

    def describe(self) -> str:
        """A one-line summary, e.g. ``kernel 3, stride 2, padding 1, dilation 1, 1→1 channels``."""

        def fmt(values: tuple) -> str:
            if len(set(values)) == 1:
                return str(values[0])
            return "×".join(str(v) for v in values)

        pads = [f"{l}" if l == r else f"{l}:{r}" for l, r in self.padding]
        pad = pads[0] if len(set(pads)) == 1 else "×".join(pads)
        text = (
            f"{self.ndim}-D, kernel {fmt(self.kernel)}, stride {fmt(self.stride)}, padding {pad}, "
            f"dilation {fmt(self.dilation)}, {self.in_channels}→{self.out_channels} channels"
        )
        if self.groups > 1:
            text += f", groups {self.groups}"
        return text


@dataclass(frozen=True)
class ConvTransposeSpec(ConvSpec):
    """A transposed convolution's hyper-parameters: a :class:`ConvSpec` in the ``"transposed"`` direction.

    Fields as in :class:`ConvSpec`, with ``output_padding`` (per axis, samples added at the right
    end of the output, smaller than stride or dilation); weights have PyTorch's transposed shape
    ``(in_channels, out_channels // groups, *kernel)``.  ``padding`` also accepts per-axis
    ``(left, right)`` pairs: the output is cropped by ``left`` and ``right`` samples (PyTorch
    only has the symmetric case).

    >>> ConvTransposeSpec.create(kernel=3, stride=2, padding=1, output_padding=1).weight_shape
    (1, 1, 3)
    >>> ConvTransposeSpec.create(kernel=3, stride=2, output_padding=2)
    Traceback (most recent call last):
        ...
    symstride.core.errors.SymstrideError: output_padding must be smaller than either stride or dilation (PyTorch's rule), got output_padding 2 with stride 2 and dilation 1 (axis 0)
    """

    direction: ClassVar[str] = "transposed"

    @classmethod
    def create(
        cls,
        kernel: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        dilation: Any = 1,
        in_channels: Any = 1,
        out_channels: Any = 1,
        groups: Any = 1,
        *,
        ndim: int | None = None,
    ) -> "ConvTransposeSpec":
        """Validate and normalise; ``output_padding`` must be smaller than stride or dilation per axis."""
        kernel, stride, padding, output_padding, dilation = (
            _materialize(v) for v in (kernel, stride, padding, output_padding, dilation)
        )
        if ndim is None:
            ndim = _infer_ndim(padding, kernel, stride, dilation, output_padding)
        # The shared fields validate exactly as for a convolution (the weight count is the same).
        base = ConvSpec.create(kernel, stride, padding, dilation, in_channels, out_channels, groups, ndim=ndim)
        op = per_axis(output_padding, "output_padding", ndim, minimum=0)
        for axis, (o, s, d) in enumerate(zip(op, base.stride, base.dilation)):
            if not (o < s or o < d):
                raise SymstrideError(
                    f"output_padding must be smaller than either stride or dilation (PyTorch's rule), "
                    f"got output_padding {o} with stride {s} and dilation {d} (axis {axis})"
                )
        return cls(base.kernel, base.stride, base.dilation, base.padding, base.in_channels, base.out_channels,
                   base.groups, output_padding=op)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """PyTorch's transposed weight shape ``(C_in, C_out/groups, *kernel)``."""
        return (self.in_channels, self.out_channels // self.groups, *self.kernel)

    @property
    def adjoint(self) -> ConvSpec:
        """The convolution this layer is the adjoint of: same weights, channels swapped.

        PyTorch's ``conv_transpose`` is the gradient of ``conv`` with respect to its input, so
        the adjoint convolution maps ``out_channels`` to ``in_channels`` with the same kernel,
        stride, padding, dilation and groups, and reads the weight tensor unchanged.
        """
        return ConvSpec(self.kernel, self.stride, self.dilation, self.padding,
                        self.out_channels, self.in_channels, self.groups)

    def replace(self, **changes: Any) -> "ConvTransposeSpec":
        """A new validated spec with some parameters changed."""
        fields = dict(
            kernel=self.kernel, stride=self.stride, padding=self.padding, output_padding=self.output_padding,
            dilation=self.dilation, in_channels=self.in_channels, out_channels=self.out_channels, groups=self.groups,
        )
        fields.update(changes)
        return ConvTransposeSpec.create(**fields, ndim=self.ndim)

    def describe(self) -> str:
        """A one-line summary, e.g. ``transposed 1-D, kernel 3, stride 2, padding 1, output padding 1, …``."""
        text = ConvSpec(self.kernel, self.stride, self.dilation, self.padding,
                        self.in_channels, self.out_channels, self.groups).describe()
        ops = self.output_padding
        head, _, tail = text.partition(", dilation")
        op = str(ops[0]) if len(set(ops)) == 1 else "×".join(map(str, ops))
        return f"transposed {head}, output padding {op}, dilation{tail}"
