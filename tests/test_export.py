"""Exporters: the standalone Python module, the npz gather index and the formula, checked against
PyTorch and the NumPy reference in both channel layouts, with failing twins."""

import ast
import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from symstride import Conv, destride
from symstride.cli import main
from symstride.export import formula_text, npz_arrays, python_module
from symstride.reference.convolution import PADDING_MODES, destride_input, destride_weights
from tests.golden_files import golden

TOL = 1e-9
CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TORCH_PAD = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}

CONFIGS = [
    # kernel, stride, padding, dilation, in, out, groups, layout, padding_mode, input size
    (3, 2, 0, 1, 1, 1, 1, "pytorch", "zeros", (11,)),
    ((3, 5), (2, 3), ((0, 1), 2), (1, 2), 2, 3, 1, "tf", "zeros", (12, 17)),
    ((3, 3), 2, 1, 1, 4, 6, 2, "pytorch", "reflect", (9, 10)),
    ((7, 7), 2, 3, 1, 3, 4, 1, "tf", "replicate", (15, 14)),
    ((2, 3, 3), (2, 1, 2), 1, (1, 1, 2), 2, 2, 1, "pytorch", "circular", (6, 5, 9)),
]


def test_exporting_never_imports_torch(tmp_path):
    """``import symstride`` and every export path stay free of torch (only symstride.torch needs it)."""
    code = textwrap.dedent(
        f"""
        import contextlib, io, sys
        import symstride, symstride.export
        from symstride.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            for fmt in ("python", "formula", "json", "text"):
                assert main(["derive", "--format", fmt]) == 0
            assert main(["derive", "--format", "npz", "-o", {str(tmp_path / "a.npz")!r}]) == 0
        print("torch" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def run_standalone(tmp_path, source, x, w):
    """Execute a generated module in a clean interpreter: isolated mode (no PYTHONPATH, no working
    directory on the path) and symstride blocked, even where it is installed."""
    (tmp_path / "generated_destride.py").write_text(source, encoding="utf-8")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", w)
    script = textwrap.dedent(
        f"""
        import sys

        class NoSymstride:  # symstride may be installed (even editable): make it unimportable
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "symstride":
                    raise ModuleNotFoundError(f"{{name}} is blocked in this interpreter")

        sys.meta_path.insert(0, NoSymstride())
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import generated_destride as m
        np.save({str(tmp_path / "wq.npy")!r}, m.destride_weights(np.load({str(tmp_path / "w.npy")!r})))
        np.save({str(tmp_path / "z.npy")!r}, m.destride_input(np.load({str(tmp_path / "x.npy")!r})))
        print(sorted(k for k in sys.modules if k.split(".")[0] in ("symstride", "torch")))
        """
    )
    out = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"  # neither symstride nor torch was imported
    return np.load(tmp_path / "wq.npy"), np.load(tmp_path / "z.npy")


def torch_strided(x, w, spec, padding_mode):
    """PyTorch's own strided convolution (the oracle), padding applied as nn.ConvNd does."""
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    flat = [v for pair in reversed(spec.padding) for v in pair]
    if padding_mode == "zeros":
        xt = F.pad(xt, flat)
    else:
        xt = F.pad(xt, flat, mode=TORCH_PAD[padding_mode])
    return CONV[spec.ndim](xt, wt, None, spec.stride, 0, spec.dilation, spec.groups).numpy()


def unit_stride(z, wq, groups):
    return CONV[z.ndim - 2](torch.from_numpy(z), torch.from_numpy(wq), None, 1, 0, 1, groups).numpy()


@pytest.mark.parametrize("config", CONFIGS, ids=[f"{c[7]}-{c[8]}-{len(c[9])}d" for c in CONFIGS])
def test_python_module_runs_standalone_and_equals_pytorch(tmp_path, config):
    k, s, p, d, cin, cout, g, layout, mode, size = config
    eq = destride(Conv(kernel=k, stride=s, padding=p, dilation=d, in_channels=cin, out_channels=cout, groups=g), layout=layout)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, cin, *size))
    w = rng.standard_normal(eq.spec.weight_shape)
    wq, z = run_standalone(tmp_path, python_module(eq, padding_mode=mode), x, w)
    spec = eq.spec
    assert np.array_equal(wq, destride_weights(w, spec.stride, spec.dilation, layout, groups=g))
    assert np.array_equal(z, destride_input(x, spec.kernel, spec.stride, spec.padding, spec.dilation, layout, padding_mode=mode))
    assert np.abs(unit_stride(z, wq, g) - torch_strided(x, w, spec, mode)).max() <= TOL


