"""Derivations: chains of equal expressions, each step citing a rule, proved step by step.

A :class:`Derivation` is a chain ``lhs = e_0 = e_1 = … = e_K``.  Line ``e_0`` is a definition;
every later :class:`Step` claims ``e_{i−1} = e_i`` by a rule of :mod:`symstride.proof.rules`, with a
one-line justification, side conditions and the rule's instances (a partition of residues, a
bijection of summation indices, …).  :meth:`Derivation.check` establishes each step two ways:

* **proof, for all values** (:mod:`symstride.proof.step_proofs`) — the step must be an instance of its
  rule's schema: the checker re-applies the rule's moves (unfold a definition, eliminate a
  determined summation variable, change variables by the recorded bijection) to line ``i − 1``
  and compares the result with line ``i`` in a fixed normal form (:mod:`symstride.proof.summands`);
  every remaining difference (an index, an index set, a read inside a definition's domain) and
  every side condition is an obligation z3 must prove for all values of the symbols under the
  derivation's ``hypotheses`` (:mod:`symstride.proof.discharge`).  A refuted obligation or a line that
  is no instance fails the step; an undecided one leaves it *not proved*.  A lemma rule may be
  cited only when its own proof is proved, never inside that proof (self-citation is rejected)
  and never in a cycle;
* **evidence on a grid** — both lines evaluated exactly on every instance of the parameter grid
  (compared as polynomials, :mod:`symstride.algebra`), the rule's instances enumerated, and every
  line in float64 against an independent oracle (the NumPy reference convolution) within a
  stated tolerance.  Evidence never makes a step *proved*.

The API, for use from outside (e.g. a symbolic layer's ``destride(...).derivation``):

``Step(expr, rule, why=(), conditions=(), instances=(), unfold=None, witnesses=None)``
    one line; ``unfold`` names the definitions the step unfolds (default: those read by one of
    the two lines only), ``witnesses`` maps an eliminated summation variable to its value.
``Derivation(title, lhs, steps, *, grid, definitions, hypotheses=None, result=None, …)``
    ``hypotheses`` are what the theorem assumes (default: the grid's constraints and the output
    domain); ``result`` names the result it proves (so it may not cite it).
``Derivation.check() -> CheckReport``
    ``.ok`` (nothing refuted, all evidence holds), ``.proved`` (every step proved for all
    values), ``.failure`` (first failure, naming the step and its rule), ``.unproved`` (first step
    not proved, and why), ``.steps[i].proof`` (a :class:`~symstride.proof.step_proofs.StepProof`),
    ``.to_json()``.

>>> from symstride import Conv, destride
>>> d = destride(Conv(kernel=3, stride=2)).derivation
>>> report = d.check()
>>> report.ok, report.proved, len(d.steps)
(True, True, 7)
>>> report.verdict
'PROVED for all values of N'
>>> print(d.with_step(3, d.steps[3].expr.subs(2, 3)).check().failure)  # doctest: +ELLIPSIS
step 3 (reindex by a bijection): line 3 is not an instance of the rule: ...
"""

from __future__ import annotations

from ..core.errors import SymstrideError

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

from ..render.printing import Notation
from .check_reports import CheckReport, StepReport
from .rules import Outcome
from .step_proofs import prove_step
from .step import Grid, Step
from ..algebra.expansion import Definition
from ..algebra.arith import EvaluationError
from ..algebra.frames import Frame
from ..algebra.polynomials import Table, compare
from ..algebra.evaluation import evaluate
from ..algebra.random_evaluation import numeric

__all__ = ["Derivation", "StepReport", "CheckReport", "TOLERANCE"]

#: Absolute tolerance of the float64 checks: values are pseudo-random in [−1, 1); a line sums at
#: most a few thousand products, whose float64 rounding stays below 1e−12, while any index error
#: changes a value by O(1).
TOLERANCE = 1e-12


# ---------------------------------------------------------------------------------------------
# The derivation.
# ---------------------------------------------------------------------------------------------


