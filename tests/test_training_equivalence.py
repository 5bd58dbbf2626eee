"""Issue 15, item 3: converted models train exactly like their originals, in both modes.

The converted model's trainable parameters are the original parameters (tied, structural zeros
are not parameters) and batch-norm in train mode takes the statistics of each original channel,
pooled over its phases and true samples, updating the original running statistics.  So the same
optimizer steps on the same data give the same model: outputs and gradients at every step,
parameters and running statistics after 6 steps of SGD with momentum and of Adam, float64, agree
to ``TOLERANCE`` = 1e-10 (absolute; the values are of order 1).  Failing twins: per-phase batch
statistics, statistics over junk samples, and an untied bank are reported by the same helper.
"""

from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from symstride.torch import PhaseDecoder, PhaseGraph, destride_model
from symstride.torch.network import TiedConvolution
from symstride.torch.phase_norm import PhaseBatchNorm, masked_moments
from symstride.torch.tied import original_names
from tests.training_support import CASES, OPTIMIZERS, TOLERANCE, convert, train_side_by_side

MODES = ("layer", "network")


@functools.lru_cache(maxsize=None)
def _converted(case: str, mode: str):
    return convert(case, mode)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_converted_model_trains_like_the_original(case, mode, optimizer):
    model, converted, batches = _converted(case, mode)
    gap = train_side_by_side(model, converted, batches, optimizer, steps=6)
    assert gap.ok, f"{case}, {mode}, {optimizer}: {gap.failure} ({gap.row()})"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_parameters_are_the_originals(case, mode):
    """Same count, shapes and (through original_names) names as the original; buffers too."""
    model, converted, _ = _converted(case, mode)
    names = original_names(converted)
    got = sorted((names[n], tuple(p.shape)) for n, p in converted.named_parameters())
    assert got == sorted((n, tuple(p.shape)) for n, p in model.named_parameters())
    assert sum(p.numel() for p in converted.parameters()) == sum(p.numel() for p in model.parameters())
    assert sorted(set(names.values())) == sorted(model.state_dict())
    if mode == "network":  # the case really runs in the phase basis
        assert any(isinstance(m, (PhaseGraph, PhaseDecoder)) for m in converted.modules())


def test_batch_norm_cases_pool_over_junk_samples():
    """The batch-norm cases put batch-norm on phase bases with junk samples (the masked path runs)."""
    for case in ("batch-norm", "resnet with batch-norm", "transposed"):
        _, converted, _ = _converted(case, "network")
        norms = [m for m in converted.modules() if isinstance(m, PhaseBatchNorm)]
        assert norms and any(m.keep is not None for m in norms), case
        assert any(m.phases > 1 for m in norms), case


def test_running_statistics_are_the_original_buffers():
    model, converted, _ = _converted("resnet with batch-norm", "network")
    norm = next(m for m in converted.modules() if isinstance(m, PhaseBatchNorm))
    assert norm.running_mean.shape == (norm.weight.shape[0],)
    names = original_names(converted)
    state = converted.state_dict(keep_vars=True)
    key = next(k for k, v in state.items() if v is norm.running_mean)
    assert names[key].endswith("running_mean")


# --- failing twins: the helper reports each wrong conversion ----------------------------------------------


class PerPhaseBatchNorm(PhaseBatchNorm):
    """Wrong: batch statistics per phase channel (what issue 15 found), not per original channel."""

    def forward(self, z):
        if not self.training:
            return super().forward(z)
        mean, var = self.running_mean.repeat_interleave(self.phases), self.running_var.repeat_interleave(self.phases)
        y = F.batch_norm(z, mean, var, self.weight.repeat_interleave(self.phases), self.bias.repeat_interleave(self.phases),
                         True, 0.1, self.eps)
        with torch.no_grad():
            self.running_mean.copy_(mean.reshape(-1, self.phases).mean(1))
            self.running_var.copy_(var.reshape(-1, self.phases).mean(1))
        return y


def _twin(case: str, rewrite) -> tuple:
    model, converted, batches = convert(case, "network")
    changed = [rewrite(m) for m in list(converted.modules())]
    assert any(changed)
    return model, converted, batches


