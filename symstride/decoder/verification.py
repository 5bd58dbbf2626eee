"""The verdict of a decoder's exact check: every stage's report, as one result.

:meth:`symstride.decoder.DecoderEquivalent.verify` decides each stage by the one exact read
comparison (:mod:`symstride.core.tap_comparison`); :class:`DecoderVerification` holds the stage
reports in order and speaks the report protocol (:mod:`symstride.core.results`): ``ok`` when every
stage is exact, ``failure`` the first stage's mismatch.  It iterates over and indexes its stage
reports, so ``all(r.exact for r in eq.verify())`` and ``eq.verify()[1]`` read as before.

>>> from symstride.core.tap_comparison import Mismatch, VerifyReport
>>> good = VerifyReport("stage 0", True, (4,), (8,), 3, 24)
>>> bad = VerifyReport("stage 1", False, (8,), (16,), 3, 48, Mismatch("tap [1] at output y[0, 0, 2]: differs"))
>>> DecoderVerification((good, bad)).failure
'stage 1: tap [1] at output y[0, 0, 2]: differs'
>>> DecoderVerification((good,)).ok
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from ..core.results import Result
from ..core.tap_comparison import VerifyReport

__all__ = ["DecoderVerification"]


@dataclass(frozen=True, repr=False)
class DecoderVerification(Result):
    """Every stage's exact check (``reports``, in order); ``exact`` only when all of them are.

    Exact on the decoder's input size: it proves nothing for other sizes (``proved`` is not meant).
    """

    reports: tuple[VerifyReport, ...]

    @property
    def exact(self) -> bool:
        return all(r.exact for r in self.reports)

    @property
    def ok(self) -> bool:
        return self.exact

    @property
    def first_failure(self) -> VerifyReport | None:
        """The first stage report that is not exact, or None."""
        return next((r for r in self.reports if not r.exact), None)

    @property
    def failure(self) -> str | None:
        first = self.first_failure
        return None if first is None else f"{first.identity}: {first.failure}"

    def json_fields(self) -> dict[str, Any]:
        return {"exact": self.exact, "stages": [r.to_json() for r in self.reports]}

    def __str__(self) -> str:
        head = f"decoder exact check: {'exact' if self.exact else 'NOT exact'} ({len(self.reports)} stages, integer index analysis)"
        return "\n".join([head, *("  " + line for r in self.reports for line in str(r).splitlines())])

    def __iter__(self) -> Iterator[VerifyReport]:
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    def __getitem__(self, i: int) -> VerifyReport:
        return self.reports[i]
