"""The symbolic transposed layer: filter bank, exact verification, the adjoint identity, failing twins."""

import itertools
import subprocess

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride import Conv, SymstrideError, destride
from symstride.core.indexing import weight_gather_index
from symstride.reference.convolution import conv, destride_transposed_input, destride_transposed_output
from symstride.render.templates import render_template
from symstride.algebra.conv_transpose import ConvTranspose
from symstride.layer.transposed import TransposedEquivalence, default_transposed_size
from symstride.algebra.operator_checks import verify_adjoint
from symstride.core.verify import verify_transposed_taps
from tests.tap_twins import corrupt_one_tap
from tests.transposed_cases import TOL, configs, data, examples, params, torch_conv_transpose
from tests.transposed_cases import single_thread_torch  # noqa: F401 (autouse fixture)

w = sp.IndexedBase("w")


def layer_of(spec):
    return ConvTranspose(spec)


# -- the filter bank ----------------------------------------------------------------------------


def test_filters_1d_worked_example():
    """k=3, s=2: phase 0 gets taps 0 and 2, flipped to [w2, w0]; phase 1 gets tap 1 at offset 1."""
    eq = destride(ConvTranspose(kernel=3, stride=2))
    assert isinstance(eq, TransposedEquivalence)
    assert eq.filters == sp.ImmutableDenseNDimArray([[[w[2], w[0]]], [[0, w[1]]]])
    assert eq.kernel == (2,) and eq.out_channels == 2 and eq.in_channels == 1 and eq.structural_zeros == 1


def test_filters_2d_3x3_stride2_live_taps():
    eq = destride(ConvTranspose(kernel=(3, 3), stride=2, padding=1, output_padding=1))
    live = [sum(1 for e in sp.flatten(eq.filters[p].tolist()) if e != 0) for p in range(4)]
    assert live == [4, 2, 2, 1] and eq.structural_zeros == 7
    assert eq.filters[3, 0] == sp.ImmutableDenseNDimArray([[0, 0], [0, w[1, 1]]])


def test_filters_dilation_leaves_phases_empty():
    """δ=2, s=2: every tap lands on even outputs; the odd phase is a constant zero."""
    eq = destride(ConvTranspose(kernel=3, stride=2, dilation=2))
    assert eq.filters == sp.ImmutableDenseNDimArray([[[w[2], w[1], w[0]]], [[0, 0, 0]]])
    assert eq.live_phases == [(0,)]


def test_filters_layouts_and_groups():
    layer = ConvTranspose(kernel=2, stride=2, in_channels=2, out_channels=4, groups=2)
    bank = destride(layer).filters  # (C_out·P, C_in/g, k') = (8, 1, 1)
    # output channel o, phase r → o·2 + r; o in group o // 2 reads input channel o // 2
    assert [bank[i, 0, 0] for i in range(8)] == [
        w[0, 0, 0], w[0, 0, 1], w[0, 1, 0], w[0, 1, 1], w[1, 0, 0], w[1, 0, 1], w[1, 1, 0], w[1, 1, 1]]
    tf = destride(ConvTranspose(kernel=2, stride=2, out_channels=2), layout="tf").filters
    assert [tf[i, 0, 0] for i in range(4)] == [w[0, 0, 0], w[0, 1, 0], w[0, 0, 1], w[0, 1, 1]]  # φ(r)·C + o


@pytest.mark.parametrize(
    "layer, layout",
    [(ConvTranspose(3, stride=2), "pytorch"), (ConvTranspose(3, stride=2), "tf"), (ConvTranspose(5, stride=3, dilation=2), "pytorch"),
     (ConvTranspose(4, stride=2, padding=1, in_channels=2, out_channels=3), "pytorch"),
     (ConvTranspose(4, stride=2, padding=1, in_channels=2, out_channels=3), "tf"),
     (ConvTranspose((3, 2), stride=(2, 3), in_channels=4, out_channels=2, groups=2), "pytorch"),
     (ConvTranspose((2, 3, 2), stride=(2, 1, 2), dilation=(1, 2, 1)), "tf")],
)
def test_formula_agrees_with_filters(layer, layout):
    eq = destride(layer, layout=layout)
    sym = eq.index_symbols
    cin_g = layer.in_channels // layer.groups
    for o, c in itertools.product(range(layer.out_channels), range(cin_g)):
        for r in eq.phase_vectors:
            for j in itertools.product(*map(range, eq.kernel)):
                subs = {sym["o"][0]: o, sym["c"][0]: c, **dict(zip(sym["r"], r)), **dict(zip(sym["j"], j))}
                index = eq.formula_lhs.subs(subs).indices
                entry = eq.filters[index if layer.channel_indexed else (index[0], 0, *index[1:])]
                assert eq.formula.subs(subs) == entry, (o, c, r, j)


