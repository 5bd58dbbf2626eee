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


# -- item 12: CLI and input details ------------------------------------------------------------------
def test_version(capsys):
    import symstride

    assert main(["--version"]) == 0 and capsys.readouterr().out.strip() == f"symstride {symstride.__version__}"


@pytest.mark.parametrize("argv, message", [
    (["derive", "--kernal", "3"], "symstride derive: error: unknown option '--kernal' (did you mean --kernel?)"),
    (["check", "map.json", "--mappin", "x"], "symstride check: error: unknown option '--mappin' (did you mean --mapping?)"),
    (["network", "spec.json", "--sise", "8"], "symstride network: error: unknown option '--sise'"),
])
def test_unknown_flags_name_the_subcommand_and_suggest_the_nearest(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_check_takes_the_file_positionally_and_keeps_mapping(tmp_path, capsys):
    path = tmp_path / "map.json"
    path.write_text(json.dumps(destride(Conv(kernel=3, stride=2)).to_json()))
    assert main(["check", str(path)]) == 0 and "CORRECT" in capsys.readouterr().out
    assert main(["check", "--mapping", str(path)]) == 0 and "CORRECT" in capsys.readouterr().out
    assert main(["check", str(path), "--mapping", str(path)]) == 2 and "give the tap map once" in capsys.readouterr().err
    assert main(["check"]) == 2 and "the tap map to check is missing" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["٣", "３", "1_0", "²"])
def test_unicode_digits_and_underscores_are_refused(capsys, value):
    assert main(["derive", "--kernel", value, "--stride", "2"]) == 2
    assert f"got {value!r}" in capsys.readouterr().err


