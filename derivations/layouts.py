"""The two channel layouts, PyTorch (channel-major) and TensorFlow/ONNX (phase-major), side by side."""

from symstride import Conv, destride
from symstride.layer.channel_orders import ChannelOrders

TITLE = "Two channel layouts: PyTorch and TensorFlow/ONNX"
INTRO = (
    "Space-to-depth has two conventions: PyTorch's pixel_unshuffle orders the new channels "
    "channel-major, c P + phi(r); TensorFlow and ONNX order them phase-major, phi(r) C + c. "
    "The equivalent filter banks differ by the same permutation of input channels."
)

LAYER = Conv(kernel=(3, 3), stride=2, padding=1, in_channels=2)


def build():
    return [
        ChannelOrders(LAYER),
        destride(LAYER, layout="pytorch").derivation,
        destride(LAYER, layout="tf").derivation,
    ]
