"""Printing: symstride's LaTeX and plain-text printers for derivation lines.

Both printers keep terms in the order they were written (``order='none'``; derivation lines
are built unevaluated) and know the notation of the derivations:

* a finite sum whose summand is ``Iverson(condition)·f`` is a sum over the indices that
  satisfy the condition, printed with the condition under the sum sign;
* ``Eq(Mod(a, q), b)`` prints as a congruence ``a ≡ b (mod q)``, ``Eq(Mod(a, q), 0)`` as
  divisibility ``q | a``;
* sums built with :func:`symstride.proof.rules.add` (class :class:`Written`) print in the order
  written, other sums in SymPy's usual order;
* signals print with brackets and weights with subscripts: the ``brackets`` setting maps an
  ``IndexedBase`` name to the number of leading indices printed as subscripts, the rest in
  brackets (``{"x": 0, "xtilde": 1}`` prints ``x[2n + m]`` and ``\\tilde{x}_{r}[n + j]``);
  bases not listed print SymPy's way, ``w_{0}``; the ``names`` setting maps a base name to how
  it prints (``{"xphase": r"\\tilde{x}"}``), so that two signals may share a printed name.

This module imports only SymPy; the Jinja2 environment (:mod:`symstride.render.templates`) is loaded
when a template is rendered.

>>> import sympy as sp
>>> m, n, r = sp.symbols("m n r", integer=True)
>>> x, w = sp.IndexedBase("x"), sp.IndexedBase("w")
>>> term = sp.Mul(w[m], x[Written(sp.Mul(2, n, evaluate=False), m, evaluate=False)], evaluate=False)
>>> latex(sp.Sum(term, (m, 0, 2)), brackets={"x": 0})
'\\\\sum_{m=0}^{2} {w}_{m} x[2 n + m]'
>>> text(sp.Sum(sp.Mul(Iverson(sp.Eq(sp.Mod(m, 2), r)), term, evaluate=False), (m, 0, 2)))
'Σ_{m=0..2, m ≡ r (mod 2)} w[m]·x[2·n + m]'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from .abbreviations import abbreviate

__all__ = ["Display", "Iverson", "OperatorName", "Written", "Notation", "SymstridePrinter", "TextPrinter", "latex", "text", "conditional_sum_parts"]


class OperatorName(sp.Symbol):
    r"""An operator's name in prose math: ``OperatorName("Conv", 1)`` prints ``\operatorname{Conv}_{1}``.

    >>> latex(OperatorName("S2D", 2)), text(OperatorName("S2D", 2))
    ('\\operatorname{S2D}_{2}', 'S2D_2')
    """

    def __new__(cls, name: str, sub: Any = None) -> "OperatorName":
        label = name if sub is None else f"{name}_{sub}"
        return super().__new__(cls, label)

    def _latex(self, printer: Any) -> str:
        name, _, sub = self.name.partition("_")
        head = name if len(name) == 1 else r"\operatorname{%s}" % name
        return head + ("_{%s}" % sub if sub else "")

    def _symstride_text(self, printer: Any) -> str:
        return self.name


@dataclass(frozen=True)
class Display:
    """A piece of prose that is a displayed equation (``\\[ … \\]`` in LaTeX, its own line in text)."""

    expr: Any


class Iverson(sp.Function):
    """The Iverson bracket ``[condition]``: 1 where the condition holds, else 0.

    A summand ``Iverson(c)·f`` restricts a finite sum to the indices satisfying ``c``; the
    printers put ``c`` under the sum sign.  (A ``Piecewise`` summand would do the same, but
    SymPy's ``Sum`` folds piecewise summands outward, across nested sums.)
    """

    nargs = 1

    @classmethod
    def eval(cls, cond: Any) -> Any:
        if cond is sp.true:
            return sp.S.One
        if cond is sp.false:
            return sp.S.Zero
        return None

    def _latex(self, printer: Any) -> str:
        return r"\left[%s\right]" % printer._print(self.args[0])

    def _symstride_text(self, printer: Any) -> str:
        return "[%s]" % printer._print(self.args[0])


class Written(sp.Add):
    """A sum that prints its terms in the order written (built by :func:`symstride.proof.rules.add`).

    Sums SymPy built itself print in SymPy's usual order (``k - 1``, not its storage order
    ``-1 + k``); derivation lines are built from written sums so that they read as on paper.
    """


def _written_order(printer: Any, expr: Any, order: Any) -> list:
    """Terms of a sum to print: as written for :class:`Written` sums and for sums built
    unevaluated in a non-canonical order; SymPy's usual order for sums SymPy built."""
    if isinstance(expr, sp.Add) and (type(expr) is not sp.Add or expr.args != sp.Add(*expr.args).args):  # Written and kin
        return list(expr.args)
    order = order or printer.order
    return list(expr.as_ordered_terms(order=None if order == "none" else order))


