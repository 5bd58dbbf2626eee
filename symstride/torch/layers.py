"""Theorem 2 on real PyTorch layers: a strided convolution or pooling as unit-stride operations.

A strided layer becomes padding, a split of the input into its phases (space-to-depth) and
unit-stride operations on the phases.  The weights come from symstride's mapping
(:func:`symstride.core.indexing.weight_gather_index`, the same gather index the ``npz`` export
writes), never from a second derivation.

Three forms of the equivalent convolution compute the same thing on finite inputs (:data:`FORMS`):

- ``form="dense"``: one unit-stride convolution with the equivalent filter bank ``W'`` over the
  space-to-depth'd input, exactly the statement of Theorem 2 (structural zeros included).  It
  multiplies samples by structural zeros, so a NaN or inf that the strided layer never
  multiplies (or multiplies only for another output) reaches outputs as NaN: ``auto`` never
  picks it;
- ``form="phases"``: the same bank split into its phase blocks, each block trimmed to its live
  taps — a unit-stride convolution per phase with the phase's exact kernel (a progression with
  step ``δ/gcd(δ, s)`` per axis, so possibly dilated), summed.  No structural zero is multiplied;
- ``form="subsample"``: Theorem 1 instead of Theorem 2 — the unit-stride convolution with the
  original kernel, then every ``s``-th output kept (``s^d`` times the multiply-accumulates; the
  fastest form for depthwise layers on CPU, whose kernels are fast only for the original shapes).

Phases that carry no weight at all (a 1×1 stride-2 layer keeps only phase 0) are dropped in the
dense and phases forms: they are never sliced out of the input.

The modules hold no filters of their own: every form gathers its filters from the original
weight tensor on each call (symstride's gather index, a constant), so
:class:`DestridedConv`'s parameters are the original layer's ``weight`` and ``bias`` — the same
``Parameter`` objects, tied — and training it trains the original layer, structural zeros
staying zero.  The phases and subsample forms multiply exactly the products the strided layer
multiplies, so NaN and inf reach exactly the outputs they reach in the original.

Pooling layers are destrided by :mod:`.pooling`, the phases' live taps found by
:mod:`symstride.core.phase_windows`, padding done by :mod:`.padding`; the names stay importable from here.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.errors import SymstrideError
from ..core.indexing import equivalent_kernel, output_length, phase_count, prepared_length, weight_gather_index
from ..core.params import ConvSpec
from .padding import TORCH_PADDING_MODES, pad_to
from ..core.phase_windows import PhaseWindow, phase_windows
from .pooling import DestridedPool, pool_spec
from .tied import InferenceCache
from .spacetodepth import SpaceToDepth

__all__ = [
    "FORMS",
    "PhaseWindow",
    "phase_windows",
    "DestridedConv",
    "DestridedConvCall",
    "DestridedPool",
    "conv_spec",
    "pool_spec",
    "AVG_POOL_TYPES", "CONV_TYPES", "MAX_POOL_TYPES", "gather_weight", "as_parameter"]

#: The forms of the equivalent convolution (see the module docstring).
FORMS = {
    "dense": "one unit-stride convolution with W' over the space-to-depth'd input",
    "phases": "one unit-stride convolution per live phase with its exact kernel, summed",
    "subsample": "Theorem 1: the unit-stride convolution, then every s-th output kept",
    "auto": "per layer, the faster of the phases and subsample forms for its shape (see choose_form)",
}

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_TYPES = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}
_CONV_MODULES = {n: t for t, n in CONV_TYPES.items()}
MAX_POOL_TYPES = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3}
AVG_POOL_TYPES = {nn.AvgPool1d: 1, nn.AvgPool2d: 2, nn.AvgPool3d: 3}


def _phase_slice(xp: torch.Tensor, window: PhaseWindow, stride: Sequence[int], n_out: Sequence[int]) -> torch.Tensor:
    """Samples ``xp[s·(j0 + a) + r]`` for ``a < N_out + extent − 1``: the input one phase block reads."""
    index = [slice(None), slice(None)]
    for r, j0, ext, s, n in zip(window.phase, window.start, window.extent(), stride, n_out):
        first = r + s * j0
        index.append(slice(first, first + s * (n + ext - 2) + 1, s))
    return xp[tuple(index)]


def gather_weight(weight: torch.Tensor, index: np.ndarray) -> torch.Tensor:
    """``out.flat = weight.flat[index]``, zero where ``index`` is −1.

    ``index`` is symstride's constant gather index (a NumPy array), so whether it holds
    structural zeros is decided here, in Python, and not by a data-dependent branch on a tensor:
    the converted modules trace and export (``torch.export``, ``torch.onnx.export``).
    """
    index = np.asarray(index)
    values = weight.reshape(-1)[torch.as_tensor(np.maximum(index, 0), device=weight.device)]
    if (index < 0).any():
        live = torch.as_tensor(index >= 0, device=weight.device)
        values = torch.where(live, values, torch.zeros((), dtype=weight.dtype, device=weight.device))
    return values


# --- convolution -------------------------------------------------------------------------------


def conv_spec(
    weight_shape: Sequence[int], stride: Any, padding: Any, dilation: Any, groups: int
) -> ConvSpec:
    """A :class:`ConvSpec` from PyTorch convolution arguments (``padding`` may be ``'same'``/``'valid'``)."""
    cout, cin_g, *kernel = (int(v) for v in weight_shape)
    ndim = len(kernel)
    if isinstance(padding, str):
        probe = ConvSpec.create(kernel=kernel, stride=stride, dilation=dilation, ndim=ndim)
        if padding == "valid":
            padding = 0
        elif padding == "same":
            totals = [d * (k - 1) for k, d in zip(probe.kernel, probe.dilation)]
            padding = [(t // 2, t - t // 2) for t in totals]  # PyTorch puts the odd sample on the right
        else:
            raise SymstrideError(f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    return ConvSpec.create(
        kernel=kernel, stride=stride, padding=padding, dilation=dilation,
        in_channels=cin_g * groups, out_channels=cout, groups=groups, ndim=ndim,
    )


def _depthwise(spec: ConvSpec) -> bool:
    return spec.groups == spec.in_channels == spec.out_channels and spec.groups > 1


def choose_form(spec: ConvSpec) -> str:
    """The form ``form="auto"`` picks for ``spec``.

    The rule follows CPU measurements (float32, oneDNN, one thread; ``benchmarks/resnet_layers.py``):
    depthwise layers take ``subsample`` (PyTorch's depthwise convolutions are fast only for the
    original kernel shapes; on the phase kernels they cost 4–8× the strided original, the full
    unit-stride convolution about 1.7×); every other layer (and a layer with one live phase:
    a slice and the exact convolution) takes ``phases``, whose convolutions have the
    original's multiply-accumulates.  ``dense`` is never picked: it multiplies structural
    zeros, so a NaN/inf would reach outputs the original computes without it (on finite inputs
    it was faster for stems with few input channels).
    """
    return "subsample" if _depthwise(spec) and len(phase_windows(spec)) > 1 else "phases"


class _DestridedConvBase(nn.Module):
    """Geometry and forward pass shared by :class:`DestridedConv` and :class:`DestridedConvCall`."""

    def __init__(self, spec: ConvSpec, padding_mode: str = "zeros", form: str = "auto") -> None:
        super().__init__()
        if padding_mode not in TORCH_PADDING_MODES:
            options = ", ".join(map(repr, TORCH_PADDING_MODES))
            raise SymstrideError(f"unknown padding_mode {padding_mode!r}; expected one of {options}")
        if form not in FORMS:
            raise SymstrideError(f"unknown form {form!r}; expected one of {', '.join(map(repr, FORMS))}")
        self.spec = spec
        self.padding_mode = padding_mode
        self.form = choose_form(spec) if form == "auto" else form
        self.windows = phase_windows(spec)
        self.kernel_eq = equivalent_kernel(spec)
        if self.form == "dense":
            self.space_to_depth = SpaceToDepth(spec.stride, phases=[w.phase for w in self.windows])
        #: Dilation of each unit-stride convolution the form runs.
        self.dilations = {
            "dense": [(1,) * spec.ndim],
            "phases": [w.step for w in self.windows],
            "subsample": [spec.dilation],
        }[self.form]
        full = weight_gather_index(spec, "pytorch")  # (C_out, C_in/g · P, *k'), pytorch layout
        blocks = full.reshape(spec.out_channels, spec.in_channels // spec.groups, phase_count(spec), *self.kernel_eq)
        if self.form == "dense":
            live = blocks[:, :, [w.flat for w in self.windows]]
            self._indices = [live.reshape(spec.out_channels, -1, *self.kernel_eq)]
        elif self.form == "phases":
            self._indices = []
            for w in self.windows:
                taps = tuple(slice(j0, j0 + e, st) for j0, e, st in zip(w.start, w.extent(), w.step))
                block = blocks[(slice(None), slice(None), w.flat, *taps)]
                if (block < 0).any():
                    raise SymstrideError(f"internal: the exact kernel of phase {w.phase} holds a structural zero")
                self._indices.append(np.ascontiguousarray(block))
        else:  # subsample: the original kernel, used as it is
            self._indices = []

    def prepared_weights(self, weight: torch.Tensor) -> list[torch.Tensor]:
        """The filters this module convolves with, gathered from the original ``weight``."""
        if tuple(weight.shape) != self.spec.weight_shape:
            raise SymstrideError(f"weight has shape {tuple(weight.shape)}, expected {self.spec.weight_shape}")
        if self.form == "subsample":
            return [weight]
        return [gather_weight(weight, i) for i in self._indices]

    def _forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                 weights: list[torch.Tensor] | None = None) -> torch.Tensor:
        conv, g = _CONV[self.spec.ndim], self.spec.groups

        def unit(w: torch.Tensor, b: torch.Tensor | None, d: tuple[int, ...]) -> Callable[[torch.Tensor], torch.Tensor]:
            return lambda z: conv(z, w, b, 1, 0, d, g)

        weights = self.prepared_weights(weight) if weights is None else weights
        return self._run(x, [unit(w, bias if i == 0 else None, d) for i, (w, d) in enumerate(zip(weights, self.dilations))])

    def _run(self, x: torch.Tensor, convs: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> torch.Tensor:
        """Pad, split into phases and apply ``convs`` (unit-stride, bias in the first only)."""
        spec = self.spec
        if x.dim() != spec.ndim + 2 or x.shape[1] != spec.in_channels:
            raise SymstrideError(
                f"input of shape {tuple(x.shape)} does not fit the layer "
                f"(expected (batch, {spec.in_channels}, {spec.ndim} spatial axes))"
            )
        n_out = [
            output_length(n, k, s, p, d)
            for n, k, s, p, d in zip(x.shape[2:], spec.kernel, spec.stride, spec.padding, spec.dilation)
        ]
        if self.form == "dense":
            lengths = [prepared_length(n, k, s) for n, k, s in zip(n_out, self.kernel_eq, spec.stride)]
            return convs[0](self.space_to_depth(pad_to(x, spec.padding, lengths, self.padding_mode)))
        lengths = [s * (n - 1) + d * (k - 1) + 1 for n, k, s, d in zip(n_out, spec.kernel, spec.stride, spec.dilation)]
        xp = pad_to(x, spec.padding, lengths, self.padding_mode)
        if self.form == "subsample":
            return convs[0](xp)[(slice(None), slice(None), *(slice(0, s * (n - 1) + 1, s) for s, n in zip(spec.stride, n_out)))]
        out = None
        for window, conv in zip(self.windows, convs):
            part = conv(_phase_slice(xp, window, spec.stride, n_out))
            out = part if out is None else out.add_(part)
        return out

    def extra_repr(self) -> str:
        kept = [w.phase for w in self.windows]
        mode = "" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode!r}"
        return f"{self.spec.describe()}{mode}, form={self.form!r}, phases={kept}"


class DestridedConv(InferenceCache, _DestridedConvBase):
    """A strided convolution as padding, space-to-depth and unit-stride convolution (Theorem 2).

    Build it with :func:`destride_layer`.  Its parameters are the original layer's ``weight``
    and ``bias`` — the same ``Parameter`` objects (tied), so ``parameters()`` counts exactly the
    original's and training the module trains the original layer (structural zeros stay zero).
    Each call gathers the filters of the unit-stride convolutions from ``weight``
    (:meth:`phase_weights`): ``W'`` restricted to the live phases (dense form), one exact kernel
    per live phase (phases form, convolved with :attr:`dilations`) or the original kernel
    (subsample form); the first convolution adds the bias.  Under ``torch.no_grad()`` the
    gathered filters are kept until the weight changes (:class:`~symstride.torch.tied.InferenceCache`).
    """

    def __init__(self, spec: ConvSpec, weight: torch.Tensor, bias: torch.Tensor | None, padding_mode: str = "zeros", form: str = "auto") -> None:
        super().__init__(spec, padding_mode, form)
        self.weight = as_parameter(weight)
        self.bias = as_parameter(bias) if bias is not None else None

    def phase_weights(self) -> list[torch.Tensor]:
        """The filters of the unit-stride convolutions, gathered from :attr:`weight`."""
        return self.prepared_weights(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.prepared("phase_weights", [self.weight], self.phase_weights)  # kept between no-grad calls
        return self._forward(x, self.weight, self.bias, weights)


def as_parameter(t: torch.Tensor) -> nn.Parameter:
    """``t`` itself when it is a Parameter (tied), else a Parameter wrapping the same storage."""
    return t if isinstance(t, nn.Parameter) else nn.Parameter(t.detach(), requires_grad=t.requires_grad)


class DestridedConvCall(_DestridedConvBase):
    """The equivalent of a functional ``F.conv{1,2,3}d(x, weight, bias, stride, …)`` call.

    The weight is an input (it may be computed in the graph), so the equivalent filters are
    gathered from it on every call with symstride's index.
    """

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return self._forward(x, weight, bias)
