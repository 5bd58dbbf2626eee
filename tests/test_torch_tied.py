"""Issue 15, item 5: converted modules hold the original parameters and gather their filters from
them; under ``torch.no_grad()`` the gathered filters are kept until the weights change."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from symstride.torch import destride_layer, destride_model
from symstride.torch.decoder_stages import TiedTransposedStage
from symstride.torch.tied import original_names


def _dcgan(width: int = 4) -> nn.Module:
    torch.manual_seed(0)
    c = [6, 8 * width, 4 * width, 2 * width, width]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(c, c[1:])):
        layers += [nn.ConvTranspose2d(a, b, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
    return nn.Sequential(*layers, nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False), nn.Tanh()).double().eval()


def _count(tensors) -> int:
    return sum(t.numel() for t in tensors)


def test_network_mode_decoder_keeps_the_parameter_count_and_few_buffers():
    """No growth: the DCGAN generator's phase decoder trains exactly the original parameters, and its
    index buffers are small (the issue measured 3.6 M → 128 M entries with the dense banks)."""
    model = _dcgan(width=16)
    x = torch.randn(2, 6, 1, 1, dtype=torch.float64)
    flat = destride_model(model, x, mode="network")
    assert _count(flat.parameters()) == _count(model.parameters())
    stages = [m for m in flat.modules() if isinstance(m, TiedTransposedStage)]
    assert len(stages) == 5 and all(len(s.classes) <= 4 for s in stages)  # at most s^d filter classes
    index_entries = _count(b for s in stages for b in s.buffers())  # grow with the maps, not with the banks
    assert index_entries < 0.15 * _count(model.parameters()), index_entries  # 12 % here, 0.6 % at width 64
    assert sorted(set(original_names(flat).values())) == sorted(model.state_dict())
    with torch.no_grad():
        assert torch.allclose(flat(x), model(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: destride_layer(nn.Conv2d(3, 4, 3, stride=2, padding=1).double()),
    lambda: destride_layer(nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1).double()),
    lambda: destride_model(_dcgan(), torch.randn(1, 6, 1, 1, dtype=torch.float64), mode="network"),
    lambda: destride_model(nn.Sequential(nn.Conv2d(3, 4, 3, 2), nn.ReLU()).double().eval(),
                           torch.randn(1, 3, 9, 9, dtype=torch.float64), mode="network", form="dense"),
], ids=["layer conv", "layer transposed", "network decoder", "network dense"])
def test_kept_filters_follow_every_change_of_the_weights(make):
    module = make()
    reference = copy.deepcopy(module)
    x = _input_for(module)
    with torch.no_grad():
        y0 = module(x)
        assert torch.equal(module(x), y0)  # a kept filter gives the same result
        for p in module.parameters():  # an in-place change (what an optimizer step does)
            p.mul_(1.5)
        for p in reference.parameters():
            p.mul_(1.5)
        assert torch.allclose(module(x), reference(x), atol=1e-12) and not torch.allclose(module(x), y0)
        state = {k: v * (0.9 + 0.2 * torch.rand_like(v)) if v.is_floating_point() else v for k, v in module.state_dict().items()}
        module.load_state_dict(state)
        reference.load_state_dict(state)
        assert torch.allclose(module(x), reference(x), atol=1e-12)
    y = module.float()(x.float())  # .to(): new storage
    assert y.dtype == torch.float32 and torch.allclose(y.double(), reference(x), atol=1e-4)
    module.double()
    loss = module(x).square().sum()  # with gradients: gathered anew, into the autograd graph
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters() if p.requires_grad)


def _input_for(module: nn.Module) -> torch.Tensor:
    torch.manual_seed(1)
    if hasattr(module, "spec"):  # a single converted layer
        return torch.randn(2, module.spec.in_channels, 9, 9, dtype=torch.float64)
    built = next(m for m in module.modules() if hasattr(m, "input_size"))  # PhaseGraph or PhaseDecoder
    channels = 6 if type(built).__name__ == "PhaseDecoder" else 3
    return torch.randn(2, channels, *built.input_size, dtype=torch.float64)


def test_a_write_through_data_is_not_versioned_until_cleared():
    """The documented limit: ``.data`` bypasses the version counter; ``clear_prepared`` forgets the filters."""
    layer = destride_layer(nn.Conv2d(3, 4, 3, stride=2).double())
    x = torch.randn(1, 3, 9, 9, dtype=torch.float64)
    with torch.no_grad():
        y0 = layer(x)
        layer.weight.data.mul_(2.0)
        assert torch.equal(layer(x), y0)  # stale: the version counter did not move
        layer.clear_prepared()
        assert torch.allclose(layer(x) - layer.bias.reshape(1, -1, 1, 1), 2 * (y0 - layer.bias.reshape(1, -1, 1, 1)))
