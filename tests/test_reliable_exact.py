"""Issue 13, items 1–2: exact code never overflows silently; `check --mapping` checks what it is given."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from symstride import Conv, ConvTranspose, SymstrideError, destride
from symstride.algebra.arith import EvaluationError, integer_values, truth_values
from symstride.cli import main
from symstride.core.indexing import Tap, tap_map
from symstride.layer.mapping import check_mapping
from symstride.core.params import ConvSpec
from symstride.algebra.operator_checks import verify_subsampling
from symstride.core.verify import verify_taps

N = sp.Symbol("N", integer=True)


# -- item 1: int64 overflow ---------------------------------------------------------------------------
def test_integer_values_refuses_a_value_beyond_int64_instead_of_wrapping():
    with pytest.raises(EvaluationError, match=r"N\*\*2 takes the value 1208925819614629174706176 .* beyond the int64 range"):
        integer_values(N * N, {N: np.array([2**40])}, 1)


def test_exact_arithmetic_is_carried_in_python_integers_where_int64_would_wrap():
    # (N·N)//N = N and N·N > 2^80 ⇔ N > 2^40: both need 2^80-sized intermediates
    assert integer_values(sp.floor(N * N / N), {N: np.array([2**40, 3])}, 2).tolist() == [2**40, 3]
    assert truth_values(sp.Gt(N * N, 2**80), {N: np.array([2**40, 2**40 + 1])}, 2).tolist() == [False, True]
    assert integer_values(N + 2**62, {N: np.array([2**62 - 1, -(2**62)])}, 2).tolist() == [2**63 - 1, 0]


def _wrong_map(spec):
    taps = tap_map(spec)
    t = taps[1]
    return [taps[0], Tap(t.tap, t.phase, tuple(j + 1 for j in t.offset)), *taps[2:]]


@pytest.mark.parametrize("padding", [2**63 - 1, 2**62, 2**64])
def test_verify_taps_refuses_positions_beyond_int64_instead_of_accepting_a_wrong_map(padding):
    spec = ConvSpec.create(kernel=3, stride=2, padding=padding)
    with pytest.raises(SymstrideError, match=r"Theorem 2 .*: (padding|output length|stride·output length) \d+ on axis 0 is beyond the limit 2\^62"):
        verify_taps(spec, _wrong_map(spec), 8)


def test_verify_subsampling_refuses_positions_beyond_int64():
    spec = ConvSpec.create(kernel=3, stride=2, padding=2**63 - 1)
    with pytest.raises(SymstrideError, match=r"Theorem 1 .*beyond the limit 2\^62"):
        verify_subsampling(spec, 8)


def test_a_wrong_map_at_int64_scale_is_never_called_correct(tmp_path, capsys):
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    doc["padding"] = 2**63 - 1
    doc["taps"][1]["offset"] = [1]
    for key in ("structural_zeros", "phases", "equivalent_kernel", "formula", "equivalent_in_channels", "channel_order"):
        doc.pop(key)
    path = tmp_path / "map.json"
    path.write_text(json.dumps(doc))
    status = main(["check", "--mapping", str(path)])
    out, err = capsys.readouterr()
    assert status == 2 and "CORRECT" not in out
    assert "beyond the limit 2^62" in err and "9223372036854775807" in err


def test_a_check_too_large_for_memory_is_refused_with_the_figure():
    spec = ConvSpec.create(kernel=3, stride=1)
    with pytest.raises(SymstrideError, match=r"would need about 96\.0 GB \(3 taps × 999999998 output positions.*at most 2 GB"):
        verify_taps(spec, tap_map(spec), 10**9)


# -- item 2: check --mapping checks transposed maps, refuses unknown keys, checks every stated field ----
def _check(tmp_path, doc, capsys):
    path = tmp_path / "map.json"
    path.write_text(json.dumps(doc))
    status = main(["check", "--mapping", str(path)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("layer", [
    ConvTranspose(kernel=3, stride=2),
    ConvTranspose(kernel=(3, 2), stride=2, padding=1),
    ConvTranspose(kernel=4, stride=3, padding=(2, 1), output_padding=1, dilation=2),
    ConvTranspose(kernel=3, stride=2, in_channels=4, out_channels=2, groups=2),
])
def test_check_accepts_the_transposed_maps_derive_writes(tmp_path, capsys, layer):
    status, out, err = _check(tmp_path, destride(layer).to_json(), capsys)
    assert status == 0 and "CORRECT" in out and "transposed" in out, out + err


def test_check_rejects_a_wrong_transposed_map_as_transposed(tmp_path, capsys):
    doc = destride(ConvTranspose(kernel=3, stride=2, padding=1)).to_json()
    doc["taps"][0]["offset"], doc["taps"][2]["offset"] = doc["taps"][2]["offset"], doc["taps"][0]["offset"]
    doc["taps"][0]["delay"], doc["taps"][2]["delay"] = doc["taps"][2]["delay"], doc["taps"][0]["delay"]
    status, out, _ = _check(tmp_path, doc, capsys)
    assert status == 1 and "WRONG at tap [0]" in out and "transposed layer" in out


def test_check_rejects_a_transposed_delay_that_contradicts_the_offset(tmp_path, capsys):
    doc = destride(ConvTranspose(kernel=3, stride=2)).to_json()
    doc["taps"][1]["delay"] = [1]
    status, out, _ = _check(tmp_path, doc, capsys)
    assert status == 1 and "WRONG at tap [1]" in out and "delay [1] is not k' − 1 − offset = [0]" in out


@pytest.mark.parametrize("where, key, message", [
    ("top", "transposd", r"unknown key 'transposd' in the mapping \(did you mean 'transposed'\?\); valid keys: channel_order, .*taps, transposed$"),
    ("top", "paddding", r"unknown key 'paddding' in the mapping \(did you mean 'padding'\?\)"),
    ("tap", "ofset", r"unknown key 'ofset' in taps\[0\] \(did you mean 'offset'\?\); valid keys: tap, phase, offset$"),
])
def test_check_refuses_unknown_keys_naming_them(tmp_path, capsys, where, key, message):
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    (doc if where == "top" else doc["taps"][0])[key] = True
    status, out, err = _check(tmp_path, doc, capsys)
    assert status == 2 and out == ""
    import re
    assert re.search(message, err.strip().removeprefix("symstride check: error: ")), err


def test_a_transposed_map_without_its_flag_is_refused_not_misread(tmp_path, capsys):
    doc = destride(ConvTranspose(kernel=3, stride=2)).to_json()
    del doc["transposed"]
    status, _, err = _check(tmp_path, doc, capsys)
    assert status == 2 and "unknown key 'output_padding'" in err


@pytest.mark.parametrize("field, value, message", [
    ("equivalent_in_channels", 999, "equivalent_in_channels 999 is not the derived 2"),
    ("formula", {"latex": "W'=0", "text": "W'=0"}, "formula text \"W'=0\" is not the formula derived for the stated layer"),
    ("channel_order", "phase-major: new channel φ(r)·C + c (TensorFlow/ONNX SpaceToDepth)", "contradicts layout 'pytorch'"),
    ("structural_zeros", 2, "structural_zeros 2 is not"),
    ("phases", True, "phases True is not"),
])
def test_check_checks_every_stated_field(tmp_path, capsys, field, value, message):
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    doc[field] = value
    status, out, _ = _check(tmp_path, doc, capsys)
    assert status == 1 and "WRONG" in out and message in out, out


def test_check_rejects_a_layout_that_contradicts_the_stated_channel_order(tmp_path, capsys):
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    doc["layout"] = "tf"
    status, out, _ = _check(tmp_path, doc, capsys)
    assert status == 1 and "channel_order 'channel-major" in out and "contradicts layout 'tf'" in out


@pytest.mark.parametrize("field, value", [
    ("live_phases", [[0]]), ("crop_start", [1]), ("taps_meaning", "anything"), ("equivalent_out_channels", 3),
])
def test_check_checks_the_transposed_derived_fields(tmp_path, capsys, field, value):
    doc = destride(ConvTranspose(kernel=3, stride=2)).to_json()
    doc[field] = value
    status, out, _ = _check(tmp_path, doc, capsys)
    assert status == 1 and f"{field} " in out and "is not the derived" in out, out


def test_a_symbolic_map_is_refused_as_symbolic_not_as_an_unknown_key(tmp_path, capsys):
    path = tmp_path / "sym.json"
    assert main(["derive", "--kernel", "k", "--stride", "s", "--format", "json", "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the mapping is symbolic (symbols k, s)" in err, err
