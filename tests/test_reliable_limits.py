"""Issue 13, items 5–8: no crash on inputs inside the limits, refusal with a figure beyond them,
costs that do not grow with what does not matter, progress on long runs."""

from __future__ import annotations

import json

import pytest

from symstride import Conv, destride
from symstride.cli import main


def _check(tmp_path, doc, capsys):
    path = tmp_path / "map.json"
    path.write_text(json.dumps(doc))
    status = main(["check", "--mapping", str(path)])
    return (status, *capsys.readouterr())


# -- item 5 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tap", [[3], [10**30], [-1]])
def test_a_tap_outside_the_kernel_is_a_wrong_map_not_an_internal_error(tmp_path, capsys, tap):
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    doc["taps"][2]["tap"] = tap
    status, out, err = _check(tmp_path, doc, capsys)
    assert status == 1 and err == ""
    assert f"WRONG at tap {tap} — tap {tap} is outside the kernel [3]" in out


def test_derive_with_a_huge_padding_refuses_in_one_line(capsys):
    status = main(["derive", "--kernel", "3", "--stride", "2", "--padding", str(10**30), "--format", "latex"])
    _, err = capsys.readouterr()
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "int64" in err or "limit" in err


@pytest.mark.parametrize("sizes, message", [
    ([], "sizes must be a non-empty list of positive integers, got []"),
    ([0], "sizes must be positive input lengths (N ≥ 1), got 0"),
    ([-3], "sizes must be positive input lengths (N ≥ 1), got -3"),
])
def test_identity_with_empty_or_non_positive_sizes_is_refused_not_an_index_error(sizes, message):
    from symstride import D, identity
    from symstride.core.errors import SymstrideError

    with pytest.raises(SymstrideError) as info:
        identity(D(2) * Conv(kernel=3), Conv(kernel=3, stride=2), sizes=sizes).check()
    assert str(info.value) == message


# -- item 6: memory estimated before allocating, refused with the figure --------------------------------
@pytest.mark.parametrize("layer, layout", [
    (Conv(kernel=3, stride=2, in_channels=4, out_channels=6, groups=2), "pytorch"),
    (Conv(kernel=(3, 2), stride=(2, 3), dilation=(1, 2), in_channels=3, out_channels=2), "tf"),
])
def test_phase_filter_index_is_the_bank_slice_without_building_the_bank(layer, layout):
    import numpy as np

    eq = destride(layer, layout=layout)
    cin_g = layer.spec.in_channels // layer.spec.groups
    for o in range(layer.spec.out_channels):
        for c in range(cin_g):
            for r in eq.phase_vectors:
                assert np.array_equal(eq.phase_filter_index(r, o, c), eq.weight_index[o, eq.phase_channel(r, o, c)])


def test_transposed_phase_filter_index_is_the_bank_slice():
    import numpy as np

    from symstride import ConvTranspose

    eq = destride(ConvTranspose(kernel=3, stride=2, in_channels=4, out_channels=6, groups=2))
    for o in range(6):
        for c in range(2):
            for r in eq.phase_vectors:
                assert np.array_equal(eq.phase_filter_index(r, o, c), eq.weight_index[eq.phase_channel(r, o, c), c])


def test_derive_with_many_channels_does_not_build_the_bank(capsys):
    assert main(["derive", "--kernel", "1", "--stride", "2", "--in-channels", "21000", "--out-channels", "21000"]) == 0
    assert "21000→21000" in capsys.readouterr().out


def test_a_bank_too_large_to_build_is_refused_with_the_figure(capsys):
    status = main(["derive", "--kernel", "1", "--stride", "2", "--in-channels", "21000", "--out-channels", "21000",
                   "--format", "npz", "-o", "/dev/null"])
    err = capsys.readouterr().err
    assert status == 2 and "needs about 10.6 GB; symstride builds indices of at most 2 GB" in err


