"""Theorem 1 on a small example: a stride-2 convolution is a unit-stride one, subsampled."""

from symstride import Conv
from symstride.proof.subsampling import subsampling_derivation

TITLE = "Stride as subsampling"
INTRO = (
    "A convolution with stride s computes every s-th output of the same convolution with unit "
    "stride. Shown for a 3-tap kernel and stride 2, as an identity of outputs and of convolution tensors."
)


def build():
    return [subsampling_derivation(Conv(kernel=3, stride=2))]
