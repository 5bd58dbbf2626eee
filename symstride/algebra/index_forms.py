"""Index forms: each operator as the definition of its output signal in terms of its input.

``(D_s v)[c, n] = v[c, s n]``, a convolution as its finite sum (zero padding as an Iverson
bracket), space-to-depth and depth-to-space as permutations of entries, a pointwise map as an
uninterpreted function.  A chain of such definitions is what :mod:`symstride.terms` evaluates
exactly; the table :data:`INDEX_FORMS` names the form of every operator type.
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from dataclasses import dataclass, field
from math import prod
from typing import Any, Callable

import numpy as np
import sympy as sp

from ..core.indexing import channel_index
from .expressions import Bank
from .lines import add, mul
from .operators import Conv
from .resampling import DepthToSpace, Pointwise, SpaceToDepth, Subsample
from ..render.printing import Iverson
from .expansion import INDEX, Definition

__all__ = ["INDEX_FORMS", "Signal", "Builder", "INT"]

INT = {"integer": True, "nonnegative": True}


@dataclass
class Signal:
    """A signal being defined: its name, channels, per-axis length and when it exists."""

    base: sp.IndexedBase
    channels: int
    size: tuple[Any, ...]  # per-axis length, an expression in the input size symbols
    defined: list[Any]  # conditions on the input sizes for the signal to exist


@dataclass
class Builder:
    """Collects the definitions of one expression, with fresh names for its signals."""

    ndim: int
    definitions: list[Definition] = field(default_factory=list)
    count: int = 0

    def fresh(self) -> sp.IndexedBase:
        self.count += 1
        return sp.IndexedBase(f"v{self.count}")

    def indices(self, count: int) -> list[sp.Symbol]:
        return [sp.Dummy(f"i{k}", **INT) for k in range(count)]


def _conv_form(op: Any, v: Signal, b: Builder, bank: np.ndarray | None = None) -> Signal:
    spec = op.spec
    if spec.ndim != b.ndim:
        raise SymstrideError(f"{op!r} has {spec.ndim} spatial axes, the expression has {b.ndim}")
    if v.channels != spec.in_channels:
        raise SymstrideError(f"{op!r} expects {spec.in_channels} input channels, its input has {v.channels}")
    out = b.fresh()
    o, *n = b.indices(1 + b.ndim)
    c = sp.Dummy("c", **INT)
    m = [sp.Dummy(f"m{a}", **INT) for a in range(b.ndim)]
    cin_g, cout_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    pos = [add(mul(s, na), mul(d, ma), -pl) for s, d, (pl, _), na, ma in zip(spec.stride, spec.dilation, spec.padding, n, m)]
    inside = sp.And(*(sp.And(p >= 0, p <= size - 1) for p, size in zip(pos, v.size)))
    read = Iverson(inside) * v.base[(sp.floor(o / cout_g) * cin_g + c, *pos)]  # zero padding
    if bank is None:
        weight = op.weight(o, c, m) if isinstance(op, Conv) else None
    else:
        table = b.fresh()
        lookup = [
            (entry, sp.And(sp.Eq(o, oo), sp.Eq(c, cc), *(sp.Eq(ma, mm) for ma, mm in zip(m, mv))))
            for (oo, cc, *mv), entry in np.ndenumerate(bank) if entry != 0
        ]
        b.definitions.append(Definition(table[(o, c, *m)], sp.Piecewise(*lookup, (0, True)) if lookup else sp.S.Zero,
                                        ((o, 0, spec.out_channels - 1), (c, 0, cin_g - 1), *((ma, 0, k - 1) for ma, k in zip(m, spec.kernel))),
                                        note="the claimed filter bank"))
        weight = table[(o, c, *m)]
    body = sp.Sum(weight * read, (c, 0, cin_g - 1), *((ma, 0, k - 1) for ma, k in zip(m, spec.kernel)))
    size = tuple(sp.floor((N + pl + pr - d * (k - 1) - 1) / s) + 1 for N, k, s, d, (pl, pr) in zip(v.size, spec.kernel, spec.stride, spec.dilation, spec.padding))
    b.definitions.append(Definition(out[(o, *n)], body, ((o, 0, spec.out_channels - 1), *((na, 0, L - 1) for na, L in zip(n, size)))))
    fits = [N + pl + pr >= d * (k - 1) + 1 for N, k, d, (pl, pr) in zip(v.size, spec.kernel, spec.dilation, spec.padding)]
    return Signal(out, spec.out_channels, size, v.defined + fits)


def _bank_form(op: Bank, v: Signal, b: Builder) -> Signal:
    return _conv_form(op, v, b, op.weights)


def _axes_of(op: Any, values: tuple[int, ...], b: Builder) -> tuple[int, ...]:
    if len(values) == 1:
        return values * b.ndim
    if len(values) != b.ndim:
        raise SymstrideError(f"{op!r} has {len(values)} axes, the expression has {b.ndim}")
    return values


def _subsample_form(op: Subsample, v: Signal, b: Builder) -> Signal:
    factor = _axes_of(op, op.factor, b)
    offset = _axes_of(op, op.offset, b)
    out = b.fresh()
    c, *n = b.indices(1 + b.ndim)
    size = tuple(sp.ceiling((N - o) / s) for N, s, o in zip(v.size, factor, offset))
    body = v.base[(c, *(add(mul(s, na), o) for s, o, na in zip(factor, offset, n)))]
    b.definitions.append(Definition(out[(c, *n)], body, ((c, 0, v.channels - 1), *((na, 0, L - 1) for na, L in zip(n, size)))))
    return Signal(out, v.channels, size, v.defined + [N > o for N, o in zip(v.size, offset)])


def _s2d_form(op: SpaceToDepth, v: Signal, b: Builder) -> Signal:
    stride = _axes_of(op, op.stride, b)
    P = prod(stride)
    out = b.fresh()
    c = sp.Dummy("c", **INT)
    r = [sp.Dummy(f"r{a}", **INT) for a in range(b.ndim)]
    a = [sp.Dummy(f"a{k}", **INT) for k in range(b.ndim)]
    phi = sum((ra * prod(stride[k + 1 :]) for k, ra in enumerate(r)), sp.S.Zero)
    chan = channel_index(c, phi, v.channels, P, op.layout)  # the one channel-order formula
    size = tuple(N / s for N, s in zip(v.size, stride))
    inverse = {c: sp.floor(INDEX[0] / P) if op.layout == "pytorch" else sp.Mod(INDEX[0], v.channels)}
    flat = sp.Mod(INDEX[0], P) if op.layout == "pytorch" else sp.floor(INDEX[0] / v.channels)
    for k, ra in enumerate(r):
        inverse[ra] = sp.Mod(sp.floor(flat / prod(stride[k + 1 :])), stride[k])
    inverse.update({ak: INDEX[1 + k] for k, ak in enumerate(a)})
    body = v.base[(c, *(s * ak + ra for s, ak, ra in zip(stride, a, r)))]
    domain = ((c, 0, v.channels - 1), *((ra, 0, s - 1) for ra, s in zip(r, stride)), *((ak, 0, L - 1) for ak, L in zip(a, size)))
    b.definitions.append(Definition(out[(chan, *a)], body, domain, inverse=inverse))
    return Signal(out, v.channels * P, size, v.defined + [sp.Eq(sp.Mod(N, s), 0) for N, s in zip(v.size, stride)])


def _d2s_form(op: DepthToSpace, v: Signal, b: Builder) -> Signal:
    stride = _axes_of(op, op.stride, b)
    P = prod(stride)
    if v.channels % P:
        raise SymstrideError(f"{op!r} needs channels divisible by {P}, its input has {v.channels}")
    channels = v.channels // P
    out = b.fresh()
    c, *t = b.indices(1 + b.ndim)
    r = [sp.Mod(tk, s) for tk, s in zip(t, stride)]
    phi = sum((ra * prod(stride[k + 1 :]) for k, ra in enumerate(r)), sp.S.Zero)
    chan = channel_index(c, phi, channels, P, op.layout)
    body = v.base[(chan, *(sp.floor(tk / s) for tk, s in zip(t, stride)))]
    size = tuple(N * s for N, s in zip(v.size, stride))
    b.definitions.append(Definition(out[(c, *t)], body, ((c, 0, channels - 1), *((tk, 0, L - 1) for tk, L in zip(t, size)))))
    return Signal(out, channels, size, v.defined)


def _pointwise_form(op: Pointwise, v: Signal, b: Builder) -> Signal:
    out = b.fresh()
    c, *n = b.indices(1 + b.ndim)
    body = sp.Function(op.name)(v.base[(c, *n)])
    b.definitions.append(Definition(out[(c, *n)], body, ((c, 0, v.channels - 1), *((na, 0, L - 1) for na, L in zip(n, v.size)))))
    return Signal(out, v.channels, v.size, v.defined)


#: The index form of each operator type (table-driven; a new operator adds one entry).
INDEX_FORMS: dict[type, Callable[[Any, Signal, Builder], Signal]] = {
    Conv: _conv_form,
    Bank: _bank_form,
    Subsample: _subsample_form,
    SpaceToDepth: _s2d_form,
    DepthToSpace: _d2s_form,
    Pointwise: _pointwise_form,
}
