"""The LaTeX document of a network's equivalence: plain data in, ``templates/network.tex`` out.

All LaTeX lives in the template; this module only gathers numbers and flags from a
:class:`~symstride.network.summary.Summary` (the per-layer multi-rate maps, boundaries, the
sharing table, the exact check) and picks the layer whose tied filters the TikZ figure draws.

>>> from .strided import Network
>>> from .summary import summarize
>>> net = Network.from_spec({"input": {"channels": 1, "size": [8]},
...     "layers": [{"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 1},
...                {"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 1}]})
>>> fig = figure_data(summarize(net).equivalent)
>>> fig["path"], [[(g["phase"], g["cells"]) for g in row["groups"]] for row in fig["rows"]]
('0', [[([0], [None, 1]), ([1], [None, 2]), ([3], [0, None])], [([1], [None, 0]), ([2], [None, 1]), ([3], [None, 2])]])
"""

from __future__ import annotations

from math import prod

import numpy as np

from ..core.indexing import phase_vector
from ..render.templates import render_template
from .phase_ops import PhaseActivation, PhaseBatchNorm, PhaseResidual, TiedConv

__all__ = ["network_body", "network_document", "document_context", "figure_data"]

#: Largest tied bank (filters × cells per filter) the figure draws in full.
FIGURE_ROWS, FIGURE_COLS = 16, 40


def _tuple(values) -> list[int]:
    return [int(v) for v in values]


def figure_data(eq) -> dict | None:
    """Which taps of ``w[0, 0, ·]`` each tied filter of one convolution holds.

    One row per output phase ``q`` (at most :data:`FIGURE_ROWS`), listing only the input-phase
    blocks ``r`` that hold a tap (``cells``: the tap's flat index per offset ``j``, None for a
    structural zero); the blocks left out are structural zeros throughout.  The layer drawn is
    the first convolution with sharing (``R^d > 1``) that fits, else the first convolution.
    """
    convs = [op for op in eq.windowed if isinstance(op, TiedConv) and op.source == "conv"]
    if not convs:
        return None

    def width(op):  # at most Π k live blocks of Π k' cells per row
        return min(op.inputs.count, prod(op.weight_shape[2:])) * prod(m.kernel_eq for m in op.axes)

    fits = [op for op in convs if 1 < op.output.count <= FIGURE_ROWS and width(op) <= FIGURE_COLS]
    op = fits[0] if fits else convs[0]
    n_r = op.output.count
    kernel = op.weight_shape[2:]
    taps_per_pair = prod(kernel)
    block = op.weight_index_rows(slice(0, min(n_r, FIGURE_ROWS)))  # output channel 0, its phases
    rows = []
    for q in range(block.shape[0]):
        groups = []
        for r in range(op.inputs.count):  # input channel 0, phase r
            cells = block[q, r].reshape(-1)
            if (cells >= 0).any():
                groups.append({"phase": _tuple(phase_vector(r, op.inputs.phases)),
                               "cells": [int(v) % taps_per_pair if v >= 0 else None for v in cells]})
        rows.append({"phase": _tuple(phase_vector(q, op.output.phases)), "groups": groups})
    taps = [{"index": i, "tap": _tuple(np.unravel_index(i, kernel)), "hue": round(360 * i / taps_per_pair)}
            for i in range(taps_per_pair)]
    return {"path": op.path, "rows": rows, "taps": taps, "block": prod(m.kernel_eq for m in op.axes),
            "truncated": n_r > FIGURE_ROWS, "filters": n_r, "phases": op.inputs.count}


def _op_data(op) -> dict:
    d = {"path": op.path}
    if isinstance(op, PhaseActivation):
        return {**d, "kind": op.name, "pointwise": True, "phases": _tuple(op.basis.phases)}
    if isinstance(op, PhaseBatchNorm):
        return {**d, "kind": "batchnorm", "pointwise": True, "phases": _tuple(op.basis.phases)}
    if isinstance(op, PhaseResidual):
        return {**d, "kind": "residual", "pointwise": False, "windowed": False, "phases": _tuple(op.output.phases)}
    b = op.boundary
    spec_axes = op.axes
    return {
        **d, "kind": b.kind, "pointwise": False, "windowed": True,
        "kernel": [m.kernel for m in spec_axes], "stride": [m.stride for m in spec_axes],
        "dilation": [m.dilation for m in spec_axes], "pad_left": [m.pad_left for m in spec_axes],
        "R": _tuple(op.output.phases), "B": _tuple(op.inputs.phases), "e": [m.pad_phase for m in spec_axes],
        "k_eq": [m.kernel_eq for m in spec_axes], "in_size": _tuple(op.inputs.size), "A_in": _tuple(op.inputs.length),
        "out_size": _tuple(op.output.size), "A_out": _tuple(op.output.length),
        "in_channels": op.inputs.channels, "out_channels": op.output.channels,
        "filters_eq": op.output.channels * op.output.count, "channels_eq": op.inputs.channels * op.inputs.count,
        "groups": getattr(op, "groups", op.inputs.channels), "sharing": op.output.count,
        "mask": b.needed, "pads_right": b.pads_right, "divisible": b.divisible, "reads_overhang": any(b.reads_overhang),
        "overhang_is_fill": b.overhang_is_fill, "fill_inf": b.fill < 0,
        "divisor": getattr(op, "divisor", None) is not None,
    }


def _in_order(ops):
    """Operations in the order they compute: a residual block after its body and shortcut."""
    for op in ops:
        if isinstance(op, PhaseResidual):
            yield from _in_order(op.body)
            yield from _in_order(op.shortcut)
        yield op


def document_context(summary) -> dict:
    """The template's variables (numbers, flags, lists; no LaTeX)."""
    net, eq = summary.network, summary.equivalent
    spec = net.spec
    return {
        "ndim": spec.ndim,
        "input": {"channels": spec.input.channels, "size": _tuple(spec.input.size)},
        "output": {"channels": spec.output.channels, "size": _tuple(spec.output.size)},
        "S": _tuple(net.total_stride),
        "prepad": {"layer": eq.input.serves, "mode": eq.input.padding_mode} if eq.input.serves else None,
        "A0": _tuple(eq.input.basis.length),
        "ops": [_op_data(op) for op in _in_order(eq.ops)],
        "sharing": summary.sharing.as_dict(),
        "condition_holds": summary.condition_holds,
        "violated": [b.path for b in summary.boundaries if b.pads_right and not b.divisible],
        "masks": [b.path for b in summary.masks],
        "exact": summary.verification.exact,
        "minimal": summary.verification.minimal,
        "checks": [{"path": c.path, "kind": c.kind, "rule": c.rule, "exact": c.exact} for c in summary.verification.checks],
        "max_abs_error": None if summary.max_abs_error is None else f"{summary.max_abs_error:.2e}",
        "seed": summary.seed,
        "figure": figure_data(eq),
    }


def network_body(summary) -> str:
    """The derivation of the network's equivalence without the document wrapper (for the book)."""
    return render_template("network_body.tex", **document_context(summary))


def network_document(summary) -> str:
    """A standalone LaTeX document deriving the network's equivalence (``pdflatex`` compiles it)."""
    return render_template("network.tex", **document_context(summary))
