"""Boundary masks of Theorem 3, and failing twins: a wrong or missing mask, a wrong tap map,
wrong batch-norm or bias repetition must each be rejected by the exact check, naming the layer."""

from __future__ import annotations

from dataclasses import replace

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride.core.errors import SymstrideError
from symstride.core.indexing import output_shape
from symstride.core.params import ConvSpec
from symstride.network.boundary import overhang_reads
from symstride.network.phase_ops import Mask, PhaseResidual, TiedConv
from symstride.network.phases import PhaseBasis, PhaseTap
from symstride.network.strided import Network
from symstride.network.verify import verify_network


def conv(out, k=3, s=2, p=1, **kw):
    return {"type": "conv", "out_channels": out, "kernel": k, "stride": s, "padding": p, **kw}


def two_layer(n, pad=1):
    return Network.from_spec({"input": {"channels": 1, "size": [n]},
                              "layers": [conv(2, p=pad), {"type": "relu"}, conv(1, p=pad)]})


def replace_op(ops, path, **changes):
    """The op tuple with the operation at ``path`` (searched in residual branches too) changed."""
    out = []
    for op in ops:
        if isinstance(op, PhaseResidual):
            op = replace(op, body=replace_op(op.body, path, **changes), shortcut=replace_op(op.shortcut, path, **changes))
        elif op.path == path:
            op = replace(op, **changes)
        out.append(op)
    return tuple(out)


def tampered(eq, path, **changes):
    return replace(eq, ops=replace_op(eq.ops, path, **changes))


@pytest.mark.parametrize("n, masked, condition", [
    (9, ["2"], False),  # layer 0 gives 5 samples in 2 phases; layer 2 (right padding 1) reads position 5
    (8, [], True),  # 8 = 4·2, 4 = 2·2: no overhang anywhere (the divisibility condition)
    (11, [], False),  # 6 samples in 2 phases: an overhang-free split although 11 is odd
    (10, ["2"], False),  # 5 samples in 2 phases, read at position 5
])
def test_which_layers_need_masks(n, masked, condition):
    eq = two_layer(n).destride()
    assert [op.path for op in eq.masks] == masked
    holds = all(b.divisible or not b.pads_right for b in eq.boundaries)
    assert holds is condition
    if holds:
        assert not masked  # the condition is sufficient
    assert verify_network(eq).exact and verify_network(eq).minimal


def test_no_right_padding_never_needs_a_mask():
    net = Network.from_spec({"input": {"channels": 1, "size": [13, 11]},
                             "layers": [conv(2, p=((1, 0), (2, 0))), {"type": "sigmoid"}, conv(2, k=2, p=((1, 0), 0)), {"type": "batchnorm"},
                                        conv(1, p=((1, 0), (1, 0)))]})
    eq = net.destride()
    assert eq.masks == []
    assert all(b.reason.startswith("no right padding") for b in eq.boundaries)


def test_missing_mask_is_detected_and_changes_the_output():
    net = two_layer(9)
    eq = net.destride()
    broken = tampered(eq, "2", mask=None)
    verdict = verify_network(broken)
    assert not verdict.exact
    assert verdict.first_failure.path == "2"
    assert "layer 2 (conv)" in str(verdict.first_failure)
    assert "past the end of the feature map and not masked" in str(verdict.first_failure)
    params, x = net.random_params(3), net.random_input(3)
    params["0.bias"] = np.full(2, 5.0)  # the overhang sample is then positive and survives the relu
    assert np.abs(broken.forward(x, params) - net.forward(x, params)).max() > 1e-6


@pytest.mark.parametrize("flip, message", [
    ((0, 2), "blanked by the mask"),  # phase 0 sample 2 is position 4 < 5: a true sample blanked
    ((1, 2), "not masked"),  # phase 1 sample 2 is position 5 past the end, now kept
])
def test_wrong_mask_is_detected(flip, message):
    eq = two_layer(9).destride()
    op = eq.ops[2]
    keep = op.mask.keep.copy()
    keep[flip] = ~keep[flip]
    verdict = verify_network(tampered(eq, "2", mask=Mask(keep, 0.0)))
    assert not verdict.exact and verdict.first_failure.path == "2"
    assert message in verdict.first_failure.detail


