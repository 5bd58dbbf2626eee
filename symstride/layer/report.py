"""Plain-text reports: what a result object prints in a terminal.

The filter bank's own text is :func:`symstride.layer.filterbank.filter_bank_text`; the decoder's
is :func:`symstride.decoder.report.decoder_text`.

>>> from symstride import Conv, destride
>>> print(equivalence_text(destride(Conv(kernel=3, stride=2))).splitlines()[0])
Theorem 2: a strided convolution is a unit-stride convolution over 2 phases
"""

from __future__ import annotations

from math import prod


from ..core.indexing import LAYOUTS
from .filterbank import filter_bank_text, vector_text

__all__ = ["equivalence_text", "transposed_text", "axes_text", "MAX_LISTED"]

#: Longest tap map / filter bank a text report lists in full.
MAX_LISTED = 64


def axes_text(values) -> str:
    """``2`` when every axis has the value 2, else ``2×3``."""
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def equivalence_text(eq: "Equivalence") -> str:
    """The readable statement printed by ``repr(eq)`` and ``symstride derive``."""
    spec = eq.spec
    live = len(eq.live_phases)
    lines = [
        f"Theorem 2: a strided convolution is a unit-stride convolution over {eq.phases} phases",
        f"  layer       {spec.describe()}",
        f"  strided     y = Conv_s(pad(x); w)        w  {tuple(spec.weight_shape)}",
        f"  equivalent  y = Conv_1(S2D_s(prep(x)); W')  W' {tuple(eq.weight_shape)}",
        f"  phases      P = Π s = {eq.phases} ({live} carry weights), input channels {spec.in_channels} → {eq.in_channels}",
        f"  kernel      k' = floor(δ(k−1)/s) + 1 = {axes_text(eq.kernel)}",
        f"  zeros       {eq.structural_zeros} structural zero{'s' if eq.structural_zeros != 1 else ''} of {eq.phases * prod(eq.kernel)} per channel pair",
        f"  layout      {eq.layout}: {LAYOUTS[eq.layout]}",
        "  prep(x)     pad by p, trim or zero-extend each axis to L = s·(N_out + k' − 1), then space-to-depth by s",
    ]
    lines += _bank_and_taps(eq, "tap map  w[o, c, m] → W'[o, chan(c, φ(r)), j]   with δ·m = s·j + r",
                            lambda t: f"  m={vector_text(t.tap):<10} → r={vector_text(t.phase):<8} j={vector_text(t.offset)}")
    return "\n".join(lines)


def _bank_and_taps(eq, tap_header: str, tap_row) -> list[str]:
    """The filter bank (or its size when too large), the tap map and the formula, for any equivalence."""
    pair = " (output channel 0, input channel 0; every pair has the same pattern)" if eq.layer.channel_indexed else ""
    lines = [""]
    if eq.phases * prod(eq.kernel) <= 4 * MAX_LISTED:
        lines.append(f"filter bank W'{pair}")
        lines += ["  " + line for line in filter_bank_text(eq).splitlines()]
    else:
        lines.append(f"filter bank W': {eq.phases} phase filters of size {axes_text(eq.kernel)} (too large to list)")
    lines.append("")
    lines.append(tap_header)
    lines += [tap_row(t) for t in eq.taps[:MAX_LISTED]]
    if len(eq.taps) > MAX_LISTED:
        lines.append(f"  … {len(eq.taps) - MAX_LISTED} more taps (--format json lists them all)")
    lines.append("")
    lines.append(f"formula  {eq.formula_text()}")
    return lines


def transposed_text(eq: "TransposedEquivalence") -> str:
    """The readable statement of a transposed layer's sub-pixel equivalent."""
    spec = eq.spec
    lines = [
        f"Transposed convolution: a unit-stride convolution with {eq.phases} output phases, then depth-to-space",
        f"  layer       {spec.describe()}",
        f"  transposed  y = ConvT_s(x; w)                          w  {tuple(spec.weight_shape)}",
        f"  equivalent  y = crop(D2S_s(Conv_1(prep(x); W')))       W' {tuple(eq.weight_shape)}",
        f"  phases      P = Π s = {eq.phases} ({len(eq.live_phases)} carry weights), output channels "
        f"{spec.out_channels} → {eq.out_channels} before depth-to-space",
        f"  kernel      k' = floor(δ(k−1)/s) + 1 = {axes_text(eq.kernel)}, each phase filter flipped (cross-correlation form)",
        f"  zeros       {eq.structural_zeros} structural zero{'s' if eq.structural_zeros != 1 else ''} of {eq.phases * prod(eq.kernel)} per channel pair",
        f"  layout      {eq.layout}: {LAYOUTS[eq.layout]}; depth-to-space is its inverse",
        f"  prep(x)     zero-pad k' − 1 − ⌊p/s⌋ = {axes_text(eq.input_left_padding)} on the left "
        "(trim where negative), trim or zero-extend the right to ⌈(p + N_out)/s⌉ − ⌊p/s⌋ + k' − 1",
        f"  crop        after depth-to-space keep N_out samples from p mod s = {axes_text(eq.crop_start)}",
        "  phases of   output t with t + p = s·(a + ⌊p/s⌋) + r: phase r, block a; it reads x[a + ⌊p/s⌋ − (k' − 1 − j)]",
    ]
    lines += _bank_and_taps(eq, "tap map  w[c, o, m] → W'[chan(o, φ(r)), c, j]   with δ·m = s·(k' − 1 − j) + r",
                            lambda t: f"  m={vector_text(t.tap):<10} → output phase r={vector_text(t.phase):<8} j={vector_text(t.offset)}")
    return "\n".join(lines)
