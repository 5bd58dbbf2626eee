"""The symbolic verdict on each step of a derivation: proved for all values, or why not.

:func:`prove_step` decides whether line ``i`` of a :class:`~symstride.proof.derivation.Derivation`
follows from line ``i − 1`` by the rule the step cites, for **all** values of every parameter and
input size under the derivation's hypotheses:

1. the step is an instance of the rule's schema (:func:`symstride.proof.schemas.instance_obligations`
   re-applies the rule's moves and compares the result with the new line; a line that is no
   instance is rejected, naming the difference);
2. every obligation of the instance (index equalities, equal index sets, reads inside the
   definitions' domains, the bijection of a change of variables) and every side condition of
   the step is discharged by z3 (:mod:`symstride.proof.discharge`): a refuted one fails the step with
   z3's counterexample, an undecided one leaves the step *not proved*;
   A step may also name definitions it unfolds first (``Step.unfold``), e.g. "unfold ``u``,
   then split by residues"; unfolding is exact wherever the reads lie in the domains, which
   are obligations too.
3. a lemma rule may be cited only when its own proof is proved — never inside that proof
   (self-citation is rejected) and never through a cycle of citations
   (:func:`symstride.proof.citations.lemma_verdict`).

>>> from symstride.proof.subsampling import subsampling_proof
>>> d = subsampling_proof()
>>> prove_step(d, 1).status
'proved'
>>> import sympy as sp
>>> s, n = sp.Symbol("s", integer=True, positive=True), sp.Symbol("n", integer=True, nonnegative=True)
>>> forged = d.with_step(1, d.steps[1].expr.base[n * sp.Min(97, s)])
>>> verdict = prove_step(forged, 1)
>>> print(verdict.detail)  # doctest: +ELLIPSIS
line 1 is not an instance of the rule: index 1 of xtilde: ...: false at ...
>>> [o.counterexample[s] > 97 for o in verdict.obligations if o.status == "refuted"]
[True]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .citations import cited_parts, lemma_verdict
from .denominators import cleared, nonlinear_denominator
from .discharge import Discharged, Obligation, discharge
from .stored import decided
from .index_sets import Bijection
from .rules import rule as rule_named
from .schemas import NotAnInstance, instance_obligations
from .products import product_obligations

__all__ = ["StepProof", "prove_step", "part_verdict", "FAILING", "PROVED"]

#: Statuses that mean the step is wrong (the derivation's ``ok`` is False).
FAILING = ("not an instance", "refuted", "self-citation", "citation cycle")
#: Statuses that mean the step holds for all values.
PROVED = ("proved", "definition")


@dataclass(frozen=True)
class StepProof:
    """The symbolic verdict on one step: ``status`` (one of ``definition``, ``proved``, ``refuted``,
    ``not an instance``, ``self-citation``, ``citation cycle``, ``unknown``, ``lemma not proved``),
    a one-line ``detail`` and the discharged obligations."""

    status: str
    detail: str
    obligations: tuple[Discharged, ...] = ()
    cites: str | None = None

    @property
    def proved(self) -> bool:
        return self.status in PROVED

    @property
    def failed(self) -> bool:
        return self.status in FAILING

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "proved": self.proved, "detail": self.detail, "obligations": len(self.obligations),
                "cites": self.cites}


def _hypotheses(d: Any) -> tuple[Any, ...]:
    return tuple(d.hypotheses)


def prove_step(d: Any, number: int) -> StepProof:
    """Prove step ``number`` of ``d`` for all values (see the module docstring)."""
    step = d.steps[number]
    rule = rule_named(step.rule)
    if number == 0:
        if rule.name != "definition":
            return StepProof("not an instance", f"line 0 must be the definition of the left-hand side, not {rule.title}")
        return StepProof("definition", "defines the left-hand side")
    if rule.name == "definition":
        return StepProof("not an instance", "only line 0 is a definition")
    if rule.proved_by is not None and rule.proved_by == getattr(d, "result", None):
        return StepProof("self-citation", f"it cites {rule.title}, the result this derivation proves: a proof cannot cite itself",
                         cites=rule.proved_by)
    cites = rule.proved_by
    try:
        if rule.name in ("separable-product", "apply-result"):
            cites = getattr(step.product, "cites", None)
            if cites is not None and cites == getattr(d, "result", None):
                return StepProof("self-citation", f"it cites {cites}, the result this derivation proves: a proof cannot cite itself", cites=cites)
            cites, obligations = _product(d, number)
        else:
            obligations = instance_obligations(
                d.steps[number - 1].expr, step.expr, moves=rule.moves + (("unfold",) if step.unfold else ()), hypotheses=_hypotheses(d),
                definitions=d.definitions, unfold_names=step.unfold, maps=[(b.forward, b.backward) for b in step.instances if isinstance(b, Bijection)],
                witnesses=step.witnesses,
            )
    except NotAnInstance as exc:
        return StepProof("not an instance", f"line {number} is not an instance of the rule: {exc}")
    for cond in step.conditions:
        bounds = tuple(c for v, lo, hi in cond.over for c in (v >= lo, v <= hi))
        obligations.append(Obligation(cond.statement, _hypotheses(d) + bounds, f"side condition ({cond.text})"))
    done: list[Discharged] = []
    for ob in obligations:
        out = decided(ob, _decided)
        done.append(out)
        if out.status == "refuted":
            prefix = "" if ob.what.startswith("side condition") else f"line {number} is not an instance of the rule: "
            return StepProof("refuted", prefix + out.detail(), tuple(done))
        if out.status != "proved":
            return StepProof("unknown", f"not proved: {out.detail()}", tuple(done))
    summary = f"an instance of the rule; {len(done)} obligations proved for all values (z3)"
    if cites is not None:
        what = rule.title if rule.proved_by is not None else f"result {cites}"
        proved, why = lemma_verdict(cites, part_verdict)
        if not proved:
            status = "citation cycle" if why.startswith("citation cycle") else "lemma not proved"
            return StepProof(status, f"{summary}, but the cited {what} is not proved: {why}", tuple(done), cites)
        return StepProof("proved", f"{summary}; the cited {what} is proved", tuple(done), cites)
    return StepProof("proved", summary, tuple(done))




def _decided(ob: Obligation) -> Discharged:
    """z3's verdict on ``ob``: first with a positive symbolic denominator multiplied out (an
    equivalent claim, :func:`~symstride.proof.denominators.cleared`, that spares z3 a nonlinear
    real division), then as stated if that is undecided."""
    alt = cleared(ob.claim)
    if alt == ob.claim:
        return discharge(ob)
    first = nonlinear_denominator(ob.claim)  # z3 is weakest on a division by a product of symbols: try that form first
    out = discharge(Obligation(alt, ob.assuming, ob.what)) if first else discharge(ob)
    if out.status == "unknown":
        out = discharge(ob) if first else discharge(Obligation(alt, ob.assuming, ob.what))
    if out.status != "unknown" and out.obligation is not ob:
        return Discharged(ob, out.status, out.counterexample, out.reason + " (denominator multiplied out)")
    return out


def _product(d: Any, number: int) -> tuple[str, list]:
    """The cited 1-D result and the obligations of a ``separable-product`` step."""
    instance = d.steps[number].product
    if instance is None:
        raise NotAnInstance("the step must record the cited result and its substitution (one per axis)")
    if d.steps[number].rule == "apply-result" and len(instance.axes) != 1:
        raise NotAnInstance(f"a theorem is instantiated by one substitution, not {len(instance.axes)}")
    try:
        cited = cited_parts(instance.cites)[0]
    except ValueError as exc:
        raise NotAnInstance(str(exc)) from None
    return instance.cites, product_obligations(d, number, instance, cited)


def part_verdict(part: Any) -> tuple[bool, str]:
    """Whether every step of the derivation ``part`` is proved (symbolically; no grid), and if not why."""
    for i in range(len(part.steps)):
        step = prove_step(part, i)
        if not step.proved:
            return False, f"{part.title}: step {i} ({part.steps[i].rule}) {step.status}: {step.detail}"
    return True, "proved"
