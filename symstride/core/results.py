"""The report protocol every result object speaks.

A result answers ``.ok`` (everything checked holds), ``.failure`` (the first thing that fails,
as one string, or None), ``.to_json()`` (a JSON-able dict with at least ``"ok"`` and
``"failure"``, and ``"proved"`` where a proof is meant), a one-line ``repr``, a readable ``str``
and ``_repr_latex_`` (Jupyter).  :class:`Result` supplies the uniform parts from three things a
subclass defines: ``ok``, ``failure`` and ``__str__`` (plus ``json_fields()`` for its own data).
Every subclass is recorded in :data:`RESULT_CLASSES`; ``tests/test_report_protocol.py`` checks
each against the protocol.

>>> class Parity(Result):
...     def __init__(self, n): self.n = n
...     ok = property(lambda self: self.n % 2 == 0)
...     failure = property(lambda self: None if self.ok else f"{self.n} is odd")
...     def __str__(self): return f"{self.n} is even: {self.ok}"
>>> Parity(3)
Parity(FAILED: 3 is even: False — 3 is odd)
>>> Parity(4).to_json()
{'kind': 'Parity', 'ok': True, 'failure': None}
"""

from __future__ import annotations

from typing import Any

__all__ = ["Result", "RESULT_CLASSES"]

#: Every subclass of :class:`Result`, in definition order.
RESULT_CLASSES: list[type] = []


class Result:
    """Mixin: the uniform ``repr``, ``to_json`` and ``_repr_latex_`` of a result object."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        RESULT_CLASSES.append(cls)

    @property
    def ok(self) -> bool:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def failure(self) -> str | None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def subject(self) -> str:
        """What the result is about, in words (the class name by default)."""
        return type(self).__name__

    def summary(self) -> str:
        """One line: the first line of ``str(self)``."""
        return str(self).splitlines()[0] if str(self) else self.subject

    def __bool__(self) -> bool:
        return bool(self.ok)

    def json_fields(self) -> dict[str, Any]:
        """The result's own data for :meth:`to_json` (JSON-able); none by default."""
        return {}

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"kind": type(self).__name__, "ok": bool(self.ok)}
        if hasattr(type(self), "proved"):
            doc["proved"] = bool(getattr(self, "proved"))
        doc["failure"] = self.failure
        doc.update(self.json_fields())
        return doc

    def __repr__(self) -> str:
        failure, summary = self.failure, self.summary()
        tail = f" — {failure.splitlines()[0]}" if failure and failure.splitlines()[0] not in summary else ""
        return f"{type(self).__name__}({'ok' if self.ok else 'FAILED'}: {summary}{tail})"

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template  # Jinja2 only when a notebook asks

        return render_template("result_inline.tex", result=self).strip()
