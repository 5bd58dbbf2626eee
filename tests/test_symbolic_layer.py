"""Symbolic layers in the user API: validation, the symbolic equivalence, ``.subs`` and the derivation.

A layer with SymPy integer symbols among kernel, stride, dilation and padding must agree with
the concrete layer for every substitution: ``subs`` returns exactly the concrete equivalence,
and the symbolic ``k'``, ``P``, channel count, structural-zero count, tap rule and entry formula
evaluated at the values equal the concrete ones entry by entry (a Hypothesis grid over 1-D and
2-D layers mixing ints and symbols, with padding).  The derivation is the symbolic proof's chain
in the user's symbols and checks; a forged step fails, naming the step.
"""

from __future__ import annotations

import itertools
import os
from math import prod

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symstride import Conv, destride
from symstride.layer.equivalence import Equivalence
from symstride.proof.polyphase import polyphase_proof
from symstride.layer.symbolic_equivalence import SymbolicEquivalence
from symstride.algebra.operators import SymbolicConv
from symstride.core.symbolic_params import ConcreteValuesNeeded, SymbolicConvSpec

POS = {"integer": True, "positive": True}
k, s, d = sp.symbols("k s delta", **POS)
p = sp.Symbol("p", integer=True, nonnegative=True)


# ---------------------------------------------------------------------------------------------
# Validation: symbols need the assumptions their parameter needs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(kernel=sp.Symbol("k"), stride=2), ValueError,
         r"^kernel k must be a positive integer symbol: use sympy\.Symbol\('k', integer=True, positive=True\)$"),
        (dict(kernel=3, stride=sp.Symbol("s")), ValueError,
         r"^stride s must be a positive integer symbol: use sympy\.Symbol\('s', integer=True, positive=True\)$"),
        (dict(kernel=3, stride=sp.Symbol("s", integer=True)), ValueError, r"^stride s must be a positive integer symbol"),
        (dict(kernel=3, stride=sp.Symbol("s", positive=True)), ValueError, r"^stride s must be a positive integer symbol"),
        (dict(kernel=3, dilation=sp.Symbol("delta", integer=True, nonnegative=True)), ValueError,
         r"^dilation delta must be a positive integer symbol: use sympy\.Symbol\('delta', integer=True, positive=True\)$"),
        (dict(kernel=3, padding=sp.Symbol("p", integer=True)), ValueError,
         r"^padding p must be a nonnegative integer symbol: use sympy\.Symbol\('p', integer=True, nonnegative=True\)$"),
        (dict(kernel=k + 1, stride=2), ValueError, r"^kernel must be an integer or a single SymPy symbol, got the expression k \+ 1$"),
        (dict(kernel=(k, 0), stride=2), ValueError, r"^kernel must be a positive integer on every axis, got 0 \(axis 1\)$"),
        (dict(kernel=(k, 3, 3), stride=(2, s)), ValueError, r"^stride has 2 entries but the layer has 3 spatial axes"),
        (dict(kernel=sp.Symbol("n", **POS), stride=2), ValueError, r"^kernel symbol n clashes with an index or signal name"),
        (dict(kernel=sp.Symbol("r_1", **POS), stride=2), ValueError, r"^kernel symbol r_1 clashes"),
        (dict(kernel=k, stride=sp.Symbol("k", integer=True, positive=True, odd=True)), ValueError,
         r"^two different symbols are named k"),
        (dict(kernel=k, stride=2, in_channels=3, groups=2), ValueError, r"^groups=2 must divide in_channels=3$"),
        (dict(kernel=k, stride=2.0), TypeError, r"^stride must be an integer, got 2\.0"),
    ],
    ids=["kernel-plain", "stride-plain", "stride-not-positive", "stride-not-integer", "dilation-nonnegative",
         "padding-not-nonnegative", "expression", "zero-kernel", "axes", "reserved-n", "reserved-r_1", "same-name",
         "groups", "float"],
)
def test_bad_symbolic_parameters_are_refused_naming_symbol_and_rule(kwargs, error, message):
    with pytest.raises(error, match=message):
        Conv(**kwargs)


