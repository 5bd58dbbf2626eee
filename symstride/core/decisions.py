"""z3's definitive verdicts, kept on disk: the same query is decided once, not once per process.

:func:`symstride.core.smt.decide` asks z3 about a formula; a verdict of ``unsat`` (the claim is
proved) or ``sat`` (with a model: a counterexample) is a fact about that exact formula, for that
z3 version.  :func:`recall` and :func:`remember` keep such verdicts in a directory, one small
JSON file per query, keyed by the SHA-256 of the z3 version, the resource limit and the query's
SMT-LIB text (``Solver.sexpr()``: every hypothesis and the negated claim).  A changed claim,
hypothesis or translation is a different text, hence a different key, and is decided afresh;
``unknown`` (z3 gave up) is never stored, so nothing is ever claimed that z3 did not establish.
This is what lets ``symstride prove --list`` report verdicts without re-running z3 on every
obligation of every proof in every process.

Where: the directory named by ``SYMSTRIDE_Z3_CACHE`` (``off`` disables the store), else
``$XDG_CACHE_HOME/symstride/z3`` (``~/.cache/symstride/z3``).  Files are written atomically, so
processes running in parallel share the store safely.

>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as tmp:
...     os.environ["SYMSTRIDE_Z3_CACHE"] = tmp
...     key = query_key("(assert false)", 10)
...     remember(key, "proved", {}, "z3: the negation has no integer model")
...     recall(key)
('proved', {}, 'z3: the negation has no integer model (decided earlier; stored)')
>>> del os.environ["SYMSTRIDE_Z3_CACHE"]
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_directory", "query_key", "recall", "remember"]


def cache_directory() -> Path | None:
    """The directory of stored verdicts, or None when the store is off."""
    chosen = os.environ.get("SYMSTRIDE_Z3_CACHE")
    if chosen is not None:
        return None if chosen.strip().lower() in ("off", "0", "no", "") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symstride" / "z3"


def query_key(smt_text: str, rlimit: int) -> str:
    """The key of one query: z3's version, the resource limit and the SMT-LIB text."""
    import z3

    return hashlib.sha256(f"{z3.get_version_string()}\n{int(rlimit)}\n{smt_text}".encode()).hexdigest()


def recall(key: str) -> tuple[str, dict[str, Any], str] | None:
    """``(status, counterexample by z3 constant name, reason)`` stored under ``key``, or None."""
    directory = cache_directory()
    if directory is None:
        return None
    try:
        data = json.loads((directory / key[:2] / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None
    if data.get("status") not in ("proved", "refuted"):
        return None
    return data["status"], dict(data.get("counterexample") or {}), f"{data.get('reason', '')} (decided earlier; stored)"


def remember(key: str, status: str, counterexample: dict[str, Any], reason: str) -> None:
    """Store a definitive verdict (``proved`` or ``refuted``); anything else is not stored."""
    directory = cache_directory()
    if directory is None or status not in ("proved", "refuted"):
        return
    folder = directory / key[:2]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as handle:
            json.dump({"status": status, "counterexample": counterexample, "reason": reason}, handle)
        os.replace(handle.name, folder / f"{key}.json")
    except OSError:  # a read-only or full disk: the verdict is simply not kept
        return