@pytest.mark.parametrize(
    "layer, size",
    [(ConvTranspose(4, stride=2, padding=1, in_channels=2, out_channels=3), (7,)),
     (ConvTranspose((3, 3), stride=(2, 3), padding=(2, 1), output_padding=(1, 2), in_channels=2, out_channels=4, groups=2), (4, 3))],
)
def test_symbolic_bank_computes_the_transposed_layer(layer, size):
    """Substitute numbers into the symbolic W' and run sub-pixel convolution: PyTorch agrees."""
    spec = layer.spec
    x, wt = data(spec, size, seed=11, batch=1)
    values = dict(zip(layer.weights, wt.reshape(-1)))
    bank = np.array(sp.lambdify([], sp.Array(destride(layer).filters).subs(values))(), dtype=np.float64)
    z = conv(destride_transposed_input(x, spec.kernel, **params(spec)), bank, groups=spec.groups)
    got = destride_transposed_output(z, spec.kernel, size=size, **params(spec))
    np.testing.assert_allclose(got, torch_conv_transpose(x, wt, groups=spec.groups, **params(spec)), rtol=0, atol=TOL)


def test_tf_layout_with_groups_is_refused():
    with pytest.raises(SymstrideError, match=r"phase-major .* groups=2 .* no grouped unit-stride convolution produces them"):
        destride(ConvTranspose(3, stride=2, in_channels=2, out_channels=2, groups=2), layout="tf")
    report = verify_transposed_taps(ConvTranspose(3, stride=2, in_channels=2, out_channels=4, groups=2).spec,
                                    destride(ConvTranspose(3, stride=2, in_channels=2, out_channels=4, groups=2)).taps, 5, layout="tf")
    assert not report.exact and "splits groups across phases" in report.mismatch.reason


def test_destride_rejects_non_layers():
    with pytest.raises(TypeError, match="destride expects a symstride Conv layer or a ConvTranspose layer, got str"):
        destride("deconv")
    with pytest.raises(TypeError, match="expected a symstride ConvTranspose layer, got Conv"):
        TransposedEquivalence(Conv(3, stride=2))


# -- exact verification -------------------------------------------------------------------------


def _numeric_agrees(spec, size, taps, kernel, layout):
    """Float64 oracle: PyTorch's conv_transpose vs sub-pixel convolution with the bank ``taps`` claims."""
    x, wt = data(spec, size, seed=1, batch=1)
    index = weight_gather_index(spec, layout, taps)
    if index.shape[2:] != tuple(kernel):
        return False
    bank = np.where(index >= 0, wt.reshape(-1)[np.maximum(index, 0)], 0.0)
    z = conv(destride_transposed_input(x, spec.kernel, **params(spec)), bank, groups=spec.groups)
    got = destride_transposed_output(z, spec.kernel, layout=layout, size=size, **params(spec))
    return float(np.abs(got - torch_conv_transpose(x, wt, groups=spec.groups, **params(spec))).max()) < TOL


@settings(max_examples=examples(60))
@given(configs(), st.sampled_from(["pytorch", "tf"]))
def test_verify_is_exact_and_agrees_with_pytorch(case, layout):
    spec, size, _ = case
    layout = layout if spec.groups == 1 else "pytorch"
    eq = destride(layer_of(spec), layout=layout)
    report = eq.verify(size=size)
    assert report.exact, str(report)
    assert _numeric_agrees(spec, size, eq.taps, eq.kernel, layout)


@settings(max_examples=examples(80))
@given(configs(max_ndim=2), st.data())
def test_wrong_phase_assignment_rejected_exactly_when_pytorch_disagrees(case, draw):
    """The failing twin: move one tap to another phase or offset, or drop it."""
    spec, size, _ = case
    eq = destride(layer_of(spec))
    taps, t = corrupt_one_tap(draw, eq.taps, eq.kernel, spec.stride)  # always a real corruption
    report = verify_transposed_taps(spec, taps, size, kernel=eq.kernel)
    slots = [(u.phase, u.offset) for u in taps]
    if len(set(slots)) < len(slots):
        assert not report.exact and "already holds tap" in report.mismatch.reason
        return
    assert report.exact == _numeric_agrees(spec, size, taps, eq.kernel, "pytorch")
    if not report.exact:
        assert report.mismatch.tap == t.tap and f"tap [{', '.join(map(str, t.tap))}]" in str(report)


