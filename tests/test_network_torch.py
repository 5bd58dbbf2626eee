"""Theorem 3 against an independent PyTorch forward of the same spec (float64, tolerance 1e-10).

The oracle below reads the raw spec dict and uses only ``torch.nn.functional``; symstride's
strided NumPy forward and its equivalent network must both match it, and the exact check must
pass.  Every network also has its mask decision checked: masks stand exactly where a true
output reads junk (``minimal``, and removing any one of them is caught by the exact check at
that layer), and the divisibility condition (every right-padding layer sees ``B | N``) is never
true of a network that needs a mask.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
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


def _drop_mask(ops, path):
    """``ops`` with the mask before the windowed operation at ``path`` removed (residuals included)."""
    out = []
    for op in ops:
        if getattr(op, "mask", None) is not None and op.path == path:
            op = replace(op, mask=None)
        elif hasattr(op, "body"):
            op = replace(op, body=_drop_mask(op.body, path), shortcut=_drop_mask(op.shortcut, path))
        out.append(op)
    return tuple(out)


def check_mask_decision(eq, verdict):
    """Masks exactly where needed, each one necessary, and the divisibility condition sound."""
    assert verdict.minimal, verdict
    for b in eq.boundaries:  # sufficient condition, per layer: no right padding, or B | N
        assert not b.needed or (b.pads_right and not b.divisible), b
    if all(b.divisible for b in eq.boundaries if b.pads_right):
        assert not eq.masks, [op.path for op in eq.masks]
    for op in eq.masks:  # failing twin of every mask: without it the exact check names the layer
        broken = verify_network(replace(eq, ops=_drop_mask(eq.ops, op.path)))
        first = broken.first_failure
        assert not broken.exact and first.path == op.path, (op.path, str(broken))
        assert "past the end of the feature map and not masked" in first.detail, first.detail


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
    check_mask_decision(eq, verdict)
    return net, eq


_ACTS = ["relu", "leaky_relu", "elu", "tanh", "silu", "sigmoid", "batchnorm"]


def _out(n, k, s, d, left, right):
    return (n + left + right - d * (k - 1) - 1) // s + 1


@st.composite
def strided_networks(draw, ndim, channels=None, size=None):
    """1–4 strided layers (convolutions with padding/dilation/groups/bias, pooling), pointwise maps
    and unit-stride convolutions between them, odd and even sizes — valid by construction: each
    kernel is drawn no wider than the padded feature map it reads, so nothing is discarded."""
    channels = channels or draw(st.integers(1, 3))
    size = list(size or [draw(st.integers(10, 40 if ndim == 1 else 20)) for _ in range(ndim)])
    spec_size = list(size)
    layers = []
    c = channels
    for _ in range(draw(st.integers(1, 4 if ndim == 1 else 3))):
        kind = draw(st.sampled_from(["conv", "conv", "conv", "maxpool", "avgpool"]))
        stride = [draw(st.integers(1, 3)) for _ in range(ndim)]
        stride[draw(st.integers(0, ndim - 1))] = draw(st.integers(2, 3))  # strided on some axis
        if kind == "conv":
            out = draw(st.integers(1, 4))
            groups = draw(st.sampled_from([g for g in (1, 2) if c % g == 0 and out % g == 0]))
            padding = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in range(ndim)]
            dilation = [draw(st.integers(1, 2)) for _ in range(ndim)]
            kernel = [draw(st.integers(1, min(4, (n + l + r - 1) // d + 1))) for n, (l, r), d in zip(size, padding, dilation)]
            layers.append({"type": "conv", "out_channels": out, "kernel": kernel, "stride": stride, "padding": padding,
                           "dilation": dilation, "groups": groups, "bias": draw(st.booleans())})
            size = [_out(*a) for a in zip(size, kernel, stride, dilation, (l for l, _ in padding), (r for _, r in padding))]
            c = out
        else:
            kernel = [draw(st.integers(1, 4)) for _ in range(ndim)]
            # PyTorch: padding ≤ k // 2; at least k − N in total, so the window fits
            padding = [draw(st.integers(max(0, -((n - k) // 2)), k // 2)) for n, k in zip(size, kernel)]
            pool = {"type": kind, "kernel": kernel, "stride": stride, "padding": padding}
            if kind == "avgpool":
                pool["count_include_pad"] = draw(st.booleans())
            layers.append(pool)
            size = [_out(n, k, s, 1, p, p) for n, k, s, p in zip(size, kernel, stride, padding)]
        if draw(st.booleans()):
            layers.append({"type": draw(st.sampled_from(_ACTS))})
        if draw(st.booleans()):
            pad = draw(st.integers(max(0, *(-((n - 3) // 2) for n in size)), 1))  # 3 ≤ N + 2·pad
            layers.append({"type": "conv", "out_channels": c, "kernel": 3, "padding": pad})
            size = [n + 2 * pad - 2 for n in size]
        assert min(size) >= 1
    return {"input": {"channels": channels, "size": spec_size}, "layers": layers}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strided_networks(ndim=1))
def test_random_1d_networks_match_pytorch(spec):
    _compare(spec)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strided_networks(ndim=2))
def test_random_2d_networks_match_pytorch(spec):
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


# ---------------------------------------------------------------------------------------------
# the mask decision where axes disagree: past the end on one axis, padding on the other

#: Found by the valid-by-construction strategy: layer 3 reads position 1 of its 1×1 input on
#: axis 0 (past the end, inside B·A = 2) only at outputs whose axis-1 read is position −1, the
#: phase domain's padding; no read reaches junk, so no mask (the per-axis rule put one there).
COUNTEREXAMPLE = {"input": {"channels": 1, "size": [10, 10]}, "layers": [
    {"type": "conv", "out_channels": 1, "kernel": [3, 1], "stride": [2, 3]},
    {"type": "conv", "out_channels": 1, "kernel": 3},
    {"type": "conv", "out_channels": 1, "kernel": [1, 2], "stride": [2, 1]},
    {"type": "conv", "out_channels": 1, "kernel": 1, "stride": 2, "padding": [[1, 1], [1, 0]]}]}


def test_counterexample_needs_no_mask():
    _, eq = _compare(COUNTEREXAMPLE)
    assert eq.masks == []
    last = eq.boundaries[-1]
    assert last.pads_right and not last.divisible and last.reads_overhang == (False, False)
    assert "every true output reads padding on axis 1" in last.reason


def test_a_superfluous_mask_is_reported():
    """Failing twin of ``minimal``: the mask the per-axis rule put on layer 3 blanks nothing read."""
    from symstride.network.phase_ops import Mask
    from symstride.network.phases import mask_keep

    eq = Network.from_spec(COUNTEREXAMPLE).destride()
    op = eq.ops[-1]
    masked = replace(eq, ops=eq.ops[:-1] + (replace(op, mask=Mask(mask_keep(op.inputs.size, op.inputs.phases, op.inputs.length), 0.0)),))
    verdict = verify_network(masked)
    assert verdict.exact and not verdict.minimal and verdict.superfluous_masks == ("3",)
    assert "masks that blank nothing a true output reads: 3" in str(verdict)


def _smallest_non_divisor(n):
    return next(s for s in range(2, n + 2) if n % s)


@st.composite
def axis_disagreement_networks(draw):
    """Two 2-D networks that differ only in the last layer's axis-1 padding.  The last layer
    reads position ``s·⌈N/s⌉ − 1 ≥ N`` on axis 0 (``s ∤ N``: junk from the convolution before);
    on axis 1 it has one output, which reads position ``−p`` (padding: no mask) or 0 (inside:
    the mask is needed)."""
    n0, n1 = draw(st.integers(4, 20)), draw(st.integers(1, 4))
    k0, s0 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pad0 = [draw(st.integers(0, 1)), draw(st.integers(0, 1))]
    n = _out(n0, k0, s0, 1, *pad0)
    s = _smallest_non_divisor(n)
    first = [{"type": "conv", "out_channels": draw(st.integers(1, 3)), "kernel": [k0, 1], "stride": [s0, 1],
              "padding": [pad0, [0, 0]]}]
    if draw(st.booleans()):
        first.append({"type": draw(st.sampled_from(["relu", "tanh", "batchnorm"]))})

    def last(left):
        return {"type": "conv", "out_channels": 2, "kernel": [s, 1], "stride": [s, n1 + left],
                "padding": [[0, s - 1], [left, 0]]}
    spec = {"input": {"channels": draw(st.integers(1, 2)), "size": [n0, n1]}}
    return dict(spec, layers=first + [last(draw(st.integers(1, 2)))]), dict(spec, layers=first + [last(0)])


@settings(max_examples=30, deadline=None)
@given(axis_disagreement_networks())
def test_past_the_end_on_one_axis_padding_on_the_other(pair):
    padded, inside = pair
    path = str(len(padded["layers"]) - 1)
    _, eq = _compare(padded)
    assert eq.masks == [] and eq.boundaries[-1].reads_overhang == (False, False)
    _, eq = _compare(inside)  # check_mask_decision: removing this mask is caught at the layer
    assert [op.path for op in eq.masks] == [path] and eq.boundaries[-1].reads_overhang == (True, False)


def test_removing_a_needed_mask_breaks_exactness():
    """Failing twin of a needed mask: the exact check names the layer and the read, and the
    numbers disagree with PyTorch (the junk is a bias, not zero)."""
    spec = {"input": {"channels": 1, "size": [9, 3]},
            "layers": [{"type": "conv", "out_channels": 2, "kernel": [3, 1], "padding": [[1, 1], [0, 0]]},
                       {"type": "conv", "out_channels": 1, "kernel": [2, 1], "stride": [2, 3], "padding": [[0, 1], [0, 0]]}]}
    net, eq = _compare(spec)
    assert [op.path for op in eq.masks] == ["1"]
    broken = replace(eq, ops=_drop_mask(eq.ops, "1"))
    verdict = verify_network(broken)
    assert not verdict.exact and verdict.first_failure.path == "1"
    assert verdict.failure == ("layer 1 (conv): NOT exact — tap [1, 0] of output y[..., 4, 0] (output phase 0, 0, phase sample 4, 0): "
                               "the strided layer reads padding (position 9, 0 is outside the 9×3-sample input), the equivalent "
                               "layer reads position 9, 0, past the end of the feature map and not masked")
    params, x = net.random_params(3), net.random_input(3)
    want = torch_forward(spec["layers"], torch.from_numpy(x), params).numpy()
    assert np.abs(broken.forward(x, params) - want).max() > 1e-3
    assert np.abs(eq.forward(x, params) - want).max() <= TOL
