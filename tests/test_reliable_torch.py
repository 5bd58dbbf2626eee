"""Issue 13, items 3–4: converted layers and models agree with the original on NaN/inf, and keep
the original parameters (tied), so fine-tuning the converted model trains the original one."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from symstride.torch import destride_layer, destride_model
from symstride.torch.layers import DestridedConv

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def _same_nonfinite(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape
    assert torch.equal(torch.isnan(a), torch.isnan(b)), "NaN positions differ"
    assert torch.equal(torch.isposinf(a), torch.isposinf(b)) and torch.equal(torch.isneginf(a), torch.isneginf(b))
    fin = torch.isfinite(a)
    assert torch.allclose(a[fin], b[fin], rtol=1e-9, atol=1e-9)


LAYERS = [  # (ndim, c_in, c_out, kernel, stride, padding, dilation, groups, size): few channels (stems) included
    (1, 1, 2, 3, 2, 0, 1, 1, 12),
    (1, 2, 3, 4, 3, 1, 1, 1, 14),
    (2, 3, 4, 3, 2, 1, 1, 1, 9),
    (2, 2, 2, 3, 2, 0, 2, 1, 12),
    (2, 4, 4, 3, 2, 1, 1, 4, 10),
    (2, 16, 8, 3, 2, 1, 1, 1, 9),
    (3, 1, 2, 3, 2, 1, 1, 1, 7),
]


def _inputs(c, size, ndim):
    x = torch.randn(1, c, *(size,) * ndim, dtype=torch.float64)
    # every single sample position in turn holds NaN, +inf or -inf: a batch of one-hot corruptions
    n = x[0, 0].numel()
    xs = x.repeat(3 * n, 1, *(1,) * ndim)
    flat = xs.view(3 * n, c, -1)
    for i in range(n):
        for k, v in enumerate((float("nan"), float("inf"), float("-inf"))):
            flat[3 * i + k, 0, i] = v
    return xs


@pytest.mark.parametrize("case", LAYERS, ids=[f"L{i}" for i in range(len(LAYERS))])
def test_destride_layer_default_agrees_on_every_nan_and_inf_position(case):
    ndim, ci, co, k, s, p, d, g, size = case
    conv = CONV[ndim](ci, co, k, stride=s, padding=p, dilation=d, groups=g).double()
    eq = destride_layer(conv)
    x = _inputs(ci, size, ndim)
    with torch.no_grad():
        _same_nonfinite(eq(x), conv(x))


def test_a_nan_the_strided_layer_never_reads_stays_out_of_the_output():
    conv = nn.Conv1d(1, 1, 3, stride=2).double()  # on 12 samples, x[11] is never read
    x = torch.randn(1, 1, 12, dtype=torch.float64)
    x[0, 0, 11] = float("nan")
    with torch.no_grad():
        assert torch.isfinite(conv(x)).all() and torch.isfinite(destride_layer(conv)(x)).all()
        assert torch.isnan(destride_layer(conv, form="dense")(x)).any()  # the literal Theorem 2 form multiplies 0·NaN


def _small_net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(8, 4, 2, stride=2),
    ).double().eval()


def test_destride_model_layer_mode_agrees_on_nan_positions():
    net = _small_net()
    x = torch.randn(4, 3, 16, 16, dtype=torch.float64)
    flat = destride_model(net, x, mode="layer")
    y = x.clone()
    y[0, 0, 15, 15] = float("nan")  # not read by the first layer's last output? read or not, positions must agree
    y[1, 1, 3, 4] = float("inf")
    y[2, 2, 0, 0] = float("-inf")
    with torch.no_grad():
        _same_nonfinite(flat(y), net(y))


def test_layer_mode_keeps_exactly_the_original_parameters_tied():
    net = _small_net()
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    flat = destride_model(net, x, mode="layer")
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(flat) == count(net)
    names = sorted(n for n, _ in flat.named_parameters())
    assert names == sorted(n for n, _ in net.named_parameters())
    conv = nn.Conv2d(3, 4, 3, stride=2)
    eq = destride_layer(conv)
    assert eq.weight is conv.weight and eq.bias is conv.bias and list(eq.parameters()) == [conv.weight, conv.bias]


@pytest.mark.parametrize("form", ["auto", "phases", "dense", "subsample"])
def test_fine_tuning_the_converted_model_trains_the_original(form):
    torch.manual_seed(0)
    net = _small_net().train()
    x, target = torch.randn(4, 3, 16, 16, dtype=torch.float64), torch.randn(4, 4, 2, 2, dtype=torch.float64)
    flat = destride_model(net.eval(), x, mode="layer", form=form).train()
    ref = copy.deepcopy(net).train()
    for model in (flat, ref):
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            ((model(x) - target) ** 2).mean().backward()
            opt.step()
    for (n1, p1), (n2, p2) in zip(sorted(flat.named_parameters()), sorted(ref.named_parameters())):
        assert n1 == n2 and torch.allclose(p1, p2, rtol=1e-10, atol=1e-12), n1
    with torch.no_grad():
        assert torch.allclose(flat(x), ref(x), rtol=1e-10, atol=1e-12)


def test_state_dict_of_the_converted_model_is_the_originals():
    net = _small_net()
    flat = destride_model(net, torch.randn(1, 3, 16, 16, dtype=torch.float64), mode="layer")
    assert sorted(flat.state_dict()) == sorted(net.state_dict())
    flat.load_state_dict(net.state_dict())


def test_converted_layers_export_with_torch_export():
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=1)
    for form in ("auto", "phases", "dense", "subsample"):
        eq = destride_layer(conv, form=form)
        x = torch.randn(1, 3, 11, 11)
        exported = torch.export.export(eq, (x,))
        assert torch.allclose(exported.module()(x), conv(x), atol=1e-5)
    assert isinstance(eq, DestridedConv)


# -- item 3, the NumPy pipeline --------------------------------------------------------------------------
@pytest.mark.parametrize("case", LAYERS, ids=[f"L{i}" for i in range(len(LAYERS))])
def test_numpy_pipeline_with_live_mask_agrees_on_every_nan_and_inf_position(case):
    import numpy as np

    from symstride.reference import conv, destride_input, destride_live, destride_weights

    ndim, ci, co, k, s, p, d, g, size = case
    w = np.random.default_rng(0).standard_normal((co, ci // g, *(k,) * ndim))
    x = _inputs(ci, size, ndim).numpy()[:: max(1, (size**ndim * 3) // 60)]  # a spread of corruptions, kept small
    ref = conv(x, w, stride=s, padding=p, dilation=d, groups=g)
    z = destride_input(x, kernel_size=k, stride=s, padding=p, dilation=d)
    got = conv(z, destride_weights(w, stride=s, dilation=d, groups=g), groups=g, live=destride_live(w.shape, stride=s, dilation=d))
    _same_nonfinite(torch.from_numpy(got), torch.from_numpy(ref))
