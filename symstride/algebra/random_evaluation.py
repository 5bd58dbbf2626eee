"""Float64 evaluation of tables on pseudo-random atom values.

Every atom ``name[index]`` gets a deterministic pseudo-random value in [−1, 1) from a hash of its
name, index and seed, the same in every line and instance — so a table's :func:`numeric` value and
an independent NumPy oracle built from :func:`random_values` can be compared entry by entry.
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np

from .polynomials import Table

__all__ = ["random_values", "numeric", "POINTWISE"]


_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def random_values(name: str, index: Sequence[np.ndarray] | np.ndarray, seed: int = 0) -> np.ndarray:
    """Deterministic pseudo-random float64 in [−1, 1) for atoms ``name[index]``.

    ``index`` is one int array per index position (or a rows × rank matrix).  The same atom
    gets the same value in every line and every instance, so oracles can build their arrays
    from this function too.
    """
    if isinstance(index, np.ndarray) and index.ndim == 2:
        index = [index[:, k] for k in range(index.shape[1])]
    index = [np.asarray(i, dtype=np.int64) for i in index]
    shape = np.broadcast(*index).shape if index else ()
    with np.errstate(over="ignore"):
        h = np.full(shape, (zlib.crc32(name.encode()) << 16) ^ (seed * 0x9E3779B9 + 1), dtype=np.uint64)
        for i in index:
            h = _mix(h ^ (i.astype(np.uint64) & _MASK))
        h = _mix(h)
    return (h >> np.uint64(11)).astype(np.float64) / float(2**52) - 1.0


def numeric(table: Table, seed: int = 0) -> np.ndarray:
    """The table's value on every row, with every atom replaced by :func:`random_values`."""
    total = np.zeros(table.rows, dtype=np.float64)
    for b in table.blocks:
        v = b.num.astype(np.float64) / b.den.astype(np.float64)
        for slot, (name, m) in enumerate(b.atoms):
            if slot in b.inner:
                func, arg = b.inner[slot]
                v = v * POINTWISE.get(func, np.tanh)(numeric(arg, seed))
            else:
                v = v * random_values(name, m, seed)
        np.add.at(total, b.out, v)
    return total


#: Float64 stand-ins for pointwise maps in numeric checks (any other name is evaluated as tanh).
POINTWISE = {"relu": lambda v: np.maximum(v, 0.0), "tanh": np.tanh, "sigma": np.tanh}
