"""One network, summarised: construction, boundaries, exactness, sharing, and a forward check.

:func:`summarize` gathers what the ``symstride network`` command prints, as plain data:
the exact verdict of :func:`~symstride.network.verify.verify_network`, the masks (the layers
that need one), the divisibility condition, the sharing table, and, when asked, a float64
forward comparison of both networks on seeded random parameters and input.

>>> from .strided import Network
>>> net = Network.from_spec({"input": {"channels": 1, "size": [9]},
...     "layers": [{"type": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1}, {"type": "relu"},
...                {"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 1}]})
>>> doc = summarize(net, check=True).as_dict()
>>> doc["exact"], doc["max_abs_error"] < 1e-12, [m["layer"] for m in doc["masks"]], doc["mask_condition"]["holds"]
(True, True, ['2'], False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .boundary import Boundary
from .equivalent import EquivalentNetwork
from .sharing import SharingReport, sharing
from .verify import NetworkVerification, verify_network

__all__ = ["Summary", "summarize", "forward_error", "CONDITION"]

#: The sufficient condition under which no mask is needed (DESIGN.md, Theorem 3).
CONDITION = ("no mask is needed when every layer that pads on the right sees an input whose size N "
             "is divisible by its B = s·R on every axis (then the phases hold no samples past the end)")


def forward_error(net, eq: EquivalentNetwork, seed: int = 0, batch: int = 2) -> float:
    """``max |eq(x) − net(x)|`` in float64 on seeded random parameters and input."""
    params = net.random_params(seed)
    x = net.random_input(seed, batch)
    return float(np.max(np.abs(eq.forward(x, params) - net.forward(x, params))))


@dataclass(frozen=True)
class Summary:
    """Everything ``symstride network`` reports about one network."""

    network: Any
    equivalent: EquivalentNetwork
    verification: NetworkVerification
    sharing: SharingReport
    max_abs_error: float | None
    seed: int

    @property
    def boundaries(self) -> list[Boundary]:
        return self.equivalent.boundaries

    @property
    def masks(self) -> list[Boundary]:
        return [b for b in self.boundaries if b.needed]

    @property
    def condition_holds(self) -> bool:
        return all(b.divisible or not b.pads_right for b in self.boundaries)

    def as_dict(self) -> dict:
        spec = self.network.spec
        return {
            "exact": self.verification.exact,
            "max_abs_error": self.max_abs_error,
            "masks": [b.as_dict() for b in self.masks],
            "layers": [row.as_dict() for row in self.sharing.layers],
            "totals": self.sharing.totals,
            "network": {
                "input": {"channels": spec.input.channels, "size": list(spec.input.size)},
                "output": {"channels": spec.output.channels, "size": list(spec.output.size)},
                "total_stride": list(self.network.total_stride),
            },
            "mask_condition": {
                "statement": CONDITION,
                "holds": self.condition_holds,
                "violated_by": [b.path for b in self.boundaries if b.pads_right and not b.divisible],
            },
            "boundaries": [b.as_dict() for b in self.boundaries],
            "checks": [{"layer": c.path, "type": c.kind, "rule": c.rule, "exact": c.exact, "detail": c.detail}
                       for c in self.verification.checks],
            "minimal_masks": self.verification.minimal,
            "forward": None if self.max_abs_error is None else {
                "seed": self.seed, "dtype": "float64", "max_abs_error": self.max_abs_error,
            },
        }

    def text(self, *, detailed: bool = False) -> str:
        eq = self.equivalent
        lines = [repr(self.network), str(eq), "", "Parameter sharing (each original weight appears R^d times):", str(self.sharing), ""]
        lines.append("Boundaries:")
        for b in self.boundaries:
            lines.append(f"  layer {b.path} ({b.kind}): {'MASK' if b.needed else 'no mask'} — {b.reason}")
        lines.append(f"Divisibility condition ({'holds' if self.condition_holds else 'does not hold'}): {CONDITION}")
        lines.append("")
        v = self.verification
        if detailed or not v.exact:
            lines.append(str(v))
        else:
            lines.append(f"Theorem 3 exact check: exact ({len(v.checks)} checks by integer index analysis; --check lists them)")
        if self.max_abs_error is not None:
            lines.append(f"Forward comparison (float64, seed {self.seed}): max |equivalent − strided| = {self.max_abs_error:.3g}")
        return "\n".join(lines) + "\n"


def summarize(net, *, check: bool = False, seed: int = 0) -> Summary:
    """Destride ``net``, verify exactly, count sharing; with ``check`` also compare forwards."""
    eq = net.destride()
    error = forward_error(net, eq, seed) if check else None
    return Summary(net, eq, verify_network(eq), sharing(eq), error, seed)
