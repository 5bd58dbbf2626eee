"""Named abbreviations in displays: ``k' = ⌊δ(k − 1)/s⌋ + 1``, ``N_out = (N − 1)s − 2p + …`` defined once, then used.

A long symbolic display is hard to read when the same quantity is written out again and again
(the upper limit ``⌊δ(k − 1)/s⌋`` of every phase sum, ``⌈(p + (N − 1)s − 2p + δ(k − 1) + o_p + 1)/s⌉``
for the last block of a transposed layer).  An :class:`Abbreviation` names such a quantity; the
printers replace every occurrence by its name before printing (:func:`abbreviate`), and the
documents state the definitions once ("where k' = ⌊δ(k − 1)/s⌋ + 1 …").  Replacing is an identity,
never a rewrite of the mathematics:

* a sub-expression equal to the value becomes the name;
* a sum holding the value's non-constant terms has them replaced by the name and its constant
  subtracted (``p + (N − 1)s − 2p + δ(k − 1) + o_p + 1`` becomes ``p + N_out``), and a term
  equal to the value's only non-constant term becomes ``name − constant`` (``⌊δ(k − 1)/s⌋``
  becomes ``k' − 1``), spliced into the sum that holds it (``a − ⌊δ(k − 1)/s⌋ + j`` becomes
  ``a − k' + 1 + j``);
* an equation whose left side is the name (the definition itself) is left alone;
* a sum's numbers are folded, also out of a bracket that holds one (``1 − (⌈(3 − r)/2⌉ − 1)``
  prints ``2 − ⌈(3 − r)/2⌉``), so that no line shows an unsimplified constant.

Terms are compared as mathematics (after SymPy's evaluation), so a quantity written two ways
is recognised both times.

>>> import sympy as sp
>>> d, k, s, j, a = sp.symbols("delta k s j a", integer=True)
>>> kq = Abbreviation(sp.Symbol("k'"), sp.floor(d * (k - 1) / s) + 1, "the kernel size of a phase filter")
>>> sp.latex(abbreviate(sp.Add(a, -sp.floor(d * (k - 1) / s), j, evaluate=False), [kq]), order="none")
"a - k' + 1 + j"
>>> abbreviate(sp.floor(d * (k - 1) / s), [kq])
k' - 1
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Sequence

import sympy as sp

from ..core.errors import SymstrideError, SymstrideTypeError

__all__ = ["Abbreviation", "QuantityName", "abbreviate", "fold_numbers"]


@dataclass(frozen=True)
class Abbreviation:
    """A name (a SymPy symbol), the quantity it stands for, and what it means in words."""

    symbol: sp.Symbol
    value: Any
    meaning: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, sp.Symbol):
            raise SymstrideTypeError(f"an abbreviation's name must be a SymPy Symbol, not {type(self.symbol).__name__}")
        if sp.sympify(self.value).has(self.symbol):
            raise SymstrideError(f"the abbreviation {self.symbol} appears in its own value {self.value}")

    @property
    def definition(self) -> sp.Eq:
        """``name = value`` (an abbreviation never rewrites its own definition), the value as written
        or expanded, whichever is shorter (``N_out = 2N``, not ``2(N − 1) + 2``)."""
        value = sp.sympify(self.value)
        expanded = sp.expand(value)
        return sp.Eq(self.symbol, expanded if sp.count_ops(expanded) < sp.count_ops(value) else value, evaluate=False)


class _Abbreviated(sp.Add):
    """``name − constant`` put in place of a term: spliced into the sum that holds it."""


class _Rewritten(sp.Add):
    """A sum with names put in: printed in the order built (like a written sum)."""


@lru_cache(maxsize=4096)
def _canon(e: Any) -> Any:
    """``e`` with SymPy's evaluation applied (to compare quantities written differently)."""
    if not isinstance(e, sp.Basic) or e.has(sp.Sum, sp.Indexed, sp.Piecewise):
        return e
    try:
        return sp.expand(e.doit(deep=True))
    except (TypeError, ValueError, AttributeError):  # pragma: no cover - an exotic object: compared as written
        return e


def _parts(value: Any) -> tuple[list[Any], Any]:
    """The non-constant terms of ``value`` (compared canonically) and its constant."""
    value = sp.sympify(value)
    terms = list(value.args) if isinstance(value, sp.Add) else [value]
    const = sum((t for t in terms if t.is_Number), sp.S.Zero)
    return [t for t in terms if not t.is_Number], const


def _rebuild(e: Any, args: Sequence[Any]) -> Any:
    try:
        return e.func(*args, evaluate=False)
    except TypeError:
        return e.func(*args)


def fold_numbers(terms: list[Any]) -> list[Any]:
    """The numbers of a list of terms folded into one, at the first number's place (zero dropped)."""
    out: list[Any] = []
    at = None
    for t in terms:
        if t.is_Number:
            if at is None:
                at = len(out)
                out.append(t)
            else:
                out[at] += t
        else:
            out.append(t)
    return [t for t in out if not (t.is_Number and t == 0)]


