"""Theorem 3 on a traced PyTorch model: the tied phase-domain modules of ``mode="network"``.

``destride_model(..., mode="network")`` reads the model's graph with :mod:`.graph_reader` and
builds the equivalent non-strided network with :mod:`.phase_graph` — one space-to-depth at the
input, then tied filter banks ``W'[o·R^d + φ(q), c·B^d + φ(r), j] = w[o, c, m]`` and 0/1 masks
exactly where :mod:`symstride.network`'s boundary analysis puts them.  This module holds the
PyTorch modules that execute its windowed layers and pointwise maps; every index map comes from
:mod:`symstride.network`.

Two forms execute a tied convolution (:data:`NETWORK_FORMS`): ``dense`` materialises ``W'``
and runs one unit-stride convolution — the statement of Theorem 3, structural zeros included,
which for ResNet-18 at 224×224 means banks of 16384×3072×3×3 entries; ``gather`` (the default)
reads, for every output phase and tap, the input phase and offset the tap map names (one gather
of unit-stride windows from the phase tensor) and multiplies by the original weight, shared by
all ``R^d`` output phases — the tied bank without its zeros.

The converted model trains like the original: every phase module holds the original layer's
parameters and buffers (:mod:`.tied`), and batch-norm in training mode takes each original
channel's statistics over its phases and true samples (:mod:`.phase_norm`).
"""

from __future__ import annotations

from math import prod
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import SymstrideError
from ..network.phase_ops import Mask, TiedConv, TiedMaxPool
from ..network.phases import phase_tap_arrays
from .layers import as_parameter, gather_weight
from .padding import pad_widths
from .tied import InferenceCache

__all__ = ["NETWORK_FORMS", "MAX_DENSE_ENTRIES", "TiedConvolution", "TiedMaxPooling", "PhasePointwise"]

#: Forms of a tied convolution in ``mode="network"`` (see the module docstring).
NETWORK_FORMS = {
    "gather": "gather each output phase's taps from the phase tensor, multiply by the shared original weight",
    "dense": "materialise the tied bank W' and run one unit-stride convolution (structural zeros included)",
    "auto": "gather",
}

#: The largest tied bank ``form="dense"`` materialises (entries per layer).
MAX_DENSE_ENTRIES = 2**27


# --- the equivalent network as PyTorch modules ------------------------------------------------


def _flat_windows(taps: Any, in_length: Sequence[int], out_length: Sequence[int]) -> tuple[np.ndarray, int, int]:
    """Flat gather positions ``(T, R^d, Π A_out)`` into a ``(P_in, *in_length)`` phase tensor, and ``R^d``, ``T``.

    Entry ``[t, φ(q), a]`` is where tap ``t`` of output phase ``q`` reads for output sample ``a``:
    position ``a + j`` of input phase ``r``, ``(φ(q), t) ↦ (φ(r), j)`` being the layer's tap map.
    """
    q, r, m, j = phase_tap_arrays(taps)
    strides = np.cumprod((1, *in_length[::-1]))[:-1][::-1]  # row-major strides of the padded phase grid
    base = r * prod(in_length) + (j * strides[:, None]).sum(axis=0)
    grid = np.zeros(1, dtype=np.int64)
    for n, st in zip(out_length, strides):
        grid = (grid[:, None] + st * np.arange(n)[None, :]).reshape(-1)
    n_out = int(q.max()) + 1
    n_taps = len(q) // n_out
    if not np.array_equal(q, np.repeat(np.arange(n_out), n_taps)):
        raise SymstrideError("internal: the tap map is not ordered by output phase")
    windows = base.reshape(n_out, n_taps)[:, :, None] + grid[None, None, :]
    return np.ascontiguousarray(windows.transpose(1, 0, 2)), n_out, n_taps


