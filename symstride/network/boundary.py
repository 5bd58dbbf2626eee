"""Boundaries in Theorem 3: where the equivalent network needs a 0/1 mask, and why.

A feature map of true length ``N`` held by ``R`` phases occupies ``A = ceil(N / R)`` phase
samples, i.e. ``R·A ≥ N`` positions; the ``R·A − N`` positions past the end (the *overhang*)
hold whatever the phase-domain computation put there.  A layer that pads on the right reads,
at some of its true outputs, positions ``≥ N`` where the strided network reads padding.  The
equivalent network reads the overhang there, so the construction is exact only if the overhang
holds the padding value.  A mask ``M[c·B^d + φ(r), a] = [B·a + r < N]`` (per axis) before the
layer enforces that; it is inserted exactly when

* some true output of the layer reads an overhang position (index analysis below): a read is a
  point of the product over axes, so it reads junk exactly when its position is inside the phase
  tensor, ``[0, B·A)``, on *every* axis and past the end, ``[N, B·A)``, on *some* axis — a read
  that is padding on one axis (outside ``[0, B·A)``) is padding whatever the other axes say; and
* the overhang is not already the padding value (zeros survive the zero-extended input and
  activations with ``f(0) = 0``; max pooling pads with ``−∞``, which nothing produces).

**Divisibility condition (sufficient):** no mask is needed when every layer that pads on the
right sees an input whose size ``N`` is divisible by its ``B = s·R`` on every axis — then there
is no overhang.  A layer without right padding never reads past ``N``:
``s·(N_out − 1) + δ·(k − 1) − p_left ≤ N + p_right − 1``.

>>> from symstride.core.params import ConvSpec
>>> from .phases import PhaseBasis
>>> spec = ConvSpec.create(kernel=3, stride=2, padding=1)
>>> overhang_reads(spec, PhaseBasis.of(1, (9,), (4,)))   # N = 9 in 4 phases: positions 9..11 past the end
(True,)
>>> overhang_reads(spec, PhaseBasis.of(1, (8,), (4,)))   # 4 divides 8: no overhang
(False,)
>>> pad = ConvSpec.create(kernel=1, stride=2, padding=[(1, 1), (1, 0)], ndim=2)
>>> overhang_reads(pad, PhaseBasis.of(1, (1, 1), (2, 2)))  # axis 0 reads position 1 only where axis 1 reads −1
(False, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.indexing import output_shape
from ..core.params import ConvSpec
from .phases import PhaseBasis

__all__ = ["Boundary", "overhang_reads", "decide_mask"]


def _reads_between(n_out: int, k: int, s: int, d: int, p: int, lo: int, hi: int) -> bool:
    """Does some true output ``n ∈ [0, N_out)`` read, through some tap ``m ∈ [0, k)``, a position
    ``s·n + δ·m − p`` in ``[lo, hi)``?  Exact in Python integers, ``O(k)``: for each tap the
    positions form the progression ``s·n + c``; its first term ``≥ lo`` is at
    ``n = max(0, ⌈(lo − c)/s⌉)``."""
    for m in range(k):
        c = d * m - p
        n = max(0, -((c - lo) // s))
        if n < n_out and s * n + c < hi:
            return True
    return False


def overhang_reads(spec: ConvSpec, basis: PhaseBasis) -> tuple[bool, ...]:
    """Per axis: does a true output read a sample whose position is past the end on this axis,
    ``[N, B·A)``, and inside the phase tensor, ``[0, B·A)``, on every other axis?

    A read is a point of the product over axes of (true output, tap) pairs, so it reads junk
    exactly when on every axis its position lies in ``[0, B·A)`` and on some axis in
    ``[N, B·A)``; a read outside ``[0, B·A)`` on any axis is the phase domain's padding, whatever
    the other axes say.  The per-axis questions are independent, hence the product form.
    """
    past, inside = [], []
    for n_in, n_out, k, s, d, (p, _), big, a in zip(
        basis.size, output_shape(spec, basis.size), spec.kernel, spec.stride, spec.dilation,
        spec.padding, basis.phases, basis.length,
    ):
        past.append(_reads_between(n_out, k, s, d, p, n_in, big * a))
        inside.append(_reads_between(n_out, k, s, d, p, 0, big * a))
    return tuple(x and all(inside) for x in past)


def _padding_only_axes(spec: ConvSpec, basis: PhaseBasis) -> tuple[int, ...]:
    """Axes on which every read of a true output lies outside the phase tensor (padding)."""
    return tuple(
        axis for axis, (n_out, k, s, d, (p, _), big, a) in enumerate(zip(
            output_shape(spec, basis.size), spec.kernel, spec.stride, spec.dilation, spec.padding,
            basis.phases, basis.length))
        if not _reads_between(n_out, k, s, d, p, 0, big * a)
    )


@dataclass(frozen=True)
class Boundary:
    """The boundary analysis of one layer that reads a window (convolution or pooling)."""

    path: str
    kind: str
    needed: bool  #: a mask is inserted before the layer
    pads_right: bool  #: the strided layer pads on the right on some axis
    divisible: bool  #: ``B | N`` on every axis (no overhang)
    reads_overhang: tuple[bool, ...]  #: per axis, from :func:`overhang_reads`
    overhang_is_fill: bool  #: the overhang already holds the padding value
    fill: float  #: the padding value (0, or −∞ for max pooling)
    reason: str

    def as_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "layer": self.path, "type": self.kind, "needed": self.needed, "divisible": self.divisible,
            "pads_right": self.pads_right, "fill": "-inf" if self.fill < 0 else 0, "reason": self.reason,
        }


def decide_mask(path: str, kind: str, spec: ConvSpec, basis: PhaseBasis, overhang_zero: bool, fill: float) -> Boundary:
    """Whether the layer at ``path`` needs a mask on its input held in ``basis``."""
    reads = overhang_reads(spec, basis)
    pads_right = any(right > 0 for _, right in spec.padding)
    divisible = not basis.has_overhang
    is_fill = overhang_zero and fill == 0.0
    sizes = "×".join(map(str, basis.size))
    phases = "×".join(map(str, basis.phases))
    fill_text = "−∞" if fill < 0 else "0"
    if not pads_right:
        reason = "no right padding: true outputs never read past the end of the input"
    elif divisible:
        reason = f"input size {sizes} is divisible by B = {phases}: the phases hold no samples past the end"
    elif not any(reads) and _padding_only_axes(spec, basis):
        axes = ", ".join(map(str, _padding_only_axes(spec, basis)))
        reason = (f"input size {sizes} is not divisible by B = {phases}, but every true output reads padding "
                  f"on axis {axes} (outside the phase tensor), so no read reaches a sample past the end")
    elif not any(reads):
        reason = (f"input size {sizes} is not divisible by B = {phases}, but no true output reads the "
                  "samples past the end")
    elif is_fill:
        reason = (f"true outputs read samples past the end of the {sizes} input (B = {phases}), "
                  "but those samples are zero already (zero-extended input, activations with f(0) = 0)")
    else:
        axes = ", ".join(str(a) for a, r in enumerate(reads) if r)
        reason = (f"true outputs read samples past the end of the {sizes} input held in B = {phases} phases "
                  f"(axis {axes}) where the strided network reads padding {fill_text}; "
                  f"{sizes} is not divisible by {phases}")
    needed = any(reads) and not is_fill
    return Boundary(path, kind, needed, pads_right, divisible, reads, is_fill, fill, reason)
