"""Network mode and randomness: dropout is the identity at inference, and is not silently lost in training.

``destride_model(..., mode="network")`` converts an eval-mode model, where dropout and stochastic
depth are the identity; the converted network therefore has no random masks.  Training it would
train a different model, so the converted model refuses a forward pass in training mode, naming
the removed layer, unless every such layer had ``p = 0``.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from symstride.core.errors import SymstrideError
from symstride.torch import destride_model

X = torch.randn(2, 2, 15, 15, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def _net(p: float) -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Dropout(p), nn.Conv2d(4, 4, 3, stride=2)).double().eval()


class _Functional(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(2, 3, 3, stride=2), nn.Conv2d(3, 3, 1, stride=2)

    def forward(self, x):
        return self.b(F.dropout(self.a(x), 0.25, self.training))


def test_dropout_is_exact_at_inference_and_refused_in_training():
    net = _net(0.3)
    converted = destride_model(net, X, mode="network")
    assert not converted.training
    torch.testing.assert_close(converted(X), net(X), rtol=0, atol=1e-12)
    converted.train()
    with pytest.raises(SymstrideError, match=r"removed 1 random layer\(s\), first Dropout\(p=0\.3\) at node '_2' \(module '2'\)"):
        converted(X)
    converted.eval()
    torch.testing.assert_close(converted(X), net(X), rtol=0, atol=1e-12)  # eval again: exact again


def test_functional_dropout_is_named_too():
    net = _Functional().double().eval()
    converted = destride_model(net, X, mode="network").train()
    with pytest.raises(SymstrideError, match=r"dropout\(p=0\.25\)"):
        converted(X)


def test_dropout_with_p_zero_trains_like_the_original():
    """Twin: with p = 0 nothing random is removed, and a training step is the original's."""
    net = _net(0.0)
    converted = destride_model(net, X, mode="network").train()
    net.train()
    out, ref = converted(X), net(X)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    out.square().sum().backward()
    ref.square().sum().backward()
    mine = sorted(float(p.grad.norm()) for p in converted.parameters())
    theirs = sorted(float(p.grad.norm()) for p in net.parameters())
    assert len(mine) == len(theirs) == 4
    assert mine == pytest.approx(theirs, rel=1e-12, abs=0)