def test_symbols_with_the_right_assumptions_are_accepted_in_any_subset_and_axis():
    layer = Conv(kernel=(k, 3), stride=(2, s), dilation=d, padding=((p, 0), 1))
    assert isinstance(layer, SymbolicConv) and isinstance(layer, Conv)
    assert layer.spec == SymbolicConvSpec((k, 3), (2, s), (d, d), ((p, 0), (1, 1)))
    assert layer.symbols == (k, s, d, p)
    assert repr(layer) == "Conv(kernel=(k, 3), stride=(2, s), padding=[(p, 0), 1], dilation=delta)"
    assert layer.unit_stride() == Conv(kernel=(k, 3), dilation=d, padding=((p, 0), 1))
    assert Conv(kernel=3, stride=s).unit_stride() == Conv(kernel=3)
    # a positive symbol is also nonnegative: it may pad
    assert Conv(kernel=k, padding=k).spec.padding == ((k, k),)
    # concrete layers are untouched
    assert type(Conv(kernel=3, stride=sp.Integer(2))) is Conv


def test_symbolic_layer_subs_and_what_needs_numbers():
    layer = Conv(kernel=k, stride=s)
    assert layer.subs({k: 3, s: 2}) == Conv(kernel=3, stride=2)
    assert layer.subs({"k": 3}) == Conv(kernel=3, stride=s)  # partial: still symbolic
    with pytest.raises(ValueError, match=r"^'q' is not a symbol of this layer; its symbols are k, s$"):
        layer.subs({"q": 1})
    with pytest.raises(ValueError, match=r"^the value of k must be a positive integer \(as assumed\), got 0$"):
        layer.subs({k: 0, s: 1})
    with pytest.raises(ValueError, match=r"^the value of p must be a nonnegative integer \(as assumed\), got -1$"):
        Conv(kernel=3, padding=p).subs({p: -1})
    assert Conv(kernel=3, padding=p).subs({p: 0}) == Conv(kernel=3)
    with pytest.raises(TypeError, match=r"^the value of s must be an integer, got 1\.5$"):
        layer.subs({s: 1.5})
    for call in (lambda: layer.matrix(5), lambda: layer.weights, lambda: layer.output_shape(5)):
        with pytest.raises(ConcreteValuesNeeded, match=r"needs concrete parameters: the layer has symbols k, s; call \.subs"):
            call()


# ---------------------------------------------------------------------------------------------
# The symbolic equivalence
# ---------------------------------------------------------------------------------------------


def test_symbolic_equivalence_in_the_users_symbols():
    eq = destride(Conv(kernel=k, stride=s, dilation=d, padding=p))
    assert isinstance(eq, SymbolicEquivalence)
    assert eq.kernel == (sp.floor(d * (k - 1) / s) + 1,)
    assert eq.phases == s and eq.in_channels == s and eq.symbols == (k, s, d, p)
    # a Piecewise with the divisibility δ | s·j + r and the bound s·j + r ≤ δ(k − 1)
    assert str(eq.formula) == "Piecewise((w[(j*s + r)/delta], Eq(Mod(j*s + r, delta), 0) & (j*s + r <= delta*(k - 1))), (0, True))"
    (entry, cond), (zero, _) = eq.formula.args
    j, r = sp.Symbol("j", integer=True, nonnegative=True), sp.Symbol("r", integer=True, nonnegative=True)
    assert sp.expand(entry.indices[0]) == sp.expand((s * j + r) / d) and zero == 0
    assert eq.tap_rule.phase == (sp.Mod(d * sp.Symbol("m", integer=True, nonnegative=True), s),)


def test_what_needs_numbers_asks_for_values():
    eq = destride(Conv(kernel=k, stride=s))
    for what, call in [("verify", lambda: eq.verify(size=9)), ("verify_subsampling", eq.verify_subsampling),
                       ("the filter bank as an array", lambda: eq.filters), ("the tap list", lambda: eq.taps)]:
        with pytest.raises(ConcreteValuesNeeded) as info:
            call()
        assert str(info.value) == f"{what} needs concrete parameters: the layer has symbols k, s; call .subs({{k: ..., s: ...}}) first"


def test_only_padding_symbolic_keeps_the_filter_bank():
    """W' does not depend on the padding: with only p symbolic the bank is concrete; verify still asks."""
    eq = destride(Conv(kernel=3, stride=2, padding=p))
    concrete = destride(Conv(kernel=3, stride=2, padding=1))
    assert eq.filters == concrete.filters and eq.taps == concrete.taps and eq.kernel == (2,)
    with pytest.raises(ConcreteValuesNeeded, match=r"^verify needs concrete parameters: the layer has symbols p;"):
        eq.verify()


