"""``symstride book -o DIR``: check, render and compile every derivation of the book.

Writes ``DIR/NAME.tex`` and ``DIR/NAME.pdf`` for each chapter of ``derivations/`` and the
combined ``DIR/book.tex`` / ``DIR/book.pdf``.  On a terminal, each chapter is announced on
stderr as it starts (``[3/9] NAME: TITLE``); piped or redirected, the command is quiet.  Exit status 0 when every chapter checks, 1 when
some check fails (the documents are still written, and say which step failed), 2 for bad input
or when pdflatex is missing or fails.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser", "run", "progress_printer"]


def progress_printer(stream) -> Any:
    """A progress callback writing one line per step to ``stream`` when it is a terminal, else None.

    >>> import io
    >>> progress_printer(io.StringIO()) is None
    True
    """
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return None

    def report(message: str) -> None:
        print(f"symstride book: {message}", file=stream, flush=True)

    return report


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "book",
        help="check, render and compile the derivations book",
        description="Check every derivation of the book, write DIR/NAME.tex and DIR/NAME.pdf, and the combined DIR/book.pdf.",
    )
    p.add_argument("-o", "--output", metavar="DIR", help="directory to write into (created if needed)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these chapters (default: all)")
    p.add_argument("--list", action="store_true", help="list the chapters, one per line, and exit")
    p.add_argument("--no-pdf", action="store_true", help="write the .tex files only (no pdflatex)")
    return p


def run(args: argparse.Namespace) -> int:
    from ..book import contents, write_book
    from . import UsageError

    if args.list:
        for name, title in contents():
            print(f"{name}\t{title}")
        return 0
    if not args.output:
        raise UsageError("the book needs an output directory: -o DIR")
    result = write_book(args.output, args.only, pdf=not args.no_pdf, progress=progress_printer(sys.stderr))
    for path in result.files:
        print(path)
    if result.failed:
        print(f"symstride book: checks failed in: {', '.join(result.failed)}", file=sys.stderr)
        return 1
    return 0
