"""``symstride check --mapping FILE.json``: is a tap map a correct equivalence?

Reads a tap map in the JSON format of ``symstride derive --format json`` (possibly edited by
hand or written by another tool) and decides exactly whether it is correct for the layer it
states.  Exit status 0 when it is, 1 when it is not — naming the first wrong tap as an index
list, with a counterexample — and 2 for a malformed file (one line, no traceback).
"""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "check",
        help="decide whether a tap map (JSON) is a correct equivalence",
        description="Decide exactly whether a tap map in the format of `symstride derive --format json` is correct.",
    )
    p.add_argument("file", nargs="?", metavar="FILE.json", help="the tap map to check ('-' reads standard input)")
    p.add_argument("--mapping", metavar="FILE.json", help="the same, as an option (kept for compatibility)")
    return p


def _path(args: argparse.Namespace) -> str:
    from . import UsageError

    if args.file is not None and args.mapping is not None:
        raise UsageError("give the tap map once: either FILE.json or --mapping FILE.json")
    if args.file is None and args.mapping is None:
        raise UsageError("the tap map to check is missing: symstride check FILE.json ('-' reads standard input)")
    return args.file if args.file is not None else args.mapping


def run(args: argparse.Namespace) -> int:
    import sys

    from ..layer.mapping import check_mapping, load_mapping
    from ..layer.mapping_text import read_mapping

    path = _path(args)
    if path == "-":
        doc = read_mapping(sys.stdin.buffer.read(), "standard input")
    else:
        doc = load_mapping(path)
    report = check_mapping(doc)
    print(report)
    return 0 if report.correct else 1
