"""Rendering: the one Jinja2 environment, the LaTeX printer and the escape filter.

LaTeX lives only in templates (the top-level ``templates/`` folder, installed as
``symstride.templates``).  Templates use LaTeX-safe delimiters — ``((* block *))``,
``((( variable )))``, ``((= comment =))`` — so braces and percent signs need no escaping, and
``StrictUndefined`` so that a missing variable fails loudly, naming the template.

Math goes through the ``latex`` filter (:mod:`symstride.render.printing`: terms of written sums in
the order written); user-supplied prose goes through the ``escape`` filter:

>>> import sympy as sp
>>> j, r = sp.symbols("j r")
>>> from symstride.render.printing import Written
>>> latex(Written(r, 2*j, evaluate=False)), latex(2*j + r)
('r + 2 j', '2 j + r')
>>> escape("50% of {every} & more")
'50\\\\% of \\\\{every\\\\} \\\\& more'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from sympy.printing.latex import LatexPrinter

from .printing import SymstridePrinter, latex
from .structure import BibEntry, cited_entries, parse_bibtex, theorem_heading
from .text import UNICODE_MATH, UnknownCharacter, escape, escape_plain, pdf_string

__all__ = ["LatexPrinter", "SymstridePrinter", "latex", "escape", "prose", "environment", "render_template", "TemplateError", "UnknownCharacter", "bibliography"]


class TemplateError(ValueError):
    """A template could not be rendered (names the template and the cause)."""


def prose(pieces: Any, **settings: Any) -> str:
    """Mixed prose: strings are escaped text, SymPy objects (or objects with ``_latex``) inline math,
    :class:`~symstride.render.printing.Display` pieces displayed equations."""
    if isinstance(pieces, str):
        return escape(pieces)
    from .printing import Display

    out = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(escape(piece))
        elif isinstance(piece, Display):
            out.append("\n\\[\n  %s\n\\]\n" % latex(piece.expr, **settings))
        else:
            out.append("$%s$" % latex(piece, **settings))
    return "".join(out)


def _symbol(name: Any) -> str:
    """A symbol's name (``N₁``, ``δ``, ``o_p₁``) as inline mathematics: ``$N_{1}$``, ``$o_{p,1}$``, never roman ``N1``.

    >>> [_symbol(x) for x in ["N₁", "o_p", "o_p₁", "oₚ₁", "k"]]
    ['$N_{1}$', '$o_{p}$', '$o_{p,1}$', '$o_{p,1}$', '$k$']
    """
    lowered = {ch: "_" + tex[2:-1] for ch, tex in UNICODE_MATH.items() if tex.startswith("_{")}  # ₁ ₚ …
    head, *subs = "".join(lowered.get(ch, ch) for ch in str(name)).split("_")
    head = escape_plain(head, math=True)
    return "$%s$" % (head + ("_{%s}" % ",".join(escape_plain(x, math=True) for x in subs if x) if any(subs) else ""))


def _template_dirs() -> list[str]:
    # The checkout this code runs from first: an installed symstride (say, an editable install of
    # another checkout) must not shadow the templates that belong to this code.
    dirs = []
    source = Path(__file__).resolve().parents[2] / "templates"  # symstride/render/ → the checkout
    if source.is_dir():
        dirs.append(str(source))
    try:
        from importlib.resources import files

        installed = str(files("symstride.templates"))
        if installed not in dirs:
            dirs.append(installed)
    except (ModuleNotFoundError, TypeError):
        pass
    return dirs


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The Jinja2 environment all of symstride renders with."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_template_dirs()),
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["latex"] = latex
    env.filters["escape"] = escape
    env.filters["pdf_string"] = pdf_string
    env.filters["symbol"] = _symbol
    env.filters["prose"] = prose
    env.filters["axes"] = _axes
    env.filters["padding"] = _padding
    env.filters["heading"] = theorem_heading
    env.filters["cited"] = lambda tex: cited_entries(tex, bibliography())
    return env


@lru_cache(maxsize=None)
def bibliography() -> dict[str, BibEntry]:
    """The entries of ``references.bib``, shipped beside the templates (BibTeX data; no network)."""
    source, _, _ = environment().loader.get_source(environment(), "references.bib")
    return parse_bibtex(source)


def _axes(values: Any, sep: str = ",") -> str:
    """``(2, 2)`` → ``2`` when every axis agrees, else ``2,3``-style (for subscripts)."""
    values = tuple(_axis_value(v) for v in values)
    if len(set(values)) == 1:
        return values[0]
    return "(" + sep.join(values) + ")"


def _axis_value(value: Any) -> str:
    """An int as it is; a symbolic parameter (``δ``, ``⌊δ(k−1)/s⌋ + 1``) through the LaTeX printer."""
    return str(value) if isinstance(value, int) else latex(value)


def _padding(pairs: Any) -> str:
    """Per-axis ``(left, right)`` padding for a superscript: ``1`` when symmetric, else ``[1,2]``
    per axis (the right side is never dropped); one entry when every axis agrees."""
    items = tuple(str(l) if l == r else f"[{l},{r}]" for l, r in pairs)
    return items[0] if len(set(items)) == 1 else "(" + ",".join(items) + ")"


def render_template(name: str, /, **context: Any) -> str:
    """Render template ``name``; errors name the template and the missing variable."""
    try:
        template = environment().get_template(name)
    except jinja2.TemplateNotFound as exc:
        missing = exc.name if exc.name != name else name
        inside = "" if missing == name else f" (included by {name!r})"
        raise TemplateError(f"no template named {missing!r}{inside} in {', '.join(_template_dirs())}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.name or name!r}, line {exc.lineno}: {exc.message}") from None
    try:
        return template.render(**context)
    except jinja2.TemplateSyntaxError as exc:  # an included template that does not parse
        raise TemplateError(f"template {exc.name!r} (rendering {name!r}), line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"no template named {exc.name!r} (included by {name!r})") from None
    except jinja2.UndefinedError as exc:
        where = _failing_template(exc) or name
        inside = "" if where == name else f" (rendering {name!r})"
        raise TemplateError(f"template {where!r}{inside}: {exc}") from None


def _failing_template(exc: BaseException) -> str | None:
    """The template (file name) in which a rendering error was raised, from the traceback."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".tex", ".j2", ".txt")):
            found = Path(filename).name
        tb = tb.tb_next
    return found
