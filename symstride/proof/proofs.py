"""The named proofs: theorems and operator lemmas for symbolic parameters, and their verdicts.

``prove(name)`` builds the named proof — one or more :class:`~symstride.proof.derivation.Derivation`\\ s
over positive-integer symbols — and checks every step: symbolically, as an instance of its rule
with every obligation proved for all values by z3 (:mod:`symstride.proof.step_proofs`), and as
evidence on a grid of small parameter values (exactly) and in float64 against the NumPy
reference.  ``Proof.proved`` is True only when every step of every part is proved for all values
and every lemma it cites is proved by its own proof; grid evidence alone is reported as such.

>>> proof = prove("subsampling-composition")
>>> proof.ok, proof.proved
(True, True)
>>> [name for name in PROOFS][:3]
['stride-as-subsampling', 'polyphase-1d', 'polyphase']
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from dataclasses import dataclass
from typing import Any, Callable

from .check_reports import CheckReport
from .derivation import Derivation
from .step import Step
from .lemmas import noble_identity, pointwise_commutes, space_to_depth_permutation, subsampling_composition, transposed_noble_identity
from .rules import rule
from .citations import lemma_verdict, register
from .step_proofs import part_verdict

__all__ = ["Proof", "PROOFS", "DIMENSIONED", "prove", "proof_names", "proof_status", "lemma_application"]


# ---------------------------------------------------------------------------------------------
# The registry.
# ---------------------------------------------------------------------------------------------


def _subsampling() -> list[Derivation]:
    from .subsampling import subsampling_proof

    return [subsampling_proof()]


def _polyphase_1d() -> list[Derivation]:
    from .polyphase import polyphase_proof

    return [polyphase_proof(1)]


def _polyphase(ndim: int = 2) -> list[Derivation]:
    from .separable import polyphase_product_proof

    return _polyphase_1d() + ([polyphase_product_proof(ndim)] if ndim > 1 else [])


def _transposed_1d() -> list[Derivation]:
    from .subpixel import subpixel_proof

    return [subpixel_proof(1)]


def _transposed(ndim: int = 2) -> list[Derivation]:
    from .separable import subpixel_product_proof

    return _transposed_1d() + ([subpixel_product_proof(ndim)] if ndim > 1 else [])


def _composition() -> list[Derivation]:
    from .composition import composition_proof

    return [composition_proof()]


def _network_layer() -> list[Derivation]:
    from .network_layer import layer_rule_proof

    return [layer_rule_proof()]


def _network() -> list[Derivation]:
    from .network_theorem import network_step_proof

    return [network_step_proof()]


#: name → (one-line summary, builder returning the proof's derivations), in ``--list`` order.
PROOFS: dict[str, tuple[str, Callable[[], Any]]] = {
    "stride-as-subsampling": ("Theorem 1: Conv_s = D_s ∘ Conv_1, for symbolic s, k, δ, p and input length N (1-D, one channel pair)", _subsampling),
    "polyphase-1d": ("Theorem 2 in one axis: a strided convolution is a unit-stride one on the s phases, symbolic s, k, δ, p, N (one channel pair)", _polyphase_1d),
    "polyphase": ("Theorem 2: a strided convolution is a unit-stride one on the phases, symbolic s, k, δ, p, N per axis, on any number d of axes: d = 1, and d ≥ 2 as the separable product of the 1-D theorem (listed for d = 2; prove --ndim D for any D)", _polyphase),
    "composition": ("Theorem 3 (core): two strided layers (symbolic s1, s2, k1, k2, N; no padding or dilation) and a pointwise map are a unit-stride network on S = s1·s2 phases", _composition),
    "network-layer": ("Theorem 3, one layer in phase bases: the R output phases of a strided layer are a unit-stride convolution over its B = s·R input phases with R tied filters, symbolic s, k, δ, p, R, N (1-D, one channel pair, padding as e = ⌈p/B⌉ blocks)", _network_layer),
    "network": ("Theorem 3 for L layers, with padding and boundary masks: a strided network is a unit-stride network of tied layers on the phases of its input; by induction on the layers, the step citing network-layer (1-D, one channel pair per layer)", _network),
    "transposed-1d": ("Sub-pixel theorem in one axis: a transposed convolution is a unit-stride one on the s output phases, then depth-to-space and a crop, symbolic s, k, δ, p, o_p", _transposed_1d),
    "transposed": ("Sub-pixel theorem: a transposed convolution is a unit-stride one on the P output phases, then depth-to-space and a crop, symbolic s, k, δ, p, o_p per axis, on any number d of axes: d = 1, and d ≥ 2 as the separable product of the 1-D theorem (listed for d = 2; prove --ndim D for any D)", _transposed),
    "subsampling-composition": ("Lemma: D_a ∘ D_b = D_ab", lambda: [subsampling_composition()]),
    "noble-identity": ("Lemma: D_s ∘ Conv_1(w upsampled by s) = Conv_1(w) ∘ D_s", lambda: [noble_identity()]),
    "noble-identity-transposed": ("Lemma: Conv_1(U_s x; h upsampled by s) = U_s Conv_1(x; h)", lambda: [transposed_noble_identity()]),
    "pointwise-commutes": ("Lemma: pointwise maps commute with subsampling and with space-to-depth", pointwise_commutes),
    "space-to-depth-permutation": ("Lemma: space-to-depth is a permutation, depth-to-space its inverse", space_to_depth_permutation),
}


register({name: build for name, (_, build) in PROOFS.items()})


def proof_names() -> list[str]:
    return list(PROOFS)


def proof_status(name: str) -> tuple[bool, str]:
    """Whether the proof ``name`` is proved for all values (symbolic steps and cited lemmas only,
    no grid), and if not why — what ``symstride prove --list`` reports."""
    if name not in PROOFS:
        raise SymstrideError(f"no proof named {name!r}; the proofs are: {', '.join(PROOFS)}")
    return lemma_verdict(name, part_verdict)


def lemma_application(name: str) -> Derivation:
    """A two-line derivation that *cites* the lemma ``name``: its proof's first line, then its last.

    The step is checked as an instance of the lemma rule, and is proved only when the lemma's own
    proof is — the way every other derivation uses a lemma.
    """
    part = PROOFS[name][1]()[0]
    steps = [part.steps[0], Step(part.steps[-1].expr, name, ("by the lemma",), part.steps[-1].conditions)]
    d = part.with_step(0)
    d.steps = tuple(steps)
    d.title = f"Applying the lemma {rule(name).title}"
    d.result = None
    return d


@dataclass
class Proof:
    """A named proof: its derivations (each checked) and how it reads in text and LaTeX.

    ``ok`` — nothing checked fails; ``proved`` — every step of every part proved for all values
    (and every cited lemma proved); ``failure`` / ``unproved`` — the first failure / the first
    step not proved, with the part's title.
    """

    name: str
    summary: str
    parts: list[Derivation]

    def __post_init__(self) -> None:
        for d in self.parts:
            d.result = self.name

    def check(self) -> list[CheckReport]:
        return [d.check() for d in self.parts]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.check())

    @property
    def proved(self) -> bool:
        return all(r.proved for r in self.check())

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failure(self) -> str | None:
        for d, report in zip(self.parts, self.check()):
            if not report.ok:
                return f"{d.title}: {report.failure}"
        return None

    @property
    def unproved(self) -> str | None:
        for d, report in zip(self.parts, self.check()):
            if not report.proved:
                return f"{d.title}: {report.failure or report.unproved}"
        return None

    @property
    def verdict(self) -> str:
        if not self.ok:
            return "FAILED"
        return "PROVED for all values" if self.proved else "checked on a grid, NOT proved"

    def text(self) -> str:
        out = [f"proof {self.name}: {self.summary}", ""]
        for d, report in zip(self.parts, self.check()):
            out += [d.text(), "", str(report), ""]
        if not self.ok:
            out.append(f"FAILED: {self.failure}")
        elif self.proved:
            out.append("PROVED for all values: every step is an instance of its rule, every obligation proved by z3, every cited lemma proved.")
        else:
            out.append(f"checked, NOT proved: {self.unproved}")
        return "\n".join(out)

    __str__ = text

    def __repr__(self) -> str:
        return f"<Proof {self.name!r}: {self.verdict}; {len(self.parts)} part(s)>"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "summary": self.summary, "ok": self.ok, "proved": self.proved, "failure": self.failure,
                "unproved": None if self.proved else self.unproved, "parts": [r.to_json() for r in self.check()]}

    def latex(self) -> str:
        """The proof's derivations as theorem/proof blocks (a fragment)."""
        return "\n".join(d.latex() for d in self.parts)

    def document(self) -> str:
        from ..render.templates import render_template

        return render_template("document.tex", title=self.summary, body=self.latex())

    def _repr_latex_(self) -> str:
        return self.parts[0]._repr_latex_()


