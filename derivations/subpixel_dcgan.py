"""Transposed convolution as sub-pixel convolution: a DCGAN generator layer and the 1-D example."""

from symstride import destride
from symstride.algebra.conv_transpose import ConvTranspose

TITLE = "Transposed convolution as sub-pixel convolution"
INTRO = (
    "A transposed (fractionally strided) convolution scatters every input sample through the kernel. "
    "Splitting its output by phase, t + p = s a + r, output phase r receives exactly the taps m with "
    "δm ≡ r (mod s): the layer is one unit-stride convolution producing C_out·P channels, followed by "
    "depth-to-space and a crop. First the 1-D 3-tap stride-2 layer with padding 1 and output padding 1, "
    "then the 4×4 stride-2 padding-1 layer of every DCGAN generator, each derived and checked step by step."
)


def build():
    return [
        destride(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1)).derivation,
        destride(ConvTranspose(kernel=(4, 4), stride=2, padding=1)).derivation,
    ]
