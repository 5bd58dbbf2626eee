"""Theorem 3 on branching graphs: ``destride_model(..., mode="network")`` beyond one chain.

Every operator the graph reader adds is tested on a small model with random weights in float64,
at input sizes that leave an overhang (samples past the end of the true map in the phase
domain), against the original model: the converted output must equal it to ``TOL`` (relative to
max(1, max |output|)) with no strided operator left.  Each has a failing twin — a wrong
phase-block order, a dropped mask, a wrong divisor — that the converter's own final check
rejects, naming the output that differs.
"""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from symstride import SymstrideError
from symstride.torch import destride_model, strided_ops
from symstride.torch import network as torch_network
from symstride.torch import phase_blocks, phase_graph

pytestmark = pytest.mark.usefixtures("torch_float64")
TOL = 1e-9
DIFFERS = "the converted model differs from the original"


def randomized(model):
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
        if isinstance(m, (nn.GroupNorm, nn.LayerNorm)) and m.weight is not None:
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


def converted(model, x, **kw):
    """The network-mode conversion, checked here too (independently of the converter's own check)."""
    flat = destride_model(model, x, mode="network", **kw)
    with torch.no_grad():
        a, b = model(x), flat(x)
    assert a.shape == b.shape and float((a - b).abs().max()) <= TOL * max(1.0, float(a.abs().max()))
    assert strided_ops(model, x) != [] and strided_ops(flat, x) == []
    return flat


def kinds(flat):
    return [type(m).__name__ for m in flat.modules()]


def cbr(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2), nn.BatchNorm2d(cout), nn.ReLU())


# --- concatenation ------------------------------------------------------------------------------


class Inception(nn.Module):
    """Two strided branches and a strided max pooling concatenated, then a strided convolution."""

    def __init__(self):
        super().__init__()
        self.a, self.b = cbr(3, 4, 3, 2), nn.Sequential(nn.Conv2d(3, 2, 1, 2), nn.Sigmoid())
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.out = nn.Conv2d(9, 5, 3, 2, 1)

    def forward(self, x):
        return self.out(torch.cat([self.a(x), self.b(x), self.pool(x)], 1))


@pytest.mark.parametrize("size", [(16, 16), (11, 13)])
def test_concatenation(size):
    converted(randomized(Inception()), torch.randn(2, 3, *size))


def test_concatenation_in_the_wrong_phase_order_is_caught(monkeypatch):
    """Failing twin: branches concatenated phase-major (``φ·C + c``) instead of channel-major."""

    def phase_major(tensors, dim):
        parts = []
        for t in tensors:
            split = t.reshape(t.shape[0], -1, 4, *t.shape[2:])  # P = 4 where the branches meet
            parts.append(split.transpose(1, 2).reshape(t.shape))
        return torch.cat(parts, dim)

    namespace = SimpleNamespace(**{n: getattr(torch, n) for n in ("as_tensor", "Size", "Tensor")}, cat=phase_major)
    monkeypatch.setattr(phase_graph, "torch", namespace)
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(Inception()), torch.randn(1, 3, 16, 16), mode="network")


# --- split, chunk, channel shuffle ----------------------------------------------------------------


class Shuffle(nn.Module):
    """ShuffleNetV2's unit: chunk, one half through convolutions, concatenate, shuffle two groups."""

    def __init__(self, split="chunk"):
        super().__init__()
        self.split = split
        self.stem = cbr(3, 8, 3, 2)
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 3, 1, 1, groups=4), nn.BatchNorm2d(4), cbr(4, 4, 1))
        self.down = nn.Conv2d(8, 6, 3, 2, 1)

    def forward(self, x):
        x = self.stem(x)
        a, b = x.chunk(2, dim=1) if self.split == "chunk" else torch.split(x, [4, 4], dim=1)
        x = torch.cat((a, self.branch(b)), dim=1)
        n, c, h, w = x.size()
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, -1, h, w)
        return self.down(x)


@pytest.mark.parametrize("split", ["chunk", "split"])
@pytest.mark.parametrize("size", [(16, 16), (13, 10)])
def test_split_and_channel_shuffle(split, size):
    flat = converted(randomized(Shuffle(split)), torch.randn(1, 3, *size))
    assert "PhaseSplit" in kinds(flat) and kinds(flat).count("PhaseLayout") == 3  # view, transpose, view


