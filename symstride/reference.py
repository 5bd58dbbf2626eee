"""The numeric reference: NumPy convolution with PyTorch semantics, and the equivalence in NumPy.

This module is written independently of the symbolic engine so that each checks the other; it
shares only the integer index arithmetic of :mod:`symstride.indexing`.

``conv(destride_input(x, k, s, p, δ), destride_weights(w, s, δ), groups=g)`` equals
``conv(x, w, stride=s, padding=p, dilation=δ, groups=g)`` up to float rounding (Theorem 2):

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x, w = rng.standard_normal((1, 2, 9, 8)), rng.standard_normal((4, 2, 3, 3))
>>> y = conv(x, w, stride=2, padding=1)
>>> z = destride_input(x, kernel_size=3, stride=2, padding=1)
>>> z.shape, destride_weights(w, stride=2).shape
((1, 8, 6, 5), (4, 8, 2, 2))
>>> bool(np.allclose(conv(z, destride_weights(w, stride=2)), y, rtol=0, atol=1e-12))
True
"""

from __future__ import annotations

import itertools
from math import prod
from typing import Any

import numpy as np

from .indexing import check_layout, equivalent_kernel, output_shape, weight_gather_index
from .params import ConvSpec, as_int, per_axis

__all__ = [
    "PADDING_MODES",
    "conv",
    "pad",
    "space_to_depth",
    "depth_to_space",
    "destride_weights",
    "destride_input",
]

#: PyTorch padding modes and their NumPy names.
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _array(x: Any, name: str, min_ndim: int = 3) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have shape (batch, channels, *spatial) with at least one spatial axis, "
            f"got shape {arr.shape}"
        )
    return arr


def pad(x: Any, padding: Any, mode: str = "zeros") -> np.ndarray:
    """Pad the spatial axes of ``x`` (``(batch, channels, *spatial)``) with PyTorch's ``padding_mode``."""
    x = _array(x, "x")
    spec = ConvSpec.create(kernel=1, padding=padding, ndim=x.ndim - 2)
    if mode not in PADDING_MODES:
        raise ValueError(f"unknown padding mode {mode!r}; expected one of {', '.join(map(repr, PADDING_MODES))}")
    widths = [(0, 0), (0, 0), *spec.padding]
    for axis, (l, r) in enumerate(spec.padding):
        n = x.shape[axis + 2]
        if mode == "reflect" and max(l, r) >= n:
            raise ValueError(f"reflect padding {max(l, r)} must be smaller than the input size {n} (axis {axis})")
        if mode == "circular" and max(l, r) > n:
            raise ValueError(f"circular padding {max(l, r)} must not exceed the input size {n} (axis {axis})")
    return np.pad(x, widths, mode=PADDING_MODES[mode])


