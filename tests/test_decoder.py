"""Decoder networks (the dual of Theorem 3): spec, NumPy forward of both networks against PyTorch,
exact verification of every stage, and masks exactly where the boundary needs them."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride.decoder import destride_decoder, forward, parse_decoder, random_parameters
from symstride.network.spec import BatchNorm, ConvLayer
from symstride.network.pointwise import ACTIVATIONS
from tests.transposed_cases import TOL, examples
from tests.transposed_cases import single_thread_torch  # noqa: F401 (autouse fixture)

ACT = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "silu": torch.nn.SiLU,
       "leaky_relu": torch.nn.LeakyReLU, "elu": torch.nn.ELU}  # options passed positionally


def torch_model(spec, params):
    """An nn.Sequential built from the spec, loaded from ``params`` (the keys are its state_dict's)."""
    modules = []
    for layer in spec.layers:
        if isinstance(layer, ConvLayer):
            c = layer.conv
            cls = getattr(torch.nn, f"ConvTranspose{spec.ndim}d")
            modules.append(cls(c.in_channels, c.out_channels, c.kernel, c.stride, tuple(p for p, _ in c.padding),
                               c.output_padding, c.groups, layer.bias, c.dilation, dtype=torch.float64))
        elif isinstance(layer, BatchNorm):
            modules.append(getattr(torch.nn, f"BatchNorm{spec.ndim}d")(layer.in_shape.channels, eps=layer.eps, dtype=torch.float64))
        else:
            options = {**ACTIVATIONS[layer.name].defaults, **dict(layer.options)}
            modules.append(ACT[layer.name](*options.values()))
    model = torch.nn.Sequential(*modules).eval()
    state = {k: torch.from_numpy(v) for k, v in params.items()}
    state.update({k: v for k, v in model.state_dict().items() if k.endswith("num_batches_tracked")})
    model.load_state_dict(state)
    return model


def check_against_torch(doc, seed=0, batch=2):
    spec = parse_decoder(doc)
    params = random_parameters(spec, seed)
    x = np.random.default_rng(seed + 1).standard_normal((batch, spec.input.channels, *spec.input.size))
    with torch.no_grad():
        expected = torch_model(spec, params)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(forward(spec, params, x), expected, rtol=0, atol=TOL)
    return spec, params, x, expected


def dcgan(nz=8, width=4, size=1, ndim=2):
    """A DCGAN generator scaled down: 1×1 → 4 → 8 → 16 → 32, BatchNorm + ReLU, Tanh at the end."""
    layers = [{"type": "conv_transpose", "out_channels": 4 * width, "kernel": 4, "stride": 1, "padding": 0, "bias": False},
              {"type": "batchnorm"}, {"type": "relu"}]
    for out in (2 * width, width):
        layers += [{"type": "conv_transpose", "out_channels": out, "kernel": 4, "stride": 2, "padding": 1, "bias": False},
                   {"type": "batchnorm"}, {"type": "relu"}]
    layers += [{"type": "conv_transpose", "out_channels": 3, "kernel": 4, "stride": 2, "padding": 1, "bias": False}, {"type": "tanh"}]
    return {"input": {"channels": nz, "size": [size] * ndim}, "layers": layers}


DECODER_1D = {"input": {"channels": 2, "size": [5]}, "layers": [
    {"type": "conv_transpose", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1},  # N 5 → 9: one junk sample
    {"type": "leaky_relu", "negative_slope": 0.2},
    {"type": "conv_transpose", "out_channels": 4, "kernel": 5, "stride": 3, "padding": 2, "output_padding": 1, "groups": 2},
    {"type": "elu"},
    {"type": "conv_transpose", "out_channels": 1, "kernel": 4, "stride": 2, "padding": 1, "dilation": 2, "output_padding": 1},
    {"type": "sigmoid"}]}


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
def test_dcgan_generator_exact(layout):
    spec, params, x, expected = check_against_torch(dcgan())
    eq = destride_decoder(spec, layout=layout)
    assert spec.output.size == (32, 32) and eq.block == (8, 8)
    assert [st.sharing for st in eq.stages] == [1, 1, 4, 16] and not any(any(st.masked) for st in eq.stages)
    assert all(report.exact for report in eq.verify())
    np.testing.assert_allclose(eq.forward(params, x), expected, rtol=0, atol=TOL)


#: Junk after layer 0 (N = 11, block 2) that the k=2, s=2 layer only scatters past its output.
NO_LEAK_1D = {"input": {"channels": 1, "size": [5]}, "layers": [
    {"type": "conv_transpose", "out_channels": 2, "kernel": 3, "stride": 2}, {"type": "tanh"},
    {"type": "conv_transpose", "out_channels": 1, "kernel": 2, "stride": 2}]}


@pytest.mark.parametrize("doc, auto", [(DECODER_1D, [(False,), (True,), (True,)]), (NO_LEAK_1D, [(False,), (False,)])])
@pytest.mark.parametrize("masks", ["auto", "always"])
def test_1d_decoders_with_groups_and_masks_exact(doc, auto, masks):
    spec, params, x, expected = check_against_torch(doc)
    eq = destride_decoder(spec, masks=masks)
    junk = [(False,)] + [(True,)] * (len(auto) - 1)  # every later stage reads a map with junk
    assert [st.masked for st in eq.stages] == (auto if masks == "auto" else junk)
    assert all(report.exact for report in eq.verify())
    np.testing.assert_allclose(eq.forward(params, x), expected, rtol=0, atol=TOL)


def test_no_leak_reason():
    eq = destride_decoder(NO_LEAK_1D)
    assert eq.stages[1].mask_reasons == (
        "axis 0: junk sample 11 reaches no output of the next layer that the network's output depends on "
        "(block 2): no mask needed",)


def test_missing_mask_is_named_and_wrong():
    """The failing twin: without the mask layer 2 reads the junk sample 9 into a real output."""
    spec, params, x, expected = check_against_torch(DECODER_1D)
    eq = destride_decoder(spec)
    assert eq.stages[1].mask_reasons == ("axis 0: junk sample 9 (N = 9, block 2) reaches output 25 of the next layer through tap 0: mask",)
    never = destride_decoder(spec, masks="never")
    report = never.verify()[1]
    assert not report.exact and report.mismatch.reason.startswith("tap [0] at output y[0, 0, 25]: the transposed layer has nothing")
    assert "w[0, 0, 0]·x[0, 0, 9]" in report.mismatch.reason  # x[9] is past the end of the 9-sample feature map
    assert np.abs(never.forward(params, x) - expected).max() > 1e-3


def test_junk_read_only_into_outputs_nothing_later_reads_needs_no_mask():
    """Layer 2 reads the junk sample 3 into its output 3, but layer 4 (k=1, padding 1) keeps only
    outputs 1 and 2 of it: the network's output does not depend on output 3, so no mask."""
    doc = {"input": {"channels": 1, "size": [2]}, "layers": [
        {"type": "conv_transpose", "out_channels": 1, "kernel": 1, "stride": 2}, {"type": "tanh"},
        {"type": "conv_transpose", "out_channels": 1, "kernel": 2}, {"type": "tanh"},
        {"type": "conv_transpose", "out_channels": 1, "kernel": 1, "padding": 1}]}
    spec, params, x, expected = check_against_torch(doc)
    eq = destride_decoder(spec)
    assert [st.masked for st in eq.stages] == [(False,), (False,), (False,)]
    assert eq.relevant[1][0].tolist() == [False, True, True, False]
    assert "junk sample 3 reaches no output of the next layer that the network's output depends on" in eq.stages[1].mask_reasons[0]
    reports = eq.verify()
    assert all(r.exact for r in reports) and "not compared (2 per axis)" in str(reports[1])
    np.testing.assert_allclose(eq.forward(params, x), expected, rtol=0, atol=TOL)


def _transposed_layer(draw, size, channels, *, first=None):
    """One transposed layer on ``channels`` that has an output on every axis of ``size`` (returned with it)."""
    nd = len(size)
    s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    stride = [s] + [draw(st.integers(1, 2))] * (nd - 1)
    k = draw(st.integers(1, 4))
    op = draw(st.integers(0, min(max(sa, d) for sa in stride) - 1))  # PyTorch: op < max(s, δ) per axis
    reach = min((n - 1) * sa + d * (k - 1) + op for n, sa in zip(size, stride))
    p = draw(st.integers(0, min(2, reach // 2)))  # at least one output per axis
    groups = draw(st.sampled_from([g for g in (1, 2) if channels % g == 0]))
    layer = {"type": "conv_transpose", "out_channels": groups * draw(st.integers(1, 2)), "kernel": k, "stride": stride,
             "padding": p, "output_padding": op, "dilation": d, "groups": groups, **(first or {})}
    k, p, op, d, stride = layer["kernel"], layer["padding"], layer["output_padding"], layer["dilation"], layer["stride"]
    return layer, [(n - 1) * sa - 2 * p + d * (k - 1) + op + 1 for n, sa in zip(size, stride)]


@st.composite
def decoders(draw, masked: bool = False):
    """Valid decoders (every layer has an output).  ``masked``: the first layer produces an odd
    length from stride 2 (so its phases hold a junk sample) and a second layer reads past the end —
    the case that needs a boundary mask."""
    nd = draw(st.integers(1, 2))
    size = [draw(st.integers(2, 4)) for _ in range(nd)]
    doc = {"input": {"channels": 2, "size": list(size)}, "layers": []}
    channels = 2
    count = 2 if masked else draw(st.integers(1, 3))  # masked: nothing after crops the junk-reading outputs
    for i in range(count):
        first = None
        if masked and i == 0:  # (N−1)·2 − 2 + 2 + 0 + 1 = 2N − 1: odd, one junk sample per axis
            first = {"kernel": 3, "stride": [2] * nd, "padding": 1, "output_padding": 0, "dilation": 1}
        elif masked and i == 1:  # reads one sample past the end: the junk
            first = {"kernel": 3, "stride": [1] * nd, "padding": 1, "output_padding": 0, "dilation": 1}
        layer, size = _transposed_layer(draw, size, channels, first=first)
        channels = layer["out_channels"]
        doc["layers"] += [layer, {"type": draw(st.sampled_from(["tanh", "leaky_relu", "batchnorm", "silu"]))}]
    return doc


def _check_random_decoder(doc, layout):
    """Masked as needed: exact (verified and against torch).  Unmasked: verify's verdict matches the
    numbers, and the mask rule is exact — it asks for a mask exactly when leaving it out breaks."""
    spec = parse_decoder(doc)  # the strategies draw valid decoders only
    if layout == "tf" and any(layer.conv.groups > 1 for layer in spec.transposed):
        layout = "pytorch"
    spec, params, x, expected = check_against_torch(doc)
    eq = destride_decoder(spec, layout=layout)
    assert all(report.exact for report in eq.verify())
    np.testing.assert_allclose(eq.forward(params, x), expected, rtol=0, atol=TOL)
    never = destride_decoder(spec, layout=layout, masks="never")
    exact = all(report.exact for report in never.verify())
    assert exact == (float(np.abs(never.forward(params, x) - expected).max()) < TOL)
    assert exact == (not any(any(st.masked) for st in eq.stages))
    return eq


@settings(max_examples=examples(40), deadline=None)
@given(decoders(), st.sampled_from(["pytorch", "tf"]))
def test_random_decoders(doc, layout):
    _check_random_decoder(doc, layout)


@settings(max_examples=examples(20), deadline=None)
@given(decoders(masked=True), st.sampled_from(["pytorch", "tf"]))
def test_random_decoders_that_need_a_mask(doc, layout):
    """The hard path on every example: a junk sample is read, so a stage is masked, and the
    unmasked decoder is wrong (and verify says so)."""
    eq = _check_random_decoder(doc, layout)
    assert any(any(st.masked) for st in eq.stages)


def test_every_weight_appears_R_times():
    eq = destride_decoder(dcgan(ndim=1))
    for st in eq.stages:
        index = eq.weight_index(st)
        counts = np.bincount(index[index >= 0], minlength=int(np.prod(st.layer.conv.weight_shape)))
        assert set(counts.tolist()) == {st.sharing}


def test_report_and_json():
    eq = destride_decoder(DECODER_1D)
    text = repr(eq)
    for fragment in ["3 transposed layers as unit-stride convolutions", "one depth-to-space by 12 at the output",
                     "2      2→6             8→24", "before layer 2: axis 0: junk sample 9"]:
        assert fragment in text, fragment
    doc = eq.to_json()
    assert doc["output_block"] == [12] and [s["masked"] for s in doc["stages"]] == [[False], [True], [True]]
    # layer 2 (k=5, s=3, p=2; R=2, B=6): tap 0 from input phase 0 has v = 3·0 + 0 − 2 = −2 = 6·(−1) + 4,
    # so it feeds output phase 4 one block later; D ranges over {−1, 0}, so the offset is 0 − (−1) = 1
    assert {"tap": [0], "in_phase": [0], "out_phase": [4], "offset": [1]} in doc["stages"][1]["taps"]
    assert {"tap": [0], "in_phase": [1], "out_phase": [1], "offset": [0]} in doc["stages"][1]["taps"]


@pytest.mark.parametrize(
    "doc, error, message",
    [
        ({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "upsample"}]}, ValueError,
         "layer 0 (upsample): 'upsample' is an unknown layer type; a decoder holds 'conv_transpose', 'batchnorm', 'relu'"),
        ({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "maxpool", "kernel": 2}]}, ValueError,
         "layer 0 (maxpool): 'maxpool' is a strided layer (see symstride.network); a decoder holds 'conv_transpose'"),
        ({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "conv_transpose", "kernel": 3}]}, ValueError,
         "layer 0 (conv_transpose): a conv_transpose layer needs 'out_channels'"),
        ({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "conv_transpose", "out_channels": 1, "kernel": 3,
                                                             "stride": 2, "output_padding": 2}]}, ValueError,
         "layer 0 (conv_transpose): output_padding must be smaller than either stride or dilation"),
        ({"input": {"channels": 1, "size": [1]}, "layers": [{"type": "conv_transpose", "out_channels": 1, "kernel": 1,
                                                             "padding": 1}]}, ValueError,
         "layer 0 (conv_transpose): the transposed layer has no output"),
        ({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "conv_transpose", "out_channels": 1, "kernel": 3,
                                                             "padding_mode": "reflect"}]}, ValueError,
         "layer 0 (conv_transpose): unknown key 'padding_mode' for a conv_transpose layer; allowed keys: bias, dilation"),
        ({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "relu", "inplace": True}]}, ValueError,
         "layer 0 (relu): unknown key 'inplace' for a relu layer"),
        ({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "conv_transpose", "out_channels": 1, "kernel": 3, "bias": 1}]},
         TypeError, "layer 0 (conv_transpose): bias must be true or false, got 1"),
        ({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "tanh"}]}, ValueError,
         "a decoder needs at least one conv_transpose layer"),
        ({"input": {"channels": 0, "size": [4]}, "layers": []}, ValueError, "input channels must be a positive integer, got 0"),
        ({"layers": []}, ValueError, "the decoder spec needs 'input'"),
        ({"input": {"channels": 1, "size": [4]}, "layers": "conv_transpose"}, TypeError,
         "layers must be a list of layer objects, got str"),
    ],
)
def test_spec_errors(doc, error, message):
    with pytest.raises(error) as info:
        parse_decoder(doc)
    assert message in str(info.value)