#: The proofs stated on any number of axes: ``prove(name, ndim=D)`` builds them for ``D`` axes.
DIMENSIONED = ("polyphase", "transposed")


def prove(name: str, *, ndim: int | None = None) -> Proof:
    """Build and check the proof ``name`` (see :data:`PROOFS`); an unknown name lists the valid ones.

    ``ndim`` (only for the proofs in :data:`DIMENSIONED`; default 2): the number of axes of the
    statement — ``1`` is the 1-D chain alone, ``D ≥ 2`` adds the product over ``D`` axes.
    """
    if name not in PROOFS:
        raise SymstrideError(f"no proof named {name!r}; the proofs are: {', '.join(PROOFS)}")
    summary, build = PROOFS[name]
    if ndim is None:
        parts = build()
    elif name not in DIMENSIONED:
        raise SymstrideError(f"the proof {name!r} has no number of axes; ndim applies to {', '.join(DIMENSIONED)}")
    elif not isinstance(ndim, int) or isinstance(ndim, bool) or ndim < 1:
        raise SymstrideError(f"ndim must be a positive integer (the number of axes), got {ndim!r}")
    else:
        parts = build(ndim)
        summary = f"{summary.split(', on any number')[0]}, on d = {ndim} " + ("axis" if ndim == 1 else "axes (the separable product of the 1-D theorem)")
    proof = Proof(name, summary, list(parts))
    proof.check()
    return proof
