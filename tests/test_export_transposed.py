"""Exports of a transposed layer: the standalone NumPy module (run against PyTorch), npz, formula."""

import importlib.util
import io
import subprocess

import numpy as np
import pytest

from symstride import destride, export
from symstride.cli import main
from symstride.reference.convolution import conv, destride_transposed_weights
from symstride.algebra.conv_transpose import ConvTranspose
from tests.transposed_cases import TOL, torch_conv_transpose
from tests.transposed_cases import single_thread_torch  # noqa: F401 (autouse fixture)


def load(source, tmp_path, name="generated"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "layer, size, layout",
    [
        (ConvTranspose(3, stride=2, padding=1, output_padding=1), (6,), "pytorch"),
        (ConvTranspose((3, 4), stride=(2, 3), padding=(1, 2), output_padding=(1, 0), in_channels=2, out_channels=4, groups=2), (4, 3), "pytorch"),
        (ConvTranspose((4, 2), stride=2, padding=(5, 0), dilation=(1, 3), in_channels=2, out_channels=3), (6, 4), "tf"),
        (ConvTranspose((2, 3, 2), stride=(2, 1, 3), padding=1, in_channels=1, out_channels=2), (3, 3, 2), "tf"),
    ],
)
def test_python_module_reproduces_torch(tmp_path, layer, size, layout):
    eq = destride(layer, layout=layout)
    module = load(export.python_module(eq), tmp_path)
    spec = layer.spec
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, spec.in_channels, *size)), rng.standard_normal(spec.weight_shape)
    np.testing.assert_array_equal(module.destride_weights(w), destride_transposed_weights(w, spec.stride, spec.dilation, layout, groups=spec.groups))
    got = module.finish_output(conv(module.destride_input(x), module.destride_weights(w), groups=spec.groups), size)
    params = dict(stride=spec.stride, padding=tuple(l for l, _ in spec.padding), output_padding=spec.output_padding, dilation=spec.dilation)
    np.testing.assert_allclose(got, torch_conv_transpose(x, w, groups=spec.groups, **params), rtol=0, atol=TOL)
    assert module.output_size(size) == got.shape[2:]
    source = export.python_module(eq)
    assert "\nimport symstride" not in source and "\nfrom symstride" not in source and "Identity (exact" in source and f"Layout: {layout}" in source


def test_python_module_rejects_bad_arrays(tmp_path):
    module = load(export.python_module(destride(ConvTranspose(3, stride=2, in_channels=2))), tmp_path)
    with pytest.raises(ValueError, match=r"w must have shape \(2, 1, 3\)"):
        module.destride_weights(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"z must have shape \(batch, 2, \*\(5,\)\)"):
        module.finish_output(np.zeros((1, 2, 4)), (4,))


def test_npz_arrays():
    eq = destride(ConvTranspose((3, 3), stride=2, padding=1, output_padding=1, in_channels=2, out_channels=3))
    arrays = export.npz_arrays(eq, size=(5, 4))
    assert bool(arrays["transposed"]) and arrays["filter_shape"].tolist() == [12, 2, 2, 2]
    w = np.arange(np.prod(eq.spec.weight_shape), dtype=np.float64).reshape(eq.spec.weight_shape)
    bank = np.where(arrays["index"] >= 0, w.reshape(-1)[np.maximum(arrays["index"], 0)], 0.0)
    np.testing.assert_array_equal(bank, destride_transposed_weights(w, 2))
    assert arrays["output_size"].tolist() == [10, 8] and arrays["crop_start"].tolist() == [1, 1]
    assert arrays["input_padding"].tolist() == [[1, 1], [1, 1]] and arrays["blocks"].tolist() == [6, 5]
    assert "finish_output(conv(destride_input(x)" in str(arrays["identity"])
    loaded = np.load(io.BytesIO(export.npz_bytes(eq)), allow_pickle=False)
    assert loaded["output_padding"].tolist() == [1, 1]
    with pytest.raises(ValueError, match="transposed convolutions pad with zeros only"):
        export.npz_arrays(eq, padding_mode="reflect")


def test_formula_and_cli_formats(tmp_path, capsys):
    text = export.formula_text(destride(ConvTranspose(3, stride=2)))
    assert "W'[r, j] = w[2*(1 - j) + r] if 2*(1 - j) + r <= 2 else 0    for 0 <= r < 2, 0 <= j < 2" in text
    assert "depth-to-space inverts it" in text
    target = tmp_path / "t.npz"
    assert main(["derive", "--transposed", "--format", "npz", "--size", "6", "-o", str(target)]) == 0
    assert np.load(target)["output_size"].tolist() == [13]
    assert main(["derive", "--transposed", "--format", "latex", "-o", str(tmp_path / "missing" / "t.tex")]) == 2
    err = capsys.readouterr().err
    assert "No such file or directory" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [["--kernel", "3,3", "--stride", "2", "--padding", "1", "--output-padding", "1"],
     ["--kernel", "5", "--stride", "3", "--dilation", "2", "--in-channels", "2", "--out-channels", "4", "--groups", "2"]],
)
def test_latex_document_compiles(tmp_path, capsys, argv, pdflatex_path):
    assert main(["derive", "--transposed", *argv, "--format", "latex", "--fragment"]) == 0
    fragment = capsys.readouterr().out
    for piece in [r"\begin{theorem}[sub-pixel convolution; see \cite{shi2016,dumoulin2016}]", r"\operatorname{D2S}_{s}", r"\paragraph{Proved.}",
                  r"$\delta m = s (k' - 1 - j) + r$ on every axis", r"(9) crop}", "the NumPy reference transposed convolution",
                  r"\emph{Adjoint (\ensuremath{\operatorname{ConvT}_{s}} = \ensuremath{\operatorname{Conv}_{s}^{\mathsf{T}}}"]:
        assert piece in fragment, piece
    assert fragment.count("}: exact on an input of size") == 2
    target = tmp_path / "t.tex"
    assert main(["derive", "--transposed", *argv, "--format", "latex", "-o", str(target)]) == 0
    proc = subprocess.run([pdflatex_path, "-halt-on-error", "-interaction=nonstopmode", "t.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
