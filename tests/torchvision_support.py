"""Import torchvision's model builders on the CPU build of torch, where its C++ extension cannot load.

The ``torchvision==0.28.0`` wheel on PyPI is compiled against the CUDA build of torch 2.13.0; with
the CPU build its extension library ``torchvision/_C.so`` fails to load (torchvision tolerates that)
but ``torchvision/_meta_registrations.py`` then registers fake kernels for ``torchvision::nms`` and
``torchvision::qnms`` unconditionally, and ``import torchvision`` raises ``RuntimeError: operator
torchvision::nms does not exist``.  The model builders (ResNet, MobileNet, …) use none of
torchvision's custom operators, so it is enough that the two operators *exist*: this module
declares their schemas (as in torchvision's ``csrc/ops/nms.cpp``) with :mod:`torch.library`
before importing torchvision — when, and only when, the extension did not define them.  Calling
them still fails (no kernel), which is the truth: the detection ops are unavailable here.

Use ``from tests.torchvision_support import torchvision`` (or :func:`load_torchvision`) instead of
``import torchvision``; models are built with ``weights=None`` (random weights, nothing downloaded).

>>> tv = load_torchvision()
>>> type(tv.models.resnet18(weights=None)).__name__
'ResNet'
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import torch

__all__ = ["OPERATOR_SCHEMAS", "load_torchvision", "torchvision"]

#: Schemas of the torchvision operators that ``import torchvision`` needs to exist.
OPERATOR_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}

#: The library object that holds the declarations (a ``torch.library.Library`` lives as long as it).
_LIBRARY: list = []


def _defined(name: str) -> bool:
    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
    except RuntimeError:
        return False
    return True


def load_torchvision() -> ModuleType:
    """Import torchvision, declaring first the operator schemas its broken extension did not provide."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        raise ImportError("torchvision is not installed: pip install --no-deps torchvision==0.28.0")
    extensions = sorted(Path(spec.origin).parent.glob("_C*.so"))
    try:  # what torchvision.extension does first; defines the operators where the extension fits this torch
        if extensions and not _defined("nms"):
            torch.ops.load_library(str(extensions[0]))
    except (OSError, ImportError, RuntimeError):
        pass
    missing = [name for name in OPERATOR_SCHEMAS if not _defined(name)]
    if missing:
        lib = torch.library.Library("torchvision", "FRAGMENT")
        for name in missing:
            lib.define(OPERATOR_SCHEMAS[name])
        _LIBRARY.append(lib)
    return importlib.import_module("torchvision")


torchvision = load_torchvision()
