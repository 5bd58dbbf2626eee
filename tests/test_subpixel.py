"""The sub-pixel theorem as a checked derivation (symstride.proof.subpixel): concrete layers, the proof, LaTeX.

Every layer's chain checks exactly and in float64 against the NumPy reference transposed
convolution; a wrong line fails at its step, naming it; the rendered derivation compiles.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symstride import destride
from symstride.cli import main
from symstride.render.pdf import compile_pdf
from symstride.proof.proofs import prove
from symstride.proof.subpixel import SUBPIXEL_GRID, subpixel_derivation
from symstride.algebra.conv_transpose import ConvTranspose
from tests.golden_files import golden

RULE_ORDER = ["definition", "gather", "output-phase-split", "phase-taps", "reindex", "reindex", "structural-zeros",
              "phase-filters", "depth-to-space", "crop"]

LAYERS = [  # (id, layer, layout)
    ("1d-k3-s2", ConvTranspose(kernel=3, stride=2), "pytorch"),
    ("1d-k3-s2-p1-op1", ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1), "pytorch"),
    ("1d-k5-s3-d2-groups", ConvTranspose(kernel=5, stride=3, dilation=2, in_channels=2, out_channels=4, groups=2), "pytorch"),
    ("1d-k2-s4-p5-op3", ConvTranspose(kernel=2, stride=4, padding=5, output_padding=3), "pytorch"),
    ("1d-k4-s2-channels-tf", ConvTranspose(kernel=4, stride=2, padding=1, in_channels=2, out_channels=3), "tf"),
    ("2d-dcgan-k4-s2-p1", ConvTranspose(kernel=(4, 4), stride=2, padding=1, in_channels=2, out_channels=2), "pytorch"),
    ("2d-asymmetric", ConvTranspose(kernel=(3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2)), "pytorch"),
    ("2d-unit-stride-axis", ConvTranspose(kernel=(3, 3), stride=(1, 2), padding=1), "pytorch"),
    ("3d-k2-s2", ConvTranspose(kernel=2, stride=2, padding=(0, 1, 0), output_padding=(1, 0, 0)), "pytorch"),
]


@pytest.mark.parametrize("layer, layout", [case[1:] for case in LAYERS], ids=[case[0] for case in LAYERS])
def test_every_layer_derivation_checks_exactly_and_in_float64(layer, layout):
    d = destride(layer, layout=layout).derivation
    report = d.check()
    assert report.ok, report.failure
    assert [s.rule for s in d.steps] == RULE_ORDER
    assert report.oracle == "the NumPy reference transposed convolution" and report.max_error <= 1e-12
    assert report.instances >= 2 and report.outputs > report.instances


def test_the_oracle_is_the_layer_itself():
    """The float64 reference the derivation uses is conv_transpose on the same pseudo-random atoms."""
    from symstride.reference.convolution import conv_transpose
    from symstride.algebra.random_evaluation import random_values

    x = random_values("x", [np.arange(4)])
    w = random_values("w", [np.arange(3)])
    expected = conv_transpose(x[None, None], w[None, None], stride=2, padding=1, output_padding=1)[0, 0]
    # by hand, from the scatter: y[t] = Σ w[m] x[n] over 2n + m = t + 1
    by_hand = [sum(w[m] * x[nn] for m in range(3) for nn in range(4) if 2 * nn + m == t + 1) for t in range(8)]
    np.testing.assert_allclose(expected, by_hand, atol=1e-15)
    from symstride.proof.subpixel import TransposedSignals

    ch = TransposedSignals.concrete(ConvTranspose(3, stride=2, padding=1, output_padding=1).spec, layout="pytorch", channel_indexed=False,
                                    r=(sp.Symbol("r"),), j=(sp.Symbol("j"),))
    np.testing.assert_allclose(ch.reference({"N": 4}, 0), expected, atol=0)


def test_the_chain_reads_as_the_sub_pixel_theorem():
    d = destride(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1)).derivation
    text = d.text()
    for piece in [
        "(0) y[t] = Σ_{m=0..2} Σ_{n=0..N - 1, 2·n + m = t + 1} w[m]·x[n]",
        "Σ_{m=0..2, m ≡ r (mod 2)} w[m]·x̂[a - (m - r)/2]",
        "Σ_{q=0..⌈(3 - r)/2⌉ - 1} w[2·q + r]·x̂[a - q]",
        "v[r, a]", "u[2·a + r]", "(9)      = u[t + 1]",
        "W'[r, j] = w[2·(1 - j) + r] if 2·(1 - j) + r ≤ 2 else 0",
    ]:
        assert piece in text, piece
    assert "2 structural zeros" not in text and "1 structural zero" in text


@pytest.mark.parametrize("step", range(1, 10))
def test_a_wrong_line_fails_at_its_step_naming_it(step):
    d = destride(ConvTranspose(kernel=(4, 4), stride=2, padding=1)).derivation
    e = d.steps[step].expr
    broken = d.with_step(step, e.xreplace({sp.Integer(1): sp.Integer(2)}) if e.has(sp.Integer(1)) else e.subs(2, 3))
    report = broken.check()
    assert report.failed_step == step, report.failure
    assert report.failure.startswith(f"step {step} ({d.steps[step].title})")


def test_a_wrong_filter_bank_is_rejected_at_the_structural_zeros():
    """W' with phases 0 and 1 swapped: every line up to (5) holds, (6) cannot."""
    eq = destride(ConvTranspose(kernel=3, stride=2))
    d = eq.derivation
    (r,) = eq.index_symbols["r"]
    W = d.definitions["W'"]
    wrong = type(W)(W.lhs, W.rhs.xreplace({r: 1 - r}), W.domain, W.inverse, W.note)
    from symstride.proof.derivation import Derivation

    bad = Derivation(d.title, d.lhs, d.steps, definitions=[*(v for k, v in d.definitions.items() if k != "W'"), wrong],
                     where=d.where, grid=d.grid, notation=d.notation, oracle=d.oracle, oracle_name=d.oracle_name)
    report = bad.check()
    assert report.failed_step == 6 and "structural zeros" in report.failure


