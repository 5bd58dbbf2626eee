"""Derivations and proofs: steps, rules and their side conditions, the signals of a layer, and the
named derivations (Theorem 1 in :mod:`~symstride.proof.subsampling`, Theorem 2 in
:mod:`~symstride.proof.polyphase`, the sub-pixel theorem in :mod:`~symstride.proof.subpixel`,
composition in :mod:`~symstride.proof.composition`), registered in :mod:`~symstride.proof.proofs`.

Imports the algebra layer and below, never :mod:`symstride.layer` (a layer's ``.derivation``
calls into this package, not the other way round).
"""

from . import proofs  # noqa: F401  (registers the named proofs, so that derivations may cite their lemmas)

__all__: list[str] = []
