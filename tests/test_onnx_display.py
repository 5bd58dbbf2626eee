"""The onnxruntime check's displays: one-line repr, readable str, JSON, and its Jupyter LaTeX
(golden, KaTeX-safe, compiled with pdflatex; output names with LaTeX specials are escaped)."""

from __future__ import annotations

import json

from symstride.onnx.check import OnnxCheck, OutputDifference
from symstride.render.pdf import compile_pdf
from tests.test_latex import golden

CHECK = OnnxCheck((OutputDifference("logits_1", 2.5e-6, 3.0, 1e-4), OutputDifference("feat%&#", 0.5, 1.0, 1e-4)), seed=7,
                  input_shapes={"x": (1, 3, 8, 8)})


def test_protocol():
    assert not CHECK.ok and CHECK.proved is False
    assert CHECK.failure == "output 'feat%&#' differs: max |Δ| = 0.5 is 0.5 of max |original| = 1, above the tolerance 0.0001"
    assert repr(CHECK) == "OnnxCheck(DIFFER: max |Δ| = 0.5 over 2 output(s), seed 7)"
    assert str(CHECK).splitlines()[1] == "  logits_1: max |Δ| = 2.5e-06, relative 8.33e-07 (tolerance 0.0001) ok"
    doc = json.loads(json.dumps(CHECK.to_json()))
    assert doc["ok"] is False and doc["proved"] is False and doc["failure"] == CHECK.failure and doc["inputs"] == {"x": [1, 3, 8, 8]}


def test_jupyter_display_golden_and_compiles(tmp_path):
    tex = CHECK._repr_latex_()
    assert tex.startswith("$\\displaystyle") and tex.endswith("$") and "align" not in tex
    golden("onnx-check.inline.tex", tex + "\n")
    document = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + tex + "\n\\end{document}\n"
    assert compile_pdf(document, tmp_path / "check.pdf").read_bytes().startswith(b"%PDF")
