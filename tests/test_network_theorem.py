"""Theorem 3 for L layers (padding, boundary masks), proved by induction on the layers.

The one-layer rule (``network-layer``) is proved for all values — its reindex bounds, nonlinear in
B = s·R, settled with the quotient multiplied out — and the induction step (``network``) cites it
through the rule ``apply-result``.  Failing twins: a dropped shift, a dropped mask, a wrong
substitution, a self-citation and a broken reindex bound, each rejected at its step, named.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from symstride.cli import main
from symstride.proof.denominators import cleared
from symstride.proof.network_layer import layer_rule_proof
from symstride.proof.network_theorem import THEOREM_3, network_step_proof
from symstride.proof.proofs import PROOFS, prove
from symstride.proof.rules import RULES
from symstride.proof.step_proofs import prove_step


@pytest.fixture(scope="module")
def network():
    return prove("network")


def test_the_one_layer_rule_is_proved_and_checked():
    proof = prove("network-layer")
    assert proof.ok and proof.proved, proof.unproved
    (report,) = proof.check()
    assert report.instances == 604 and report.steps[4].proof.status == "proved"


def test_theorem_3_for_l_layers_is_proved_by_induction(network):
    assert network.ok and network.proved, network.unproved
    d = network.parts[0]
    assert [s.rule for s in d.steps] == ["definition", "apply-result", "unfold"]
    assert d.steps[1].product.cites == "network-layer"
    assert "by induction on l" in THEOREM_3 and "boundary masks" in PROOFS["network"][0]
    assert network.check()[0].instances == 604


def _line_without(expr, name):
    """Line 2 with every read of ``name`` replaced by 1 (the mask dropped)."""
    return expr.replace(lambda a: isinstance(a, sp.Indexed) and a.base.label.name == name, lambda a: sp.S.One)


def test_dropping_the_shift_is_refuted(network):
    d = network.parts[0]
    e = sp.ceiling(sp.Symbol("p", integer=True, nonnegative=True) / (sp.Symbol("s", integer=True, positive=True) * sp.Symbol("R", integer=True, positive=True)))
    forged = d.with_step(2, d.steps[2].expr.xreplace({e: 0}))
    assert forged.steps[2].expr != d.steps[2].expr
    report = forged.check()
    assert not report.ok and report.failed_step == 2
    assert report.failure.startswith(f"step 2 ({RULES['unfold'].title})"), report.failure


def test_dropping_the_boundary_mask_is_rejected(network):
    d = network.parts[0]
    verdict = prove_step(d.with_step(2, _line_without(d.steps[2].expr, "M")), 2)
    assert verdict.failed, verdict.detail


def test_a_wrong_substitution_of_the_cited_rule_is_rejected(network):
    d = network.parts[0]
    sigma = dict(d.steps[1].product.axes[0])
    s, R = (next(k for k in sigma if k.name == n) for n in ("s", "R"))
    sigma[s], sigma[R] = R, s
    verdict = prove_step(d.with_step(1, product=replace(d.steps[1].product, axes=(sigma,))), 1)
    assert verdict.failed and "line 1 is not an instance of the rule" in verdict.detail, verdict.detail


def test_the_induction_step_may_not_cite_itself(network):
    d = network.parts[0]
    verdict = prove_step(d.with_step(1, product=replace(d.steps[1].product, cites="network")), 1)
    assert verdict.status == "self-citation"


def test_one_substitution_per_instantiation(network):
    d = network.parts[0]
    two = replace(d.steps[1].product, axes=d.steps[1].product.axes * 2)
    verdict = prove_step(d.with_step(1, product=two), 1)
    assert verdict.status == "not an instance" and "one substitution, not 2" in verdict.detail


def test_a_broken_reindex_bound_of_the_layer_rule_fails_there():
    d = layer_rule_proof()
    broken = d.with_step(4, d.steps[4].expr.replace(sp.ceiling, lambda a: sp.ceiling(a) + 1))
    report = broken.check()
    assert not report.ok and report.failed_step == 4 and report.failure.startswith("step 4 (reindex by a bijection)"), report.failure


def test_cleared_is_an_equivalent_claim():
    B = sp.Symbol("B", integer=True, positive=True)
    x, m = sp.symbols("x m", integer=True)
    claim = sp.Ge((x + m) / B, sp.ceiling(x / B))
    assert cleared(claim) == sp.Ge(x + m - B * sp.ceiling(x / B), 0)
    y = sp.Symbol("y", integer=True)  # sign unknown: left alone
    assert cleared(sp.Ge(x / y, 1)) == sp.Ge(x / y, 1)
    assert cleared(sp.And(claim, sp.Eq(x / B, 2))) == sp.And(cleared(claim), sp.Eq(x - 2 * B, 0))


def test_prove_network_on_the_cli(capsys, tmp_path):
    assert main(["prove", "network", "-o", str(tmp_path / "network.tex"), "--format", "latex"]) == 0
    tex = (tmp_path / "network.tex").read_text()
    assert "induction" in tex and "apply" not in capsys.readouterr().err
