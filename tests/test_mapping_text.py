"""The bulk reader of tap maps (issue 13 item 6): the same document as json.loads, or json.loads itself."""

import json

import numpy as np
import pytest

from symstride import Conv, ConvTranspose, destride
from symstride.cli import main
from symstride.core.errors import SymstrideError
from symstride.core.json_input import load_json
from symstride.layer import mapping_text
from symstride.layer.mapping import check_mapping, load_mapping
from symstride.layer.mapping_text import TAP_FIELDS, read_mapping


def _as_array(doc):
    taps = doc["taps"]
    keys = [k for k in TAP_FIELDS if k in taps[0]]
    return np.array([[entry[k] for k in keys] for entry in taps], dtype=np.int64)


def _docs():
    yield destride(Conv(kernel=3, stride=2)).to_json()
    yield destride(Conv(kernel=(3, 4), stride=(2, 3), padding=[(1, 2), 0], dilation=2)).to_json()
    yield destride(Conv(kernel=(2, 3, 2), stride=2, padding=1)).to_json()
    yield {**destride(ConvTranspose(kernel=4, stride=2, padding=1)).to_json(), "transposed": True}
    yield {**destride(ConvTranspose(kernel=(3, 5), stride=(2, 3))).to_json(), "transposed": True}


@pytest.mark.parametrize("chunk", [1 << 24, 64])
@pytest.mark.parametrize("style", ["pretty", "compact", "odd"])
@pytest.mark.parametrize("index", range(5))
def test_a_regular_map_reads_as_the_json_values(monkeypatch, chunk, style, index):
    monkeypatch.setattr(mapping_text, "CHUNK_BYTES", chunk)
    doc = list(_docs())[index]
    doc["taps"][-1]["offset"] = [-v - 7 for v in doc["taps"][-1]["offset"]]  # negative numbers too
    text = {"pretty": json.dumps(doc, indent=2), "compact": json.dumps(doc, separators=(",", ":")),
            "odd": json.dumps({**doc, "taps": "TAPS"}).replace('"TAPS"', json.dumps(doc["taps"]).replace(", ", " ,\n\t ").replace("[", "[ \r\n"))}[style]
    read = read_mapping(text.encode(), "m.json")
    assert isinstance(read["taps"], np.ndarray)
    np.testing.assert_array_equal(read["taps"], _as_array(doc))
    assert {k: v for k, v in read.items() if k != "taps"} == {k: v for k, v in doc.items() if k != "taps"}
    assert str(check_mapping(read)) == str(check_mapping(json.loads(text)))  # the same verdict (WRONG: the last tap)
    assert not check_mapping(read).correct


def test_keys_in_another_order_are_put_in_field_order():
    doc = destride(Conv(kernel=(3, 2), stride=2)).to_json()
    doc["taps"] = [{"offset": t["offset"], "tap": t["tap"], "phase": t["phase"]} for t in doc["taps"]]
    read = read_mapping(json.dumps(doc).encode(), "m.json")
    np.testing.assert_array_equal(read["taps"], _as_array(doc))


IRREGULAR = {
    "float": ('[0]', '[0.0]'),
    "leading zero": ('"tap": [1]', '"tap": [01]'),
    "nineteen digits": ('"offset": [0]', '"offset": [1000000000000000000]'),
    "twenty digits": ('"offset": [0]', '"offset": [99999999999999999999]'),
    "string": ('"phase": [1]', '"phase": ["1"]'),
    "extra key": ('"offset": [0]}', '"offset": [0], "note": 1}'),
    "missing slot and a doubled one": ('"tap": [1], "phase": [1]', '"tap": [1 1], "phase": []'),
    "minus alone": ('"tap": [1]', '"tap": [- 1]'),
    "double minus": ('"offset": [0]', '"offset": [--1]'),
    "digit in a key": ('"phase"', '"ph4se"'),
    "escaped key": ('"tap"', '"t\\u0061p"'),
    "delay in a strided map": ('"offset": [0]}', '"offset": [0], "delay": [0]}'),
}


@pytest.mark.parametrize("name", IRREGULAR)
def test_an_irregular_tap_list_is_read_by_json_loads(name):
    text = json.dumps(destride(Conv(kernel=3, stride=2)).to_json())
    old, new = IRREGULAR[name]
    assert old in text
    edited = text.replace(old, new, 1) if name not in ("float", "escaped key", "digit in a key") else text.replace(old, new)
    try:
        expected = load_json(edited, "m.json", "{where} is not valid JSON: {detail}")
    except SymstrideError as exc:
        with pytest.raises(SymstrideError) as info:
            read_mapping(edited.encode(), "m.json")
        assert str(info.value) == str(exc)  # the same message, line and column
        return
    read = read_mapping(edited.encode(), "m.json")
    assert isinstance(read["taps"], list) and read == expected


def test_a_taps_key_elsewhere_is_not_taken_for_the_tap_list():
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    doc["layout"] = {"taps": doc["taps"]}  # an object with its own taps key, before the real one
    text = json.dumps({"layout": doc.pop("layout"), **doc})
    read = read_mapping(text.encode(), "m.json")
    assert isinstance(read["layout"]["taps"], list) and read == json.loads(text)


def test_a_duplicated_taps_key_is_refused():
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    text = json.dumps(doc)[:-1] + ', "taps": ' + json.dumps(doc["taps"]) + "}"
    with pytest.raises(SymstrideError, match="'taps' appears twice"):
        read_mapping(text.encode(), "m.json")


def test_invalid_json_after_the_tap_list_names_its_true_line():
    text = json.dumps(destride(Conv(kernel=3, stride=2)).to_json(), indent=2)
    broken = text[: text.rindex("}")] + ",}"
    with pytest.raises(SymstrideError) as info:
        read_mapping(broken.encode(), "m.json")
    with pytest.raises(SymstrideError) as truth:
        load_json(broken, "m.json", "{where} is not valid JSON: {detail}")
    assert str(info.value) == str(truth.value) and f"line {broken.count(chr(10)) + 1}" in str(info.value)


def test_a_file_that_is_not_utf8_is_one_line(tmp_path, capsys):
    path = tmp_path / "m.json"
    path.write_bytes(b'{"kernel": [3], "stride": [2], "taps": [], "layout": "\xff"}')
    assert main(["check", str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_a_large_map_is_checked_tap_for_tap_and_a_misplaced_tap_named(tmp_path, capsys):
    eq = destride(Conv(kernel=(80, 70), stride=(3, 2), padding=1))
    doc = eq.to_json()
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    assert isinstance(load_mapping(path)["taps"], np.ndarray)
    assert main(["check", str(path)]) == 0
    doc["taps"][4321]["offset"][1] += 1000  # a slot no other tap holds
    path.write_text(json.dumps(doc))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"WRONG at tap {doc['taps'][4321]['tap']}" in out and "the phase map puts it at" in out


def test_many_duplicated_taps_are_named_quickly(tmp_path, capsys):
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    doc["taps"] = doc["taps"] * 20000
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(doc))
    assert main(["check", str(path)]) == 1
    assert "tap [0] is listed twice" in capsys.readouterr().out
