"""Boundaries in Theorem 3: where the equivalent network needs a 0/1 mask, and why.

A feature map of true length ``N`` held by ``R`` phases occupies ``A = ceil(N / R)`` phase
samples, i.e. ``R·A ≥ N`` positions; the ``R·A − N`` positions past the end (the *overhang*)
hold whatever the phase-domain computation put there.  A layer that pads on the right reads,
at some of its true outputs, positions ``≥ N`` where the strided network reads padding.  The
equivalent network reads the overhang there, so the construction is exact only if the overhang
holds the padding value.  A mask ``M[c·B^d + φ(r), a] = [B·a + r < N]`` (per axis) before the
layer enforces that; it is inserted exactly when

* some true output of the layer reads an overhang position (index analysis below), and
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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.indexing import output_shape
from ..core.params import ConvSpec
from .phases import PhaseBasis

__all__ = ["Boundary", "overhang_reads", "decide_mask"]


def overhang_reads(spec: ConvSpec, basis: PhaseBasis) -> tuple[bool, ...]:
    """Per axis: does a true output read a position in ``[N, B·A)`` (past the end, inside the phases)?"""
    out = []
    for n_in, n_out, k, s, d, (p, _), big, a in zip(
        basis.size, output_shape(spec, basis.size), spec.kernel, spec.stride, spec.dilation,
        spec.padding, basis.phases, basis.length,
    ):
        pos = s * np.arange(n_out)[:, None] + d * np.arange(k)[None, :] - p
        out.append(bool(((pos >= n_in) & (pos < big * a)).any()))
    return tuple(out)


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
