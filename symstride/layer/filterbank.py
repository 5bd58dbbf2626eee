"""The equivalent filter bank of a strided layer, printed by symstride itself.

:class:`FilterBank` lays out ``W'`` of one (output, input) channel pair — every channel pair
has the same pattern — phase by phase: which original tap ``m`` sits at which offset ``j`` of
which phase ``r``, and where the structural zeros are.  It renders as matrices (LaTeX
``pmatrix``, KaTeX-safe), as a TikZ figure, and as text (SymPy's ``Array`` printer is not used:
it is unreliable for wide tensors).

>>> from symstride import Conv, destride
>>> bank = FilterBank(destride(Conv(kernel=3, stride=2)))
>>> [(p.phase, p.entries.tolist()) for p in bank.phases]
[((0,), [(0,), (2,)]), ((1,), [(1,), None])]
>>> bank.zeros
1
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np


__all__ = ["FilterBank", "PhaseFilter", "MAX_FIGURE_TAPS", "filter_bank_text", "tap_label", "vector_text"]

#: Filter banks with more entries than this are summarised, not drawn.
MAX_FIGURE_TAPS = 400

#: Width of the figure, in tap boxes (about the width of an A4 text block).
FIGURE_WIDTH = 14

#: Fill colours of the phases in the figure (cycled), as xcolor expressions.
_PALETTE = ("blue!18", "orange!30", "green!22", "red!18", "violet!20", "cyan!22", "yellow!40", "brown!25", "teal!22")


@dataclass(frozen=True)
class PhaseFilter:
    """One phase's filter: ``entries[j]`` is the original tap ``m`` at offset ``j``, or None (a zero)."""

    phase: tuple[int, ...]
    channel: int
    entries: np.ndarray  # object array of shape k', holding tap tuples or None

    @property
    def live(self) -> int:
        return sum(e is not None for e in self.entries.reshape(-1))


