"""``symstride derive``: the unit-stride equivalent of one strided layer.

K, S, D, P take an int or a comma-separated list per axis (the number of axes is the longest
list; ints broadcast); padding also takes ``left:right`` pairs.  With ``--transposed`` the layer
is a transposed convolution (``--output-padding OP`` as in PyTorch) and the equivalent is a
unit-stride convolution producing its output phases, then depth-to-space.  Output formats are
the writers in :data:`FORMATS`; each works for both kinds of equivalence.
"""

from __future__ import annotations

from ..core.errors import SymstrideError

import argparse
from typing import Any, Callable

from .. import export
from ..layer.equivalence import Equivalence
from ..layer.destride import destride
from ..core.indexing import LAYOUTS, input_size
from ..algebra.operators import Conv
from ..render.json_text import json_text
from ..algebra.conv_transpose import ConvTranspose
from . import UsageError
from ._args import axis_ints, axis_params, check_document_output, padding_params, write_document

__all__ = ["FORMATS", "add_parser", "run"]


def _text(eq: Equivalence, args: argparse.Namespace) -> str:
    return str(eq) + "\n"


def _json(eq: Equivalence, args: argparse.Namespace) -> Any:
    from ..layer.tap_json import equivalence_json_pieces

    if getattr(eq.spec, "symbols", ()):  # symbolic parameters: no tap list to stream, the layer's own document
        return json_text(eq.to_json())
    return equivalence_json_pieces(eq)  # streamed: a 9·10^6-tap map is never one string


def _latex(eq: Equivalence, args: argparse.Namespace) -> str:
    """The checked derivation: a standalone document, or with ``--fragment`` just its body."""
    if args.transposed:  # statement, index computation, filter bank and exact checks
        return eq.latex(args.size) if args.fragment else eq.document(args.size)
    derivation = eq.derivation
    return derivation.latex() if args.fragment else derivation.document()


def _npz(eq: Equivalence, args: argparse.Namespace) -> bytes:
    if not args.output:
        raise SymstrideError("--format npz writes a binary file: give -o FILE.npz")
    return export.npz_bytes(eq, args.size)


#: Output formats: name → writer(equivalence, args) returning the text (or bytes) to write.
FORMATS: dict[str, Callable[[Equivalence, argparse.Namespace], str | bytes]] = {
    "text": _text,
    "json": _json,
    "python": lambda eq, args: export.python_module(
        eq, channels_fixed=args.groups != 1 or args.in_channels is not None or args.out_channels is not None
    ),
    "npz": _npz,
    "formula": lambda eq, args: export.formula_text(eq),
    "latex": _latex,
}


def _or_one(channels: int | None) -> int:
    """A channel count, 1 when not given (the derivation does not depend on it)."""
    return 1 if channels is None else channels


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "derive",
        help="derive the unit-stride equivalent of a strided (or transposed) convolution",
        description=(
            "Derive the unit-stride equivalent of a strided convolution (Theorem 2), or with --transposed "
            "of a transposed convolution: a unit-stride convolution producing the output phases, then depth-to-space."
        ),
    )
    p.add_argument("--kernel", type=axis_params, default=(3,), metavar="K",
                   help="kernel size, int or per-axis list (default 3); a name such as k makes it a symbol")
    p.add_argument("--stride", type=axis_params, default=(2,), metavar="S", help="stride (default 2; or a name such as s)")
    p.add_argument("--dilation", type=axis_params, default=(1,), metavar="D", help="dilation (default 1; or a name such as delta)")
    p.add_argument("--padding", type=padding_params, default=(0,), metavar="P",
                   help="padding: int, per-axis list, or left:right pairs (default 0; or a name such as p)")
    p.add_argument("--in-channels", type=int, default=None, metavar="C",
                   help="input channels (default 1; without it the python export takes any channel count)")
    p.add_argument("--out-channels", type=int, default=None, metavar="C",
                   help="output channels (default 1; without it the python export takes any channel count)")
    p.add_argument("--groups", type=int, default=1, metavar="G", help="channel groups (default 1)")
    p.add_argument("--transposed", action="store_true", help="the layer is a transposed convolution (PyTorch ConvTranspose)")
    p.add_argument("--output-padding", type=axis_ints, default=None, metavar="OP",
                   help="output padding of a transposed layer, int or per-axis list (default 0; needs --transposed)")
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="pytorch", help="phase-channel order (default pytorch)")
    p.add_argument("--size", type=axis_ints, default=None, metavar="N", help="input spatial size; --format npz then records the prepared length")
    p.add_argument("--format", choices=list(FORMATS), default="text", help="output format (default text)")
    p.add_argument("--fragment", action="store_true", help="with --format latex: only the body, for pasting into a paper")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output (FILE.pdf compiles the LaTeX with pdflatex)")
    return p


def build(args: argparse.Namespace) -> Equivalence:
    """The equivalence the arguments describe (validation is the library's)."""
    if args.transposed:
        layer = ConvTranspose(
            kernel=args.kernel, stride=args.stride, padding=args.padding,
            output_padding=(0,) if args.output_padding is None else args.output_padding, dilation=args.dilation,
            in_channels=_or_one(args.in_channels), out_channels=_or_one(args.out_channels), groups=args.groups,
        )
        return destride(layer, layout=args.layout)
    if args.output_padding is not None:
        raise UsageError("--output-padding applies only to a transposed layer; add --transposed")
    layer = Conv(
        **symbolic_parameters(args),
        in_channels=_or_one(args.in_channels), out_channels=_or_one(args.out_channels), groups=args.groups,
    )
    return destride(layer, layout=args.layout)


def symbolic_parameters(args: argparse.Namespace) -> dict:
    """kernel, stride, dilation and padding with each name made a SymPy integer symbol (never evaluated).

    A symbol is positive when it stands for a kernel, stride or dilation, else (padding only)
    nonnegative; one name is one symbol wherever it appears.
    """
    import sympy as sp

    values = {"kernel": args.kernel, "stride": args.stride, "dilation": args.dilation, "padding": args.padding}
    flat = lambda v: [x for item in v for x in (item if isinstance(item, tuple) else (item,))]  # noqa: E731
    positive = {x for name in ("kernel", "stride", "dilation") for x in flat(values[name]) if isinstance(x, str)}
    names = positive | {x for x in flat(values["padding"]) if isinstance(x, str)}
    if not names:
        return values
    if args.transposed:
        raise UsageError(f"symbolic parameters ({', '.join(sorted(names))}) are for strided layers, not --transposed")
    symbols = {n: sp.Symbol(n, integer=True, **({"positive": True} if n in positive else {"nonnegative": True})) for n in names}
    sym = lambda x: symbols[x] if isinstance(x, str) else x  # noqa: E731
    return {key: tuple(tuple(map(sym, item)) if isinstance(item, tuple) else sym(item) for item in v) for key, v in values.items()}


def run(args: argparse.Namespace) -> int:
    check_document_output(args)
    if args.transposed:
        symbolic_parameters(args)  # refuses names for a transposed layer in one line
    eq = build(args)
    symbols = getattr(eq.spec, "symbols", ())
    if args.size is not None and symbols:
        raise UsageError(f"--size needs concrete parameters: the layer has symbols {', '.join(map(str, symbols))}; give numbers for them")
    if args.size is not None:  # validated whatever the format, so that a bad size is never silently ignored
        input_size(eq.spec, args.size)
    write_document(FORMATS[args.format](eq, args), args.output)
    return 0
