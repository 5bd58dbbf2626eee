"""A complete escape of prose for LaTeX: every character is typeset, none is dropped or replaced.

Prose reaching LaTeX is either mathematics (printed by :mod:`symstride.render.printing`) or text,
which goes through :func:`escape`:

* LaTeX's special characters (``\\ & % $ # _ { } ~ ^``) are escaped;
* Unicode mathematics (Greek letters, ``≤ ∤ ∘ ℤ …``, sub- and superscript digits, ``ᵀ``) becomes the
  corresponding LaTeX command in inline math;
* identifiers written the way programmers write mathematics — ``C_out``, ``D_a``, ``R^2``, ``A^T``,
  ``w_{m}`` — become math (``$C_{\\mathrm{out}}$``, ``$R^{2}$``), so no literal underscore or caret
  is printed in prose; longer snake_case names (``pixel_unshuffle``) are code, in typewriter type;
* a spaced hyphen (``a - b``) is a minus sign, and a lone letter (``y``, ``k'``; not the words
  "a", "A", "I") is a variable, in math italic;
* Latin letters with accents pass through (T1 encoding typesets them); any other character raises
  :class:`UnknownCharacter` naming it — never a silent ``?``.

>>> escape("δ ∤ sj + r, C_out filters, R^2 phases")
'\\\\ensuremath{\\\\delta} \\\\ensuremath{\\\\nmid} sj + \\\\ensuremath{r}, \\\\ensuremath{C_{\\\\mathrm{out}}} filters, \\\\ensuremath{R^{2}} phases'
>>> escape("s | t and k - 1")
'\\\\ensuremath{s} \\\\textbar{} \\\\ensuremath{t} and \\\\ensuremath{k} \\\\ensuremath{-} 1'
>>> escape("count_include_pad=False")
'\\\\texttt{count\\\\_include\\\\_pad}=False'
"""

from __future__ import annotations

import re
from typing import Any

from ..core.errors import SymstrideError

__all__ = ["UnknownCharacter", "SPECIAL", "UNICODE_MATH", "UNICODE_TEXT", "escape", "escape_plain", "pdf_string"]


class UnknownCharacter(SymstrideError):
    """A character of user text has no LaTeX rendering known to symstride (names it): a refusal."""


#: LaTeX's special characters in text.
SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}

_GREEK = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega".split()
_GREEK_LOWER = dict(zip("αβγδεζηθικλμνξοπρστυφχψω", _GREEK[:17] + ["sigma"] + _GREEK[17:]))

#: Unicode mathematics → the LaTeX it stands for (typeset in inline math).
UNICODE_MATH = {
    **{ch: "\\" + name for ch, name in _GREEK_LOWER.items() if name != "omicron"},
    "ο": "o", "ε": r"\varepsilon", "ϵ": r"\epsilon", "φ": r"\varphi", "ϕ": r"\phi", "ς": r"\varsigma", "ϑ": r"\vartheta",
    "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma",
    "Υ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    **{g: l for g, l in zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX")},
    "→": r"\to", "↦": r"\mapsto", "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow",
    "↑": r"\uparrow", "↓": r"\downarrow", "⟨": r"\langle", "⟩": r"\rangle", "·": r"\cdot", "⋅": r"\cdot",
    "×": r"\times", "÷": r"\div", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≡": r"\equiv", "≈": r"\approx",
    "∼": r"\sim", "∝": r"\propto", "∘": r"\circ", "−": "-", "∓": r"\mp", "±": r"\pm", "∗": r"\ast",
    "∈": r"\in", "∉": r"\notin", "∋": r"\ni", "⊂": r"\subset", "⊆": r"\subseteq", "⊃": r"\supset", "⊇": r"\supseteq",
    "∪": r"\cup", "∩": r"\cap", "∅": r"\emptyset", "∀": r"\forall", "∃": r"\exists", "¬": r"\neg",
    "∧": r"\wedge", "∨": r"\vee", "∣": r"\mid", "∤": r"\nmid", "∥": r"\parallel", "⊥": r"\perp",
    "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor", "⌋": r"\rfloor", "′": "'", "″": "''",
    "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "∂": r"\partial", "∇": r"\nabla", "√": r"\surd", "∞": r"\infty",
    "…": r"\dots", "⋯": r"\cdots", "⊙": r"\odot", "⊗": r"\otimes", "⊕": r"\oplus", "ℓ": r"\ell",
    "ℤ": r"\mathbb{Z}", "ℕ": r"\mathbb{N}", "ℝ": r"\mathbb{R}", "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}",
    "✓": r"\checkmark", "✗": r"\times", "°": r"^{\circ}", "ᵀ": r"^{\mathsf{T}}",
    **{ch: "_{%d}" % i for i, ch in enumerate("₀₁₂₃₄₅₆₇₈₉")},
    **{ch: "^{%d}" % i for i, ch in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
    "₊": "_{+}", "₋": "_{-}", "⁺": "^{+}", "⁻": "^{-}", "ₐ": "_{a}", "ₑ": "_{e}", "ᵢ": "_{i}", "ⱼ": "_{j}",
    "ₖ": "_{k}", "ₘ": "_{m}", "ₙ": "_{n}", "ₚ": "_{p}", "ᵣ": "_{r}", "ₛ": "_{s}", "ₜ": "_{t}", "ⁿ": "^{n}",
}

