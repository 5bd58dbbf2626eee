"""Notation and conventions: the symbols every later chapter uses, defined once, with figures and tables.

Every number in this chapter's figures and tables is computed by symstride (the NumPy reference's
space-to-depth and depth-to-space, the equivalences' kernels and structural zeros, the network
module's parameter sharing, the output-size functions of ``symstride.core.indexing``); the chapter's
check recomputes the tables' structural zeros from the filter banks themselves.
"""

from __future__ import annotations

import numpy as np

from symstride import Conv, ConvTranspose, Network, destride
from symstride.core.indexing import output_shape, transposed_output_shape
from symstride.layer.filterbank import FilterBank
from symstride.network.summary import summarize
from symstride.reference import depth_to_space, space_to_depth
from symstride.render.templates import render_template

TITLE = "Notation and conventions"
INTRO = ""

#: The common layers of the table: (name, layer, input size of the example).
LAYERS = (
    ("ResNet stem", Conv(kernel=(7, 7), stride=2, padding=3), (224, 224)),
    ("ResNet downsampling", Conv(kernel=(3, 3), stride=2, padding=1), (56, 56)),
    ("1×1 shortcut", Conv(kernel=(1, 1), stride=2), (56, 56)),
    ("dilated", Conv(kernel=(3, 3), stride=2, dilation=2, padding=2), (56, 56)),
    ("DCGAN up-sampling", ConvTranspose(kernel=(4, 4), stride=2, padding=1), (32, 32)),
)

#: Colours of the phases in the figures (TikZ colour expressions), phase-major.
PHASE_COLOURS = ("blue!22", "orange!35", "green!25", "red!22")


class Check:
    """Truthy when every table row's structural zeros equal those counted in its filter bank."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.ok = not failures
        self.failure = failures[0] if failures else None

    def __bool__(self) -> bool:
        return self.ok


def _sharing(layer: Conv, size) -> dict:
    """The layer's row of the sharing table when one 1x1 stride-2 layer follows it (R = 2 per axis)."""
    spec = layer.spec
    net = Network.from_spec({"input": {"channels": 1, "size": list(size)}, "layers": [
        {"type": "conv", "out_channels": 1, "kernel": list(spec.kernel), "stride": list(spec.stride),
         "padding": [p[0] for p in spec.padding], "dilation": list(spec.dilation)},
        {"type": "conv", "out_channels": 1, "kernel": 1, "stride": 2}]})
    return summarize(net).sharing.as_dict()["layers"][0]


def layer_rows() -> list[dict]:
    """One row per common layer: parameters, k', phases, bank entries, structural zeros, sharing, sizes."""
    rows = []
    for name, layer, size in LAYERS:
        eq = destride(layer)
        spec = eq.spec
        transposed = isinstance(layer, ConvTranspose)
        entries = eq.phases * int(np.prod(eq.kernel))
        rows.append({
            "name": name, "transposed": transposed, "kernel": spec.kernel[0], "stride": spec.stride[0],
            "padding": spec.padding[0][0], "dilation": spec.dilation[0], "k_eq": eq.kernel[0], "phases": eq.phases,
            "entries": entries, "zeros": eq.structural_zeros, "weights": int(np.prod(spec.kernel)),
            "sharing": None if transposed else _sharing(layer, size)["sharing_factor"],
            "size": size[0], "out": (transposed_output_shape(spec, size) if transposed else output_shape(spec, size))[0],
        })
    return rows


