"""The converter's own checks, and the layers they made convertible (issue 15, items 2 and 4).

- adaptive pooling: its windows (against PyTorch's own argmax), whether they stride, and the
  conversion at the example input's sizes (against ``F.adaptive_*`` in float64, tolerance 1e-12);
- the audit: convolution/pooling strides recorded — adaptive pooling that strides in effect
  included — and tensor memory strides (``as_strided_`` from channels_last pooling) not;
- the output comparison: containers by structure and values (a ``dict`` for an ``OrderedDict``);
- parametrized convolutions converted with the parametrization kept;
- refusals name the module; converted models trace with ``torch.export``.
"""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from symstride import SymstrideError
from symstride.core.adaptive import adaptive_windows, uniform_window, window_stride
from symstride.torch import destride_model, strided_ops
from symstride.torch import model as torch_model
from symstride.torch.adaptive import AdaptivePoolAt, adaptive_rule
from symstride.torch.outputs import compare_outputs
from symstride.torch.parametrized import ParametrizedDestridedConv

TOL = 1e-12
pytestmark = pytest.mark.usefixtures("torch_float64")
ADAPTIVE = {("avg", 1): F.adaptive_avg_pool1d, ("avg", 2): F.adaptive_avg_pool2d, ("max", 1): F.adaptive_max_pool1d, ("max", 2): F.adaptive_max_pool2d}


# --- adaptive pooling ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40))
def test_adaptive_windows_are_pytorchs(n, m):
    """PyTorch's argmax over an increasing (decreasing) signal is each window's last (first) sample."""
    up = torch.arange(float(n)).reshape(1, 1, n)
    last = F.adaptive_max_pool1d(up, m, return_indices=True)[1].flatten().tolist()
    first = F.adaptive_max_pool1d(-up, m, return_indices=True)[1].flatten().tolist()
    assert [(a, b + 1) for a, b in zip(first, last)] == adaptive_windows(n, m)
    starts = [a for a, _ in adaptive_windows(n, m)]
    assert window_stride(n, m) == max([1] + [b - a for a, b in zip(starts, starts[1:])])
    uniform = uniform_window(n, m)
    if uniform is not None:
        k, s = uniform
        assert adaptive_windows(n, m) == [(s * i, s * i + k) for i in range(m)]
        assert F.avg_pool1d(up, k, s).shape[-1] == m  # an ordinary pooling gives as many outputs


def test_uniform_window_rejects_non_uniform_windows():
    assert uniform_window(12, 5) is None and window_stride(12, 5) == 3  # starts 0, 2, 4, 7, 9
    assert uniform_window(2, 7) is None and window_stride(2, 7) == 1    # upsampling: lengths 1 and 2
    with pytest.raises(ValueError, match="adaptive pooling needs positive sizes, got input 0 and output 3"):
        adaptive_windows(0, 3)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["avg", "max"]), st.integers(1, 2), st.data())
def test_adaptive_rule_against_pytorch(kind, ndim, data):
    """Kept (does not stride), converted (equal to PyTorch, no strided operator), or refused (strides unevenly)."""
    sizes = tuple(data.draw(st.integers(1, 24)) for _ in range(ndim))
    out = tuple(data.draw(st.integers(1, 12)) for _ in range(ndim))
    steps = [window_stride(n, m) for n, m in zip(sizes, out)]
    uneven = [uniform_window(n, m) is None and s > 1 for n, m, s in zip(sizes, out, steps)]
    x = torch.randn(2, 3, *sizes)
    if any(uneven):
        with pytest.raises(SymstrideError, match="strides non-uniformly"):
            adaptive_rule(kind, sizes, out)
        return
    pool = adaptive_rule(kind, sizes, out)
    if all(s == 1 for s in steps):
        assert pool is None
        return
    assert isinstance(pool, AdaptivePoolAt)
    assert float((pool(x) - ADAPTIVE[kind, ndim](x, out)).abs().max()) <= TOL
    assert strided_ops(pool, x) == []


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["avg", "max"]), st.lists(st.tuples(st.integers(1, 6), st.integers(1, 4)), min_size=1, max_size=2), st.data())
def test_adaptive_pooling_with_an_integer_ratio_is_converted(kind, axes, data):
    """n = s·m samples to m: the pooling with kernel s, stride s (the first axis strides)."""
    axes[0] = (max(2, axes[0][0]), max(2, axes[0][1]))
    sizes, out = tuple(s * m for m, s in axes), tuple(m for m, _ in axes)
    pool = adaptive_rule(kind, sizes, out)
    assert isinstance(pool, AdaptivePoolAt)
    assert pool.pool.spec.kernel == tuple(s if m > 1 else s * m for m, s in axes)  # one output: the whole axis
    assert pool.pool.spec.stride == tuple(s if m > 1 else 1 for m, s in axes)
    x = torch.randn(2, 3, *sizes)
    assert float((pool(x) - ADAPTIVE[kind, len(sizes)](x, out)).abs().max()) <= TOL
    assert strided_ops(pool, x) == [] and strided_ops(lambda_module(lambda t: ADAPTIVE[kind, len(sizes)](t, out)), x) != []


