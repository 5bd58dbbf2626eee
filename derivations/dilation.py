"""Stride with dilation: how δ and s together decide which phases carry weights."""

from symstride import Conv, destride

TITLE = "Stride with dilation"
INTRO = (
    "With dilation the tap m reads the input at offset δm, so the phase of a tap is δm mod s. "
    "When s divides δ every tap falls into phase 0 and the other phases can be dropped; when s "
    "and δ are coprime the taps spread over all phases."
)


def build():
    return [
        destride(Conv(kernel=3, stride=2, dilation=2, padding=2)).derivation,
        destride(Conv(kernel=3, stride=3, dilation=2, padding=1)).derivation,
    ]