def conditional_sum_parts(expr: sp.Sum) -> tuple[list[tuple[tuple, Any]], sp.Expr]:
    """The nested sums of ``expr``, outermost first, as ``(limit, condition or None)``, and the summand.

    A summand ``Iverson(cond)·f`` (or ``Piecewise((f, cond), (0, True))``) becomes the condition of its sum.  SymPy's
    ``Sum(f, (i, ...), (j, ...))`` sums over ``j`` outermost; each limit becomes its own sum and
    a condition belongs to the innermost one.
    """
    parts: list[tuple[tuple, Any]] = []
    body: Any = expr
    while isinstance(body, sp.Sum):
        limits = body.limits
        body, cond = _split_condition(body.function)
        parts += [(limit, None) for limit in reversed(limits[1:])]
        parts.append((limits[0], cond))
    return parts, body


def _split_condition(summand: Any) -> tuple[Any, Any]:
    """``(f, c)`` for a summand ``[c]·f`` or ``Piecewise((f, c), (0, True))``, else ``(summand, None)``."""
    if isinstance(summand, sp.Mul) and any(isinstance(a, Iverson) for a in summand.args):
        k = next(i for i, a in enumerate(summand.args) if isinstance(a, Iverson))
        rest = summand.args[:k] + summand.args[k + 1 :]
        body = rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
        return body, summand.args[k].args[0]
    if (
        isinstance(summand, sp.Piecewise)
        and len(summand.args) == 2
        and summand.args[1].cond == sp.true
        and summand.args[1].expr == 0
    ):
        return summand.args[0].expr, summand.args[0].cond
    return summand, None


def _chains(cond: Any) -> list[Any]:
    """The conjuncts of ``cond``, with ``a ≤ e`` and ``e ≤ b`` merged into one chain ``[a, "≤", e, "≤", b]``.

    Relations are read as written (``a ≥ b`` as ``b ≤ a``); other conjuncts are kept as they are.
    """
    out: list[Any] = []
    for c in _conjuncts(cond):
        if not isinstance(c, (sp.Le, sp.Lt, sp.Ge, sp.Gt)):
            out.append(c)
            continue
        if isinstance(c, (sp.Le, sp.Lt)):
            rel = [c.lhs, "<" if isinstance(c, sp.Lt) else "≤", c.rhs]
        else:
            rel = [c.rhs, "<" if isinstance(c, sp.Gt) else "≤", c.lhs]
        for k, other in enumerate(out):
            if not isinstance(other, list) or len(other) != 3:
                continue
            if other[2] == rel[0]:
                out[k] = other + rel[1:]
                break
            if other[0] == rel[2]:
                out[k] = rel + other[1:]
                break
        else:
            out.append(rel)
    return out


def _conjuncts(cond: Any) -> list:
    return list(cond.args) if isinstance(cond, sp.And) else [cond]


def _congruence(cond: Any) -> tuple | None:
    """``(a, b, q)`` when ``cond`` is ``Eq(Mod(a, q), b)`` (either side), else None."""
    if isinstance(cond, sp.Eq):
        lhs, rhs = cond.args
        if isinstance(rhs, sp.Mod) and not isinstance(lhs, sp.Mod):
            lhs, rhs = rhs, lhs
        if isinstance(lhs, sp.Mod):
            return lhs.args[0], rhs, lhs.args[1]
    return None


