"""Reading a mapping document whose tap list is large: the taps straight into one int array.

``json.loads`` of a 9·10^6-tap map (``derive --kernel 3000,3000 --format json``, 800 MB) builds
a dict and three lists per tap: minutes and more than 10 GB.  :func:`read_mapping` reads the
``taps`` list of such a document with NumPy instead — only when every entry is *regular* (an
object with the tap keys, each a list of the same number of plain integers of at most 18 digits,
keys in the same order in every entry) — and the rest of the document with the strict reader of
:mod:`symstride.core.json_input`.  The result is the document with ``taps`` an ``(n, fields,
ndim)`` int64 array in the order ``tap, phase, offset[, delay]``, which
:func:`symstride.layer.mapping.check_mapping` takes like the list.  Anything irregular — a
float, an integer beyond 18 digits, a leading zero, an extra key, a string, a key spelled
with an escape — is read by ``json.loads`` as before, so its message is the same.

Every byte of the tap list is accounted for: without whitespace and numbers it must equal the
entry template repeated, byte for byte, and every slot holds exactly one JSON integer.

>>> doc = read_mapping(b'{"kernel": [3], "stride": [2], "taps": [{"tap": [0], "phase": [0], "offset": [0]},'
...                    b' {"tap": [1], "phase": [1], "offset": [0]}, {"tap": [2], "phase": [0], "offset": [-1]}]}', "m.json")
>>> doc["kernel"], doc["taps"].shape, doc["taps"][2].tolist()
([3], (3, 3, 1), [[2], [0], [-1]])
>>> type(read_mapping(b'{"taps": [{"tap": [0.0], "phase": [0], "offset": [0]}]}', "m.json")["taps"])
<class 'list'>
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from ..core.errors import SymstrideError
from ..core.json_input import load_json

__all__ = ["read_mapping", "TAP_FIELDS", "CHUNK_BYTES"]

#: The fields of a tap entry, in the order of the array's second axis (``delay`` only when present).
TAP_FIELDS = ("tap", "phase", "offset", "delay")
#: Bytes of the tap list read per NumPy pass (bounds the temporaries to about 20 bytes per byte).
CHUNK_BYTES = 1 << 24

_TAPS_KEY = re.compile(rb'"taps"\s*:\s*\[')
_SENTINEL = "symstride: the tap list, read as an array"
_LIST_END = re.compile(rb"\}[ \t\n\r]*\]")
_POW10 = 10 ** np.arange(19, dtype=np.int64)
_LIMIT = 10**18  #: integers read in bulk stay below this in magnitude (larger ones: json.loads, exactly)
_SPACE = b" \t\n\r"
_NUMBER = b"0123456789-"
_TO_SPACE = bytes(b if b in _NUMBER else 32 for b in range(256))
_EMPTY_SLOTS = (b"[,", b",,", b",]", b"[]")


class _Irregular(Exception):
    """The tap list is not in the regular form: read it with ``json.loads``."""


def _list_end(data: bytes, start: int) -> int:
    """The index of the ``]`` closing the list opened at ``data[start]`` *if the list is regular*:
    the first ``}`` followed by ``]`` (inside a regular list every ``]`` follows a digit); for any
    other list the text up to there fails the template check, so a wrong guess is never used."""
    found = _LIST_END.search(data, start)
    if found is None:
        raise _Irregular
    return found.end() - 1


def _template(first: Any) -> tuple[tuple[str, ...], int, bytes]:
    """The key order, ``ndim`` and the text of the first entry without whitespace and numbers."""
    if not isinstance(first, dict) or not first or not set(first) <= set(TAP_FIELDS) or not {"tap", "phase", "offset"} <= set(first):
        raise _Irregular
    values = list(first.values())
    if not isinstance(values[0], list) or not values[0]:
        raise _Irregular
    ndim = len(values[0])
    commas = "," * (ndim - 1)
    return tuple(first), ndim, ("{" + ",".join(f'"{key}":[{commas}]' for key in first) + "}").encode()


def _numbers(chunk: bytes, template: bytes, leading: bool) -> np.ndarray:
    """The integers of a piece of the tap list (whole entries, ``,`` first unless ``leading``),
    after checking that the piece is the entry template repeated, one integer in every slot.

    Without whitespace and number characters the piece must equal the template repeated; no
    slot may be empty; a ``-`` starts a number; and the integers read (exactly one per slot)
    must have, together, as many digits as the piece (so no leading zero, no digit outside a
    slot, nothing clamped) and fewer than 19 each.
    """
    stripped = chunk.translate(None, _SPACE)
    entry = len(template) + 1
    bare = stripped.translate(None, _NUMBER)
    times = (len(bare) + (1 if leading else 0)) // entry
    expected = (template + (b"," + template) * (times - 1)) if leading else (b"," + template) * times
    if times < 1 or bare != expected or any(empty in stripped for empty in _EMPTY_SLOTS):
        raise _Irregular
    a = np.frombuffer(chunk, dtype=np.uint8)
    minus = np.flatnonzero(a == 45)
    if minus.size:
        after, before = a[np.minimum(minus + 1, a.size - 1)], a[np.maximum(minus - 1, 0)]
        if minus[-1] == a.size - 1 or ((after - 48) >= 10).any() or (((before - 48) < 10) | (before == 45)).any():
            raise _Irregular
    try:
        values = np.fromstring(chunk.translate(_TO_SPACE), dtype=np.int64, sep=" ")
    except ValueError:
        raise _Irregular from None
    if values.size != times * (template.count(b",") + 1):  # fields·ndim slots per entry
        raise _Irregular
    if values.size and (values.min() <= -_LIMIT or values.max() >= _LIMIT):
        raise _Irregular
    places = np.searchsorted(_POW10[1:], np.abs(values), side="right") + 1
    if int(places.sum()) != int(np.count_nonzero((a - 48) < 10)):
        raise _Irregular
    return values


def _tap_array(data: bytes, open_at: int, close_at: int) -> np.ndarray:
    """The tap list ``data[open_at:close_at + 1]`` as an ``(n, fields, ndim)`` array in :data:`TAP_FIELDS` order."""
    body_start = open_at + 1
    decoder = json.JSONDecoder()
    last = data.rindex(b"}", body_start, close_at) + 1  # the entries end here (only whitespace until the ])
    text_head = data[body_start:min(last, body_start + 4096)].decode("utf-8", errors="replace")
    stripped = text_head.lstrip()
    try:
        first, _ = decoder.raw_decode(stripped)
    except ValueError:
        raise _Irregular from None
    keys, ndim, template = _template(first)
    pieces, lo, leading = [], body_start, True
    while lo < last:
        hi = last if last - lo <= CHUNK_BYTES else data.rfind(b"}", lo, lo + CHUNK_BYTES) + 1
        if hi <= lo:  # an entry longer than a chunk: up to its end
            hi = data.find(b"}", lo, last) + 1
        pieces.append(_numbers(data[lo:hi], template, leading))
        lo, leading = hi, False
    values = np.concatenate(pieces).reshape(-1, len(keys), ndim)
    order = [keys.index(field) for field in TAP_FIELDS if field in keys]
    return values[:, order] if order != list(range(len(keys))) else values


def read_mapping(data: bytes, where: str) -> Any:
    """The mapping document in ``data`` (read from ``where``, named in errors), its ``taps`` an int
    array when the list is regular (see the module docstring), else exactly what
    :func:`symstride.core.json_input.load_json` reads."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    invalid = "{where} is not valid JSON: {detail}"
    found = _TAPS_KEY.search(data)
    if found is not None:
        open_at = found.end() - 1
        try:
            close_at = _list_end(data, open_at)
            taps = _tap_array(data, open_at, close_at)
        except _Irregular:
            taps = None
        if taps is not None:
            doc = _rest(data[:open_at], data[close_at + 1:], where)
            # the array stands for the list only where it was spliced out of; a delay only in a transposed map
            if isinstance(doc, dict) and doc.get("taps") == _SENTINEL and (taps.shape[1] == 3 or doc.get("transposed") is True):
                doc["taps"] = taps
                return doc
    return load_json(_decode(data, where), where, invalid)


def _rest(before: bytes, after: bytes, where: str) -> Any:
    """The document with its tap list replaced by a marker string, or None (then the whole
    document is read as JSON, so that any error names its true line and column)."""
    marker = json.dumps(_SENTINEL).encode()
    if marker in before or marker in after:
        return None
    try:
        return load_json((before + marker + after).decode("utf-8"), where)
    except (SymstrideError, UnicodeDecodeError):
        return None


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SymstrideError(f"{where} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
