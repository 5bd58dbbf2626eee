"""The 7×7 stride-2 stem on RGB input: the space-to-depth trick used on TPUs."""

from symstride import Conv, destride

TITLE = "The 7×7 stride-2 stem as a 4×4 convolution on 12 channels"
INTRO = (
    "The first layer of ResNet-50 is a 7x7 convolution of stride 2 and padding 3 on 3 input "
    "channels. After space-to-depth of the padded image by 2 it is a unit-stride 4x4 convolution "
    "on 12 channels -- the rewrite used to run the stem efficiently on TPUs. Shown for one output "
    "channel; all 64 filters follow the same pattern."
)


def build():
    return [destride(Conv(kernel=(7, 7), stride=2, padding=3, in_channels=3)).derivation]
