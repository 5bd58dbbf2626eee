"""``symstride prove NAME``: prove an identity for symbolic parameters, step by step.

Every step is checked three ways (side conditions by SymPy or exhaustively, every line exactly
on a grid of small parameter values, every line in float64 against the NumPy reference).  Exit
status 0 only when every step checks, 1 when a step fails, 2 for bad input.  ``--list`` prints
the proofs, one per line, name first.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]

FORMATS = ("text", "latex")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "prove",
        help="prove an identity for symbolic stride, kernel, dilation and padding",
        description="Prove an identity for symbolic parameters; every step is checked. --list shows the proofs.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="the proof (see --list)")
    p.add_argument("--list", action="store_true", help="list the proofs, one per line, name first")
    p.add_argument("--format", choices=FORMATS, default="text", help="text (default) or latex (a standalone document)")
    p.add_argument("--fragment", action="store_true", help="with --format latex: only the body")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (FILE.pdf compiles the LaTeX with pdflatex)")
    return p


def run(args: argparse.Namespace) -> int:
    from ..proof.proofs import PROOFS, prove
    from . import UsageError
    from ._args import check_document_output, write_document

    if args.list:
        for name, (summary, _) in PROOFS.items():
            print(f"{name}\t{summary}")
        return 0
    if not args.name:
        raise UsageError(f"name a proof: {', '.join(PROOFS)} (or --list)")
    check_document_output(args)
    proof = prove(args.name)
    if args.format == "text":
        text = proof.text() + "\n"
    else:
        text = proof.latex() if args.fragment else proof.document()
    write_document(text, args.output)
    if not proof.ok:
        print(f"symstride prove: {proof.failure}", file=sys.stderr)
        return 1
    return 0
