"""``symstride network``: formats, the exact check, and bad input (one stderr line, exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.golden_files import golden

from symstride.cli import main
from symstride.network.latex import network_document
from symstride.network.strided import Network
from symstride.network.summary import summarize

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "derivations" / "striding-is-parameter-sharing.json"

MASKED = {"input": {"channels": 1, "size": [9]},
          "layers": [{"type": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1}, {"type": "relu"},
                     {"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 1}]}


def write(tmp_path, spec, name="net.json"):
    path = tmp_path / name
    path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
    return str(path)


def test_json_format_with_check(tmp_path, capsys):
    assert main(["network", write(tmp_path, MASKED), "--check", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["exact"] is True
    assert isinstance(doc["max_abs_error"], float) and doc["max_abs_error"] < 1e-12
    assert [m["layer"] for m in doc["masks"]] == ["2"]
    assert doc["mask_condition"]["holds"] is False and doc["mask_condition"]["violated_by"] == ["0", "2"]  # layer 0 reads zero extension: no mask
    assert [row["layer"] for row in doc["layers"]] == ["0", "2"]
    first = doc["layers"][0]
    assert (first["filters_original"], first["filters_equivalent"], first["sharing_factor"]) == (2, 4, 2)
    assert doc["totals"]["filters_equivalent"] == 5


def test_json_format_without_check_reports_no_forward(tmp_path, capsys):
    assert main(["network", str(EXAMPLE), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["exact"] is True and doc["max_abs_error"] is None and doc["masks"] == []
    assert doc["mask_condition"]["holds"] is True
    assert doc["layers"][0]["sharing_factor"] == 16  # the stem: R = 4×4 after it


def test_text_format(tmp_path, capsys):
    assert main(["network", write(tmp_path, MASKED), "--check"]) == 0
    out = capsys.readouterr().out
    assert "layer 2 (conv): MASK — true outputs read samples past the end of the 5 input" in out
    assert "Theorem 3 exact check: exact" in out
    assert "Forward comparison (float64, seed 0)" in out
    assert "Divisibility condition (does not hold)" in out


def test_latex_output_file(tmp_path, capsys):
    target = tmp_path / "net.tex"
    assert main(["network", write(tmp_path, MASKED), "--format", "latex", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    text = target.read_text()
    assert text.startswith("\\documentclass") and text.rstrip().endswith("\\end{document}")
    assert "with fixed $0/1$ boundary masks before layers 2." in text


@pytest.mark.parametrize("content, message", [
    ('{"input": {"channels": 1, "size": [9]}, "layers": [', "malformed JSON: Expecting value"),
    (json.dumps({"input": {"channels": 1, "size": [9]}, "layers": [{"type": "pool"}]}), "layer 0 (pool): unknown layer type 'pool'; expected one of"),
    (json.dumps({"input": {"channels": 2, "size": [9]}, "layers": [{"type": "conv", "out_channels": 3, "kernel": 3, "groups": 2}]}),
     "layer 0 (conv): groups=2 must divide out_channels=3"),
    (json.dumps({"input": {"channels": 1, "size": [4]}, "layers": [{"type": "conv", "out_channels": 1, "kernel": 5}]}),
     "layer 0 (conv): the feature map of size [4] shrinks to nothing"),
    (json.dumps({"input": {"channels": 1, "size": [9]}, "layers": [{"type": "conv", "out_channels": 1, "kernel": 3, "stride": [0]}]}),
     "layer 0 (conv): stride must be a positive integer on every axis, got 0"),
    (json.dumps({"input": {"channels": 1, "size": [9]}, "layers": [
        {"type": "residual", "body": [{"type": "conv", "out_channels": 2, "kernel": 1}]}]}),
     "layer 0 (residual): body and shortcut must produce the same shape"),
    (json.dumps({"input": {"channels": 1, "size": [9]}, "layers": [
        {"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2}, {"type": "conv", "out_channels": 1, "kernel": 3, "padding": 1, "padding_mode": "replicate"}]}),
     "layer 1 (conv): padding_mode='replicate' is exact only on the first layer"),
])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, message, fmt):
    assert main(["network", write(tmp_path, content), "--format", fmt]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("symstride network: error: ")
    assert message in captured.err


def test_missing_file_and_unknown_format(tmp_path, capsys):
    assert main(["network", str(tmp_path / "nope.json")]) == 2
    assert capsys.readouterr().err.startswith("symstride network: error: cannot read network spec")
    assert main(["network", str(EXAMPLE), "--format", "html"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'html'" in err


def test_the_command_line_entry_point_has_no_traceback(tmp_path):
    bad = write(tmp_path, '{"input": ')
    run = subprocess.run([sys.executable, "-m", "symstride", "network", bad], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.count("\n") == 1


def test_derivation_in_the_book_is_current():
    """derivations/striding-is-parameter-sharing.tex is the rendering of its spec (with --check)."""
    rendered = network_document(summarize(Network.from_spec(EXAMPLE), check=True))
    golden(EXAMPLE.with_suffix(".tex"), rendered)


def test_latex_compiles_with_pdflatex(tmp_path):
    for name, spec in (("masked", MASKED), ("resnet", EXAMPLE)):
        tex = tmp_path / f"{name}.tex"
        tex.write_text(network_document(summarize(Network.from_spec(spec), check=True)))
        run = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", tex.name], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]
        assert (tmp_path / f"{name}.pdf").stat().st_size > 10_000
