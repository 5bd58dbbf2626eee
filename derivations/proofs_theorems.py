"""Theorems 1, 2 and the core of Theorem 3, proved for symbolic parameters."""

from symstride.proof.proofs import prove

TITLE = "Proofs for symbolic stride, kernel, dilation and padding"
INTRO = (
    "The derivations of the previous chapters substitute numbers. Here the same chains are written "
    "for positive-integer symbols; every step cites a rule, its side conditions are decided by SymPy "
    "or exhaustively, and every line is evaluated exactly on a grid of small parameter values."
)


def build():
    return [d for name in ("stride-as-subsampling", "polyphase", "composition") for d in prove(name).parts]
