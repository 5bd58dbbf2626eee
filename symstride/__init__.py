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

from .core.errors import SymstrideError
from .layer.equivalence import Equivalence
from .layer.destride import destride
from .proof.derivation import Derivation
from .proof.step import Step
from .algebra.identities import Bank, identity
from .algebra.operators import Compose
from .layer.mapping import check_mapping
from .algebra.operators import Conv, D, DepthToSpace, Operator, Pointwise, SpaceToDepth, Subsample
from .proof.proofs import prove
from .network import EquivalentNetwork, Network, verify_network
from .core.params import ConvSpec
from .reference.convolution import (
    conv,
    conv_transpose,
    depth_to_space,
    destride_input,
    destride_transposed_input,
    destride_transposed_output,
    destride_transposed_weights,
    destride_weights,
    space_to_depth,
)
from .algebra.conv_transpose import ConvTranspose
from .layer.transposed import TransposedEquivalence
from .decoder import destride_decoder
from .core.tap_comparison import VerifyReport
from .algebra.operator_checks import verify_adjoint, verify_subsampling
from .core.verify import verify_taps

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
    "identity",
    "prove",
    "space_to_depth",
    "verify_adjoint",
    "verify_network",
    "verify_subsampling",
    "verify_taps",
]
