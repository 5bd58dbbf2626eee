"""``symstride derive``: formats, the JSON contract and bad input."""

import json
import subprocess
import sys

import pytest

from symstride.cli import main

JSON_KEYS = {"kernel", "stride", "dilation", "padding", "layout", "phases", "equivalent_kernel", "taps", "structural_zeros", "formula"}


def run(capsys, *argv):
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_default_text(capsys):
    status, out, err = run(capsys, "derive")
    assert status == 0 and err == ""
    assert "kernel 3, stride 2" in out and "phase r=1 │ w[1]  0" in out and "m=2" in out


def test_json_contract(capsys):
    status, out, _ = run(capsys, "derive", "--kernel", "3,3", "--stride", "2", "--padding", "0:1,1", "--format", "json")
    doc = json.loads(out)
    assert status == 0 and JSON_KEYS <= set(doc)
    assert doc["kernel"] == [3, 3] and doc["padding"] == [[0, 1], [1, 1]] and doc["phases"] == 4
    assert doc["equivalent_kernel"] == [2, 2] and doc["structural_zeros"] == 7 and doc["layout"] == "pytorch"
    assert {"tap": [1, 2], "phase": [1, 0], "offset": [0, 1]} in doc["taps"] and len(doc["taps"]) == 9
    assert set(doc["formula"]) == {"latex", "text"} and doc["formula"]["text"].startswith("W'[")


def test_json_tf_layout_and_channels(capsys):
    _, out, _ = run(capsys, "derive", "--kernel", "2", "--in-channels", "3", "--out-channels", "2", "--layout", "tf", "--format", "json")
    doc = json.loads(out)
    assert doc["layout"] == "tf" and "φ(r)·C + c" in doc["channel_order"] and doc["equivalent_in_channels"] == 6


def test_output_file(tmp_path, capsys):
    target = tmp_path / "eq.json"
    status, out, _ = run(capsys, "derive", "--format", "json", "-o", str(target))
    assert status == 0 and out == "" and json.loads(target.read_text())["phases"] == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--kernel", "0"], "kernel must be a positive integer on every axis, got 0"),
        (["--stride", "-1"], "stride must be a positive integer on every axis, got -1"),
        (["--dilation", "0"], "dilation must be a positive integer"),
        (["--padding", "-1"], "padding must be non-negative, got -1"),
        (["--kernel", "3,3,3", "--stride", "2,2"], "stride has 2 entries but the layer has 3 spatial axes"),
        (["--kernel", "2.5"], "must be an integer or a comma-separated list of integers, got '2.5'"),
        (["--in-channels", "4", "--groups", "3"], "groups=3 must divide in_channels=4"),
        (["--kernel", "4000,4000"], "has 16000000 taps per channel pair; symstride accepts at most 10000000"),
        (["--groups", "2", "--in-channels", "2", "--out-channels", "2", "--layout", "tf"], "splits each of the groups=2"),
        (["--format", "yaml"], "invalid choice: 'yaml'"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, argv, message):
    status, out, err = run(capsys, "derive", *argv)
    assert status == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_console_script_never_prints_a_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "symstride", "derive", "--kernel", "5", "--padding", "1:x"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and "padding" in proc.stderr