def test_channel_shuffle_without_the_permutation_is_caught(monkeypatch):
    """Failing twin: the transpose of the channel groups dropped (phase blocks left in place)."""
    real = phase_blocks.PhaseLayout.__init__

    def no_order(self, source, target, phases, order=None):
        real(self, source, (source[0], source[1]) if order is not None else target, phases, None)

    monkeypatch.setattr(phase_blocks.PhaseLayout, "__init__", no_order)
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(Shuffle()), torch.randn(1, 3, 16, 16), mode="network")


# --- squeeze-and-excitation: global pooling of the phases, products of branches ------------------


class SqueezeExcite(nn.Module):
    """A global pooling branch (``avg``, ``max`` or ``mean``) gating the feature map, between strided convolutions."""

    def __init__(self, pool="avg", dropout=True):
        super().__init__()
        self.pool = pool
        drop = nn.Dropout(0.2) if dropout else nn.Identity()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.Hardswish(), drop, nn.Identity())
        self.fc1, self.fc2 = nn.Conv2d(8, 4, 1), nn.Conv2d(4, 8, 1)
        self.down = nn.Conv2d(8, 6, 3, 2, 1)

    def forward(self, x):
        x = self.stem(x)
        if self.pool == "avg":
            s = F.adaptive_avg_pool2d(x, 1)
        elif self.pool == "max":
            s = nn.functional.adaptive_max_pool2d(x, (1, 1))
        else:
            s = x.mean((2, 3), keepdim=True)
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return self.down(s * x)


@pytest.mark.parametrize("pool", ["avg", "max", "mean"])
@pytest.mark.parametrize("size", [(16, 16), (11, 14)])
def test_squeeze_and_excitation(pool, size):
    flat = converted(randomized(SqueezeExcite(pool)), torch.randn(2, 3, *size))
    pools = [m for m in flat.modules() if isinstance(m, phase_blocks.PhaseGlobalPool)]
    assert len(pools) == 1 and (pools[0].keep is not None) == (size == (11, 14))  # a mask exactly where junk would enter


