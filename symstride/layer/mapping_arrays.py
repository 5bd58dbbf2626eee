"""A tap map as NumPy arrays: read in bulk, checked against the phase map in one vectorised pass.

A 9·10^6-tap map (``derive --kernel 3000,3000 --format json``) cannot afford a Python object
and an exact read comparison per tap.  :func:`tap_rows` turns the document's taps into one
``(n, fields, ndim)`` int array when every entry is regular (anything irregular returns None,
and the per-entry parse of :mod:`symstride.layer.mapping` names it); :func:`structural_problem`
finds taps outside the kernel, missing, listed twice or sharing a slot, with the same messages
as the per-tap check; :func:`first_misplaced` compares every tap with the phase map of
:func:`symstride.core.indexing.tap_arrays` (Theorem 2, or the sub-pixel rule when transposed)
and names the first tap, in the map's order, placed elsewhere.

>>> from symstride.core.params import ConvSpec
>>> spec = ConvSpec.create(kernel=3, stride=2)
>>> rows = tap_rows([{"tap": [0], "phase": [0], "offset": [0]}, {"tap": [1], "phase": [1], "offset": [0]},
...                  {"tap": [2], "phase": [0], "offset": [0]}], 1, ("tap", "phase", "offset"))
>>> structural_problem(spec, rows)
([2], 'tap [2] is placed at phase [0], offset [0], where tap [0] already is')
>>> rows[2, 2] = [1]
>>> structural_problem(spec, rows) is None, first_misplaced(spec, rows)
(True, None)
"""

from __future__ import annotations

from itertools import chain
from math import prod
from operator import itemgetter
from typing import Any

import numpy as np

from ..core.indexing import tap_arrays

__all__ = ["tap_rows", "structural_problem", "first_misplaced"]


def tap_rows(raw: list, ndim: int, keys: tuple[str, ...]) -> np.ndarray | None:
    """The taps' ``keys`` fields as an ``(n, len(keys), ndim)`` int64 array, or None if any entry
    is not an object with exactly those keys, each a list of ``ndim`` plain integers."""
    if set(map(type, raw)) - {dict} or set(map(len, raw)) - {len(keys)}:
        return None
    try:
        rows = list(map(itemgetter(*keys), raw))
    except KeyError:
        return None
    fields = list(chain.from_iterable(rows))
    if set(map(type, fields)) - {list} or set(map(len, fields)) - {ndim}:
        return None
    if set(map(type, chain.from_iterable(fields))) - {int}:
        return None
    try:
        flat = np.fromiter(chain.from_iterable(fields), dtype=np.int64, count=len(fields) * ndim)
    except OverflowError:
        return None
    return flat.reshape(len(raw), len(keys), ndim)


def _first_repeat(keys: np.ndarray) -> tuple[int, int] | None:
    """``(i, first)``: the earliest position ``i`` whose key (a row of ``keys``) occurred before, at ``first``."""
    if keys.shape[0] == 0:
        return None
    low = keys.min(axis=0)
    span = [int(high) - int(lo) + 1 for high, lo in zip(keys.max(axis=0), low)]  # Python ints: no overflow
    if prod(span) < 2**62:  # the rows as one int64 each: a stable sort groups equal rows, earliest first
        flat = np.ravel_multi_index(tuple((keys - low).T), span) if keys.shape[1] > 1 else keys[:, 0] - low[0]
        order = np.argsort(flat, kind="stable")
        ordered = flat[order]
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            return None
        later = order[1:][same]
        k = int(np.argmin(later))  # the earliest repeat; its group's first element precedes it in the sort
        at = int(np.flatnonzero(same)[k]) + 1
        head = int(np.flatnonzero(~same[:at - 1])[-1]) + 1 if (~same[:at - 1]).any() else 0
        return int(later[k]), int(order[head])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    repeat = first[inverse] != np.arange(keys.shape[0])
    if not repeat.any():
        return None
    i = int(np.argmax(repeat))
    return i, int(first[inverse[i]])


def structural_problem(spec: Any, rows: np.ndarray) -> tuple[list[int], str] | None:
    """Taps outside the kernel, missing, listed twice, or sharing a slot (the per-tap check's messages)."""
    kernel = np.asarray(spec.kernel)
    m = rows[:, 0]
    outside = ((m < 0) | (m >= kernel)).any(axis=1)
    if outside.any():
        tap = m[int(np.argmax(outside))].tolist()
        return tap, f"tap {tap} is outside the kernel {list(spec.kernel)}"
    flat = np.ravel_multi_index(tuple(m.T), spec.kernel) if m.size else np.zeros(0, dtype=np.int64)
    counts = np.bincount(flat, minlength=spec.taps)
    duplicated = _first_repeat(flat[:, None])
    if (counts == 0).any():
        missing = list(map(int, np.unravel_index(int(np.argmax(counts == 0)), spec.kernel)))
        extra = f" (tap {m[duplicated[0]].tolist()} is listed twice)" if duplicated is not None else ""
        return missing, f"tap {missing} is missing from the map{extra}, so its weight never reaches the equivalent layer"
    if duplicated is not None:
        tap = m[duplicated[0]].tolist()
        return tap, f"tap {tap} is listed twice, so its weight is counted twice"
    shared = _first_repeat(rows[:, 1:3].reshape(rows.shape[0], -1))
    if shared is None:
        return None
    later, holder = shared
    true_r, true_j = _truth(spec, rows[[later]])
    wrong, other = (later, holder) if (rows[later, 1] != true_r[0]).any() or (rows[later, 2] != true_j[0]).any() else (holder, later)
    return m[wrong].tolist(), (
        f"tap {m[wrong].tolist()} is placed at phase {rows[wrong, 1].tolist()}, offset {rows[wrong, 2].tolist()}, "
        f"where tap {m[other].tolist()} already is"
    )


def _truth(spec: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The phase map's ``(r, j)`` of each row's tap (rows inside the kernel), as ``(n, ndim)`` arrays."""
    flat = np.ravel_multi_index(tuple(rows[:, 0].T), spec.kernel)
    _, r, j = tap_arrays(spec, flip=spec.direction == "transposed")
    return r[:, flat].T, j[:, flat].T


def first_misplaced(spec: Any, rows: np.ndarray) -> tuple[int, list[int], list[int]] | None:
    """``(position, true phase, true offset)`` of the first tap (in the map's order) that the phase
    map places elsewhere, or None when every tap is where the phase map puts it."""
    if rows.shape[0] == 0:
        return None
    true_r, true_j = _truth(spec, rows)
    bad = ((rows[:, 1] != true_r) | (rows[:, 2] != true_j)).any(axis=1)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    return i, true_r[i].tolist(), true_j[i].tolist()
