"""The PyTorch bridge: run strided models where only unit-stride convolutions exist.

Imported only on demand (``import symstride`` never imports torch)::

    from symstride.torch import destride_layer, destride_model

- :func:`destride_layer` — one strided ``Conv1d/2d/3d`` or pooling layer as padding,
  space-to-depth and a unit-stride convolution (Theorem 2), weights from symstride's mapping;
  a ``ConvTranspose1d/2d/3d`` as sub-pixel convolution (:mod:`.transposed`);
- :func:`destride_model` — a whole model, traced with ``torch.fx``: every strided convolution
  and pooling replaced (``mode="layer"``), or the tied non-strided network of Theorem 3
  (``mode="network"``); the output is checked against the original;
- :class:`SpaceToDepth` / :class:`DepthToSpace` — N-D, both channel layouts;
- :func:`strided_ops` — the convolutions and poolings that actually run with a stride ≠ 1.
"""

from .audit import strided_ops
from .dispatch import destride_layer
from .layers import FORMS, DestridedConv, DestridedConvCall, DestridedPool
from .model import destride_model
from .network import NETWORK_FORMS
from .phase_graph import PhaseGraph
from .spacetodepth import DepthToSpace, SpaceToDepth
from .transposed import DestridedConvTranspose, DestridedConvTransposeCall, PhaseDecoder

__all__ = [
    "FORMS",
    "NETWORK_FORMS",
    "SpaceToDepth",
    "DepthToSpace",
    "DestridedConv",
    "DestridedConvCall",
    "DestridedPool",
    "DestridedConvTranspose",
    "DestridedConvTransposeCall",
    "PhaseDecoder",
    "PhaseGraph",
    "destride_layer",
    "destride_model",
    "strided_ops",
]
