"""Theorem 2 and the sub-pixel theorem on any number of axes, as the product of the 1-D proofs.

The rule ``separable-product`` is a registered rule with a schema (symstride/proof/products.py):
each line, unfolded to the inputs and weights, must be the product over the axes of the cited
1-D line under the recorded substitution of each axis.  Failing twins: axes swapped, one axis's
stride used on another, a shared symbol, a self-citation, an unknown cited result — each
rejected at the step, naming the rule.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from symstride.cli import main
from symstride.proof.products import AxisProduct
from symstride.proof.proofs import PROOFS, prove
from symstride.proof.rules import RULES
from symstride.proof.separable import polyphase_product_proof, subpixel_product_proof
from symstride.proof.step_proofs import prove_step

TITLE = RULES["separable-product"].title


@pytest.fixture(scope="module")
def two_d():
    d = polyphase_product_proof(2)
    d.result = "polyphase"
    return d


def _forged(d, **changes):
    product = replace(d.steps[1].product, **changes)
    return d.with_step(1, product=product)


def test_the_rule_is_registered_with_a_schema():
    rule = RULES["separable-product"]
    assert rule.title == "separable product over axes" and "every d ≥ 1" in rule.statement and "bilinear" in rule.sketch


def test_the_2d_polyphase_theorem_is_the_product_of_the_1d_one(two_d):
    verdict = prove_step(two_d, 1)
    assert verdict.status == "proved", verdict.detail
    assert verdict.cites == "polyphase-1d" and "the cited result polyphase-1d is proved" in verdict.detail
    assert len(verdict.obligations) > 20 and all(o.status == "proved" for o in verdict.obligations)


def test_polyphase_on_three_axes_is_proved():
    proof = prove("polyphase", ndim=3)
    assert proof.ok and proof.proved, proof.unproved
    d = proof.parts[-1]
    assert [s.rule for s in d.steps] == ["definition", "separable-product", "unit-stride-convolution"]
    assert len(d.steps[1].product.axes) == 3 and "3 axes" in proof.summary
    assert proof.check()[-1].instances == 512  # evidence: the small grid per axis


def test_the_transposed_theorem_on_two_axes_is_the_product():
    d = subpixel_product_proof(2)
    d.result = "transposed"
    verdict = prove_step(d, 1)
    assert verdict.status == "proved" and verdict.cites == "transposed-1d", verdict.detail


def test_swapped_axes_are_rejected(two_d):
    swapped = _forged(two_d, axes=tuple(reversed(two_d.steps[1].product.axes)))
    report = swapped.check()
    assert not report.ok and report.failed_step == 1
    assert report.failure.startswith(f"step 1 ({TITLE}): line 1 is not an instance of the rule"), report.failure


def test_one_axis_stride_used_for_another_is_rejected(two_d):
    s1, s2 = (sp.Symbol(f"s_{i}", integer=True, positive=True) for i in (1, 2))
    line = two_d.steps[1].expr
    wrong = line.replace(lambda a: isinstance(a, sp.Indexed) and a.base.label.name == "W'",
                         lambda a: a.func(a.base, *[i.xreplace({s2: s1}) if k == 0 else i for k, i in enumerate(a.indices)]))
    assert wrong != line
    verdict = prove_step(two_d.with_step(1, wrong), 1)
    assert verdict.failed and verdict.status in ("refuted", "not an instance"), verdict.detail
    report = two_d.with_step(1, wrong).check()
    assert report.failure.startswith(f"step 1 ({TITLE})")


def test_axes_sharing_a_symbol_are_not_independent(two_d):
    axes = two_d.steps[1].product.axes
    s = next(k for k in axes[0] if k.name == "s")
    shared = (axes[0], {**axes[1], s: axes[0][s]})
    verdict = prove_step(_forged(two_d, axes=shared), 1)
    assert verdict.status == "not an instance" and "share s_1: the axes are not independent" in verdict.detail


def test_a_symbol_left_out_of_a_substitution_is_shared(two_d):
    axes = two_d.steps[1].product.axes
    partial = tuple({k: v for k, v in sigma.items() if k.name != "N"} for sigma in axes)
    verdict = prove_step(_forged(two_d, axes=partial), 1)
    assert verdict.status == "not an instance" and "leaves N of polyphase-1d shared between axes" in verdict.detail


def test_the_product_may_not_cite_the_result_it_proves(two_d):
    d = _forged(two_d, cites="polyphase")
    verdict = prove_step(d, 1)
    assert verdict.status == "self-citation" and verdict.failed


def test_a_product_step_must_record_its_instance(two_d):
    verdict = prove_step(two_d.with_step(1, product=None), 1)
    assert verdict.status == "not an instance" and "must record the cited result and its substitution" in verdict.detail
    verdict = prove_step(_forged(two_d, cites="no-such-proof"), 1)
    assert verdict.status == "not an instance" and "no proof named 'no-such-proof'" in verdict.detail


def test_the_cited_lines_must_exist(two_d):
    verdict = prove_step(_forged(two_d, lines=(0, 40)), 1)
    assert verdict.status == "not an instance" and "has no line 40" in verdict.detail


def test_ndim_is_validated():
    with pytest.raises(ValueError, match="'noble-identity' has no number of axes"):
        prove("noble-identity", ndim=2)
    with pytest.raises(ValueError, match="ndim must be a positive integer.*got 0"):
        prove("polyphase", ndim=0)
    assert [p.title for p in prove("polyphase", ndim=1).parts] == ["Theorem 2 for symbolic parameters (1-D)"]
    assert {"polyphase-1d", "transposed-1d"} <= set(PROOFS)


def test_the_cli_takes_ndim(capsys):
    assert main(["prove", "noble-identity", "--ndim", "2"]) == 2
    assert "no number of axes" in capsys.readouterr().err


def test_axis_product_describes_itself(two_d):
    text = two_d.steps[1].product.describe()
    assert text.startswith("the 1-D result polyphase-1d (lines 0 = 5) on each of 2 axes: ") and "s ↦ s_1" in text and "s ↦ s_2" in text
    assert isinstance(two_d.steps[1].product, AxisProduct)