def conv(x: Any, weight: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    """Cross-correlation with PyTorch semantics (``torch.nn.functional.conv{1,2,3}d``), any number of axes.

    ``x`` is ``(batch, C_in, *N)``, ``weight`` is ``(C_out, C_in/groups, *k)``; zero padding,
    symmetric or per-axis ``(left, right)``.
    """
    x = _array(x, "x")
    weight = _array(weight, "weight")
    ndim = x.ndim - 2
    if weight.ndim != x.ndim:
        raise ValueError(f"weight has {weight.ndim - 2} spatial axes but x has {ndim}")
    c_out, cin_g = weight.shape[:2]
    spec = ConvSpec.create(
        kernel=weight.shape[2:], stride=stride, padding=padding, dilation=dilation,
        in_channels=x.shape[1], out_channels=c_out, groups=groups, ndim=ndim,
    )
    if cin_g * spec.groups != x.shape[1]:
        raise ValueError(
            f"weight expects {cin_g} channels per group × {spec.groups} groups = {cin_g * spec.groups} "
            f"input channels, but x has {x.shape[1]}"
        )
    n_out = output_shape(spec, x.shape[2:])
    xp = pad(x, spec.padding)
    g = spec.groups
    batch = x.shape[0]
    dtype = np.result_type(x.dtype, weight.dtype, np.float64) if x.dtype.kind in "iub" else np.result_type(x, weight)
    out = np.zeros((batch, g, c_out // g, *n_out), dtype=dtype)
    wg = weight.reshape(g, c_out // g, cin_g, *spec.kernel)
    for m in itertools.product(*map(range, spec.kernel)):
        window = tuple(
            slice(d * mm, d * mm + s * (n - 1) + 1, s)
            for mm, s, d, n in zip(m, spec.stride, spec.dilation, n_out)
        )
        patch = xp[(slice(None), slice(None), *window)].reshape(batch, g, cin_g, *n_out)
        out += np.einsum("gij,bgj...->bgi...", wg[(..., *m)], patch)
    return out.reshape(batch, c_out, *n_out)


def space_to_depth(x: Any, stride: Any, layout: str = "pytorch") -> np.ndarray:
    """Split every spatial axis into ``s`` phases: ``z[n, chan(c, φ(r)), a] = x[n, c, s·a + r]``.

    ``layout="pytorch"`` is ``pixel_unshuffle``'s channel-major order ``c·P + φ(r)``;
    ``layout="tf"`` is TensorFlow/ONNX ``SpaceToDepth``'s phase-major order ``φ(r)·C + c``.
    """
    x = _array(x, "x")
    check_layout(layout)
    ndim = x.ndim - 2
    s = per_axis(stride, "stride", ndim, minimum=1)
    b, c, *sizes = x.shape
    for axis, (n, sa) in enumerate(zip(sizes, s)):
        if n % sa:
            raise ValueError(f"space-to-depth needs each size divisible by the stride: {n} by {sa} (axis {axis})")
    split = [b, c]
    for n, sa in zip(sizes, s):
        split += [n // sa, sa]
    y = x.reshape(split)
    blocks = [3 + 2 * a for a in range(ndim)]
    coarse = [2 + 2 * a for a in range(ndim)]
    order = [0, 1, *blocks, *coarse] if layout == "pytorch" else [0, *blocks, 1, *coarse]
    return y.transpose(order).reshape(b, c * prod(s), *(n // sa for n, sa in zip(sizes, s)))


def depth_to_space(z: Any, stride: Any, layout: str = "pytorch") -> np.ndarray:
    """Inverse of :func:`space_to_depth` (PyTorch's ``pixel_shuffle`` for ``layout="pytorch"``)."""
    z = _array(z, "z")
    check_layout(layout)
    ndim = z.ndim - 2
    s = per_axis(stride, "stride", ndim, minimum=1)
    b, cp, *sizes = z.shape
    n_phases = prod(s)
    if cp % n_phases:
        raise ValueError(f"depth-to-space needs channels divisible by Π s = {n_phases}, got {cp}")
    c = cp // n_phases
    shape = [b, c, *s, *sizes] if layout == "pytorch" else [b, *s, c, *sizes]
    y = z.reshape(shape)
    if layout == "pytorch":
        ch, blocks, coarse = 1, [2 + a for a in range(ndim)], [2 + ndim + a for a in range(ndim)]
    else:
        ch, blocks, coarse = 1 + ndim, [1 + a for a in range(ndim)], [2 + ndim + a for a in range(ndim)]
    order = [0, ch] + [ax for pair in zip(coarse, blocks) for ax in pair]
    return y.transpose(order).reshape(b, c, *(n * sa for n, sa in zip(sizes, s)))


def destride_weights(weight: Any, stride: Any, dilation: Any = 1, layout: str = "pytorch", *, groups: int = 1) -> np.ndarray:
    """The equivalent unit-stride filter bank ``W'`` of shape ``(C_out, C_in/groups · P, *k')``.

    ``W'[o, chan(c, φ(r)), j] = w[o, c, m]`` where ``δ·m = s·j + r`` on every axis, 0 elsewhere.
    ``groups`` is only used to refuse ``layout="tf"`` with grouped convolutions, whose
    phase-major channel order splits every group across phases.
    """
    w = _array(weight, "weight")
    ndim = w.ndim - 2
    g = as_int(groups, "groups")
    if g < 1:
        raise ValueError(f"groups must be a positive integer, got {g}")
    if layout == "tf" and g > 1:
        raise ValueError(
            f"layout='tf' orders channels phase-major (φ(r)·C + c), which splits each of the groups={g} "
            "channel groups across phases; use layout='pytorch' for grouped convolutions"
        )
    spec = ConvSpec.create(
        kernel=w.shape[2:], stride=stride, dilation=dilation,
        in_channels=w.shape[1], out_channels=w.shape[0], ndim=ndim,
    )
    index = weight_gather_index(spec, layout)
    flat = w.reshape(-1)
    out = np.where(index >= 0, flat[np.maximum(index, 0)], np.zeros((), dtype=w.dtype))
    return out.astype(w.dtype, copy=False)


def destride_input(
    x: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any = 0,
    dilation: Any = 1,
    layout: str = "pytorch",
    *,
    padding_mode: str = "zeros",
) -> np.ndarray:
    """The prepared input of the equivalent unit-stride layer.

    Pad by ``padding`` (any PyTorch ``padding_mode``), trim or zero-extend every axis to
    ``L = s·(N_out + k' − 1)``, then :func:`space_to_depth` by ``s`` in ``layout`` order.
    """
    x = _array(x, "x")
    ndim = x.ndim - 2
    spec = ConvSpec.create(kernel=kernel_size, stride=stride, padding=padding, dilation=dilation, ndim=ndim)
    n_out = output_shape(spec, x.shape[2:])
    xp = pad(x, spec.padding, padding_mode)
    lengths = [s * (n + k - 1) for n, k, s in zip(n_out, equivalent_kernel(spec), spec.stride)]
    trimmed = xp[(slice(None), slice(None), *(slice(0, L) for L in lengths))]
    extend = [(0, 0), (0, 0), *((0, L - n) for L, n in zip(lengths, trimmed.shape[2:]))]
    return space_to_depth(np.pad(trimmed, extend), spec.stride, layout)
