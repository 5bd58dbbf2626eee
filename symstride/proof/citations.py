"""Citations of lemmas: a lemma rule may be cited only once its own proof is proved, never in a cycle.

The named proofs register their builders here (:func:`register`, done by
:mod:`symstride.proof.proofs` on import); :func:`lemma_verdict` builds the proof a rule names and
asks a checker (:func:`symstride.proof.step_proofs.part_verdict`) about each of its derivations.
A proof that is being decided and is cited again on the way is a **cycle** of citations: it is
reported as such and never counts as proved.  :func:`using_registry` swaps the registry (for
tests: a deliberately circular pair of lemmas).

>>> with using_registry({"a": lambda: ["a part"]}):
...     lemma_verdict("a", lambda part: (True, "proved"))
(True, 'proved')
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Mapping

from ..core.errors import SymstrideError

__all__ = ["register", "using_registry", "citation_cycle", "lemma_verdict", "cited_parts"]

_REGISTRY: dict[str, Callable[[], Any]] = {}
_OVERRIDE: list[Mapping[str, Callable[[], Any]] | None] = [None]
_VERDICTS: dict[tuple[int, str], tuple[bool, str]] = {}
_STACK: list[str] = []


def register(builders: Mapping[str, Callable[[], Any]]) -> None:
    """Make the proofs ``builders`` (name → function returning the proof's derivations) citable."""
    _REGISTRY.update(builders)


def _registry() -> Mapping[str, Callable[[], Any]]:
    return _OVERRIDE[0] if _OVERRIDE[0] is not None else _REGISTRY


@contextlib.contextmanager
def using_registry(registry: Mapping[str, Callable[[], Any]]) -> Iterator[None]:
    """Resolve lemma citations in ``registry`` instead of the registered proofs."""
    saved = _OVERRIDE[0]
    _OVERRIDE[0] = registry
    try:
        yield
    finally:
        _OVERRIDE[0] = saved


def citation_cycle(name: str) -> list[str] | None:
    """The cycle of citations through ``name`` that is being decided right now, or None."""
    if name in _STACK:
        return _STACK[_STACK.index(name):] + [name]
    return None


def cited_parts(name: str) -> list[Any]:
    """The derivations of the registered proof ``name`` (each marked as proving ``name``)."""
    registry = _registry()
    if name not in registry:
        raise SymstrideError(f"no proof named {name!r} is registered")
    parts = registry[name]()
    parts = list(parts) if isinstance(parts, (list, tuple)) else [parts]
    for part in parts:
        if hasattr(part, "result"):
            part.result = name
    return parts


def lemma_verdict(name: str, check: Callable[[Any], tuple[bool, str]]) -> tuple[bool, str]:
    """Whether the proof ``name`` is proved (every part passes ``check``), and if not why; cached."""
    key = (id(_OVERRIDE[0]), name)
    if key in _VERDICTS:
        return _VERDICTS[key]
    cycle = citation_cycle(name)
    if cycle is not None:
        return False, "citation cycle: " + " → ".join(cycle)
    registry = _registry()
    if name not in registry:
        return False, f"no proof named {name!r} is registered"
    _STACK.append(name)
    try:
        parts = registry[name]()
        parts = parts if isinstance(parts, (list, tuple)) else [parts]
        verdict: tuple[bool, str] = (True, "proved")
        for part in parts:
            if hasattr(part, "result"):
                part.result = name
            verdict = check(part)
            if not verdict[0]:
                break
    finally:
        _STACK.pop()
    if "citation cycle" not in verdict[1] and _OVERRIDE[0] is None:
        _VERDICTS[key] = verdict
    return verdict
