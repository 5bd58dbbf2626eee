"""A convolution layer whose kernel, stride, dilation or padding are SymPy integer symbols.

``Conv(kernel=k, stride=s)`` with symbols builds a :class:`SymbolicConv` (a :class:`Conv`
whose ``spec`` is a :class:`~symstride.symbolic_params.SymbolicConvSpec`).  Its weights are
``w[o, c, m]`` for symbolic taps ``m``; what needs numbers — the explicit matrix, the list of
weight symbols, output sizes — asks for values, and :meth:`SymbolicConv.subs` gives them.

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
symstride.symbolic_params.ConcreteValuesNeeded: the convolution matrix needs concrete parameters: the layer has symbols k, s; call .subs({k: ..., s: ...}) first
"""

from __future__ import annotations

from typing import Any, Mapping

import sympy as sp

from .operators import Conv
from .symbolic_params import SymbolicConvSpec, needs_values

__all__ = ["SymbolicConv"]


class SymbolicConv(Conv):
    """A :class:`Conv` with symbolic parameters (see the module docstring)."""

    def __init__(self, kernel: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1, in_channels: Any = 1,
                 out_channels: Any = 1, groups: Any = 1, *, name: str = "w") -> None:
        if isinstance(kernel, SymbolicConvSpec):
            spec = kernel
        else:
            spec = SymbolicConvSpec.create(kernel, stride, padding, dilation, in_channels, out_channels, groups)
        self._set(spec, name)

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The layer's symbols, in order of first appearance."""
        return self.spec.symbols

    def subs(self, mapping: Mapping[Any, Any]) -> Conv:
        """The layer with values for some or all of its symbols (a concrete :class:`Conv` when none is left)."""
        return Conv(self.spec.subs(mapping), name=self.name)

    def unit_stride(self) -> Conv:
        """The same layer with stride 1 on every axis (same weight symbols)."""
        spec = self.spec
        return Conv(SymbolicConvSpec.create(spec.kernel, 1, spec.padding, spec.dilation, spec.in_channels,
                                            spec.out_channels, spec.groups, ndim=spec.ndim), name=self.name)

    def __repr__(self) -> str:  # the user wrote Conv(...): print it so
        return "Conv" + super().__repr__()[len(type(self).__name__):]

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