class NegativeGate(nn.Module):
    """True samples ``−y² < 0``; the overhang, where the convolution reads only the zero extension, holds 0."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, 2, 1, bias=False)
        self.down = nn.Sequential(nn.Conv2d(4, 4, 3, 2, 1), nn.Conv2d(4, 2, 3, 2, 1))

    def forward(self, x):
        y = self.stem(x)
        y = y * y * -1.0
        return self.down(y * torch.sigmoid(F.adaptive_max_pool2d(y, 1)))


@pytest.mark.parametrize("make, size", [(lambda: SqueezeExcite("avg"), (11, 14)), (NegativeGate, (9, 9))], ids=["avg", "max"])
def test_global_pooling_without_its_mask_is_caught(monkeypatch, make, size):
    """Failing twin: the overhang enters the pooling (junk after a convolution and batch-norm in
    the mean; zeros above negative true samples in the maximum)."""
    converted(randomized(make()), torch.randn(1, 3, *size))
    real = phase_blocks.PhaseGlobalPool.__init__
    monkeypatch.setattr(phase_blocks.PhaseGlobalPool, "__init__", lambda self, kind, keep, count, shape: real(self, kind, None, count, shape))
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(make()), torch.randn(1, 3, *size), mode="network")


def test_per_channel_broadcast_in_the_wrong_phase_order_is_caught(monkeypatch):
    """Failing twin: the gate tiled over phases (``φ·C + c``) instead of repeated per channel."""
    monkeypatch.setattr(phase_blocks.PhaseElementwise, "_broadcast",
                        lambda self, t: t.repeat(1, self.phases, *([1] * (t.dim() - 2))) if t.dim() > 2 and t.shape[1] > 1 else t)
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(SqueezeExcite()), torch.randn(1, 3, 16, 16), mode="network")


# --- ceil_mode pooling ---------------------------------------------------------------------------


class Ceil(nn.Module):
    def __init__(self, kind="max", count_include_pad=True, padding=0):
        super().__init__()
        self.stem = cbr(3, 4, 3, 2)
        if kind == "max":
            self.pool = nn.MaxPool2d(3, 2, padding, ceil_mode=True)
        else:
            self.pool = nn.AvgPool2d(3, 2, padding, ceil_mode=True, count_include_pad=count_include_pad)
        self.out = nn.Conv2d(4, 3, 3, 2, 1)

    def forward(self, x):
        return self.out(self.pool(self.stem(x)))


CEIL = [("max", True, 0), ("max", True, 1), ("avg", True, 0), ("avg", True, 1), ("avg", False, 1)]


@pytest.mark.parametrize("kind, include, padding", CEIL)
@pytest.mark.parametrize("size", [(16, 16), (13, 11), (14, 9)])
def test_ceil_mode_pooling(kind, include, padding, size):
    converted(randomized(Ceil(kind, include, padding)), torch.randn(1, 3, *size))


def test_ceil_mode_average_with_the_floor_divisor_is_caught(monkeypatch):
    """Failing twin: a ceil window past the end divided by the whole window, not the count it covers."""
    monkeypatch.setattr(phase_graph, "ceil_divisor", lambda geometry, basis, out, include: torch.full((out.count, *out.length), 9.0).numpy())
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(Ceil("avg", True, 0)), torch.randn(1, 3, 13, 11), mode="network")


def test_ceil_mode_max_pooling_without_its_mask_is_caught(monkeypatch):
    """Failing twin: a ceil window reads the overhang, which only the mask sets to −∞."""
    monkeypatch.setattr(torch_network._PhaseMask, "forward", lambda self, z: z)
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(Ceil("max")), torch.randn(1, 3, 13, 11), mode="network")


# --- channels-last blocks: permute, LayerNorm, Linear, layer scale (ConvNeXt) ----------------------


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, c=6):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 2, 2), LayerNorm2d(c))
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm, self.fc1, self.fc2 = nn.LayerNorm(c), nn.Linear(c, 4 * c), nn.Linear(4 * c, c)
        self.layer_scale = nn.Parameter(torch.rand(c, 1, 1) + 0.5)
        self.down = nn.Sequential(LayerNorm2d(c), nn.Conv2d(c, 8, 2, 2))

    def forward(self, x):
        x = self.stem(x)
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.fc2(F.gelu(self.fc1(self.norm(y)))).permute(0, 3, 1, 2)
        return self.down(self.layer_scale * y + x)


@pytest.mark.parametrize("size", [(16, 16), (13, 11)])
def test_channels_last_block(size):
    flat = converted(randomized(ConvNeXtBlock()), torch.randn(2, 3, *size))
    assert kinds(flat).count("PhaseLayout") == 6  # three permutes to channels-last, three back


def test_channels_last_layout_with_phase_and_channel_swapped_is_caught(monkeypatch):
    """Failing twin: the channels-last phase tensor built as ``(b, *A, C, P)`` instead of ``(b, *A, P, C)``."""
    real = phase_blocks.PhaseLayout.forward

    def swapped(self, z):
        y = real(self, z)
        if self.target[0] == "last":
            return y.transpose(-1, -2).reshape(y.shape)
        return y

    monkeypatch.setattr(phase_blocks.PhaseLayout, "forward", swapped)
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(ConvNeXtBlock()), torch.randn(1, 3, 16, 16), mode="network")


# --- GroupNorm -------------------------------------------------------------------------------------


class Grouped(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 2, 1)
        self.norm = nn.GroupNorm(2, 8)
        self.down = nn.Conv2d(8, 4, 3, 2, 1)

    def forward(self, x):
        return self.down(F.silu(self.norm(self.stem(x))))


@pytest.mark.parametrize("size", [(16, 16), (11, 14)])
def test_group_norm(size):
    flat = converted(randomized(Grouped()), torch.randn(2, 3, *size))
    norm = next(m for m in flat.modules() if isinstance(m, phase_blocks.PhaseGroupNorm))
    assert (norm.keep is not None) == (size == (11, 14))


def test_group_norm_without_its_mask_is_caught(monkeypatch):
    """Failing twin: statistics taken over the junk overhang too."""
    real = phase_blocks.PhaseGroupNorm.__init__
    monkeypatch.setattr(phase_blocks.PhaseGroupNorm, "__init__", lambda self, norm, keep, count, phases: real(self, norm, None, count, phases))
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(Grouped()), torch.randn(1, 3, 11, 14), mode="network")


# --- U-Net skips: converted values used outside the converted part ----------------------------------


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1, self.enc2 = cbr(3, 4, 3, 2), cbr(4, 6, 3, 2)
        self.dec = cbr(10, 4)

    def forward(self, x):
        skip = self.enc1(x)
        up = F.interpolate(self.enc2(skip), size=skip.shape[-2:], mode="nearest")
        return self.dec(torch.cat([up, skip], 1))


@pytest.mark.parametrize("size", [(16, 16), (15, 13)])
def test_unet_skip_leaves_the_phase_domain(size):
    flat = converted(randomized(UNet()), torch.randn(1, 3, *size))
    assert kinds(flat).count("PhaseOutput") == 1  # the skip (R = 2); the bottleneck (R = 1) leaves as it is


def test_unet_skip_back_in_the_wrong_layout_is_caught(monkeypatch):
    """Failing twin: depth-to-space in the phase-major layout (``φ·C + c``)."""
    real = phase_blocks.PhaseOutput.__init__

    def tf_layout(self, phases, size, layout="canonical"):
        real(self, phases, size, layout)
        if self.depth_to_space is not None:
            self.depth_to_space = phase_blocks.DepthToSpace(tuple(phases), layout="tf")

    monkeypatch.setattr(phase_blocks.PhaseOutput, "__init__", tf_layout)
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(randomized(UNet()), torch.randn(1, 3, 16, 16), mode="network")


# --- refusals name the fx node, the operator and the module path ---------------------------------------


class Rolled(nn.Module):
    def __init__(self, op):
        super().__init__()
        self.op = op
        self.conv = nn.Conv2d(3, 3, 3, 2, 1)

    def forward(self, x):
        x = self.conv(x)
        if self.op == "roll":
            return torch.roll(x, 1, 2)
        if self.op == "transpose":
            return x.transpose(2, 3)
        return x[:, :, 1:]


class Nested(nn.Module):
    def __init__(self, op):
        super().__init__()
        self.blocks = nn.Sequential(Rolled(op), nn.Conv2d(3, 2, 3, 2, 1))

    def forward(self, x):
        return self.blocks(x)


@pytest.mark.parametrize(
    "op, message",
    [
        ("roll", "node 'roll' \\(function roll in module 'blocks.0', Rolled\\) stops it: roll is not a layer of the network construction "
                 "\\(strided layer behind it: node 'blocks_1' \\(module 'blocks.1', Conv2d\\)\\)"),
        ("transpose", "node 'transpose' \\(call_method 'transpose' in module 'blocks.0', Rolled\\) stops it: a permutation \\[0, 1, 3, 2\\]"),
        ("slice", "node 'getitem' \\(function getitem in module 'blocks.0', Rolled\\) stops it: getitem is not a layer"),
    ],
)
def test_refusals_name_node_operator_and_module(op, message):
    with pytest.raises(SymstrideError, match=message):
        destride_model(Nested(op).eval(), torch.randn(1, 3, 16, 16), mode="network")


@pytest.mark.parametrize("make", [Inception, Shuffle, SqueezeExcite, ConvNeXtBlock, UNet, Grouped, lambda: Ceil("avg", True, 0)],
                         ids=["concat", "shuffle", "se", "convnext", "unet", "groupnorm", "ceil"])
def test_network_mode_conversion_traces_with_torch_export(make):
    """No data-dependent control flow in the phase modules: ``torch.export`` traces the conversion."""
    model, x = randomized(make()), torch.randn(1, 3, 13, 11)
    program = torch.export.export(destride_model(model, x, mode="network"), (x,))
    with torch.no_grad():
        assert float((program.module()(x) - model(x)).abs().max()) <= TOL
    assert strided_ops(program.module(), x) == []


def test_adaptive_pooling_to_the_size_it_reads_is_the_identity():
    """The example input fixes the sizes: ``AdaptiveAvgPool2d((6, 7))`` on a 6×7 map reads one sample per output."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.AdaptiveAvgPool2d((6, 7)), nn.ReLU(), nn.Conv2d(4, 2, 3, 2, 1)).eval()
    flat = converted(model, torch.randn(1, 3, 11, 13))
    assert "AdaptiveAvgPool2d" not in kinds(flat) and "PhaseGlobalPool" not in kinds(flat)


