"""``symstride derive --transposed``: text, the JSON tap contract (checked against PyTorch) and bad input."""

import json

import numpy as np
import pytest

from symstride.cli import main
from symstride.reference.convolution import conv, destride_transposed_input, destride_transposed_output
from tests.transposed_cases import TOL, torch_conv_transpose
from tests.transposed_cases import single_thread_torch  # noqa: F401 (autouse fixture)

KEYS = {"transposed", "kernel", "stride", "dilation", "padding", "output_padding", "layout", "phases", "equivalent_kernel",
        "equivalent_out_channels", "taps", "crop_start", "input_left_padding", "structural_zeros", "formula"}


def run(capsys, *argv):
    status = main(["derive", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_text(capsys):
    status, out, err = run(capsys, "--transposed", "--kernel", "3", "--stride", "2", "--padding", "1", "--output-padding", "1")
    assert status == 0 and err == ""
    for fragment in ["unit-stride convolution with 2 output phases, then depth-to-space", "output padding 1",
                     "phase r=0 │ w[2]  w[0]", "m=1          → output phase r=1        j=1", "keep N_out samples from p mod s = 1"]:
        assert fragment in out, fragment


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
def test_json_taps_rebuild_the_layer(capsys, layout):
    """Build W' from nothing but the JSON taps; sub-pixel convolution then equals torch's conv_transpose2d."""
    argv = ["--transposed", "--kernel", "4,3", "--stride", "2,3", "--padding", "1,2", "--output-padding", "1,0",
            "--dilation", "1,2", "--in-channels", "2", "--out-channels", "3", "--layout", layout, "--format", "json"]
    status, out, _ = run(capsys, *argv)
    doc = json.loads(out)
    assert status == 0 and KEYS <= set(doc) and doc["transposed"] is True
    assert doc["equivalent_out_channels"] == 3 * 6 and len(doc["taps"]) == 12
    # tap (3, 0): δ·m = (3, 0) = s·q + r with q = (1, 0), r = (1, 0); k' = (2, 2), so j = k' − 1 − q = (0, 1)
    assert {"tap": [3, 0], "phase": [1, 0], "offset": [0, 1], "delay": [1, 0]} in doc["taps"]
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 4, 3)), rng.standard_normal((2, 3, 4, 3))
    P, cout = doc["phases"], doc["out_channels"]
    bank = np.zeros((cout * P, 2, *doc["equivalent_kernel"]))
    for t in doc["taps"]:
        flat = int(np.ravel_multi_index(t["phase"], doc["stride"]))
        for o in range(cout):
            row = o * P + flat if layout == "pytorch" else flat * cout + o
            bank[(row, slice(None), *t["offset"])] = w[(slice(None), o, *t["tap"])]
    p = dict(stride=(2, 3), padding=(1, 2), output_padding=(1, 0), dilation=(1, 2))
    z = conv(destride_transposed_input(x, (4, 3), **p), bank)
    got = destride_transposed_output(z, (4, 3), layout=layout, size=(4, 3), **p)
    np.testing.assert_allclose(got, torch_conv_transpose(x, w, **p), rtol=0, atol=TOL)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--output-padding", "1"], "--output-padding applies only to a transposed layer; add --transposed"),
        (["--transposed", "--output-padding", "2"], "output_padding must be smaller than either stride or dilation (PyTorch's rule), "
                                                    "got output_padding 2 with stride 2 and dilation 1 (axis 0)"),
        (["--transposed", "--output-padding", "-1"], "output_padding must be an integer >= 0 on every axis, got -1"),
        (["--transposed", "--output-padding", "x"], "must be an integer or a comma-separated list of integers, got 'x'"),
        (["--transposed", "--kernel", "3,3", "--output-padding", "1,1,1"], "kernel has 2 entries but the layer has 3 spatial axes"),
        (["--transposed", "--groups", "2", "--in-channels", "2", "--out-channels", "2", "--layout", "tf"], "splits each of the groups=2"),
        (["--transposed", "--in-channels", "3", "--groups", "2"], "groups=2 must divide in_channels=3"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
