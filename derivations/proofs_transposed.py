"""The sub-pixel theorem and the transposed noble identity, proved for symbolic parameters."""

from symstride.proof.proofs import prove

TITLE = "Proofs: transposed convolution"
INTRO = (
    "The sub-pixel theorem for symbolic stride, kernel size, dilation, padding and output padding (in 1-D "
    "and 2-D), and the multirate identity it rests on: upsampling commutes with a filter upsampled by s. "
    "That depth-to-space is the inverse permutation of space-to-depth is the lemma of the rule library's chapter."
)


def build():
    return [d for name in ("transposed", "noble-identity-transposed") for d in prove(name).parts]
