"""Rendering: the one Jinja2 environment, the LaTeX printer and the escape filter.

LaTeX lives only in templates (the top-level ``templates/`` folder, installed as
``symstride.templates``).  Templates use LaTeX-safe delimiters — ``((* block *))``,
``((( variable )))``, ``((= comment =))`` — so braces and percent signs need no escaping, and
``StrictUndefined`` so that a missing variable fails loudly, naming the template.

Math goes through the ``latex`` filter (symstride's SymPy printer, terms in the order written);
user-supplied prose goes through the ``escape`` filter:

>>> import sympy as sp
>>> j, r = sp.symbols("j r")
>>> latex(2*j + r)
'r + 2 j'
>>> escape("50% of {x}_1 & more")
'50\\\\% of \\\\{x\\\\}\\\\_1 \\\\& more'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from sympy.printing.latex import LatexPrinter

__all__ = ["LatexPrinter", "SymstridePrinter", "latex", "escape", "environment", "render_template", "TemplateError"]


class TemplateError(ValueError):
    """A template could not be rendered (names the template and the cause)."""


class SymstridePrinter(LatexPrinter):
    """SymPy's LaTeX printer with terms kept in the order they were written."""

    printmethod = "_latex"
    _default_settings = {**LatexPrinter._default_settings, "order": "none"}


def latex(expr: Any, **settings: Any) -> str:
    """LaTeX of a SymPy expression (or of any object with a ``_latex`` method)."""
    return SymstridePrinter(settings).doprint(expr)


_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def escape(text: Any) -> str:
    """Escape user text for LaTeX prose."""
    return "".join(_ESCAPES.get(ch, ch) for ch in str(text))


def _template_dirs() -> list[str]:
    dirs = []
    try:
        from importlib.resources import files

        dirs.append(str(files("symstride.templates")))
    except (ModuleNotFoundError, TypeError):
        pass
    source = Path(__file__).resolve().parent.parent / "templates"
    if source.is_dir():
        dirs.append(str(source))
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
    env.filters["axes"] = _axes
    return env


def _axes(values: Any, sep: str = ",") -> str:
    """``(2, 2)`` → ``2`` when every axis agrees, else ``2,3``-style (for subscripts)."""
    values = tuple(values)
    if len(set(values)) == 1:
        return str(values[0])
    return "(" + sep.join(str(v) for v in values) + ")"


def render_template(name: str, /, **context: Any) -> str:
    """Render template ``name``; errors name the template and the missing variable."""
    try:
        template = environment().get_template(name)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"no template named {name!r} in {', '.join(_template_dirs())}") from None
    try:
        return template.render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {name!r}: {exc}") from None
