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

__all__ = ["main", "COMMANDS", "UsageError", "build_parser", "unknown_option_message"]

#: Subcommand modules, in help order.
COMMANDS = ("derive", "network", "decoder", "onnx", "book", "prove", "check")


class UsageError(SymstrideError):
    """Bad command-line input detected after parsing."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:  # no abbreviations: "--mappin" is a typo, named as one
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, status 2, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symstride",
        description="Derive, prove, check and export the equivalence between strided and unit-stride convolutions.",
    )
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("symstride")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree without installing
        release = "unknown (not installed)"
    parser.add_argument("--version", action="version", version=f"symstride {release}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    parser.subcommands = {}
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        sub_parser = module.add_parser(sub)
        sub_parser.set_defaults(_run=module.run)
        parser.subcommands[name] = sub_parser
    return parser


def unknown_option_message(parser: argparse.ArgumentParser, command: str, extra: Sequence[str]) -> str:
    """One line naming the subcommand, the first unknown argument and the nearest option of that subcommand.

    >>> unknown_option_message(build_parser(), "derive", ["--kernal", "3"])
    "symstride derive: error: unknown option '--kernal' (did you mean --kernel?); see symstride derive --help"
    """
    import difflib

    options = [o for action in parser.subcommands[command]._actions for o in action.option_strings]
    first = next((e for e in extra if e.startswith("-")), extra[0])
    if not first.startswith("-"):
        return f"symstride {command}: error: unexpected argument {first!r}; see symstride {command} --help"
    near = difflib.get_close_matches(first.split("=")[0], options, n=1, cutoff=0.6)
    hint = f" (did you mean {near[0]}?)" if near else ""
    return f"symstride {command}: error: unknown option {first!r}{hint}; see symstride {command} --help"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symstride`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # argparse has printed its one-line error (or --help)
        return int(exc.code or 0)
    if extra:
        print(unknown_option_message(parser, args.command, extra), file=sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except BrokenPipeError:  # e.g. `symstride derive | head` (before OSError, which it is)
        return 0
    except (SymstrideError, OSError) as exc:  # only deliberate refusals (any other exception is a bug); OSError: e.g. -o into a missing folder
        print(f"symstride {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:  # e.g. a JSON file of 100000 nested lists
        print(f"symstride {args.command}: error: the input is nested too deeply to read", file=sys.stderr)
        return 2
    except MemoryError as exc:  # a request too large for this machine: refuse in one line
        detail = f" ({exc})" if str(exc) else ""
        print(f"symstride {args.command}: error: out of memory: the request is too large{detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
