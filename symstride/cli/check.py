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
    p.add_argument("--mapping", required=True, metavar="FILE.json", help="the tap map to check ('-' reads standard input)")
    return p


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from ..layer.mapping import check_mapping, load_mapping

    if args.mapping == "-":
        try:
            doc = json.load(sys.stdin)
        except json.JSONDecodeError as exc:
            raise ValueError(f"standard input is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    else:
        doc = load_mapping(args.mapping)
    report = check_mapping(doc)
    print(report)
    return 0 if report.correct else 1
