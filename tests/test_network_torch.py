"""Theorem 3 against an independent PyTorch forward of the same spec (float64, tolerance 1e-10).

The oracle below reads the raw spec dict and uses only ``torch.nn.functional``; symstride's
strided NumPy forward and its equivalent network must both match it, and the exact check must
pass.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symstride.network.strided import Network
from symstride.network.verify import verify_network

TOL = 1e-10

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_ACT = {"relu": F.relu, "leaky_relu": F.leaky_relu, "elu": F.elu, "tanh": torch.tanh, "silu": F.silu, "sigmoid": torch.sigmoid}


def _pairs(padding, nd):
    if isinstance(padding, int):
        return [(padding, padding)] * nd
    out = [(p, p) if isinstance(p, int) else tuple(p) for p in padding]
    return out * nd if len(out) == 1 else out


def torch_forward(layers, x, params, prefix=""):
    """The spec's network applied to ``x`` (a float64 tensor) with numpy ``params``."""
    p = lambda key: torch.from_numpy(params[key])  # noqa: E731
    nd = x.dim() - 2
    for i, layer in enumerate(layers):
        path, kind = f"{prefix}{i}", layer["type"]
        if kind == "conv":
            flat = [v for l, r in reversed(_pairs(layer.get("padding", 0), nd)) for v in (l, r)]
            mode = layer.get("padding_mode", "zeros")
            x = F.pad(x, flat, mode="constant" if mode == "zeros" else mode)
            bias = p(f"{path}.bias") if layer.get("bias", True) else None
            x = _CONV[nd](x, p(f"{path}.weight"), bias, stride=layer.get("stride", 1),
                          dilation=layer.get("dilation", 1), groups=layer.get("groups", 1))
        elif kind == "batchnorm":
            x = F.batch_norm(x, p(f"{path}.running_mean"), p(f"{path}.running_var"), p(f"{path}.weight"),
                             p(f"{path}.bias"), training=False, eps=layer.get("eps", 1e-5))
        elif kind == "maxpool":
            k = layer["kernel"]
            x = _MAX[nd](x, k, stride=layer.get("stride", k), padding=layer.get("padding", 0), dilation=layer.get("dilation", 1))
        elif kind == "avgpool":
            k = layer["kernel"]
            x = _AVG[nd](x, k, stride=layer.get("stride", k), padding=layer.get("padding", 0),
                         count_include_pad=layer.get("count_include_pad", True))
        elif kind == "residual":
            x = torch_forward(layer["body"], x, params, f"{path}.body.") + torch_forward(layer.get("shortcut", []), x, params, f"{path}.shortcut.")
        else:
            options = {k: v for k, v in layer.items() if k != "type"}
            x = _ACT[kind](x, **options)
    return x


def _compare(spec, seed=0, batch=2):
    net = Network.from_spec(spec)
    eq = net.destride()
    params, x = net.random_params(seed), net.random_input(seed, batch)
    want = torch_forward(spec["layers"], torch.from_numpy(x), params).numpy()
    got_strided, got_eq = net.forward(x, params), eq.forward(x, params)
    assert got_strided.shape == want.shape == got_eq.shape
    assert np.abs(got_strided - want).max() <= TOL
    assert np.abs(got_eq - want).max() <= TOL
    verdict = verify_network(eq)
    assert verdict.exact, verdict
    assert verdict.minimal, verdict
    return net, eq


_ACTS = ["relu", "leaky_relu", "elu", "tanh", "silu", "sigmoid", "batchnorm"]


