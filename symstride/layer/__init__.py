"""One layer: ``destride`` of a strided or transposed layer, its filter bank, verification,
the mapping checker and the layer's text reports.

Builds on :mod:`symstride.core` (taps, verifiers) and, only when ``.derivation`` is asked for,
:mod:`symstride.proof`.
"""

__all__: list[str] = []
