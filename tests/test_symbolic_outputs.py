"""Symbolic layers in text, LaTeX (compiled with pdflatex) and JSON, and on the command line.

The CLI parses each parameter value as a decimal integer or an identifier (never evaluated);
the identifier becomes a SymPy integer symbol with the assumption of its parameter.  Anything
else, a reserved name, ``--size`` or an export that needs numbers: one line on stderr, status 2.
"""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp

from symstride import Conv, destride
from symstride.cli import main
from symstride.export import formula_text, npz_bytes, python_module
from symstride.render.pdf import compile_pdf
from symstride.core.symbolic_params import ConcreteValuesNeeded

POS = {"integer": True, "positive": True}
k, s, d = sp.symbols("k s delta", **POS)
p = sp.Symbol("p", integer=True, nonnegative=True)


def run(capsys, *argv):
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture(scope="module")
def eq2d():
    return destride(Conv(kernel=(k, 3), stride=(s, 2), dilation=d, padding=p))


def test_text_names_the_symbols_and_the_formula(eq2d):
    text = str(eq2d)
    assert text.startswith("Theorem 2: a strided convolution is a unit-stride convolution over P = 2*s phases")
    assert "symbols     k (kernel), s (stride), delta (dilation), p (padding)" in text
    assert "k' = floor(δ(k−1)/s) + 1 = floor(delta*(k - 1)/s) + 1, delta + 1 per axis" in text
    assert "formula  W'[2*r_1 + r_2, j_1, j_2] = w[(j_1*s + r_1)/delta, (2*j_2 + r_2)/delta] if " in text
    assert "m=(m_1,m_2) → r=(Mod(delta*m_1, s),Mod(delta*m_2, 2))" in text


def test_json_has_symbols_with_assumptions_and_expressions_as_strings(eq2d):
    doc = json.loads(json.dumps(eq2d.to_json()))
    assert doc["symbols"] == [
        {"name": "k", "assumptions": {"integer": True, "positive": True, "nonnegative": True}, "parameters": ["kernel"]},
        {"name": "s", "assumptions": {"integer": True, "positive": True, "nonnegative": True}, "parameters": ["stride"]},
        {"name": "delta", "assumptions": {"integer": True, "positive": True, "nonnegative": True}, "parameters": ["dilation"]},
        {"name": "p", "assumptions": {"integer": True, "nonnegative": True}, "parameters": ["padding"]},
    ]
    assert doc["kernel"] == ["k", 3] and doc["stride"] == ["s", 2] and doc["padding"] == [["p", "p"], ["p", "p"]]
    assert doc["phases"] == "2*s" and doc["equivalent_in_channels"] == "2*s"
    assert doc["equivalent_kernel"] == ["floor(delta*(k - 1)/s) + 1", "delta + 1"]
    # the strings are SymPy expressions in the symbols: they read back (in the test, with the known symbols)
    names = {"k": k, "s": s, "delta": d, "p": p}
    assert sp.sympify(doc["equivalent_kernel"][0], locals=names) == eq2d.kernel[0]
    assert sp.sympify(doc["structural_zeros"], locals=names) == eq2d.structural_zeros
    assert doc["formula"]["sympy"] == str(eq2d.formula)


