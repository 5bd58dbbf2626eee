"""Network spec parsing and validation: every rule has a case, every error names the layer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symstride.network.spec import LAYER_TYPES, parse
from symstride.network.strided import Network


def spec(*layers, channels=2, size=(9,)):
    return {"input": {"channels": channels, "size": list(size)}, "layers": list(layers)}


CONV = {"type": "conv", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1}


@pytest.mark.parametrize("bad, error, match", [
    (spec({"type": "dropout"}), ValueError,
     r"^layer 0 \(dropout\): unknown layer type 'dropout'; expected one of 'conv', 'batchnorm', 'maxpool', 'avgpool', 'residual', 'relu'"),
    (spec(CONV, {"type": "conv", "out_channels": 3, "kernel": 3, "groups": 2}), ValueError,
     r"^layer 1 \(conv\): groups=2 must divide out_channels=3$"),
    (spec({**CONV, "groups": 3}), ValueError, r"^layer 0 \(conv\): groups=3 must divide in_channels=2$"),
    (spec({**CONV, "stride": 0}), ValueError, r"^layer 0 \(conv\): stride must be a positive integer on every axis, got 0 \(axis 0\)$"),
    (spec(*[{**CONV, "padding": 0}] * 3), ValueError,
     r"^layer 2 \(conv\): the feature map of size \[1\] shrinks to nothing under this convolution: the kernel does not fit"),
    (spec({"type": "maxpool", "kernel": 3, "padding": 2}), ValueError,
     r"^layer 0 \(maxpool\): padding 2 must be at most half the kernel size 3 \(axis 0\), as in PyTorch$"),
    (spec({"type": "avgpool", "kernel": 2, "ceil_mode": True}), ValueError, r"^layer 0 \(avgpool\): ceil_mode=true is not supported"),
    (spec({**CONV, "strides": 2}), ValueError, r"^layer 0 \(conv\): unknown key 'strides' for a conv layer; allowed keys: bias, dilation"),
    (spec({"type": "conv", "kernel": 3}), ValueError, r"^layer 0 \(conv\): a conv layer needs 'out_channels'$"),
    (spec({**CONV, "bias": "yes"}), TypeError, r"^layer 0 \(conv\): bias must be true or false, got 'yes'$"),
    (spec({**CONV, "kernel": 2.5}), TypeError, r"^layer 0 \(conv\): kernel \(axis 0\) must be an integer"),
    (spec({**CONV, "padding_mode": "mirror"}), ValueError, r"^layer 0 \(conv\): unknown padding_mode 'mirror'"),
    (spec({**CONV, "padding": 9, "padding_mode": "reflect"}), ValueError, r"^layer 0 \(conv\): reflect padding 9 needs an input of size > 9"),
    (spec({"type": "residual", "body": [CONV], "shortcut": []}), ValueError,
     r"^layer 0 \(residual\): body and shortcut must produce the same shape to be added: body gives 4 channels of size \[5\], shortcut gives 2"),
    (spec({"type": "residual", "body": [{**CONV, "stride": 1}, {"type": "relu"}, {"type": "dropout"}]}), ValueError,
     r"^layer 0.body.2 \(dropout\): unknown layer type"),
    (spec({"type": "residual", "body": [{**CONV, "out_channels": 2}], "shortcut": [{"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1}, {"type": "maxpool", "kernel": 1, "stride": 1}]}),
     None, None),
    (spec({"type": "residual", "body": [{**CONV, "out_channels": 2, "stride": 1}],
           "shortcut": [{"type": "maxpool", "kernel": 1, "stride": 1}]}, size=(8,)), None, None),
    (spec({"type": "leaky_relu", "negative_slope": "x"}), TypeError, r"^layer 0 \(leaky_relu\): negative_slope must be a number"),
    (spec({"type": "batchnorm", "eps": 0}), ValueError, r"^layer 0 \(batchnorm\): eps must be a positive finite number"),
    (spec("conv"), TypeError, r"^layer 0: a layer must be an object with a 'type', got str$"),
    ({"input": {"channels": 2, "size": [9]}}, ValueError, r"^the network spec needs 'layers'$"),
    ({"input": {"channels": 2, "size": []}, "layers": [CONV]}, ValueError, r"^input size must be a list of 1 to 3 spatial sizes"),
    ({"input": {"channels": 0, "size": [9]}, "layers": [CONV]}, ValueError, r"^input channels must be a positive integer, got 0$"),
    (spec(), ValueError, r"^the network needs at least one layer$"),
    ([CONV], TypeError, r"^a network spec must be a dict or the path of a JSON file, got list$"),
])
def test_validation(bad, error, match):
    if error is None:
        parse(bad)  # valid: shapes agree
        return
    with pytest.raises(error, match=match):
        parse(bad)


def test_every_layer_type_is_listed_in_the_unknown_type_error():
    with pytest.raises(ValueError) as info:
        parse(spec({"type": "?"}))
    for name in LAYER_TYPES:
        assert repr(name) in str(info.value)


def test_residual_branches_with_different_strides_are_rejected():
    body = [{"type": "conv", "out_channels": 2, "kernel": 1, "stride": 2}]
    shortcut = [{"type": "maxpool", "kernel": 2, "stride": 2}, {"type": "conv", "out_channels": 2, "kernel": 1}]
    parse(spec({"type": "residual", "body": body, "shortcut": shortcut}, size=(8,)))
    shortcut = [{"type": "conv", "out_channels": 2, "kernel": 4, "stride": 1}, {"type": "conv", "out_channels": 2, "kernel": 1}]
    with pytest.raises(ValueError, match=r"same total stride per axis .* body \[2\], shortcut \[1\]"):
        parse(spec({"type": "residual", "body": body, "shortcut": shortcut}, size=(7,)))


def test_json_path_and_malformed_json(tmp_path):
    good = tmp_path / "net.json"
    good.write_text(json.dumps(spec(CONV, {"type": "relu"})))
    net = Network.from_spec(good)
    assert net.spec.output.size == (5,) and net.spec.output.channels == 4
    bad = tmp_path / "bad.json"
    bad.write_text('{"input": {"channels": 2, "size": [9]}, "layers": [')
    with pytest.raises(ValueError, match=r"bad.json: malformed JSON: Expecting value \(line 1, column 52\)"):
        Network.from_spec(bad)
    with pytest.raises(ValueError, match=r"cannot read network spec"):
        Network.from_spec(tmp_path / "missing.json")


def test_parameters_follow_state_dict_layout_and_are_checked():
    net = Network.from_spec(spec(CONV, {"type": "batchnorm"},
                                 {"type": "residual", "body": [{"type": "conv", "out_channels": 4, "kernel": 1, "bias": False}]}))
    assert net.parameter_shapes() == {
        "0.weight": (4, 2, 3), "0.bias": (4,), "1.weight": (4,), "1.bias": (4,), "1.running_mean": (4,),
        "1.running_var": (4,), "2.body.0.weight": (4, 4, 1),
    }
    params = net.random_params(0)
    x = net.random_input(0)
    del params["1.running_var"]
    with pytest.raises(ValueError, match=r"missing parameter '1.running_var' of shape \[4\]"):
        net.forward(x, params)
    params = net.random_params(0)
    params["0.weight"] = np.zeros((4, 2, 2))
    with pytest.raises(ValueError, match=r"parameter '0.weight' has shape \[4, 2, 2\], expected \[4, 2, 3\]"):
        net.destride().forward(x, params)
    with pytest.raises(ValueError, match=r"the input must have shape \(batch, 2, 9\)"):
        net.forward(np.zeros((1, 2, 8)), net.random_params(0))
