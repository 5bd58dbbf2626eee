"""The memory a network request needs, estimated before anything is allocated.

The exact checks of :mod:`symstride.network.verify` and the boundary analysis of
:mod:`symstride.network.boundary` build, for every window-reading layer, per-axis arrays of
``N_out × k`` positions and boolean grids over the layer's output positions.  A huge padding or
input size inside the parameter limits would make those arrays tens of gigabytes; this module
estimates them and refuses the request with the figure instead.

>>> from symstride.network.spec import parse
>>> spec = parse({"input": {"channels": 1, "size": [16, 16]},
...               "layers": [{"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 100000}]})
>>> check_network_size(spec)
Traceback (most recent call last):
...
symstride.core.errors.SymstrideError: layer 0 (conv): its exact analysis needs about 160.0 GB (output 100007×100007 positions); symstride analyses networks in at most 2 GB — use a smaller padding or input size
"""

from __future__ import annotations

from math import prod

from ..core.errors import SymstrideError
from .spec import ConvLayer, Pool, walk

__all__ = ["MAX_NETWORK_BYTES", "network_bytes", "check_network_size"]

#: The memory an exact network analysis may take (bytes).
MAX_NETWORK_BYTES = 2 * 10**9
#: Bytes per output position of the grids (positions, liveness, comparisons) and per tap read.
_BYTES_PER_POSITION = 16


def network_bytes(layer) -> int:
    """Estimated bytes of the arrays the exact analysis of one window-reading ``layer`` builds."""
    window = layer.conv if isinstance(layer, ConvLayer) else layer.pool
    n_out = layer.out_shape.size
    grid = prod(n_out)
    reads = sum(n * k for n, k in zip(n_out, window.kernel))
    return _BYTES_PER_POSITION * max(grid, reads)


def check_network_size(spec) -> None:
    """Refuse, with the figure, a network whose exact analysis would exceed :data:`MAX_NETWORK_BYTES`."""
    for layer in walk(spec.layers):
        if not isinstance(layer, (ConvLayer, Pool)):
            continue
        need = network_bytes(layer)
        if need > MAX_NETWORK_BYTES:
            shape = "×".join(map(str, layer.out_shape.size))
            raise SymstrideError(
                f"{layer.label}: its exact analysis needs about {need / 1e9:.1f} GB (output {shape} positions); "
                f"symstride analyses networks in at most {MAX_NETWORK_BYTES / 1e9:g} GB — use a smaller padding or input size"
            )
