"""User identities between operator expressions, and the mapping checker (``symstride check``)."""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp

from symstride import Conv, D, SpaceToDepth, destride
from symstride.cli import main
from symstride import Bank, identity
from symstride.layer.mapping import check_mapping
from symstride.algebra.resampling import DepthToSpace, Pointwise

w = sp.IndexedBase("w")

# ---------------------------------------------------------------------------------------------
# identities
# ---------------------------------------------------------------------------------------------

TRUE = [
    (D(2) * D(3), D(6)),
    (Conv(kernel=3, stride=2), D(2) * Conv(kernel=3)),
    (Conv(kernel=(3, 3), stride=2, padding=1), D((2, 2)) * Conv(kernel=(3, 3), padding=1)),
    (Conv(kernel=3, stride=2), Bank([[[w[0], w[2]], [w[1], 0]]]) * SpaceToDepth(2)),
    (D(2) * Conv(kernel=3, dilation=2), Conv(kernel=3) * D(2)),  # the noble identity
    (D(2) * Pointwise("relu"), Pointwise("relu") * D(2)),
    (SpaceToDepth(2) * Pointwise(), Pointwise() * SpaceToDepth(2)),
    (DepthToSpace(2) * SpaceToDepth(2), D(1)),
    (SpaceToDepth(2) * DepthToSpace(2), D(1)),
]


@pytest.mark.parametrize("lhs, rhs", TRUE, ids=lambda op: repr(op))
def test_true_identities_are_proved(lhs, rhs):
    result = identity(lhs, rhs).check()
    assert result.proved and result.counterexample is None
    assert result.max_error is not None and result.max_error < 1e-12


FALSE = [
    (D(2) * D(3), D(5), "at input size N = 6: the left side has output shape 1 channel × 1, the right side 1 channel × 2"),
    (D(2) * D(2), D(4, offset=1), "at input size N = 2, output y[0, 0]: the left side is x[0, 0], the right side is x[0, 1]"),
    (Conv(kernel=3, stride=2), D(2, offset=1) * Conv(kernel=3), "at input size N = 4, output y[0, 0]: the left side is w[0]·x[0, 0] + w[1]·x[0, 1] + w[2]·x[0, 2], the right side is w[0]·x[0, 1] + w[1]·x[0, 2] + w[2]·x[0, 3]"),
    (Conv(kernel=3, stride=2), Bank([[[w[0], w[2]], [0, w[1]]]]) * SpaceToDepth(2), "at input size N = 4, output y[0, 0]: the left side is w[0]·x[0, 0] + w[1]·x[0, 1] + w[2]·x[0, 2], the right side is w[0]·x[0, 0] + w[1]·x[0, 3] + w[2]·x[0, 2]"),
    (Conv(kernel=2) * Pointwise("relu"), Pointwise("relu") * Conv(kernel=2), "at input size N = 2, output y[0, 0]: the left side is relu(x[0, 0])·w[0] + relu(x[0, 1])·w[1], the right side is relu(w[0]·x[0, 0] + w[1]·x[0, 1])"),
    (DepthToSpace(2) * SpaceToDepth(2, layout="tf"), D(1), None),
]


@pytest.mark.parametrize("lhs, rhs, says", FALSE, ids=lambda op: repr(op) if not isinstance(op, str) else "")
def test_false_identities_are_refuted_with_a_counterexample(lhs, rhs, says):
    result = identity(lhs, rhs, channels=2 if isinstance(rhs, D) and rhs == D(1) else None).check()
    assert not result.proved
    if says is not None:
        assert str(result.counterexample) == says
    assert "REFUTED" in str(result) and "counterexample:" in str(result)


def test_identities_reject_mismatched_expressions():
    with pytest.raises(ValueError, match="the two sides act on inputs with different channel counts"):
        identity(Conv(kernel=3, in_channels=2), Conv(kernel=3))
    with pytest.raises(TypeError, match="identity expects symstride operators"):
        identity(D(2), "D(2)")
    with pytest.raises(ValueError, match="mix operators with"):
        identity(D((2, 2)), D((2, 2, 2)))


def test_identity_results_render(tmp_path):
    from symstride.render.pdf import compile_pdf
    from symstride.render.templates import render_template

    result = identity(Conv(kernel=3, stride=2), Bank([[[w[0], w[2]], [0, w[1]]]]) * SpaceToDepth(2)).check()
    assert result._repr_latex_().startswith("$\\displaystyle")
    tex = render_template("document.tex", title="identity", body=result.latex())
    assert "\\textbf{refuted}" in tex
    assert compile_pdf(tex, tmp_path / "id.pdf").exists()


# ---------------------------------------------------------------------------------------------
# the mapping checker
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def doc2():
    return destride(Conv(kernel=(3, 3), stride=2, padding=1)).to_json()


def _entry(doc, tap):
    return next(e for e in doc["taps"] if e["tap"] == tap)


def corrupt_offset(doc):
    _entry(doc, [2, 2])["offset"] = [0, 1]  # a free slot: decided by the index analysis
    return [2, 2]


