"""The numeric reference, written independently of the symbolic engine: NumPy convolution and
transposed convolution with PyTorch semantics, space-to-depth, and the equivalences in NumPy.

Imports only :mod:`symstride.core`.  The functions live in :mod:`symstride.reference.convolution`
and are the public face of this package:

>>> import numpy as np
>>> from symstride.reference import conv
>>> conv(np.ones((1, 1, 5)), np.ones((1, 1, 3)), stride=2).tolist()
[[[3.0, 3.0]]]
"""

from . import convolution
from .convolution import (
    PADDING_MODES,
    conv,
    conv_transpose,
    depth_to_space,
    destride_input,
    destride_live,
    destride_transposed_bias,
    destride_transposed_input,
    destride_transposed_output,
    destride_transposed_weights,
    destride_weights,
    pad,
    pad_or_trim,
    space_to_depth,
)

__all__ = list(convolution.__all__)
