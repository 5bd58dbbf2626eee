"""Which convolutions and poolings really run with a stride other than 1.

:func:`strided_ops` runs a model once under a ``TorchDispatchMode`` and records every ATen
operator whose schema has a ``stride`` argument (convolutions, transposed convolutions, max and
average pooling in any dimension) and that runs with a stride other than 1.  It looks at what
executes, below ``torch.fx`` graphs, module boundaries and functional calls, so it checks a
converted model independently of how the conversion was done.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["StridedOp", "strided_ops", "recorded_run"]


class StridedOp(NamedTuple):
    """One execution of a strided operator: its ATen name, stride and input shape."""

    op: str
    stride: tuple[int, ...]
    input_shape: tuple[int, ...]


class _Recorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[StridedOp] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        names = [a.name for a in func._schema.arguments]
        if "stride" in names:
            bound = dict(zip(names, args))
            bound.update(kwargs)
            stride = list(bound.get("stride") or [])
            if not stride and "kernel_size" in bound:  # pooling: an empty stride means the window size
                stride = list(bound["kernel_size"])
            first = args[0] if args else None
            shape = tuple(first.shape) if isinstance(first, torch.Tensor) else ()
            if any(int(v) != 1 for v in stride):
                self.found.append(StridedOp(str(func), tuple(int(v) for v in stride), shape))
        return func(*args, **kwargs)


def strided_ops(model: torch.nn.Module, *inputs: Any) -> list[StridedOp]:
    """Run ``model(*inputs)`` without gradients and list the strided operators that executed.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, stride=2), torch.nn.MaxPool1d(2))
    >>> [(op.op, op.stride) for op in strided_ops(net, torch.randn(1, 1, 16))]
    [('aten.convolution.default', (2,)), ('aten.max_pool2d_with_indices.default', (1, 2))]
    """
    return recorded_run(model, inputs)[1]


def recorded_run(model: torch.nn.Module, inputs: tuple) -> tuple[Any, list[StridedOp]]:
    """``model(*inputs)`` without gradients, and the strided operators that ran."""
    recorder = _Recorder()
    with torch.no_grad(), recorder:
        out = model(*inputs)
    return out, recorder.found
