"""The derivations book: every chapter of ``derivations/`` checked, rendered and compiled.

Each module of the ``derivations`` folder (installed as ``symstride.derivations``) is one
chapter: it defines ``TITLE``, optionally ``INTRO`` (prose), and ``build()`` returning its
parts — :class:`~symstride.proof.derivation.Derivation`\\ s, or other objects with ``check()``,
``latex_block()`` and ``text_block()``.  The folder's ``CHAPTERS`` lists the modules in book
order.  :func:`write_book` renders every chapter to ``DIR/NAME.tex``, compiles ``DIR/NAME.pdf``
and one combined ``DIR/book.pdf``.
"""

from __future__ import annotations

from .core.errors import SymstrideError

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

from .core.results import Result
from .proof.derivation import Derivation

__all__ = ["Chapter", "chapters", "chapter", "contents", "write_book", "BookResult"]


def _package() -> ModuleType:
    """The ``derivations`` package: the source folder beside the package, or the installed one.

    A source checkout's own folder wins: an editable install of another checkout maps
    ``symstride.derivations`` to *its* folder, which would silently build the wrong book.
    """
    src = Path(__file__).resolve().parent.parent / "derivations"
    loaded = sys.modules.get("symstride.derivations")
    if loaded is not None and (not (src / "__init__.py").is_file() or Path(loaded.__file__).resolve().parent == src):
        return loaded
    if not (src / "__init__.py").is_file():
        try:
            return importlib.import_module("symstride.derivations")
        except ModuleNotFoundError:
            raise ModuleNotFoundError("the derivations folder is neither installed (symstride.derivations) nor beside the package") from None
    spec = importlib.util.spec_from_file_location("symstride.derivations", src / "__init__.py", submodule_search_locations=[str(src)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["symstride.derivations"] = module
    for name in [n for n in sys.modules if n.startswith("symstride.derivations.")]:  # chapters of another folder
        del sys.modules[name]
    spec.loader.exec_module(module)
    return module


@dataclass
class Chapter:
    """One chapter: a name (its file name), a title, an introduction and its checked parts."""

    name: str
    title: str
    intro: str
    parts: list[Any] = field(default_factory=list)

    @classmethod
    def from_module(cls, module: ModuleType) -> "Chapter":
        name = module.__name__.rsplit(".", 1)[-1]
        parts = module.build()
        return cls(name, module.TITLE, getattr(module, "INTRO", ""), list(parts) if isinstance(parts, (list, tuple)) else [parts])

    def check(self) -> list[tuple[Any, Any]]:
        """``(part, report)`` for every part (a report is truthy when the part checks)."""
        return [(part, part.check()) for part in self.parts]

    @property
    def ok(self) -> bool:
        return all(bool(report) for _, report in self.check())

    def _labelled(self) -> list[tuple[Any, str | None]]:
        """Every part with the label of its check details in the appendix (None: a part without them)."""
        return [(p, f"ev:{self.name}:{i}" if isinstance(p, Derivation) else None) for i, p in enumerate(self.parts, 1)]

    def body(self) -> str:
        """The chapter's LaTeX body (intro and parts, no document wrapper); each derivation's check
        paragraph refers to its details in :meth:`evidence`."""
        from .render.templates import render_template

        parts = [p.latex(evidence_label=label) if label else _part_latex(p) for p, label in self._labelled()]
        return render_template("chapter.tex", chapter=self, parts=parts)

    def evidence(self, heading: str = "subsection") -> list[str]:
        """The appendix sections (``heading``: ``"section"`` in the book) with each derivation's check details."""
        return [p.evidence_latex(label, heading=heading) for p, label in self._labelled() if label]

    def document(self) -> str:
        """The chapter as a standalone LaTeX document, the check details in its appendix."""
        from .render.templates import render_template

        return render_template("document.tex", title=self.title, body=self.body(), appendix=self.evidence())

    def text(self) -> str:
        out = [self.title, "=" * len(self.title)]
        if self.intro:
            out += ["", self.intro]
        for part in self.parts:
            out += ["", part.text() if hasattr(part, "text") else part.text_block()]
        return "\n".join(out)


def _part_latex(part: Any) -> str:
    return part.latex() if hasattr(part, "latex") else part.latex_block()


def chapters(names: Sequence[str] | None = None) -> list[Chapter]:
    """The book's chapters in order (or the named ones; an unknown name lists the valid ones)."""
    package = _package()
    known = list(package.CHAPTERS)
    wanted = list(names) if names else known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SymstrideError(f"no chapter named {', '.join(map(repr, unknown))}; the chapters are: {', '.join(known)}")
    return [Chapter.from_module(importlib.import_module(f"{package.__name__}.{n}")) for n in wanted]


def contents() -> list[tuple[str, str]]:
    """``(name, title)`` of every chapter in book order, without building (or checking) any."""
    package = _package()
    return [(n, importlib.import_module(f"{package.__name__}.{n}").TITLE) for n in package.CHAPTERS]


def chapter(name: str) -> Chapter:
    """One chapter by name."""
    return chapters([name])[0]


@dataclass(repr=False)
class BookResult(Result):
    """What :func:`write_book` wrote, and which chapters failed their checks (report protocol)."""

    files: list[Path]
    failed: list[str]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failure(self) -> str | None:
        return f"checks failed in: {', '.join(self.failed)}" if self.failed else None

    def json_fields(self) -> dict[str, Any]:
        return {"files": [str(f) for f in self.files], "failed": list(self.failed)}

    def __str__(self) -> str:
        verdict = "every chapter checks" if self.ok else f"checks failed in {', '.join(self.failed)}"
        return "\n".join([f"book: {len(self.files)} files written, {verdict}", *(f"  {f}" for f in self.files)])


def write_book(
    directory: str | Path, names: Sequence[str] | None = None, *, pdf: bool = True, progress: Callable[[str], None] | None = None
) -> BookResult:
    """Render every chapter to ``DIR/NAME.tex`` (and ``.pdf``), and the whole book to ``DIR/book.*``.

    The chapter names are resolved (an unknown one refused) before ``DIR`` is created.
    ``progress``, if given, is told ``"[i/n] NAME"`` as each chapter starts and ``"[n/n] book"``
    for the combined book (the CLI prints it on a terminal).
    """
    from .render.pdf import compile_pdf, pdflatex
    from .render.templates import render_template

    selected = chapters(names)  # before anything is created: an unknown name leaves no trace
    if pdf:
        pdflatex()  # fail early, with the clear message, when pdflatex is missing
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    failed: list[str] = []
    bodies = []
    total = len(selected) + 1
    for i, ch in enumerate(selected, 1):
        if progress is not None:
            progress(f"[{i}/{total}] {ch.name}: {ch.title}")
        if not ch.ok:
            failed.append(ch.name)
        body = ch.body()
        bodies.append((ch, body))
        tex = out / f"{ch.name}.tex"
        tex.write_text(render_template("document.tex", title=ch.title, body=body, appendix=ch.evidence()), encoding="utf-8")
        written.append(tex)
        if pdf:
            written.append(compile_pdf(tex.read_text(encoding="utf-8"), out / f"{ch.name}.pdf"))
    if progress is not None:
        progress(f"[{total}/{total}] book: all chapters")
    book = out / "book.tex"
    book.write_text(render_template("book.tex", chapters=bodies, appendix=[s for ch in selected for s in ch.evidence("section")]), encoding="utf-8")
    written.append(book)
    if pdf:
        written.append(compile_pdf(book.read_text(encoding="utf-8"), out / "book.pdf"))
    return BookResult(written, failed)