def test_explicit_sizes_and_the_default_grid():
    eq = destride(ConvTranspose(kernel=3, stride=2, padding=2))
    assert eq.derivation.check().instances == 5  # N from the smallest with an output (2) to s + 3 more
    d = subpixel_derivation(eq, sizes=[[7, 9]])
    assert d.check().ok and d.check().instances == 2


def test_the_proof_covers_its_grid_and_lists():
    proof = prove("transposed")
    one, two = proof.check()
    assert one.ok and two.ok
    assert one.instances > 2000 and "oₚ ∈ {0, …, 2}" in one.grid and two.instances > 500
    assert set(SUBPIXEL_GRID) == {1, 2}
    assert "⌈(δ·(k - 1) + 1 - r)/s⌉ - 1" in proof.parts[0].text()


def test_prove_list_names_the_transposed_proofs(capsys):
    assert main(["prove", "--list"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert {"transposed", "noble-identity-transposed", "space-to-depth-permutation"} <= set(names)


def test_golden_subpixel_derivation_and_it_compiles(tmp_path):
    d = destride(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1)).derivation
    tex = d.latex()
    golden("subpixel-1d-k3-s2-p1-op1.tex", tex)
    assert compile_pdf(d.document(), tmp_path / "subpixel.pdf").read_bytes().startswith(b"%PDF")


def test_derive_transposed_latex_is_the_checked_derivation(capsys, tmp_path):
    argv = ["derive", "--transposed", "--kernel", "4,4", "--stride", "2", "--padding", "1", "--format", "latex"]
    assert main([*argv, "--fragment"]) == 0
    fragment = capsys.readouterr().out
    assert fragment.count(r"\begin{theorem}") == 1 and r"\paragraph{Proved.}" in fragment
    assert r"(9) crop}" in fragment and r"\paragraph{Whole-layer checks.}" in fragment
    assert main([*argv, "-o", str(tmp_path / "t.pdf")]) == 0
    assert (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF")


# ---------------------------------------------------------------------------------------------
# the adjoint relation (AdjointTensors) and the book's transposed chapters
# ---------------------------------------------------------------------------------------------


def test_the_adjoint_tensors_are_transposes_and_a_wrong_entry_is_named():
    from symstride.layer.transposed import AdjointTensors

    adj = AdjointTensors(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1), 3)
    assert adj.check().ok and adj.T.shape == (6, 3) and adj.A.shape == (3, 6) and adj.bilinear_gap() == 0
    w = sp.IndexedBase("w")
    adj.T = adj.T.copy()
    adj.T[1, 0] = w[0]  # the transposed tensor reads tap 0 where the adjoint reads tap 2
    outcome = adj.check()
    assert not outcome.ok and outcome.detail == "T[1, 0] = w[0] but A[0, 1] = w[2]"


def test_the_transposed_chapters_are_in_the_book_and_check():
    from symstride.book import _package, chapter

    assert _package().CHAPTERS[-3:] == ("subpixel_dcgan", "transposed_adjoint", "proofs_transposed")
    dcgan = chapter("subpixel_dcgan")
    assert [p.check().ok for p in dcgan.parts] == [True, True]
    assert dcgan.parts[1].blocks[0].zeros == 0  # the 4×4 stride-2 kernel splits into four full 2×2 filters
    assert all(bool(report) for _, report in chapter("transposed_adjoint").check())
