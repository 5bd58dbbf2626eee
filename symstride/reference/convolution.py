"""The numeric reference: NumPy convolution with PyTorch semantics, and the equivalence in NumPy.

This module is written independently of the symbolic engine so that each checks the other; it
shares only the integer index arithmetic of :mod:`symstride.core.indexing`.

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

Dually, a transposed convolution is a unit-stride convolution with ``P`` times more output
channels, then depth-to-space and a crop:

>>> wt = rng.standard_normal((2, 3, 3, 3))
>>> yt = conv_transpose(x, wt, stride=2, padding=1, output_padding=1)
>>> zt = conv(destride_transposed_input(x, 3, stride=2, padding=1, output_padding=1),
...           destride_transposed_weights(wt, stride=2))
>>> yt.shape, zt.shape
((1, 3, 18, 16), (1, 12, 10, 9))
>>> out = destride_transposed_output(zt, 3, stride=2, padding=1, output_padding=1, size=(9, 8))
>>> bool(np.allclose(out, yt, rtol=0, atol=1e-12))
True
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError

import itertools
from math import prod
from typing import Any

import numpy as np

from ..core.indexing import (
    check_layout,
    equivalent_kernel,
    output_shape,
    transposed_geometry,
    transposed_output_shape,
    weight_gather_index,
)
from ..core.params import ConvSpec, ConvTransposeSpec, as_int, per_axis

__all__ = [
    "PADDING_MODES",
    "conv",
    "pad",
    "space_to_depth",
    "depth_to_space",
    "destride_weights",
    "destride_live",
    "destride_input",
    "pad_or_trim",
    "conv_transpose",
    "destride_transposed_weights",
    "destride_transposed_bias",
    "destride_transposed_input",
    "destride_transposed_output",
]

#: PyTorch padding modes and their NumPy names.
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _array(x: Any, name: str, min_ndim: int = 3) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise SymstrideTypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise SymstrideError(
            f"{name} must have shape (batch, channels, *spatial) with at least one spatial axis, "
            f"got shape {arr.shape}"
        )
    return arr


def pad(x: Any, padding: Any, mode: str = "zeros") -> np.ndarray:
    """Pad the spatial axes of ``x`` (``(batch, channels, *spatial)``) with PyTorch's ``padding_mode``."""
    x = _array(x, "x")
    spec = ConvSpec.create(kernel=1, padding=padding, ndim=x.ndim - 2)
    if mode not in PADDING_MODES:
        raise SymstrideError(f"unknown padding mode {mode!r}; expected one of {', '.join(map(repr, PADDING_MODES))}")
    widths = [(0, 0), (0, 0), *spec.padding]
    for axis, (l, r) in enumerate(spec.padding):
        n = x.shape[axis + 2]
        if mode == "reflect" and max(l, r) >= n:
            raise SymstrideError(f"reflect padding {max(l, r)} must be smaller than the input size {n} (axis {axis})")
        if mode == "circular" and max(l, r) > n:
            raise SymstrideError(f"circular padding {max(l, r)} must not exceed the input size {n} (axis {axis})")
    return np.pad(x, widths, mode=PADDING_MODES[mode])


