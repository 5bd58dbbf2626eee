"""Striding is parameter sharing: how many filters the equivalent network has, and how tied.

In the equivalent network a convolution with ``C_out`` filters becomes one with ``C_out·R^d``
filters over ``C_in·B^d`` phase channels (``B = s·R``), and every original weight appears once
per output phase, i.e. ``R^d`` times (the sharing factor).  Each phase filter has ``Π K'`` taps
per (phase) channel, most of them structural zeros.  Multiply-accumulates are counted per input
sample (batch 1): the original layer's ``Π N_out · C_out · C_in/g · Π k``, the equivalent's
dense ``Π A_out · C_out R^d · (C_in/g) B^d · Π K'`` (a unit-stride convolution that does not
skip structural zeros).

>>> from .strided import Network
>>> net = Network.from_spec({"input": {"channels": 1, "size": [16]},
...     "layers": [{"type": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1},
...                {"type": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1}]})
>>> row = sharing(net.destride()).layers[0]
>>> row.filters_original, row.filters_equivalent, row.sharing_factor, row.structural_zero_fraction
(2, 4, 2, 0.625)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from math import prod

from .equivalent import EquivalentNetwork
from .phase_ops import TiedConv

__all__ = ["LayerSharing", "SharingReport", "sharing"]


@dataclass(frozen=True)
class LayerSharing:
    """Parameter sharing in one convolution of the equivalent network."""

    layer: str
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    in_phases: tuple[int, ...]  #: B per axis
    out_phases: tuple[int, ...]  #: R per axis
    kernel_equivalent: tuple[int, ...]  #: K' per axis
    filters_original: int
    filters_equivalent: int
    sharing_factor: int  #: R^d: how many times each original weight appears
    weights_original: int
    weights_equivalent: int  #: entries of the equivalent bank, structural zeros included
    structural_zero_fraction: float
    macs_original: int
    macs_equivalent: int

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class SharingReport:
    """Per-convolution sharing and the totals; prints as a table."""

    layers: tuple[LayerSharing, ...]

    @property
    def totals(self) -> dict:
        keys = ("filters_original", "filters_equivalent", "weights_original", "weights_equivalent", "macs_original", "macs_equivalent")
        out = {k: sum(getattr(row, k) for row in self.layers) for k in keys}
        out["structural_zero_fraction"] = (
            1 - sum(row.weights_original * row.sharing_factor for row in self.layers) / out["weights_equivalent"]
            if out["weights_equivalent"] else 0.0
        )
        return out

    def as_dict(self) -> dict:
        return {"layers": [row.as_dict() for row in self.layers], "totals": self.totals}

    def __str__(self) -> str:
        fmt = lambda v: "×".join(map(str, v)) if len(set(v)) > 1 else str(v[0])  # noqa: E731
        head = ("layer", "k", "s", "B", "R", "k'", "filters", "shared ×", "weights", "bank", "zeros", "MACs", "MACs eq")
        rows = [head]
        for r in self.layers:
            rows.append((r.layer, fmt(r.kernel), fmt(r.stride), fmt(r.in_phases), fmt(r.out_phases), fmt(r.kernel_equivalent),
                         f"{r.filters_original}→{r.filters_equivalent}", str(r.sharing_factor), str(r.weights_original),
                         str(r.weights_equivalent), f"{r.structural_zero_fraction:.1%}", str(r.macs_original), str(r.macs_equivalent)))
        t = self.totals
        rows.append(("total", "", "", "", "", "", f"{t['filters_original']}→{t['filters_equivalent']}", "", str(t["weights_original"]),
                     str(t["weights_equivalent"]), f"{t['structural_zero_fraction']:.1%}", str(t["macs_original"]), str(t["macs_equivalent"])))
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        return "\n".join("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in rows)

    __repr__ = __str__


def sharing(eq: EquivalentNetwork) -> SharingReport:
    """The sharing statistics of every convolution of ``eq`` (depth first)."""
    rows = []
    for op in eq.windowed:
        if not isinstance(op, TiedConv) or op.source != "conv":
            continue
        c_out, cin_g, *kernel = op.weight_shape
        k_eq = tuple(m.kernel_eq for m in op.axes)
        n_r, n_b = op.output.count, op.inputs.count
        bank = c_out * n_r * cin_g * n_b * prod(k_eq)
        rows.append(LayerSharing(
            layer=op.path, kernel=tuple(kernel), stride=tuple(m.stride for m in op.axes),
            in_phases=op.inputs.phases, out_phases=op.output.phases, kernel_equivalent=k_eq,
            filters_original=c_out, filters_equivalent=c_out * n_r, sharing_factor=n_r,
            weights_original=c_out * cin_g * prod(kernel), weights_equivalent=bank,
            structural_zero_fraction=1 - prod(kernel) / (n_b * prod(k_eq)),
            macs_original=prod(op.output.size) * c_out * cin_g * prod(kernel),
            macs_equivalent=prod(op.output.length) * bank,
        ))
    return SharingReport(tuple(rows))
