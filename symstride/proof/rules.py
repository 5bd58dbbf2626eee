"""The rule library: the named rules a derivation step may cite, and what each one claims.

Every step of a :class:`~symstride.proof.derivation.Derivation` names a rule from :data:`RULES`.  A
rule has a statement (its general form, in text and LaTeX) and, where the rule makes a claim of
its own beyond "the two lines are equal", an **instance** — a small object recording the
concrete claim of one step, checked exactly over the derivation's parameter grid:

* :class:`Partition` — residue classes split an index range: every ``m`` lies in exactly one
  class ``r`` (rule ``residue-split``);
* :class:`Bijection` — a change of summation variables is a bijection between the two index
  sets, checked in both directions (rules ``reindex`` and ``unit-stride-convolution``);
* :class:`SameSet` — two nestings of finite sums run over the same index tuples (``exchange-sums``);
* :class:`SideCondition` — a condition on the parameters (and on quantified indices), decided
  by SymPy from the symbols' assumptions when it can, otherwise exhaustively on the grid.

Rules that are identities between operators (``subsampling-composition``, ``noble-identity``,
``pointwise-commutes``, ``space-to-depth-permutation``) are proved as lemmas in
:mod:`symstride.proof.proofs`.

The bounds of a reindexed sum are derived, not assumed: :func:`reindex_bounds` solves
``δ·lo ≤ s·j + r ≤ δ·hi`` for ``j``.

This module holds the rule table; the instances live in :mod:`symstride.proof.index_sets` and
:mod:`symstride.proof.side_conditions` and are re-exported here.

>>> import sympy as sp
>>> s, k, d = sp.symbols("s k delta", integer=True, positive=True)
>>> r = sp.Symbol("r", integer=True, nonnegative=True)
>>> lo, hi, conds = reindex_bounds(0, k - 1, scale=d, stride=s, residue=r)
>>> from symstride.render.printing import text
>>> lo, text(hi)
(0, '⌈(δ·(k - 1) + 1 - r)/s⌉ - 1')
>>> [c.text for c in conds]
['the lowest index is ⌈(−r)/s⌉ = 0 because 0 ≤ r ≤ s − 1', 'the highest index is ⌊(δ·(k − 1) − r)/s⌋ = ⌈(δ·(k − 1) + 1 − r)/s⌉ − 1 (integers, s ≥ 1)']
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from dataclasses import dataclass

from .index_sets import Bijection, IndexSet, Outcome, Partition, SameSet
from .side_conditions import SideCondition, decide_by_assumptions, reindex_bounds

__all__ = [
    "Rule",
    "RULES",
    "rule",
    "Outcome",
    "IndexSet",
    "Partition",
    "Bijection",
    "SameSet",
    "SideCondition",
    "reindex_bounds",
    "decide_by_assumptions",
]


# ---------------------------------------------------------------------------------------------
# The rule table.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A named rule: ``title`` (how a step cites it), its general ``statement`` (text and LaTeX).

    ``moves`` is the rule's schema: the rewrites of :mod:`symstride.proof.schemas` (``unfold``,
    ``eliminate``, ``reindex``) a step citing it may use to get from the previous line to its
    own, every other difference being index arithmetic that z3 must prove for all values.
    ``sketch`` is the rule's soundness argument.  A step citing the rule also carries the rule's
    concrete claims as instances (``Partition``, ``Bijection``, ``SameSet``, evaluated on the grid)
    and side conditions (decided for all values by z3).  A ``lemma`` rule relates operators; it
    may be cited only once the proof named ``proved_by`` in :mod:`symstride.proof.proofs` proves it (and
    never inside that proof: a result does not cite itself).
    """

    name: str
    title: str
    statement: str
    statement_latex: str
    lemma: bool = False
    short: str = ""
    moves: tuple[str, ...] = ()
    sketch: str = ""
    proved_by: str | None = None

    @property
    def label(self) -> str:
        """A short label for the margin of a chain (the title when no short form is given)."""
        return self.short or self.title


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "definition",
            "definition",
            "the left-hand side is defined to be the first line",
            r"\text{the left-hand side is defined to be the first line}",
            short="definition",
            moves=(),
            sketch='The first line is the definition of the left-hand side; nothing to prove.',
        ),
        Rule(
            "stride-as-subsampling",
            "stride as subsampling (Theorem 1)",
            "Conv_s(x; w) = D_s Conv_1(x; w): the strided output at n is the unit-stride output at s·n",
            r"\operatorname{Conv}_s(x; w) = D_s \operatorname{Conv}_1(x; w),\quad y[n] = u[s n]",
            short="Theorem 1",
            moves=('unfold',),
            sketch="Unfold u = Conv_1(x̃; w) at t = s·n: u[s n] = Σ_m w[m] x̃[s n + δ m], the strided sum; s n lies in u's domain because n ≤ N_out − 1.",
            proved_by='stride-as-subsampling',
        ),
        Rule(
            "residue-split",
            "split the sum by residues",
            "Σ_{m ∈ M} f(m) = Σ_{r=0}^{s−1} Σ_{m ∈ M, δm ≡ r (mod s)} f(m)  (the residue classes partition M)",
            r"\sum_{m \in M} f(m) = \sum_{r=0}^{s-1} \sum_{\substack{m \in M \\ \delta m \equiv r \pmod{s}}} f(m)",
            short="residues",
            moves=('eliminate',),
            sketch='Every integer δm has exactly one residue r = δm mod s in [0, s − 1] (s ≥ 1), so Σ_r [δm ≡ r] = 1: the classes partition the index set.',
        ),
        Rule(
            "reindex",
            "reindex by a bijection",
            "Σ_{m ∈ M} f(m) = Σ_{j ∈ J} f(g(j)) when g: J → M is a bijection (here δm = s·j + r, Euclidean division)",
            r"\sum_{m \in M} f(m) = \sum_{j \in J} f(g(j)),\quad g\colon J \to M \text{ bijective}",
            short="reindex",
            moves=('reindex',),
            sketch='δm = s j + r is Euclidean division: m ↦ j = (δm − r)/s is integer-valued on the class of r and has the inverse j ↦ (s j + r)/δ on the j with δ | s j + r, so it is a bijection onto its image; the bounds of j are solved from 0 ≤ m ≤ k − 1.',
        ),
        Rule(
            "exchange-sums",
            "exchange finite sums",
            "Σ_{a} Σ_{b} f(a, b) = Σ_{b} Σ_{a} f(a, b) over the same finite set of pairs",
            r"\sum_{a} \sum_{b} f(a, b) = \sum_{b} \sum_{a} f(a, b)",
            short="exchange",
            moves=(),
            sketch='A finite sum over a set of index tuples does not depend on the order the tuples are visited in.',
        ),
        Rule(
            "linearity",
            "linearity",
            "sums and constant factors distribute: Σ (f + g) = Σ f + Σ g, Σ c·f = c·Σ f",
            r"\textstyle\sum (f + g) = \sum f + \sum g,\quad \sum c f = c \sum f",
            short="linearity",
            moves=(),
            sketch='Multiplication distributes over finite sums.',
        ),
        Rule(
            "index-arithmetic",
            "integer arithmetic on an index",
            "rewrite an index by integer arithmetic (both indices are the same integer for every value of the variables)",
            r"\text{rewrite an index by integer arithmetic}",
            short="arithmetic",
            moves=(),
            sketch='Equal integers index the same entry: the two lines differ only in index expressions that are equal for all values.',
        ),
        Rule(
            "phase-signals",
            "phases of the input",
            "x[s·a + r] = x_r[a]: the r-th phase of x (space-to-depth by s)",
            r"x[s a + r] = x_r[a]",
            short="phases",
            moves=('unfold',),
            sketch='The definition of the phase x_r[a] = x[s a + r] (zero past the end), read backwards where s a + r lies inside the input.',
        ),
        Rule(
            "structural-zeros",
            "structural zeros",
            "extend each phase sum to k' = ⌊δ(k−1)/s⌋ + 1 taps; the added filter entries are zero",
            r"\sum_{j=0}^{J_r} f(j) = \sum_{j=0}^{k'-1} W'_{r,j}\, x_r[n + j],\quad W'_{r,j} = 0 \text{ for } j > J_r",
            short="zeros",
            moves=('unfold',),
            sketch="W'[φ(r), j] is w[(s j + r)/δ] where δ | s j + r ≤ δ(k − 1) and 0 elsewhere, so extending the sum over j to k' terms adds only zero terms.",
        ),
        Rule(
            "unit-stride-convolution",
            "a unit-stride convolution over phase channels",
            "the pairs (c, r) enumerate the C·P channels c' = c·P + φ(r) once each: the sum is Conv_1(z; W')",
            r"\sum_{c} \sum_{r} f(c P + \varphi(r)) = \sum_{c'=0}^{C P - 1} f(c')",
            short="unit-stride conv.",
            moves=('unfold', 'reindex'),
            sketch="c' = c·P + φ(r) is a bijection between the pairs (c, r) and the C·P channels (mixed-radix numbering), and z[c', a] is the phase r of channel c.",
        ),
        Rule(
            "gather",
            "solve the scatter for the input index",
            "Σ_{n=0}^{N−1} [s n = e] f(n) = [s | e] f̂(e/s), f̂ the zero extension of f: s n = e has at most one solution",
            r"\sum_{n=0}^{N-1} [s n = e]\, f(n) = [s \mid e]\, \hat f(e/s)",
            short="gather",
            moves=('unfold', 'eliminate'),
            sketch='s n = e has at most one integer solution n = e/s (s ≥ 1), present exactly when s | e; the zero extension covers e/s outside 0..N − 1.',
        ),
        Rule(
            "output-phase-split",
            "split the outputs by phase",
            "f(t) = Σ_{r=0}^{s−1} Σ_a [s a + r = t + p] f(t): every t + p is s a + r for exactly one pair (r, a), 0 ≤ r < s",
            r"f(t) = \sum_{r=0}^{s-1} \sum_{a} [s a + r = t + p]\, f(t)",
            short="output phases",
            moves=('eliminate',),
            sketch='Euclidean division: t + p = s a + r for exactly one pair with 0 ≤ r < s.',
        ),
        Rule(
            "phase-taps",
            "the taps of an output phase",
            "with t + p = s a + r: s | t + p − δm ⇔ δm ≡ r (mod s), and (t + p − δm)/s = a − (δm − r)/s",
            r"s \mid s a + r - \delta m \iff \delta m \equiv r \pmod{s}",
            short="phase taps",
            moves=('unfold', 'eliminate', 'reindex'),
            sketch='With t + p = s a + r: s | t + p − δm ⇔ δm ≡ r (mod s), and (t + p − δm)/s = a − (δm − r)/s.',
        ),
        Rule(
            "phase-filters",
            "the phase filters are one unit-stride convolution",
            "the P phase filters W'[chan(o, φ(r))] of every output channel o form one unit-stride convolution v = Conv_1(x̃; W') with C_out·P channels",
            r"\sum_{j} W'[\operatorname{chan}(o, \varphi(r)), j]\, \tilde x[e + j] = v[\operatorname{chan}(o, \varphi(r)), e]",
            short="phase filters",
            moves=('unfold',),
            sketch='The definition of the unit-stride convolution v over the phase filters, read backwards.',
        ),
        Rule(
            "depth-to-space",
            "depth-to-space is the inverse permutation of space-to-depth",
            "D2S_s v[o, s e + r] = v[chan(o, φ(r)), e]; D2S_s = S2D_s^{−1} (lemma space-to-depth-permutation)",
            r"\operatorname{D2S}_s v[o, s e + r] = v[\operatorname{chan}(o, \varphi(r)), e],\quad \operatorname{D2S}_s = \operatorname{S2D}_s^{-1}",
            short="D2S",
            moves=('unfold',),
            sketch='D2S_s v[o, s e + r] = v[chan(o, φ(r)), e] is the definition of depth-to-space; it inverts space-to-depth (lemma space-to-depth-permutation).',
            proved_by='space-to-depth-permutation',
        ),
        Rule(
            "crop",
            "merge the phases: a crop",
            "Σ_r Σ_a [s a + r = t + p] u[s(a − ⌊p/s⌋) + r] = u[t + (p mod s)]: the one pair (r, a) gives s(a − ⌊p/s⌋) + r = t + (p mod s)",
            r"\sum_{r} \sum_{a} [s a + r = t + p]\, u[s(a - \lfloor p/s \rfloor) + r] = u[t + (p \bmod s)]",
            short="crop",
            moves=('unfold', 'eliminate'),
            sketch='Exactly one pair (r, a) satisfies s a + r = t + p, and then s(a − ⌊p/s⌋) + r = t + (p mod s).',
        ),
        Rule(
            "unfold",
            "unfold a definition",
            "replace a defined signal by its definition",
            r"\text{replace a defined signal by its definition}",
            short="unfold",
            moves=('unfold',),
            sketch="Replace a defined signal by its definition (or back): equal by definition, where the read lies in the definition's domain.",
        ),
        Rule(
            "separable-product",
            "separable product over axes",
            "if e_a = e_b is proved in one axis for all values, then for every d ≥ 1 the product over d axes with independent parameters holds: ⊗_i σ_i(e_a) = ⊗_i σ_i(e_b)",
            r"e_a = e_b \text{ in one axis} \implies \textstyle\bigotimes_{i=1}^{d} \sigma_i(e_a) = \bigotimes_{i=1}^{d} \sigma_i(e_b)",
            short="product over axes",
            moves=(),
            sketch="Unfolded to the inputs and weights, both 1-D lines are the bilinear form Σ c(m, i) w[m] x[i] with the same coefficients; a product over axes with a product index set and a conjunction of per-axis guards has the coefficient Π_i c_i(m_i, i_i) on both sides. Checked: each line unfolded is the product of the 1-D line under the recorded per-axis substitutions (independent symbols), every index compared by z3, and the cited 1-D result proved.",
        ),
        Rule(
            "apply-result",
            "a proved theorem, instantiated",
            "if e_a = e_b is proved for all values of its symbols, then σ(e_a) = σ(e_b) for every substitution σ of its symbols satisfying its hypotheses",
            r"e_a = e_b \text{ proved} \implies \sigma(e_a) = \sigma(e_b)",
            short="by the theorem",
            moves=(),
            sketch="A theorem proved for all values of its symbols holds at any values; its primitive signals are arbitrary, so they may be any signals of the derivation. Checked: both lines, with the cited theorem's defined signals unfolded, are its lines under the recorded substitution, every index compared by z3; the hypotheses hold; the cited theorem is proved (and is not the result being proved).",
        ),
        Rule(
            "subsampling-composition",
            "composition of subsamplings",
            "D_a ∘ D_b = D_{ab}",
            r"D_a D_b = D_{a b}",
            lemma=True,
            short="D_a D_b = D_ab",
            moves=('unfold',),
            sketch='Proved by the derivation subsampling-composition: b·(a n) = (a b)·n.',
            proved_by='subsampling-composition',
        ),
        Rule(
            "pointwise-commutes",
            "pointwise maps commute with subsampling and space-to-depth",
            "σ(D_s x) = D_s σ(x) and σ(S2D_s x) = S2D_s σ(x) for every pointwise σ",
            r"\sigma(D_s x) = D_s\, \sigma(x),\quad \sigma(\operatorname{S2D}_s x) = \operatorname{S2D}_s\, \sigma(x)",
            lemma=True,
            short="pointwise",
            moves=('unfold',),
            sketch='Proved by the derivations pointwise-commutes: σ acts on each sample, and subsampling and space-to-depth only move samples.',
            proved_by='pointwise-commutes',
        ),
        Rule(
            "noble-identity",
            "the noble identity",
            "D_s ∘ Conv_1(U_s h) = Conv_1(h) ∘ D_s: filtering with h upsampled by s, then subsampling, equals subsampling, then filtering with h",
            r"D_s \operatorname{Conv}_1(\cdot\,; U_s h) = \operatorname{Conv}_1(\cdot\,; h)\, D_s",
            lemma=True,
            short="noble identity",
            moves=('unfold',),
            sketch='Proved by the derivation noble-identity: s n + s m = s(n + m).',
            proved_by='noble-identity',
        ),
        Rule(
            "noble-identity-transposed",
            "the transposed noble identity",
            "Conv_1(U_s x; U_s h) = U_s Conv_1(x; h): upsampling, then filtering with h upsampled by s, equals filtering with h, then upsampling",
            r"\operatorname{Conv}_1(U_s x; U_s h) = U_s \operatorname{Conv}_1(x; h)",
            lemma=True,
            short="transposed noble",
            moves=('unfold',),
            sketch='Proved by the derivation noble-identity-transposed.',
            proved_by='noble-identity-transposed',
        ),
        Rule(
            "space-to-depth-permutation",
            "space-to-depth is a permutation",
            "S2D_s is a permutation of the entries; its inverse is depth-to-space D2S_s",
            r"\operatorname{D2S}_s \operatorname{S2D}_s = I,\quad \operatorname{S2D}_s \operatorname{D2S}_s = I",
            lemma=True,
            short="permutation",
            moves=('unfold',),
            sketch='Proved by the derivations space-to-depth-permutation: Euclidean division t = s⌊t/s⌋ + (t mod s).',
            proved_by='space-to-depth-permutation',
        ),
    )
}


def rule(name: str) -> Rule:
    """The rule called ``name``; an unknown name lists the valid ones."""
    try:
        return RULES[name]
    except KeyError:
        raise SymstrideError(f"unknown rule {name!r}; the rules are: {', '.join(RULES)}") from None
