"""The operator lemmas of the rule library, each proved for symbolic parameters."""

from symstride.proof.proofs import prove

TITLE = "The rule library's lemmas"
INTRO = (
    "Rules that relate operators are lemmas with proofs of their own: subsampling composes, the "
    "noble identity, pointwise maps commute with subsampling and space-to-depth, and space-to-depth "
    "is a permutation whose inverse is depth-to-space."
)


def build():
    names = ("subsampling-composition", "noble-identity", "pointwise-commutes", "space-to-depth-permutation")
    return [d for name in names for d in prove(name).parts]
