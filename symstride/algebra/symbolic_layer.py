"""What a layer with symbolic parameters does differently: it asks for values where numbers are needed.

``Conv(kernel=k, stride=s)`` with SymPy symbols builds a
:class:`~symstride.algebra.operators.SymbolicConv`: a :class:`~symstride.algebra.operators.Conv` whose ``spec``
is a :class:`~symstride.core.symbolic_params.SymbolicConvSpec`, with the behaviour of
:class:`SymbolicParameters` mixed in.  Its weights are ``w[o, c, m]`` for symbolic taps ``m``;
the explicit matrix, the list of weight symbols and output sizes need numbers, which
:meth:`SymbolicParameters.subs` gives.

>>> import sympy as sp
>>> from symstride import Conv
>>> k, s = sp.symbols("k s", integer=True, positive=True)
>>> layer = Conv(kernel=k, stride=s)
>>> layer
Conv(kernel=k, stride=s)
>>> layer.subs({k: 3, s: 2}) == Conv(kernel=3, stride=2)
True
>>> layer.matrix(5)
Traceback (most recent call last):
    ...
symstride.core.symbolic_params.ConcreteValuesNeeded: the convolution matrix needs concrete parameters: the layer has symbols k, s; call .subs({k: ..., s: ...}) first
"""

from __future__ import annotations

from typing import Any, Mapping

import sympy as sp

from ..core.symbolic_params import needs_values

__all__ = ["SymbolicParameters"]


class SymbolicParameters:
    """Mixin for a layer class whose ``spec`` holds symbols; the class defines ``rebuild(spec)``,
    the layer of a (concrete or symbolic) spec with the same weight name."""

    spec: Any

    def rebuild(self, spec: Any) -> Any:  # pragma: no cover - defined by the layer class
        raise NotImplementedError

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The layer's symbols, in order of first appearance."""
        return self.spec.symbols

    def subs(self, mapping: Mapping[Any, Any]) -> Any:
        """The layer with values for some or all of its symbols (a concrete layer when none is left)."""
        return self.rebuild(self.spec.subs(mapping))

    def __repr__(self) -> str:  # the user wrote Conv(...): print it so
        text = super().__repr__()
        shown = next(c for c in type(self).__mro__ if not issubclass(c, SymbolicParameters))
        return text.replace(type(self).__name__, shown.__name__, 1)

    # -- what needs numbers --------------------------------------------------------------------
    @property
    def weights(self) -> list:
        raise needs_values("the list of weight symbols", self.symbols)

    @property
    def weight_array(self) -> Any:
        raise needs_values("the weight array", self.symbols)

    def output_shape(self, size: Any) -> tuple:
        raise needs_values("the output shape", self.symbols)

    def matrix(self, size: Any) -> sp.Matrix:
        raise needs_values("the convolution matrix", self.symbols)
