"""Errors.

Bad user input raises the built-in :class:`ValueError` or :class:`TypeError`, naming the
offending value and the rule it broke.  :class:`SymstrideError` is reserved for limitations of
the library itself (a construction that exists mathematically but is not implemented, or a
configuration for which no exact equivalent exists, such as a phase-major channel layout with
grouped convolutions).
"""

from __future__ import annotations

__all__ = ["SymstrideError"]


class SymstrideError(ValueError):
    """A refusal by symstride: a request it cannot serve exactly (a limitation, or a size beyond
    its limits).  A :class:`ValueError`, so ``except ValueError`` catches every refusal.

    >>> issubclass(SymstrideError, ValueError)
    True
    """