def _gather(z: torch.Tensor, phases: int, windows: torch.Tensor) -> torch.Tensor:
    """``(b, C, T·R^d·Π A)``: for every channel the samples ``windows`` names in its phase tensor."""
    flat = z.reshape(z.shape[0], z.shape[1] // phases, -1)
    return torch.gather(flat, 2, windows.expand(flat.shape[0], flat.shape[1], -1))


def _phase_pad(z: torch.Tensor, padding: Sequence[tuple[int, int]], value: float) -> torch.Tensor:
    """Pad the spatial axes by ``(left, right)`` pairs with ``value`` (a negative width crops)."""
    flat = pad_widths(padding)
    return F.pad(z, flat, value=value) if any(flat) else z


class _PhaseMask(nn.Module):
    """A fixed 0/1 mask of symstride.network (samples past the end of the true map get ``fill``)."""

    def __init__(self, mask: Mask) -> None:
        super().__init__()
        self.register_buffer("keep", torch.as_tensor(mask.keep), persistent=False)
        self.fill = float(mask.fill)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        split = z.reshape(z.shape[0], -1, *self.keep.shape)
        return torch.where(self.keep, split, torch.full((), self.fill, dtype=z.dtype, device=z.device)).reshape(z.shape)


class TiedConvolution(InferenceCache, nn.Module):
    """A tied convolution of Theorem 3 (average pooling too, with its fixed weight), in one of
    :data:`NETWORK_FORMS`.  In both forms the parameters are the original ``weight`` and ``bias``
    themselves (tied; ``tied_names`` records their original names): the gather form multiplies by
    the weight, shared by every output phase; the dense form gathers ``W'`` from it on every call
    (:meth:`bank`), so its structural zeros are never parameters and training it trains the
    original layer."""

    def __init__(self, op: TiedConv, weight: torch.Tensor | None, bias: torch.Tensor | None, form: str, dtype: torch.dtype,
                 tied_names: dict[str, str] | None = None) -> None:
        super().__init__()
        self.path, self.form, self.groups = op.path, form, op.groups
        self.mask = _PhaseMask(op.mask) if op.mask is not None else None
        self.padding = op.padding
        self.in_phases, self.out_phases, self.out_length = op.inputs.count, op.output.count, tuple(op.output.length)
        fixed = op.fixed_weight is not None  # average pooling
        self.register_buffer("divisor", None if op.divisor is None else torch.as_tensor(op.divisor, dtype=dtype), persistent=False)
        #: Shape of the dense tied bank ``W'``: ``(C_out·R^d, C_in/groups·B^d, *K')``.
        self.dense_shape = (op.weight_shape[0] * self.out_phases, op.weight_shape[1] * self.in_phases, *(m.kernel_eq for m in op.axes))
        if form == "dense":
            entries = prod(self.dense_shape)
            if entries > MAX_DENSE_ENTRIES:
                raise SymstrideError(
                    f"{op.label}: the tied bank W' would have {entries:,} entries ({4 * entries / 2**20:,.0f} MiB in "
                    f"float32); form='dense' materialises at most {MAX_DENSE_ENTRIES:,} per layer — use form='gather'"
                )
            self._bank_index = np.asarray(op.weight_index)  # W'.flat = weight.flat[index], −1: structural zero
        else:
            padded = tuple(a + l + r for a, (l, r) in zip(op.inputs.length, op.padding))
            windows, _, self.taps = _flat_windows(op.taps, padded, self.out_length)
            #: The tap map reads every sample once, in place (a 1×1 unit-stride layer): no gather needed.
            self.in_place = windows.size == self.in_phases * prod(padded) and np.array_equal(windows.reshape(-1), np.arange(windows.size))
            self.register_buffer("windows", torch.as_tensor(windows.reshape(-1)), persistent=False)
        if fixed:
            self.register_buffer("weight", torch.as_tensor(op.fixed_weight, dtype=dtype), persistent=False)
        else:  # tied: the original Parameter itself, W' (dense form) gathered from it on every call
            self.weight = as_parameter(weight)
        self.bias = None if bias is None else as_parameter(bias)
        self.register_buffer("bias_index", None if op.bias_index is None else torch.as_tensor(op.bias_index), persistent=False)
        #: Original state-dict names of the tied tensors (see :func:`symstride.torch.tied.original_names`).
        self.tied_names = dict(tied_names or {})

    def bank(self) -> torch.Tensor:
        """The dense tied bank ``W'`` of Theorem 3, gathered from the original weight (structural zeros included)."""
        index = self._bank_index if self.form == "dense" else None
        if index is None:
            raise SymstrideError("bank() is the dense form's filter; this module runs form='gather'")
        return self.prepared("bank", [self.weight], lambda: gather_weight(self.weight, index))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.mask is not None:
            z = self.mask(z)
        z = _phase_pad(z, self.padding, 0.0)
        batch = z.shape[0]
        if self.form == "dense":
            y = _CONV_BY_DIM[z.dim() - 2](z, self.bank(), None, 1, 0, 1, self.groups)
        else:
            g, cin_g = self.groups, z.shape[1] // self.in_phases // self.groups
            # im2col of the tied map, (b, g, c·t, q·a): one product with the weight every output phase shares
            cols = z if self.in_place else _gather(z, self.in_phases, self.windows)
            cols = cols.reshape(batch, g, cin_g * self.taps, -1)
            y = torch.matmul(self.weight.reshape(g, -1, cin_g * self.taps), cols)
            y = y.reshape(batch, -1, *self.out_length)  # channel (g·o_g + o)·R^d + φ(q)
        if self.bias is not None:
            y = y + self.bias[self.bias_index].reshape(1, -1, *([1] * len(self.out_length)))
        if self.divisor is not None:
            y = (y.reshape(batch, -1, *self.divisor.shape) / self.divisor).reshape(y.shape)
        return y

    def extra_repr(self) -> str:
        mask = ", mask" if self.mask is not None else ""
        return f"layer {self.path}, form={self.form!r}, phases {self.in_phases}→{self.out_phases}{mask}"


_CONV_BY_DIM = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class TiedMaxPooling(nn.Module):
    """Max pooling of Theorem 3: for every output phase the maximum over its taps, each a
    unit-stride window of the input phase the tap map names (``−∞`` padding, guard after)."""

    def __init__(self, op: TiedMaxPool) -> None:
        super().__init__()
        self.path = op.path
        self.mask = _PhaseMask(op.mask) if op.mask is not None else None
        self.guard = _PhaseMask(op.guard) if op.guard is not None else None
        self.padding = op.padding
        self.in_phases, self.out_length = op.inputs.count, tuple(op.output.length)
        padded = tuple(a + l + r for a, (l, r) in zip(op.inputs.length, op.padding))
        windows, self.out_phases, self.taps = _flat_windows(op.taps, padded, self.out_length)
        self.register_buffer("windows", torch.as_tensor(windows.reshape(-1)), persistent=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.mask is not None:
            z = self.mask(z)
        z = _phase_pad(z, self.padding, float("-inf"))
        batch, channels = z.shape[0], z.shape[1] // self.in_phases
        y = _gather(z, self.in_phases, self.windows).reshape(batch, channels, self.taps, self.out_phases, -1).amax(dim=2)
        y = y.reshape(batch, channels * self.out_phases, *self.out_length)
        return self.guard(y) if self.guard is not None else y

    def extra_repr(self) -> str:
        mask = ", mask" if self.mask is not None else ""
        return f"layer {self.path}, phases {self.in_phases}→{self.out_phases}{mask}"


class PhasePointwise(nn.Module):
    """A pointwise map applied unchanged in the phase domain (the commuting lemma)."""

    def __init__(self, path: str, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.path, self.fn = path, fn

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.fn(z)

    def extra_repr(self) -> str:
        return f"layer {self.path}" + ("" if isinstance(self.fn, nn.Module) else f", {getattr(self.fn, '__name__', 'function')}")
