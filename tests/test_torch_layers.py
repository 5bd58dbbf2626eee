"""symstride.torch on single layers: N-D space-to-depth in both layouts, and Theorem 2 on
real ``Conv1d/2d/3d`` and pooling layers against PyTorch (float64, tolerance 1e-9), with
failing twins."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from symstride import SymstrideError
from symstride.core.indexing import Tap, tap_map
from symstride.core.params import ConvSpec
from symstride.torch import DepthToSpace, SpaceToDepth, destride_layer, strided_ops
from symstride.torch import layers as torch_layers
from symstride.core.phase_windows import phase_windows

TOL = 1e-9
pytestmark = pytest.mark.usefixtures("torch_float64")


def close(a, b):
    return a.shape == b.shape and float((a - b).detach().abs().max()) <= TOL


# --- space-to-depth ---------------------------------------------------------------------------


def test_space_to_depth_pytorch_layout_is_pixel_unshuffle():
    x = torch.randn(2, 3, 8, 12)
    assert torch.equal(SpaceToDepth(2)(x), F.pixel_unshuffle(x, 2))
    assert torch.equal(SpaceToDepth(4)(x), F.pixel_unshuffle(x, 4))
    assert torch.equal(DepthToSpace(2)(F.pixel_unshuffle(x, 2)), x)


def test_space_to_depth_tf_layout_is_phase_major():
    """TensorFlow/ONNX SpaceToDepth: z[n, φ(r)·C + c, a] = x[n, c, s·a + r], φ row-major."""
    x = torch.randn(2, 3, 6, 9)
    s = (2, 3)
    z = SpaceToDepth(s, layout="tf")(x)
    for r1, r2 in itertools.product(range(2), range(3)):
        phi = r1 * 3 + r2
        for c in range(3):
            assert torch.equal(z[:, phi * 3 + c], x[:, c, r1::2, r2::3])
    assert torch.equal(DepthToSpace(s, layout="tf")(z), x)


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
@pytest.mark.parametrize("shape, stride", [((2, 4, 12), 3), ((1, 2, 4, 6, 10), (2, 3, 5)), ((1, 3, 4, 6), (1, 2))])
def test_space_to_depth_nd_matches_explicit_formula(layout, shape, stride):
    x = torch.randn(shape)
    s = stride if isinstance(stride, tuple) else (stride,) * (len(shape) - 2)
    z = SpaceToDepth(stride, layout=layout)(x)
    c_in, n_phases = shape[1], len(list(itertools.product(*map(range, s))))
    for flat, r in enumerate(itertools.product(*map(range, s))):
        for c in range(c_in):
            ch = c * n_phases + flat if layout == "pytorch" else flat * c_in + c
            assert torch.equal(z[:, ch], x[(slice(None), c, *(slice(ra, None, sa) for ra, sa in zip(r, s)))])
    assert torch.equal(DepthToSpace(stride, layout=layout)(z), x)


def test_space_to_depth_keeps_chosen_phases_in_both_layouts():
    x = torch.randn(1, 2, 4, 4)
    full = SpaceToDepth(2)(x)
    kept = SpaceToDepth(2, phases=[(1, 1), (0, 0)])(x)
    assert torch.equal(kept, full[:, [3, 0, 7, 4]])
    tf = SpaceToDepth(2, layout="tf", phases=[(1, 1), (0, 0)])(x)
    assert torch.equal(tf, SpaceToDepth(2, layout="tf")(x)[:, [6, 7, 0, 1]])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SpaceToDepth(2)(torch.randn(1, 1, 5)), "divisible by its stride: 5 by 2 \\(axis 0\\)"),
        (lambda: SpaceToDepth((2, 2))(torch.randn(1, 1, 4)), "strides for 2 spatial axes but the input has 1"),
        (lambda: SpaceToDepth(2, layout="nchw"), "unknown layout 'nchw'"),
        (lambda: SpaceToDepth(0), "stride must be a positive integer"),
        (lambda: SpaceToDepth(2, phases=[(2,)])(torch.randn(1, 1, 4)), "phase \\(2,\\) is not a phase of stride \\(2,\\)"),
        (lambda: DepthToSpace(2)(torch.randn(1, 3, 4)), "channels divisible by Π s = 2, got 3"),
    ],
)
def test_space_to_depth_bad_input(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- convolutions ------------------------------------------------------------------------------

CONVS = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}

CASES = [
    # ndim, cin, cout, kernel, stride, padding, dilation, groups, bias, padding_mode, size
    (1, 2, 3, 10, 5, 0, 1, 1, True, "zeros", 41),
    (1, 4, 4, 3, 2, 1, 2, 2, False, "reflect", 17),
    (2, 3, 4, 7, 2, 3, 1, 1, False, "zeros", 23),
    (2, 4, 6, 3, 2, 1, 1, 2, True, "replicate", 14),
    (2, 4, 4, 3, (2, 1), (1, 2), (1, 2), 4, True, "circular", (11, 10)),
    (2, 2, 2, (3, 5), (3, 2), "valid", (2, 1), 1, True, "zeros", (16, 13)),
    (2, 2, 3, 4, 1, "same", 3, 1, True, "zeros", 12),
    (2, 4, 8, 1, 2, 0, 1, 1, True, "zeros", 9),
    (3, 2, 2, 3, (2, 1, 3), 1, 1, 1, True, "zeros", (7, 6, 9)),
    (3, 2, 4, (2, 3, 3), 2, (0, 1, 1), (1, 2, 1), 2, False, "reflect", (6, 8, 7)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("form", ["dense", "phases", "subsample", "auto"])
@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_destride_layer_equals_pytorch(case, form):
    ndim, cin, cout, k, s, p, d, g, bias, mode, size = case
    torch.manual_seed(0)
    conv = CONVS[ndim](cin, cout, k, stride=s, padding=p, dilation=d, groups=g, bias=bias, padding_mode=mode)
    size = size if isinstance(size, tuple) else (size,) * ndim
    x = torch.randn(2, cin, *size)
    eq = destride_layer(conv, form=form)
    assert close(eq(x), conv(x))
    assert strided_ops(eq, x) == []
    # the layer is size-agnostic: one sample longer on every axis
    x2 = torch.randn(1, cin, *(n + 1 for n in size))
    assert close(eq(x2), conv(x2))


@settings(max_examples=40, deadline=None)
@given(
    ndim=st.integers(1, 3),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    d=st.integers(1, 3),
    p=st.integers(0, 2),
    g=st.sampled_from([1, 2]),
    extra=st.integers(0, 5),
    form=st.sampled_from(["dense", "phases", "subsample"]),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
)
def test_destride_layer_random_configurations(ndim, k, s, d, p, g, extra, form, mode):
    n = d * (k - 1) + 1 + extra + (p + 1 if mode != "zeros" else 0)
    conv = CONVS[ndim](2 * g, 2 * g, k, stride=s, padding=p, dilation=d, groups=g, padding_mode=mode)
    x = torch.randn(1, conv.in_channels, *(n,) * ndim)
    assert close(destride_layer(conv, form=form)(x), conv(x))


DEPTHWISE = [
    # ndim, channels, kernel, stride, padding, dilation, bias, padding_mode, size
    (2, 6, 3, 2, 1, 1, True, "zeros", 13),
    (2, 4, (3, 5), (2, 1), (1, 2), (1, 2), False, "reflect", (11, 12)),
    (1, 3, 5, 3, 2, 2, True, "circular", 20),
    (3, 2, 3, 2, 1, 1, True, "replicate", 7),
]


@pytest.mark.parametrize("case", DEPTHWISE, ids=[f"dw{i}" for i in range(len(DEPTHWISE))])
def test_depthwise_layers_take_the_subsample_form_and_equal_pytorch(case):
    ndim, c, k, s, p, d, bias, mode, size = case
    conv = CONVS[ndim](c, c, k, stride=s, padding=p, dilation=d, groups=c, bias=bias, padding_mode=mode)
    size = size if isinstance(size, tuple) else (size,) * ndim
    x = torch.randn(2, c, *size, requires_grad=True)
    eq = destride_layer(conv, form="auto")
    assert eq.form == "subsample" and eq.phase_weights()[0] is conv.weight and eq.dilations == [conv.dilation]
    assert close(eq(x), conv(x)) and strided_ops(eq, x) == []
    grad, = torch.autograd.grad(eq(x).square().sum(), x)
    grad_ref, = torch.autograd.grad(conv(x).square().sum(), x)
    assert close(grad, grad_ref)


def test_zero_phases_are_dropped_not_multiplied():
    conv = nn.Conv2d(4, 8, 1, stride=2)
    for form in ("dense", "phases"):
        eq = destride_layer(conv, form=form)
        assert [w.phase for w in eq.windows] == [(0, 0)]
        assert [tuple(w.shape) for w in eq.phase_weights()] == [(8, 4, 1, 1)]
    assert destride_layer(conv, form="dense").space_to_depth.phases == ((0, 0),)
    # dilation 2 with stride 2: only phase 0 carries weight, as a contiguous 3-tap kernel
    conv = nn.Conv1d(2, 2, 3, stride=2, dilation=2)
    eq = destride_layer(conv, form="phases")
    assert [(w.phase, w.count, w.step) for w in eq.windows] == [((0,), (3,), (1,))] and eq.dilations == [(1,)]
    x = torch.randn(1, 2, 15)
    assert close(eq(x), conv(x))


def test_phase_form_has_no_structural_zero_and_dense_form_has_them():
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.rand_like(conv.weight) + 0.5)  # no accidental zero weight
    phases = destride_layer(conv, form="phases")
    assert [tuple(w.shape[2:]) for w in phases.phase_weights()] == [(2, 2), (2, 1), (1, 2), (1, 1)]
    assert all(bool((w != 0).all()) for w in phases.phase_weights()) and not hasattr(phases, "space_to_depth")
    dense = destride_layer(conv, form="dense")
    bank, = dense.phase_weights()
    assert tuple(bank.shape) == (5, 12, 2, 2) and int((bank == 0).sum()) == 5 * 3 * 7


def test_phase_windows_with_dilation_are_progressions():
    spec = ConvSpec.create(kernel=(5, 3), stride=(2, 3), dilation=(3, 2))
    windows = phase_windows(spec)
    taps = tap_map(spec)
    for w in windows:
        live = sorted(t.offset for t in taps if t.phase == w.phase)
        grid = sorted(itertools.product(*(range(j0, j0 + st * c, st) for j0, c, st in zip(w.start, w.count, w.step))))
        assert live == grid
    assert sum(len([t for t in taps if t.phase == w.phase]) for w in windows) == spec.taps


def test_weights_come_from_the_gather_index(monkeypatch):
    """Failing twin: a converted layer built from a wrong tap map is caught against PyTorch."""
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    x = torch.randn(1, 2, 9, 9)
    assert close(destride_layer(conv, form="dense")(x), conv(x))
    real = torch_layers.weight_gather_index

    def swapped(spec, layout="pytorch", taps=None):  # taps m=(0,0) and m=(0,2) exchanged
        wrong = [Tap(t.tap, *(((0, 0), (0, 1)) if t.tap == (0, 0) else ((0, 0), (0, 0)) if t.tap == (0, 2) else (t.phase, t.offset))) for t in tap_map(spec)]
        return real(spec, layout, wrong)

    monkeypatch.setattr(torch_layers, "weight_gather_index", swapped)
    wrong = destride_layer(conv, form="dense")
    assert not close(wrong(x), conv(x))


def test_functional_call_module_gathers_weights_each_call():
    spec = torch_layers.conv_spec((4, 2, 3, 3), 2, 1, 1, 1)
    call = torch_layers.DestridedConvCall(spec, form="phases")
    x, w, b = torch.randn(1, 2, 10, 10), torch.randn(4, 2, 3, 3), torch.randn(4)
    assert close(call(x, w, b), F.conv2d(x, w, b, stride=2, padding=1))
    with pytest.raises(ValueError, match="weight has shape \\(4, 2, 3\\), expected \\(4, 2, 3, 3\\)"):
        call(x, w[..., 0], b)


def test_gradients_flow_through_the_phase_form():
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    eq = destride_layer(conv, form="phases")
    x = torch.randn(1, 2, 8, 8, requires_grad=True)
    eq(x).sum().backward()
    x_ref = x.detach().clone().requires_grad_(True)
    conv(x_ref).sum().backward()
    assert close(x.grad, x_ref.grad)


# --- pooling -----------------------------------------------------------------------------------

POOLS = [
    nn.MaxPool2d(3, 2, 1),
    nn.MaxPool2d(2),
    nn.MaxPool1d(4, 3, 2, dilation=2, ceil_mode=True),
    nn.MaxPool3d((2, 3, 3), (1, 2, 3), (1, 1, 0), ceil_mode=True),
    nn.MaxPool2d(1, 2),
    nn.AvgPool2d(3, 2, 1),
    nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    nn.AvgPool1d(5, 3, 2, ceil_mode=True),
    nn.AvgPool2d((2, 4), (2, 3), (1, 2), ceil_mode=True, count_include_pad=True),
    nn.AvgPool3d(2, 2, 1, divisor_override=3),
]


@pytest.mark.parametrize("pool", POOLS, ids=[repr(p) for p in POOLS])
def test_destride_pool_equals_pytorch(pool):
    ndim = {nn.MaxPool1d: 1, nn.AvgPool1d: 1, nn.MaxPool3d: 3, nn.AvgPool3d: 3}.get(type(pool), 2)
    for size in (9, 10):
        x = torch.randn(2, 3, *(size,) * ndim)
        eq = destride_layer(pool)
        assert close(eq(x), pool(x))
        assert strided_ops(eq, x) == []


def test_max_pool_1x1_stride_2_is_a_slice():
    x = torch.randn(1, 2, 9, 8)
    out = destride_layer(nn.MaxPool2d(1, 2))(x)
    assert out._base is not None and torch.equal(out, x[:, :, ::2, ::2])  # a view: no arithmetic at all


@pytest.mark.parametrize(
    "layer, error, message",
    [
        (nn.Upsample(scale_factor=2), TypeError, "destride_layer supports Conv1d, Conv2d, Conv3d, MaxPool1d.*ConvTranspose3d; got Upsample"),
        ("conv", TypeError, "expects a torch.nn layer, got str"),
        (nn.MaxPool2d(2, return_indices=True), SymstrideError, "return_indices=True has no stride-free equivalent"),
    ],
)
def test_destride_layer_bad_input(layer, error, message):
    with pytest.raises(error, match=message):
        destride_layer(layer)


def test_unknown_form_is_refused_with_the_options():
    with pytest.raises(ValueError, match="unknown form 'sparse'; expected one of 'dense', 'phases', 'subsample', 'auto'"):
        destride_layer(nn.Conv1d(1, 1, 3, 2), form="sparse")


@pytest.mark.parametrize("pool", [nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1)])
def test_pool_with_a_wrong_window_is_detected(pool):
    """Failing twin for pooling: one tap fewer on the last axis changes the result."""
    eq = destride_layer(pool)
    x = torch.randn(1, 2, 9, 9)
    eq.spec = eq.spec.replace(kernel=(3, 2))
    assert not close(eq(x), pool(x))
