"""Theorem 3: a whole strided network as an exact non-strided network with tied filters.

The pipeline reads top to bottom — spec → strided network → equivalent network → checks:

* :mod:`.spec` parses and validates the JSON/dict format;
* :mod:`.strided` holds :class:`Network` and its NumPy forward (PyTorch semantics), with
  :mod:`.pointwise` and :mod:`.pooling`;
* :mod:`.phases` is the multi-rate index arithmetic (``B·j + r = s·q + δ·m − p + B·e``),
  :mod:`.boundary` decides the masks, :mod:`.equivalent` builds the tied network as plain data;
* :mod:`.verify` decides exactness by integer index analysis, :mod:`.sharing` counts the
  parameter sharing, :mod:`.summary` and :mod:`.latex` report.

>>> net = Network.from_spec({"input": {"channels": 3, "size": [16, 16]},
...     "layers": [{"type": "conv", "out_channels": 8, "kernel": 3, "stride": 2, "padding": 1},
...                {"type": "relu"}, {"type": "maxpool", "kernel": 2}]})
>>> eq = net.destride()
>>> verify_network(eq).exact, sharing(eq).layers[0].sharing_factor
(True, 4)
"""

from .equivalent import EquivalentNetwork, destride_network
from .phase_ops import InputStage, Mask, PhaseActivation, PhaseBatchNorm, PhaseResidual, TiedConv, TiedMaxPool
from .phases import PhaseBasis
from .sharing import SharingReport, sharing
from .spec import NetworkSpec, parse
from .strided import Network
from .summary import Summary, summarize
from .verify import NetworkVerification, verify_network

__all__ = [
    "Network",
    "NetworkSpec",
    "parse",
    "destride_network",
    "EquivalentNetwork",
    "InputStage",
    "Mask",
    "PhaseBasis",
    "TiedConv",
    "TiedMaxPool",
    "PhaseActivation",
    "PhaseBatchNorm",
    "PhaseResidual",
    "verify_network",
    "NetworkVerification",
    "sharing",
    "SharingReport",
    "summarize",
    "Summary",
]
