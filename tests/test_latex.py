"""LaTeX output: golden fragments, real pdflatex compiles, and the errors users see.

Golden files live in ``tests/golden`` and are compared (and, with ``SYMSTRIDE_UPDATE_GOLDEN=1``,
rewritten) by :func:`tests.golden_files.golden`, their one update path.  Every template is compiled by
``pdflatex -halt-on-error`` in a temporary directory (through :func:`symstride.render.pdf.compile_pdf`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symstride import Conv, destride
from symstride.cli import main
from symstride.layer.channel_orders import ChannelOrders
from symstride.layer.filterbank import FilterBank
from symstride.render.pdf import LatexError, compile_pdf, first_error
from symstride.render.templates import TemplateError, escape, render_template
from symstride.proof.subsampling import subsampling_derivation
from tests.golden_files import golden

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def eq1():
    return destride(Conv(kernel=3, stride=2))


@pytest.fixture(scope="module")
def eq2():
    return destride(Conv(kernel=(3, 3), stride=2, padding=1))


# ---------------------------------------------------------------------------------------------
# golden fragments
# ---------------------------------------------------------------------------------------------


def test_golden_derivation_fragment(eq1):
    golden("derivation-1d-k3-s2.tex", eq1.derivation.latex())


def test_golden_jupyter_displays(eq1, eq2):
    golden("derivation-1d-k3-s2.inline.tex", eq1.derivation._repr_latex_())
    golden("filter-bank-2d.inline.tex", FilterBank(eq2)._repr_latex_())


def test_golden_filter_bank_block_and_figure(eq2):
    golden("filter-bank-2d-k3-s2-p1.tex", FilterBank(eq2).latex_block())


def test_golden_theorem_1_and_channel_orders():
    golden("subsampling-1d-k3-s2.tex", subsampling_derivation(Conv(kernel=3, stride=2)).latex())
    golden("channel-orders.tex", ChannelOrders(Conv(kernel=2, stride=2, in_channels=2)).latex_block())


def test_golden_proof_and_identity():
    import sympy as sp

    from symstride import D, SpaceToDepth
    from symstride import Bank, identity
    from symstride.proof.proofs import prove

    golden("proof-noble-identity.tex", prove("noble-identity").latex())
    w = sp.IndexedBase("w")
    golden("identity-refuted.tex", identity(Conv(kernel=3, stride=2), Bank([[[w[0], w[2]], [0, w[1]]]]) * SpaceToDepth(2)).latex())
    golden("identity-proved.tex", identity(D(2) * D(3), D(6)).latex())


def test_jupyter_output_is_katex_safe(eq1, eq2):
    for out in (eq1.derivation._repr_latex_(), FilterBank(eq2)._repr_latex_(), eq1._repr_latex_(), eq1.derivation.check()._repr_latex_()):
        assert out.startswith("$\\displaystyle") and out.endswith("$")
        assert "align" not in out.replace("aligned", "") and "tikz" not in out and "\\\\[" not in out


def test_the_chain_keeps_the_written_order(eq1):
    tex = eq1.derivation.latex()
    assert r"y[n] &= \sum_{m=0}^{2} {w}_{m} x[2 n + m]" in tex
    assert r"\sum_{j=0}^{\left\lceil{\frac{3 - r}{2}}\right\rceil - 1} {w}_{2 j + r} x[2 \left(n + j\right) + r]" in tex
    assert r"{W'}_{r,j} x_{r}[n + j]" in tex


# ---------------------------------------------------------------------------------------------
# pdflatex
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: destride(Conv(kernel=3, stride=2)).derivation.document(),  # derivation, step, theorem, checks, bank, figure
        lambda: destride(Conv(kernel=(3, 3), stride=2, padding=1, in_channels=2), layout="tf").derivation.document(),  # 2-D figure
        lambda: subsampling_derivation(Conv(kernel=3, stride=2)).document(),  # tensor identity
    ],
    ids=["derivation-1d", "derivation-2d-tf", "theorem-1"],
)
def test_documents_compile_with_pdflatex(make, tmp_path):
    pdf = compile_pdf(make(), tmp_path / "out.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_pdflatex_failure_shows_the_first_error_line_only(tmp_path):
    broken = render_template("document.tex", title="broken", body=r"\undefinedmacro{} and more text")
    with pytest.raises(LatexError) as info:
        compile_pdf(broken, tmp_path / "out.pdf")
    message = str(info.value)
    assert message.startswith("pdflatex failed: Undefined control sequence.")
    assert re.search(r"\(at l\.\d+ \\undefinedmacro\)$", message) and "\n" not in message


def test_first_error_reads_a_log():
    log = "This is pdfTeX\n(./document.tex\n! Missing $ inserted.\n<inserted text>\n l.12 a_b\n"
    assert first_error(log) == "Missing $ inserted."
    log = "x\n! Undefined control sequence.\nl.7 \\foo\n"
    assert first_error(log) == "Undefined control sequence. (at l.7 \\foo)"


# ---------------------------------------------------------------------------------------------
# templates: errors and escaping
# ---------------------------------------------------------------------------------------------


def test_a_missing_variable_names_the_template_and_the_variable():
    with pytest.raises(TemplateError, match=r"template 'theorem.tex': 'theorem_title' is undefined"):
        render_template("theorem.tex", statement_tex="", proof_tex="", proved=True)


def test_an_error_in_an_included_template_names_that_template(eq1):
    d = eq1.derivation
    with pytest.raises(TemplateError, match=r"template 'step.tex' \(rendering 'derivation.tex'\): 'list object' has no attribute|template 'step.tex' \(rendering 'derivation.tex'\)"):
        render_template("derivation.tex", d=d, report=None, notation=d.notation, lines=[[]] * len(d.steps))


def test_an_unknown_template_is_named():
    with pytest.raises(TemplateError, match="no template named 'nope.tex'"):
        render_template("nope.tex")


def test_user_text_is_escaped():
    assert escape("50% of $x1$ & {yz} #2 ~ ^ \\") == r"50\% of \$x1\$ \& \{yz\} \#2 \textasciitilde{} \textasciicircum{} \textbackslash{}"
    assert escape("$x_1$ and snake_case_name") == r"\$\ensuremath{x_{1}}\$ and \texttt{snake\_case\_name}"
    assert escape("δ → φ") == r"\ensuremath{\delta} \ensuremath{\to} \ensuremath{\varphi}"
    tex = render_template("document.tex", title="Stride & dilation: 100% {safe}", body="")
    assert r"\section*{Stride \& dilation: 100\% \{safe\}}" in tex


# ---------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``symstride ARGS`` in this process; return (status, stdout, stderr)."""
    status = main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_derive_latex_prints_a_document_or_a_fragment(capsys):
    status, doc, _ = cli(capsys, "derive", "--kernel", "3", "--stride", "2", "--format", "latex")
    assert status == 0
    assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
    status, frag, _ = cli(capsys, "derive", "--kernel", "3", "--stride", "2", "--format", "latex", "--fragment")
    assert status == 0 and frag.startswith("\\begin{named}{Theorem 2}") and "documentclass" not in frag
    # the same theorem, proof and short check paragraph; the fragment's details follow it, the document's
    # are in its appendix
    statement = frag.split("\\paragraph{Evidence.}")[0]
    details = frag.split("\\paragraph{Evidence in detail.}\n")[1].split("\\end{itemize}")[0]
    assert statement in doc and "Evidence in detail" not in doc
    assert details in doc.split("\\appendix")[1] and details not in doc.split("\\appendix")[0]


