"""Reading the JSON documents users write (network specs, tap maps): strictly.

``json.loads`` keeps the last of two equal keys and chokes on a UTF-8 byte-order mark; a spec
written by hand may have either.  :func:`load_json` reads a BOM as nothing and refuses a
duplicated key, naming it — a silently dropped ``"stride"`` would change the layer.

>>> load_json('\\ufeff{"kernel": [3]}', "spec.json")
{'kernel': [3]}
>>> load_json('{"stride": 2, "stride": 1}', "spec.json")
Traceback (most recent call last):
...
symstride.core.errors.SymstrideError: spec.json: the key 'stride' appears twice in one object; JSON keeps only the last, so symstride refuses it
"""

from __future__ import annotations

from .errors import SymstrideError

import json
from typing import Any

__all__ = ["load_json"]


def load_json(text: str, where: str, invalid: str = "{where}: malformed JSON: {detail}") -> Any:
    """Parse ``text`` (read from ``where``, named in errors): BOM ignored, duplicate keys refused.

    ``invalid`` formats the error for text that is not JSON (``where``, ``detail``).
    """

    def unique(pairs: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for key, value in pairs:
            if key in out:
                raise SymstrideError(f"{where}: the key {key!r} appears twice in one object; JSON keeps only the last, so symstride refuses it")
            out[key] = value
        return out

    try:
        return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=unique)
    except json.JSONDecodeError as exc:
        detail = f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise SymstrideError(invalid.format(where=where, detail=detail)) from None
