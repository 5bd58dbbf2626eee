"""Which convolutions and poolings really run with a stride other than 1.

:func:`strided_ops` runs a model once under a ``TorchDispatchMode`` and records every ATen
operator that slides a window over its input with a step other than 1:

- operators with a ``stride`` argument *and* a window (a ``weight`` or a ``kernel_size``):
  convolutions, transposed convolutions, max and average pooling in any dimension, ``im2col``;
- adaptive pooling (``_adaptive_avg_pool2d``, ``adaptive_max_pool3d``, …), which has no
  ``stride`` argument but whose windows stride *in effect* when their starts move by more than
  one sample (:func:`symstride.core.adaptive.window_stride`: 12 → 6 is a pooling with stride 2);
- fractional max pooling (random steps, at least ``ceil(n/m)`` somewhere) and ``Tensor.unfold``
  with ``step`` > 1.

Tensor *memory* strides are not windows: ``as_strided``, ``as_strided_`` (which
``adaptive_avg_pool2d`` emits on channels_last tensors), ``empty_strided`` and the like take a
``stride`` argument that lays out memory, and are not recorded.  Neither are slices with a step
(``x[..., ::2]``): they are how space-to-depth splits a signal into its phases.

The audit looks at what executes, below ``torch.fx`` graphs, module boundaries and functional
calls, so it checks a converted model independently of how the conversion was done.  Each record
names the innermost module that was running (its qualified name in the model, ``""`` for the
model itself).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ..core.adaptive import window_stride

__all__ = ["StridedOp", "strided_ops", "recorded_run", "effective_stride"]


class StridedOp(NamedTuple):
    """One execution of a strided operator: its ATen name, stride, input shape and module."""

    op: str
    stride: tuple[int, ...]
    input_shape: tuple[int, ...]
    module: str = ""


def _bound(func: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    names = [a.name for a in func._schema.arguments]
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def effective_stride(func: Any, args: tuple, kwargs: dict | None = None) -> tuple[int, ...] | None:
    """The per-axis step of the windows the ATen call ``func(*args, **kwargs)`` slides, or None.

    None for operators that slide no window (elementwise operators, views, memory layout).

    >>> import torch
    >>> x = torch.zeros(1, 1, 12, 12)
    >>> effective_stride(torch.ops.aten._adaptive_avg_pool2d.default, (x, [6, 6]))
    (2, 2)
    >>> effective_stride(torch.ops.aten.as_strided_.default, (x, [1, 1, 12, 12], [144, 144, 12, 1])) is None
    True
    """
    bound = _bound(func, args, kwargs or {})
    name = func._schema.name
    first = args[0] if args else None
    if "stride" in bound and ("weight" in bound or "kernel_size" in bound):
        stride = list(bound.get("stride") or [])
        if not stride and "kernel_size" in bound:  # pooling: an empty stride means the window size
            stride = list(bound["kernel_size"])
        return tuple(int(v) for v in stride)
    if "adaptive" in name and "backward" not in name and isinstance(first, torch.Tensor):
        out = [int(v) for v in bound["output_size"]]
        sizes = first.shape[first.dim() - len(out):]
        return tuple(window_stride(int(n), m) if n > 0 and m > 0 else 1 for n, m in zip(sizes, out))  # empty: no window
    if "fractional_max_pool" in name and "backward" not in name and isinstance(first, torch.Tensor):
        out = [int(v) for v in bound["output_size"]]
        sizes = first.shape[first.dim() - len(out):]
        return tuple(-(-int(n) // m) if m < n else 1 for n, m in zip(sizes, out))
    if name == "aten::unfold" and isinstance(first, torch.Tensor):
        return (int(bound["step"]),)
    return None


class _Recorder(TorchDispatchMode):
    def __init__(self, modules: list[str]) -> None:
        super().__init__()
        self.found: list[StridedOp] = []
        self.modules = modules

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        stride = effective_stride(func, args, kwargs)
        if stride is not None and any(v != 1 for v in stride):
            first = args[0] if args else None
            shape = tuple(first.shape) if isinstance(first, torch.Tensor) else ()
            self.found.append(StridedOp(str(func), stride, shape, self.modules[-1]))
        return func(*args, **kwargs)


def strided_ops(model: torch.nn.Module, *inputs: Any) -> list[StridedOp]:
    """Run ``model(*inputs)`` without gradients and list the strided operators that executed.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, stride=2), torch.nn.MaxPool1d(2))
    >>> [(op.op, op.stride, op.module) for op in strided_ops(net, torch.randn(1, 1, 16))]
    [('aten.convolution.default', (2,), '0'), ('aten.max_pool2d_with_indices.default', (1, 2), '1')]
    >>> pool = torch.nn.AdaptiveAvgPool2d(6)     # 12 → 6: windows of 2 every 2 samples
    >>> [(op.op, op.stride) for op in strided_ops(pool, torch.randn(1, 1, 12, 12))]
    [('aten._adaptive_avg_pool2d.default', (2, 2))]
    """
    return recorded_run(model, inputs)[1]


def recorded_run(model: torch.nn.Module, inputs: tuple) -> tuple[Any, list[StridedOp]]:
    """``model(*inputs)`` without gradients, and the strided operators that ran."""
    stack = [""]

    def enter(name: str) -> Any:
        def hook(module: torch.nn.Module, args: Any) -> None:
            stack.append(name)
        return hook

    def leave(module: torch.nn.Module, args: Any, output: Any) -> None:
        stack.pop()

    handles = []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_pre_hook(enter(name)))
            handles.append(module.register_forward_hook(leave))
    recorder = _Recorder(stack)
    try:
        with torch.no_grad(), recorder:
            out = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return out, recorder.found