@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pooling_with_uniform_windows_is_a_tied_pooling(kind):
    """6×7 → 3×3 is pooling with kernel (2, 3) and stride 2: a windowed layer of the phase graph (total stride 8)."""
    pool = nn.AdaptiveAvgPool2d(3) if kind == "avg" else nn.AdaptiveMaxPool2d((3, 3))
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), pool, nn.ReLU(), nn.Conv2d(4, 2, 3, 2, 1)).eval()
    flat = converted(model, torch.randn(1, 3, 11, 13))
    assert flat.phase_network.space_to_depth.stride == (8, 8)
    with pytest.raises(SymstrideError, match="node '_1' \\(module '1', AdaptiveAvgPool2d\\) stops it: adaptive pooling \\(6, 7\\) → \\(4, 5\\): its windows vary"):
        destride_model(nn.Sequential(*model[:1], nn.AdaptiveAvgPool2d((4, 5)), *model[2:]).eval(), torch.randn(1, 3, 11, 13), mode="network")


def test_adaptive_pooling_read_as_the_wrong_window_is_caught(monkeypatch):
    """Failing twin: 6 → 3 read as kernel 1, stride 2 (the right count of outputs, the wrong windows)."""
    from symstride.torch import graph_reader

    monkeypatch.setattr(graph_reader, "uniform_window", lambda n, m: (1, n // m))
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.AdaptiveAvgPool2d(3), nn.Conv2d(4, 2, 3, 2, 1)).eval()
    with pytest.raises(SymstrideError, match=DIFFERS):
        destride_model(model, torch.randn(1, 3, 11, 11), mode="network")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_mode_of_the_first_convolution_is_applied_before_space_to_depth(mode):
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1, padding_mode=mode), nn.ReLU(), nn.Conv2d(4, 2, 3, 2, 1)).eval()
    flat = converted(model, torch.randn(1, 3, 11, 13))
    assert flat.phase_network.padding_mode == mode and flat.phase_network.prepad == [[1, 1], [1, 1]]


class FunctionalDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 2, 3, 2, 1)

    def forward(self, x):
        return self.b(F.dropout2d(F.dropout(self.a(x), 0.3, self.training), p=0.2, training=self.training))


def test_dropout_outside_training_is_the_identity():
    converted(FunctionalDropout().eval(), torch.randn(1, 3, 11, 13))
    with pytest.raises(SymstrideError, match="node 'dropout' \\(function dropout\\) stops it: dropout in training mode"):
        destride_model(FunctionalDropout().train(), torch.randn(1, 3, 11, 13), mode="network")


@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm(affine):
    """InstanceNorm: a group per channel, statistics over that channel's phases, the overhang masked."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.InstanceNorm2d(4, affine=affine), nn.ReLU(), nn.Conv2d(4, 2, 3, 2, 1))
    randomized(model)
    if affine:
        model[1].weight.data.uniform_(0.5, 1.5)
        model[1].bias.data.uniform_(-0.5, 0.5)
    converted(model, torch.randn(2, 3, 11, 14))
    real = phase_blocks.PhaseGroupNorm.__init__
    with monkeypatch_context() as patch:  # failing twin: statistics over the junk overhang too
        patch.setattr(phase_blocks.PhaseGroupNorm, "__init__", lambda self, norm, keep, count, phases: real(self, norm, None, count, phases))
        with pytest.raises(SymstrideError, match=DIFFERS):
            destride_model(model, torch.randn(2, 3, 11, 14), mode="network")


def monkeypatch_context():
    return pytest.MonkeyPatch.context()


@pytest.mark.parametrize("make", [Inception, Shuffle, lambda: SqueezeExcite(dropout=False), ConvNeXtBlock, UNet, Grouped, lambda: Ceil("avg", True, 0)],
                         ids=["concat", "shuffle", "se", "convnext", "unet", "groupnorm", "ceil"])
@pytest.mark.parametrize("mode", ["layer", "network"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_conversion_of_graph_operators_trains_like_the_original(make, mode, optimizer):
    """The converted model holds the original parameters (tied): 6 SGD or Adam steps in train mode,
    same model, in both modes.  (Dropout is the identity of the eval-mode conversion, so the models
    here have none; see tests/test_network_dropout.py.)"""
    from tests.training_support import train_side_by_side

    model = randomized(make())
    xs = [torch.randn(4, 3, 13, 11) for _ in range(2)]
    flat = destride_model(model, xs[0], mode=mode)
    with torch.no_grad():
        batches = [(x, torch.randn_like(model(x))) for x in xs]
    gap = train_side_by_side(model, flat, batches, optimizer, steps=6)
    assert gap.ok, gap.failure