def test_python_module_docstring_states_configuration_layout_and_identity():
    eq = destride(Conv(kernel=(3, 3), stride=2, padding=1, in_channels=2, out_channels=3), layout="tf")
    source = python_module(eq, padding_mode="reflect")
    doc = source.split('"""')[1]
    assert "Configuration: 2-D, kernel 3, stride 2, padding 1, dilation 1, 2→3 channels, padding_mode 'reflect'" in doc
    assert "Layout: tf — phase-major: new channel φ(r)·C + c" in doc
    assert "conv(x, w, stride=(2, 2), padding=((1, 1), (1, 1)), padding_mode='reflect', dilation=(1, 1), groups=1)" in doc
    assert "== conv(destride_input(x), destride_weights(w), stride=1, padding=0, groups=1)" in doc
    imports = [n for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [alias.name for n in imports for alias in n.names] == ["numpy"]


def test_python_module_golden():
    eq = destride(Conv(kernel=3, stride=2, padding=1))
    golden("destride_module_k3_s2_p1.py.golden", python_module(eq))


def test_python_module_with_a_wrong_tap_is_caught(tmp_path):
    """Failing twin: one tap of the generated table moved to the wrong phase."""
    eq = destride(Conv(kernel=3, stride=2, padding=1, in_channels=2, out_channels=2))
    source = python_module(eq)
    assert "    ((1,), (1,), (0,)),\n" in source
    wrong = source.replace("    ((1,), (1,), (0,)),\n", "    ((1,), (0,), (0,)),\n")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 2, 13)), rng.standard_normal((2, 2, 3))
    wq, z = run_standalone(tmp_path, wrong, x, w)
    assert np.abs(unit_stride(z, wq, 1) - torch_strided(x, w, eq.spec, "zeros")).max() > 1e-3


def test_python_module_refuses_bad_padding_mode():
    with pytest.raises(ValueError, match="unknown padding_mode 'mirror'; expected one of 'zeros', 'reflect'"):
        python_module(destride(Conv(kernel=3, stride=2)), padding_mode="mirror")


# --- npz ---------------------------------------------------------------------------------------


def consume_npz(doc, x, w):
    """What another language would do with the npz: gather W', prepare the input, space-to-depth."""
    index = doc["index"]
    wq = np.where(index >= 0, w.reshape(-1)[np.maximum(index, 0)], 0.0)
    assert wq.shape == tuple(doc["filter_shape"]) and w.shape == tuple(doc["weight_shape"])
    stride, lengths = doc["stride"], doc["prepared_length"]
    xp = np.pad(x, [(0, 0), (0, 0), *map(tuple, doc["padding"])])
    xp = xp[(slice(None), slice(None), *(slice(0, L) for L in lengths))]
    xp = np.pad(xp, [(0, 0), (0, 0), *((0, L - n) for L, n in zip(lengths, xp.shape[2:]))])
    c_in = x.shape[1]
    grid = [int(L // s) for L, s in zip(lengths, stride)]
    z = np.zeros((x.shape[0], c_in * int(doc["phases"]), *grid))
    for flat, r in enumerate(itertools.product(*map(range, stride))):  # φ row-major
        for c in range(c_in):
            ch = c * int(doc["phases"]) + flat if str(doc["layout"]) == "pytorch" else flat * c_in + c
            z[:, ch] = xp[(slice(None), c, *(slice(int(ra), None, int(sa)) for ra, sa in zip(r, stride)))]
    assert list(z.shape[2:]) == list(doc["prepared_shape"])
    return wq, z


@pytest.mark.parametrize("layout", ["pytorch", "tf"])
def test_npz_from_the_cli_gathers_the_filters(tmp_path, capsys, layout):
    target = tmp_path / "bank.npz"
    argv = ["derive", "--kernel", "3,5", "--stride", "2,3", "--padding", "1,0:2", "--dilation", "1,2",
            "--in-channels", "3", "--out-channels", "4", "--layout", layout, "--size", "14,19", "--format", "npz", "-o", str(target)]
    assert main(argv) == 0 and capsys.readouterr().out == ""
    doc = dict(np.load(target, allow_pickle=False))
    assert str(doc["layout"]) == layout and ("φ(r)·C + c" if layout == "tf" else "c·P + φ(r)") in str(doc["channel_order"])
    assert doc["padding"].tolist() == [[1, 1], [0, 2]] and doc["live_phases"].tolist() == [0, 1, 2, 3, 4, 5]
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 3, 14, 19)), rng.standard_normal((4, 3, 3, 5))
    wq, z = consume_npz(doc, x, w)
    eq = destride(Conv(kernel=(3, 5), stride=(2, 3), padding=(1, (0, 2)), dilation=(1, 2), in_channels=3, out_channels=4), layout=layout)
    assert np.array_equal(wq, destride_weights(w, (2, 3), (1, 2), layout))
    assert np.abs(unit_stride(z, wq, 1) - torch_strided(x, w, eq.spec, "zeros")).max() <= TOL


def test_npz_pytorch_layout_prepared_input_is_pixel_unshuffle(tmp_path):
    eq = destride(Conv(kernel=(3, 3), stride=2, padding=1, in_channels=2, out_channels=2))
    doc = npz_arrays(eq, size=(9, 9))
    x = np.random.default_rng(3).standard_normal((1, 2, 9, 9))
    _, z = consume_npz(doc, x, np.zeros(eq.spec.weight_shape))
    L = int(doc["prepared_length"][0])
    xp = F.pad(torch.from_numpy(x), (1, L - 10, 1, L - 10))
    assert np.array_equal(z, F.pixel_unshuffle(xp, 2).numpy())


