"""``symstride onnx IN.onnx -o OUT.onnx``: rewrite an ONNX model with no strided Conv, ConvTranspose or pooling.

Prints which nodes were rewritten; ``--check`` also runs both models in onnxruntime (CPU, one
thread) on seeded random input and reports max |Δ| per output.  Exit status 0, 1 when the check
finds a difference above its tolerance, 2 on bad input or a node that cannot be rewritten (one
line naming the node and the reason).  Needs the ``[onnx]`` extra; onnx is imported only when
this command runs.
"""

from __future__ import annotations

from ..core.errors import SymstrideError

import argparse
import json
import sys
from collections import Counter

from ._args import seed_arg

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "onnx",
        help="rewrite an ONNX model so that no Conv, ConvTranspose, MaxPool or AveragePool strides",
        description="Rewrite every strided Conv, ConvTranspose, MaxPool and AveragePool of an ONNX model into unit-stride "
                    "operators on space-to-depth phases (weights rearranged exactly, empty phases dropped).",
    )
    p.add_argument("model", metavar="IN.onnx", help="the ONNX model to rewrite")
    p.add_argument("-o", "--output", metavar="OUT.onnx", required=True, help="where to write the rewritten model")
    p.add_argument("--layout", choices=("dcr", "crd"), default="dcr",
                   help="phase channel order: dcr (ONNX SpaceToDepth/DepthToSpace DCR, default) or crd (PyTorch pixel_unshuffle)")
    p.add_argument("--check", action="store_true", help="run both models in onnxruntime on random input and compare")
    p.add_argument("--network", action="store_true", help="apply Theorem 3 first: one space-to-depth at the input of the "
                                                          "trunk the torch bridge's network mode would convert, tied filters after")
    p.add_argument("--seed", type=seed_arg, default=0, help="seed of the random input of --check (default 0)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="report format (default text)")
    return p


def run(args: argparse.Namespace) -> int:
    try:
        from ..onnx import check_onnx, destride_onnx, load_model, save_model, strided_nodes
    except ImportError as exc:
        raise SymstrideError(f"symstride onnx needs the onnx extra (pip install 'symstride[onnx]'): {exc}") from None
    model = load_model(args.model)

    before = strided_nodes(model)
    flat = destride_onnx(model, layout=args.layout, network=args.network)
    save_model(flat, args.output)
    counts = Counter(n.op_type for n in before)
    doc = {"output": args.output, "layout": args.layout, "network": args.network,
           "rewritten": [{"name": n.name, "op_type": n.op_type} for n in before], "remaining_strided": len(strided_nodes(flat))}
    check = check_onnx(model, flat, seed=args.seed) if args.check else None
    if check is not None:
        doc["check"] = check.to_json()
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        kinds = ", ".join(f"{k} × {v}" for k, v in sorted(counts.items())) or "none"
        print(f"rewrote {len(before)} strided node(s) ({kinds}) with layout {args.layout}; wrote {args.output}")
        if check is not None:
            print(str(check))
    if check is not None and not check.ok:
        print(f"symstride onnx: check failed: {check.failure}", file=sys.stderr)
        return 1
    return 0