class _DerivationNotation:
    """What both printers share: sums as written, conditions under sums, congruences, chains.

    A printer using it declares its notation in :attr:`NOTATION` (format strings and operator
    symbols) and how it writes one sum sign (``_sum_sign``) and a parenthesised summand.
    """

    NOTATION: dict[str, Any] = {}

    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list:
        return _written_order(self, expr, order)

    def abbreviated(self, expr: Any) -> Any:
        """``expr`` with the named abbreviations of the ``abbreviations`` setting put in."""
        found = self._settings.get("abbreviations") or ()
        return abbreviate(expr, found) if found else expr

    def doprint(self, expr: Any) -> str:
        return super().doprint(self.abbreviated(expr))

    def _print_condition(self, cond: Any) -> str:
        found = _congruence(cond)
        if found is not None:
            a, b, q = found
            if b == 0:
                return self.NOTATION["divides"] % (self.parenthesize(q, PRECEDENCE["Mul"]), self._print(a))
            return self.NOTATION["congruent"] % (self._print(a), self._print(b), self._print(q))
        if isinstance(cond, sp.And):
            return self.NOTATION["and"].join(self._print_chain(c) for c in _chains(cond))
        return self._print(cond)

    def _print_chain(self, chain: Any) -> str:
        if not isinstance(chain, list):
            return self._print_condition(chain)
        return " ".join(self.NOTATION["ops"][p] if isinstance(p, str) else self._print(p) for p in chain)

    def _print_Equality(self, expr: sp.Eq) -> str:
        if _congruence(expr) is not None:
            return self._print_condition(expr)
        return "%s = %s" % (self._print(expr.lhs), self._print(expr.rhs))

    def _print_And(self, expr: sp.And) -> str:
        return self._print_condition(expr)

    def _sum_signs(self, parts: list) -> str:
        return "".join(
            self._sum_sign(var, lo, hi, [] if cond is None else [self._print_chain(c) for c in _chains(cond)]) for (var, lo, hi), cond in parts
        )

    def _summand(self, body: Any) -> str:
        return self.NOTATION["parens"] % self._print(body) if isinstance(body, sp.Add) else self._print(body)

    def _print_Sum(self, expr: sp.Sum) -> str:
        parts, body = conditional_sum_parts(expr)
        return self._sum_signs(parts) + self._summand(body)


