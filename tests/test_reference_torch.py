"""PyTorch as the independent oracle for :mod:`symstride.reference.convolution` (Theorems 1 and 2).

Every floating-point comparison in this file is in float64 on random data and uses the
absolute tolerance ``TOL = 1e-10`` (the observed error is ~1e-14; 1e-10 leaves room for sums of
a few hundred products without hiding any index error, which shows up as O(1)).  Pure data
movement (padding, space-to-depth, depth-to-space, gathering the filter bank) is compared
*exactly*.  Every identity is paired with a "failing twin": a deliberately wrong mapping whose
error must be large (> ``WRONG``), so that the identity tests cannot pass vacuously.
"""

from __future__ import annotations

import itertools
import os
from math import prod

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symstride import reference
from symstride.core.indexing import Tap, equivalent_kernel, prepared_shape, tap_map, weight_gather_index
from symstride.core.params import ConvSpec

#: Absolute tolerance of every float64 comparison against PyTorch in this file.
TOL = 1e-10
#: A wrong mapping must miss by more than this (not merely by rounding).
WRONG = 1e-3

_SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1


def examples(n: int) -> int:
    return n * _SCALE


@pytest.fixture(autouse=True, scope="module")
def _single_thread_torch():
    """The tensors here are tiny: torch's intra-op thread pool only adds synchronisation cost
    (badly so on a busy 2-core machine).  Restored after the module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TORCH_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


# --------------------------------------------------------------------------------------------
# The oracle: PyTorch, with padding normalised by the test itself (not by symstride).
# --------------------------------------------------------------------------------------------


def torch_pad(x: np.ndarray, pairs, mode: str = "zeros") -> torch.Tensor:
    """F.pad with per-axis (left, right) pairs listed first axis first."""
    xt = torch.as_tensor(x)
    flat = [v for pair in reversed(list(pairs)) for v in pair]  # F.pad: last axis first
    if not any(flat):
        return xt
    return F.pad(xt, flat, mode=TORCH_PAD_MODE[mode])


def torch_conv(x, w, stride=1, pairs=None, dilation=1, groups=1, mode="zeros") -> np.ndarray:
    """PyTorch strided convolution; symmetric zero padding goes through conv's own ``padding``."""
    nd = np.ndim(x) - 2
    conv = TORCH_CONV[nd]
    pairs = [(0, 0)] * nd if pairs is None else list(pairs)
    xt = torch.as_tensor(x)
    wt = torch.as_tensor(w)
    if mode == "zeros" and all(l == r for l, r in pairs):
        out = conv(xt, wt, stride=stride, padding=tuple(l for l, _ in pairs), dilation=dilation, groups=groups)
    else:
        out = conv(torch_pad(x, pairs, mode), wt, stride=stride, dilation=dilation, groups=groups)
    return out.numpy()