def test_wrong_phase_is_named_with_both_sides():
    """k=4, s=3: tap 3 (δ·m = 3 ≡ 0) belongs to phase 0; claiming phase 1 is rejected, naming it."""
    eq = destride(ConvTranspose(kernel=4, stride=3, padding=1))
    taps = [t._replace(phase=(1,)) if t.tap == (3,) else t for t in eq.taps]
    report = verify_transposed_taps(eq.spec, taps, 5)
    assert not report.exact and report.mismatch.tap == (3,)
    assert report.mismatch.reason == (
        "tap [3] at output y[0, 0, 2]: the transposed layer has w[0, 0, 3]·x[0, 0, 0], "
        "the equivalent layer has nothing (wrong phase, or it reads the zero padding)"
    )
    assert str(report).startswith("Transposed convolution (stride 3 as 3 output phases + depth-to-space, layout pytorch): NOT exact")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(phase=(2,)), "tap [1]: phase [2] is outside [0, 2)"),
        (dict(offset=(2,)), "tap [1]: offset [2] is outside [0, 2)"),
        (dict(phase=(0,), offset=(1,)), "tap [1]: phase [0] offset [1] already holds tap [0]"),
    ],
)
def test_malformed_claims_rejected(change, message):
    eq = destride(ConvTranspose(kernel=3, stride=2))
    taps = [t._replace(**change) if t.tap == (1,) else t for t in eq.taps]
    report = verify_transposed_taps(eq.spec, taps, 5)
    assert not report.exact and report.mismatch.reason == message


def test_wrong_equivalent_kernel_rejected():
    """Claiming k' = 3 shifts every read by one block: rejected at the first output."""
    eq = destride(ConvTranspose(kernel=3, stride=2))
    report = verify_transposed_taps(eq.spec, eq.taps, 5, kernel=(3,))
    assert not report.exact and "at output y[0, 0, 0]" in report.mismatch.reason


def test_verify_large_layer_exact():
    layer = ConvTranspose((4, 4), stride=2, padding=1, in_channels=64, out_channels=32)
    report = destride(layer).verify(size=(112, 112))
    assert report.exact and report.output_shape == (224, 224)


def test_default_size_gives_an_output_even_with_large_padding():
    spec = ConvTranspose(kernel=2, stride=2, padding=5).spec
    (n,) = default_transposed_size(spec)
    assert (n - 1) * 2 + 2 - 10 >= 1 and destride(ConvTranspose(spec)).verify().exact


# -- the adjoint identity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, size",
    [(ConvTranspose(3, stride=2), 3), (ConvTranspose(4, stride=2, padding=1, output_padding=1), 4),
     (ConvTranspose(3, stride=1, dilation=2, output_padding=1), 3),  # output_padding ≥ s: the conv has N + 1 outputs
     (ConvTranspose((2, 3), stride=(2, 1), padding=((0, 1), 1), in_channels=2, out_channels=4, groups=2), (2, 3))],
)
def test_adjoint_matrices_are_transposes(layer, size):
    mt = layer.matrix(size)
    n_out = layer.output_shape(size)
    mc = layer.adjoint().matrix(n_out)
    n_conv = layer.adjoint().output_shape(n_out)
    keep = [o * int(np.prod(n_conv)) + int(np.ravel_multi_index(i, n_conv))
            for o in range(layer.in_channels) for i in itertools.product(*(range(n) for n in np.atleast_1d(size)))]
    assert mt == mc.extract(keep, list(range(mc.cols))).T
    assert verify_adjoint(layer.spec, size, method="matrix").exact
    assert verify_adjoint(layer.spec, size, method="index").exact


def test_inner_products_agree_symbolically():
    """⟨Conv_s x, y⟩ = ⟨x, ConvT_s y⟩ as polynomials in w, x and y."""
    layer = ConvTranspose(3, stride=2, padding=1, output_padding=1)
    n_out = layer.output_shape(3)[0]
    x = sp.Matrix(sp.symbols(f"x0:{n_out}"))
    y = sp.Matrix(sp.symbols("y0:3"))
    lhs = (layer.adjoint().matrix(n_out) * x).dot(y)
    rhs = x.dot(layer.matrix(3) * y)
    assert sp.expand(lhs - rhs) == 0 and lhs != 0


def test_matrix_matches_torch():
    layer = ConvTranspose((2, 3), stride=(2, 1), padding=(1, 0), output_padding=(1, 0), in_channels=2, out_channels=2)
    x, wt = data(layer.spec, (3, 2), seed=4, batch=1)
    m = np.array(layer.matrix((3, 2)).subs(dict(zip(layer.weights, wt.reshape(-1)))), dtype=np.float64)
    expected = torch_conv_transpose(x, wt, stride=(2, 1), padding=(1, 0), output_padding=(1, 0))
    np.testing.assert_allclose(m @ x.reshape(-1), expected.reshape(-1), rtol=0, atol=TOL)


