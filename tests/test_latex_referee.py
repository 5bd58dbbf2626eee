"""A referee's read of the documents, as tests: named abbreviations, the notation of phase filters,
the check paragraphs' wording, hyperref's PDF strings and the notation chapter's tables.

* Named abbreviations (``k' = ⌊δ(k − 1)/s⌋ + 1``, ``N_out``) are identities: every sum limit and
  index of every line of the symbolic derivations equals, at random integer parameters, the same
  limit or index with the name put in and then its definition substituted back; a wrong definition
  is caught.  The symbolic documents define each name once, before the chain uses it, and no line
  writes the quantity out again (nor the unsimplified ``p + (N − 1)s − 2p + …``).
* The notation chapter's tables are recomputed independently: ``k'``, the bank entries and the
  structural zeros by enumerating the tap map ``δm = s j + r``, the output sizes by PyTorch, the
  parameter-sharing copies by counting each weight's appearances in the tied bank the network
  module builds.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symstride import Conv, ConvTranspose, Network, destride
from symstride.proof.polyphase import polyphase_proof
from symstride.proof.rules import reindex_bounds
from symstride.proof.subpixel import subpixel_proof, subpixel_steps
from symstride.proof.transposed_signals import TransposedSignals
from symstride.render.abbreviations import Abbreviation, QuantityName, abbreviate
from symstride.render.latex_log import read_log
from symstride.render.pdf import compile_document
from symstride.render.printing import Notation
from symstride.render.templates import render_template

FLOOR_KQ = r"\left\lfloor{\frac{\delta \left(k - 1\right)}{s}}\right\rfloor"


# ---------------------------------------------------------------------------------------------
# named abbreviations are identities
# ---------------------------------------------------------------------------------------------


def _pieces(expr) -> list:
    """Every sum limit and every index of ``expr``, in a fixed order (the tree walk)."""
    out = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Sum):
            out += [b for _, *bounds in node.limits for b in bounds]
        elif isinstance(node, sp.Indexed):
            out += list(node.indices)
    return out


def _values(symbols, rng: random.Random) -> dict:
    return {s: rng.randint(1 if s.is_positive else 0, 9) for s in symbols}


def _agree(original, named, abbreviations, rng) -> bool:
    back = named
    for ab in reversed(abbreviations):
        back = back.subs(ab.symbol, ab.value)
    symbols = sorted(original.free_symbols | back.free_symbols, key=str)
    for _ in range(20):
        point = _values(symbols, rng)
        if sp.simplify(original.subs(point) - back.subs(point)) != 0:
            return False
    return True


@pytest.mark.parametrize("ndim", [1, 2])
def test_every_limit_and_index_with_the_names_put_in_is_the_same_number(ndim):
    ch = TransposedSignals.symbolic(ndim)
    abbreviations = ch.notation().abbreviations
    assert [str(ab.symbol) for ab in abbreviations] == (["k'", "N_out"] if ndim == 1 else ["k'_1", "k'_2", "N_out_1", "N_out_2"])
    rng = random.Random(ndim)
    named_count = 0
    for step in subpixel_steps(ch):
        before, after = _pieces(step.expr), _pieces(abbreviate(step.expr, abbreviations))
        assert len(before) == len(after)
        for original, named in zip(before, after):
            named_count += named != original
            assert _agree(original, named, abbreviations, rng), f"{original} is not {named}"
    assert named_count >= 10  # the names are used, not only defined


def test_a_wrong_definition_of_a_name_is_caught():
    ch = TransposedSignals.symbolic(1)
    right = ch.notation().abbreviations
    wrong = tuple(Abbreviation(ab.symbol, ab.value + 1) for ab in right)  # k' off by one
    step = subpixel_steps(ch)[6]
    pairs = list(zip(_pieces(step.expr), _pieces(abbreviate(step.expr, right))))
    assert any(not _agree(a, b, wrong, random.Random(0)) for a, b in pairs if a != b)


def test_an_abbreviation_never_rewrites_its_own_definition_or_holds_its_name():
    d, k, s = sp.symbols("delta k s", integer=True, positive=True)
    kq = Abbreviation(sp.Symbol("k'"), sp.floor(d * (k - 1) / s) + 1, "the kernel size of a phase filter")
    assert abbreviate(kq.definition, [kq]) == kq.definition
    assert abbreviate(sp.floor(d * (k - 1) / s) + 1, [kq]) == sp.Symbol("k'")
    with pytest.raises(ValueError, match="appears in its own value"):
        Abbreviation(sp.Symbol("k'"), sp.Symbol("k'") + 1)
    with pytest.raises(TypeError, match="must be a SymPy Symbol"):
        Abbreviation("k'", k)
    assert sp.latex(QuantityName("N_out")) == r"N_{\mathrm{out}}"


def _chain(tex: str) -> str:
    return "\n".join(re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", tex, re.S))


def test_the_transposed_proof_defines_n_out_and_k_once_and_then_uses_them():
    d = TransposedSignals.symbolic(1)
    proof = subpixel_proof(1)
    tex = proof.latex(checked=False)
    chain = _chain(tex)
    assert FLOOR_KQ not in chain and "k' - 1" in chain and r"\frac{p + N_{\mathrm{out}}}{s}" in chain
    assert r"s - 2 p" not in chain  # never p + (N − 1)s − 2p + … inside the chain
    defined = tex.index(r"$N_{\mathrm{out}} = \left(N - 1\right) s - 2 p + \delta \left(k - 1\right) + o_{p} + 1$ (the output length)")
    assert defined < tex.index(r"\begin{align*}")
    assert tex.count(r"N_{\mathrm{out}} = ") == 1
    # the failing twin: the same chain printed without the names writes the quantities out
    plain = Notation(d.notation().brackets, d.notation().latex_names)
    assert FLOOR_KQ in plain.latex(proof.steps[6].expr) and "s - 2 p" in plain.latex(proof.steps[2].expr)


def test_the_symbolic_stride_removal_uses_k_prime_per_axis():
    one, two = polyphase_proof(1), polyphase_proof(2)
    chain1, tex2 = _chain(one.latex(checked=False)), two.latex(checked=False)
    assert FLOOR_KQ not in chain1 and r"\sum_{j=0}^{k' - 1}" in chain1
    assert r"\sum_{j_{1}=0}^{k'_{1} - 1}" in _chain(tex2) and r"\left\lfloor{\frac{\delta_{1}" not in _chain(tex2)
    assert r"$k'_{1} = \left\lfloor{\frac{\delta_{1} \left(k_{1} - 1\right)}{s_{1}}}\right\rfloor + 1$" in tex2
    text = one.text()
    assert "k' = ⌊(δ·(k - 1))/s⌋ + 1" in text and "k' = k'" not in text


def test_a_concrete_layer_has_numbers_and_no_names():
    assert destride(Conv(kernel=3, stride=2)).derivation.notation.abbreviations == ()


# ---------------------------------------------------------------------------------------------
# the check paragraphs: no undefined "lo"/"hi"
# ---------------------------------------------------------------------------------------------


def test_the_reindex_side_conditions_say_what_they_bound_in_the_layers_own_terms():
    r = sp.Symbol("r", integer=True, nonnegative=True)
    _, _, conds = reindex_bounds(0, 2, scale=1, stride=2, residue=r)
    texts = [c.text for c in conds]
    assert texts == ["the lowest index is ⌈−r/2⌉ = 0 because 0 ≤ r ≤ 1", "the highest index is ⌊(2 − r)/2⌋ = ⌈(3 − r)/2⌉ − 1"]
    assert not any(re.search(r"\b(lo|hi)\b", t) for t in texts)


# ---------------------------------------------------------------------------------------------
# hyperref: headings with mathematics carry a PDF string
# ---------------------------------------------------------------------------------------------


def test_a_heading_with_mathematics_needs_a_pdf_string(tmp_path):
    bad = compile_document(render_template("document.tex", title="t", body="\\section{The kernel $k'$}\nText."), tmp_path / "bad.pdf")
    faults = read_log(bad.log)
    assert faults.hyperref and "Token not allowed in a PDF string" in faults.hyperref[0]
    assert any(p.startswith("hyperref: Token not allowed") for p in faults.problems())
    good = compile_document(render_template("document.tex", title="t", body="\\section{The kernel \\texorpdfstring{$k'$}{k'}}\nText."),
                            tmp_path / "good.pdf")
    assert read_log(good.log).hyperref == []


# ---------------------------------------------------------------------------------------------
# whole phase filters and entries
# ---------------------------------------------------------------------------------------------


def test_a_whole_phase_filter_is_named_with_its_phase_in_parentheses():
    from symstride.layer.filterbank import FilterBank

    tex = FilterBank(destride(Conv(kernel=(3, 3), stride=2, padding=1))).latex_block()
    assert "W'_{(0,1)} = " in tex and "W'_{0,1} = " not in tex
    assert "phase $r = (0,1)$" in tex


# ---------------------------------------------------------------------------------------------
# the notation chapter's tables, recomputed independently
# ---------------------------------------------------------------------------------------------


def _tap_bank(k: int, s: int, d: int) -> tuple[int, int, int]:
    """``(k', entries, zeros)`` of a square 2-D layer from the tap map ``δm = s j + r`` alone."""
    reached = {(r, j) for m in range(k) for j, r in [divmod(d * m, s)]}  # one axis: (phase, offset)
    kq = max(j for _, j in reached) + 1
    entries = (s * kq) ** 2  # P = s² phases, k'² entries each
    return kq, entries, entries - len(reached) ** 2


def _copies(layer: Conv, size) -> set[int]:
    """How often each original weight appears in layer 0's tied bank when a 1×1 stride-2 layer follows."""
    spec = layer.spec
    net = Network.from_spec({"input": {"channels": 1, "size": list(size)}, "layers": [
        {"type": "conv", "out_channels": 1, "kernel": list(spec.kernel), "stride": list(spec.stride),
         "padding": [p[0] for p in spec.padding], "dilation": list(spec.dilation)},
        {"type": "conv", "out_channels": 1, "kernel": 1, "stride": 2}]})
    index = np.asarray(net.destride().ops[0].weight_index).ravel()
    counts = np.bincount(index[index >= 0], minlength=int(np.prod(spec.kernel)))
    return set(int(c) for c in counts)


def _torch_size(layer, size: int) -> int:
    torch = pytest.importorskip("torch")
    spec = layer.spec
    x = torch.zeros(1, 1, size, size, dtype=torch.float64)
    if isinstance(layer, ConvTranspose):
        w = torch.zeros(1, 1, *spec.kernel, dtype=torch.float64)
        y = torch.nn.functional.conv_transpose2d(x, w, stride=spec.stride, padding=[p[0] for p in spec.padding],
                                                 dilation=spec.dilation)
    else:
        w = torch.zeros(1, 1, *spec.kernel, dtype=torch.float64)
        y = torch.nn.functional.conv2d(x, w, stride=spec.stride, padding=[p[0] for p in spec.padding], dilation=spec.dilation)
    return int(y.shape[-1])


def _notation_chapter():
    from symstride.book import chapter

    return chapter("notation")


def test_every_number_of_the_common_layers_table_is_recomputed_independently():
    part = _notation_chapter().parts[0]
    tex = part.latex()
    layers = __import__("symstride.derivations.notation", fromlist=["LAYERS"]).LAYERS
    assert len(part.rows) == len(layers) == 5
    for row, (name, layer, size) in zip(part.rows, layers):
        spec = layer.spec
        k, s, d = spec.kernel[0], spec.stride[0], spec.dilation[0]
        kq, entries, zeros = _tap_bank(k, s, d)  # the sub-pixel bank splits δm = s q + r the same way
        if isinstance(layer, ConvTranspose):  # output phases; each weight appears once: no copies column
            expected = {"k_eq": kq, "phases": s * s, "entries": entries, "zeros": zeros, "sharing": None}
        else:
            (copies,) = _copies(layer, size)  # every weight appears equally often
            expected = {"k_eq": kq, "phases": s * s, "entries": entries, "zeros": zeros, "sharing": copies}
        assert {key: row[key] for key in expected} == expected, name
        assert row["out"] == _torch_size(layer, size[0]), name
        cells = [row["kernel"], row["stride"], row["padding"], row["dilation"], row["k_eq"], row["phases"], row["entries"], row["zeros"]]
        shown = " & ".join(map(str, cells)) + " & " + ("---" if row["sharing"] is None else str(row["sharing"]))
        assert shown in tex, f"{name}: the table does not show {shown}"
        assert f"${size[0]} \\to {row['out']}$" in tex


def test_the_sharing_count_sees_a_weight_that_appears_unevenly():
    # the failing twin of the copies column: a bank where one weight is missing changes the count
    index = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    assert set(int(c) for c in np.bincount(index, minlength=3)) == {3, 2}


def test_the_symbols_a_proof_holds_for_print_as_mathematics(tmp_path):
    from symstride.render.templates import environment

    symbol = environment().filters["symbol"]
    names = ["N₁", "N₂", "k₁", "o_p", "o_p₁", "oₚ₁", "δ₂", "s"]  # oₚ₁: how the text printer writes o_p_1
    shown = ", ".join(symbol(n) for n in names)
    assert shown == r"$N_{1}$, $N_{2}$, $k_{1}$, $o_{p}$, $o_{p,1}$, $o_{p,1}$, $\delta_{2}$, $s$"
    result = compile_document(render_template("document.tex", title="t", body=f"Proved for all values of {shown}."), tmp_path / "s.pdf")
    assert read_log(result.log).problems() == []
