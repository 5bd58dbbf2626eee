"""Verdicts on proof obligations kept on disk, so that listing the proofs does not redo SymPy and z3.

An obligation (:class:`~symstride.proof.discharge.Obligation`) is a claim with its hypotheses; a
verdict ``proved`` (z3 found no counterexample to it) or ``refuted`` (with z3's counterexample) is a
fact about exactly that claim.  :func:`decided` looks the obligation up by the SHA-256 of its
SymPy ``srepr`` (every symbol with its assumptions) and of the source of the modules that decide
it (:mod:`symstride.proof.discharge` with :mod:`~symstride.proof.congruences`, :mod:`symstride.proof.denominators`, :mod:`symstride.core.smt`):
a changed claim, hypothesis or decision procedure is a new key, decided afresh.  ``unknown`` is
never stored.  The store is :mod:`symstride.core.decisions`'s (``SYMSTRIDE_Z3_CACHE=off``
disables it).

>>> import os, tempfile, sympy as sp
>>> from symstride.proof.discharge import Obligation, discharge
>>> s = sp.Symbol("s", integer=True, positive=True)
>>> with tempfile.TemporaryDirectory() as tmp:
...     os.environ["SYMSTRIDE_Z3_CACHE"] = tmp
...     first = decided(Obligation(sp.Ge(s, 1), (), "s ≥ 1"), discharge)
...     again = decided(Obligation(sp.Ge(s, 1), (), "s ≥ 1"), discharge)
>>> del os.environ["SYMSTRIDE_Z3_CACHE"]
>>> first.status, again.status, again.reason.endswith("(decided earlier; stored)")
('proved', 'proved', True)
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import sympy as sp

from ..core.decisions import query_key, recall, remember
from .discharge import Discharged, Obligation

__all__ = ["decided", "procedure_fingerprint"]

_DECIDERS = ("proof/discharge.py", "proof/congruences.py", "proof/denominators.py", "proof/stored.py", "core/smt.py", "core/decisions.py")


@lru_cache(maxsize=1)
def procedure_fingerprint() -> str:
    """SHA-256 of the source of the modules that decide an obligation."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in _DECIDERS:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()


def decided(ob: Obligation, decide: Callable[[Obligation], Discharged]) -> Discharged:
    """``decide(ob)``, or its stored definitive verdict on exactly this obligation."""
    text = f"{procedure_fingerprint()}\n{sp.srepr(ob.claim)}\n" + "\n".join(sp.srepr(a) for a in ob.assuming)
    key = query_key(text, 0)
    stored = recall(key)
    if stored is not None:
        status, values, reason = stored
        symbols = {sp.srepr(s): s for e in (ob.claim, *ob.assuming) for s in sp.sympify(e).free_symbols}
        model: Any = {symbols[k]: (v if isinstance(v, int) else sp.Rational(v)) for k, v in values.items() if k in symbols}
        return Discharged(ob, status, model if status == "refuted" else None, reason)
    out = decide(ob)
    values = {sp.srepr(k): (v if isinstance(v, int) else str(v)) for k, v in (out.counterexample or {}).items()}
    remember(key, out.status, values, out.reason)
    return out