def test_latex_displays_and_documents_compile(eq2d, tmp_path):
    inline = eq2d._repr_latex_()
    assert inline.startswith(r"$\displaystyle ") and inline.endswith("$")
    assert r"\delta" in inline and r"P = 2 s" in inline and not re.search(r"(?<!\\)delta", inline)  # δ, never the name
    assert r"\operatorname{Conv}_{s=(s,2)}^{k=(k,3),\,p=p,\,\delta=\delta}" in Conv(kernel=(k, 3), stride=(s, 2), dilation=d, padding=p)._repr_latex_()
    fragment = eq2d.latex()
    # a theorem when the checker proves it for all values, else a claim that says "checked, not proved"
    # (z3 may time out on this layer's nonlinear 2-D obligations)
    head = r"\begin{named}{Theorem 2}" if eq2d.derivation.check().proved else r"\paragraph{Claim Theorem 2, stride removal --- checked, not proved.}"
    assert fragment.startswith(head), fragment[:200]
    assert r"$k$, $s$, $\delta$, $p$" in fragment and "?" not in fragment
    proved = destride(Conv(kernel=k, stride=s, padding=p)).latex()
    assert proved.startswith("\\begin{named}{Theorem 2}{stride removal; see \\cite{vaidyanathan1993,kong2017}}\n"
                             r"For all values of the integer symbols $k$, $s$, $p$")
    pdf = compile_pdf(eq2d.document(), tmp_path / "symbolic.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_exports_that_need_numbers_ask_for_values(eq2d):
    for export in (python_module, npz_bytes):
        with pytest.raises(ConcreteValuesNeeded, match=r"needs concrete parameters: the layer has symbols k, s, delta, p; call \.subs"):
            export(eq2d)
    assert r"0 \le r_{1} < s" in formula_text(eq2d)  # the formula alone needs no numbers


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_cli_text_json_latex_with_names(capsys, tmp_path):
    status, out, err = run(capsys, "derive", "--kernel", "k", "--stride", "s")
    assert status == 0 and err == "" and "P = s phases" in out and "floor((k - 1)/s) + 1" in out
    status, out, err = run(capsys, "derive", "--kernel", "k,3", "--stride", "s,2", "--dilation", "delta", "--padding", "p", "--format", "json")
    doc = json.loads(out)
    assert status == 0 and [x["name"] for x in doc["symbols"]] == ["k", "s", "delta", "p"]
    assert doc["symbols"][3]["assumptions"] == {"integer": True, "nonnegative": True}
    status, out, err = run(capsys, "derive", "--kernel", "k", "--stride", "s", "--dilation", "delta", "--format", "latex")
    assert status == 0 and r"\delta" in out and out.startswith(r"\documentclass")
    pdf = tmp_path / "derive.pdf"
    status, out, err = run(capsys, "derive", "--kernel", "k", "--stride", "s", "--padding", "0:p", "--format", "latex", "-o", str(pdf))
    assert status == 0 and err == "" and pdf.read_bytes().startswith(b"%PDF")


def test_cli_one_name_is_one_symbol_with_the_strongest_assumption(capsys):
    status, out, _ = run(capsys, "derive", "--kernel", "k", "--padding", "k", "--stride", "2", "--format", "json")
    doc = json.loads(out)
    assert status == 0 and doc["symbols"] == [{"name": "k", "assumptions": {"integer": True, "positive": True, "nonnegative": True},
                                               "parameters": ["kernel", "padding"]}]


def test_cli_names_are_never_evaluated(capsys):
    """Names that mean something to Python are just symbols; expressions are refused by the parser."""
    status, out, err = run(capsys, "derive", "--kernel", "exit", "--stride", "os", "--format", "json")
    assert status == 0 and err == "" and json.loads(out)["kernel"] == ["exit"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--kernel", "2*k"], r"argument --kernel: value must be an integer or a comma-separated list of integers, got '2\*k'"),
        (["--kernel", "__import__('os')"], r"argument --kernel: value must be an integer"),
        (["--stride", "s+1"], r"argument --stride: value must be an integer .* got 's\+1'"),
        (["--dilation", "δ"], r"argument --dilation: value must be an integer .* got 'δ'"),
        (["--kernel", "٣"], r"argument --kernel: value must be an integer .* got '٣'"),
        (["--kernel", "_k"], r"argument --kernel: value must be an integer .* got '_k'"),
        (["--padding", "p:q:r"], r"argument --padding: padding must be an integer .* got 'q:r'"),
        (["--kernel", "n"], r"kernel symbol n clashes with an index or signal name"),
        (["--kernel", "k", "--size", "9"], r"--size needs concrete parameters: the layer has symbols k; give numbers for them"),
        (["--kernel", "k", "--format", "python"], r"the Python export needs concrete parameters: the layer has symbols k"),
        (["--kernel", "k", "--format", "npz", "-o", "/tmp/symstride-never-written.npz"], r"the npz export needs concrete parameters"),
        (["--kernel", "k", "--transposed"], r"symbolic parameters \(k\) are for strided layers, not --transposed"),
    ],
    ids=["product", "call", "sum", "greek-letter", "arabic-digit", "underscore", "padding", "reserved", "size", "python", "npz", "transposed"],
)
def test_cli_bad_symbolic_input_is_one_line_status_2(capsys, argv, message):
    status, out, err = run(capsys, "derive", *argv)
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "Traceback" not in err
    assert re.search(message, lines[0]), lines[0]
