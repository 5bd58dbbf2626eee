"""The two space-to-depth channel orders of one layer, side by side (PyTorch and TensorFlow/ONNX)."""

from __future__ import annotations

from typing import Any

from ..core.indexing import channel_decode, phase_vector
from ..proof.rules import Outcome
from .destride import destride

__all__ = ["ChannelOrders"]


class ChannelOrders:
    """The two space-to-depth channel orders side by side, for one layer.

    PyTorch's ``pixel_unshuffle`` numbers the equivalent channels ``c·P + φ(r)`` (channel-major),
    TensorFlow/ONNX ``SpaceToDepth`` ``φ(r)·C + c`` (phase-major).  The table lists, for every
    equivalent channel, the (input channel, phase) it holds under each order; :meth:`check`
    decides both equivalences exactly.
    """

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.pytorch = destride(layer, layout="pytorch")
        self.tf = destride(layer, layout="tf")

    def rows(self) -> list[tuple[int, tuple[int, tuple[int, ...]], tuple[int, tuple[int, ...]]]]:
        spec = self.layer.spec
        n_phases = self.pytorch.phases
        out = []
        for new in range(spec.in_channels * n_phases):
            pairs = []
            for layout in ("pytorch", "tf"):
                c, flat = channel_decode(new, spec.in_channels, n_phases, layout)
                pairs.append((c, phase_vector(flat, spec.stride)))
            out.append((new, pairs[0], pairs[1]))
        return out

    def check(self) -> Any:
        for eq in (self.pytorch, self.tf):
            report = eq.verify()
            if not report.exact:
                return Outcome(False, f"layout {eq.layout}: {report.mismatch}", "index analysis")
        return Outcome(True, "both channel orders give an exact equivalence (symstride.core.verify, default input size)", "index analysis")

    def latex_block(self, notation: Any = None) -> str:
        from ..render.templates import render_template

        return render_template("channel_orders.tex", orders=self, rows=self.rows())

    def text_block(self) -> str:
        lines = ["equivalent channel   PyTorch c·P + φ(r)   TensorFlow/ONNX φ(r)·C + c"]
        for new, (c1, r1), (c2, r2) in self.rows():
            lines.append(f"  {new:<18} c={c1}, r={r1!s:<12} c={c2}, r={r2}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text_block()
