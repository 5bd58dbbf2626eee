"""The onnxruntime check speaks symstride's result protocol (also registered in
tests/test_report_protocol.py): its failure names the output, its text lists every output."""

from __future__ import annotations

import json

from symstride.onnx.check import OnnxCheck, OutputDifference

GOOD = OnnxCheck((OutputDifference("logits_1", 2.5e-6, 3.0, 1e-4),), seed=7, input_shapes={"x": (1, 3, 8, 8)})
BAD = OnnxCheck((OutputDifference("logits_1", 2.5e-6, 3.0, 1e-4), OutputDifference("feat%&#", 0.5, 1.0, 1e-4)), seed=7)


def test_failure_names_the_output():
    assert GOOD.ok and GOOD.failure is None and GOOD.proved is False
    assert not BAD.ok
    assert BAD.failure == ("output 'feat%&#' differs: max abs difference 0.5 is 0.5 of the largest original value 1, "
                           "above the tolerance 0.0001")


def test_text_json_and_latex():
    assert repr(GOOD) == "OnnxCheck(ok: 1 output(s) agree in onnxruntime (CPU, one thread, seed 7): max abs difference 2.5e-06)"
    assert str(BAD).splitlines()[1:3] == ["  logits_1: max |Δ| = 2.5e-06, relative 8.33e-07 (tolerance 0.0001) ok",
                                          "  feat%&#: max |Δ| = 0.5, relative 0.5 (tolerance 0.0001) FAILED"]
    doc = json.loads(json.dumps(GOOD.to_json()))
    assert doc["kind"] == "OnnxCheck" and doc["ok"] is True and doc["proved"] is False and doc["inputs"] == {"x": [1, 3, 8, 8]}
    assert r"feat\%\&\#" in BAD._repr_latex_() and r"\text{FAILED}" in BAD._repr_latex_()
