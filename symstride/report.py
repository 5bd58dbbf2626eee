"""Plain-text reports: what a result object prints in a terminal.

>>> from symstride import Conv, destride
>>> print(filter_bank_text(destride(Conv(kernel=3, stride=2))))
phase r=0 │ w[0]  w[2]
phase r=1 │ w[1]  0
"""

from __future__ import annotations

import itertools
from math import prod
from typing import TYPE_CHECKING

import numpy as np

from .indexing import LAYOUTS

if TYPE_CHECKING:  # pragma: no cover
    from .equivalence import Equivalence
    from .decoder import DecoderEquivalent
    from .transposed import TransposedEquivalence

__all__ = ["equivalence_text", "transposed_text", "decoder_text", "filter_bank_text", "tap_label", "json_text"]

#: Longest tap map / filter bank a text report lists in full.
MAX_LISTED = 64


def _axes(values) -> str:
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def _vec(values) -> str:
    values = tuple(values)
    return str(values[0]) if len(values) == 1 else "(" + ",".join(map(str, values)) + ")"


def tap_label(eq: "Equivalence", tap) -> str:
    """How a tap of output channel 0, input channel 0 prints, e.g. ``w[2]`` or ``w[0,0,1,2]``."""
    return str(eq.layer.weight(0, 0, tap)).replace(" ", "")


def filter_bank_text(eq: "Equivalence", o: int = 0, c: int = 0) -> str:
    """The phase filters of one (output, input) channel pair, one block per phase, zeros shown as 0."""
    from .filterbank import FilterBank

    lines = []
    for phase in FilterBank(eq, o, c).phases:
        labels = np.vectorize(lambda e: tap_label(eq, e) if e is not None else "0", otypes=[object])(phase.entries)
        width = max(len(s) for s in labels.reshape(-1))
        head = f"phase r={_vec(phase.phase)} │ "
        pad = " " * (len(head) - 2) + "│ "
        if labels.ndim == 1:
            lines.append(head + "  ".join(s.ljust(width) for s in labels).rstrip())
            continue
        first = True
        for lead in itertools.product(*map(range, labels.shape[:-2])):
            for row_i, row in enumerate(labels[lead]):
                text = "  ".join(s.ljust(width) for s in row).rstrip()
                if lead and row_i == 0:
                    text += f"   (leading offsets j = {_vec(lead)}, …)"
                lines.append((head if first else pad) + text)
                first = False
    return "\n".join(lines)


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
        f"  kernel      k' = floor(δ(k−1)/s) + 1 = {_axes(eq.kernel)}",
        f"  zeros       {eq.structural_zeros} structural zeros of {eq.phases * prod(eq.kernel)} per channel pair",
        f"  layout      {eq.layout}: {LAYOUTS[eq.layout]}",
        "  prep(x)     pad by p, trim or zero-extend each axis to L = s·(N_out + k' − 1), then space-to-depth by s",
    ]
    lines += _bank_and_taps(eq, "tap map  w[o, c, m] → W'[o, chan(c, φ(r)), j]   with δ·m = s·j + r",
                            lambda t: f"  m={_vec(t.tap):<10} → r={_vec(t.phase):<8} j={_vec(t.offset)}")
    return "\n".join(lines)


def _bank_and_taps(eq, tap_header: str, tap_row) -> list[str]:
    """The filter bank (or its size when too large), the tap map and the formula, for any equivalence."""
    pair = " (output channel 0, input channel 0; every pair has the same pattern)" if eq.layer.channel_indexed else ""
    lines = [""]
    if eq.phases * prod(eq.kernel) <= 4 * MAX_LISTED:
        lines.append(f"filter bank W'{pair}")
        lines += ["  " + line for line in filter_bank_text(eq).splitlines()]
    else:
        lines.append(f"filter bank W': {eq.phases} phase filters of size {_axes(eq.kernel)} (too large to list)")
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
        f"  kernel      k' = floor(δ(k−1)/s) + 1 = {_axes(eq.kernel)}, each phase filter flipped (cross-correlation form)",
        f"  zeros       {eq.structural_zeros} structural zeros of {eq.phases * prod(eq.kernel)} per channel pair",
        f"  layout      {eq.layout}: {LAYOUTS[eq.layout]}; depth-to-space is its inverse",
        f"  prep(x)     zero-pad k' − 1 − ⌊p/s⌋ = {_axes(eq.input_left_padding)} on the left "
        "(trim where negative), trim or zero-extend the right to ⌈(p + N_out)/s⌉ − ⌊p/s⌋ + k' − 1",
        f"  crop        after depth-to-space keep N_out samples from p mod s = {_axes(eq.crop_start)}",
        "  phases of   output t with t + p = s·(a + ⌊p/s⌋) + r: phase r, block a; it reads x[a + ⌊p/s⌋ − (k' − 1 − j)]",
    ]
    lines += _bank_and_taps(eq, "tap map  w[c, o, m] → W'[chan(o, φ(r)), c, j]   with δ·m = s·(k' − 1 − j) + r",
                            lambda t: f"  m={_vec(t.tap):<10} → output phase r={_vec(t.phase):<8} j={_vec(t.offset)}")
    return "\n".join(lines)


def decoder_text(eq: "DecoderEquivalent") -> str:
    """The decoder at its input resolution: one row per transposed layer, then the masks and why."""
    spec = eq.spec
    n_params = sum(prod(st.layer.conv.weight_shape) for st in eq.stages)
    n_bank = sum(st.sharing * prod(st.layer.conv.weight_shape) for st in eq.stages)
    lines = [
        f"Decoder: {len(eq.stages)} transposed layers as unit-stride convolutions at the input resolution, "
        f"one depth-to-space by {_axes(eq.block)} at the output",
        f"  input {spec.input.channels}×{_axes(spec.input.size)} → output {spec.output.channels}×{_axes(spec.output.size)}; "
        f"layout {eq.layout}; masks {eq.masks}",
        f"  weights: {n_params} original, {n_bank} non-zero entries in the equivalent banks (each weight appears Π R times)",
        "",
        "  layer  phases R→B      channels        kernel   pad (left:right)  mask   sharing",
    ]
    for st in eq.stages:
        pads = ",".join(f"{l}:{r}" for l, r in st.pad)
        mask = ",".join("yes" if m else "no" for m in st.masked)
        lines.append(
            f"  {st.layer.path:<6} {_axes(st.in_phases) + '→' + _axes(st.out_phases):<15} "
            f"{str(st.in_channels) + '→' + str(st.out_channels):<15} {_axes(st.kernel):<8} {pads:<17} {mask:<6} ×{st.sharing}"
        )
    lines += ["", "boundaries (junk = samples of the last block past the end of the feature map)"]
    for st in eq.stages[1:]:
        lines += [f"  before layer {st.layer.path}: {why}" for why in st.mask_reasons]
    if len(eq.stages) < 2:
        lines.append("  a single transposed layer reads only the network input: no masks")
    return "\n".join(lines)


def json_text(doc) -> str:
    """JSON indented for reading, with short lists of numbers kept on one line."""
    import json
    import re

    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text) + "\n"
