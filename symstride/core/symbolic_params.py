"""Layer parameters that are SymPy integer symbols: validation and substitution.

A convolution's kernel, stride, dilation and padding may be SymPy symbols (any subset, on any
axis, mixed with ints in per-axis tuples).  A symbol must carry the assumptions its parameter
needs — ``integer=True`` and ``positive=True`` for kernel, stride and dilation,
``integer=True`` and ``nonnegative=True`` (or positive) for padding — so that every statement
symstride makes about it holds for all values it can take.  Channels and groups stay integers.

>>> import sympy as sp
>>> k, s = sp.symbols("k s", integer=True, positive=True)
>>> spec = SymbolicConvSpec.create(kernel=(k, 3), stride=s)
>>> spec.kernel, spec.stride, spec.symbols
((k, 3), (s, s), (k, s))
>>> spec.subs({k: 5, s: 2})
ConvSpec(kernel=(5, 3), stride=(2, 2), dilation=(1, 1), padding=((0, 0), (0, 0)), in_channels=1, out_channels=1, groups=1, output_padding=())
>>> SymbolicConvSpec.create(kernel=3, stride=sp.Symbol("s"))
Traceback (most recent call last):
    ...
symstride.core.errors.SymstrideError: stride s must be a positive integer symbol: use sympy.Symbol('s', integer=True, positive=True)
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from .errors import SymstrideError, SymstrideTypeError
from .params import ConvSpec, as_int

__all__ = [
    "SymbolicConvSpec",
    "ConcreteValuesNeeded",
    "has_symbols",
    "parameter_value",
    "symbol_assumptions",
    "RESERVED_NAMES",
    "needs_values",
]

#: Names the derivations use for their own indices and signals; a layer parameter may not take
#: them (the printed derivation would mean two things by one letter).
RESERVED_NAMES = frozenset("n m r j q t a N o c w x y u z W P L".split())
_RESERVED_PATTERN = re.compile(r"^(n|m|r|j|q|t|a|N)_\d+$")

#: What each parameter requires of a symbol: (assumption, word).
_NEEDS = {"kernel": "positive", "stride": "positive", "dilation": "positive", "padding": "nonnegative"}


class ConcreteValuesNeeded(SymstrideError):
    """An operation needs numbers but the layer has symbolic parameters (call ``.subs`` first)."""


def needs_values(what: str, symbols: tuple[sp.Symbol, ...]) -> ConcreteValuesNeeded:
    """The error for ``what`` on a layer with ``symbols``: names them and says how to give values.

    >>> import sympy as sp
    >>> print(needs_values("verify", sp.symbols("k s")))
    verify needs concrete parameters: the layer has symbols k, s; call .subs({k: ..., s: ...}) first
    """
    names = ", ".join(map(str, symbols))
    example = ", ".join(f"{s}: ..." for s in symbols)
    return ConcreteValuesNeeded(f"{what} needs concrete parameters: the layer has symbols {names}; call .subs({{{example}}}) first")


def _is_symbolic(value: Any) -> bool:
    return isinstance(value, sp.Basic) and bool(getattr(value, "free_symbols", ()))


def has_symbols(*values: Any) -> bool:
    """Whether any of ``values`` (ints, SymPy objects, nested per-axis sequences) holds a SymPy symbol."""
    for v in values:
        if _is_symbolic(v):
            return True
        if isinstance(v, (tuple, list)) and has_symbols(*v):
            return True
    return False


def symbol_assumptions(symbol: sp.Symbol) -> dict[str, bool]:
    """The assumptions that matter for a layer parameter, as SymPy reports them."""
    return {"integer": bool(symbol.is_integer), "positive": bool(symbol.is_positive), "nonnegative": bool(symbol.is_nonnegative)}


def parameter_value(value: Any, name: str, *, axis: int | None = None, minimum: int = 1) -> int | sp.Symbol:
    """An int ``≥ minimum``, or a SymPy symbol with the assumptions that guarantee it.

    ``name`` is the parameter (``"kernel"``, ``"stride"``, ``"dilation"``, ``"padding"``).
    """
    where = "" if axis is None else f" (axis {axis})"
    if isinstance(value, sp.Symbol):
        need = "positive" if minimum >= 1 else "nonnegative"
        ok = value.is_integer is True and (value.is_positive is True if need == "positive" else value.is_nonnegative is True)
        if not ok:
            raise SymstrideError(
                f"{name} {value} must be a {need} integer symbol: use sympy.Symbol('{value}', integer=True, {need}=True)"
            )
        if value.name in RESERVED_NAMES or _RESERVED_PATTERN.match(value.name):
            raise SymstrideError(
                f"{name} symbol {value} clashes with an index or signal name of the derivations "
                f"({', '.join(sorted(RESERVED_NAMES))}); choose another name"
            )
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", value.name):
            raise SymstrideError(f"{name} symbol {value.name!r} must be named by an identifier [A-Za-z][A-Za-z0-9_]*")
        return value
    if _is_symbolic(value):
        raise SymstrideError(f"{name} must be an integer or a single SymPy symbol{where}, got the expression {value}")
    v = as_int(value, f"{name}{where}")
    if v < minimum:
        rule = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise SymstrideError(f"{name} must be {rule} on every axis, got {v}{where}")
    return v


def _per_axis(value: Any, name: str, ndim: int, minimum: int) -> tuple:
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not items:
        raise SymstrideError(f"{name} must name at least one axis, got an empty sequence")
    if len(items) == 1:
        items = items * ndim
    if len(items) != ndim:
        raise SymstrideError(
            f"{name} has {len(items)} entries but the layer has {ndim} spatial axes; "
            "per-axis lists must all have the same length (a single value broadcasts)"
        )
    return tuple(parameter_value(v, name, axis=a if ndim > 1 else None, minimum=minimum) for a, v in enumerate(items))


def _padding(value: Any, ndim: int) -> tuple[tuple[Any, Any], ...]:
    """Per-axis padding as in :func:`~symstride.params.normalize_padding`: a value, one per axis, or (left, right) pairs."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not items:
        raise SymstrideError("padding must name at least one axis, got an empty sequence")
    if len(items) == 1:
        items = items * ndim
    if len(items) != ndim:
        raise SymstrideError(f"padding has {len(items)} entries but the layer has {ndim} spatial axes")
    out = []
    for a, item in enumerate(items):
        pair = tuple(item) if isinstance(item, (tuple, list)) else (item, item)
        if len(pair) != 2:
            raise SymstrideError(f"padding on axis {a} must be a value or a (left, right) pair, got {item!r}")
        out.append(tuple(parameter_value(v, "padding", axis=a if ndim > 1 else None, minimum=0) for v in pair))
    return tuple(out)


