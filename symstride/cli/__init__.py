"""The ``symstride`` command: a thin shell over the library.

Each subcommand lives in its own module of this package with two functions,
``add_parser(subparsers)`` and ``run(args) -> int``; :data:`COMMANDS` lists them in the order
``symstride --help`` shows them.  Bad input (``ValueError``/``TypeError`` from the library, or
an argument the parser rejects) prints one line on stderr and exits with status 2 — never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from ..core.errors import SymstrideError

__all__ = ["main", "COMMANDS", "UsageError"]

#: Subcommand modules, in help order.
COMMANDS = ("derive", "network", "decoder", "onnx", "book", "prove", "check")


class UsageError(ValueError):
    """Bad command-line input detected after parsing."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, status 2, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symstride",
        description="Derive, prove, check and export the equivalence between strided and unit-stride convolutions.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        sub_parser = module.add_parser(sub)
        sub_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symstride`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one-line error (or --help)
        return int(exc.code or 0)
    try:
        return int(args._run(args) or 0)
    except (ValueError, TypeError, SymstrideError, OSError) as exc:  # OSError: e.g. -o into a missing folder
        print(f"symstride {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `symstride derive | head`
        return 0
    except RecursionError:  # e.g. a JSON file of 100000 nested lists
        print(f"symstride {args.command}: error: the input is nested too deeply to read", file=sys.stderr)
        return 2
    except MemoryError as exc:  # a request too large for this machine: refuse in one line
        detail = f" ({exc})" if str(exc) else ""
        print(f"symstride {args.command}: error: out of memory: the request is too large{detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
