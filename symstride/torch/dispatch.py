"""``destride_layer``: one strided PyTorch layer — convolution, pooling or transposed convolution —
to its unit-stride equivalent, dispatched on the layer's type."""

from __future__ import annotations

from torch import nn

from ..core.errors import SymstrideError, SymstrideTypeError
from .layers import AVG_POOL_TYPES, CONV_TYPES, MAX_POOL_TYPES, DestridedConv, conv_spec
from .pooling import DestridedPool, pool_spec
from .parametrized import ParametrizedDestridedConv, parametrized_conv_base
from .transposed import CONV_TRANSPOSE_TYPES, destride_transposed_layer

__all__ = ["destride_layer"]


def destride_layer(layer: nn.Module, *, form: str = "auto") -> nn.Module:
    """The unit-stride equivalent of a strided PyTorch layer (Theorem 2).

    ``layer`` is an ``nn.Conv1d/2d/3d`` (any groups, dilation, bias, padding — ints, tuples,
    ``'valid'``, ``'same'`` — and ``padding_mode``) or an ``nn.MaxPool1d/2d/3d`` /
    ``nn.AvgPool1d/2d/3d`` (or an ``nn.ConvTranspose1d/2d/3d``: sub-pixel convolution, see
    :mod:`symstride.torch.transposed`), or a parametrized convolution (``weight_norm``,
    ``spectral_norm``: :class:`~symstride.torch.parametrized.ParametrizedDestridedConv`, the
    parametrization kept).  The result is made of padding, a split into phases
    (space-to-depth, phases without weight dropped) and unit-stride convolutions or poolings;
    its output equals ``layer``'s on every input, NaN and inf included.  ``form`` picks the
    equivalent convolution (:data:`~symstride.torch.layers.FORMS`): by default ``"auto"``, the
    fastest NaN-faithful form for the layer's shape; ``"dense"`` is Theorem 2 as stated —
    padding, one :class:`SpaceToDepth` and one unit-stride convolution with ``W'``.  The
    module's parameters are ``layer.weight`` and ``layer.bias`` themselves (tied; filters are
    gathered on each call).

    >>> import torch
    >>> conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1).double()
    >>> eq = destride_layer(conv)
    >>> eq
    DestridedConv(2-D, kernel 3, stride 2, padding 1, dilation 1, 3→8 channels, form='phases', phases=[(0, 0), (0, 1), (1, 0), (1, 1)])
    >>> [tuple(w.shape[2:]) for w in eq.phase_weights()], eq.weight is conv.weight
    ([(2, 2), (2, 1), (1, 2), (1, 1)], True)
    >>> x = torch.randn(2, 3, 11, 10, dtype=torch.float64)
    >>> bool(torch.allclose(eq(x), conv(x), rtol=0, atol=1e-12))
    True
    >>> destride_layer(torch.nn.Conv2d(4, 4, 1, stride=2)).windows[0].phase   # 1×1 stride 2: one phase
    (0, 0)
    """
    if not isinstance(layer, nn.Module):
        raise SymstrideTypeError(f"destride_layer expects a torch.nn layer, got {type(layer).__name__}")
    kind = type(layer)
    if kind in CONV_TYPES:
        spec = conv_spec(layer.weight.shape, layer.stride, layer.padding, layer.dilation, layer.groups)
        return DestridedConv(spec, layer.weight, layer.bias, layer.padding_mode, form)
    if kind in MAX_POOL_TYPES:
        if layer.return_indices:
            raise SymstrideError(f"{kind.__name__} with return_indices=True has no stride-free equivalent in symstride")
        spec = pool_spec(layer.kernel_size, layer.stride, layer.padding, layer.dilation, MAX_POOL_TYPES[kind])
        return DestridedPool("max", spec, ceil_mode=layer.ceil_mode)
    if kind in AVG_POOL_TYPES:
        spec = pool_spec(layer.kernel_size, layer.stride, layer.padding, 1, AVG_POOL_TYPES[kind])
        return DestridedPool(
            "avg", spec, ceil_mode=layer.ceil_mode, count_include_pad=layer.count_include_pad,
            divisor_override=getattr(layer, "divisor_override", None),
        )
    if kind in CONV_TRANSPOSE_TYPES:
        return destride_transposed_layer(layer)
    if parametrized_conv_base(layer) is not None:  # weight_norm, spectral_norm: the parametrization kept
        return ParametrizedDestridedConv(layer, form)
    supported = ", ".join(t.__name__ for t in (*CONV_TYPES, *MAX_POOL_TYPES, *AVG_POOL_TYPES, *CONV_TRANSPOSE_TYPES))
    raise SymstrideTypeError(f"destride_layer supports {supported}; got {kind.__name__}")
