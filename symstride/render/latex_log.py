"""Reading a pdflatex log for the faults a referee sees: overfull lines, missing glyphs, unresolved references,
and hyperref's warnings (a heading with mathematics but no ``\\texorpdfstring`` makes a garbled bookmark).

>>> log = ("Overfull \\\\hbox (12.5pt too wide) in paragraph at lines 3--4\\n"
...        "Missing character: There is no ? in font cmr10!\\n"
...        "LaTeX Warning: Reference `fig:x' on page 1 undefined on input line 9.\\n")
>>> faults = read_log(log)
>>> faults.worst_overfull, faults.missing, faults.undefined
(12.5, ['Missing character: There is no ? in font cmr10!'], ["Reference `fig:x' on page 1 undefined on input line 9."])
>>> faults.problems(tolerance=1.0)[0]
'overfull box 12.5pt (> 1pt) in paragraph at lines 3--4'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["LogFaults", "Overfull", "read_log"]

_OVERFULL = re.compile(r"^Overfull \\[hv]box \((?P<pt>[0-9.]+)pt too (?:wide|high)\) (?P<where>.*)$", re.M)
_HYPERREF = re.compile(r"^Package hyperref Warning: (.*?)$((?:\n\(hyperref\)\s+.*$)*)", re.M)
_UNDEFINED = re.compile(r"^(?:LaTeX|Package natbib) Warning: ((?:Reference|Citation) .*? undefined.*)$", re.M)


@dataclass(frozen=True)
class Overfull:
    """One overfull box: how far it sticks out (points) and where (the log's words)."""

    points: float
    where: str


@dataclass
class LogFaults:
    """What a log reports: overfull boxes, missing characters, undefined or multiply defined labels,
    hyperref's warnings (each joined into one line)."""

    overfull: list[Overfull] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)
    multiply_defined: list[str] = field(default_factory=list)
    hyperref: list[str] = field(default_factory=list)

    @property
    def worst_overfull(self) -> float:
        """The widest overfull box in points (0 when none)."""
        return max((o.points for o in self.overfull), default=0.0)

    def problems(self, *, tolerance: float = 1.0) -> list[str]:
        """Every fault as one line; overfull boxes up to ``tolerance`` points are allowed."""
        out = [f"overfull box {o.points:g}pt (> {tolerance:g}pt) {o.where}" for o in self.overfull if o.points > tolerance]
        return out + self.missing + self.undefined + self.multiply_defined + [f"hyperref: {w}" for w in self.hyperref]


def read_log(log: str) -> LogFaults:
    """The faults reported in a pdflatex log (see :class:`LogFaults`)."""
    faults = LogFaults()
    faults.overfull = [Overfull(float(m.group("pt")), m.group("where").strip()) for m in _OVERFULL.finditer(log)]
    faults.missing = [line.strip() for line in log.splitlines() if line.startswith("Missing character")]
    faults.undefined = [m.group(1).strip() for m in _UNDEFINED.finditer(log)]
    if "There were undefined references" in log and not faults.undefined:
        faults.undefined.append("There were undefined references.")
    faults.multiply_defined = [line.strip() for line in log.splitlines() if "multiply defined" in line or "multiply-defined" in line]
    faults.hyperref = [" ".join((m.group(1) + " " + re.sub(r"\(hyperref\)", " ", m.group(2))).split()) for m in _HYPERREF.finditer(log)]
    return faults