#: Unicode punctuation → text-mode LaTeX.
UNICODE_TEXT = {
    "–": "--", "—": "---", "“": "``", "”": "''", "‘": "`", "’": "'", "\u00a0": "~", "\u2009": r"\,",
    "\u202f": r"\,", "•": r"\textbullet{}", "§": r"\S{}", "¶": r"\P{}", "©": r"\textcopyright{}",
    "€": r"\texteuro{}", "£": r"\pounds{}", "\u00ad": "", "\u200b": "", "«": r"\guillemotleft{}", "»": r"\guillemotright{}",
}

#: Identifiers with a subscript or superscript written the programmer's way: ``C_out``, ``R^2``, ``w_{m}``.
_SCRIPTED = re.compile(
    r"(?<![\w\\])(?P<base>[A-Za-z][A-Za-z0-9]*'*)"
    r"(?P<scripts>(?:[_^](?:\{[^{}]*\}|[A-Za-z0-9]+'*|\([^()]*\)))+)(?![\w])"
)
_SCRIPT = re.compile(r"([_^])(\{[^{}]*\}|[A-Za-z0-9]+'*|\([^()]*\))")
_CODE = re.compile(r"(?<![\w\\])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w^])")
_MINUS = re.compile(r"(?<=\S) - (?=\S)")
#: A Greek letter's name used as a function: ``phi(r)``.
_GREEK_CALL = re.compile(r"(?<![\w\\])(alpha|beta|gamma|delta|epsilon|lambda|mu|pi|rho|sigma|tau|phi|psi|omega)(?=\()")
#: A letter minus a number written without spaces: ``k-1``.
_DIFFERENCE = re.compile(r"(?<![\w\\'-])[A-Za-z]'*-\d+(?![\w-])")
#: A lone letter (not the words "a", "A", "I") or a primed letter is a variable: ``y``, ``k'``, ``W'``.
_LETTER = re.compile(r"(?<![\w\\'’.-])(?:[A-Za-z]'+|[b-zB-HJ-Z])(?![\w'’-])(?!\.\w)")


def _is_code(word: str) -> bool:
    """snake_case with a long head or several underscores is a program identifier, not mathematics."""
    head = word.split("_", 1)[0]
    return word.count("_") > 1 or (len(head) > 2 and head.islower())


def _script_tex(body: str) -> str:
    body = body[1:-1] if body.startswith(("{", "(")) and body.endswith(("}", ")")) else body
    if body == "T":
        return r"\mathsf{T}"
    if re.fullmatch(r"[A-Za-z]{2,}", body) and body not in ("ab", "ij", "rj"):
        return r"\mathrm{%s}" % body
    return escape_plain(body, math=True)