class SymstridePrinter(_DerivationNotation, LatexPrinter):
    """SymPy's LaTeX printer with terms in the order written and the derivation notation."""

    printmethod = "_latex"
    _default_settings = {**LatexPrinter._default_settings, "order": "none", "brackets": {}, "names": {}, "abbreviations": ()}
    NOTATION = {
        "divides": r"%s \mid %s", "congruent": r"%s \equiv %s \pmod{%s}", "and": r",\ ",
        "ops": {"≤": r"\le", "<": "<"}, "parens": r"\left(%s\right)",
    }

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        name = expr.base.label.name
        brackets = self._settings["brackets"]
        head = self._settings["names"].get(name) or self._print(expr.base)
        layer = re.fullmatch(r"([A-Za-z])_(\d+)('*)", name)
        if layer and name not in self._settings["names"]:  # w_2: the weights of layer 2, w^{(2)}
            head = "{%s%s}^{(%s)}" % (layer.group(1), layer.group(3), layer.group(2))
        lead = brackets.get(name)
        if name not in brackets:  # SymPy's form, {w}_{m}: safe for any name (w_{2}, W')
            return "{%s}_{%s}" % (head, ",".join(map(self._print, expr.indices)))
        if lead:
            if "_" in head and not head.startswith("{"):
                head = "{%s}" % head
            head += "_{%s}" % ",".join(map(self._print, expr.indices[:lead]))
        rest = expr.indices[lead:]
        return head + ("[%s]" % ", ".join(map(self._print, rest)) if rest else "")

    def _print_Equality(self, expr: sp.Eq) -> str:
        if _congruence(expr) is not None:
            return self._print_condition(expr)
        return LatexPrinter._print_Relational(self, expr)

    def _sum_sign(self, var: Any, lo: Any, hi: Any, conditions: list[str]) -> str:
        lower = "%s=%s" % (self._print(var), self._print(lo))
        if conditions:
            lower = r"\substack{%s}" % r" \\ ".join([lower, *conditions])
        return r"\sum_{%s}^{%s} " % (lower, self._print(hi))

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        """Cases, with a long conjunction of conditions stacked one per line (so displays fit the page)."""
        rows = []
        for value, cond in expr.args:
            if cond == sp.true:
                rows.append(r"%s & \text{otherwise}" % self._print(value))
                continue
            conds = [self._print_chain(c) for c in _chains(cond)]
            joined = self.NOTATION["and"].join(conds)
            wide = visible_width(joined)
            if len(conds) > 1 and wide > 40:
                joined = r"\begin{aligned}[t] &%s\end{aligned}" % r",\\ &".join(conds)
                wide = max(map(visible_width, conds))
            shown = self._print(value)
            if visible_width(shown) + wide > 80:  # the condition below its value
                rows.append(r"%s, \\ \qquad \text{if } %s &" % (shown, joined))
            else:
                rows.append(r"%s & \text{if } %s" % (shown, joined))
        return r"\begin{cases} %s \end{cases}" % r" \\ ".join(rows)

    def sum_signs(self, expr: Any) -> tuple[list[str], str]:
        """``([sum sign, …], summand)`` of a (nested) sum; ``([], expr)`` otherwise."""
        expr = self.abbreviated(expr)
        if not isinstance(expr, sp.Sum):
            return [], self._print(expr)
        parts, body = conditional_sum_parts(expr)
        return [self._sum_signs([part]).rstrip() for part in parts], self._summand(body)

    def sum_split(self, expr: Any) -> tuple[str, str]:
        """``(sum signs, summand)`` of a (nested) sum, printed separately; ``("", expr)`` otherwise."""
        expr = self.abbreviated(expr)
        if not isinstance(expr, sp.Sum):
            return "", self._print(expr)
        parts, body = conditional_sum_parts(expr)
        return self._sum_signs(parts).rstrip(), self._summand(body)


class TextPrinter(_DerivationNotation, StrPrinter):
    """Plain text in the order written: ``Σ_{m=0..2} w[m]·x[2·n + m]``, ``⌈(3 - r)/2⌉``."""

    printmethod = "_symstride_text"
    _default_settings = {**StrPrinter._default_settings, "order": "none", "names": {}, "brackets": {}, "abbreviations": ()}
    NOTATION = {"divides": "%s | %s", "congruent": "%s ≡ %s (mod %s)", "and": ", ", "ops": {"≤": "≤", "<": "<"}, "parens": "(%s)"}

    def _sum_sign(self, var: Any, lo: Any, hi: Any, conditions: list[str]) -> str:
        head = ", ".join(["%s=%s..%s" % (self._print(var), self._print(lo), self._print(hi)), *conditions])
        return "Σ_{%s} " % head

    def _print_Mul(self, expr: sp.Mul) -> str:
        return super()._print_Mul(expr).replace("*", "·")

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        from sympy.printing.pretty.pretty_symbology import pretty_symbol

        return pretty_symbol(expr.name)

    _print_Dummy = _print_Symbol

    def _print_Function(self, expr: Any) -> str:
        from sympy.printing.pretty.pretty_symbology import pretty_symbol

        return "%s(%s)" % (pretty_symbol(expr.func.__name__), ", ".join(self._print(a) for a in expr.args))

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        name = expr.base.label.name
        head = self._settings["names"].get(name) or self._print(expr.base.label)
        lead = self._settings["brackets"].get(name, 0)
        if lead:
            subs = [self._print(i) for i in expr.indices[:lead]]
            head += "_" + (subs[0] if lead == 1 and len(subs[0]) == 1 else "(" + ", ".join(subs) + ")")
        rest = expr.indices[lead:]
        return head + ("[%s]" % ", ".join(map(self._print, rest)) if rest else "")

    def _print_Relational(self, expr: Any) -> str:
        ops = {"<=": "≤", ">=": "≥", "!=": "≠"}
        return "%s %s %s" % (self._print(expr.lhs), ops.get(expr.rel_op, expr.rel_op), self._print(expr.rhs))

    def _print_ceiling(self, expr: Any) -> str:
        return "⌈%s⌉" % self._print(expr.args[0])

    def _print_floor(self, expr: Any) -> str:
        return "⌊%s⌋" % self._print(expr.args[0])

    def _print_Mod(self, expr: Any) -> str:
        a, q = expr.args
        return "(%s mod %s)" % (self._print(a), self.parenthesize(q, PRECEDENCE["Mul"]))

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        pieces = []
        for e, c in expr.args:
            if c == sp.true:
                pieces.append(self._print(e))
            else:
                pieces.append("%s if %s" % (self._print(e), self._print_condition(c)))
        return " else ".join(pieces)