@settings(max_examples=examples(40))
@given(configs(max_ndim=2))
def test_adjoint_exact_both_methods(case):
    spec, size, _ = case
    for method in ("index", "auto"):  # "auto" compares SymPy matrices when they are small
        report = verify_adjoint(spec, size, method=method)
        assert report.exact, str(report)


def test_wrong_adjoint_rejected_with_first_entry():
    spec = ConvTranspose(3, stride=2, padding=1, output_padding=1).spec
    shifted = spec.adjoint.replace(padding=((0, 2),))  # same number of outputs, shifted by one
    report = verify_adjoint(spec, 4, adjoint=shifted, method="matrix")
    assert not report.exact and report.method == "matrix"
    assert report.mismatch.reason == (
        "entry y[0, 0, 0] ← x[0, 0, 0]: the transposed layer has w[1], the transpose of the convolution has w[0]")
    report = verify_adjoint(spec, 4, adjoint=shifted, method="index")
    assert not report.exact and report.mismatch.reason == (
        "tap [0] at output y[0, 0, 0]: the transposed layer has nothing (no input sample lands there with this tap), "
        "the transpose of the convolution has w[0, 0, 0]·x[0, 0, 0]")
    for wrong, message in [
        (spec.adjoint.replace(kernel=4), "the convolution has kernel (4,), the transposed layer needs (3,)"),
        (spec.adjoint.replace(out_channels=2), "output channels (the transposed layer's inputs) 2, the transposed layer needs 1"),
        (spec.adjoint.replace(stride=3), "the convolution has 3 outputs, fewer than the transposed layer's 4 inputs"),
    ]:
        report = verify_adjoint(spec, 4, adjoint=wrong)
        assert not report.exact and message in report.mismatch.reason, report.mismatch.reason
    with pytest.raises(ValueError, match="unknown method 'dense'"):
        verify_adjoint(spec, 4, method="dense")


# -- display ----------------------------------------------------------------------------------------


def test_report_reads_like_a_report():
    eq = destride(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1))
    text = str(eq)
    for fragment in [
        "a unit-stride convolution with 2 output phases, then depth-to-space",
        "transposed 1-D, kernel 3, stride 2, padding 1, output padding 1",
        "phase r=0 │ w[2]  w[0]", "phase r=1 │ 0     w[1]",
        "m=1          → output phase r=1        j=1",
        "crop        after depth-to-space keep N_out samples from p mod s = 1",
        "formula  W'[r, j] = w[2*(1 - j) + r] if 2*(1 - j) + r <= 2 else 0",
    ]:
        assert fragment in text, fragment
    assert repr(eq.layer) == "ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1)"


def test_latex_golden_and_compiles(tmp_path):
    eq = destride(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1))
    assert sp.latex(eq.layer) == r"\operatorname{ConvT}_{s=2}^{k=3,\,p=1,\,o=1}(x;\, w)"
    assert eq._repr_latex_() == (
        r"$\displaystyle \operatorname{ConvT}_{s=2}^{k=3,\,p=1,\,o=1}(x;\, w) = \operatorname{crop}\Big("
        r"\operatorname{D2S}_{2}\big(\operatorname{Conv}_{1}(\tilde x;\, W')\big)\Big),\quad "
        r"{W'}_{r,j} = \begin{cases} {w}_{2 \left(1 - j\right) + r} & \text{if } 2 \left(1 - j\right) + r \leq 2 \\ 0 & "
        r"\text{otherwise} \end{cases},"
        r"\quad k' = 2,\ P = 2$"
    )
    body = "\n\n".join(destride(layer)._repr_latex_() for layer in (
        eq.layer, ConvTranspose((3, 4), stride=(2, 3), dilation=(1, 2), in_channels=2, out_channels=4, groups=2)))
    (tmp_path / "t.tex").write_text("\\documentclass{article}\\usepackage{amsmath}\n\\begin{document}\n"
                                    + body + "\n\\end{document}\n")
    proc = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "t.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_to_json_says_where_each_tap_goes():
    doc = destride(ConvTranspose(kernel=(3, 3), stride=2, padding=1, output_padding=1)).to_json()
    assert doc["transposed"] is True and doc["output_padding"] == [1, 1] and doc["equivalent_out_channels"] == 4
    assert {"tap": [1, 2], "phase": [1, 0], "offset": [1, 0], "delay": [0, 1]} in doc["taps"]
    assert doc["crop_start"] == [1, 1] and doc["input_left_padding"] == [1, 1] and doc["skipped_blocks"] == [0, 0]
    assert render_template  # the template environment is the single one (imported above)
