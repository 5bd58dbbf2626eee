"""``symstride decoder SPEC.json``: a decoder (transposed convolutions and pointwise maps) run at
its input resolution, with one depth-to-space at the output.

Prints the stages, the boundary masks with their reasons and the exact per-stage check;
``--check`` also runs both networks on seeded random parameters and input (float64).  Exit
status 0, 1 when the construction is not exact (possible only with ``--masks never``), 2 on
bad input.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

import numpy as np

from ..decoder import MASK_POLICIES, DecoderEquivalent, destride_decoder, forward, random_parameters
from ..core.indexing import LAYOUTS
from ..render.json_text import json_text
from ._args import seed_arg, write_output

__all__ = ["FORMATS", "add_parser", "run"]


def _check(eq: DecoderEquivalent, args: argparse.Namespace) -> dict[str, Any]:
    reports = eq.verify()
    result: dict[str, Any] = {"exact": reports.exact, "reports": reports}
    if args.check:
        params = random_parameters(eq.spec, args.seed)
        x = np.random.default_rng(args.seed + 1).standard_normal((1, eq.spec.input.channels, *eq.spec.input.size))
        result["max_abs_error"] = float(np.abs(eq.forward(params, x) - forward(eq.spec, params, x)).max())
    return result


def _text(eq: DecoderEquivalent, result: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [repr(eq), "", f"exact check: {'exact' if result['exact'] else 'NOT exact'}"]
    lines += ["  " + line for r in result["reports"] for line in str(r).splitlines()]
    if "max_abs_error" in result:
        lines.append(f"float64 forward on seeded random parameters and input (seed {args.seed}): "
                     f"max |difference| = {result['max_abs_error']:.3g}")
    return "\n".join(lines) + "\n"


def _json(eq: DecoderEquivalent, result: dict[str, Any], args: argparse.Namespace) -> str:
    doc = eq.to_json()
    doc["exact"] = result["exact"]
    doc["checks"] = [{"identity": r.identity, "exact": r.exact, "first_difference": None if r.mismatch is None else str(r.mismatch)}
                     for r in result["reports"]]
    if "max_abs_error" in result:
        doc["max_abs_error"] = result["max_abs_error"]
    return json_text(doc)


#: Output formats: name → writer(equivalent, check result, args) returning the text to print.
FORMATS: dict[str, Callable[[DecoderEquivalent, dict, argparse.Namespace], str]] = {"text": _text, "json": _json}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "decoder",
        help="a decoder of transposed convolutions at its input resolution (one depth-to-space at the end)",
        description="Run a decoder (conv_transpose layers and pointwise maps, network spec format) as unit-stride "
                    "convolutions at its input resolution with one depth-to-space; masks, exact check.",
    )
    p.add_argument("spec", metavar="SPEC.json", help="decoder spec (JSON, the network format with conv_transpose layers)")
    p.add_argument("--masks", choices=MASK_POLICIES, default="auto", help="where to put boundary masks (default auto: where needed)")
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="pytorch", help="phase-channel order (default pytorch)")
    p.add_argument("--check", action="store_true", help="also run both networks on seeded random parameters and input")
    p.add_argument("--seed", type=seed_arg, default=0, help="seed of the random parameters and input (default 0)")
    p.add_argument("--format", choices=list(FORMATS), default="text", help="output format (default text)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    return p


def run(args: argparse.Namespace) -> int:
    eq = destride_decoder(args.spec, layout=args.layout, masks=args.masks)
    result = _check(eq, args)
    write_output(FORMATS[args.format](eq, result, args), args.output)
    return 0 if result["exact"] else 1
