"""``destride``: the unit-stride equivalent of one layer, strided or transposed."""

from __future__ import annotations

from ..core.errors import SymstrideTypeError

from typing import Any

from ..algebra.conv_transpose import ConvTranspose
from ..algebra.operators import Conv
from ..core.params import ConvSpec
from .equivalence import Equivalence, PhaseEquivalence
from .symbolic_equivalence import SymbolicEquivalence
from .transposed import TransposedEquivalence

__all__ = ["destride"]


def destride(layer: Conv | Any, *, layout: str = "pytorch") -> PhaseEquivalence:
    """The unit-stride equivalent of a strided layer (Theorem 2), or of a transposed layer.

    For a :class:`~symstride.algebra.operators.Conv`: an :class:`Equivalence`, the layer over the
    phases of its input (a :class:`~symstride.layer.symbolic_equivalence.SymbolicEquivalence`
    when kernel, stride, dilation or padding are SymPy symbols).  For a :class:`~symstride.algebra.conv_transpose.ConvTranspose`: a
    :class:`~symstride.layer.transposed.TransposedEquivalence`, a unit-stride layer producing the
    phases of the output, then depth-to-space.  ``layout`` orders the phase channels:
    ``"pytorch"`` (``pixel_unshuffle``/``pixel_shuffle``, channel-major ``c·P + φ(r)``) or
    ``"tf"`` (TensorFlow/ONNX ``SpaceToDepth``/``DepthToSpace``, phase-major ``φ(r)·C + c``).

    >>> destride(Conv(kernel=3, stride=2)).filters
    [[[w[0], w[2]], [w[1], 0]]]
    """
    if isinstance(layer, ConvTranspose):
        return TransposedEquivalence(layer, layout)
    if not isinstance(layer, Conv):
        raise SymstrideTypeError(f"destride expects a symstride Conv layer or a ConvTranspose layer, got {type(layer).__name__}")
    if not isinstance(layer.spec, ConvSpec):  # SymPy symbols among kernel, stride, dilation, padding
        return SymbolicEquivalence(layer, layout)
    return Equivalence(layer, layout)
