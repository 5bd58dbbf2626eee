"""The 1-D polyphase identity: a 3-tap stride-2 convolution on two phases (the worked example)."""

from symstride import Conv, destride

TITLE = "The 1-D polyphase identity"
INTRO = (
    "The smallest worked example: a 3-tap kernel with stride 2 is a unit-stride "
    "convolution with 2-tap filters on the two phases of the input, with one structural zero."
)


def build():
    return [destride(Conv(kernel=3, stride=2)).derivation]