class FilterBank:
    """``W'`` of channel pair ``(o, c)`` of an equivalence, phase by phase."""

    def __init__(self, eq: "Equivalence", o: int = 0, c: int = 0) -> None:
        self.eq = eq
        self.o, self.c = o, c
        shape = eq.spec.weight_shape
        self._index = {}  # tap → its first two weight indices ((o, c), or (c, o) for a transposed layer)
        phases = []
        for r in eq.phase_vectors:
            flat = eq.phase_filter_index(r, o, c)
            entries = np.empty(flat.shape, dtype=object)
            for pos in itertools.product(*map(range, flat.shape)):
                i = int(flat[pos])
                if i >= 0:
                    a, b, *tap = (int(v) for v in np.unravel_index(i, shape))
                    entries[pos] = tuple(tap)
                    self._index[tuple(tap)] = (a, b)
                else:
                    entries[pos] = None
            phases.append(PhaseFilter(tuple(r), eq.phase_channel(r, o, c), entries))
        self.phases = phases

    @property
    def zeros(self) -> int:
        return sum(p.entries.size - p.live for p in self.phases)

    @property
    def ndim(self) -> int:
        return self.eq.spec.ndim

    def weight(self, tap: tuple[int, ...]) -> Any:
        """The SymPy weight symbol of a tap of this channel pair."""
        return self.eq.layer.weight(*self._index.get(tuple(tap), (self.o, self.c)), tap)

    # -- layouts for the templates -------------------------------------------------------------
    def matrices(self) -> list[dict[str, Any]]:
        """Matrices to print: 1-D one matrix (rows: phases); otherwise one per phase (and leading offsets)."""
        if self.ndim == 1:
            rows = [[self.weight(e) if e is not None else 0 for e in p.entries] for p in self.phases]
            return [{"label": None, "rows": rows, "row_labels": [p.phase[0] for p in self.phases]}]
        out = []
        for p in self.phases:
            lead_shape = p.entries.shape[:-2]
            for lead in itertools.product(*map(range, lead_shape)):
                block = p.entries[lead]
                rows = [[self.weight(e) if e is not None else 0 for e in row] for row in block]
                out.append({"label": (p.phase, lead), "rows": rows, "row_labels": None})
        return out

    def figure(self) -> dict[str, Any] | None:
        """Geometry of the TikZ figure (None when the bank is too large or has more than 2 axes)."""
        if self.ndim > 2 or sum(p.entries.size for p in self.phases) > MAX_FIGURE_TAPS:
            return None
        spec = self.eq.spec
        colour = {p.phase: _PALETTE[i % len(_PALETTE)] for i, p in enumerate(self.phases)}
        phase_of = {t.tap: t.phase for t in self.eq.taps}
        kernel = spec.kernel if self.ndim == 2 else (1, spec.kernel[0])
        cells = []  # original kernel
        for m in itertools.product(*map(range, spec.kernel)):
            row, col = (m if self.ndim == 2 else (0, m[0]))
            cells.append({"at": _at(col, -row), "tap": m, "fill": colour[phase_of[m]], "name": "m" + "x".join(map(str, m))})
        blocks = []
        for i, p in enumerate(self.phases):
            shape = p.entries.shape if self.ndim == 2 else (1, p.entries.shape[0])
            if self.ndim == 1:  # phases side by side below the kernel, so arrows cross nothing
                width = shape[1] * len(self.phases) + 1.2 * (len(self.phases) - 1)
                origin = ((kernel[1] - width) / 2 + i * (shape[1] + 1.2), -2.2)
            else:  # phases below the kernel, as many per row as fit the page
                per_row = max(1, int(FIGURE_WIDTH // (shape[1] + 1.2)))
                row, col = divmod(i, per_row)
                origin = (col * (shape[1] + 1.2), -(kernel[0] + 1.2) - row * (shape[0] + 1.4))
            entries = []
            for pos in itertools.product(*map(range, shape)):
                e = p.entries[pos] if self.ndim == 2 else p.entries[pos[1]]
                entries.append({
                    "at": _at(origin[0] + pos[1], origin[1] - pos[0]), "tap": e,
                    "fill": colour[p.phase] if e is not None else "black!10",
                    "name": "p" + "x".join(map(str, p.phase)) + "j" + "x".join(map(str, pos)),
                })
            if self.ndim == 1:  # label below the block, clear of the arrows
                label = {"at": _at(origin[0] + (shape[1] - 1) / 2, origin[1] - 0.45), "anchor": "north"}
            else:  # label above the block
                label = {"at": _at(origin[0] - 0.5, origin[1] + 0.45), "anchor": "south west"}
            blocks.append({"phase": p.phase, **label, "entries": entries})
        arrows = []
        if self.ndim == 1:
            for b in blocks:
                for e in b["entries"]:
                    if e["tap"] is not None:
                        arrows.append((f"(m{'x'.join(map(str, e['tap']))}.south)", f"({e['name']}.north)"))
        return {"cells": cells, "blocks": blocks, "arrows": arrows, "ndim": self.ndim, "kernel": kernel}

    # -- renderers -------------------------------------------------------------------------------
    def latex_block(self, notation: Any = None) -> str:
        """The bank as matrices and (for 1-D and 2-D) a TikZ figure."""
        from ..render.templates import render_template

        return render_template("filter_bank.tex", bank=self, figure=self.figure())

    def text_block(self) -> str:
        pair = f" (output channel {self.o}, input channel {self.c}; every pair has the same pattern)" if self.eq.layer.channel_indexed else ""
        body = filter_bank_text(self.eq, self.o, self.c)
        return f"filter bank W'{pair}, {self.zeros} structural zero{'s' if self.zeros != 1 else ''}:\n" + "\n".join("  " + line for line in body.splitlines())

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template

        return render_template("filter_bank_inline.tex", bank=self).strip()

    def __repr__(self) -> str:
        return self.text_block()


def _at(x: float, y: float) -> str:
    """A TikZ coordinate."""
    return f"({x:g},{y:g})"


def vector_text(values) -> str:
    """``2`` for one axis, ``(2,0)`` for several: how phases, offsets and taps print in text."""
    values = tuple(values)
    return str(values[0]) if len(values) == 1 else "(" + ",".join(map(str, values)) + ")"


def tap_label(eq: "Equivalence", tap) -> str:
    """How a tap of output channel 0, input channel 0 prints, e.g. ``w[2]`` or ``w[0,0,1,2]``."""
    return str(eq.layer.weight(0, 0, tap)).replace(" ", "")


def filter_bank_text(eq: "Equivalence", o: int = 0, c: int = 0) -> str:
    """The phase filters of one (output, input) channel pair, one block per phase, zeros shown as 0."""
    lines = []
    for phase in FilterBank(eq, o, c).phases:
        labels = np.vectorize(lambda e: tap_label(eq, e) if e is not None else "0", otypes=[object])(phase.entries)
        width = max(len(s) for s in labels.reshape(-1))
        head = f"phase r={vector_text(phase.phase)} │ "
        pad = " " * (len(head) - 2) + "│ "
        if labels.ndim == 1:
            lines.append(head + "  ".join(s.ljust(width) for s in labels).rstrip())
            continue
        first = True
        for lead in itertools.product(*map(range, labels.shape[:-2])):
            for row_i, row in enumerate(labels[lead]):
                text = "  ".join(s.ljust(width) for s in row).rstrip()
                if lead and row_i == 0:
                    text += f"   (leading offsets j = {vector_text(lead)}, …)"
                lines.append((head if first else pad) + text)
                first = False
    return "\n".join(lines)
