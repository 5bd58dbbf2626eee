"""The bottom layer: parameters, integer index arithmetic, the exact tap verifiers and errors.

Everything here is plain integer/NumPy code; it imports nothing else from symstride, and every
other layer may import it.  See ARCHITECTURE.md for the layers.
"""

__all__: list[str] = []
