"""Every result object speaks one protocol: ``.ok``, ``.failure``, ``.to_json()``, a one-line
``repr``, a readable ``str`` and ``_repr_latex_`` (and ``.proved`` where a proof is meant).

``EXAMPLES`` is the registry: for every subclass of :class:`symstride.core.results.Result` a
function building one result that holds and one that fails.  A new result class must add its
entry here — ``test_every_result_class_has_examples`` fails naming the classes without one.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import shutil
import subprocess
from dataclasses import replace

import pytest

import symstride
from symstride import Conv, destride
from symstride.core.indexing import tap_map
from symstride.core.params import ConvSpec
from symstride.core.results import RESULT_CLASSES
from symstride.core.verify import verify_taps
from symstride.layer.mapping import check_mapping
from symstride.network.strided import Network
from symstride.network.verify import verify_network


def verify_report_examples():
    spec = ConvSpec.create(kernel=3, stride=2, padding=1)
    taps = tap_map(spec)
    return verify_taps(spec, taps, 8), verify_taps(spec, [taps[0], taps[1]._replace(offset=(1,)), taps[2]], 8)


def mapping_report_examples():
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    good = check_mapping(doc)
    doc["taps"][2]["offset"] = [0]
    return good, check_mapping(doc)


def _network_results():
    conv = dict(type="conv", kernel=3, stride=2, padding=1)
    layers = [dict(conv, out_channels=2), dict(type="relu"), dict(conv, out_channels=1)]
    eq = Network.from_spec(dict(input=dict(channels=1, size=[9]), layers=layers)).destride()
    broken = replace(eq, ops=eq.ops[:2] + (replace(eq.ops[2], mask=None),))
    return verify_network(eq), verify_network(broken)


def network_verification_examples():
    return _network_results()


def check_examples():
    good, bad = _network_results()
    return good.checks[0], bad.first_failure


def decoder_verification_examples():
    from symstride.decoder import destride_decoder

    spec = {"input": {"channels": 2, "size": [5]}, "layers": [  # N 5 → 9: a junk sample the second layer reads
        {"type": "conv_transpose", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1}, {"type": "relu"},
        {"type": "conv_transpose", "out_channels": 4, "kernel": 5, "stride": 3, "padding": 2, "output_padding": 1, "groups": 2},
        {"type": "conv_transpose", "out_channels": 1, "kernel": 4, "stride": 2, "padding": 1, "dilation": 2, "output_padding": 1}]}
    never = destride_decoder(spec, masks="never")
    return destride_decoder(spec).verify(), never.verify()


def identity_result_examples():
    from symstride import D, identity

    return identity(D(2) * D(3), D(6)).check(), identity(D(13), D(14)).check()


def book_result_examples():
    from pathlib import Path

    from symstride.book import BookResult

    files = [Path("book/polyphase.tex"), Path("book/book.tex")]
    return BookResult(files, []), BookResult(files, ["polyphase"])


def onnx_check_examples():
    from symstride.onnx.check import OnnxCheck, OutputDifference

    good = OnnxCheck((OutputDifference("y", 1e-7, 1.0, 1e-4),), seed=0)
    return good, OnnxCheck((OutputDifference("y_1", 0.5, 1.0, 1e-4),), seed=0)


def _derivation_reports():
    d = destride(Conv(kernel=3, stride=2)).derivation
    forged = d.with_step(3, d.steps[3].expr.subs(2, 3))  # the reindexed line with stride 3: not an instance
    return d.check(), forged.check()


def check_report_examples():
    return _derivation_reports()


def step_report_examples():
    good, bad = _derivation_reports()
    return good.steps[3], bad.steps[3]


#: class name → function returning (a result that holds, a result that fails).
EXAMPLES = {
    "IdentityResult": identity_result_examples,
    "BookResult": book_result_examples,
    "DecoderVerification": decoder_verification_examples,
    "VerifyReport": verify_report_examples,
    "MappingReport": mapping_report_examples,
    "NetworkVerification": network_verification_examples,
    "Check": check_examples,
    "OnnxCheck": onnx_check_examples,
    "CheckReport": check_report_examples,
    "StepReport": step_report_examples,
}


def _import_everything() -> None:
    for info in pkgutil.walk_packages(symstride.__path__, "symstride."):
        if info.name.startswith("symstride.torch") or info.name == "symstride.__main__":
            continue  # optional (torch); their result classes, if any, register when imported
        importlib.import_module(info.name)


def test_every_result_class_has_examples():
    _import_everything()
    import sys

    # classes of the package only: a class made inside a doctest (core/results.py's Parity) is no module's attribute
    defined = {cls.__name__ for cls in RESULT_CLASSES if getattr(sys.modules.get(cls.__module__), cls.__name__, None) is cls}
    missing = sorted(defined - set(EXAMPLES))
    assert not missing, f"result classes without an entry in EXAMPLES of tests/test_report_protocol.py: {missing}"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_result_speaks_the_protocol(name):
    good, bad = EXAMPLES[name]()
    assert type(good).__name__ == type(bad).__name__ == name
    for result, ok in ((good, True), (bad, False)):
        assert result.ok is ok and bool(result) is ok
        assert (result.failure is None) is ok
        if not ok:
            assert isinstance(result.failure, str) and result.failure.strip()
        doc = result.to_json()
        assert doc["ok"] is ok and doc["failure"] == result.failure and doc["kind"] == name
        if hasattr(type(result), "proved"):
            assert isinstance(doc["proved"], bool) and not (doc["proved"] and not ok)
        json.dumps(doc)  # JSON-able
        text = repr(result)
        assert "\n" not in text and text.startswith(f"{name}(") and ("ok" if ok else "FAILED") in text
        assert str(result).strip() and str(result) != text
        latex = result._repr_latex_()
        assert latex.startswith("$") and latex.endswith("$") and "\n" not in latex.strip()


def test_a_failure_shows_in_repr_json_and_latex():
    _, bad = verify_report_examples()
    assert "tap [1]" in bad.failure and "tap [1]" in repr(bad)
    assert bad.to_json()["mismatch"]["tap"] == [1]
    assert r"\text{FAILED}" in bad._repr_latex_()


def test_latex_of_every_example_compiles(tmp_path):
    body = "\n\n".join(r._repr_latex_() for make in EXAMPLES.values() for r in make())
    (tmp_path / "results.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath,amssymb}\n"
        "\\DeclareUnicodeCharacter{2192}{\\ensuremath{\\to}}\n\\DeclareUnicodeCharacter{00D7}{\\ensuremath{\\times}}\n"
        "\\DeclareUnicodeCharacter{2212}{\\ensuremath{-}}\n\\DeclareUnicodeCharacter{2014}{---}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )
    assert shutil.which("pdflatex"), "pdflatex is required by the test environment"
    run = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "results.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
