"""The decoder as written, run in NumPy (float64): the reference every construction is checked against.

Also the parameters it needs (validated, or seeded at random) and the pointwise maps on phase
channels, which the equivalent network shares with the decoder (the commuting lemma).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..network.pointwise import ACTIVATIONS, batchnorm
from ..network.spec import Activation, ConvLayer, NetworkLayer, NetworkSpec
from ..network.arrays import input_array, parameter
from ..reference.convolution import conv_transpose, destride_transposed_bias
from ..network.spec import parameter_shapes

__all__ = ["random_parameters", "forward", "stage_parameters", "pointwise_stage"]


def stage_parameters(spec: NetworkSpec, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every parameter the spec needs, as float64 arrays of the right shape (errors name the layer)."""
    out = {}
    for key, shape in parameter_shapes(spec).items():
        try:
            out[key] = parameter(params, key, shape)
        except (ValueError, TypeError) as exc:
            layer = spec.layers[int(key.split(".")[0])]
            raise type(exc)(f"{layer.label}: {exc}") from None
    return out


def random_parameters(spec: NetworkSpec, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded float64 parameters for every layer (batch-norm variances positive)."""
    rng = np.random.default_rng(seed)
    return {key: np.abs(rng.standard_normal(shape)) + 0.5 if key.endswith("running_var") else rng.standard_normal(shape)
            for key, shape in parameter_shapes(spec).items()}


def pointwise_stage(layer: NetworkLayer, params: Mapping[str, np.ndarray], h: np.ndarray, repeat: int, layout: str) -> np.ndarray:
    """An activation or batch-norm on ``h`` whose channels are ``C·repeat`` phase channels
    (commuting lemma: per-channel parameters repeated per phase in ``layout`` order)."""
    if isinstance(layer, Activation):
        return ACTIVATIONS[layer.name].apply(h, dict(layer.options))
    values = (destride_transposed_bias(params[f"{layer.path}.{n}"], (repeat,), layout)
              for n in ("weight", "bias", "running_mean", "running_var"))
    return batchnorm(h, *values, layer.eps)


def forward(spec: NetworkSpec, params: Mapping[str, Any], x: Any) -> np.ndarray:
    """The decoder as written (NumPy, float64): transposed convolutions and pointwise maps."""
    params = stage_parameters(spec, params)
    h = input_array(x, spec)
    for layer in spec.layers:
        if isinstance(layer, ConvLayer):
            c = layer.conv
            h = conv_transpose(h, params[f"{layer.path}.weight"], c.stride, c.padding, c.output_padding, c.dilation, c.groups)
            if layer.bias:
                h = h + params[f"{layer.path}.bias"][(slice(None), *(None,) * spec.ndim)]
        else:
            h = pointwise_stage(layer, params, h, 1, "pytorch")
    return h
