"""``symstride network SPEC.json``: a strided network as a non-strided one with tied filters.

Prints the equivalent network's parameter sharing, its boundary masks and the exact check;
``--check`` also runs both networks on seeded random parameters and input (float64) and lists
every link of the exact check.  Formats are the writers in :data:`FORMATS`.  Exit status 0,
1 when ``--check`` finds the equivalence not exact, 2 on bad input.
"""

from __future__ import annotations

import argparse
from typing import Callable

from ..network.strided import Network
from ..network.summary import Summary, summarize
from ..render.json_text import json_text
from ._args import check_document_output, seed_arg, write_document

__all__ = ["FORMATS", "add_parser", "run"]


def _text(summary: Summary, args: argparse.Namespace) -> str:
    return summary.text(detailed=args.check)


def _json(summary: Summary, args: argparse.Namespace) -> str:
    return json_text(summary.as_dict())


def _latex(summary: Summary, args: argparse.Namespace) -> str:
    from ..network.latex import network_document

    return network_document(summary)


#: Output formats: name → writer(summary, args) returning the text to print.
FORMATS: dict[str, Callable[[Summary, argparse.Namespace], str]] = {"text": _text, "json": _json, "latex": _latex}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "network",
        help="a strided network as a non-strided one with tied filters (Theorem 3)",
        description="Destride a whole network given as a JSON spec: sharing, boundary masks, exact check (Theorem 3).",
    )
    p.add_argument("spec", metavar="SPEC.json", help="network spec (JSON)")
    p.add_argument("--check", action="store_true", help="also compare both networks on seeded random parameters and input")
    p.add_argument("--seed", type=seed_arg, default=0, help="seed of the random parameters and input (default 0)")
    p.add_argument("--format", choices=list(FORMATS), default="text", help="output format (default text)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output (FILE.pdf compiles the LaTeX with pdflatex)")
    return p


def run(args: argparse.Namespace) -> int:
    check_document_output(args)
    summary = summarize(Network.from_spec(args.spec), check=args.check, seed=args.seed)
    text = FORMATS[args.format](summary, args)
    write_document(text, args.output)
    return 1 if args.check and not summary.verification.exact else 0
