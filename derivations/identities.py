"""Identities between operator expressions, decided by symstride.identity."""

import sympy as sp

from symstride import Conv, D, SpaceToDepth
from symstride import Bank, identity
from symstride.algebra.resampling import DepthToSpace, Pointwise

TITLE = "Identities between operators"
INTRO = (
    "Operator expressions compose with *, applied right to left. Each identity below was decided for "
    "every input size: its failure is a linear-integer-arithmetic formula in the input size and the "
    "output index, which z3 decides; each side was also compared exactly on small sizes and run "
    "through the NumPy reference."
)

w = sp.IndexedBase("w")


def build():
    return [
        identity(D(2) * D(3), D(6)),
        identity(Conv(kernel=3, stride=2, padding=1), D(2) * Conv(kernel=3, padding=1)),
        identity(Conv(kernel=3, stride=2), Bank([[[w[0], w[2]], [w[1], 0]]]) * SpaceToDepth(2)),
        identity(D(2) * Pointwise("relu"), Pointwise("relu") * D(2)),
        identity(DepthToSpace(2) * SpaceToDepth(2), D(1)),
        identity(D(2) * D(200), D(400)),
    ]
