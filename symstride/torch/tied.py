"""Tied parameters: the converted model trains the original model's tensors.

Every converted module keeps the original layer's parameters and buffers — the same tensor
objects, never copies — and gathers whatever it convolves with from them on each call.  So
``converted.parameters()`` are the original parameters (structural zeros are not parameters),
an optimizer step on the converted model is a step on the original one, and batch-norm running
statistics are the original buffers.  In ``mode="layer"`` each converted module sits where the
original did, so state-dict names are unchanged; in ``mode="network"`` the tied tensors live in
the phase modules, which record their original names (``tied_names``), and
:func:`original_names` maps the converted state dict back to the original's keys.

>>> import torch
>>> from symstride.torch import destride_model
>>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.BatchNorm2d(4)).eval()
>>> flat = destride_model(net, torch.randn(1, 3, 9, 9), mode="network")
>>> sorted(set(original_names(flat).values())) == sorted(net.state_dict())
True
"""

from __future__ import annotations

from torch import nn

__all__ = ["tensor_names", "original_names"]


def tensor_names(module: nn.Module) -> dict[int, str]:
    """``id(tensor) → name`` for every parameter and buffer of ``module`` (the first name of a shared one)."""
    names: dict[int, str] = {}
    for name, tensor in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]:
        names.setdefault(id(tensor), name)
    return names


def original_names(converted: nn.Module) -> dict[str, str]:
    """``converted`` state-dict key → the original model's key, for every key of ``converted``.

    A key of a module with ``tied_names`` (the phase modules of ``mode="network"``) maps to the
    name the tensor had in the original model; every other key is its own original name.
    """
    out = {key: key for key in converted.state_dict()}
    for prefix, module in converted.named_modules():
        for attr, name in getattr(module, "tied_names", {}).items():
            key = f"{prefix}.{attr}" if prefix else attr
            if key in out:
                out[key] = name
    return out
