"""Dropout and stochastic depth in a conversion: the identity at inference, random in training.

The converters work on eval-mode models, where these layers are the identity
(:func:`inference_identity`); :func:`dropped_randomness` says what randomness a conversion removes,
so that a converted model can refuse to train as if nothing had been removed.
"""

from __future__ import annotations

import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from .trunk import UnsupportedNode

__all__ = ["inference_identity", "dropped_randomness"]

_DROPOUT = {F.dropout: 2, F.dropout1d: 2, F.dropout2d: 2, F.dropout3d: 2, F.alpha_dropout: 2, F.feature_alpha_dropout: 2}


def inference_identity(node: fx.Node) -> bool:
    """Dropout and torchvision's ``stochastic_depth`` (an fx-wrapped function) outside training: the identity."""
    target = node.target
    if node.op != "call_function":
        return False
    if target in _DROPOUT:
        position, name = _DROPOUT[target], "training"
    elif getattr(target, "__name__", "") == "stochastic_depth" and getattr(target, "__module__", "").startswith("torchvision."):
        position, name = 3, "training"
    else:
        return False
    training = node.args[position] if len(node.args) > position else node.kwargs.get(name, True)
    if training is not False:
        raise UnsupportedNode(f"{target.__name__} in training mode (call model.eval())")
    return True


def dropped_randomness(gm: fx.GraphModule, node: fx.Node) -> str | None:
    """What randomness the eval-mode conversion of ``node`` drops: dropout with ``p > 0`` (module or
    function) or torchvision's stochastic depth, described for a message; None for anything else.

    Such a node is the identity at inference, so the conversion is exact there, but it would draw
    random masks in training, which the converted model does not reproduce.
    """
    if node.op == "call_module":
        mod = gm.get_submodule(node.target)
        if isinstance(mod, nn.modules.dropout._DropoutNd) and mod.p > 0:
            return f"{type(mod).__name__}(p={mod.p}) at node {node.name!r} (module {node.target!r})"
        return None
    if node.op != "call_function":
        return None
    target = node.target
    stochastic = getattr(target, "__name__", "") == "stochastic_depth" and getattr(target, "__module__", "").startswith("torchvision.")
    if target not in _DROPOUT and not stochastic:
        return None
    p = node.args[1] if len(node.args) > 1 else node.kwargs.get("p", 0.5)
    if not isinstance(p, (int, float)) or p > 0:
        return f"{target.__name__}(p={p}) at node {node.name!r}"
    return None
