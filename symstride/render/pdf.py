"""Compiling LaTeX to PDF with ``pdflatex`` (when it is installed).

:func:`compile_pdf` runs ``pdflatex -halt-on-error`` in a temporary directory and copies the
PDF out.  A failure raises :class:`LatexError` whose message is the first LaTeX error line and
the input line it points at — not the whole log.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

from ..core.errors import SymstrideError

__all__ = ["LatexError", "PdflatexMissing", "Compiled", "compile_pdf", "compile_document", "first_error", "pdflatex", "latex_environment"]

#: Variables pdflatex may see besides ``TEX*``/``TEXMF*`` ones: nothing else of the caller's environment.
_KEPT = ("PATH", "HOME")


class LatexError(SymstrideError):
    """pdflatex rejected a document; the message is its first error."""


class PdflatexMissing(SymstrideError):
    """pdflatex is not on PATH."""


def pdflatex() -> str:
    """The path of ``pdflatex``, or a :class:`PdflatexMissing` error saying how to get it."""
    found = shutil.which("pdflatex")
    if found is None:
        raise PdflatexMissing(
            "pdflatex is not on PATH, so no PDF can be made; install TeX Live (e.g. apt-get install "
            "texlive-latex-base texlive-latex-extra texlive-pictures) or write a .tex file instead"
        )
    return found


def latex_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The minimal environment pdflatex runs with: ``PATH``, ``HOME`` and the TeX variables
    (``TEXINPUTS``, ``TEXMFHOME``, ``TEXMF…``, ``openout_any``…), nothing else (no secrets, no
    ``LD_PRELOAD``).

    >>> sorted(latex_environment({"PATH": "/bin", "HOME": "/h", "TEXMFHOME": "/t", "AWS_SECRET": "x", "LD_PRELOAD": "y"}))
    ['HOME', 'PATH', 'TEXMFHOME']
    """
    import os

    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if k in _KEPT or k.startswith(("TEX", "texmf", "openout_", "openin_"))}


def first_error(log: str) -> str:
    """The first ``! …`` error of a pdflatex log, with the ``l.<n>`` line that follows it."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            where = next((l.strip() for l in lines[i + 1 : i + 12] if l.startswith("l.")), "")
            return line[1:].strip() + (f" (at {where})" if where else "")
    tail = [l for l in lines if l.strip()][-1:] or ["pdflatex failed without an error line"]
    return tail[0]


class Compiled(NamedTuple):
    """A compiled document: the PDF written and the log of the last pdflatex pass."""

    pdf: Path
    log: str


def compile_pdf(tex: str, output: str | Path, *, runs: int = 4, timeout: float = 120) -> Path:
    """Compile the document ``tex`` to the PDF file ``output``; return its path.

    pdflatex is rerun (at most ``runs`` passes in all) while its log asks for it, so that
    cross-references and a table of contents resolve.
    """
    return compile_document(tex, output, runs=runs, timeout=timeout).pdf


def compile_document(tex: str, output: str | Path, *, runs: int = 4, timeout: float = 120) -> Compiled:
    """As :func:`compile_pdf`, also returning the final log (for :mod:`symstride.render.latex_log`)."""
    exe = pdflatex()
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="symstride-") as tmp:
        src = Path(tmp) / "document.tex"
        src.write_text(tex, encoding="utf-8")
        for _ in range(max(1, runs)):
            try:
                proc = subprocess.run(
                    [exe, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape", src.name],
                    cwd=tmp, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, env=latex_environment(),
                )
            except subprocess.TimeoutExpired:
                raise LatexError(f"pdflatex did not finish within {timeout:g} s") from None
            log_file = Path(tmp) / "document.log"
            if proc.returncode != 0 or not log_file.exists() or not _asks_rerun(log_file.read_text(errors="replace")):
                break
        log_path = Path(tmp) / "document.log"
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else proc.stdout.decode(errors="replace")
        pdf = Path(tmp) / "document.pdf"
        if proc.returncode != 0 or not pdf.exists():
            raise LatexError(f"pdflatex failed: {first_error(log)}")
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, output)
    return Compiled(output, log)


def _asks_rerun(log: str) -> bool:
    """Whether the log says labels, citations or outlines changed (another pass resolves them)."""
    return "Rerun to get" in log or "Label(s) may have changed" in log or "undefined references" in log