def _scripted_tex(match: re.Match) -> str:
    base = match.group("base")
    core = base.rstrip("'")
    head = core if len(core) == 1 else (r"\operatorname{%s}" % core if core.isalpha() else core)
    out = head + base[len(core):]
    for kind, body in _SCRIPT.findall(match.group("scripts")):
        out += "%s{%s}" % (kind, _script_tex(body))
    return r"\ensuremath{%s}" % out


def escape_plain(text: str, *, math: bool = False) -> str:
    """Character-by-character escape (no identifier or minus handling); ``math`` inside ``\\ensuremath``."""
    out = []
    for ch in text:
        if ch in UNICODE_MATH:
            tex = UNICODE_MATH[ch]
            out.append(tex if math else r"\ensuremath{%s}" % tex)
        elif math and ch in "{}":
            out.append("\\" + ch)
        elif ch in SPECIAL:
            out.append(SPECIAL[ch] if not (math and ch == "|") else r"\mid ")
        elif ch in UNICODE_TEXT and not math:
            out.append(UNICODE_TEXT[ch])
        elif ch == "\t" or ch == "\n" or " " <= ch <= "~" or "\u00c0" <= ch <= "\u017f" or ch in "¡¿":
            out.append(ch)
        else:
            raise UnknownCharacter(
                f"cannot typeset {ch!r} (U+{ord(ch):04X}) in LaTeX: symstride knows no rendering for it; "
                "write it in ASCII or as one of the Unicode math symbols it maps (see symstride.render.text.UNICODE_MATH)"
            )
    return "".join(out)


def escape(text: Any) -> str:
    """Escape prose for LaTeX (see the module docstring); raises :class:`UnknownCharacter`."""
    text = str(text)
    pieces: list[str] = []
    pos = 0
    spans = [(m.start(), m.end(), "code") for m in _CODE.finditer(text) if _is_code(m.group())]
    taken = lambda a, b: any(s < b and a < e for s, e, _ in spans)  # noqa: E731
    spans += [(m.start(), m.end(), "math") for m in _SCRIPTED.finditer(text) if not taken(m.start(), m.end())]
    spans += [(m.start(), m.end(), "greek") for m in _GREEK_CALL.finditer(text) if not taken(m.start(), m.end())]
    spans += [(m.start(), m.end(), "difference") for m in _DIFFERENCE.finditer(text) if not taken(m.start(), m.end())]
    spans += [(m.start(), m.end(), "minus") for m in _MINUS.finditer(text) if not taken(m.start(), m.end())]
    spans += [(m.start(), m.end(), "letter") for m in _LETTER.finditer(text) if not taken(m.start(), m.end())]
    for start, end, kind in sorted(spans):
        pieces.append(escape_plain(text[pos:start]))
        chunk = text[start:end]
        if kind == "code":
            pieces.append(r"\texttt{%s}" % escape_plain(chunk))
        elif kind == "math":
            pieces.append(_scripted_tex(_SCRIPTED.fullmatch(chunk)))
        elif kind == "greek":
            pieces.append(r"\ensuremath{\%s}" % {"phi": "varphi", "epsilon": "varepsilon"}.get(chunk, chunk))
        elif kind in ("letter", "difference"):
            pieces.append(r"\ensuremath{%s}" % chunk)
        else:
            pieces.append(r" \ensuremath{-} ")
        pos = end
    pieces.append(escape_plain(text[pos:]))
    return "".join(pieces)


#: The characters TeX treats specially, in a PDF string (bookmarks, the document title).
_PDF_SPECIAL = {ch: SPECIAL[ch] for ch in "\\&%$#_{}~^"}


def pdf_string(text: Any) -> str:
    """User text as a PDF string (hyperref's bookmarks and ``pdftitle``): Unicode kept as it is
    (hyperref writes it as Unicode), TeX's special characters escaped, no mathematics — so
    hyperref never drops a token ("Token not allowed in a PDF string").

    >>> pdf_string("Conv 3×3, δ ∤ C_out & 50%")
    'Conv 3×3, δ ∤ C\\\\_out \\\\& 50\\\\%'
    """
    return "".join(_PDF_SPECIAL.get(ch, ch) for ch in str(text) if ch >= " " or ch in "\t")