class Derivation:
    """A checked chain ``lhs = e_0 = e_1 = … = e_K`` (see the module docstring).

    Parameters (keyword-only except the first three):

    ``title``
        one line naming what is derived (a section heading).
    ``theorem``
        the short name of the theorem (printed in the theorem environment), e.g. ``"Theorem 2"``.
    ``lhs``, ``steps``
        the left-hand side and the lines; ``steps[0]`` is the defining line.
    ``statement``
        the theorem the chain proves, as prose pieces and SymPy objects.
    ``definitions``
        :class:`~symstride.algebra.expansion.Definition`\\ s of every signal other than the left-hand side;
        ``where`` names those printed after the chain (in order; by default all that have a
        right-hand side).
    ``grid``
        the :class:`Grid` the steps are checked on.
    ``notation``
        a :class:`~symstride.render.printing.Notation`: how the signals print.
    ``oracle``, ``oracle_name``
        an independent float64 computation of the left-hand side on every row of the grid's
        frame (see :func:`instance_oracle`), and how to name it in reports.
    ``float_instances``
        at most this many parameter instances (evenly spaced over the grid) are compared with
        the oracle in float64; the exact checks always cover the whole grid.
    ``blocks``
        extra material printed after the proof (filter banks, figures): objects with
        ``latex_block()`` and ``text_block()`` methods.
    ``checked_by``, ``checked_by_note``
        a smaller instance of the same derivation (line for line) whose check stands for this
        one's, and the note saying so in every report — e.g. a layer with many channels checked
        on the same layer with two channels per group, since the lines are uniform in the
        channel counts.
    """

    def __init__(
        self,
        title: str,
        lhs: Any,
        steps: Sequence[Step],
        *,
        theorem: str = "",
        statement: Sequence[Any] = (),
        definitions: Sequence[Definition] = (),
        where: Sequence[str] | None = None,
        grid: Grid,
        notation: Notation | None = None,
        oracle: Callable[[Frame, int], np.ndarray] | None = None,
        oracle_name: str | None = None,
        blocks: Sequence[Any] = (),
        tolerance: float = TOLERANCE,
        float_instances: int = 200,
        name: str | None = None,
        hypotheses: Sequence[Any] | None = None,
        result: str | None = None,
        checked_by: "Derivation | None" = None,
        checked_by_note: str = "",
    ) -> None:
        if not steps:
            raise SymstrideError("a derivation needs at least its defining line")
        self.title = title
        self.theorem = theorem
        self.lhs = lhs
        self.steps = tuple(steps)
        self.statement = tuple(statement)
        self.definitions = {d.name: d for d in definitions}
        if where is None:  # by default every defined (not primitive) signal, in order
            where = [d.name for d in definitions if d.rhs is not None]
        for w in where:
            if w not in self.definitions:
                raise SymstrideError(f"where lists {w!r}, which is not among the definitions: {', '.join(self.definitions)}")
        self.where = tuple(where)
        self.grid = grid
        self.notation = notation or Notation()
        self.oracle = oracle
        self.oracle_name = oracle_name
        self.blocks = tuple(blocks)
        self.tolerance = tolerance
        self.float_instances = float_instances
        self.name = name
        #: what the theorem assumes: by default the grid's constraints and the output domain
        self.hypotheses = tuple(hypotheses) if hypotheses is not None else tuple(grid.constraints) + tuple(
            c for v, lo, hi in grid.domain for c in (sp.Ge(v, lo), sp.Le(v, hi)))
        #: the named result this derivation proves (a proof may not cite it)
        self.result = result
        if checked_by is not None and len(checked_by.steps) != len(self.steps):
            raise SymstrideError(f"checked_by has {len(checked_by.steps)} lines, this derivation {len(self.steps)}")
        self.checked_by, self.checked_by_note = checked_by, checked_by_note
        self._report: CheckReport | None = None

    # -- variants ---------------------------------------------------------------------------
    def with_step(self, number: int, expr: Any = None, **changes: Any) -> "Derivation":
        """A copy with line ``number`` replaced (its expression, or other fields of its step)."""
        if not 0 <= number < len(self.steps):
            raise SymstrideError(f"step {number} does not exist; the derivation has steps 0..{len(self.steps) - 1}")
        if expr is not None:
            changes["expr"] = expr
        steps = list(self.steps)
        steps[number] = replace(steps[number], **changes)
        new = object.__new__(Derivation)
        new.__dict__.update(self.__dict__)
        new.steps = tuple(steps)
        new.checked_by, new.checked_by_note = None, ""  # a changed line is checked itself, not by the twin
        new._report = None
        return new

    # -- checking ---------------------------------------------------------------------------
    def check(self, *, seed: int = 0) -> CheckReport:
        """Check every step (exact, rule instances, side conditions, float64); cached."""
        if self._report is not None and seed == 0:
            return self._report
        if self.checked_by is not None:
            twin = self.checked_by.check(seed=seed)
            note = f"; {self.checked_by_note}"
            # the twin's grid evidence stands in; the proof for all values is this derivation's own
            steps = tuple(replace(s, proof=prove_step(self, s.number)) for s in twin.steps)
            report = replace(twin, title=self.title, steps=steps, grid=twin.grid + note, grid_pieces=(*twin.grid_pieces, note))
            if seed == 0:
                self._report = report
            return report
        started = time.perf_counter()
        frame = self.grid.frame
        params = self.grid.parameter_frame
        tables: list[Table | None] = []
        errors: list[str | None] = []
        for step in self.steps:
            try:
                tables.append(evaluate(step.expr, frame, self.definitions))
                errors.append(None)
            except EvaluationError as exc:
                tables.append(None)
                errors.append(str(exc))
        # float64: the oracle on (a sample of) the instances, else line 0 on every row
        chosen = np.unique(np.linspace(0, frame.instances - 1, min(frame.instances, self.float_instances)).round().astype(np.int64))
        rows = np.flatnonzero(np.isin(frame.instance, chosen)) if frame.instances else np.zeros(0, dtype=np.int64)
        expected = self.oracle(frame.select(rows), seed) if self.oracle is not None and rows.size else None
        reference = expected
        if reference is None and tables[0] is not None:
            rows = np.arange(frame.size)
            reference = numeric(tables[0], seed)
        reports = []
        worst = 0.0
        for i, step in enumerate(self.steps):
            checks: list[tuple[str, Outcome]] = []
            if errors[i] is not None:
                checks.append(("exact", Outcome(False, f"line {i} cannot be evaluated: {errors[i]}")))
            elif i == 0:
                checks.append(("exact", Outcome(True, f"defines {self._lhs_text()}: {tables[0].terms} terms on {frame.size} outputs")))
            else:
                prev = next((k for k in range(i - 1, -1, -1) if tables[k] is not None), None)
                if prev is None:
                    checks.append(("exact", Outcome(False, "no earlier line could be evaluated")))
                else:
                    diff = compare(tables[prev], tables[i])
                    if diff is None:
                        against = f"line {prev}" + ("" if prev == i - 1 else f" (line {i - 1} failed)")
                        checks.append(("exact", Outcome(True, f"equal to {against} as polynomials on all {frame.size} outputs ({tables[i].terms} terms)")))
                    else:
                        checks.append(("exact", Outcome(False, diff.describe(frame, (f"line {prev}", f"line {i}")))))
            for kind, claims in (("rule", step.instances), ("condition", step.conditions)):
                for claim in claims:
                    try:
                        checks.append((kind, claim.check(params)))
                    except EvaluationError as exc:
                        checks.append((kind, Outcome(False, f"cannot be evaluated: {exc}")))
            if tables[i] is not None and reference is not None:
                got = numeric(tables[i], seed)[rows]
                err = float(np.max(np.abs(got - reference))) if got.size else 0.0
                worst = max(worst, err)
                against = self.oracle_name if expected is not None else "line 0"
                if err <= self.tolerance:
                    checks.append(("float64", Outcome(True, f"max |line {i} − {against}| = {err:.1e} ≤ {self.tolerance:g}", "float64")))
                else:
                    row = int(rows[int(np.argmax(np.abs(got - reference)))])
                    checks.append(("float64", Outcome(False, f"|line {i} − {against}| = {err:.3g} > {self.tolerance:g} at {frame.describe_row(row)}", "float64")))
            reports.append(StepReport(i, step.rule, step.title, tuple(checks), prove_step(self, i)))
        report = CheckReport(
            self.title,
            tuple(reports),
            self.grid.describe(),
            self.grid.describe_pieces(),
            frame.instances,
            frame.size,
            self.tolerance,
            time.perf_counter() - started,
            worst,
            self.oracle_name if expected is not None else None,
            float_instances=int(chosen.size) if expected is not None else frame.instances,
            extra=tuple(b.check() for b in self.blocks if hasattr(b, "check")),
            symbols=tuple(sorted({self.notation.text(p) for p in self.grid.values})),
        )
        if seed == 0:
            self._report = report
        return report

    # -- text -------------------------------------------------------------------------------
    def _lhs_text(self) -> str:
        return self.notation.text(self.lhs)

    def text(self) -> str:
        """The chain as plain text: numbered lines with their rules, then the definitions."""
        text = self.notation.text
        lhs = self._lhs_text()
        pad = " " * len(lhs)
        lines = [self.title, ""]
        body = [text(s.expr) for s in self.steps]
        width = min(max(len(b) for b in body), 90)
        for i, (step, b) in enumerate(zip(self.steps, body)):
            head = f"{lhs} = " if i == 0 else f"{pad} = "
            lines.append(f"({i}) {head}{b.ljust(width)}   [{step.title}]")
        lines += ["", "steps"]
        for i, step in enumerate(self.steps):
            why = step.why_text(self.notation)
            lines.append(f"  ({i}) {step.title}" + (f": {why}" if why else ""))
            for cond in step.conditions:
                lines.append(f"      side condition: {cond.text}: {text(cond.statement)}")
        if self.notation.abbreviations:
            plain = Notation(self.notation.brackets, self.notation.latex_names, self.notation.text_names).text
            lines += ["", "with"] + [f"  {ab.symbol.name} = {plain(ab.definition.rhs)}" + (f"   ({ab.meaning})" if ab.meaning else "")
                                     for ab in self.notation.abbreviations]
        if self.where:
            lines += ["", "where"]
            for name in self.where:
                d = self.definitions[name]
                note = f"   ({d.note})" if d.note else ""
                lines.append(f"  {text(d.lhs)} = {text(d.rhs)}{note}")
        for block in self.blocks:
            lines += ["", block.text_block()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        status = "not yet checked: call .check()" if self._report is None else self._report.verdict
        return f"<Derivation {self.title!r}: {len(self.steps)} lines; {status}>"

    def __str__(self) -> str:
        if self._report is None:
            return self.text() + "\n\n(not yet checked: call .check())"
        return self.text() + "\n\n" + (self._report.verdict if self._report.ok else f"check FAILED: {self._report.failure}")

    def named_quantities(self) -> tuple:
        """The notation's abbreviations (``k'``, ``N_out``) the statement does not define in words
        itself: the documents define them once, after the statement."""
        words = " ".join(p for p in self.statement if isinstance(p, str))
        return tuple(ab for ab in self.notation.abbreviations if f"{ab.symbol.name} = " not in words)

    def hedged_statement(self) -> tuple:
        """The statement as a claim that is not proved: "For all …" becomes "For …"."""
        out = []
        for piece in self.statement:
            if isinstance(piece, str):
                piece = piece.replace("For all ", "For ").replace("for all ", "for ")
            out.append(piece)
        return tuple(out)

    # -- LaTeX ------------------------------------------------------------------------------
    def _context(self, checked: bool, evidence_label: str | None = None) -> dict[str, Any]:
        lines = [self.notation.latex_lines(step.expr) for step in self.steps]
        return {"d": self, "report": self.check() if checked else None, "notation": self.notation, "lines": lines,
                "evidence_label": evidence_label}

    def latex(self, *, checked: bool = True, evidence_label: str | None = None) -> str:
        """The derivation as a LaTeX fragment: theorem, proof (an ``align*`` chain), checks, figures.

        The checks are one short paragraph (what was proved, what was evaluated on which grid);
        with ``evidence_label`` it refers (``\\ref``) to :meth:`evidence_latex` in an appendix,
        without one (a fragment to paste) the step-by-step details follow it.
        """
        from ..render.templates import render_template

        return render_template("derivation.tex", **self._context(checked, evidence_label))

    def evidence_latex(self, label: str, *, heading: str = "subsection") -> str:
        """The step-by-step check details as an appendix section ``\\label{label}`` (``heading``:
        ``"section"`` in the book, ``"subsection"`` under a document's appendix "Evidence").

        >>> from symstride import Conv, destride
        >>> tex = destride(Conv(kernel=3, stride=2)).derivation.evidence_latex("ev:d")
        >>> tex.startswith("\\\\subsection{") and "label{ev:d}" in tex and "begin{itemize}" in tex
        True
        """
        from ..render.templates import render_template

        if heading not in ("section", "subsection"):
            raise SymstrideError(f"heading must be 'section' or 'subsection', not {heading!r}")
        return render_template("check_details.tex", report=self.check(), notation=self.notation, heading=heading,
                               title=self.title, label=label)

    def document(self, *, checked: bool = True) -> str:
        """A standalone LaTeX document (amsmath, amsthm, TikZ) holding :meth:`latex`, the check
        details in its appendix."""
        from ..render.templates import render_template

        if not checked:
            return render_template("document.tex", title=self.title, body=self.latex(checked=False), appendix=[])
        return render_template("document.tex", title=self.title, body=self.latex(evidence_label="ev:derivation"),
                               appendix=[self.evidence_latex("ev:derivation")])

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template

        return render_template("derivation_inline.tex", d=self, notation=self.notation).strip()
