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

__all__ = ["equivalence_text", "filter_bank_text", "tap_label", "json_text"]

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
    pair = " (output channel 0, input channel 0; every pair has the same pattern)" if eq.layer.channel_indexed else ""
    lines.append("")
    if eq.phases * prod(eq.kernel) <= 4 * MAX_LISTED:
        lines.append(f"filter bank W'{pair}")
        lines += ["  " + line for line in filter_bank_text(eq).splitlines()]
    else:
        lines.append(f"filter bank W': {eq.phases} phase filters of size {_axes(eq.kernel)} (too large to list)")
    lines.append("")
    lines.append("tap map  w[o, c, m] → W'[o, chan(c, φ(r)), j]   with δ·m = s·j + r")
    for t in eq.taps[:MAX_LISTED]:
        lines.append(f"  m={_vec(t.tap):<10} → r={_vec(t.phase):<8} j={_vec(t.offset)}")
    if len(eq.taps) > MAX_LISTED:
        lines.append(f"  … {len(eq.taps) - MAX_LISTED} more taps (--format json lists them all)")
    lines.append("")
    lines.append(f"formula  {eq.formula_text()}")
    return "\n".join(lines)


def json_text(doc) -> str:
    """JSON indented for reading, with short lists of numbers kept on one line."""
    import json
    import re

    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text) + "\n"
