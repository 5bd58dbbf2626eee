"""Errors.

Bad user input raises the built-in :class:`ValueError` or :class:`TypeError`, naming the
offending value and the rule it broke.  :class:`SymstrideError` is reserved for limitations of
the library itself (a construction that exists mathematically but is not implemented, or a
configuration for which no exact equivalent exists, such as a phase-major channel layout with
grouped convolutions).
"""

from __future__ import annotations

__all__ = ["SymstrideError"]


class SymstrideError(Exception):
    """A limitation of symstride: the request is well-formed but cannot be served exactly."""