def test_equivalence_refuses_a_symbolic_layer_directly():
    with pytest.raises(TypeError, match=r"Equivalence expects a concrete symstride Conv layer"):
        Equivalence(Conv(kernel=k, stride=2))


# ---------------------------------------------------------------------------------------------
# subs: exactly the concrete equivalence, and the symbolic objects agree entry by entry
# ---------------------------------------------------------------------------------------------

PUBLIC = ("kernel", "phases", "in_channels", "out_channels", "groups", "layout", "spec", "layer", "taps", "structural_zeros",
          "weight_shape", "live_phases", "phase_vectors", "formula", "formula_lhs", "channel_expr")


@st.composite
def symbolic_layers(draw):
    """A 1-D or 2-D layer: per axis and parameter an int or a symbol (at least one symbol), and values for them."""
    ndim = draw(st.integers(1, 2))
    values: dict[sp.Symbol, int] = {}
    params: dict[str, list] = {"kernel": [], "stride": [], "dilation": [], "padding": []}
    ranges = {"kernel": (1, 6), "stride": (1, 4), "dilation": (1, 3), "padding": (0, 3)}
    letters = {"kernel": "k", "stride": "s", "dilation": "delta", "padding": "p"}
    for name in ("kernel", "stride", "dilation", "padding"):
        for a in range(ndim):
            value = draw(st.integers(*ranges[name]))
            if draw(st.booleans()):
                sym = sp.Symbol(f"{letters[name]}{a}" if ndim > 1 else letters[name], integer=True,
                                **({"nonnegative": True} if name == "padding" else {"positive": True}))
                values[sym] = value
                params[name].append(sym)
            else:
                params[name].append(value)
    if not values:  # at least one symbol: make the kernel of axis 0 one
        values[k] = params["kernel"][0]
        params["kernel"][0] = k
    right = draw(st.integers(0, 2))  # asymmetric padding on the last axis sometimes
    if draw(st.booleans()):
        params["padding"][-1] = (params["padding"][-1], right)
    channels = draw(st.sampled_from([(1, 1, 1), (2, 3, 1), (2, 2, 2)]))
    return {key: tuple(v) for key, v in params.items()}, values, channels


def _concrete(params, values):
    sub = lambda v: values.get(v, v) if isinstance(v, sp.Symbol) else v  # noqa: E731
    return {key: tuple(tuple(map(sub, x)) if isinstance(x, tuple) else sub(x) for x in v) for key, v in params.items()}


@settings(max_examples=int(os.environ.get("SYMBOLIC_EXAMPLES", "60")))
@given(symbolic_layers(), st.sampled_from(["pytorch", "tf"]))
def test_subs_is_the_concrete_equivalence_and_the_symbolic_objects_agree(case, layout):
    params, values, (cin, cout, groups) = case
    layout = "pytorch" if groups > 1 else layout
    concrete_params = _concrete(params, values)
    ndim = len(params["kernel"])
    concrete = destride(Conv(**concrete_params, in_channels=cin, out_channels=cout, groups=groups), layout=layout)
    sym = destride(Conv(**params, in_channels=cin, out_channels=cout, groups=groups), layout=layout)
    assert isinstance(sym, SymbolicEquivalence) and set(sym.symbols) == set(values)

    # subs returns exactly the concrete equivalence: every public attribute equal
    via = sym.subs(values)
    assert type(via) is Equivalence
    for name in PUBLIC:
        assert getattr(via, name) == getattr(concrete, name), name
    assert via.filters == concrete.filters and via.to_json() == concrete.to_json()
    assert via.formula_text() == concrete.formula_text()
    report = via.verify()
    assert report.exact, report.failure

    # the symbolic objects, evaluated at the values, are the concrete ones
    at = lambda e: sp.sympify(e).xreplace(values)  # noqa: E731
    assert tuple(at(kq) for kq in sym.kernel) == concrete.kernel
    assert at(sym.phases) == concrete.phases and at(sym.in_channels) == concrete.in_channels
    assert at(sym.structural_zeros) == concrete.structural_zeros
    assert tuple(at(v) for v in sym.weight_shape) == concrete.weight_shape

    # the tap rule: r = δm mod s, j = ⌊δm/s⌋ at every concrete tap
    rule = sym.tap_rule
    assert len(concrete.taps) == prod(concrete.spec.kernel)
    for tap in concrete.taps:
        point = {**values, **dict(zip(rule.tap, tap.tap))}
        assert tuple(e.xreplace(point) for e in rule.phase) == tap.phase
        assert tuple(e.xreplace(point) for e in rule.offset) == tap.offset

    # the entry formula, evaluated at every (o, c, r, j), is the concrete W' entry
    idx = sym.index_symbols
    cin_g = cin // groups
    for o, c in itertools.product(range(cout), range(cin_g)):
        for phase in concrete.phase_vectors:
            for offset in itertools.product(*map(range, concrete.kernel)):
                point = {**values, idx["o"][0]: o, idx["c"][0]: c, **dict(zip(idx["r"], phase)), **dict(zip(idx["j"], offset))}
                entry = sym.formula.xreplace(point)
                expected = concrete.filters[(o, concrete.phase_channel(phase, o, c), *offset)]
                assert entry == expected, (o, c, phase, offset, entry, expected)
                assert sym.formula_lhs.xreplace(point) == concrete.formula_lhs.xreplace(point)
    assert ndim == concrete.spec.ndim


