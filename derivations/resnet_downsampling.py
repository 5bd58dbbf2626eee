"""The ResNet downsampling layer: 3×3, stride 2, padding 1, in 2-D."""

from symstride import Conv, destride

TITLE = "The ResNet downsampling layer (3×3, stride 2, padding 1)"
INTRO = (
    "Every ResNet stage starts with a 3x3 convolution of stride 2 and padding 1. On the four "
    "phases of the padded input it is a unit-stride convolution with 2x2 filters, of whose 16 "
    "entries per channel pair 7 are structural zeros (4, 2, 2 and 1 live taps per phase)."
)


def build():
    return [destride(Conv(kernel=(3, 3), stride=2, padding=1)).derivation]
