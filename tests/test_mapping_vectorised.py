"""The vectorised mapping check (issue 13 item 6): a large map is compared tap for tap with the phase map."""

import numpy as np
import pytest

from symstride import Conv, ConvTranspose, destride
from symstride.layer.mapping import MAX_COUNTEREXAMPLE_TAPS, check_mapping
from symstride.layer.mapping_arrays import first_misplaced, tap_rows

KEYS = ("tap", "phase", "offset")


def test_a_ten_thousand_tap_map_is_correct_and_its_one_corrupted_tap_is_named():
    doc = destride(Conv(kernel=(100, 100), stride=(2, 3), padding=1)).to_json()
    assert len(doc["taps"]) == 10**4 > MAX_COUNTEREXAMPLE_TAPS
    report = check_mapping(doc)
    assert report.correct and report.failure is None and "phase map" in str(report)
    entry = doc["taps"][7346]  # tap [73, 46]: phase 1 on axis 1 has offsets 0..32, so 33 is a free slot
    assert entry["tap"] == [73, 46] and entry["offset"][1] == 15
    entry["offset"] = [36, 33]
    report = check_mapping(doc)
    assert not report.correct and report.tap == [73, 46]
    assert report.failure == (f"tap [73, 46]: it is placed at phase {entry['phase']}, offset [36, 33], "
                              f"but the phase map puts it at phase {entry['phase']}, offset [36, 15]")
    entry["offset"] = [36, 14]  # an occupied slot: named as shared
    assert check_mapping(doc).failure.endswith("tap [73, 46] is placed at phase [1, 1], offset [36, 14], where tap [73, 43] already is")


def test_a_ten_thousand_tap_transposed_map_twin():
    doc = destride(ConvTranspose(kernel=(100, 100), stride=2, dilation=(1, 2))).to_json()
    assert check_mapping(doc).correct
    doc["taps"][9999]["phase"] = [1 - doc["taps"][9999]["phase"][0], doc["taps"][9999]["phase"][1]]
    report = check_mapping(doc)
    assert not report.correct and report.tap == [99, 99]


def test_a_large_map_missing_a_tap_or_listing_one_twice_is_named():
    doc = destride(Conv(kernel=(100, 100), stride=2)).to_json()
    doc["taps"][10] = dict(doc["taps"][11])
    report = check_mapping(doc)
    assert report.tap == [0, 10] and "missing from the map (tap [0, 11] is listed twice)" in report.failure


@pytest.mark.parametrize("layer", [
    Conv(kernel=(5, 4), stride=(2, 3), dilation=(2, 1), padding=2),
    Conv(kernel=7, stride=3, dilation=2),
    ConvTranspose(kernel=(5, 3), stride=(3, 2), dilation=(2, 1), padding=1),
    ConvTranspose(kernel=4, stride=2, dilation=3),
])
def test_the_vectorised_comparison_agrees_with_the_exact_read_check(layer):
    doc = destride(layer).to_json()
    ndim = len(doc["kernel"])
    keys = KEYS + ("delay",) if "delay" in doc["taps"][0] else KEYS
    rows = tap_rows(doc["taps"], ndim, keys)[:, :3]
    assert rows is not None and first_misplaced(destride(layer).spec, rows) is None
    for k in range(len(doc["taps"])):  # every single misplaced tap: both checks reject it, naming it
        wrong = [dict(t) for t in doc["taps"]]
        wrong[k] = {**wrong[k], "offset": [v + 1 for v in wrong[k]["offset"]]}
        bad = tap_rows(wrong, ndim, keys)[:, :3]
        assert first_misplaced(destride(layer).spec, bad)[0] == k
        assert not check_mapping({**doc, "taps": wrong}).correct


def test_irregular_entries_go_to_the_per_entry_parse():
    assert tap_rows([{"tap": [0], "phase": [0], "offset": [True]}], 1, KEYS) is None
    assert tap_rows([{"tap": [0], "phase": [0], "offset": [0.0]}], 1, KEYS) is None
    assert tap_rows([{"tap": [0], "phase": [0]}], 1, KEYS) is None
    assert tap_rows([{"tap": [0], "phase": [0], "offset": [10**30]}], 1, KEYS) is None
    assert tap_rows([{"tap": [0], "phase": [0], "offset": [0, 1]}], 1, KEYS) is None
    assert np.array_equal(tap_rows([{"tap": [2], "phase": [0], "offset": [1]}], 1, KEYS), [[[2], [0], [1]]])
