"""``symstride decoder SPEC.json``: report, JSON, exit status and bad input."""

import json

import pytest

from symstride.cli import main

SPEC = {"input": {"channels": 2, "size": [5]}, "layers": [
    {"type": "conv_transpose", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1},
    {"type": "leaky_relu", "negative_slope": 0.2},
    {"type": "conv_transpose", "out_channels": 1, "kernel": 4, "stride": 2, "padding": 1}, {"type": "tanh"}]}


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "decoder.json"
    path.write_text(json.dumps(SPEC))
    return str(path)


def run(capsys, *argv):
    status = main(["decoder", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_text_with_check(capsys, spec_file):
    status, out, err = run(capsys, spec_file, "--check")
    assert status == 0 and err == ""
    for fragment in ["one depth-to-space by 4 at the output", "junk sample 9 (N = 9, block 2) reaches output 17",
                     "exact check: exact", "max |difference| = "]:
        assert fragment in out, fragment
    error = float(out.rsplit("= ", 1)[1])
    assert error < 1e-10


def test_json_and_missing_mask_exit_1(capsys, spec_file):
    status, out, _ = run(capsys, spec_file, "--format", "json", "--masks", "never")
    doc = json.loads(out)
    assert status == 1 and doc["exact"] is False and doc["masks"] == "never"
    assert [c["exact"] for c in doc["checks"]] == [True, False]
    assert doc["checks"][1]["first_difference"].startswith("tap [0] at output y[0, 0, 17]")
    status, out, _ = run(capsys, spec_file, "--format", "json", "--layout", "tf")
    assert status == 0 and json.loads(out)["stages"][1]["masked"] == [True]


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"input": {"channels": 2, "size": [5]}, "layers": [{"type": "conv", "out_channels": 1, "kernel": 3}]},
         "layer 0 (conv): 'conv' is a strided layer (see symstride.network)"),
        ({"input": {"channels": 2, "size": [5]}, "layers": [{"type": "conv_transpose", "out_channels": 1, "kernel": 3,
                                                            "stride": 2, "output_padding": 2}]},
         "output_padding must be smaller than either stride or dilation"),
    ],
)
def test_bad_spec_one_line_exit_2(capsys, tmp_path, spec, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    status, out, err = run(capsys, str(path))
    assert status == 2 and out == "" and message in err and err.count("\n") == 1
