"""Errors.

Every deliberate refusal raises :class:`SymstrideError` (a :class:`ValueError`), naming the
offending value and the rule it broke — bad input, a limitation of the library, a size beyond
its limits; a value of the wrong type raises :class:`SymstrideTypeError`, which is also a
:class:`TypeError`.  The CLI turns exactly these into one line on stderr: any other exception
is a bug and surfaces as one.
"""

from __future__ import annotations

__all__ = ["SymstrideError", "SymstrideTypeError"]


class SymstrideError(ValueError):
    """A refusal by symstride: a request it cannot serve exactly (a limitation, or a size beyond
    its limits).  A :class:`ValueError`, so ``except ValueError`` catches every refusal.

    >>> issubclass(SymstrideError, ValueError)
    True
    """


class SymstrideTypeError(SymstrideError, TypeError):
    """A refusal of a value of the wrong type: both a :class:`SymstrideError` and a :class:`TypeError`.

    >>> issubclass(SymstrideTypeError, TypeError) and issubclass(SymstrideTypeError, SymstrideError)
    True
    """