def split_figure(size=(4, 4), stride=2) -> dict:
    """Space-to-depth of a ``size`` input by ``stride``: each input cell's phase, and the phase blocks."""
    flat = np.arange(int(np.prod(size))).reshape(1, 1, *size)
    z = space_to_depth(flat, stride)[0]  # (P, size/s...)
    phase_of = {int(v): p for p in range(z.shape[0]) for v in z[p].reshape(-1)}
    cells = [{"row": i, "col": j, "label": f"{i},{j}", "phase": phase_of[int(flat[0, 0, i, j])]}
             for i in range(size[0]) for j in range(size[1])]
    blocks = [{"phase": p, "r": divmod(p, stride), "cells": [
        {"row": a, "col": b, "label": "%d,%d" % divmod(int(z[p, a, b]), size[1])} for a in range(z.shape[1]) for b in range(z.shape[2])]}
        for p in range(z.shape[0])]
    for b in blocks:  # each phase's arrow joins the outer corners: it crosses no cell
        a = (b["r"][0] * (z.shape[1] - 1), b["r"][1] * (z.shape[2] - 1))
        b["arrow"] = {"source": f"x{stride * a[0] + b['r'][0]}x{stride * a[1] + b['r'][1]}", "target": f"z{b['phase']}x{a[0]}x{a[1]}",
                      "side": "north" if b["r"][0] == 0 else "south"}
    return {"size": size, "stride": stride, "cells": cells, "blocks": blocks, "colours": PHASE_COLOURS}


def interleave_figure(size=(2, 2), stride=2) -> dict:
    """Depth-to-space of ``P`` output phases of ``size`` each: where every phase sample lands."""
    phases = stride * stride
    z = np.arange(phases * int(np.prod(size))).reshape(1, phases, *size)
    y = depth_to_space(z, stride)[0, 0]
    where = {int(v): (i, j) for i in range(y.shape[0]) for j in range(y.shape[1]) for v in [y[i, j]]}
    blocks = [{"phase": p, "r": divmod(p, stride), "cells": [
        {"row": a, "col": b, "label": f"{a},{b}", "lands": where[int(z[0, p, a, b])]} for a in range(size[0]) for b in range(size[1])]}
        for p in range(phases)]
    cells = [{"row": i, "col": j, "phase": int(y[i, j]) // int(np.prod(size)), "label": f"{i},{j}"}
             for i in range(y.shape[0]) for j in range(y.shape[1])]
    for b in blocks:  # each phase's arrow joins the outer corners: it crosses no cell
        a = (b["r"][0] * (size[0] - 1), b["r"][1] * (size[1] - 1))
        lands = next(c["lands"] for c in b["cells"] if (c["row"], c["col"]) == a)
        b["arrow"] = {"source": f"u{b['phase']}x{a[0]}x{a[1]}", "target": f"y{lands[0]}x{lands[1]}",
                      "side": "north" if b["r"][0] == 0 else "south"}
    return {"size": size, "out": y.shape, "stride": stride, "blocks": blocks, "cells": cells, "colours": PHASE_COLOURS}


class NotationPart:
    """The notation section, its figures and its tables, as one part of the chapter."""

    def __init__(self) -> None:
        self.rows = layer_rows()
        self.split = split_figure()
        self.interleave = interleave_figure()

    def check(self) -> Check:
        failures = []
        for row, (name, layer, _) in zip(self.rows, LAYERS):
            if isinstance(layer, Conv):
                counted = FilterBank(destride(layer)).zeros
                if counted != row["zeros"]:
                    failures.append(f"{name}: the table says {row['zeros']} structural zeros, the bank has {counted}")
            if row["entries"] - row["zeros"] != row["weights"]:
                failures.append(f"{name}: {row['entries']} bank entries minus {row['zeros']} zeros is not {row['weights']} weights")
        return Check(failures)

    def latex(self) -> str:
        return render_template("notation.tex", rows=self.rows, split=self.split, interleave=self.interleave)

    def text(self) -> str:
        lines = ["layer: k s p δ → k' P entries zeros sharing"]
        for r in self.rows:
            lines.append(f"{r['name']}: {r['kernel']} {r['stride']} {r['padding']} {r['dilation']} → {r['k_eq']} {r['phases']} "
                         f"{r['entries']} {r['zeros']} {r['sharing'] or '-'}")
        return "\n".join(lines)


def build():
    return [NotationPart()]
