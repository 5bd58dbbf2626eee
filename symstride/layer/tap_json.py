"""The JSON document of ``symstride derive --format json``, with the tap list written vectorised.

``json.dumps`` of a tap list builds three Python lists and a dict per tap; for a 3000×3000
kernel (9·10^6 taps) that is minutes and gigabytes.  :func:`equivalence_json` writes the
same text — byte for byte what ``json_text(eq.to_json())`` gives — from the tap arrays
(:attr:`~symstride.equivalence.Equivalence.tap_arrays`), one C-level ``%`` formatting per
chunk of taps, streamed piece by piece (:func:`equivalence_json_pieces`) to the output file.

>>> from symstride import Conv, destride
>>> from symstride.render.json_text import json_text
>>> eq = destride(Conv(kernel=(3, 2), stride=2, padding=1))
>>> equivalence_json(eq) == json_text(eq.to_json())
True
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..render.json_text import json_text

__all__ = ["equivalence_json", "equivalence_json_pieces", "CHUNK_TAPS"]

#: Taps formatted per NumPy chunk (bounds the temporary string arrays to a few hundred MB).
CHUNK_TAPS = 1 << 19

_MARKER = '"taps": [],'


def _fields(eq: Any) -> list[tuple[str, np.ndarray]]:
    m, r, j = eq.tap_arrays
    fields = [("tap", m), ("phase", r), ("offset", j)]
    if type(eq).__name__ == "TransposedEquivalence":
        fields.append(("delay", np.asarray(eq.kernel)[:, None] - 1 - j))
    return fields


def equivalence_json_pieces(eq: Any) -> Iterator[str]:
    """The text of :func:`equivalence_json` in pieces (a chunk of taps each), for streaming to a file."""
    head = json_text(eq.to_json(taps=False))
    if head.count(_MARKER) != 1:  # pragma: no cover - the document always has one tap list
        raise AssertionError("the document has no empty tap list to fill")
    before, after = head.split(_MARKER)
    fields = _fields(eq)
    ndim, count = fields[0][1].shape
    numbers = ", ".join(["%d"] * ndim)
    entry = "    {\n" + ",\n".join(f'      "{name}": [{numbers}]' for name, _ in fields) + "\n    }"
    table = np.concatenate([rows for _, rows in fields], axis=0)  # (fields·ndim, T)
    yield before + '"taps": [\n'
    for lo in range(0, count, CHUNK_TAPS):
        hi = min(lo + CHUNK_TAPS, count)
        # one C-level formatting call per chunk: the entry template repeated, filled row-major
        text = ",\n".join([entry] * (hi - lo)) % tuple(table[:, lo:hi].T.ravel().tolist())
        yield text if lo == 0 else ",\n" + text
    yield "\n  ]," + after


def equivalence_json(eq: Any) -> str:
    """``json_text(eq.to_json())``, written without a Python object per tap."""
    return "".join(equivalence_json_pieces(eq))