@st.composite
def strided_networks(draw, ndim):
    """1–4 strided layers (convolutions with padding/dilation/groups/bias, pooling), pointwise maps
    and unit-stride convolutions between them, odd and even sizes."""
    channels = draw(st.integers(1, 3))
    size = [draw(st.integers(10, 40 if ndim == 1 else 20)) for _ in range(ndim)]
    layers = []
    c = channels
    for _ in range(draw(st.integers(1, 4 if ndim == 1 else 3))):
        kind = draw(st.sampled_from(["conv", "conv", "conv", "maxpool", "avgpool"]))
        stride = [draw(st.integers(1, 3)) for _ in range(ndim)]
        stride[draw(st.integers(0, ndim - 1))] = draw(st.integers(2, 3))  # strided on some axis
        kernel = [draw(st.integers(1, 4)) for _ in range(ndim)]
        if kind == "conv":
            out = draw(st.integers(1, 4))
            groups = draw(st.sampled_from([g for g in (1, 2) if c % g == 0 and out % g == 0]))
            padding = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in range(ndim)]
            layers.append({"type": "conv", "out_channels": out, "kernel": kernel, "stride": stride, "padding": padding,
                           "dilation": [draw(st.integers(1, 2)) for _ in range(ndim)], "groups": groups,
                           "bias": draw(st.booleans())})
            c = out
        else:
            pool = {"type": kind, "kernel": kernel, "stride": stride, "padding": [draw(st.integers(0, k // 2)) for k in kernel]}
            if kind == "avgpool":
                pool["count_include_pad"] = draw(st.booleans())
            layers.append(pool)
        if draw(st.booleans()):
            layers.append({"type": draw(st.sampled_from(_ACTS))})
        if draw(st.booleans()):
            layers.append({"type": "conv", "out_channels": c, "kernel": 3, "padding": draw(st.integers(0, 1))})
    return {"input": {"channels": channels, "size": size}, "layers": layers}


def _valid(spec):
    try:
        Network.from_spec(spec)
    except ValueError:
        return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(strided_networks(ndim=1))
def test_random_1d_networks_match_pytorch(spec):
    assume(_valid(spec))
    _compare(spec)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(strided_networks(ndim=2))
def test_random_2d_networks_match_pytorch(spec):
    assume(_valid(spec))
    _compare(spec)


def _block(out, stride):
    return {"type": "residual",
            "body": [{"type": "conv", "out_channels": out, "kernel": 3, "stride": stride, "padding": 1, "bias": False},
                     {"type": "batchnorm"}, {"type": "relu"},
                     {"type": "conv", "out_channels": out, "kernel": 3, "padding": 1, "bias": False},
                     {"type": "batchnorm"}],
            "shortcut": [{"type": "conv", "out_channels": out, "kernel": 1, "stride": stride, "bias": False},
                         {"type": "batchnorm"}] if stride != 1 else []}


def resnet_spec(size, channels=3):
    """A small ResNet: 7×7/2 stem, BN, ReLU, 3×3/2 max-pool, an identity block, two strided blocks."""
    return {"input": {"channels": channels, "size": size},
            "layers": [{"type": "conv", "out_channels": 4, "kernel": 7, "stride": 2, "padding": 3, "bias": False},
                       {"type": "batchnorm"}, {"type": "relu"},
                       {"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1},
                       _block(4, 1), {"type": "relu"}, _block(6, 2), {"type": "relu"}, _block(8, 2), {"type": "relu"}]}


@pytest.mark.parametrize("size, masked", [
    # 32 = 2·16: every layer's input size is divisible by its B, so provably no mask
    ([32, 32], []),
    # odd sizes: every padded layer reads past the end, except the stem (it reads the zero
    # extension of the input), 4.body.0 (its input is relu of the max-pool, whose overhang is
    # zeroed) and 8.body.3 (B = 1: no overhang)
    ([33, 35], ["3", "4.body.3", "6.body.0", "6.body.3", "8.body.0"]),
    # 20×12 into the max-pool and 10×6 into 6.body.0 have overhang that no true output reads
    ([40, 24], ["4.body.3", "6.body.3", "8.body.0"]),
])
def test_resnet_style_network(size, masked):
    net, eq = _compare(resnet_spec(size))
    assert [op.path for op in eq.masks] == masked
    assert net.total_stride == (16, 16)


def test_1d_resnet_and_3d_network():
    spec = resnet_spec([45], channels=2)
    _compare(spec)
    spec3 = {"input": {"channels": 2, "size": [7, 9, 8]},
             "layers": [{"type": "conv", "out_channels": 3, "kernel": 3, "stride": [2, 2, 1], "padding": 1}, {"type": "relu"},
                        {"type": "maxpool", "kernel": 2, "stride": [1, 2, 2]},
                        {"type": "conv", "out_channels": 2, "kernel": [3, 2, 1], "stride": 2, "padding": [[0, 1], 1, 0]}]}
    _compare(spec3, batch=1)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_on_the_first_layer(mode):
    spec = {"input": {"channels": 2, "size": [11, 10]},
            "layers": [{"type": "batchnorm"}, {"type": "tanh"},
                       {"type": "conv", "out_channels": 3, "kernel": 3, "stride": 2, "padding": [[1, 2], 1], "padding_mode": mode},
                       {"type": "relu"}, {"type": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1}]}
    _, eq = _compare(spec)
    assert eq.input.serves == "2" and eq.input.padding_mode == mode