def test_mask_with_the_wrong_fill_before_max_pooling_is_detected():
    net = Network.from_spec({"input": {"channels": 1, "size": [9]},
                             "layers": [conv(2), {"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1}]})
    eq = net.destride()
    assert [op.path for op in eq.masks] == ["1"] and eq.masks[0].mask.fill == -np.inf
    verdict = verify_network(tampered(eq, "1", mask=Mask(eq.masks[0].mask.keep, 0.0)))
    assert not verdict.exact and "fill" in verdict.first_failure.detail


def test_superfluous_mask_is_exact_but_not_minimal():
    eq = two_layer(8).destride()
    op = eq.ops[2]
    extra = Mask(np.ones((op.inputs.count, *op.inputs.length), dtype=bool), 0.0)
    verdict = verify_network(tampered(eq, "2", mask=extra))
    assert verdict.exact and not verdict.minimal and verdict.superfluous_masks == ("2",)


def test_missing_mask_in_a_residual_branch_names_the_branch_layer():
    net = Network.from_spec({"input": {"channels": 2, "size": [9, 9]},
                             "layers": [conv(3), {"type": "batchnorm"},
                                        {"type": "residual", "body": [conv(4), {"type": "relu"}, conv(4, s=1)],
                                         "shortcut": [conv(4, k=1, p=0)]}]})
    eq = net.destride()
    paths = [op.path for op in eq.masks]
    assert "2.body.0" in paths
    verdict = verify_network(tampered(eq, "2.body.0", mask=None))
    assert not verdict.exact and verdict.first_failure.path == "2.body.0"


def test_wrong_tap_map_is_detected():
    eq = two_layer(16).destride()
    op = eq.ops[0]  # k 3, s 2, p 1, R 2, B 4: tap 1 of output phase 0 is (phase 0, offset 1)
    taps = [PhaseTap(0, (1,), 2, (1,)) if (t.out_phase, t.tap) == (0, (1,)) else t for t in op.taps]
    assert (0, (1,), 0, (1,)) in op.taps and len(set(taps)) == len(op.taps)
    verdict = verify_network(tampered(eq, "0", taps=tuple(taps)))
    assert not verdict.exact and verdict.first_failure.path == "0"
    assert verdict.first_failure.detail == (
        "tap [1] of output y[..., 0] (output phase 0, phase sample 0): the strided layer reads x[..., 0], "
        "the equivalent layer reads x[..., 2]")


def test_missing_tap_is_detected():
    eq = two_layer(16).destride()
    op = eq.ops[0]
    verdict = verify_network(tampered(eq, "0", taps=op.taps[:-1]))
    assert not verdict.exact and "appears 0 times" in verdict.first_failure.detail


def test_wrong_batchnorm_and_bias_repetition_are_detected():
    net = Network.from_spec({"input": {"channels": 1, "size": [8]},
                             "layers": [conv(2), {"type": "batchnorm"}, conv(2)]})
    eq = net.destride()
    bn = eq.ops[1]
    wrong = np.tile(np.arange(2), bn.basis.count)  # phase-major instead of channel-major
    verdict = verify_network(tampered(eq, "1", channel_source=wrong))
    assert not verdict.exact and verdict.first_failure.path == "1"
    bias = eq.ops[0].bias_index[::-1].copy()
    verdict = verify_network(tampered(eq, "0", bias_index=bias))
    assert not verdict.exact and "bias" in verdict.first_failure.detail


def test_later_padding_modes_are_refused_with_a_reason():
    net = Network.from_spec({"input": {"channels": 1, "size": [12]},
                             "layers": [conv(2), {"type": "relu"}, conv(1, padding_mode="reflect")]})
    with pytest.raises(SymstrideError, match=r"layer 2 \(conv\): padding_mode='reflect' is exact only on the first layer"):
        net.destride()


def test_average_pooling_without_padding_count_is_exact_and_verified():
    net = Network.from_spec({"input": {"channels": 2, "size": [10, 9]},
                             "layers": [conv(2), {"type": "avgpool", "kernel": 3, "stride": 2, "padding": 1, "count_include_pad": False}]})
    eq = net.destride()
    op = eq.ops[1]
    assert isinstance(op, TiedConv) and op.divisor is not None
    assert verify_network(eq).exact
    bad = op.divisor.copy()
    bad[0, 0, 0] += 1
    verdict = verify_network(tampered(eq, "1", divisor=bad))
    assert not verdict.exact and "divisor" in verdict.first_failure.detail


@st.composite
def layer_on_phases(draw):
    """A windowed layer (any padding, possibly reading only padding on an axis) and the phase
    basis ``B = s·R`` of its input, 1–3 axes."""
    ndim = draw(st.integers(1, 3))
    kernel, stride, dilation, padding, size, phases = [], [], [], [], [], []
    for _ in range(ndim):
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
        left, right = draw(st.integers(0, 4)), draw(st.integers(0, 4))
        n = draw(st.integers(max(1, d * (k - 1) + 1 - left - right), 12))
        kernel.append(k), stride.append(s), dilation.append(d), padding.append((left, right)), size.append(n)
        phases.append(s * draw(st.integers(1, 3)))
    spec = ConvSpec.create(kernel=kernel, stride=stride, dilation=dilation, padding=padding, ndim=ndim)
    return spec, PhaseBasis.of(1, size, phases)


@settings(max_examples=200, deadline=None)
@given(layer_on_phases())
def test_overhang_reads_is_the_joint_read_of_every_true_output(case):
    """The per-axis closed form equals brute force over every (true output, tap) point of the
    product: a read is junk when it lies in [0, B·A) on every axis and in [N, B·A) on one."""
    spec, basis = case
    n_out = output_shape(spec, basis.size)
    want = [False] * spec.ndim
    for n in itertools.product(*map(range, n_out)):
        for m in itertools.product(*map(range, spec.kernel)):
            pos = [s * i + d * j - p for i, j, s, d, (p, _) in zip(n, m, spec.stride, spec.dilation, spec.padding)]
            ends = [b * a for b, a in zip(basis.phases, basis.length)]
            if all(0 <= x < e for x, e in zip(pos, ends)):
                want = [w or x >= size for w, x, size in zip(want, pos, basis.size)]
    assert overhang_reads(spec, basis) == tuple(want)