def max_err(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"shape mismatch {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def assert_close(a, b, what: str = "") -> None:
    err = max_err(a, b)
    assert err <= TOL, f"{what}: max |difference| {err:.3g} > {TOL}"


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------


def _padding_argument(draw, pairs):
    """Express canonical per-axis (left, right) pairs in one of the accepted user forms."""
    nd = len(pairs)
    forms = ["pairs"]
    if all(l == r for l, r in pairs):
        forms.append("per-axis ints")
        if len({l for l, _ in pairs}) == 1:
            forms.append("int")
    form = draw(st.sampled_from(forms))
    if form == "int":
        return pairs[0][0]
    if form == "per-axis ints":
        return tuple(l for l, _ in pairs) if nd > 1 else (pairs[0][0],)
    return tuple(tuple(p) for p in pairs)


def _per_axis_argument(draw, values):
    """An int when every axis agrees (sometimes), else the per-axis tuple."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return tuple(values)


@st.composite
def conv_configs(draw, ndims=(1, 2, 3), groups=(1, 2, 3), mode="zeros", max_size=10):
    """A valid strided convolution: the dilated kernel fits the padded input on every axis.

    For ``mode="reflect"`` every padding is smaller than the input size, for ``"circular"`` at
    most the input size (PyTorch's limits).
    """
    nd = draw(st.sampled_from(ndims))
    g = draw(st.sampled_from(groups))
    cin = g * draw(st.integers(1, 2))
    cout = g * draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    kernel, stride, dilation, pairs, size = [], [], [], [], []
    asymmetric = draw(st.booleans())
    for _ in range(nd):
        k = draw(st.integers(1, 5))
        s = draw(st.integers(1, 4))
        d = draw(st.integers(1, 3))
        left = draw(st.integers(0, 3))
        right = draw(st.integers(0, 3)) if asymmetric else left
        span = d * (k - 1) + 1
        lo = max(1, span - left - right)
        if mode == "reflect":
            lo = max(lo, left + 1, right + 1)
        elif mode == "circular":
            lo = max(lo, left, right)
        n = draw(st.integers(lo, max(lo + 2, max_size)))
        kernel.append(k)
        stride.append(s)
        dilation.append(d)
        pairs.append((left, right))
        size.append(n)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, cin, *size))
    w = rng.standard_normal((cout, cin // g, *kernel))
    return dict(
        nd=nd, groups=g, x=x, w=w, kernel=tuple(kernel), stride=tuple(stride), dilation=tuple(dilation),
        pairs=tuple(pairs), size=tuple(size),
        stride_arg=_per_axis_argument(draw, stride),
        dilation_arg=_per_axis_argument(draw, dilation),
        padding_arg=_padding_argument(draw, pairs),
        kernel_arg=_per_axis_argument(draw, kernel),
    )


# --------------------------------------------------------------------------------------------
# reference.conv against torch.nn.functional.conv{1,2,3}d
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(80))
@given(data=st.data())
def test_conv_matches_torch(nd, data):
    cfg = data.draw(conv_configs(ndims=(nd,)))
    got = reference.conv(
        cfg["x"], cfg["w"], stride=cfg["stride_arg"], padding=cfg["padding_arg"],
        dilation=cfg["dilation_arg"], groups=cfg["groups"],
    )
    want = torch_conv(cfg["x"], cfg["w"], cfg["stride"], cfg["pairs"], cfg["dilation"], cfg["groups"])
    assert got.dtype == np.float64
    assert_close(got, want, "reference.conv vs torch")


def test_conv_smallest_fitting_input():
    # padded length exactly equals the dilated kernel span: one output sample
    x = np.arange(1.0, 4.0).reshape(1, 1, 3)
    w = np.array([[[2.0, -1.0]]])
    got = reference.conv(x, w, stride=3, padding=((1, 0),), dilation=3)
    want = torch_conv(x, w, 3, [(1, 0)], 3)
    assert got.shape == want.shape == (1, 1, 1)
    assert_close(got, want)
    assert got[0, 0, 0] == 2.0 * 0.0 - 1.0 * 3.0


def test_conv_integer_inputs_are_computed_in_float64():
    x = np.arange(2 * 7).reshape(1, 2, 7)
    w = np.arange(2 * 2 * 3).reshape(2, 2, 3) - 5
    got = reference.conv(x, w, stride=2, padding=1)
    want = torch_conv(x.astype(np.float64), w.astype(np.float64), 2, [(1, 1)])
    assert got.dtype == np.float64
    assert_close(got, want)


def test_conv_twin_wrong_stride_is_detected():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 2, 11, 9)), rng.standard_normal((3, 2, 3, 3))
    got = reference.conv(x, w, stride=(2, 1), padding=1)
    wrong = torch_conv(x, w, (1, 2), [(1, 1), (1, 1)])
    # transposed strides give a different shape; compare on the common part
    common = tuple(slice(0, min(a, b)) for a, b in zip(got.shape, wrong.shape))
    assert max_err(got[common], wrong[common]) > WRONG


# --------------------------------------------------------------------------------------------
# Theorem 1: a strided convolution is a unit-stride convolution followed by subsampling
# --------------------------------------------------------------------------------------------


@settings(max_examples=examples(60))
@given(cfg=conv_configs())
def test_theorem1_stride_is_subsampling(cfg):
    full = reference.conv(cfg["x"], cfg["w"], 1, cfg["padding_arg"], cfg["dilation_arg"], cfg["groups"])
    strided = torch_conv(cfg["x"], cfg["w"], cfg["stride"], cfg["pairs"], cfg["dilation"], cfg["groups"])
    sub = full[(slice(None), slice(None), *(slice(None, None, s) for s in cfg["stride"]))]
    assert_close(sub, strided, "D_s(Conv_1) vs torch Conv_s")


# --------------------------------------------------------------------------------------------
# reference.pad against F.pad
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@settings(max_examples=examples(40))
@given(data=st.data())
def test_pad_matches_torch(mode, data):
    cfg = data.draw(conv_configs(mode=mode, groups=(1,)))
    got = reference.pad(cfg["x"], cfg["padding_arg"], mode)
    want = torch_pad(cfg["x"], cfg["pairs"], mode).numpy()
    assert got.shape == want.shape
    assert np.array_equal(got, want)


def test_pad_reflect_too_large_is_refused():
    x = np.zeros((1, 1, 3, 5))
    with pytest.raises(ValueError, match=r"reflect padding 3 must be smaller than the input size 3 \(axis 0\)"):
        reference.pad(x, 3, "reflect")


def test_pad_unknown_mode_is_refused():
    with pytest.raises(ValueError, match=r"unknown padding mode 'mirror'"):
        reference.pad(np.zeros((1, 1, 4)), 1, "mirror")


# --------------------------------------------------------------------------------------------
# Space-to-depth and depth-to-space
# --------------------------------------------------------------------------------------------


def explicit_space_to_depth(x: np.ndarray, stride, layout: str) -> np.ndarray:
    """The definition, with plain loops: ``z[n, chan(c, φ(r)), a] = x[n, c, s·a + r]``.

    φ is the row-major position of ``r`` among all phase vectors; ``chan`` is ``c·P + φ`` for
    ``pytorch`` (pixel_unshuffle) and ``φ·C + c`` for ``tf`` (TF/ONNX SpaceToDepth).
    """
    b, c_in, *sizes = x.shape
    coarse = [n // s for n, s in zip(sizes, stride)]
    n_phases = prod(stride)
    z = np.full((b, c_in * n_phases, *coarse), np.nan)
    for phi, r in enumerate(itertools.product(*(range(s) for s in stride))):
        for n in range(b):
            for c in range(c_in):
                ch = c * n_phases + phi if layout == "pytorch" else phi * c_in + c
                for a in itertools.product(*(range(m) for m in coarse)):
                    src = tuple(s * ai + ri for s, ai, ri in zip(stride, a, r))
                    z[(n, ch, *a)] = x[(n, c, *src)]
    return z


@pytest.mark.parametrize("factor", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1, 1, 2, 2), (2, 3, 2, 3), (1, 4, 3, 1)])
def test_space_to_depth_is_pixel_unshuffle(factor, shape):
    b, c, h, w = shape
    x = np.random.default_rng(factor).standard_normal((b, c, h * factor, w * factor))
    got = reference.space_to_depth(x, factor)
    want = F.pixel_unshuffle(torch.as_tensor(x), factor).numpy()
    assert got.shape == want.shape
    assert np.array_equal(got, want)
    # per-axis stride tuple, same answer
    assert np.array_equal(reference.space_to_depth(x, (factor, factor), layout="pytorch"), want)


@pytest.mark.parametrize("factor", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1, 1, 2, 2), (2, 3, 2, 3), (1, 2, 3, 1)])
def test_depth_to_space_is_pixel_shuffle(factor, shape):
    b, c, h, w = shape
    z = np.random.default_rng(10 + factor).standard_normal((b, c * factor**2, h, w))
    got = reference.depth_to_space(z, factor)
    want = F.pixel_shuffle(torch.as_tensor(z), factor).numpy()
    assert got.shape == want.shape
    assert np.array_equal(got, want)


@st.composite
def s2d_inputs(draw):
    nd = draw(st.integers(1, 3))
    stride = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    coarse = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    b, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    shape = (b, c, *(s * m for s, m in zip(stride, coarse)))
    x = np.arange(prod(shape), dtype=np.float64).reshape(shape)  # distinct values: any mix-up shows
    return x, stride


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
@settings(max_examples=examples(60))
@given(case=s2d_inputs())
def test_space_to_depth_matches_definition(layout, case):
    x, stride = case
    got = reference.space_to_depth(x, stride, layout)
    want = explicit_space_to_depth(x, stride, layout)
    assert got.shape == want.shape
    assert np.array_equal(got, want)


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
@settings(max_examples=examples(60))
@given(case=s2d_inputs())
def test_space_depth_round_trip(layout, case):
    x, stride = case
    z = reference.space_to_depth(x, stride, layout)
    assert np.array_equal(reference.depth_to_space(z, stride, layout), x)
    assert np.array_equal(reference.space_to_depth(reference.depth_to_space(z, stride, layout), stride, layout), z)


def test_tf_layout_known_values():
    # 1 batch, 2 channels, 2x2 -> stride 2: phase-major channel order φ·C + c
    x = np.array([[[[0, 1], [2, 3]], [[10, 11], [12, 13]]]], dtype=float)
    z_tf = reference.space_to_depth(x, 2, "tf")
    z_pt = reference.space_to_depth(x, 2, "pytorch")
    assert z_tf[0, :, 0, 0].tolist() == [0, 10, 1, 11, 2, 12, 3, 13]
    assert z_pt[0, :, 0, 0].tolist() == [0, 1, 2, 3, 10, 11, 12, 13]


def test_layouts_differ_twin():
    # the two layouts must genuinely differ when C > 1 and P > 1 (otherwise the tf test is vacuous)
    x = np.arange(2 * 4 * 4, dtype=float).reshape(1, 2, 4, 4)
    assert not np.array_equal(reference.space_to_depth(x, 2, "tf"), reference.space_to_depth(x, 2, "pytorch"))
    # column-major φ instead of row-major φ is not what symstride computes with unequal strides
    x = np.arange(6, dtype=float).reshape(1, 1, 2, 3)
    z = reference.space_to_depth(x, (2, 3))
    colmajor = [x[0, 0, r0, r1] for r1 in range(3) for r0 in range(2)]
    assert z[0, :, 0, 0].tolist() != colmajor


def test_space_to_depth_errors():
    with pytest.raises(ValueError, match=r"divisible by the stride: 5 by 2 \(axis 1\)"):
        reference.space_to_depth(np.zeros((1, 1, 4, 5)), 2)
    with pytest.raises(ValueError, match=r"unknown layout 'nhwc'"):
        reference.space_to_depth(np.zeros((1, 1, 4)), 2, layout="nhwc")
    with pytest.raises(ValueError, match=r"channels divisible by Π s = 4, got 6"):
        reference.depth_to_space(np.zeros((1, 6, 2, 2)), 2)
    with pytest.raises(ValueError, match=r"at least one spatial axis"):
        reference.space_to_depth(np.zeros((1, 4)), 2)
    with pytest.raises(TypeError, match=r"numeric array"):
        reference.space_to_depth(np.array([[["a", "b"]]]), 2)


# --------------------------------------------------------------------------------------------
# The equivalent filter bank W' against its definition, written out in the test
# --------------------------------------------------------------------------------------------


def explicit_destride_weights(w: np.ndarray, stride, dilation, layout: str) -> np.ndarray:
    """``W'[o, chan(c, φ(r)), j] = w[o, c, m]`` iff ``δ m = s j + r`` per axis, else 0.

    For every tap ``m`` the test searches all ``(j, r)`` with ``0 <= j < k'``, ``0 <= r < s``
    for solutions of ``δ m = s j + r`` (no divmod), and checks there is exactly one per axis.
    """
    cout, cin, *kernel = w.shape
    kq = [d * (k - 1) // s + 1 for k, s, d in zip(kernel, stride, dilation)]
    all_phases = list(itertools.product(*(range(s) for s in stride)))
    n_phases = len(all_phases)
    out = np.zeros((cout, cin * n_phases, *kq))
    for m in itertools.product(*(range(k) for k in kernel)):
        j, r = [], []
        for mm, s, d, kk in zip(m, stride, dilation, kq):
            sols = [(jj, rr) for jj in range(kk) for rr in range(s) if d * mm == s * jj + rr]
            assert len(sols) == 1, f"tap {m}: {len(sols)} solutions of δm = sj + r"
            j.append(sols[0][0])
            r.append(sols[0][1])
        phi = all_phases.index(tuple(r))
        for c in range(cin):
            ch = c * n_phases + phi if layout == "pytorch" else phi * cin + c
            assert np.all(out[(slice(None), ch, *j)] == 0), "two taps landed on one entry"
            out[(slice(None), ch, *j)] = w[(slice(None), c, *m)]
    return out


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
@settings(max_examples=examples(60))
@given(cfg=conv_configs(groups=(1,)))
def test_destride_weights_matches_definition(layout, cfg):
    got = reference.destride_weights(cfg["w"], cfg["stride_arg"], cfg["dilation_arg"], layout)
    want = explicit_destride_weights(cfg["w"], cfg["stride"], cfg["dilation"], layout)
    assert got.shape == want.shape
    assert np.array_equal(got, want)


def test_destride_weights_worked_example():
    # DESIGN: 1-D, k=3, s=2: phase 0 filter [w0, w2], phase 1 filter [w1, 0]
    w = np.array([[[5.0, 7.0, 11.0]]])
    got = reference.destride_weights(w, 2)
    assert got.tolist() == [[[5.0, 11.0], [7.0, 0.0]]]


def test_destride_weights_tf_refuses_groups():
    with pytest.raises(ValueError, match=r"layout='tf'.*groups=2"):
        reference.destride_weights(np.zeros((2, 1, 3)), 2, layout="tf", groups=2)


# --------------------------------------------------------------------------------------------
# Theorem 2 against PyTorch
# --------------------------------------------------------------------------------------------


def theorem2_sides(cfg, layout="pytorch", mode="zeros"):
    z = reference.destride_input(
        cfg["x"], cfg["kernel_arg"], cfg["stride_arg"], cfg["padding_arg"], cfg["dilation_arg"], layout,
        padding_mode=mode,
    )
    wq = reference.destride_weights(cfg["w"], cfg["stride_arg"], cfg["dilation_arg"], layout, groups=cfg["groups"])
    lhs = TORCH_CONV[cfg["nd"]](torch.as_tensor(z), torch.as_tensor(wq), groups=cfg["groups"]).numpy()
    rhs = torch_conv(cfg["x"], cfg["w"], cfg["stride"], cfg["pairs"], cfg["dilation"], cfg["groups"], mode)
    return z, wq, lhs, rhs


def _spec(cfg) -> ConvSpec:
    c_in = cfg["x"].shape[1]
    return ConvSpec.create(
        kernel=cfg["kernel"], stride=cfg["stride"], padding=cfg["pairs"], dilation=cfg["dilation"],
        in_channels=c_in, out_channels=cfg["w"].shape[0], groups=cfg["groups"],
    )


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=examples(80))
@given(data=st.data())
def test_theorem2_pytorch_layout(nd, data):
    cfg = data.draw(conv_configs(ndims=(nd,)))
    z, wq, lhs, rhs = theorem2_sides(cfg, "pytorch")
    spec = _spec(cfg)
    n_phases = prod(cfg["stride"])
    assert z.shape == (cfg["x"].shape[0], cfg["x"].shape[1] * n_phases, *prepared_shape(spec, cfg["size"]))
    assert wq.shape == (cfg["w"].shape[0], cfg["w"].shape[1] * n_phases, *equivalent_kernel(spec))
    assert_close(lhs, rhs, "Conv_1(prepared x; W') vs torch Conv_s(x; w)")


@settings(max_examples=examples(80))
@given(cfg=conv_configs(groups=(1,)))
def test_theorem2_tf_layout(cfg):
    _, _, lhs, rhs = theorem2_sides(cfg, "tf")
    assert_close(lhs, rhs, "tf layout")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@settings(max_examples=examples(50))
@given(data=st.data())
def test_theorem2_padding_modes(mode, data):
    cfg = data.draw(conv_configs(mode=mode))
    layout = data.draw(st.sampled_from(["pytorch", "tf"])) if cfg["groups"] == 1 else "pytorch"
    _, _, lhs, rhs = theorem2_sides(cfg, layout, mode)
    assert_close(lhs, rhs, f"padding_mode={mode}")


def test_theorem2_docstring_example_against_torch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 9, 8)), rng.standard_normal((4, 2, 3, 3))
    z = reference.destride_input(x, kernel_size=3, stride=2, padding=1)
    wq = reference.destride_weights(w, stride=2)
    assert z.shape == (1, 8, 6, 5) and wq.shape == (4, 8, 2, 2)
    lhs = F.conv2d(torch.as_tensor(z), torch.as_tensor(wq)).numpy()
    rhs = F.conv2d(torch.as_tensor(x), torch.as_tensor(w), stride=2, padding=1).numpy()
    assert_close(lhs, rhs)


def test_theorem2_one_by_one_stride_two_is_a_subsample():
    # DESIGN: for a 1x1 stride-2 layer only phase 0 survives
    x = np.random.default_rng(3).standard_normal((1, 3, 7, 6))
    w = np.random.default_rng(4).standard_normal((2, 3, 1, 1))
    wq = reference.destride_weights(w, 2)
    live = [ph for ph in range(4) if np.any(wq[:, ph::4])]
    assert live == [0]
    assert_close(torch_conv(x, w, 2), np.einsum("oc,bchw->bohw", w[:, :, 0, 0], x[:, :, ::2, ::2]))


def test_destride_input_reflect_too_large_is_refused():
    with pytest.raises(ValueError, match=r"reflect padding 4 must be smaller than the input size 4"):
        reference.destride_input(np.zeros((1, 1, 4)), 3, 2, 4, padding_mode="reflect")


# --------------------------------------------------------------------------------------------
# Failing twins: a wrong mapping must be rejected by a wide margin
# --------------------------------------------------------------------------------------------

TWIN_CASES = [
    # (x shape, w shape, stride, padding as per-axis (left, right) pairs, dilation)
    ((1, 2, 9), (3, 2, 3), (2,), ((1, 1),), (1,)),
    ((1, 3, 9, 8), (2, 3, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),
    ((2, 2, 10, 7), (2, 2, 4, 3), (3, 2), ((1, 2), (0, 1)), (1, 2)),
    ((1, 2, 6, 5, 7), (2, 2, 3, 2, 3), (2, 1, 3), ((1, 1), (0, 0), (2, 1)), (1, 1, 1)),
]


def _twin_data(case, seed=0):
    xs, ws, s, p, d = case
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    rhs = torch_conv(x, w, s, p, d)
    return x, w, s, p, d, rhs


def _lhs(z, wq):
    return TORCH_CONV[z.ndim - 2](torch.as_tensor(z), torch.as_tensor(wq)).numpy()


@pytest.mark.parametrize("case", TWIN_CASES)
def test_twin_tf_weights_with_pytorch_input(case):
    x, w, s, p, d, rhs = _twin_data(case)
    z = reference.destride_input(x, w.shape[2:], s, p, d, "pytorch")
    assert_close(_lhs(z, reference.destride_weights(w, s, d, "pytorch")), rhs)  # the right pairing
    assert max_err(_lhs(z, reference.destride_weights(w, s, d, "tf")), rhs) > WRONG
    z_tf = reference.destride_input(x, w.shape[2:], s, p, d, "tf")
    assert max_err(_lhs(z_tf, reference.destride_weights(w, s, d, "pytorch")), rhs) > WRONG


@pytest.mark.parametrize("case", TWIN_CASES)
def test_twin_swapped_taps(case):
    x, w, s, p, d, rhs = _twin_data(case)
    z = reference.destride_input(x, w.shape[2:], s, p, d)
    wq = reference.destride_weights(w, s, d)
    assert_close(_lhs(z, wq), rhs)
    flat = wq.reshape(-1)
    live = np.flatnonzero(flat)
    zeros = np.flatnonzero(flat == 0)
    # (a) swap two live taps holding different values
    i, j = live[0], live[np.argmax(np.abs(flat[live] - flat[live[0]]))]
    bad = flat.copy()
    bad[[i, j]] = bad[[j, i]]
    assert max_err(_lhs(z, bad.reshape(wq.shape)), rhs) > WRONG
    # (b) move the largest live tap onto a structural zero (when the bank has any)
    if zeros.size:
        i = live[np.argmax(np.abs(flat[live]))]
        bad = flat.copy()
        bad[[i, zeros[0]]] = bad[[zeros[0], i]]
        assert max_err(_lhs(z, bad.reshape(wq.shape)), rhs) > WRONG


@pytest.mark.parametrize("case", TWIN_CASES)
def test_twin_wrong_tap_map(case):
    """A tap map with one tap sent to the wrong offset/phase builds a bank that disagrees."""
    x, w, s, p, d, rhs = _twin_data(case)
    nd = len(s)
    spec = ConvSpec.create(kernel=w.shape[2:], stride=s, dilation=d, in_channels=w.shape[1], out_channels=w.shape[0])
    taps = tap_map(spec)
    kq = equivalent_kernel(spec)
    last = taps[-1]
    # send the last tap to offset 0 (it lives at offset k'-1 > 0 on some axis in every case)
    assert any(o > 0 for o in last.offset)
    wrong = taps[:-1] + [Tap(last.tap, last.phase, (0,) * nd)]
    z = reference.destride_input(x, w.shape[2:], s, p, d)

    def bank(tmap):
        index = weight_gather_index(spec, "pytorch", tmap)
        return np.where(index >= 0, w.reshape(-1)[np.maximum(index, 0)], 0.0)

    assert_close(_lhs(z, bank(taps)), rhs)
    assert max_err(_lhs(z, bank(wrong)), rhs) > WRONG
    assert kq == bank(wrong).shape[2:]


@pytest.mark.parametrize("case", TWIN_CASES[1:])
def test_twin_column_major_phase_order(case):
    """Flattening the phase vector column-major instead of row-major is detected (P > 1, 2+ axes)."""
    x, w, s, p, d, rhs = _twin_data(case)
    nd = len(s)
    phases = list(itertools.product(*(range(si) for si in s)))
    colmajor = sorted(range(len(phases)), key=lambda i: tuple(reversed(phases[i])))
    assert colmajor != list(range(len(phases)))
    z = reference.destride_input(x, w.shape[2:], s, p, d)
    wq = reference.destride_weights(w, s, d)
    n_phases, cin = len(phases), w.shape[1]
    perm = [c * n_phases + colmajor[ph] for c in range(cin) for ph in range(n_phases)]
    assert max_err(_lhs(z, wq[:, perm]), rhs) > WRONG
    assert nd >= 2


@pytest.mark.parametrize("case", TWIN_CASES)
def test_twin_off_by_one_input_trim(case):
    """Preparing the input from pad(x)[1:L+1] instead of pad(x)[0:L] is detected."""
    x, w, s, p, d, rhs = _twin_data(case)
    z = reference.destride_input(x, w.shape[2:], s, p, d)
    shifted = torch_pad(x, p).numpy()
    shifted = np.pad(shifted, [(0, 0), (0, 0)] + [(0, 2 * si * 4) for si in s])
    lengths = [si * n for si, n in zip(s, z.shape[2:])]
    shifted = shifted[(slice(None), slice(None), *(slice(1, 1 + L) for L in lengths))]
    wq = reference.destride_weights(w, s, d)
    assert max_err(_lhs(reference.space_to_depth(shifted, s), wq), rhs) > WRONG
