"""What :meth:`Derivation.check <symstride.proof.derivation.Derivation.check>` established, step by step.

A :class:`StepReport` holds one step's symbolic verdict (:class:`~symstride.proof.step_proofs.StepProof`:
an instance of its rule with every obligation proved for all values by z3 — or why not) and the
evidence gathered on the grid (exact evaluation as polynomials, the rule's instances and side
conditions enumerated, float64 against an independent oracle).  A :class:`CheckReport` gathers
the steps.  Both speak the project's protocol:

* ``ok`` — everything that was checked holds (no step refuted or rejected, every grid check passes);
* ``proved`` — every step is proved for all values of every parameter and input size (and every
  cited lemma is proved); grid evidence alone never makes ``proved`` true;
* ``failure`` — the first thing that fails, naming the step and its rule (None when ``ok``);
* ``to_json()``, a one-line ``repr``, a readable ``str``, ``_repr_latex_``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.results import Result
from .index_sets import Outcome
from .step_proofs import StepProof

__all__ = ["StepReport", "CheckReport"]


@dataclass(frozen=True, repr=False)
class StepReport(Result):
    """What was established for one step: the symbolic ``proof`` and the grid ``checks``."""

    number: int
    rule: str
    title: str
    checks: tuple[tuple[str, Outcome], ...]  # (kind, outcome); kinds: exact, rule, condition, float64
    proof: StepProof | None = None

    @property
    def ok(self) -> bool:
        return all(o.ok for _, o in self.checks) and not (self.proof is not None and self.proof.failed)

    @property
    def proved(self) -> bool:
        return self.proof is not None and self.proof.proved

    @property
    def claims(self) -> list[Outcome]:
        """The outcomes of the rule instances and side conditions on the grid."""
        return [o for kind, o in self.checks if kind in ("rule", "condition")]

    @property
    def failure(self) -> str | None:
        if self.proof is not None and self.proof.failed:
            return f"step {self.number} ({self.title}): {self.proof.detail}"
        for kind, o in self.checks:
            if not o.ok:
                return f"step {self.number} ({self.title}): {kind} check failed — {o.detail}"
        return None

    @property
    def verdict(self) -> str:
        if not self.ok:
            return "FAILED"
        return "proved" if self.proved else "checked on the grid (not proved)"

    def lines(self) -> list[str]:
        mark = "✓" if self.proved else ("✗" if not self.ok else "~")
        out = [f"({self.number}) {self.title}  {mark} {self.verdict}"]
        if self.proof is not None:
            out.append(f"    {'symbolic':<9} {self.proof.status}: {self.proof.detail}")
        for kind, o in self.checks:
            out.append(f"    {kind:<9} {'ok  ' if o.ok else 'FAIL'} {o.detail}")
        return out

    def json_fields(self) -> dict[str, Any]:
        return {
            "number": self.number, "rule": self.rule, "title": self.title,
            "proof": self.proof.to_json() if self.proof is not None else None,
            "evidence": [{"kind": k, "ok": o.ok, "detail": o.detail, "method": o.method} for k, o in self.checks],
        }

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True, repr=False)
class CheckReport(Result):
    """The outcome of :meth:`Derivation.check`: one :class:`StepReport` per line."""

    title: str
    steps: tuple[StepReport, ...]
    grid: str
    grid_pieces: tuple
    instances: int
    outputs: int
    tolerance: float
    seconds: float
    max_error: float | None = None
    oracle: str | None = None
    float_instances: int = 0
    extra: tuple[Outcome, ...] = field(default=())
    symbols: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps) and all(o.ok for o in self.extra)

    @property
    def proved(self) -> bool:
        """Every step proved for all values (grid evidence and extra checks do not count)."""
        return self.ok and all(s.proved for s in self.steps)

    @property
    def failure(self) -> str | None:
        """The first failed check, naming its step (None when every step checks)."""
        for s in self.steps:
            if not s.ok:
                return s.failure
        for o in self.extra:
            if not o.ok:
                return f"{o.method} check failed — {o.detail}"
        return None

    @property
    def unproved(self) -> str | None:
        """The first step that is not proved for all values, and why (None when proved)."""
        for s in self.steps:
            if not s.proved:
                why = s.proof.detail if s.proof is not None else "no symbolic check"
                return f"step {s.number} ({s.title}) is not proved: {why}"
        return None

    @property
    def failed_step(self) -> int | None:
        for s in self.steps:
            if not s.ok:
                return s.number
        return None

    @property
    def verdict(self) -> str:
        if not self.ok:
            return f"FAILED at step {self.failed_step}" if self.failed_step is not None else "FAILED"
        if self.proved:
            return "PROVED for all values" + (f" of {', '.join(self.symbols)}" if self.symbols else "")
        return "checked, NOT proved"

    @property
    def evidence(self) -> str:
        """The grid evidence in one phrase."""
        return f"evaluated exactly on {self.instances:,} instances ({self.grid}), {self.outputs:,} output samples"

    @property
    def obligations(self) -> int:
        return sum(len(s.proof.obligations) for s in self.steps if s.proof is not None)

    def __str__(self) -> str:
        lines = [f"Check of “{self.title}”: {self.verdict}"]
        if self.proved:
            lines.append(f"  proof     every step is an instance of its rule; {self.obligations} obligations proved for all values by z3")
        elif self.ok:
            lines.append(f"  proof     {self.unproved}")
        lines += [
            f"  evidence  {self.evidence}",
            f"  float64   random values in [−1, 1) on {self.float_instances} of the {self.instances} instances, "
            f"tolerance {self.tolerance:g}" + (f"; oracle: {self.oracle}" if self.oracle else ""),
            f"  time      {self.seconds:.2f} s",
        ]
        for o in self.extra:
            lines.append(f"  also      {'ok  ' if o.ok else 'FAIL'} {o.detail} [{o.method}]")
        lines.append("")
        for s in self.steps:
            lines += ["  " + line for line in s.lines()]
        if not self.ok:
            lines += ["", f"  first failure: {self.failure}"]
        return "\n".join(lines)

    def summary(self) -> str:
        return f"{self.title!r}: {self.verdict}; {len(self.steps)} steps, {self.evidence}"

    def json_fields(self) -> dict[str, Any]:
        return {
            "title": self.title, "unproved": None if self.proved else self.unproved, "verdict": self.verdict,
            "evidence": {"grid": self.grid, "instances": self.instances, "outputs": self.outputs,
                         "float64": {"instances": self.float_instances, "tolerance": self.tolerance,
                                     "max_error": self.max_error, "oracle": self.oracle}},
            "extra": [{"ok": o.ok, "detail": o.detail, "method": o.method} for o in self.extra],
            "steps": [s.to_json() for s in self.steps],
        }

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template

        rendered = render_template("check_inline.tex", report=self)
        return " ".join(line.strip() for line in rendered.splitlines() if line.strip())  # one line, as every result's