@pytest.mark.parametrize("fmt", ["text", "json", "python", "npz", "formula", "latex"])
def test_too_many_weights_are_refused_up_front_with_the_memory_figure(capsys, fmt):
    status = main(["derive", "--kernel", "3", "--stride", "2", "--in-channels", "30000", "--out-channels", "30000",
                   "--format", fmt, "-o", "/dev/null"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert "2700000000 weights" in err and "21.6 GB in float64" in err and "at most 1000000000 (8 GB)" in err, err


@pytest.mark.parametrize("size, padding, figure", [([16, 16], 100000, "160.0 GB"), ([10**9], 1, "24.0 GB")])
def test_network_requests_beyond_memory_are_refused_with_the_figure(tmp_path, capsys, size, padding, figure):
    spec = {"input": {"channels": 1, "size": size},
            "layers": [{"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": padding}]}
    path = tmp_path / "net.json"
    path.write_text(json.dumps(spec))
    status = main(["network", str(path)])
    err = capsys.readouterr().err
    assert status == 2 and f"needs about {figure}" in err and "at most 2 GB" in err, err


# -- item 8: the book shows progress on a terminal and creates nothing for an unknown chapter ---------
def test_book_with_an_unknown_chapter_creates_no_directory(tmp_path, capsys):
    target = tmp_path / "out"
    assert main(["book", "--only", "nosuch", "-o", str(target), "--no-pdf"]) == 2
    assert "no chapter named 'nosuch'" in capsys.readouterr().err and not target.exists()


class _Terminal:
    def __init__(self):
        self.lines = []

    def isatty(self):
        return True

    def write(self, text):
        self.lines.append(text)

    def flush(self):
        pass


def test_book_reports_each_chapter_on_a_terminal_and_is_quiet_when_piped(tmp_path, capsys, monkeypatch):
    from symstride.book import contents

    first = contents()[0][0]
    assert main(["book", "--only", first, "-o", str(tmp_path / "piped"), "--no-pdf"]) == 0
    assert capsys.readouterr().err == ""
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["book", "--only", first, "-o", str(tmp_path / "tty"), "--no-pdf"]) == 0
    text = "".join(terminal.lines)
    assert f"symstride book: [1/2] {first}: " in text and "symstride book: [2/2] book: all chapters" in text


# -- item 7: the derivation check does not grow with channel counts ----------------------------------
def test_derivation_check_of_a_wide_layer_is_that_of_its_two_channel_twin():
    wide = destride(Conv(kernel=(3, 3), stride=2, padding=1, in_channels=256, out_channels=256)).derivation
    twin = destride(Conv(kernel=(3, 3), stride=2, padding=1, in_channels=2, out_channels=2)).derivation
    report = wide.check()
    assert report.ok and report.outputs == twin.check().outputs  # not 128× more output channels
    assert "checked on the same layer with 2→2 channels (groups=1) standing for 256→256 (groups=1)" in report.grid


def test_grouped_wide_layer_keeps_two_groups_in_its_twin():
    from symstride.layer.equivalence import channel_twin

    eq = destride(Conv(kernel=3, stride=2, in_channels=96, out_channels=64, groups=8), layout="pytorch")
    twin = channel_twin(eq)
    assert (twin.spec.in_channels, twin.spec.out_channels, twin.groups) == (4, 4, 2)


def test_a_changed_line_of_a_wide_derivation_is_checked_itself_not_by_the_twin():
    import sympy as sp

    wide = destride(Conv(kernel=3, stride=2, in_channels=64, out_channels=64)).derivation
    broken = wide.with_step(len(wide.steps) - 1, wide.steps[-1].expr * 2)
    report = broken.check()
    assert not report.ok and report.failed_step == len(wide.steps) - 1 and "standing for" not in report.grid
    assert isinstance(broken.steps[-1].expr, sp.Basic)


# -- item 6: the tap map and its JSON are vectorised ---------------------------------------------------
@pytest.mark.parametrize("layer", [
    Conv(kernel=3, stride=2),
    Conv(kernel=(5, 3), stride=(2, 3), dilation=(2, 1), padding=(1, (0, 2)), in_channels=4, out_channels=2, groups=2),
    Conv(kernel=(2, 2, 3), stride=2),
])
def test_vectorised_json_is_the_json_of_the_document(layer):
    from symstride.render.json_text import json_text
    from symstride.layer.tap_json import equivalence_json

    for layout in ("pytorch", "tf") if layer.spec.groups == 1 else ("pytorch",):
        eq = destride(layer, layout=layout)
        assert equivalence_json(eq) == json_text(eq.to_json())


def test_vectorised_json_of_transposed_maps_matches_and_chunks_join(monkeypatch):
    from symstride import ConvTranspose
    from symstride.layer import tap_json
    from symstride.render.json_text import json_text

    monkeypatch.setattr(tap_json, "CHUNK_TAPS", 4)  # several chunks
    for layer in (ConvTranspose(kernel=(4, 3), stride=2, padding=1, output_padding=1), Conv(kernel=(3, 4), stride=2)):
        eq = destride(layer)
        assert tap_json.equivalence_json(eq) == json_text(eq.to_json())


def test_a_large_kernel_builds_no_tap_objects():
    eq = destride(Conv(kernel=(400, 400), stride=2))
    m, r, j = eq.tap_arrays
    assert m.shape == (2, 160000) and "taps" not in eq.__dict__ and eq.live_phases == [(0, 0), (0, 1), (1, 0), (1, 1)]
