"""The transposed convolution as a symbolic operator (PyTorch's ``ConvTranspose``).

Its tensor is built from the definition (a scatter), independently of :class:`Conv`; the
equivalence with a unit-stride convolution plus depth-to-space is
:class:`symstride.layer.transposed.TransposedEquivalence`.
"""

from __future__ import annotations

import itertools
from typing import Any

import sympy as sp

from ..core.indexing import input_size, transposed_output_shape
from ..core.params import ConvTransposeSpec
from .operators import Conv, Layer

__all__ = ["ConvTranspose"]


class ConvTranspose(Layer):
    """A transposed convolution layer (PyTorch's ``ConvTranspose``) with symbolic weights.

    ``ConvTranspose(kernel, *, stride=1, padding=0, output_padding=0, dilation=1, in_channels=1,
    out_channels=1, groups=1)``; weights ``w[c, o, *m]`` of shape ``(C_in, C_out/groups, *k)``.

    >>> ConvTranspose(kernel=3, stride=2).matrix(2)
    Matrix([
    [w[0],    0],
    [w[1],    0],
    [w[2], w[0]],
    [   0, w[1]],
    [   0, w[2]]])
    """

    def __init__(
        self,
        kernel: Any = None,
        *,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        dilation: Any = 1,
        in_channels: Any = 1,
        out_channels: Any = 1,
        groups: Any = 1,
        name: str = "w",
        kernel_size: Any = None,
    ) -> None:
        self._adopt(kernel, kernel_size, lambda k: ConvTransposeSpec.create(
            k, stride, padding, output_padding, dilation, in_channels, out_channels, groups), name)

    direction = "transposed"
    output_padding = property(lambda self: self.spec.output_padding, doc="Output padding per axis.")

    def adjoint(self) -> Conv:
        """The strided convolution this layer is the adjoint of (same weight symbols)."""
        return Conv(self.spec.adjoint, name=self.name)

    # -- the transposed convolution tensor ----------------------------------------------------
    def output_shape(self, size: Any) -> tuple[int, ...]:
        """Spatial output shape on an input of spatial shape ``size``."""
        return transposed_output_shape(self.spec, size)

    def matrix(self, size: Any) -> sp.Matrix:
        """The layer's tensor as a matrix, rows ``(o, *t)``, columns ``(c, *n)``, row-major.

        Built from the definition (a scatter: input ``n`` adds ``w[c, o, m]·x[c, n]`` at
        ``t = s·n + δ·m − p_left`` when that is an output), independently of :class:`Conv`.
        """
        spec = self.spec
        size = input_size(spec, size)
        n_out = transposed_output_shape(spec, size)
        cin_g, cout_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups

        def terms():
            for c in range(spec.in_channels):
                group = c // cin_g
                for n in itertools.product(*map(range, size)):
                    for o_local, m in itertools.product(range(cout_g), itertools.product(*map(range, spec.kernel))):
                        t = [s * nn + d * mm - p[0] for nn, mm, s, d, p in zip(n, m, spec.stride, spec.dilation, spec.padding)]
                        if all(0 <= tt < no for tt, no in zip(t, n_out)):
                            yield group * cout_g + o_local, t, c, n, self.weight(c, o_local, m)

        return self._tensor(size, n_out, terms(), "transposed convolution")

    def _latex(self, printer: Any) -> str:
        from ..render.templates import render_template

        return render_template("operator_conv_transpose.tex", spec=self.spec, name=self.name).strip()