def test_a_spec_with_a_utf8_bom_is_read(tmp_path, capsys):
    doc = {"input": {"channels": 1, "size": [8]}, "layers": [{"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2}]}
    path = tmp_path / "net.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    assert main(["network", str(path)]) == 0
    mapping = tmp_path / "map.json"
    mapping.write_bytes(b"\xef\xbb\xbf" + json.dumps(destride(Conv(kernel=3, stride=2)).to_json()).encode())
    assert main(["check", str(mapping)]) == 0


def test_duplicate_json_keys_are_refused(tmp_path, capsys):
    path = tmp_path / "net.json"
    path.write_text('{"input": {"channels": 1, "size": [8]}, "layers": [{"type": "conv", "out_channels": 1, '
                    '"kernel": 3, "stride": 2, "stride": 1}]}')
    assert main(["network", str(path)]) == 2
    assert "the key 'stride' appears twice" in capsys.readouterr().err
    mapping = tmp_path / "map.json"
    mapping.write_text('{"kernel": [3], "stride": [2], "stride": [1], "taps": []}')
    assert main(["check", str(mapping)]) == 2 and "the key 'stride' appears twice" in capsys.readouterr().err


@pytest.mark.parametrize("value", [{3, 2}, frozenset({1, 2}), {0: 3, 1: 2}])
def test_sets_are_refused_where_order_matters(value):
    with pytest.raises(TypeError, match="order is arbitrary|unordered"):
        Conv(kernel=value, stride=2)
    with pytest.raises(TypeError, match="order is arbitrary|unordered"):
        Conv(kernel=(3, 3), stride=value)


def test_one_structural_zero_is_singular():
    eq = destride(Conv(kernel=3, stride=2))
    assert eq.structural_zeros == 1
    text = str(eq)
    assert "1 structural zero of" in text and "1 structural zeros" not in text
    from symstride.layer.filterbank import FilterBank

    assert "1 structural zero:" in FilterBank(eq).text_block()


# -- item 14: tests that need pdflatex fail with one clear message when it is missing ----------------
def test_the_pdflatex_fixture_fails_clearly_without_pdflatex(pytester, monkeypatch):
    pytester.makeconftest(open(__file__.replace("test_reliable_interfaces.py", "conftest.py"), encoding="utf-8").read())
    pytester.makepyfile(test_needs="def test_compile(pdflatex_path):\n    assert pdflatex_path\n")
    monkeypatch.setenv("PATH", str(pytester.path))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)  # the setup fails, with the message below
    assert "needs pdflatex on PATH, which is missing" in result.stdout.str()
    assert "FileNotFoundError" not in result.stdout.str()


def test_torch_is_in_the_test_extra():
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("torch") for dep in extras["test"])


# -- item 10: repr round-trips; LaTeX keeps the right padding; sympy.latex gives the formula ---------
@pytest.mark.parametrize("layer", [
    Conv(kernel=3, stride=2, padding=[(1, 2)]),
    Conv(kernel=(3, 3), stride=2, padding=(1, 2)),
    Conv(kernel=(3, 3), stride=2),
    Conv(kernel=(3, 2, 3), stride=(1, 2, 1), dilation=2, in_channels=4, out_channels=2, groups=2),
    ConvTranspose(kernel=3, stride=2, padding=[(1, 2)], output_padding=1),
])
def test_repr_is_one_evaluable_line(layer):
    from symstride import Conv as C, ConvTranspose as CT  # noqa: F401  (the names repr uses)

    names = {"Conv": C, "ConvTranspose": CT, "destride": destride}
    for obj in (layer, destride(layer)):
        text = repr(obj)
        assert "\n" not in text
        again = eval(text, names)  # noqa: S307 - our own repr
        assert (again.spec if hasattr(again, "spec") else again) == obj.spec


def test_latex_of_a_layer_keeps_the_right_padding():
    assert r"p=[1,2]" in Conv(kernel=3, stride=2, padding=[(1, 2)])._repr_latex_()
    assert r"p=(1,2)" in Conv(kernel=(3, 3), stride=2, padding=(1, 2))._repr_latex_()  # per axis, symmetric
    assert r"p=[1,2],\,o=1" in ConvTranspose(kernel=3, stride=2, padding=[(1, 2)], output_padding=1)._repr_latex_()


def test_sympy_latex_of_an_equivalence_is_the_formula_not_the_report():
    import sympy

    eq = destride(Conv(kernel=3, stride=2))
    text = sympy.latex(eq)
    assert text.startswith(r"\operatorname{Conv}") and "mathtt" not in text and "Theorem 2" not in text
    assert str(eq).startswith("Theorem 2: a strided convolution")


# -- item 9: an export derived without channel counts takes any channel count --------------------------
def _load(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
def test_python_export_without_channels_works_for_any_channel_count(tmp_path, layout):
    import numpy as np
    import torch

    path = tmp_path / f"m_{layout}.py"
    assert main(["derive", "--kernel", "3,3", "--stride", "2", "--padding", "1", "--layout", layout, "--format", "python", "-o", str(path)]) == 0
    module = _load(path)
    rng = np.random.default_rng(0)
    for cin, cout in ((16, 32), (1, 1), (3, 5)):
        x, w = rng.standard_normal((2, cin, 9, 10)), rng.standard_normal((cout, cin, 3, 3))
        want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1).numpy()
        z = module.destride_input(x)
        if layout == "tf":  # phase-major channels: reorder to PyTorch's channel-major before convolving
            z = z.reshape(2, 4, cin, *z.shape[2:]).transpose(0, 2, 1, 3, 4).reshape(2, cin * 4, *z.shape[2:])
            bank = module.destride_weights(w).reshape(cout, 4, cin, 2, 2).transpose(0, 2, 1, 3, 4).reshape(cout, cin * 4, 2, 2)
        else:
            bank = module.destride_weights(w)
        got = torch.nn.functional.conv2d(torch.tensor(z), torch.tensor(bank)).numpy()
        assert np.abs(got - want).max() < 1e-10


def test_python_export_with_channels_given_fixes_them(tmp_path):
    import numpy as np

    path = tmp_path / "fixed.py"
    assert main(["derive", "--kernel", "3", "--stride", "2", "--in-channels", "2", "--out-channels", "3", "--format", "python", "-o", str(path)]) == 0
    module = _load(path)
    with pytest.raises(ValueError, match=r"w must have shape \(3, 2, 3\)"):
        module.destride_weights(np.ones((4, 2, 3)))


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
def test_transposed_python_export_without_channels_works_for_any_channel_count(tmp_path, layout):
    import numpy as np
    import torch

    path = tmp_path / f"t_{layout}.py"
    args = ["derive", "--transposed", "--kernel", "3,4", "--stride", "2", "--padding", "1", "--output-padding", "1",
            "--layout", layout, "--format", "python", "-o", str(path)]
    assert main(args) == 0
    module = _load(path)
    assert module.IN_CHANNELS is None and module.OUT_CHANNELS is None
    rng = np.random.default_rng(1)
    for cin, cout in ((16, 32), (1, 1), (3, 5)):
        x, w = rng.standard_normal((2, cin, 5, 6)), rng.standard_normal((cin, cout, 3, 4))
        want = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1, output_padding=1).numpy()
        z = torch.nn.functional.conv2d(torch.tensor(module.destride_input(x)), torch.tensor(module.destride_weights(w))).numpy()
        got = module.finish_output(z, x.shape[2:])
        assert got.shape == want.shape and np.abs(got - want).max() < 1e-10


def test_transposed_python_export_with_channels_given_fixes_them(tmp_path):
    import numpy as np

    path = tmp_path / "tfixed.py"
    assert main(["derive", "--transposed", "--kernel", "3", "--stride", "2", "--in-channels", "2", "--out-channels", "3",
                 "--format", "python", "-o", str(path)]) == 0
    module = _load(path)
    with pytest.raises(ValueError, match=r"w must have shape \(2, 3, 3\)"):
        module.destride_weights(np.ones((16, 32, 3)))
