"""symstride: striding in convolutional networks, derived, proved, checked and exported.

A convolution with stride ``s`` equals a unit-stride convolution followed by subsampling
(Theorem 1), and a unit-stride convolution with smaller kernels over ``Π s`` times more input
channels — the space-to-depth phases of its input (Theorem 2).

>>> from symstride import Conv, destride
>>> eq = destride(Conv(kernel=3, stride=2, padding=1))
>>> eq.kernel, eq.in_channels, eq.structural_zeros
((2,), 2, 1)
>>> eq.verify(size=10).exact
True

PyTorch integration lives in :mod:`symstride.torch`, imported only when asked for.
"""

from .errors import SymstrideError
from .equivalence import Equivalence, destride
from .derivation import Derivation, Step
from .identities import Bank, Compose, identity
from .mapping import check_mapping
from .operators import Conv, D, DepthToSpace, Operator, Pointwise, SpaceToDepth, Subsample
from .proofs import prove
from .network import EquivalentNetwork, Network, verify_network
from .params import ConvSpec
from .reference import (
    conv,
    conv_transpose,
    depth_to_space,
    destride_input,
    destride_live,
    destride_transposed_input,
    destride_transposed_output,
    destride_transposed_weights,
    destride_weights,
    space_to_depth,
)
from .transposed import ConvTranspose, TransposedEquivalence
from .decoder import destride_decoder
from .verify import VerifyReport, verify_adjoint, verify_subsampling, verify_taps

__version__ = "0.1.0"

__all__ = [
    "Bank",
    "Compose",
    "Conv",
    "ConvSpec",
    "ConvTranspose",
    "D",
    "DepthToSpace",
    "Derivation",
    "Equivalence",
    "EquivalentNetwork",
    "Network",
    "Operator",
    "Pointwise",
    "SpaceToDepth",
    "Step",
    "Subsample",
    "SymstrideError",
    "TransposedEquivalence",
    "VerifyReport",
    "check_mapping",
    "conv",
    "conv_transpose",
    "depth_to_space",
    "destride",
    "destride_decoder",
    "destride_input",
    "destride_transposed_input",
    "destride_transposed_output",
    "destride_transposed_weights",
    "destride_weights",
    "destride_live",
    "identity",
    "prove",
    "space_to_depth",
    "verify_adjoint",
    "verify_network",
    "verify_subsampling",
    "verify_taps",
]
