"""Theorems 1, 2 (on any number of axes, as a product of the 1-D theorem) and 3 (its core, the one-layer rule and L layers by induction), proved for symbolic parameters."""

from symstride.proof.proofs import prove

TITLE = "Proofs for symbolic stride, kernel, dilation and padding"
INTRO = (
    "The derivations of the previous chapters substitute numbers. Here the same chains are written "
    "for positive-integer symbols; every step cites a rule, its side conditions are decided by SymPy "
    "or exhaustively, and every line is evaluated exactly on a grid of small parameter values."
)


def build():
    return [d for name in ("stride-as-subsampling", "polyphase", "composition", "network-layer", "network") for d in prove(name).parts]