def conv(
    x: Any, weight: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1, *, live: Any = None
) -> np.ndarray:
    """Cross-correlation with PyTorch semantics (``torch.nn.functional.conv{1,2,3}d``), any number of axes.

    ``x`` is ``(batch, C_in, *N)``, ``weight`` is ``(C_out, C_in/groups, *k)``; zero padding,
    symmetric or per-axis ``(left, right)``.  ``live`` (a boolean array of ``weight``'s shape,
    e.g. :func:`destride_live`) marks the entries that are weights; the others are structural
    zeros and are never multiplied, so a NaN/inf reaches exactly the outputs of the strided layer
    it came from (``0·NaN`` would be NaN).
    """
    x = _array(x, "x")
    weight = _array(weight, "weight")
    ndim = x.ndim - 2
    if weight.ndim != x.ndim:
        raise SymstrideError(f"weight has {weight.ndim - 2} spatial axes but x has {ndim}")
    c_out, cin_g = weight.shape[:2]
    spec = ConvSpec.create(
        kernel=weight.shape[2:], stride=stride, padding=padding, dilation=dilation,
        in_channels=x.shape[1], out_channels=c_out, groups=groups, ndim=ndim,
    )
    if cin_g * spec.groups != x.shape[1]:
        raise SymstrideError(
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
    if live is not None:
        live = np.asarray(live, dtype=bool)
        if live.shape != weight.shape:
            raise SymstrideError(f"live has shape {live.shape}, expected the weight's {weight.shape}")
        live = live.reshape(wg.shape)
    for m in itertools.product(*map(range, spec.kernel)):
        window = tuple(
            slice(d * mm, d * mm + s * (n - 1) + 1, s)
            for mm, s, d, n in zip(m, spec.stride, spec.dilation, n_out)
        )
        patch = xp[(slice(None), slice(None), *window)].reshape(batch, g, cin_g, *n_out)
        with np.errstate(invalid="ignore", over="ignore"):  # inf·0 is NaN, as in PyTorch
            _accumulate(out, wg[(..., *m)], patch, None if live is None else live[(..., *m)])
    return out.reshape(batch, c_out, *n_out)


def _accumulate(out: np.ndarray, w: np.ndarray, patch: np.ndarray, live: np.ndarray | None) -> None:
    """``out += w · patch`` for one tap (``w``: groups × out × in), forming only ``live`` products."""
    if live is None or live.all():
        out += np.einsum("gij,bgj...->bgi...", w, patch)
    elif live.any():  # structural zeros: only the live products are formed
        keep = live.reshape(1, *live.shape, *(1,) * (patch.ndim - 3))
        out += np.where(keep, w.reshape(keep.shape) * patch[:, :, None], 0).sum(axis=3)


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
            raise SymstrideError(f"space-to-depth needs each size divisible by the stride: {n} by {sa} (axis {axis})")
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
        raise SymstrideError(f"depth-to-space needs channels divisible by Π s = {n_phases}, got {cp}")
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
        raise SymstrideError(f"groups must be a positive integer, got {g}")
    if layout == "tf" and g > 1:
        raise SymstrideError(
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


def destride_live(weight_shape: Any, stride: Any, dilation: Any = 1, layout: str = "pytorch") -> np.ndarray:
    """Which entries of ``destride_weights(w, …)`` hold a weight (True) rather than a structural zero.

    Pass it as ``conv(…, live=…)`` so that the structural zeros are never multiplied: the
    pipeline then agrees with the strided layer on non-finite inputs too.

    >>> x = np.arange(10.0).reshape(1, 1, 10); x[0, 0, 9] = np.nan   # x[9] is never read
    >>> w = np.ones((1, 1, 3))
    >>> z = destride_input(x, kernel_size=3, stride=2)
    >>> np.isnan(conv(z, destride_weights(w, stride=2))).any()
    np.True_
    >>> conv(z, destride_weights(w, stride=2), live=destride_live(w.shape, stride=2)).tolist() == conv(x, w, stride=2).tolist()
    True
    """
    cout, cin_g, *kernel = (int(v) for v in weight_shape)
    spec = ConvSpec.create(kernel=kernel, stride=stride, dilation=dilation, in_channels=cin_g, out_channels=cout, ndim=len(kernel))
    return weight_gather_index(spec, layout) >= 0


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
    return space_to_depth(pad_or_trim(xp, [(0, L - n) for L, n in zip(lengths, xp.shape[2:])]), spec.stride, layout)


def pad_or_trim(x: np.ndarray, widths: Any) -> np.ndarray:
    """Zero-pad the spatial axes by per-axis ``(left, right)`` widths; a negative width trims that side."""
    trim = tuple(slice(max(-l, 0), n - max(-r, 0)) for (l, r), n in zip(widths, x.shape[2:]))
    grow = [(0, 0), (0, 0), *((max(l, 0), max(r, 0)) for l, r in widths)]
    return np.pad(x[(slice(None), slice(None), *trim)], grow)


# -- transposed convolution --------------------------------------------------------------------


def _transposed_spec(weight: np.ndarray, ndim: int, groups: Any, **params: Any) -> ConvTransposeSpec:
    g = as_int(groups, "groups")
    if g < 1:
        raise SymstrideError(f"groups must be a positive integer, got {g}")
    return ConvTransposeSpec.create(
        kernel=weight.shape[2:], in_channels=weight.shape[0], out_channels=weight.shape[1] * g,
        groups=g, ndim=ndim, **params,
    )


def conv_transpose(
    x: Any, weight: Any, stride: Any = 1, padding: Any = 0, output_padding: Any = 0, dilation: Any = 1, groups: int = 1
) -> np.ndarray:
    """Transposed convolution with PyTorch semantics (``torch.nn.functional.conv_transpose{1,2,3}d``).

    ``x`` is ``(batch, C_in, *N)``, ``weight`` is ``(C_in, C_out/groups, *k)``.  Computed by its
    definition, a scatter: input sample ``n`` adds ``w[c, o, m]·x[c, n]`` at ``s·n + δ·m``; the
    result is then cropped by ``padding`` (per-axis ``(left, right)`` pairs allowed) and extended
    by ``output_padding`` at the right end.
    """
    x = _array(x, "x")
    weight = _array(weight, "weight")
    ndim = x.ndim - 2
    if weight.ndim != x.ndim:
        raise SymstrideError(f"weight has {weight.ndim - 2} spatial axes but x has {ndim}")
    spec = _transposed_spec(weight, ndim, groups, stride=stride, padding=padding,
                            output_padding=output_padding, dilation=dilation)
    if x.shape[1] != spec.in_channels:
        raise SymstrideError(f"weight expects {spec.in_channels} input channels (its first axis), but x has {x.shape[1]}")
    n_out = transposed_output_shape(spec, x.shape[2:])
    g, cin_g, cout_g = spec.groups, spec.in_channels // spec.groups, spec.out_channels // spec.groups
    batch, sizes = x.shape[0], x.shape[2:]
    # the scatter buffer covers every position s·n + δ·m and every kept output position
    full = [max((n - 1) * s + d * (k - 1) + 1, pl + no)
            for n, s, d, k, (pl, _), no in zip(sizes, spec.stride, spec.dilation, spec.kernel, spec.padding, n_out)]
    dtype = np.result_type(x.dtype, weight.dtype, np.float64) if x.dtype.kind in "iub" else np.result_type(x, weight)
    buf = np.zeros((batch, g, cout_g, *full), dtype=dtype)
    xg = x.reshape(batch, g, cin_g, *sizes)
    wg = weight.reshape(g, cin_g, cout_g, *spec.kernel)
    for m in itertools.product(*map(range, spec.kernel)):
        target = tuple(slice(d * mm, d * mm + s * (n - 1) + 1, s) for mm, s, d, n in zip(m, spec.stride, spec.dilation, sizes))
        buf[(slice(None), slice(None), slice(None), *target)] += np.einsum("gio,bgi...->bgo...", wg[(..., *m)], xg)
    keep = tuple(slice(pl, pl + no) for (pl, _), no in zip(spec.padding, n_out))
    return buf[(slice(None), slice(None), slice(None), *keep)].reshape(batch, spec.out_channels, *n_out)


def destride_transposed_weights(
    weight: Any, stride: Any, dilation: Any = 1, layout: str = "pytorch", *, groups: int = 1
) -> np.ndarray:
    """The unit-stride filter bank of a transposed layer, shape ``(C_out·P, C_in/groups, *k')``.

    ``W'[chan(o, φ(r)), c, j] = w[c, o, m]`` where ``δ·m = s·(k' − 1 − j) + r`` on every axis
    (each phase filter is the flipped sub-kernel of the taps with ``δ·m ≡ r (mod s)``), 0
    elsewhere.  ``chan`` is ``layout``'s order, the inverse of :func:`depth_to_space`'s.
    """
    w = _array(weight, "weight")
    check_layout(layout)
    spec = _transposed_spec(w, w.ndim - 2, groups, stride=stride, dilation=dilation)
    if layout == "tf" and spec.groups > 1:
        raise SymstrideError(
            f"layout='tf' orders channels phase-major (φ(r)·C + c), which splits each of the groups={spec.groups} "
            "channel groups across phases; use layout='pytorch' for grouped convolutions"
        )
    index = weight_gather_index(spec, layout)
    out = np.where(index >= 0, w.reshape(-1)[np.maximum(index, 0)], np.zeros((), dtype=w.dtype))
    return out.astype(w.dtype, copy=False)


def destride_transposed_bias(bias: Any, stride: Any, layout: str = "pytorch") -> np.ndarray:
    """The bias of the equivalent layer: ``b'[chan(o, φ(r))] = b[o]`` for every phase ``r``."""
    b = np.asarray(bias)
    if b.ndim != 1:
        raise SymstrideError(f"bias must be one-dimensional (one entry per output channel), got shape {b.shape}")
    check_layout(layout)
    n_phases = prod(per_axis(stride, "stride", len(stride) if isinstance(stride, (tuple, list)) else 1, minimum=1))
    return np.repeat(b, n_phases) if layout == "pytorch" else np.tile(b, n_phases)


def destride_transposed_input(
    x: Any, kernel_size: Any, stride: Any, padding: Any = 0, output_padding: Any = 0, dilation: Any = 1
) -> np.ndarray:
    """The prepared input: ``x`` zero-padded by ``k' − 1 − ⌊p_left/s⌋`` on the left (trimmed where
    negative) and trimmed or zero-extended on the right to ``coarse + k' − 1`` samples per axis
    (see :func:`symstride.core.indexing.transposed_geometry`)."""
    x = _array(x, "x")
    spec = ConvTransposeSpec.create(kernel=kernel_size, stride=stride, padding=padding, output_padding=output_padding,
                                    dilation=dilation, ndim=x.ndim - 2)
    return pad_or_trim(x, [ax.pad for ax in transposed_geometry(spec, x.shape[2:])])


def destride_transposed_output(
    z: Any, kernel_size: Any, stride: Any, padding: Any = 0, output_padding: Any = 0, dilation: Any = 1,
    layout: str = "pytorch", *, size: Any,
) -> np.ndarray:
    """Finish the equivalent layer: :func:`depth_to_space` by ``s`` in ``layout`` order, then crop
    to the transposed layer's output (``size`` is the spatial size of the original input)."""
    z = _array(z, "z")
    spec = ConvTransposeSpec.create(kernel=kernel_size, stride=stride, padding=padding, output_padding=output_padding,
                                    dilation=dilation, ndim=z.ndim - 2)
    geometry = transposed_geometry(spec, size)
    coarse = tuple(ax.coarse for ax in geometry)
    if tuple(z.shape[2:]) != coarse:
        raise SymstrideError(
            f"the unit-stride output must have spatial shape {coarse} for an input of spatial size {size!r}, "
            f"got {tuple(z.shape[2:])}"
        )
    y = depth_to_space(z, spec.stride, layout)
    return y[(slice(None), slice(None), *(slice(ax.crop, ax.crop + ax.output) for ax in geometry))]
