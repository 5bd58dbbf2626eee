"""Document structure shared by every output: theorem headings, citations and the bibliography.

A derivation names its result the way the project does (``"Theorem 2, stride removal"``,
``"Lemma, the noble identity"``); :func:`theorem_heading` turns that into the amsthm environment
whose name matches its number:

* the project's named theorems (Theorem 1, 2, 3) keep their names in every document
  (environment ``named``, unnumbered by LaTeX), so "Theorem 2" means the same result in a
  ``derive`` document, a ``prove`` document and the book;
* every other result is a numbered ``theorem``, ``lemma``, ``corollary``, ``definition`` or
  ``remark`` (one counter, by chapter in the book), its description as the note.

Each heading also carries the works it rests on (keys of ``references.bib``, shipped in
``symstride.templates``, read by :func:`symstride.render.templates.bibliography`); the documents print
a ``thebibliography`` of the works cited (:func:`cited_entries`), so no document needs BibTeX or a
network to build.

>>> h = theorem_heading("Theorem 2, stride removal")
>>> h.env, h.name, h.note, h.cites
('named', 'Theorem 2', 'stride removal', ('vaidyanathan1993', 'kong2017'))
>>> theorem_heading("Lemma, the noble identity")[:3]
('lemma', '', 'the noble identity')
>>> cited_keys(r"see \\cite{shi2016} and \\cite{kong2017,shi2016}")
['shi2016', 'kong2017']
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["TheoremHeading", "BibEntry", "ENVIRONMENTS", "CITATIONS", "theorem_heading", "cited_keys", "cited_entries", "parse_bibtex"]

#: The numbered environments (they share one counter; the book numbers it by chapter).
ENVIRONMENTS = ("theorem", "lemma", "corollary", "proposition", "definition", "remark")

#: Words of a result's name → the works it rests on (keys of ``references.bib``).
CITATIONS = {
    "theorem 1": ("dumoulin2016",),
    "theorem 2": ("vaidyanathan1993", "kong2017"),
    "theorem 3": ("kong2017",),
    "sub-pixel": ("shi2016", "dumoulin2016"),
    "noble identity": ("vaidyanathan1993",),
    "space-to-depth": ("shi2016",),
    "depth-to-space": ("shi2016",),
    "adjoint": ("dumoulin2016",),
}


class TheoremHeading(NamedTuple):
    """``env`` (``named`` or one of :data:`ENVIRONMENTS`), ``name`` (for ``named``), ``note``, ``cites``."""

    env: str
    name: str
    note: str
    cites: tuple[str, ...]


def _cites(title: str) -> tuple[str, ...]:
    low = title.lower()
    keys: list[str] = []
    for words, found in CITATIONS.items():
        if re.search(r"\b%s\b" % re.escape(words), low):
            keys += [k for k in found if k not in keys]
    return tuple(keys)


def theorem_heading(title: str) -> TheoremHeading:
    """The environment, name and note for a result called ``title`` (see the module docstring)."""
    title = str(title).strip()
    named = re.fullmatch(r"(Theorem \d+)(?:\s*[,:(]\s*(.*?)\)?)?", title)
    if named:
        return TheoremHeading("named", named.group(1), named.group(2) or "", _cites(title))
    kind = re.fullmatch(r"(Theorem|Lemma|Corollary|Proposition|Definition|Remark)\b[,:]?\s*(.*)", title)
    if kind:
        return TheoremHeading(kind.group(1).lower(), "", kind.group(2), _cites(title))
    return TheoremHeading("theorem", "", title, _cites(title))


class BibEntry(NamedTuple):
    """One entry of ``references.bib``: its type, key and fields (values are LaTeX, as in BibTeX)."""

    kind: str
    key: str
    fields: dict

    @property
    def authors(self) -> list[str]:
        """Authors as "F. Last" (the field's "Last, First" names, BibTeX's ``and`` separated)."""
        out = []
        for name in re.split(r"\s+and\s+", self.fields.get("author", "")):
            last, _, first = (p.strip() for p in name.partition(","))
            initials = " ".join(w[0] + "." if w[0].isalpha() else w for w in first.split()) if first else ""
            out.append(f"{initials} {last}".strip() if initials else last)
        return out

    @property
    def venue(self) -> str:
        f = self.fields
        if self.kind == "book":
            return ", ".join(v for v in (f.get("publisher"), f.get("address")) if v)
        if self.kind == "inproceedings":
            return "In " + f.get("booktitle", "") + (", pages " + f["pages"] if "pages" in f else "")
        return f.get("howpublished", f.get("journal", ""))


def _value(text: str, i: int) -> tuple[str, int]:
    """A braced or quoted BibTeX value starting at ``text[i]``; returns (value, index after it)."""
    if text[i] in "{\"":
        close, depth, j = ("}" if text[i] == "{" else "\""), 0, i
        while True:
            ch = text[j]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if (close == "}" and depth == 0 and j > i) or (close == "\"" and ch == "\"" and j > i and depth == 0):
                return text[i + 1 : j], j + 1
            j += 1
    m = re.compile(r"[\w.-]+").match(text, i)
    return m.group(), m.end()


def parse_bibtex(text: str) -> dict[str, BibEntry]:
    """Entries of a BibTeX file (``@type{key, field = {value}, …}``; ``%`` comment lines skipped)."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("%"))
    entries = {}
    for m in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        kind, key, i, fields = m.group(1).lower(), m.group(2), m.end(), {}
        while True:
            f = re.compile(r"\s*(\w+)\s*=\s*").match(text, i)
            if not f:
                break
            value, i = _value(text, f.end())
            fields[f.group(1).lower()] = " ".join(value.split())
            i = re.compile(r"\s*,?").match(text, i).end()
        entries[key] = BibEntry(kind, key, fields)
    return entries


def cited_keys(tex: str) -> list[str]:
    """Keys of every ``\\cite{…}`` in ``tex``, in order of first citation."""
    keys: list[str] = []
    for group in re.findall(r"\\cite(?:\[[^\]]*\])?\{([^}]*)\}", tex):
        keys += [k.strip() for k in group.split(",") if k.strip() and k.strip() not in keys]
    return keys


def cited_entries(tex: str, known: dict[str, BibEntry]) -> list[BibEntry]:
    """The entries of ``known`` cited in ``tex``, in order (an unknown key is an error naming it)."""
    unknown = [k for k in cited_keys(tex) if k not in known]
    if unknown:
        raise ValueError(f"cited but not in references.bib: {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[k] for k in cited_keys(tex)]