def test_parameter_and_policy_errors():
    spec = parse_decoder(DECODER_1D)
    params = random_parameters(spec)
    with pytest.raises(ValueError, match=r"layer 2 \(conv_transpose\): missing parameter '2.weight' of shape \[4, 2, 5\]"):
        forward(spec, {k: v for k, v in params.items() if k != "2.weight"}, np.zeros((1, 2, 5)))
    bad = dict(params, **{"0.bias": np.zeros(3)})
    with pytest.raises(ValueError, match=r"layer 0 \(conv_transpose\): parameter '0.bias' has shape \[3\], expected \[4\]"):
        destride_decoder(spec).forward(bad, np.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match=r"the input must have shape \(batch, 2, 5\), got \[1, 2, 6\]"):
        forward(spec, params, np.zeros((1, 2, 6)))
    with pytest.raises(ValueError, match="unknown mask policy 'sometimes'"):
        destride_decoder(spec, masks="sometimes")
    with pytest.raises(ValueError, match="layout='tf' .* grouped layers"):
        destride_decoder(spec, layout="tf")


def test_decoder_with_absurd_total_stride_is_refused_before_allocating():
    from symstride.decoder import destride_decoder

    spec = {"input": {"channels": 1, "size": [4, 4]},
            "layers": [{"type": "conv_transpose", "out_channels": 1, "kernel": 2, "stride": 1000}]}
    with pytest.raises(ValueError, match=r"total stride \(1000, 1000\) gives 1000000 output phases"):
        destride_decoder(spec)
