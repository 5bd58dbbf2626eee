"""destride_model on real-shaped models built here (no downloads), against PyTorch in float64.

Every converted model must give the original's output to 1e-9, contain no strided convolution
or pooling (checked on the modules, on the fx graph's nodes, and on the operators that actually
run), and bad input must fail with an error naming the fx node.
"""

import pytest
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from symstride import SymstrideError
from symstride.core.indexing import Tap, tap_map
from symstride.torch import destride_model, strided_ops
from symstride.torch import layers as torch_layers
from symstride.torch import model as torch_model
from symstride.torch import network as torch_network

TOL = 1e-9
pytestmark = pytest.mark.usefixtures("torch_float64")


def randomize_batchnorm(model):
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


# --- the models --------------------------------------------------------------------------------


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.down is None else self.down(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + identity)


class TinyResNet(nn.Module):
    """ResNet-18's structure at small width: 7×7/2 stem, 3×3/2 max-pool, residual stages."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.stages = nn.Sequential(Block(8, 8, 1), Block(8, 16, 2), Block(16, 24, 2))
        self.head = nn.Linear(24, 5)

    def forward(self, x):
        x = self.stages(self.pool(self.stem(x)))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class SpeechEncoder(nn.Module):
    """wav2vec 2.0's feature-encoder shape at small width: 1-D convs with strides 5, 2, …, 2.

    ``norm="group"`` is wav2vec 2.0's group norm (statistics over the whole map: not pointwise,
    so not a layer of Theorem 3); ``norm="batch"`` an inference batch-norm.
    """

    def __init__(self, width=12, norm="group"):
        super().__init__()
        norm_layer = nn.GroupNorm(width, width) if norm == "group" else nn.BatchNorm1d(width)
        layers = [nn.Conv1d(1, width, 10, 5, bias=False), norm_layer, nn.GELU()]
        for k in (3, 3, 3, 2, 2):
            layers += [nn.Conv1d(width, width, k, 2, bias=False), nn.GELU()]
        self.encoder = nn.Sequential(*layers)
        self.project = nn.Conv1d(width, 6, 1)

    def forward(self, wave):
        return self.project(self.encoder(wave))


class MobileBlock(nn.Module):
    def __init__(self, c, stride, dilation=1, act=nn.ReLU6):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 3, stride, dilation, dilation=dilation, groups=c, bias=False)
        self.bn = nn.BatchNorm2d(c)
        self.act = act()
        self.pw = nn.Conv2d(c, c, 1)
        self.residual = stride == 1

    def forward(self, x):
        y = self.pw(self.act(self.bn(self.dw(x))))
        return x + y if self.residual else y


class TinyMobileNet(nn.Module):
    """Depthwise strided convs, non-square strides, dilation, average pooling, assorted activations."""

    def __init__(self, ceil_mode=True):
        super().__init__()
        self.ceil_mode = ceil_mode  # Theorem 3's construction takes pooling without ceil_mode only
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.Hardswish())
        self.b1 = MobileBlock(8, 2)
        self.b2 = MobileBlock(8, (2, 1), act=nn.SiLU)
        self.b3 = MobileBlock(8, 1, dilation=2, act=nn.LeakyReLU)
        self.pool = nn.AvgPool2d(2, 2)
        self.b4 = nn.Sequential(nn.Conv2d(8, 16, (3, 1), (1, 2), (1, 0), groups=8), nn.Tanh())
        self.head = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        x = self.pool(self.b3(self.b2(self.b1(self.stem(x)))))
        x = F.avg_pool2d(self.b4(x), 3, 2, 1, ceil_mode=self.ceil_mode, count_include_pad=False)
        return torch.sigmoid(self.head(x)).mean((2, 3))


class Functional(nn.Module):
    """Strided functional calls that fx records: F.conv2d, F.max_pool2d, torch.relu, x + y.

    ``parameters_only=True`` keeps every weight a parameter and every pooling without
    ``ceil_mode`` (what Theorem 3's construction takes); otherwise a weight is computed in the
    graph and a pooling uses ``ceil_mode``.
    """

    def __init__(self, parameters_only=False):
        super().__init__()
        self.parameters_only = parameters_only
        self.w = nn.Parameter(torch.randn(6, 3, 3, 3))
        self.b = nn.Parameter(torch.randn(6))
        self.w2 = nn.Parameter(torch.randn(6, 2, 5, 5))

    def forward(self, x):
        y = torch.relu(F.conv2d(x, self.w, self.b, stride=2, padding=1))
        w2 = self.w2 if self.parameters_only else self.w2 * 0.5  # computed in the graph
        z = F.conv2d(y, w2, None, 2, 2, 1, 3)  # groups 3
        if self.parameters_only:  # two strided branches from z, added
            return F.max_pool2d(z, 3, 2, 1) + F.avg_pool2d(z, kernel_size=3, stride=2, padding=1)
        return F.max_pool2d(z, 3, 2, 1) + F.max_pool2d(z, kernel_size=2, stride=2, ceil_mode=True)[..., :1, :1]


MODELS = {
    "resnet": (TinyResNet, (1, 3, 64, 64)),
    "resnet-odd": (TinyResNet, (2, 3, 45, 51)),
    "speech": (SpeechEncoder, (2, 1, 1600)),
    "mobilenet": (TinyMobileNet, (1, 3, 48, 40)),
    "mobilenet-odd": (TinyMobileNet, (1, 3, 37, 43)),
    "functional": (Functional, (1, 3, 33, 30)),
}

STRIDED_FUNCTIONS = {
    torch.conv1d, torch.conv2d, torch.conv3d, F.max_pool1d, F.max_pool2d, F.max_pool3d,
    F.avg_pool1d, F.avg_pool2d, F.avg_pool3d,
}


def stride_of(stride):
    return stride if isinstance(stride, (tuple, list)) else (stride,)


def assert_no_strided_layers(gm):
    for name, m in gm.named_modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)):
            stride = m.kernel_size if getattr(m, "stride", None) is None else m.stride
            assert all(s == 1 for s in stride_of(stride)), f"module {name} still strides"
    for node in gm.graph.nodes:
        if node.op == "call_module":
            m = gm.get_submodule(node.target)
            assert all(s == 1 for s in stride_of(getattr(m, "stride", 1))), f"node {node.name} still strides"
        if node.op == "call_function" and node.target in STRIDED_FUNCTIONS:
            stride = node.kwargs.get("stride", node.args[3] if len(node.args) > 3 else None)
            assert stride is not None and all(s == 1 for s in stride_of(stride)), f"node {node.name} still strides"


# every model with the automatic choice of form; every form on the odd-sized models
CONVERSIONS = [(name, "auto") for name in MODELS] + [
    (name, form) for name in ("resnet-odd", "mobilenet-odd", "functional") for form in ("dense", "phases", "subsample")
]


@pytest.mark.parametrize("name, form", CONVERSIONS, ids=[f"{n}-{f}" for n, f in CONVERSIONS])
def test_destride_model_layer_mode(name, form):
    make, shape = MODELS[name]
    model = randomize_batchnorm(make())
    x = torch.randn(shape)
    flat = destride_model(model, x, mode="layer", form=form)
    assert isinstance(flat, fx.GraphModule)
    with torch.no_grad():
        expected, got = model(x), flat(x)
        other = torch.randn(shape[0], *shape[1:-1], shape[-1] + 3)  # another size: the layers are size-agnostic
        other_expected, other_got = model(other), flat(other)
    assert got.shape == expected.shape and float((got - expected).abs().max()) <= TOL
    assert float((other_got - other_expected).abs().max()) <= TOL
    assert strided_ops(model, x) != [] and strided_ops(flat, x) == []
    assert_no_strided_layers(flat)


def test_original_model_is_left_alone():
    model = randomize_batchnorm(TinyResNet())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    destride_model(model, torch.randn(1, 3, 32, 32))
    assert type(model.stem[0]) is nn.Conv2d and model.stem[0].stride == (2, 2)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_float32_model_is_checked_with_float32_tolerance():
    model = randomize_batchnorm(TinyResNet()).float()
    x = torch.randn(1, 3, 40, 40, dtype=torch.float32)
    flat = destride_model(model, x)
    with torch.no_grad():
        assert torch.allclose(flat(x), model(x), rtol=1e-4, atol=1e-4)


def test_unit_stride_layers_are_kept_as_they_are():
    model = randomize_batchnorm(TinyResNet())
    flat = destride_model(model, torch.randn(1, 3, 32, 32))
    get = flat.get_submodule
    assert type(get("stages.0.conv1")) is nn.Conv2d and type(get("stem.1")) is nn.BatchNorm2d
    assert type(get("stages.1.conv1")).__name__ == "DestridedConv"
    assert type(get("stages.1.down.0")).__name__ == "DestridedConv" and len(get("stages.1.down.0").windows) == 1


# --- errors ------------------------------------------------------------------------------------


class Upsampler(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(2, 2, 3, 2, 1)
        self.up = nn.ConvTranspose2d(2, 2, 2, 2)

    def forward(self, x):
        return self.up(self.down(x), output_size=[16, 16])  # the output padding picked at run time


class Adaptive(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.size)


class Indices(nn.Module):
    def forward(self, x):
        return F.max_pool2d(x, 2, return_indices=True)[0]


class Branchy(nn.Module):
    def forward(self, x):
        return x[:, :, ::2] if x.sum() > 0 else x


class ComputedStride(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(2, 2, 3, 3))

    def forward(self, x):
        return F.conv2d(x, self.w, stride=x.shape[-1] // 8)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Upsampler(), "cannot convert node 'up' \\(module 'up', ConvTranspose2d\\): it is called with output_size"),
        (lambda: Adaptive(6), "cannot convert node 'adaptive_avg_pool2d' \\(function adaptive_avg_pool2d\\): adaptive pooling 16 → 6 \\(axis 0\\) strides non-uniformly \\(window starts \\[0, 2, 5, 8, 10, 13\\], steps up to 3\\)"),
        (lambda: nn.Sequential(nn.AdaptiveMaxPool2d((16, 6))), "node '_0' \\(module '0', AdaptiveMaxPool2d\\): adaptive pooling 16 → 6 \\(axis 1\\) strides non-uniformly"),
        (lambda: nn.Sequential(nn.AdaptiveMaxPool2d(4, return_indices=True)), "node '_0' \\(module '0', AdaptiveMaxPool2d\\): its windows stride, and pooling that returns indices"),
        (lambda: Indices(), "cannot convert node 'max_pool2d_with_indices' \\(function max_pool2d_with_indices\\): pooling that returns indices"),
        (lambda: nn.Sequential(nn.Conv2d(2, 2, 3, 2), nn.BatchNorm2d(2)), "node '_1' \\(module '1', BatchNorm2d\\): BatchNorm2d is in training mode; .*call model.eval\\(\\)"),
        (lambda: nn.Sequential(nn.FractionalMaxPool2d(2, output_ratio=0.5)), "node '_0' .*fractional max pooling"),
        (lambda: nn.Sequential(nn.LPPool2d(2, 2)), "node '_0' \\(module '0', LPPool2d\\): power-average pooling with stride 2"),
        (lambda: Branchy(), "torch.fx could not trace Branchy \\(TraceError: .*\\); destride_model needs a model that fx.symbolic_trace accepts"),
        (lambda: ComputedStride(), "node 'conv2d' \\(function conv2d\\): its stride is computed in the graph \\('floordiv'\\)"),
    ],
)
def test_unconvertible_nodes_are_named(make, message):
    with pytest.raises(SymstrideError, match=message):
        destride_model(make(), torch.randn(1, 2, 16, 16))


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((nn.Conv1d(1, 1, 3, 2), torch.randn(1, 1, 9)), {"mode": "graph"}, ValueError, "unknown mode 'graph'; expected one of 'layer', 'network'"),
        ((nn.Conv1d(1, 1, 3, 2), [1.0]), {}, TypeError, "example_input must be a tensor or a tuple of tensors"),
        (("model", torch.randn(1)), {}, TypeError, "expects a torch.nn.Module, got str"),
        ((nn.Conv1d(1, 1, 3, 2), torch.randn(1, 2, 9)), {}, ValueError, "the model does not run on the example input"),
        ((nn.Conv1d(1, 1, 3, 2), torch.randn(1, 1, 9)), {"form": "sparse"}, ValueError, "unknown form 'sparse' for mode='layer'"),
        ((nn.Conv1d(1, 1, 3, 2), torch.randn(1, 1, 9)), {"mode": "network", "form": "phases"}, ValueError,
         "unknown form 'phases' for mode='network'; expected one of 'gather', 'dense', 'auto'"),
    ],
)
def test_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        destride_model(*args, **kwargs)


# --- failing twins: the final check catches a wrong conversion ----------------------------------


def test_wrong_mapping_is_caught_by_the_check(monkeypatch):
    real = torch_layers.weight_gather_index

    def shifted(spec, layout="pytorch", taps=None):  # every tap one offset too far, where there is room
        wrong = [Tap(t.tap, t.phase, tuple(min(j + 1, k - 1) for j, k in zip(t.offset, torch_layers.equivalent_kernel(spec)))) for t in tap_map(spec)]
        return real(spec, layout, wrong)

    monkeypatch.setattr(torch_layers, "weight_gather_index", shifted)
    with pytest.raises(SymstrideError, match="the output: the converted model differs from the original by"):
        destride_model(randomize_batchnorm(TinyResNet()), torch.randn(1, 3, 32, 32), form="dense")


def test_a_strided_layer_left_behind_is_caught_by_the_check(monkeypatch):
    monkeypatch.setitem(torch_model._LAYER_RULES, "call_module", lambda gm, node, form: None)
    with pytest.raises(SymstrideError, match="still runs 1 strided operator\\(s\\), first aten.convolution.default with stride \\(2,\\)"):
        destride_model(nn.Sequential(nn.Conv1d(1, 1, 3, 2)), torch.randn(1, 1, 9))


# --- mode="network": Theorem 3 ------------------------------------------------------------------

NETWORK_MODELS = {
    "resnet": (TinyResNet, (1, 3, 64, 64)),
    "resnet-odd": (TinyResNet, (2, 3, 45, 51)),
    "speech": (lambda: SpeechEncoder(norm="batch"), (2, 1, 1600)),
    "speech-odd": (lambda: SpeechEncoder(norm="batch"), (1, 1, 1597)),
    "mobilenet-odd": (lambda: TinyMobileNet(ceil_mode=False), (1, 3, 37, 43)),
    "functional": (lambda: Functional(parameters_only=True), (1, 3, 33, 30)),
    "mobilenet-ceil": (TinyMobileNet, (1, 3, 37, 43)),  # avg_pool2d with ceil_mode: a clipped divisor
    "speech-group": (SpeechEncoder, (1, 1, 1597)),  # GroupNorm: statistics pooled over the phases
}
#: Sizes not divisible by the later strides of layers that pad: Theorem 3 needs 0/1 masks there
#: (the speech encoder's convolutions do not pad, so they never read past the end, at any length).
NEEDS_MASKS = {"resnet-odd", "mobilenet-odd", "functional", "mobilenet-ceil"}
#: The one space-to-depth factor S = Π s_l per axis.
TOTAL_STRIDE = {"resnet": (16, 16), "resnet-odd": (16, 16), "speech": (160,), "speech-odd": (160,), "mobilenet-odd": (32, 32), "functional": (8, 8),
                "mobilenet-ceil": (32, 32), "speech-group": (160,)}


def phase_network(flat):
    return next(m for m in flat.modules() if type(m).__name__ == "PhaseGraph")


def masks(flat):
    return [m for m in flat.modules() if type(m).__name__ == "_PhaseMask"]


@pytest.mark.parametrize("form", ["gather", "dense"])
@pytest.mark.parametrize("name", list(NETWORK_MODELS))
def test_destride_model_network_mode(name, form):
    make, shape = NETWORK_MODELS[name]
    model = randomize_batchnorm(make())
    x = torch.randn(shape)
    flat = destride_model(model, x, mode="network", form=form)
    with torch.no_grad():
        expected, got = model(x), flat(x)
    assert got.shape == expected.shape and float((got - expected).abs().max()) <= TOL
    assert strided_ops(model, x) != [] and strided_ops(flat, x) == []
    assert_no_strided_layers(flat)
    space_to_depth = [m for m in flat.modules() if type(m).__name__ == "SpaceToDepth"]
    assert space_to_depth == [phase_network(flat).space_to_depth] and space_to_depth[0].stride == TOTAL_STRIDE[name]
    assert bool(masks(flat)) == (name in NEEDS_MASKS)


def test_network_mode_keeps_what_follows_the_trunk():
    model = randomize_batchnorm(TinyResNet())
    flat = destride_model(model, torch.randn(1, 3, 32, 32), mode="network")
    calls = [n.target for n in flat.graph.nodes if n.op in ("call_module", "call_function")]
    assert calls == ["phase_network", F.adaptive_avg_pool2d, torch.flatten, "head"]
    assert phase_network(flat).space_to_depth.stride == (16, 16)  # 2 (stem) · 2 (pool) · 2 · 2


def test_network_mode_ties_filters():
    """Every original weight appears R^d times in the dense tied bank (gathered on each call); both forms hold the original weight."""
    model = randomize_batchnorm(TinyResNet())
    x = torch.randn(1, 3, 32, 32)
    dense = destride_model(model, x, mode="network", form="dense")
    gather = destride_model(model, x, mode="network", form="gather")
    stem_dense = next(m for m in dense.modules() if getattr(m, "path", None) == "stem_0")
    stem_gather = next(m for m in gather.modules() if getattr(m, "path", None) == "stem_0")
    assert torch.equal(stem_gather.weight, model.stem[0].weight)
    w = model.stem[0].weight.detach()
    assert torch.equal(stem_dense.weight, w) and tuple(stem_dense.bank().shape) == stem_dense.dense_shape
    assert stem_dense.out_phases == 64  # R = 8 per axis after the stem: pool and two stages stride 2
    for value in w.reshape(-1)[:20]:
        assert int((stem_dense.bank() == value).sum()) == stem_dense.out_phases


def test_network_mode_is_built_for_one_size():
    model = randomize_batchnorm(TinyResNet())
    flat = destride_model(model, torch.randn(1, 3, 32, 32), mode="network")
    with pytest.raises(ValueError, match="built for inputs of spatial size \\(32, 32\\), got \\(33, 32\\)"):
        flat(torch.randn(1, 3, 33, 32))


class LaterReflect(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv1d(1, 2, 3, 2)
        self.b = nn.Conv1d(2, 2, 3, 2, padding=1, padding_mode="reflect")

    def forward(self, x):
        return self.b(self.a(x))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Functional(), "node 'conv2d_1' \\(function conv2d\\): mode='network': its weight is computed in the graph"),
        (LaterReflect, "node 'b' \\(module 'b', Conv1d\\) in mode='network': padding_mode='reflect' is exact only on the first layer"),
    ],
)
def test_network_mode_names_what_it_cannot_convert(make, message):
    model = randomize_batchnorm(make())
    shape = (1, 1, 400) if isinstance(model, (SpeechEncoder, LaterReflect)) else (1, 3, 33, 30)
    with pytest.raises(SymstrideError, match=message):
        destride_model(model, torch.randn(shape), mode="network")


def test_network_dense_form_refuses_huge_banks(monkeypatch):
    monkeypatch.setattr(torch_network, "MAX_DENSE_ENTRIES", 1000)
    with pytest.raises(SymstrideError, match="node 'stem_0' \\(module 'stem.0', Conv2d\\) in mode='network': layer stem_0 \\(conv\\): the tied bank W' would have 3,538,944 entries \\(14 MiB in float32\\).* use form='gather'"):
        destride_model(randomize_batchnorm(TinyResNet()), torch.randn(1, 3, 32, 32), mode="network", form="dense")


def test_network_mode_without_masks_is_caught(monkeypatch):
    """Failing twin: the boundary masks are what makes odd sizes exact."""
    monkeypatch.setattr(torch_network._PhaseMask, "forward", lambda self, z: z)
    model = randomize_batchnorm(TinyResNet())
    destride_model(model, torch.randn(1, 3, 64, 64), mode="network")  # divisible sizes: no mask needed
    with pytest.raises(SymstrideError, match="the converted model differs from the original"):
        destride_model(model, torch.randn(1, 3, 45, 51), mode="network")
