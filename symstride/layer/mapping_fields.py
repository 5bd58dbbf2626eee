"""What a mapping document states besides its taps: keys it may have and the derived fields.

A tap map written by ``symstride derive --format json`` (or ``--transposed``) carries, next to
the layer and its taps, fields derived from the layer: the channel order, the number of phases,
``k'``, the equivalent channel count, the formula...  :func:`check_keys` refuses a key that is
not one of them (a typo such as ``"transposd"`` must not be ignored silently), and
:func:`stated_field_problem` compares every stated derived field with the derivation of the
stated layer — a field that contradicts it makes the map WRONG.  Formulas are compared as text
(never parsed): a formula other than the one symstride derives is named, with the derived one.

>>> from symstride import Conv, destride
>>> eq = destride(Conv(kernel=3, stride=2))
>>> doc = eq.to_json()
>>> stated_field_problem(doc, eq) is None
True
>>> doc["equivalent_in_channels"] = 999
>>> stated_field_problem(doc, eq)
'equivalent_in_channels 999 is not the derived 2'
>>> check_keys({"kernel": [3], "stride": [2], "taps": [], "transposd": True}, transposed=False)
Traceback (most recent call last):
...
symstride.core.errors.SymstrideError: unknown key 'transposd' in the mapping (did you mean 'transposed'?); valid keys: channel_order, dilation, equivalent_in_channels, equivalent_kernel, formula, groups, in_channels, kernel, layout, out_channels, padding, phases, stride, structural_zeros, taps, transposed
"""

from __future__ import annotations

from ..core.errors import SymstrideError

import difflib
from functools import lru_cache
from typing import Any

__all__ = ["LAYER_KEYS", "known_keys", "tap_keys", "check_keys", "stated_field_problem"]

#: Keys that state the layer itself (parsed into its spec); every other known key is derived.
LAYER_KEYS = frozenset(
    {"transposed", "kernel", "stride", "dilation", "padding", "output_padding", "in_channels", "out_channels", "groups", "layout", "taps"}
)


@lru_cache(maxsize=None)
def known_keys(transposed: bool) -> tuple[str, ...]:
    """The keys ``derive --format json`` writes (for a transposed layer when ``transposed``), sorted."""
    from ..algebra.conv_transpose import ConvTranspose
    from ..algebra.operators import Conv
    from .destride import destride

    layer = ConvTranspose(kernel=2, stride=2) if transposed else Conv(kernel=2, stride=2)
    keys = set(destride(layer).to_json()) | {"transposed"}
    return tuple(sorted(keys))


def tap_keys(transposed: bool) -> tuple[str, ...]:
    """The keys of one entry of ``taps``: ``delay`` (= k' − 1 − offset) only for transposed maps."""
    return ("tap", "phase", "offset", "delay") if transposed else ("tap", "phase", "offset")


def _unknown(key: Any, valid: tuple[str, ...], where: str) -> SymstrideError:
    near = difflib.get_close_matches(str(key), valid, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return SymstrideError(f"unknown key {key!r} in {where}{hint}; valid keys: {', '.join(valid)}")


def check_keys(doc: dict, *, transposed: bool) -> None:
    """Refuse a key that a mapping of this kind does not have, naming it and listing the valid ones."""
    valid = known_keys(transposed)
    for key in doc:
        if key not in valid:
            raise _unknown(key, valid, "the mapping")
    entries = doc.get("taps")
    if isinstance(entries, list):
        allowed = tap_keys(transposed)
        for k, entry in enumerate(entries):
            if isinstance(entry, dict) and len(entry) > 3:
                for key in entry:
                    if key not in allowed:
                        raise _unknown(key, allowed, f"taps[{k}]")


def _same(stated: Any, derived: Any) -> bool:
    """JSON equality that does not confuse ``true`` with 1 or 1.0 with 1."""
    if isinstance(derived, bool) or isinstance(stated, bool):
        return type(stated) is type(derived) and stated == derived
    if isinstance(derived, (list, tuple)):
        return isinstance(stated, list) and len(stated) == len(derived) and all(map(_same, stated, derived))
    if isinstance(derived, dict):
        return isinstance(stated, dict) and stated.keys() == derived.keys() and all(_same(stated[k], derived[k]) for k in derived)
    if isinstance(derived, int):
        return type(stated) is int and stated == derived
    return type(stated) is type(derived) and stated == derived


def stated_field_problem(doc: dict, eq: Any) -> str | None:
    """The first stated derived field that contradicts ``eq`` (the stated layer's derivation), or None."""
    derived = _derived_fields(eq)
    for key in known_keys(eq.spec.__class__.__name__ == "ConvTransposeSpec"):
        if key in LAYER_KEYS or key not in doc:
            continue
        stated, truth = doc[key], derived[key]
        if _same(stated, truth):
            continue
        if key == "channel_order":
            return f"channel_order {stated!r} contradicts layout {eq.layout!r}, whose channel order is {truth!r}"
        if key == "formula":
            if not isinstance(stated, dict) or set(stated) - {"latex", "text"}:
                return f"formula must be an object with 'latex' and 'text' (as derive writes it), got {stated!r}"
            for part in ("text", "latex"):
                if part in stated and not _same(stated[part], truth[part]):
                    return (
                        f"formula {part} {stated[part]!r} is not the formula derived for the stated layer, "
                        f"{truth[part]!r} (formulas are compared as text, not parsed)"
                    )
            continue
        return f"{key} {stated!r} is not the derived {truth!r}"
    return None


def _derived_fields(eq: Any) -> dict:
    """The derived fields of ``eq.to_json()`` (its taps are checked separately)."""
    fields = eq.to_json(taps=False)  # never a Python object per tap
    fields.pop("taps")
    return fields