def test_npz_with_a_corrupted_index_is_caught():
    """Failing twin: two entries of the gather index exchanged."""
    eq = destride(Conv(kernel=(3, 3), stride=2, padding=1, in_channels=2, out_channels=2))
    doc = npz_arrays(eq, size=(10, 10))
    doc["index"] = doc["index"].copy()
    doc["index"][0, 0, 0, 0], doc["index"][0, 0, 1, 1] = doc["index"][0, 0, 1, 1], doc["index"][0, 0, 0, 0]
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 10, 10)), rng.standard_normal((2, 2, 3, 3))
    wq, z = consume_npz(doc, x, w)
    assert np.abs(unit_stride(z, wq, 1) - torch_strided(x, w, eq.spec, "zeros")).max() > 1e-3


def test_npz_without_output_file_is_refused(capsys):
    assert main(["derive", "--format", "npz"]) == 2
    assert "--format npz writes a binary file: give -o FILE.npz" in capsys.readouterr().err


def test_npz_without_size_states_the_preparation_rule():
    doc = npz_arrays(destride(Conv(kernel=3, stride=2)), padding_mode="reflect")
    assert "prepared_length" not in doc and "L = s·(N_out + k' − 1)" in str(doc["prepared_length_rule"])
    assert str(doc["padding_mode"]) == "reflect" and "padding_mode='reflect'" in str(doc["identity"])


# --- formula -----------------------------------------------------------------------------------


@pytest.mark.parametrize("layout, channel", [("pytorch", "4*c + 2*r_1 + r_2"), ("tf", "6*r_1 + 3*r_2 + c")])
def test_formula_from_the_cli(capsys, layout, channel):
    argv = ["derive", "--kernel", "3,3", "--stride", "2", "--in-channels", "3", "--out-channels", "2", "--layout", layout, "--format", "formula"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["layout", "text", "latex"]
    assert lines[0].startswith(f"layout  {layout} — ")
    assert f"W'[o, {channel}, j_1, j_2] = w[o, c, 2*j_1 + r_1, 2*j_2 + r_2]" in lines[1]
    assert lines[1].endswith("for 0 <= o < 2, 0 <= c < 3, 0 <= r_1 < 2, 0 <= r_2 < 2, 0 <= j_1 < 2, 0 <= j_2 < 2")
    assert lines[2].startswith("latex   {W'}_{o,") and "\\begin{cases}" in lines[2]


def test_formula_entries_match_the_gather_index():
    """The exported text formula, evaluated on every index, reproduces the npz gather index."""
    eq = destride(Conv(kernel=(3, 2), stride=(2, 2), dilation=(1, 3), in_channels=2, out_channels=2), layout="tf")
    text = formula_text(eq).splitlines()[1]
    lhs, rhs = text[len("text    "):].split("    for ")[0].split(" = ", 1)
    entry, _, rest = rhs.partition(" if ")
    condition = rest.rsplit(" else 0", 1)[0]
    names = ["o", "c", "r_1", "r_2", "j_1", "j_2"]
    uppers = [2, 2, 2, 2, *eq.kernel]
    index = eq.weight_index
    seen = 0
    for values in itertools.product(*map(range, uppers)):
        env = dict(zip(names, values), Eq=lambda a, b: a == b, Mod=lambda a, b: a % b)
        o, chan, j1, j2 = eval(lhs[3:-1].join("()"), {}, env)
        live = eval(condition.replace("&", " and "), {}, env)
        if live:
            o2, c2, m1, m2 = eval(entry[2:-1].join("()"), {}, env)
            assert index[o, chan, j1, j2] == np.ravel_multi_index((o2, c2, int(m1), int(m2)), eq.spec.weight_shape)
            seen += 1
        else:
            assert index[o, chan, j1, j2] == -1
    assert seen == np.count_nonzero(index >= 0)


def test_formula_latex_compiles(tmp_path, pdflatex_path):
    eq = destride(Conv(kernel=(3, 3), stride=2, dilation=(1, 2), in_channels=2, out_channels=2), layout="tf")
    latex = formula_text(eq).splitlines()[2][len("latex   "):]
    doc = "\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n\\[" + latex + "\\]\n\\end{document}\n"
    (tmp_path / "f.tex").write_text(doc, encoding="utf-8")
    out = subprocess.run([pdflatex_path, "-halt-on-error", "-interaction=nonstopmode", "f.tex"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:]


def test_formula_golden():
    eq = destride(Conv(kernel=3, stride=2, padding=1))
    golden("formula_k3_s2_p1.txt", formula_text(eq))


def test_json_still_the_contract_with_layout(capsys):
    assert main(["derive", "--layout", "tf", "--in-channels", "2", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layout"] == "tf" and doc["taps"][1] == {"tap": [1], "phase": [1], "offset": [0]}