# ---------------------------------------------------------------------------------------------
# The derivation: the symbolic proof's chain in the user's symbols
# ---------------------------------------------------------------------------------------------

LAYERS = {
    "k-s": lambda: Conv(kernel=k, stride=s),
    "k-s-delta-p": lambda: Conv(kernel=k, stride=s, dilation=d, padding=p),
    "2d-mixed": lambda: Conv(kernel=(k, 3), stride=(2, s), padding=(p, 1)),
    "padding-only": lambda: Conv(kernel=3, stride=2, padding=p),
    "channels-groups": lambda: Conv(kernel=k, stride=2, in_channels=2, out_channels=2, groups=2),
    "asymmetric": lambda: Conv(kernel=3, stride=s, padding=((p, 0),)),
}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_derivation_checks_in_the_users_symbols(make):
    eq = destride(make())
    derivation = eq.derivation
    report = derivation.check()
    assert report.ok, report.failure
    # the same chain as the named proof of Theorem 2
    assert [st.rule for st in derivation.steps] == [st.rule for st in polyphase_proof(1).steps]
    # every symbol varies over at least two values, and the grid is not empty
    for symbol in eq.symbols:
        assert len(set(derivation.grid.values[symbol])) >= 2, symbol
    assert report.instances > 0 and report.outputs > report.instances
    # and proved for all values of the symbols (every step an instance of its rule, z3 for the rest)
    assert report.proved, report.unproved
    text = derivation.text()
    for symbol in eq.symbols:
        assert str(symbol) in text


def test_a_forged_step_of_the_symbolic_derivation_is_rejected_naming_it():
    derivation = destride(Conv(kernel=k, stride=s)).derivation
    forged = derivation.with_step(3, derivation.steps[3].expr.xreplace({s: s + 1}))  # reindex with the wrong stride
    report = forged.check()
    assert not report.ok and report.failed_step == 3
    assert report.failure.startswith("step 3 (reindex by a bijection)")
    # every phase reading phase 0's filter (W'[0, j] for W'[φ(r), j]) is caught at step 5
    is_bank = lambda e: isinstance(e, sp.Indexed) and str(e.base) == "W'"  # noqa: E731
    line = derivation.steps[5].expr.replace(is_bank, lambda e: e.base[(0, *e.indices[1:])])
    assert line != derivation.steps[5].expr
    report = derivation.with_step(5, line).check()
    assert not report.ok and report.failed_step == 5 and report.failure.startswith("step 5 (structural zeros)")


def test_identity_with_a_symbolic_layer_asks_for_values():
    from symstride import D, identity

    with pytest.raises(ConcreteValuesNeeded, match=r"^identity with Conv\(kernel=k, stride=2\) needs concrete parameters: the layer has symbols k;"):
        identity(Conv(kernel=k, stride=2), D(2) * Conv(kernel=k))
