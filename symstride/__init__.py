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

The names below are the public API; each is loaded from its owner module on first use, so
``import symstride`` stays light.  Numeric helpers live in their subpackages:
:mod:`symstride.reference` (the NumPy oracle: ``conv``, ``space_to_depth``, …),
:mod:`symstride.core.verify` (``verify_taps``), :mod:`symstride.algebra.operator_checks`
(``verify_subsampling``, ``verify_adjoint``); PyTorch integration in :mod:`symstride.torch`,
imported only when asked for.  ARCHITECTURE.md describes the layers.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name → the module that owns it.
_OWNERS = {
    "Conv": "symstride.algebra.operators",
    "Subsample": "symstride.algebra.resampling",
    "D": "symstride.algebra.resampling",
    "SpaceToDepth": "symstride.algebra.resampling",
    "DepthToSpace": "symstride.algebra.resampling",
    "Pointwise": "symstride.algebra.resampling",
    "ConvTranspose": "symstride.algebra.conv_transpose",
    "Bank": "symstride.algebra.expressions",
    "identity": "symstride.algebra.identities",
    "destride": "symstride.layer.destride",
    "check_mapping": "symstride.layer.mapping",
    "Derivation": "symstride.proof.derivation",
    "Step": "symstride.proof.step",
    "prove": "symstride.proof.proofs",
    "Network": "symstride.network.strided",
    "verify_network": "symstride.network.verify",
    "destride_decoder": "symstride.decoder.equivalent",
    "SymstrideError": "symstride.core.errors",
}

#: Subpackages and modules reachable as attributes (``symstride.reference.conv``).
_SUBMODULES = ("core", "render", "reference", "algebra", "proof", "layer", "network", "decoder", "export", "book", "cli", "torch")

__all__ = sorted(_OWNERS)


def __getattr__(name: str) -> Any:
    if name in _OWNERS:
        value = getattr(importlib.import_module(_OWNERS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'symstride' has no attribute {name!r}; the public names are {', '.join(__all__)}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
