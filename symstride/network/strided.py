"""The strided network as written: :class:`Network` and its NumPy forward (PyTorch semantics).

Parameters are one flat mapping in PyTorch ``state_dict`` layout, keyed by layer path:
``"0.weight"`` ``(C_out, C_in/groups, *k)``, ``"0.bias"``, and for batch-norm ``weight``,
``bias``, ``running_mean``, ``running_var``; a residual block's layers are ``"3.body.0.weight"``
and ``"3.shortcut.0.weight"``.  The same mapping drives the equivalent network.

>>> net = Network.from_spec({"input": {"channels": 1, "size": [9]},
...     "layers": [{"type": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1},
...                {"type": "relu"}, {"type": "maxpool", "kernel": 2}]})
>>> net
Network(1×[9] → 2×[2]: conv k3 s2 p1 → relu → maxpool k2 s2; total stride [4])
>>> params = net.random_params(seed=0)
>>> sorted(params), net.forward(net.random_input(seed=0), params).shape
(['0.bias', '0.weight'], (1, 2, 2))
"""

from __future__ import annotations

from ..core.errors import SymstrideTypeError

from math import prod
from typing import Any, Mapping, Sequence

import numpy as np

from ..reference.convolution import conv, pad
from .pointwise import ACTIVATIONS, batchnorm
from .pooling import avg_pool, max_pool
from .arrays import input_array, parameter
from .spec import Activation, BatchNorm, ConvLayer, NetworkLayer, NetworkSpec, Pool, Residual, parameter_shapes, parse, total_stride

__all__ = ["Network"]


def _run(layers: Sequence[NetworkLayer], x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    for layer in layers:
        x = _apply(layer, x, params)
    return x


def _apply(layer: NetworkLayer, x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    if isinstance(layer, ConvLayer):
        c = layer.conv
        w = parameter(params, f"{layer.path}.weight", c.weight_shape)
        if layer.padding_mode == "zeros":
            y = conv(x, w, c.stride, c.padding, c.dilation, c.groups)
        else:
            y = conv(pad(x, c.padding, layer.padding_mode), w, c.stride, 0, c.dilation, c.groups)
        if layer.bias:
            b = parameter(params, f"{layer.path}.bias", (c.out_channels,))
            y = y + b.reshape((1, -1) + (1,) * (y.ndim - 2))
        return y
    if isinstance(layer, Activation):
        return ACTIVATIONS[layer.name].apply(x, dict(layer.options))
    if isinstance(layer, BatchNorm):
        shape = (layer.in_shape.channels,)
        w, b, m, v = (parameter(params, f"{layer.path}.{n}", shape) for n in ("weight", "bias", "running_mean", "running_var"))
        return batchnorm(x, w, b, m, v, layer.eps)
    if isinstance(layer, Pool):
        p = layer.pool
        padding = tuple(left for left, _ in p.padding)
        if layer.mode == "max":
            return max_pool(x, p.kernel, p.stride, padding, p.dilation)
        return avg_pool(x, p.kernel, p.stride, padding, layer.count_include_pad)
    if isinstance(layer, Residual):
        return _run(layer.body, x, params) + _run(layer.shortcut, x, params)
    raise SymstrideTypeError(f"not a layer: {layer!r}")  # pragma: no cover


def _short(layer: NetworkLayer) -> str:
    def fmt(values: tuple) -> str:
        return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))

    if isinstance(layer, ConvLayer):
        c = layer.conv
        pads = tuple(f"{l}" if l == r else f"{l}:{r}" for l, r in c.padding)
        return f"conv k{fmt(c.kernel)} s{fmt(c.stride)} p{fmt(pads)}"
    if isinstance(layer, Pool):
        p = layer.pool
        text = f"{layer.kind} k{fmt(p.kernel)} s{fmt(p.stride)}"
        return text + (f" p{fmt(tuple(l for l, _ in p.padding))}" if any(l for l, _ in p.padding) else "")
    if isinstance(layer, Residual):
        return "residual"
    return layer.kind


class Network:
    """A strided network built from a validated spec; see :func:`~symstride.network.spec.parse`."""

    def __init__(self, spec: NetworkSpec):
        if not isinstance(spec, NetworkSpec):
            raise SymstrideTypeError(f"Network needs a NetworkSpec (use Network.from_spec), got {type(spec).__name__}")
        if spec.transposed:
            raise SymstrideTypeError(f"Network needs a strided network; layer {spec.transposed[0].path} is a conv_transpose "
                            "(a decoder: use symstride.decoder.destride_decoder)")
        self.spec = spec

    @classmethod
    def from_spec(cls, spec_or_path: Any) -> "Network":
        """Parse and validate a spec given as a dict or as the path of a JSON file."""
        return cls(parse(spec_or_path))

    @property
    def layers(self) -> tuple[NetworkLayer, ...]:
        return self.spec.layers

    @property
    def ndim(self) -> int:
        return self.spec.ndim

    @property
    def total_stride(self) -> tuple[int, ...]:
        """``S = Π s_l`` per axis: the one space-to-depth factor of the equivalent network."""
        return total_stride(self.spec.layers, self.ndim)

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter shapes keyed as in a PyTorch ``state_dict``."""
        return parameter_shapes(self.spec)

    def random_params(self, seed: int = 0) -> dict[str, np.ndarray]:
        """Seeded float64 parameters: weights ~ N(0, 1/fan_in), biases ~ N(0, 1), BN variances in [0.5, 1.5]."""
        rng = np.random.default_rng(seed)
        out = {}
        for key, shape in self.parameter_shapes().items():
            if key.endswith("running_var"):
                out[key] = rng.uniform(0.5, 1.5, shape)
            elif key.endswith("weight") and len(shape) > 1:
                out[key] = rng.standard_normal(shape) / np.sqrt(prod(shape[1:]))
            else:
                out[key] = rng.standard_normal(shape)
        return out

    def random_input(self, seed: int = 0, batch: int = 1) -> np.ndarray:
        """A seeded standard-normal float64 input of shape ``(batch, C, *size)``."""
        rng = np.random.default_rng(seed + 1_000_003)
        return rng.standard_normal((batch, self.spec.input.channels, *self.spec.input.size))

    def forward(self, x: Any, params: Mapping[str, Any]) -> np.ndarray:
        """The strided network's output on ``x`` ``(batch, C, *size)`` (float64)."""
        return _run(self.spec.layers, input_array(x, self.spec), params)

    def destride(self):
        """The equivalent non-strided network with tied filters (Theorem 3)."""
        from .equivalent import destride_network

        return destride_network(self)

    def __repr__(self) -> str:
        def fmt(shape) -> str:
            return f"{shape.channels}×{list(shape.size)}"

        chain = " → ".join(_short(layer) for layer in self.spec.layers)
        return f"Network({fmt(self.spec.input)} → {fmt(self.spec.output)}: {chain}; total stride {list(self.total_stride)})"
