"""Parametrized convolutions (``weight_norm``, ``spectral_norm``, any ``torch.nn.utils.parametrize``).

``torch.nn.utils.parametrizations.weight_norm(conv)`` turns an ``nn.Conv2d`` into a
``ParametrizedConv2d`` (a subclass created on the fly) whose ``weight`` is recomputed from the
original parameters (``parametrizations.weight.original0/1``) on every access.  Its stride is
the convolution's, so Theorem 2 applies unchanged; what must be kept is the parametrization.
:class:`ParametrizedDestridedConv` holds the parametrized layer itself (so its parameters and
buffers — the trainable magnitudes and directions, spectral norm's power-iteration vectors —
stay those of the original) and, in ``forward``, gathers the equivalent filters from the
``weight`` the parametrization computes, with the same index as any functional convolution
(:class:`~symstride.torch.layers.DestridedConvCall`).
"""

from __future__ import annotations

from ..core.errors import SymstrideTypeError

import torch
from torch import nn
from torch.nn.utils import parametrize

from .layers import CONV_TYPES, DestridedConvCall, conv_spec

__all__ = ["parametrized_conv_base", "ParametrizedDestridedConv"]


def parametrized_conv_base(module: nn.Module) -> type | None:
    """The convolution class a parametrized ``module`` was made from, or None if it is not one.

    >>> import torch
    >>> from torch.nn.utils.parametrizations import weight_norm
    >>> parametrized_conv_base(weight_norm(torch.nn.Conv2d(2, 2, 3))).__name__
    'Conv2d'
    >>> parametrized_conv_base(torch.nn.Conv2d(2, 2, 3)) is None
    True
    """
    if not parametrize.is_parametrized(module):
        return None
    for base in type(module).__mro__[1:]:
        if base in CONV_TYPES:
            return base
    return None


class ParametrizedDestridedConv(nn.Module):
    """A strided parametrized convolution as its Theorem 2 equivalent, the parametrization kept.

    >>> import torch
    >>> from torch.nn.utils.parametrizations import weight_norm
    >>> conv = weight_norm(torch.nn.Conv2d(3, 4, 3, stride=2, padding=1).double())
    >>> eq = ParametrizedDestridedConv(conv)
    >>> x = torch.randn(1, 3, 9, 9, dtype=torch.float64)
    >>> float((eq(x) - conv(x)).detach().abs().max()) < 1e-12
    True
    >>> sorted(name for name, _ in eq.named_parameters())
    ['layer.bias', 'layer.parametrizations.weight.original0', 'layer.parametrizations.weight.original1']
    """

    def __init__(self, layer: nn.Module, form: str = "auto") -> None:
        super().__init__()
        if parametrized_conv_base(layer) is None:
            raise SymstrideTypeError(f"expected a parametrized Conv1d/2d/3d, got {type(layer).__name__}")
        spec = conv_spec(layer.weight.shape, layer.stride, layer.padding, layer.dilation, layer.groups)
        self.layer = layer
        self.equivalent = DestridedConvCall(spec, layer.padding_mode, form)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.equivalent(x, self.layer.weight, self.layer.bias)