def test_adaptive_pooling_with_a_wrong_window_differs():
    """The failing twin: 12 → 5 is not the pooling with kernel 4, stride 2 (same output size)."""
    x = torch.randn(1, 2, 12, 12)
    wrong = AdaptivePoolAt("avg", (12, 12), (5, 5), (4, 4), (2, 2))
    assert float((wrong(x) - F.adaptive_avg_pool2d(x, 5)).abs().max()) > 1e-3
    with pytest.raises(ValueError, match="converted for spatial sizes \\(12, 12\\).*shape \\(1, 2, 14, 14\\)"):
        adaptive_rule("avg", (12, 12), 6)(torch.randn(1, 2, 14, 14))


class AlexHead(nn.Module):
    """AlexNet's shape: strided features, then adaptive pooling to 6×6 (12 → 6 at 416×416)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.MaxPool2d(2))
        self.pool = nn.AdaptiveAvgPool2d(6)
        self.head = nn.Linear(4 * 36, 3)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


@pytest.mark.parametrize("mode", ["layer", "network"])
def test_adaptive_pooling_that_strides_is_converted(mode):
    net = AlexHead().eval()
    x = torch.randn(1, 3, 48, 48)  # features give 12×12
    assert ("aten._adaptive_avg_pool2d.default", (2, 2), "pool") in [(o.op, o.stride, o.module) for o in strided_ops(net, x)]
    flat = destride_model(net, x, mode=mode)
    assert strided_ops(flat, x) == []
    if mode == "layer":
        assert any(isinstance(m, AdaptivePoolAt) for m in flat.modules())
    else:  # 12 → 6 is average pooling with kernel 2, stride 2: a tied pooling inside Theorem 3's graph
        assert flat.phase_network.space_to_depth.stride == (8, 8) and not any(isinstance(m, AdaptivePoolAt) for m in flat.modules())
    with torch.no_grad():
        assert float((flat(x) - net(x)).abs().max()) <= 1e-9
    small = torch.randn(1, 3, 16, 16)  # features give 4×4: 4 → 6 does not stride, the pooling is kept
    assert any(isinstance(m, nn.AdaptiveAvgPool2d) for m in destride_model(net, small, mode=mode).modules())


def test_audit_catches_adaptive_pooling_left_behind(monkeypatch):
    """The failing twin of the conversion: an adaptive pooling kept although it strides is caught."""
    monkeypatch.setattr(torch_model, "adaptive_rule", lambda kind, sizes, size: None)
    with pytest.raises(SymstrideError, match="still runs 1 strided operator\\(s\\), first aten._adaptive_avg_pool2d.default "
                       "with stride \\(2, 2\\) in module 'pool' on an input of shape \\(1, 4, 12, 12\\)"):
        destride_model(AlexHead().eval(), torch.randn(1, 3, 48, 48))


# --- the audit: windows, not memory --------------------------------------------------------------


def test_audit_ignores_memory_strides_and_records_windows():
    x = torch.randn(1, 4, 12, 12).to(memory_format=torch.channels_last)
    assert strided_ops(nn.AdaptiveAvgPool2d(1), x) == []  # runs aten.as_strided_ on channels_last
    assert strided_ops(nn.Identity(), x.as_strided((1, 4, 12, 12), (576, 1, 48, 4))) == []
    unfold = strided_ops(lambda_module(lambda t: t.unfold(2, 3, 2)), x)
    assert [(o.op, o.stride) for o in unfold] == [("aten.unfold.default", (2,))]
    fractional = strided_ops(nn.FractionalMaxPool2d(2, output_size=5), x)
    assert [(o.op, o.stride) for o in fractional] == [("aten.fractional_max_pool2d.default", (3, 3))]
    assert strided_ops(nn.AdaptiveMaxPool2d((12, 3)), x)[0].stride == (1, 4)


def lambda_module(function):
    class Apply(nn.Module):
        def forward(self, t):
            return function(t)

    return Apply()


def test_channels_last_model_converts():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()
    x = torch.randn(2, 3, 16, 16).to(memory_format=torch.channels_last)
    for mode in ("layer", "network"):
        flat = destride_model(net, x, mode=mode)
        with torch.no_grad():
            assert float((flat(x) - net(x)).abs().max()) <= 1e-9


# --- outputs compared by structure and values ----------------------------------------------------


class Segmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 4, 3, 2, 1)

    def forward(self, x):
        y = self.body(x)
        return OrderedDict([("out", y), ("aux", (y.relu(), [y.shape[-1]]))])


def test_agreeing_nan_and_infinities_are_the_same_output():
    a = torch.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    compare_outputs(a, a.clone())
    compare_outputs(torch.full((2,), float("nan")), torch.full((2,), float("nan")))


def test_ordered_dict_output_is_the_same_output():
    net, x = Segmenter().eval(), torch.randn(1, 3, 16, 16)
    flat = destride_model(net, x)
    assert set(flat(x)) == {"out", "aux"}


@pytest.mark.parametrize(
    "reference, converted, message",
    [
        ({"out": torch.ones(2)}, {"out": torch.ones(3)}, "output\\['out'\\]: the converted model gives torch.float32 of shape \\(3,\\), the original torch.float32 of shape \\(2,\\)"),
        ((torch.ones(2),), [torch.ones(2)], "the output: the converted model returns a list, the original a tuple"),
        ((torch.ones(2), 3), (torch.ones(2), 4), "output\\[1\\]: the converted model returns 4, the original 3"),
        ((torch.ones(2, dtype=torch.int64),), (torch.zeros(2, dtype=torch.int64),), "output\\[0\\]: the converted model's integer output differs"),
        ({"a": torch.ones(1)}, {"a": torch.ones(1), "b": torch.ones(1)}, "returns keys \\['a', 'b'\\], the original \\['a'\\]"),
        ([torch.ones(1)], [torch.ones(1), torch.ones(1)], "returns 2 items, the original 1"),
        (torch.tensor([1.0, float("nan")]), torch.tensor([1.0, 2.0]), "NaN or infinite entries are not the original's \\(1 in the original, 0"),
        (torch.tensor([float("inf")]), torch.tensor([-float("inf")]), "NaN or infinite entries are not the original's"),
        (torch.tensor([3.0, float("nan")]), torch.tensor([3.5, float("nan")]), "the output: the converted model differs from the original by 0.5"),
    ],
)
def test_outputs_that_differ_are_named(reference, converted, message):
    with pytest.raises(SymstrideError, match=message):
        compare_outputs(reference, converted)


# --- parametrized convolutions ---------------------------------------------------------------------


@pytest.mark.parametrize("parametrize", [weight_norm, spectral_norm])
def test_parametrized_convolutions_keep_their_parametrization(parametrize):
    net = nn.Sequential(parametrize(nn.Conv2d(3, 4, 3, 2, 1)), nn.ReLU()).eval()
    x = torch.randn(1, 3, 11, 11)
    flat = destride_model(net, x)
    assert isinstance(flat.get_submodule("0"), ParametrizedDestridedConv)
    assert strided_ops(flat, x) == []
    assert set(dict(flat.named_parameters())) == {f"0.layer.{name}" for name, _ in net[0].named_parameters()}
    with torch.no_grad():
        plain = nn.Conv2d(3, 4, 3, 2, 1)  # the twin: the weight copied once
        plain.weight.copy_(net[0].weight)
        plain.bias.copy_(net[0].bias)
        frozen = destride_model(nn.Sequential(plain, nn.ReLU()).eval(), x)
        for (name, p), q in zip(net[0].named_parameters(), flat.get_submodule("0.layer").parameters()):
            step = 0.3 * torch.randn_like(p)  # a training step, in effect, on both copies
            p.add_(step)
            q.add_(step)
        assert float((flat(x) - net(x)).abs().max()) <= 1e-12  # recomputed from the original parameters
        assert float((frozen(x) - net(x)).abs().max()) > 1e-3   # a copied weight does not follow
    flat(x).sum().backward()  # the gradients reach the original parameters of the parametrization
    assert all(p.grad is not None for p in flat.get_submodule("0.layer").parametrizations.weight.parameters())


def test_parametrized_gradients_are_the_originals():
    conv = weight_norm(nn.Conv2d(3, 4, 3, 2, 1))
    x = torch.randn(2, 3, 9, 9)
    eq = ParametrizedDestridedConv(conv)
    grads = []
    for module in (conv, eq):
        module.zero_grad()
        (module(x) ** 2).sum().backward()
        grads.append([p.grad.clone() for p in conv.parameters()])
    for a, b in zip(*grads):
        assert float((a - b).abs().max()) <= 1e-10
    with pytest.raises(TypeError, match="expected a parametrized Conv1d/2d/3d, got Conv2d"):
        ParametrizedDestridedConv(nn.Conv2d(3, 4, 3, 2))


# --- refusals name the module; export ---------------------------------------------------------------


class Inner(nn.Module):
    def forward(self, x):
        return F.max_pool2d_with_indices(x, 2)[0]


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Inner())

    def forward(self, x):
        return self.blocks(x)


def test_refusal_names_the_module_of_a_functional_call():
    with pytest.raises(SymstrideError, match="node 'max_pool2d_with_indices' \\(function max_pool2d_with_indices "
                       "in module 'blocks.0', Inner\\): pooling that returns indices"):
        destride_model(Outer(), torch.randn(1, 2, 8, 8))


class Exportable(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = weight_norm(nn.Conv2d(3, 4, 3, 2, 1))
        self.w = nn.Parameter(torch.randn(4, 4, 3, 3))
        self.up = nn.ConvTranspose2d(4, 4, 2, 2)
        self.pool = nn.AdaptiveAvgPool2d(3)

    def forward(self, x):
        y = F.max_pool2d(F.conv2d(self.c1(x), self.w, stride=2, padding=1), 3, 2, 1)
        return self.pool(F.avg_pool2d(self.up(y), 3, 1, 1))


def test_layer_mode_conversion_traces_with_torch_export():
    net, x = Exportable().eval(), torch.randn(1, 3, 24, 24)
    flat = destride_model(net, x)
    kinds = {type(m).__name__ for m in flat.modules()}
    assert {"ParametrizedDestridedConv", "DestridedConvCall", "DestridedPool", "DestridedConvTranspose", "AdaptivePoolAt"} <= kinds
    program = torch.export.export(flat, (x,))
    with torch.no_grad():
        assert float((program.module()(x) - net(x)).abs().max()) <= 1e-9
    assert strided_ops(program.module(), x) == []


class Cached(nn.Module):
    """Keeps a tensor computed in its forward pass: with gradients on, it is no graph leaf."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, 2)
        self.cache = None

    def forward(self, x):
        self.cache = self.conv.weight * 2
        return self.conv(x)


def test_a_model_that_cannot_be_copied_is_not_called_untraceable():
    net = Cached()
    net(torch.randn(1, 2, 8, 8))  # grad mode: net.cache is a non-leaf tensor
    with pytest.raises(SymstrideError, match="could not copy Cached \\(RuntimeError: .*\\); destride_model converts a deep copy") as error:
        destride_model(net, torch.randn(1, 2, 8, 8))
    assert "torch.fx" not in str(error.value)


def test_destride_layer_takes_a_parametrized_convolution():
    from symstride.torch import destride_layer

    conv = spectral_norm(nn.Conv1d(2, 3, 4, 3, 1)).eval()
    x = torch.randn(2, 2, 17)
    eq = destride_layer(conv)
    assert isinstance(eq, ParametrizedDestridedConv) and eq.layer is conv
    with torch.no_grad():
        assert float((eq(x) - conv(x)).abs().max()) <= TOL
    assert strided_ops(eq, x) == [] and strided_ops(conv, x) != []
