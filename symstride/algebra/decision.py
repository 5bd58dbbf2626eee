"""Identities between concrete operator chains, decided for *every* input size.

The argument.  Write each side through its operators' index forms (:mod:`symstride.algebra.index_forms`,
the same forms the exact evaluator uses) and unfold them to the input: for concrete operators —
subsampling with offset, convolutions with any stride, kernel, dilation, (asymmetric) padding,
groups and channels, filter banks, space-to-depth and depth-to-space — every output entry
``y[o, n]`` is a finite sum of terms ``a · μ · x[c, i]`` with ``a`` rational, ``μ`` a monomial in the
weights and ``c`` a concrete channel, each term present when its guard holds.  The guards, the
read positions ``i``, the output lengths and the conditions for a side to be defined are
integer-affine in the input sizes ``N`` and the output index ``n``, with ``floor``/``mod`` by
*constant* integers only (a depth-to-space channel that depends on ``n mod s`` is split into its
``s`` residues).  So "the identity fails" is a quantifier-free formula of linear integer arithmetic
(QF_LIA) in ``(N, n, i)``:

* both sides defined at ``N`` and their output shapes differ, or
* shapes agree and, for some output entry, some weight monomial ``μ`` and input channel ``c``,
  the summed coefficients of the terms reading ``x[c, i]`` differ.

QF_LIA with division by constants is decidable and z3 decides it completely: ``unsat`` proves the
identity for all ``N``; ``sat`` gives a model, and binary searches (the sum of the sizes, then each
axis, then the output entry) give the *smallest* failing size and its first differing entry.
Reads outside a signal would make an index form meaningless, so the same formula also asks
for one (none exists for a proof).  z3 gets a time limit; ``unknown`` is never a proof.

Pointwise maps ``σ`` are uninterpreted.  They commute with the index-only operators (``D``,
space-to-depth, depth-to-space move entries and add no zeros), so each is first moved toward
the input; if both sides are then ``L_k ∘ σ_k ∘ … ∘ σ_1 ∘ L_0`` with the same maps and each pair of
linear segments ``L_i`` is decided equal, the identity is proved.  Otherwise the procedure does
not decide (comparing ``σ(P)`` atoms for all ``N`` needs quantifier alternation); the caller then
reports bounded evidence, never a proof.

>>> from symstride import D
>>> decide_identity(D(2) * D(3), D(6), ndim=1, channels=1).status
'proved'
>>> out = decide_identity(D(13), D(14), ndim=1, channels=1)
>>> out.status, out.size, out.smallest
('refuted', (14,), True)
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError

from dataclasses import dataclass
from typing import Any, Sequence

import sympy as sp

from .expressions import operator_chain
from .index_forms import INDEX_FORMS, INT, Builder, Signal
from .operators import Operator
from .resampling import DepthToSpace, Pointwise, SpaceToDepth, Subsample
from .identity_formula import LinearEncoding
from .expansion import Definition

__all__ = ["Sides", "IdentityDecision", "decide_identity", "pointwise_normal_form", "index_signal", "IDENTITY_TIMEOUT_MS", "ARGUMENT"]

#: Time z3 may spend on one query, in milliseconds (``unknown`` afterwards: not proved).
IDENTITY_TIMEOUT_MS = 20_000

#: The argument, as the rendered texts state it.
ARGUMENT = (
    "every output entry is a finite sum of terms coef·x[c, i] whose guards, read positions and output lengths "
    "are integer-affine in the input size N and the output index n with floor/mod by constants, so "
    "the failure of the identity is a quantifier-free linear-integer-arithmetic formula, which z3 decides completely"
)

#: Operators that only move entries (no arithmetic, no padding zeros): a pointwise map commutes with them.
INDEX_ONLY = (Subsample, SpaceToDepth, DepthToSpace)


def index_signal(ops: Sequence[Operator], x: sp.IndexedBase, channels: int, N: tuple, builder: Builder) -> Signal:
    """The signal ``ops`` (outermost first) make of the input ``x``, defined through ``builder``."""
    v = Signal(x, channels, N, [])
    for op in reversed(tuple(ops)):
        form = INDEX_FORMS.get(type(op))
        if form is None:
            raise SymstrideTypeError(f"{op!r} has no index form; known operators: {', '.join(t.__name__ for t in INDEX_FORMS)}")
        v = form(op, v, builder)
    return v


@dataclass
class Sides:
    """Both sides of an identity as index forms of one input ``x`` of size ``N`` (per axis)."""

    ndim: int
    channels: int
    N: tuple[sp.Symbol, ...]
    x: sp.IndexedBase
    left: Signal
    right: Signal
    definitions: dict[str, Definition]

    @classmethod
    def build(cls, left: Sequence[Operator], right: Sequence[Operator], ndim: int, channels: int) -> "Sides":
        N = tuple(sp.Symbol(f"N_{a + 1}" if ndim > 1 else "N", integer=True, positive=True) for a in range(ndim))
        x = sp.IndexedBase("x")
        b = Builder(ndim)
        q = sp.Dummy("q", **INT)
        qs = [sp.Dummy(f"q{a}", **INT) for a in range(ndim)]
        b.definitions.append(Definition(x[(q, *qs)], None, ((q, 0, channels - 1), *((qa, 0, Na - 1) for qa, Na in zip(qs, N)))))
        lsig = index_signal(left, x, channels, N, b)
        rsig = index_signal(right, x, channels, N, b)
        return cls(ndim, channels, N, x, lsig, rsig, {d.name: d for d in b.definitions})


@dataclass(frozen=True)
class IdentityDecision:
    """What the procedure established: ``status`` is ``proved``, ``refuted`` or ``unknown``.

    ``size`` is a failing input size (``smallest`` when no smaller size fails — established by
    z3 for every smaller size), ``output`` its first differing entry ``(o, *n)`` or None for a
    shape mismatch; ``argument`` says how it was established, ``reason`` why not (unknown);
    ``one_sided`` is the smallest size where exactly one side is defined, if any.
    """

    status: str
    argument: str
    size: tuple[int, ...] | None = None
    output: tuple[int, ...] | None = None
    smallest: bool = False
    reason: str = ""
    one_sided: tuple[tuple[int, ...], str] | None = None

    @property
    def proved(self) -> bool:
        return self.status == "proved"


def pointwise_normal_form(ops: Sequence[Operator], *, toward: str = "input") -> tuple[Operator, ...]:
    """``ops`` with every pointwise map moved past index-only operators, ``toward`` the input or the output.

    ``D_s σ = σ D_s`` (and likewise for space-to-depth and depth-to-space): both read ``σ(v[s n + o])``
    and exist at the same sizes, so a normal form computes the same function on the same sizes.

    >>> from symstride import D
    >>> pointwise_normal_form((Pointwise("relu"), D(2)))
    (D(2), Pointwise('relu'))
    >>> pointwise_normal_form((D(2), Pointwise("relu")), toward="output")
    (Pointwise('relu'), D(2))
    """
    if toward not in ("input", "output"):
        raise SymstrideError(f"toward must be 'input' or 'output', got {toward!r}")
    out = list(ops)
    first, second = (Pointwise, INDEX_ONLY) if toward == "input" else (INDEX_ONLY, Pointwise)
    moved = True
    while moved:
        moved = False
        for k in range(len(out) - 1):
            if isinstance(out[k], first) and isinstance(out[k + 1], second):
                out[k], out[k + 1] = out[k + 1], out[k]
                moved = True
    return tuple(out)


def _segments(ops: Sequence[Operator]) -> tuple[list[tuple[Operator, ...]], list[str]]:
    """Linear segments, input side first, and the pointwise maps between them."""
    segs: list[list[Operator]] = [[]]
    maps: list[str] = []
    for op in reversed(tuple(ops)):
        if isinstance(op, Pointwise):
            maps.append(op.name)
            segs.append([])
        else:
            segs[-1].insert(0, op)
    return [tuple(s) or (Subsample(1),) for s in segs], maps


def _linear(ops: Sequence[Operator]) -> tuple[Operator, ...]:
    """The operators without their pointwise maps: same shapes and domains (a map changes neither)."""
    kept = tuple(op for op in ops if not isinstance(op, Pointwise))
    return kept or (Subsample(1),)


def decide_identity(lhs: Operator, rhs: Operator, *, ndim: int, channels: int, timeout_ms: int = IDENTITY_TIMEOUT_MS) -> IdentityDecision:
    """Decide ``lhs = rhs`` for every input size (see the module docstring for the argument)."""
    left, right = operator_chain(lhs), operator_chain(rhs)
    shapes = LinearEncoding(Sides.build(_linear(left), _linear(right), ndim, channels), timeout_ms, entries=False)
    if not shapes.ever_defined():
        raise SymstrideError(f"no input size where both sides of {lhs!r} = {rhs!r} are defined (decided for all sizes)")
    one_sided = shapes.one_sided()
    linear = not any(isinstance(op, Pointwise) for op in left + right)
    if linear:
        enc = LinearEncoding(Sides.build(left, right, ndim, channels), timeout_ms)
        return _conclude(enc, "decided for all input sizes by linear integer arithmetic (z3): " + ARGUMENT, one_sided)
    reasons: dict[str, list[str]] = {}
    for toward in ("output", "input"):
        reason = _segments_equal(left, right, toward, ndim, channels, timeout_ms)
        if not reason:
            return IdentityDecision(
                "proved",
                "decided for all input sizes: each pointwise map commutes with subsampling and space↔depth "
                f"permutations (they move entries and add no zeros), so both sides were normalised (maps moved toward the {toward}) to "
                "L_k∘σ_k∘…∘σ_1∘L_0 with the same maps, and each pair of linear segments L_i was decided equal "
                "by linear integer arithmetic (z3): " + ARGUMENT,
                one_sided=one_sided,
            )
        reasons.setdefault(reason, []).append(toward)
    reason = "; ".join(f"with the maps moved toward the {' or the '.join(where)}, {why}" for why, where in reasons.items())
    reason += ("; σ(P) and σ(Q) are equal exactly when P = Q, and comparing such atoms for all input sizes "
               "needs quantifier alternation beyond the linear-arithmetic decision")
    shape_status = shapes.status()
    found = shapes.smallest_failure() if shape_status == "refuted" else None
    if found is not None:  # shapes do not depend on the pointwise maps: a shape mismatch refutes
        size, _ = found
        return IdentityDecision("refuted", "the output shapes were decided for all input sizes by linear integer arithmetic (z3)",
                                size, None, False, reason, one_sided)
    shapes_text = "output shapes decided equal for all input sizes" if shape_status == "proved" else f"output shapes not decided ({shapes.reason})"
    return IdentityDecision("unknown", f"{shapes_text}; entries not decided", reason=reason, one_sided=one_sided)


def _segments_equal(left: Sequence[Operator], right: Sequence[Operator], toward: str, ndim: int, channels: int, timeout_ms: int) -> str:
    """Empty when the normal forms have the same maps and pairwise equal linear segments, else why not."""
    (segs_l, maps_l), (segs_r, maps_r) = (_segments(pointwise_normal_form(ops, toward=toward)) for ops in (left, right))
    if maps_l != maps_r:
        return f"the sides apply different sequences of pointwise maps ({', '.join(maps_l) or 'none'} vs {', '.join(maps_r) or 'none'}, input side first)"
    c = channels
    for k, (a, b) in enumerate(zip(segs_l, segs_r)):
        enc = LinearEncoding(Sides.build(a, b, ndim, c), timeout_ms)
        status = enc.status()
        if status != "proved":
            what = {"refuted": "differ at some input size", "unknown": f"were not decided ({enc.reason})"}[status]
            return f"the linear segments {k} (counted from the input) of the two sides {what}"
        c = enc.sides.left.channels
    return ""


def _conclude(enc: LinearEncoding, argument: str, one_sided: Any) -> IdentityDecision:
    status = enc.status()
    if status == "unknown":
        return IdentityDecision("unknown", "not decided", reason=enc.reason, one_sided=one_sided)
    if status == "proved":
        return IdentityDecision("proved", argument, one_sided=one_sided)
    found = enc.smallest_failure()
    if found is None:  # z3 gave up while looking for the model again
        return IdentityDecision("unknown", "not decided", reason=f"z3 found a failure but answered unknown within {enc.timeout} ms when asked for it", one_sided=one_sided)
    return IdentityDecision("refuted", argument, found[0], found[1], enc.minimal, enc.reason, one_sided)

