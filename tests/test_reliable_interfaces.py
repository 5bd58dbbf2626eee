"""Issue 13, items 9–13: interfaces users expect."""

from __future__ import annotations

import json
import subprocess

import pytest

from symstride import Conv, ConvTranspose, destride
from symstride.cli import main


# -- item 13: pdflatex runs with a minimal environment ------------------------------------------------
def test_pdflatex_sees_only_path_home_and_tex_variables(monkeypatch, tmp_path):
    from symstride.render import pdf

    seen = {}

    def fake_run(args, **kwargs):
        seen.update(kwargs.get("env") or {"<inherited>": "everything"})
        (tmp_path / "never").write_text("")
        raise subprocess.TimeoutExpired(args, 1)

    monkeypatch.setenv("SECRET_TOKEN", "x")
    monkeypatch.setenv("LD_PRELOAD", "/evil.so")
    monkeypatch.setenv("TEXINPUTS", ".:")
    monkeypatch.setattr(pdf.subprocess, "run", fake_run)
    monkeypatch.setattr(pdf, "pdflatex", lambda: "/usr/bin/pdflatex")
    with pytest.raises(pdf.LatexError):
        pdf.compile_pdf(r"\documentclass{article}\begin{document}x\end{document}", tmp_path / "x.pdf")
    assert set(seen) <= {"PATH", "HOME", "TEXINPUTS"} and "TEXINPUTS" in seen and "PATH" in seen


# -- item 11: one refusal type; keyword-only layer parameters; PyTorch's kernel_size ---------------
def test_symstride_error_is_a_value_error():
    from symstride import SymstrideError

    assert issubclass(SymstrideError, ValueError)


@pytest.mark.parametrize("make", [lambda: Conv(3, 2, 1, 2), lambda: ConvTranspose(3, 2, 1, 1)])
def test_positional_arguments_after_kernel_are_refused(make):
    with pytest.raises(TypeError, match="positional argument"):
        make()


def test_kernel_size_is_an_alias_of_kernel():
    assert Conv(kernel_size=3, stride=2).spec == Conv(kernel=3, stride=2).spec
    assert ConvTranspose(kernel_size=(3, 2), stride=2).spec == ConvTranspose((3, 2), stride=2).spec
    with pytest.raises(TypeError, match="kernel or kernel_size .*not both"):
        Conv(3, kernel_size=3)
    with pytest.raises(TypeError, match="needs a kernel size"):
        ConvTranspose(stride=2)