def _ndim(padding: Any, *values: Any) -> int:
    """The number of axes: the longest per-axis list (padding counts when it is a list or holds a pair)."""
    ndim = max((len(v) for v in values if isinstance(v, (tuple, list))), default=1)
    if isinstance(padding, (tuple, list)):
        ndim = max(ndim, len(padding))
    return ndim


@dataclass(frozen=True)
class SymbolicConvSpec:
    """A convolution's parameters with SymPy integer symbols among kernel, stride, dilation, padding.

    Same fields as :class:`~symstride.params.ConvSpec` (per-axis tuples, padding as
    ``(left, right)`` pairs), each entry an int or a symbol; channels and groups are ints.
    """

    kernel: tuple
    stride: tuple
    dilation: tuple
    padding: tuple
    in_channels: int = 1
    out_channels: int = 1
    groups: int = 1

    @classmethod
    def create(cls, kernel: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1, in_channels: Any = 1,
               out_channels: Any = 1, groups: Any = 1, *, ndim: int | None = None) -> "SymbolicConvSpec":
        """Validate every value (symbols by their assumptions) and normalise per axis."""
        ndim = _ndim(padding, kernel, stride, dilation) if ndim is None else as_int(ndim, "ndim")
        k = _per_axis(kernel, "kernel", ndim, 1)
        s = _per_axis(stride, "stride", ndim, 1)
        d = _per_axis(dilation, "dilation", ndim, 1)
        p = _padding(padding, ndim)
        # channels are checked by ConvSpec's own rules on a stand-in concrete layer
        ConvSpec.create(1, 1, 0, 1, in_channels, out_channels, groups, ndim=ndim)
        spec = cls(k, s, d, p, as_int(in_channels, "in_channels"), as_int(out_channels, "out_channels"), as_int(groups, "groups"))
        seen: dict[str, sp.Symbol] = {}
        for sym in spec.symbols:
            if sym.name in seen:
                raise SymstrideError(f"two different symbols are named {sym.name} (with different assumptions); use one symbol")
            seen[sym.name] = sym
        return spec

    @property
    def ndim(self) -> int:
        return len(self.kernel)

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The symbols, in order of first appearance (kernel, stride, dilation, padding; axis by axis)."""
        out: list[sp.Symbol] = []
        for v in (*self.kernel, *self.stride, *self.dilation, *(x for pair in self.padding for x in pair)):
            if isinstance(v, sp.Symbol) and v not in out:
                out.append(v)
        return tuple(out)

    def parameters_of(self, symbol: sp.Symbol) -> list[str]:
        """Which parameters use ``symbol`` (e.g. ``["kernel", "padding"]``)."""
        fields = {"kernel": self.kernel, "stride": self.stride, "dilation": self.dilation,
                  "padding": tuple(x for pair in self.padding for x in pair)}
        return [name for name, values in fields.items() if symbol in values]

    def axis_symbolic(self, axis: int, *, padding: bool = False) -> bool:
        """Whether kernel, stride or dilation (and with ``padding`` also the padding) is a symbol on ``axis``."""
        values = [self.kernel[axis], self.stride[axis], self.dilation[axis]] + (list(self.padding[axis]) if padding else [])
        return any(isinstance(v, sp.Symbol) for v in values)

    @property
    def weight_shape(self) -> tuple:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    def values(self, mapping: Mapping[Any, Any]) -> dict[sp.Symbol, int]:
        """``mapping`` (keys: symbols or their names) checked: known symbols, integer values."""
        by_name = {s.name: s for s in self.symbols}
        out: dict[sp.Symbol, int] = {}
        for key, value in dict(mapping).items():
            name = key.name if isinstance(key, sp.Symbol) else key
            if not isinstance(name, str) or name not in by_name or (isinstance(key, sp.Symbol) and key != by_name[name]):
                raise SymstrideError(f"{key!r} is not a symbol of this layer; its symbols are {', '.join(by_name) or 'none'}")
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise SymstrideTypeError(f"the value of {name} must be an integer, got {value!r}")
            symbol, value = by_name[name], int(value)
            if value < 1 and symbol.is_positive or value < 0:
                need = "a positive" if symbol.is_positive else "a nonnegative"
                raise SymstrideError(f"the value of {name} must be {need} integer (as assumed), got {value}")
            out[symbol] = value
        return out

    def subs(self, mapping: Mapping[Any, Any]) -> "ConvSpec | SymbolicConvSpec":
        """The spec with values substituted: a validated :class:`ConvSpec` when no symbol is left."""
        values = self.values(mapping)
        sub = lambda v: values.get(v, v) if isinstance(v, sp.Symbol) else v  # noqa: E731
        return self.replace(kernel=tuple(map(sub, self.kernel)), stride=tuple(map(sub, self.stride)),
                            dilation=tuple(map(sub, self.dilation)), padding=tuple((sub(l), sub(r)) for l, r in self.padding))

    def replace(self, **changes: Any) -> "ConvSpec | SymbolicConvSpec":
        """A new validated spec with some parameters changed (a :class:`ConvSpec` when no symbol is left)."""
        fields = dict(kernel=self.kernel, stride=self.stride, padding=self.padding, dilation=self.dilation,
                      in_channels=self.in_channels, out_channels=self.out_channels, groups=self.groups)
        fields.update(changes)
        if has_symbols(*fields.values()):
            return SymbolicConvSpec.create(**fields, ndim=self.ndim)
        return ConvSpec.create(**fields, ndim=self.ndim)

    def describe(self) -> str:
        """A one-line summary, as :meth:`ConvSpec.describe` (symbols print by name)."""

        def fmt(values: tuple) -> str:
            return str(values[0]) if len(set(values)) == 1 else "×".join(str(v) for v in values)

        pads = [f"{l}" if l == r else f"{l}:{r}" for l, r in self.padding]
        pad = pads[0] if len(set(pads)) == 1 else "×".join(pads)
        text = (
            f"{self.ndim}-D, kernel {fmt(self.kernel)}, stride {fmt(self.stride)}, padding {pad}, "
            f"dilation {fmt(self.dilation)}, {self.in_channels}→{self.out_channels} channels"
        )
        return text + (f", groups {self.groups}" if self.groups > 1 else "")

    def symbols_json(self) -> list[dict[str, Any]]:
        """The symbols with their assumptions and the parameters they stand for (the JSON ``"symbols"`` key)."""
        return [
            {"name": s.name, "assumptions": {k: v for k, v in symbol_assumptions(s).items() if v}, "parameters": self.parameters_of(s)}
            for s in self.symbols
        ]
