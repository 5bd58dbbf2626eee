"""The one update path of the golden files in ``tests/golden``.

Every test that compares output with a golden file calls :func:`golden`.  After an intended change
of the output, regenerate them all with ``SYMSTRIDE_UPDATE_GOLDEN=1 python -m pytest tests`` and
review the diff (``git diff tests/golden``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["GOLDEN", "golden"]

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str | Path, text: str) -> None:
    """Assert ``text`` equals ``tests/golden/NAME`` (or the file ``NAME`` when it is a Path, such as the
    book's stored network document) — or write it, with ``SYMSTRIDE_UPDATE_GOLDEN=1``."""
    path = name if isinstance(name, Path) else GOLDEN / name
    if os.environ.get("SYMSTRIDE_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with SYMSTRIDE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file (SYMSTRIDE_UPDATE_GOLDEN=1 rewrites it)"