def visible_width(tex: str) -> int:
    """A rough count of the characters a LaTeX math string shows (for line breaking)."""
    stripped = re.sub(r"\\(left|right|substack|frac|operatorname|pmod|mid|quad|qquad|,)", "", tex)
    stripped = re.sub(r"\\[a-zA-Z]+", "x", stripped)
    return len(re.sub(r"[{}^_ ]", "", stripped))


def latex(expr: Any, **settings: Any) -> str:
    """LaTeX of a SymPy expression (or of any object with a ``_latex`` method)."""
    return SymstridePrinter(settings).doprint(expr)


def text(expr: Any, **settings: Any) -> str:
    """One line of plain text for a SymPy expression, terms in the order written."""
    return TextPrinter(settings).doprint(expr)


@dataclass(frozen=True)
class Notation:
    """How the signals of one derivation print: bracketed indices and display names.

    ``brackets`` maps a base name to its number of leading subscript indices (signals print
    ``x[…]``; bases not listed are subscripted weights), ``latex_names``/``text_names`` map a
    base name to how it prints.  ``abbreviations`` (:class:`~symstride.render.abbreviations.Abbreviation`)
    name long quantities (``k'``, ``N_out``): both printers put the names in, and the documents
    define them once.  ``settings`` is what the ``latex`` template filter takes.
    """

    brackets: Mapping[str, int] = field(default_factory=dict)
    latex_names: Mapping[str, str] = field(default_factory=dict)
    text_names: Mapping[str, str] = field(default_factory=dict)
    abbreviations: tuple = ()

    @property
    def settings(self) -> dict[str, Any]:
        return {"brackets": dict(self.brackets), "names": dict(self.latex_names), "abbreviations": tuple(self.abbreviations)}

    @property
    def plain_settings(self) -> dict[str, Any]:
        """:attr:`settings` without the abbreviations (to print their definitions)."""
        return {"brackets": dict(self.brackets), "names": dict(self.latex_names)}

    def latex(self, expr: Any) -> str:
        return latex(expr, **self.settings)

    def latex_lines(self, expr: Any, width: int = 62) -> list[str]:
        """``expr`` as one line of LaTeX, or several when it is wide: the sum signs (as many per
        line as fit in ``width`` visible characters), then the summand."""
        whole = self.latex(expr)
        if visible_width(whole) <= width:
            return [whole]
        signs, body = SymstridePrinter(self.settings).sum_signs(expr)
        if not signs:
            return [whole]
        lines = [signs[0]]
        for sign in signs[1:]:  # lines after the first carry no step label: they may be wider
            if visible_width(lines[-1] + sign) <= (width if len(lines) == 1 else width + 24):
                lines[-1] += " " + sign
            else:
                lines.append(sign)
        return lines + [body]

    def text(self, expr: Any) -> str:
        return text(expr, names=dict(self.text_names), brackets=dict(self.brackets), abbreviations=tuple(self.abbreviations))
