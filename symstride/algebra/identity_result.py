"""The verdict on a user identity: proved for every input size, refuted, or bounded evidence only.

:class:`IdentityResult` speaks the package's result protocol (``ok``, ``proved``, ``failure``,
``to_json``, a one-line ``repr``, a readable ``str``, ``_repr_latex_``/``latex``) and always says
*what* was established and *by which argument*: "decided for all input sizes by …", or "holds for
N ≤ 40 (not proved)" with the reason the decision procedure could not decide.

>>> from symstride import D, identity
>>> result = identity(D(13), D(14)).check()
>>> result.ok, result.proved, result.counterexample.size, result.counterexample.smallest
(False, False, (14,), True)
>>> result
IdentityResult(FAILED: D(13) = D(14): REFUTED — at input size N = 14: the left side has output shape 1 channel × 2, the right side 1 channel × 1)
>>> grid_text(((1,), (2,), (3,)), 1)
'N ≤ 3'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.results import Result

__all__ = ["Counterexample", "IdentityResult", "MEANING", "grid_text"]

#: What an identity between operator expressions claims (stated in every rendering).
MEANING = (
    "for every input size (per axis N ≥ 1) at which both sides are defined, the output shapes agree and "
    "every output entry agrees as a polynomial in the weights and the input (and for every pointwise map)"
)


def _size_text(size: tuple[int, ...]) -> str:
    return ", ".join(f"N{'' if len(size) == 1 else a + 1} = {n}" for a, n in enumerate(size))


def grid_text(sizes: tuple[tuple[int, ...], ...], ndim: int) -> str:
    """``N ≤ 40`` for a full grid from 1, else the sizes listed (``N ∈ {2, 5}``)."""
    values = sorted({v for s in sizes for v in s})
    if values and values == list(range(1, values[-1] + 1)) and len(sizes) == len(values) ** ndim:
        axes = "N" if ndim == 1 else ", ".join(f"N{a + 1}" for a in range(ndim))
        return f"{axes} ≤ {values[-1]}"
    shown = ", ".join("×".join(map(str, s)) for s in sizes[:12]) + (", …" if len(sizes) > 12 else "")
    return f"{'N' if ndim == 1 else 'input sizes'} ∈ {{{shown}}}"


@dataclass(frozen=True)
class Counterexample:
    """Where an identity fails: the input size, the output entry (None: the shapes differ), both sides.

    ``smallest`` says whether no smaller input size fails (sizes ordered by ΣN, then axis by axis).
    """

    size: tuple[int, ...]
    output: tuple[int, ...] | None
    left: str
    right: str
    reason: str = ""
    smallest: bool = True

    def __str__(self) -> str:
        if self.output is None:
            return f"at input size {_size_text(self.size)}: {self.reason}"
        return (f"at input size {_size_text(self.size)}, output y[{', '.join(map(str, self.output))}]: "
                f"the left side is {self.left}, the right side is {self.right}")

    def to_json(self) -> dict:
        return {"size": list(self.size), "output": None if self.output is None else list(self.output),
                "left": self.left, "right": self.right, "reason": self.reason or None, "smallest": self.smallest}


@dataclass(frozen=True, repr=False)
class IdentityResult(Result):
    """``status`` is ``proved`` (for every input size), ``refuted`` or ``not proved`` (bounded evidence).

    ``argument`` says how the verdict was established; ``reason`` why the decision procedure did
    not decide (``not proved`` only); ``bound`` the input sizes of the bounded evidence; ``sizes``,
    ``outputs``, ``terms`` and ``max_error`` describe the exact and float64 second opinion.
    """

    identity: Any
    status: str
    argument: str
    sizes: tuple[tuple[int, ...], ...]
    outputs: int
    terms: int
    max_error: float | None
    counterexample: Counterexample | None = None
    notes: tuple[str, ...] = ()
    reason: str = ""
    bound: tuple[tuple[int, ...], ...] = ()

    @property
    def proved(self) -> bool:
        """True only when the identity holds for every input size (decided, not sampled)."""
        return self.status == "proved"

    @property
    def ok(self) -> bool:
        """Everything checked holds: proved, or bounded evidence without a failure."""
        return self.status != "refuted"

    @property
    def failure(self) -> str | None:
        return None if self.counterexample is None else str(self.counterexample)

    @property
    def verdict(self) -> str:
        return self.status

    def __bool__(self) -> bool:  # the same thing as .proved (bounded evidence is ok, not proved)
        return self.proved

    @property
    def ndim(self) -> int:
        return self.identity.ndim

    @property
    def headline(self) -> str:
        """``proved for every input size`` / ``refuted`` / ``holds for N ≤ 40 (not proved)``."""
        if self.proved:
            return "proved for every input size"
        if self.status == "refuted":
            return "refuted"
        return f"holds for {grid_text(self.bound, self.ndim)} (not proved)"

    @property
    def second_opinion(self) -> str:
        if not self.sizes:
            return ""
        text = (f"exact comparison on {grid_text(self.sizes, self.ndim)} ({len(self.sizes)} sizes where both sides "
                f"are defined with equal shapes, {self.outputs} output entries, {self.terms} terms)")
        if self.max_error is not None:
            text += f"; each side's exact table against its NumPy reference on random float64 data: largest difference {self.max_error:.1e}"
        return text

    @property
    def where(self) -> str:
        """Whether the counterexample's size is the smallest failing one."""
        c = self.counterexample
        if c is None:
            return ""
        return "the smallest failing input size" if c.smallest else "a failing input size; smaller sizes were not all decided"

    def __str__(self) -> str:
        status = {"proved": "PROVED for every input size", "refuted": "REFUTED"}.get(self.status, self.headline)
        lines = [f"{self.identity!r}: {status}"]
        if self.counterexample is not None:
            lines.append(f"  counterexample: {self.counterexample} ({self.where})")
        lines.append(f"  meaning        {MEANING}")
        lines.append(f"  argument       {self.argument}")
        if self.reason:
            lines.append(f"  not decided    {self.reason}")
        if self.second_opinion:
            lines.append(f"  second opinion {self.second_opinion}")
        lines += [f"  note           {n}" for n in self.notes]
        return "\n".join(lines)

    @property
    def subject(self) -> str:
        return f"the identity {self.identity!r}"

    def json_fields(self) -> dict:
        return {
            "identity": repr(self.identity),
            "verdict": self.status,
            "meaning": MEANING,
            "argument": self.argument,
            "not_decided_because": self.reason or None,
            "bounded_evidence": grid_text(self.bound, self.ndim) if self.bound else None,
            "counterexample": None if self.counterexample is None else self.counterexample.to_json(),
            "second_opinion": {"sizes": [list(s) for s in self.sizes], "outputs": self.outputs, "terms": self.terms, "max_error": self.max_error},
            "notes": list(self.notes),
        }

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template

        return render_template("identity_inline.tex", result=self).strip()

    def latex(self) -> str:
        from ..render.templates import render_template

        return render_template("identity.tex", result=self, meaning=MEANING)
