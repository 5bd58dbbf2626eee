"""Tied parameters: the converted model trains the original model's tensors.

Every converted module keeps the original layer's parameters and buffers — the same tensor
objects, never copies — and gathers whatever it convolves with from them on each call.  So
``converted.parameters()`` are the original parameters (structural zeros are not parameters),
an optimizer step on the converted model is a step on the original one, and batch-norm running
statistics are the original buffers.  In ``mode="layer"`` each converted module sits where the
original did, so state-dict names are unchanged; in ``mode="network"`` the tied tensors live in
the phase modules, which record their original names (``tied_names``), and
:func:`original_names` maps the converted state dict back to the original's keys.

Gathering the filters costs a pass over the weights on every call; :class:`InferenceCache` keeps
them between calls while no gradient is recorded (``torch.no_grad()``/``inference_mode``, not
tracing), keyed by the identity, version counter and storage of the weights, so an optimizer step,
``load_state_dict``, ``copy_`` or ``.to()`` makes the next call gather again.

>>> import torch
>>> from symstride.torch import destride_model
>>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.BatchNorm2d(4)).eval()
>>> flat = destride_model(net, torch.randn(1, 3, 9, 9), mode="network")
>>> sorted(set(original_names(flat).values())) == sorted(net.state_dict())
True
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

__all__ = ["tensor_names", "original_names", "InferenceCache"]


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


class InferenceCache:
    """Mixin for a module whose forward gathers filters from its own parameters.

    :meth:`prepared` returns ``build()``: recomputed on every call while autograd records (the
    gather is part of the graph, so gradients reach the original weights), kept between calls
    under ``torch.no_grad()`` as long as every tensor it was built from is unchanged — same
    object, same version counter, same storage, dtype and device.  (A write through ``.data``
    bypasses the version counter; call :meth:`clear_prepared` after one.)
    """

    def prepared(self, name: str, tensors: Sequence[torch.Tensor | None], build: Callable[[], torch.Tensor]) -> torch.Tensor:
        if torch.is_grad_enabled() or torch.jit.is_tracing() or torch.compiler.is_compiling():
            return build()
        key = tuple((id(t), t._version, t.data_ptr(), t.dtype, t.device, tuple(t.shape)) for t in tensors if t is not None)
        cache = self.__dict__.setdefault("_prepared", {})
        hit = cache.get(name)
        if hit is None or hit[0] != key:
            hit = cache[name] = (key, build())
        return hit[1]

    def clear_prepared(self) -> None:
        """Forget every kept filter."""
        self.__dict__.pop("_prepared", None)

    def _apply(self, fn, recurse=True):  # .to(), .double(), …: new storage, gather again
        self.clear_prepared()
        return super()._apply(fn, recurse)  # type: ignore[misc]