def corrupt_offset_collision(doc):
    _entry(doc, [0, 0])["offset"] = [0, 1]  # where tap [0, 2] is: the wrong entry is named
    return [0, 0]


def corrupt_phase(doc):
    _entry(doc, [1, 1])["phase"] = [1, 0]
    return [1, 1]


def corrupt_tap(doc):
    _entry(doc, [2, 1])["tap"] = [2, 0]  # tap [2, 1] is lost, [2, 0] listed twice
    return [2, 1]


def corrupt_missing(doc):
    doc["taps"].remove(_entry(doc, [1, 2]))
    return [1, 2]


def corrupt_duplicate(doc):
    doc["taps"].append(dict(_entry(doc, [0, 1])))
    return [0, 1]


@pytest.mark.parametrize(
    "corrupt", [corrupt_offset, corrupt_offset_collision, corrupt_phase, corrupt_tap, corrupt_missing, corrupt_duplicate]
)
def test_every_kind_of_corruption_is_caught_naming_the_tap(doc2, corrupt):
    assert check_mapping(doc2).correct
    tap = corrupt(doc2)
    report = check_mapping(doc2)
    assert not report.correct and report.tap == tap
    assert f"WRONG at tap {tap}" in str(report)
    assert "output y[" in report.reason  # a concrete counterexample


def test_mappings_of_other_layouts_and_layers_check(doc2):
    for layer, layout in [(Conv(kernel=5, stride=3, dilation=2, padding=(1, 2)), "pytorch"), (Conv(kernel=(3, 3), stride=2, in_channels=2), "tf")]:
        assert check_mapping(destride(layer, layout=layout).to_json()).correct
    doc2["layout"] = "tf"
    doc2.pop("channel_order")  # a stated channel order must match the layout (tests/test_reliable_exact.py)
    assert check_mapping(doc2).correct  # one channel: both orders coincide


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("taps"), "the mapping has no 'taps' entry"),
        (lambda d: d.update(kernel="3"), "kernel must be a list of integers"),
        (lambda d: d.update(stride=[2, 2, 2]), "stride must have 2 entries"),
        (lambda d: d["taps"].append({"tap": [0, 0]}), r"taps\[9\] must be an object with tap, phase and offset"),
        (lambda d: d.update(layout="nchw"), "unknown layout 'nchw'"),
        (lambda d: d["taps"][0].update(phase=[0.5, 0]), "must be an integer"),
    ],
)
def test_malformed_mappings_are_value_errors(doc2, change, message):
    change(doc2)
    with pytest.raises(ValueError, match=message):
        check_mapping(doc2)


def test_check_mapping_cli_exit_codes(capsys, tmp_path, doc2):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc2))
    assert main(["check", "--mapping", str(good)]) == 0
    assert "CORRECT" in capsys.readouterr().out
    corrupt_phase(doc2)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc2))
    assert main(["check", "--mapping", str(bad)]) == 1
    assert "WRONG at tap [1, 1]" in capsys.readouterr().out
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["check", "--mapping", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symstride check: error: ") and err.count("\n") == 1 and "is not valid JSON" in err
    assert main(["check", "--mapping", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_derive_json_round_trips_through_check(capsys, tmp_path):
    out = tmp_path / "map.json"
    assert main(["derive", "--kernel", "7,7", "--stride", "2", "--padding", "3", "--in-channels", "3", "--format", "json", "-o", str(out)]) == 0
    assert main(["check", "--mapping", str(out)]) == 0


def test_bank_entries_are_never_parsed_from_strings():
    import pytest

    with pytest.raises(TypeError, match="filter-bank entry 1 must be a SymPy expression or a number, got 'w\\[2\\]'"):
        Bank([[[1, "w[2]"]]], stride=2)


def _derived_map(**changes):
    from symstride import Conv, destride

    doc = destride(Conv(kernel=(3, 3), stride=2, padding=1)).to_json()
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("equivalent_kernel", [7, 7], r"equivalent_kernel \[7, 7\] is not k' = floor\(δ\(k−1\)/s\) \+ 1 = \[2, 2\]"),
        ("phases", 2, r"phases 2 is not P = Π s = 4"),
        ("structural_zeros", 3, r"structural_zeros 3 is not P·Π k' − Π k = 7"),
    ],
)
def test_mapping_with_inconsistent_derived_sizes_is_wrong(field, value, message):
    report = check_mapping(_derived_map(**{field: value}))
    assert not report.correct and report.tap is None
    assert re.search(message, str(report))


def test_mapping_padding_must_not_be_a_string():
    with pytest.raises(ValueError, match="padding must be an integer or a list .* got 'NaN'"):
        check_mapping(_derived_map(padding="NaN"))


def test_mapping_is_checked_on_every_size_residue():
    doc = destride(Conv(kernel=(3, 3), stride=3, padding=1)).to_json()
    report = check_mapping(doc)
    assert report.correct and len(report.sizes) == 3
    assert {size[0] % 3 for size in report.sizes} == {0, 1, 2}
