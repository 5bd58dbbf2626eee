"""Hostile and malformed input to every subcommand: one line on stderr, the exact exit status,
never a traceback, never a hang — and the Python API's boundary checks.

Each row is (argv, files to create, exit status, regex the one stderr line must match).  The
``{tmp}`` placeholder in argv and file names is the test's temporary directory.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import symstride
from symstride import Conv, Network, destride
from symstride.algebra.operator_checks import verify_subsampling
from symstride.cli import main
from symstride.algebra.conv_transpose import ConvTranspose

NESTED = "[" * 100000 + "]" * 100000
NET = '{"input": {"channels": 3, "size": [32, 32]}, "layers": [%s]}'
DEEP = NET % ",".join(['{"type": "conv", "out_channels": 1, "kernel": 1, "stride": 2}'] * 40)
HUGE_STRIDE = NET % '{"type": "conv", "out_channels": 4, "kernel": 3, "stride": 1000000000}'
SPEC = "derivations/striding-is-parameter-sharing.json"

CASES = [
    # --- derive: integers and per-axis lists
    (["derive", "--kernel", "0"], {}, 2, r"kernel must be a positive integer on every axis, got 0 \(axis 0\)"),
    (["derive", "--kernel", "3.5"], {}, 2, r"argument --kernel: value must be an integer .* got '3\.5'"),
    (["derive", "--kernel", "³"], {}, 2, r"argument --kernel: value must be an integer .* got '³'"),
    (["derive", "--kernel", "3,"], {}, 2, r"argument --kernel: value must be an integer"),
    (["derive", "--kernel", "3,3", "--stride", "2,2,2"], {}, 2, r"kernel has 2 entries but the layer has 3 spatial axes"),
    (["derive", "--padding", "1:2:3"], {}, 2, r"argument --padding: padding must be an integer .* got '2:3'"),
    (["derive", "--in-channels", "3", "--groups", "2"], {}, 2, r"groups=2 must divide in_channels=3"),
    (["derive", "--size", "0"], {}, 2, r"size must be a positive integer on every axis, got 0 \(axis 0\)"),
    (["derive", "--size", "-5", "--format", "json"], {}, 2, r"size must be a positive integer on every axis, got -5"),
    (["derive", "--size", "5,5"], {}, 2, r"size has 2 axes but the layer has 1 spatial axes"),
    (["derive", "--transposed", "--output-padding", "2"], {}, 2, r"output_padding must be smaller than either stride or dilation"),
    # --- derive: huge but legal requests are refused, not hung on
    (["derive", "--stride", "1000000000"], {}, 2, r"stride \(1000000000,\) gives 1000000000 phases \(Π s\); symstride builds equivalents with at most 10000000"),
    (["derive", "--stride", "100000,100000,100000"], {}, 2, r"gives 1000000000000000 phases"),
    (["derive", "--transposed", "--stride", "1000000000"], {}, 2, r"gives 1000000000 phases"),
    (["derive", "--in-channels", "10000", "--out-channels", "10000", "--kernel", "3,3"], {}, 2,
     r"the equivalent filter bank would have 1600000000 entries .* symstride builds at most 1000000000"),
    # --- derive: outputs
    (["derive", "--format", "npz"], {}, 2, r"--format npz writes a binary file: give -o FILE\.npz"),
    (["derive", "--format", "json", "-o", "{tmp}"], {}, 2, r"Is a directory"),
    (["derive", "--format", "json", "-o", "{tmp}/missing/x.json"], {}, 2, r"No such file or directory: '.*missing/x\.json'"),
    (["derive", "--format", "text", "-o", "{tmp}/x.pdf"], {}, 2, r"-o FILE\.pdf needs --format latex"),
    # --- network / decoder: files and JSON of the wrong shape
    (["network", "{tmp}/missing.json"], {}, 2, r"cannot read network spec '.*missing\.json': No such file or directory"),
    (["network", "{tmp}"], {}, 2, r"cannot read network spec '.*': Is a directory"),
    (["network", "{tmp}/s.json"], {"s.json": "[]"}, 2, r"a network spec must be a JSON object, got list"),
    (["network", "{tmp}/s.json"], {"s.json": ""}, 2, r"malformed JSON: Expecting value"),
    (["network", "{tmp}/s.json"], {"s.json": NESTED}, 2, r"the input is nested too deeply to read"),
    (["network", "{tmp}/s.json"], {"s.json": NET % '{"type": "conv", "out_channels": 4, "kernel": 3, "stride": NaN}'}, 2,
     r"layer 0 \(conv\): stride \(axis 0\) must be an integer, got nan"),
    (["network", "{tmp}/s.json"], {"s.json": NET % '{"type": "conv", "out_channels": 4, "kernel": 3, "padding": "same"}'}, 2,
     r"padding must be an int or a sequence of ints, got the string 'same'"),
    (["network", "{tmp}/s.json"], {"s.json": NET % '["conv"]'}, 2, r"layer 0: a layer must be an object with a 'type', got list"),
    (["network", "{tmp}/s.json"], {"s.json": HUGE_STRIDE}, 2,
     r"total stride \(1000000000, 1000000000\) gives 1000000000000000000 input phases .* at most 16384"),
    (["network", "{tmp}/s.json"], {"s.json": DEEP}, 2, r"input phases \(Π S\); symstride builds tied networks with at most 16384"),
    (["network", SPEC, "--check", "--seed", "-1"], {}, 2, r"argument --seed: seed must be a non-negative integer, got -1"),
    (["network", SPEC, "--format", "json", "-o", "{tmp}/n.pdf"], {}, 2, r"-o FILE\.pdf needs --format latex"),
    (["decoder", "{tmp}/s.json"], {"s.json": NESTED}, 2, r"the input is nested too deeply to read"),
    (["decoder", "{tmp}/s.json", "--check", "--seed", "-3"], {"s.json": "{}"}, 2, r"argument --seed: seed must be a non-negative integer, got -3"),
    (["decoder", "{tmp}/s.json"], {"s.json": "{}"}, 2, r"the decoder spec needs 'input'"),
    # --- check --mapping
    (["check", "--mapping", "{tmp}/m.json"], {"m.json": NESTED}, 2, r"the input is nested too deeply to read"),
    (["check", "--mapping", "{tmp}/m.json"], {"m.json": "[1, 2]"}, 2, r"a mapping must be a JSON object, got list"),
    (["check", "--mapping", "{tmp}/missing.json"], {}, 2, r"cannot read .*missing\.json: No such file or directory"),
    # --- prove / book
    (["prove", r"\evil{x}_&"], {}, 2, r"no proof named '\\\\evil\{x\}_&'; the proofs are: "),
    (["prove", "polyphase", "--fragment"], {}, 2, r"--fragment applies to --format latex, not --format text"),
    (["book"], {}, 2, r"the book needs an output directory: -o DIR"),
    (["book", "--only", "nosuch", "-o", "{tmp}/b"], {}, 2, r"no chapter named 'nosuch'"),
]


@pytest.mark.parametrize("argv, files, status, message", CASES, ids=[" ".join(c[0])[:70] for c in CASES])
def test_bad_input_is_one_line_and_status(argv, files, status, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[1])
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == status
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    assert re.search(message, lines[0]), lines[0]


def test_network_pdf_output_is_a_pdf(tmp_path, capsys, monkeypatch):
    """``network --format latex -o FILE.pdf`` compiles, as ``derive`` and ``prove`` do (it used to write LaTeX source into FILE.pdf)."""
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    out = tmp_path / "n.pdf"
    assert main(["network", SPEC, "--format", "latex", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


def test_derive_size_still_works(capsys):
    assert main(["derive", "--size", "9", "--format", "json"]) == 0
    assert main(["derive", "--transposed", "--size", "4", "--format", "text"]) == 0


# --- the Python API -------------------------------------------------------------------------------

API = [
    (lambda: destride(Conv(kernel=3, stride=10**12)), ValueError, r"gives 1000000000000 phases \(Π s\)"),
    (lambda: destride(ConvTranspose(kernel=3, stride=(10**4, 10**4))), ValueError, r"gives 100000000 phases"),
    (lambda: destride(Conv(kernel=(3, 3), stride=2, in_channels=10**4, out_channels=10**4)), ValueError,
     r"the equivalent filter bank would have 1600000000 entries .* symstride builds at most 1000000000"),
    (lambda: symstride.verify_network("x"), TypeError, r"verify_network expects an EquivalentNetwork \(from Network\.destride\(\)\), got str"),
    (lambda: symstride.verify_network(Network.from_spec(SPEC)), TypeError, r"expects an EquivalentNetwork .* got Network"),
    (lambda: verify_subsampling("x", 5), TypeError, r"verify_subsampling expects a ConvSpec .* got str"),
]


@pytest.mark.parametrize("call, exc, message", API, ids=[str(i) for i in range(len(API))])
def test_api_boundary(call, exc, message, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[1])
    with pytest.raises(exc, match=message):
        call()


def test_limits_leave_real_layers_alone():
    assert destride(Conv(kernel=3, stride=10**6)).phases == 10**6
    eq = destride(Conv(kernel=(3, 3), stride=2, in_channels=512, out_channels=512))
    assert eq.in_channels == 2048
