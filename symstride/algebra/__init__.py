"""Symbolic operators, expressions and their exact evaluation (the algebra layer).

Operators (:mod:`~symstride.algebra.operators`, :mod:`~symstride.algebra.conv_transpose`), their
products and claimed identities (:mod:`~symstride.algebra.identities`), and the exact evaluator of
derivation lines described below.  Imports only :mod:`symstride.core`, :mod:`symstride.reference` and
:mod:`symstride.render`.

**Exact evaluation** of derivation lines over grids of parameter values.

A derivation line is a SymPy expression built from finite ``Sum``\\ s (bounds may be symbolic),
products, ``Piecewise`` selections, Iverson brackets, integer index arithmetic (``floor``, ``ceiling``, ``Mod``)
and ``Indexed`` symbols — weights ``w[o, c, m]``, inputs ``x[c, q]`` and derived signals such as
padded inputs, phase signals or the equivalent filter bank, whose :class:`Definition` maps them
back to the inputs and weights.

Evaluation happens in two stages:

1. **Expansion** (symbolic, once per line): the expression becomes a list of :class:`Term`\\ s —
   nested summation limits, conditions, a coefficient and a product of ``Indexed`` atoms — and
   every defined atom is unfolded through its definition until only primitive atoms remain.
   Reading a signal outside the domain of its definition is recorded as an assertion.
2. **Instantiation** (numeric, vectorised): for every row of a :class:`Frame` (one row per
   parameter instance and output index) the summation limits are enumerated with NumPy
   (a ragged expansion — bounds may depend on outer indices), conditions filter the rows and the
   atoms' indices are computed exactly in rational integer arithmetic.  The result is a
   :class:`Table`: for every output row, the polynomial in the primitive atoms.

Two lines are equal exactly when their tables agree as polynomials (:func:`compare`); the
same tables evaluate numerically on pseudo-random float64 values (:func:`numeric`).  Nothing
is expanded with SymPy, so a grid of thousands of parameter instances takes a few NumPy calls.
An empty sum (upper bound below the lower bound) is zero, the usual convention on paper.

>>> import sympy as sp
>>> from symstride.algebra.frames import Frame
>>> from symstride.algebra.evaluation import evaluate
>>> from symstride.algebra.polynomials import compare
>>> n, m, N = sp.symbols("n m N", integer=True)
>>> x, w = sp.IndexedBase("x"), sp.IndexedBase("w")
>>> frame = Frame.grid({N: [6]}, domain=[(n, 0, N - 3)])
>>> a = evaluate(sp.Sum(w[m] * x[n + m], (m, 0, 2)), frame)
>>> b = evaluate(w[0] * x[n] + w[2] * x[n + 2] + w[1] * x[n + 1], frame)
>>> compare(a, b) is None
True
>>> print(compare(a, evaluate(w[0] * x[n] + w[1] * x[n + 2], frame)).describe(frame))
at N = 6, n = 0: the first side has w[0]·x[0] + w[1]·x[1] + w[2]·x[2], the second side has w[0]·x[0] + w[1]·x[2] (first difference: w[1]·x[1])

The stages live in their own modules: :mod:`~symstride.algebra.expansion` (terms and
definitions), :mod:`~symstride.algebra.frames`, :mod:`~symstride.algebra.evaluation`, :mod:`~symstride.algebra.polynomials`
(tables and their comparison) and :mod:`~symstride.algebra.random_evaluation` (float64 values).
"""

__all__: list[str] = []
