"""Argument types and output helpers shared by the subcommands.

>>> axis_ints("3,2")
(3, 2)
>>> padding_arg("0:1,2")
((0, 1), 2)
>>> axis_params("k,3")
('k', 3)
>>> axis_params("2*k")
Traceback (most recent call last):
    ...
argparse.ArgumentTypeError: value must be an integer or a comma-separated list of integers, got '2*k' (a symbol is a name [A-Za-z][A-Za-z0-9_]* such as k or delta)
"""

from __future__ import annotations

from ..core.errors import SymstrideError

import argparse
import re
import sys
from typing import Any

__all__ = ["axis_ints", "axis_params", "padding_params", "padding_arg", "seed_arg", "write_output", "write_document", "check_document_output"]


def _int(text: str, what: str) -> int:
    text = text.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()):  # no '٣', '３' (Unicode digits) or '1_0' (int() takes them)
        raise argparse.ArgumentTypeError(f"{what} must be an integer or a comma-separated list of integers, got {text!r}")
    return int(text)


def seed_arg(text: str) -> int:
    """``--seed``: a non-negative integer (NumPy's random generators take no negative seeds)."""
    value = _int(text, "seed")
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer, got {value}")
    return value


def axis_ints(text: str) -> tuple[int, ...]:
    """``"3"`` or ``"3,2"``: one integer per spatial axis (validation of ranges is the library's)."""
    return tuple(_int(part, "value") for part in text.split(","))


#: A layer parameter on the command line: a decimal integer (ASCII digits) or a symbol's name.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _param(text: str, what: str) -> int | str:
    """An int, or an identifier naming a symbol (never evaluated: only these two shapes are accepted)."""
    text = text.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NAME.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{what} must be an integer or a comma-separated list of integers, got {text!r} "
        "(a symbol is a name [A-Za-z][A-Za-z0-9_]* such as k or delta)"
    )


def axis_params(text: str) -> tuple[int | str, ...]:
    """``"3"``, ``"k"`` or ``"k,3"``: per axis an integer or a symbol's name (``derive --kernel``)."""
    return tuple(_param(part, "value") for part in text.split(","))


def padding_params(text: str) -> tuple:
    """Like :func:`padding_arg`, each value an integer or a symbol's name: ``"p"``, ``"0:p,1"``."""
    out: list[Any] = []
    for part in text.split(","):
        if ":" in part:
            left, _, right = part.partition(":")
            out.append((_param(left, "padding"), _param(right, "padding")))
        else:
            out.append(_param(part, "padding"))
    return tuple(out)


def padding_arg(text: str) -> tuple:
    """``"1"``, ``"1,2"`` or with asymmetric pairs ``"0:1,1"`` (left:right per axis)."""
    out = []
    for part in text.split(","):
        if ":" in part:
            left, _, right = part.partition(":")
            out.append((_int(left, "padding"), _int(right, "padding")))
        else:
            out.append(_int(part, "padding"))
    return tuple(out)


def write_output(text: str | bytes, path: str | None) -> None:
    """Write a subcommand's result to ``path`` (``-o FILE``), or to standard output when None.

    Bytes (a binary format such as npz) are written as they are and need a path; an iterable
    of strings (a streamed document) is written piece by piece.
    """
    if not isinstance(text, (str, bytes)):
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                fh.writelines(text)
        else:
            sys.stdout.writelines(text)
        return
    if isinstance(text, bytes):
        if not path:
            raise SymstrideError("a binary format needs an output file: give -o FILE")
        with open(path, "wb") as fh:
            fh.write(text)
    elif path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def check_document_output(args: Any) -> None:
    """``--fragment`` needs ``--format latex``; ``-o FILE.pdf`` needs a whole LaTeX document."""
    from . import UsageError

    if getattr(args, "fragment", False) and args.format != "latex":
        raise UsageError(f"--fragment applies to --format latex, not --format {args.format}")
    if args.output and args.output.lower().endswith(".pdf") and (args.format != "latex" or getattr(args, "fragment", False)):
        raise UsageError("-o FILE.pdf needs --format latex without --fragment (a PDF is a whole document)")


def write_document(text: str, path: str | None) -> None:
    """Like :func:`write_output`, but ``FILE.pdf`` compiles the (LaTeX) text with pdflatex."""
    if path and path.lower().endswith(".pdf"):
        from ..render.pdf import compile_pdf

        compile_pdf(text, path)
    else:
        write_output(text, path)