def test_derive_latex_writes_a_pdf(capsys, tmp_path):
    out = tmp_path / "d.pdf"
    status, _, err = cli(capsys, "derive", "--kernel", "3,3", "--stride", "2", "--padding", "1", "--format", "latex", "-o", str(out))
    assert status == 0, err
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--format", "json", "-o", "x.pdf"), "-o FILE.pdf needs --format latex without --fragment (a PDF is a whole document)"),
        (("--format", "latex", "--fragment", "-o", "x.pdf"), "-o FILE.pdf needs --format latex without --fragment (a PDF is a whole document)"),
        (("--format", "text", "--fragment"), "--fragment applies to --format latex, not --format text"),
        (("--kernel", "0", "--format", "latex"), "kernel must be a positive integer on every axis, got 0 (axis 0)"),
    ],
)
def test_derive_latex_bad_input_is_one_line_with_status_2(capsys, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = cli(capsys, "derive", *args)
    assert status == 2 and out == ""
    assert err == f"symstride derive: error: {message}\n"
    assert not (tmp_path / "x.pdf").exists()


def test_a_pdf_without_pdflatex_is_a_clear_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    status, _, err = cli(capsys, "derive", "--format", "latex", "-o", str(tmp_path / "x.pdf"))
    assert status == 2
    assert err.startswith("symstride derive: error: pdflatex is not on PATH, so no PDF can be made")


def test_the_package_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "symstride", "derive", "--format", "latex", "--fragment"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0 and "\\begin{proof}" in done.stdout