def _splice(terms: Iterable[Any]) -> list[Any]:
    """Terms of a sum with every ``name − constant`` (or its negative) spliced in."""
    out: list[Any] = []
    for t in terms:
        if isinstance(t, _Abbreviated):
            out += list(t.args)
        elif isinstance(t, sp.Mul) and len(t.args) == 2 and t.args[0] == -1 and isinstance(t.args[1], _Abbreviated):
            out += [-u for u in t.args[1].args]
        else:
            out.append(t)
    return out


def _fold_negated(terms: list[Any]) -> list[Any]:
    """``… − (u − c) …`` (or ``… + (c − u) …``) spliced to ``… − u + c …`` when the sum holds another
    number to fold ``c`` into."""
    if not any(t.is_Number for t in terms):
        return terms
    out: list[Any] = []
    for t in terms:
        if (isinstance(t, sp.Mul) and len(t.args) == 2 and t.args[0] == -1 and isinstance(t.args[1], sp.Add)
                and any(u.is_Number for u in t.args[1].args)):
            out += [-u for u in t.args[1].args]
        elif isinstance(t, sp.Add) and any(u.is_Number for u in t.args):
            out += list(t.args)
        else:
            out.append(t)
    return out


def _match_terms(terms: list[Any], wanted: list[Any]) -> list[int] | None:
    """Positions of ``wanted`` (canonical forms) among ``terms`` (each used once), or None."""
    canon = [_canon(t) for t in terms]
    used: list[int] = []
    for w in wanted:
        hit = next((i for i, c in enumerate(canon) if i not in used and c == w), None)
        if hit is None:
            return None
        used.append(hit)
    return used


def _one(e: Any, ab: Abbreviation, wanted: list[Any], const: Any, whole: Any) -> Any:
    """``e`` with abbreviation ``ab`` put in (children first)."""
    if not isinstance(e, sp.Basic) or not e.args:
        return e
    if isinstance(e, sp.Eq) and e.lhs == ab.symbol:
        return e
    holds = e.has(*sp.sympify(ab.value).free_symbols)
    if holds and isinstance(e, type(whole)) and _canon(e) == whole:
        return ab.symbol
    args = [_one(a, ab, wanted, const, whole) for a in e.args]
    if isinstance(e, sp.Add):
        terms = _fold_negated(_splice(args))
        hit = _match_terms(terms, wanted) if holds else None
        hit_neg = None if hit is not None or not holds else _match_terms(terms, [-w for w in wanted])
        if hit is not None:
            terms = [(ab.symbol if i == hit[0] else t) for i, t in enumerate(terms) if i not in hit[1:]] + [-const]
        elif hit_neg is not None:
            terms = [(-ab.symbol if i == hit_neg[0] else t) for i, t in enumerate(terms) if i not in hit_neg[1:]] + [const]
        elif len(terms) == len(e.args) and all(a is b for a, b in zip(terms, e.args)):
            return e
        terms = fold_numbers(terms)
        positive = [i for i, t in enumerate(terms) if not t.could_extract_minus_sign() and not t.is_Number]
        if terms and terms[0].could_extract_minus_sign() and positive:
            first = positive[0]  # lead with a positive term (a symbol's, not a number)
            terms = [terms[first], *terms[:first], *terms[first + 1:]]
        if len(terms) <= 1:
            return terms[0] if terms else sp.S.Zero
        cls = _Rewritten if type(e) in (sp.Add, _Abbreviated) else e.func
        return cls(*terms, evaluate=False)
    if holds and len(wanted) == 1 and const != 0 and isinstance(e, type(wanted[0])) and _canon(e) == wanted[0]:
        return _Abbreviated(ab.symbol, -const, evaluate=False)
    if all(a is b for a, b in zip(args, e.args)):
        return e
    return _rebuild(e, args)


def abbreviate(expr: Any, abbreviations: Sequence[Abbreviation]) -> Any:
    """``expr`` with every abbreviation's quantity replaced by its name (see the module docstring)."""
    for ab in abbreviations:
        wanted, const = _parts(ab.value)
        expr = _one(expr, ab, [_canon(w) for w in wanted], const, _canon(ab.value))
    return expr


class QuantityName(sp.Symbol):
    r"""A quantity's name whose subscript words print upright: ``N_out`` prints ``N_{\mathrm{out}}``.

    >>> sp.latex(QuantityName("N_out_1")), sp.latex(QuantityName("N_out"))
    ('N_{\\mathrm{out},1}', 'N_{\\mathrm{out}}')
    """

    def _latex(self, printer: Any) -> str:
        head, *subs = self.name.split("_")
        subs = [r"\mathrm{%s}" % x if len(x) > 1 and x.isalpha() else x for x in subs]
        return head + ("_{%s}" % ",".join(subs) if subs else "")

    def _symstride_text(self, printer: Any) -> str:
        return self.name
