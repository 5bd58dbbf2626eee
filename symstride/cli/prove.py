"""``symstride prove NAME``: prove an identity for symbolic parameters, step by step.

Every step is proved for all values (an instance of its rule, every obligation discharged by
z3, every cited lemma proved) and checked as evidence on a grid of small parameter values
(exactly) and in float64 against the NumPy reference.  Exit status 0 only when the proof is
proved, 1 when a step fails or is not proved, 2 for bad input.  ``--list`` prints the proofs,
one per line: name, ``proved`` or ``NOT proved`` (decided now, symbolically), summary.
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
    p.add_argument("--ndim", type=int, metavar="D", help="number of axes of polyphase / transposed (default 2; D ≥ 2 is the product of the 1-D theorem)")
    p.add_argument("--format", choices=FORMATS, default="text", help="text (default) or latex (a standalone document)")
    p.add_argument("--fragment", action="store_true", help="with --format latex: only the body")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (FILE.pdf compiles the LaTeX with pdflatex)")
    return p


def run(args: argparse.Namespace) -> int:
    from ..proof.proofs import PROOFS, prove
    from . import UsageError
    from ._args import check_document_output, write_document

    if args.list:
        from ..proof.proofs import proof_status

        for name, (summary, _) in PROOFS.items():
            proved, why = proof_status(name)
            print(f"{name}\t{'proved' if proved else 'NOT proved'}\t{summary}" + ("" if proved else f" — {why}"))
        return 0
    if not args.name:
        raise UsageError(f"name a proof: {', '.join(PROOFS)} (or --list)")
    check_document_output(args)
    proof = prove(args.name, ndim=args.ndim)
    if args.format == "text":
        text = proof.text() + "\n"
    else:
        text = proof.latex() if args.fragment else proof.document()
    write_document(text, args.output)
    if not proof.ok:
        print(f"symstride prove: {proof.failure}", file=sys.stderr)
        return 1
    if not proof.proved:
        print(f"symstride prove: checked but NOT proved: {proof.unproved}", file=sys.stderr)
        return 1
    return 0