def test_twin_per_phase_batch_statistics_is_reported():
    def per_phase(m):
        if isinstance(m, PhaseBatchNorm) and m.phases > 1:
            m.__class__ = PerPhaseBatchNorm
            return True
        return False

    gap = train_side_by_side(*_twin("resnet with batch-norm", per_phase), "sgd", steps=6)
    assert not gap.ok and gap.outputs > 1e-3 and gap.failure.startswith("outputs differ by")


def test_twin_statistics_over_junk_samples_is_reported():
    def unmasked(m):
        if isinstance(m, PhaseBatchNorm) and m.keep is not None:
            m.keep = None
            return True
        return False

    gap = train_side_by_side(*_twin("batch-norm", unmasked), "sgd", steps=6)
    assert not gap.ok and gap.outputs > 1e-6 and gap.running_stats > 1e-6, gap.row()


class UntiedBank(nn.Module):
    """Wrong: the dense tied bank W' as a free parameter (its R^d copies of each weight train apart)."""

    def __init__(self, tied: TiedConvolution) -> None:
        super().__init__()
        self.tied = tied
        self.bank = nn.Parameter(tied.bank().detach().clone())
        del tied.weight
        tied.register_buffer("weight", self.bank.detach()[:0])

    def forward(self, z):
        t = self.tied
        z = F.pad(z, [w for pair in reversed(t.padding) for w in pair])
        y = F.conv2d(z, self.bank, None, 1, 0, 1, t.groups)
        return y if t.bias is None else y + t.bias[t.bias_index].reshape(1, -1, 1, 1)


def test_twin_untied_bank_is_reported():
    model, converted, batches = convert("conv padding", "network")
    x = batches[0][0]
    dense = destride_model(model.eval(), x, mode="network", form="dense")
    network = next(m for m in dense.modules() if isinstance(m, PhaseGraph))
    name, stem = next((n, m) for n, m in network.body.named_children() if isinstance(m, TiedConvolution))
    assert stem.mask is None and stem.out_phases > 1
    setattr(network.body, name, UntiedBank(stem))
    with torch.no_grad():  # the twin computes the same function before training
        assert torch.allclose(dense(x), model(x), atol=1e-12)
    gap = train_side_by_side(model, dense, batches, "sgd", steps=6)
    assert any("is not a parameter of the original" in s for s in gap.structure)
    assert any("'0.weight' is not trained" in s for s in gap.structure)
    assert gap.outputs > 1e-6 and not gap.ok


def test_masked_moments_ignores_junk_values_and_their_gradients():
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    keep = torch.rand(4, 5) > 0.3
    keep[0, 0] = True
    junk = torch.where(keep, torch.zeros(()), torch.full((), float("nan"), dtype=torch.float64))
    m = masked_moments(x + junk, keep, dims=(0, 2, 3))
    values = x.detach().permute(1, 0, 2, 3)[:, :, keep]  # (C, b, kept)
    assert torch.allclose(m.mean.reshape(-1), values.reshape(3, -1).mean(1), atol=1e-14)
    assert torch.allclose(m.var.reshape(-1), values.reshape(3, -1).var(1, unbiased=False), atol=1e-14)
    (m.mean.sum() + m.var.sum()).backward()
    assert torch.isfinite(x.grad).all() and bool((x.grad[:, :, ~keep] == 0).all())


@pytest.mark.parametrize("mode", MODES)
def test_batch_norm_without_affine_parameters_in_one_dimension(mode):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv1d(2, 4, 3, 2, bias=False), nn.BatchNorm1d(4, affine=False, momentum=0.3), nn.ReLU(),
                          nn.Conv1d(4, 3, 3, 2)).double().eval()
    xs = [torch.randn(3, 2, 31, dtype=torch.float64) for _ in range(2)]
    converted = destride_model(model, xs[0], mode=mode)
    with torch.no_grad():
        batches = [(x, torch.randn_like(model(x))) for x in xs]
    for optimizer in sorted(OPTIMIZERS):
        gap = train_side_by_side(model, converted, batches, optimizer, steps=5)
        assert gap.ok and gap.running_stats < TOLERANCE, (optimizer, gap.failure)
