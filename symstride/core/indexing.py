"""Integer index arithmetic shared by the symbolic and numeric sides.

Everything here is exact integer code on normalised :class:`~symstride.core.params.ConvSpec`
objects: output sizes, the equivalent kernel size ``k' = floor(δ(k−1)/s) + 1``, the tap map
``m ↦ (r, j)`` with ``δ·m = s·j + r`` (Euclidean division), the row-major phase flattening φ,
the space-to-depth channel orders, and gather indices that realise the equivalent filter bank
and the prepared input as plain array indexing.

>>> from symstride.core.params import ConvSpec
>>> spec = ConvSpec.create(kernel=3, stride=2)
>>> equivalent_kernel(spec)
(2,)
>>> [(t.tap, t.phase, t.offset) for t in tap_map(spec)]
[((0,), (0,), (0,)), ((1,), (1,), (0,)), ((2,), (0,), (1,))]
"""

from __future__ import annotations

from .errors import SymstrideError

import itertools
from math import prod
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np

from .params import MAX_ELEMENTS, ConvSpec, as_int
from .phasemap import PhaseMap, axis_phase_map, phase_map

__all__ = [
    "LAYOUTS",
    "Tap",
    "check_layout",
    "output_length",
    "output_shape",
    "equivalent_kernel",
    "phase_count",
    "split_tap",
    "tap_map",
    "layer_phase_map",
    "phase_index",
    "phase_vector",
    "phases",
    "channel_index",
    "channel_decode",
    "prepared_length",
    "prepared_shape",
    "weight_gather_index",
    "bank_gather_index",
    "structural_zeros",
    "TransposedAxis",
    "transposed_output_length",
    "transposed_output_shape",
    "transposed_tap_map",
    "transposed_geometry",
    "MAX_INDEX_BYTES",
    "check_index_size",
    "tap_arrays",
]

#: The largest gather index (bytes, int64 entries plus the weight numbering) symstride builds.
MAX_INDEX_BYTES = 2 * 10**9


def check_index_size(shape: Sequence[int], weights: int) -> None:
    """Refuse, before allocating, a gather index of ``shape`` over ``weights`` weights beyond
    :data:`MAX_INDEX_BYTES`, with the figure.

    >>> check_index_size((21000, 42000, 1), 21000 * 21000)
    Traceback (most recent call last):
    ...
    symstride.core.errors.SymstrideError: the gather index of W' (21000×42000×1 entries) needs about 10.6 GB; symstride builds indices of at most 2 GB — use fewer channels, or derive without them (the derivation does not depend on the channel count)
    """
    from .errors import SymstrideError

    need = 8 * (prod(shape) + weights)
    if need > MAX_INDEX_BYTES:
        raise SymstrideError(
            f"the gather index of W' ({'×'.join(map(str, shape))} entries) needs about {need / 1e9:.1f} GB; "
            f"symstride builds indices of at most {MAX_INDEX_BYTES / 1e9:g} GB — use fewer channels, or derive "
            "without them (the derivation does not depend on the channel count)"
        )

#: Space-to-depth channel orders: PyTorch's ``pixel_unshuffle`` (channel-major) and
#: TensorFlow/ONNX ``SpaceToDepth`` (phase-major).
LAYOUTS = {
    "pytorch": "channel-major: new channel c·P + φ(r) (torch.nn.functional.pixel_unshuffle)",
    "tf": "phase-major: new channel φ(r)·C + c (tf.nn.space_to_depth, ONNX SpaceToDepth)",
}


class Tap(NamedTuple):
    """One original kernel tap and where it lands: ``W'[o, chan(c, phase), *offset] = w[o, c, *tap]``."""

    tap: tuple[int, ...]
    phase: tuple[int, ...]
    offset: tuple[int, ...]


def check_layout(layout: str) -> str:
    """Return ``layout`` if it names a known channel order, else raise a ValueError listing them."""
    if layout not in LAYOUTS:
        options = ", ".join(repr(k) for k in LAYOUTS)
        raise SymstrideError(f"unknown layout {layout!r}; expected one of {options}")
    return layout


def output_length(n: int, kernel: int, stride: int, padding: tuple[int, int], dilation: int) -> int:
    """``floor((N + p_l + p_r − δ(k−1) − 1) / s) + 1``, or a ValueError when the kernel does not fit."""
    span = dilation * (kernel - 1) + 1
    padded = n + padding[0] + padding[1]
    if padded < span:
        raise SymstrideError(
            f"the kernel does not fit the padded input: padded length {padded} "
            f"(input {n} + padding {padding[0]}+{padding[1]}) is shorter than the dilated "
            f"kernel span δ(k−1)+1 = {span}"
        )
    return (padded - span) // stride + 1


def output_shape(spec: ConvSpec, size: Sequence[int] | int) -> tuple[int, ...]:
    """Spatial output shape of ``spec`` on an input of spatial shape ``size``."""
    size = input_size(spec, size)
    return tuple(
        output_length(n, k, s, p, d)
        for n, k, s, p, d in zip(size, spec.kernel, spec.stride, spec.padding, spec.dilation)
    )


def input_size(spec: ConvSpec, size: Sequence[int] | int) -> tuple[int, ...]:
    """Validate a spatial input size against ``spec`` (an int broadcasts to every axis)."""
    if isinstance(size, (list, tuple)) or (hasattr(size, "__iter__") and not isinstance(size, (str, bytes))):
        items = tuple(size)
    else:
        items = (size,) * spec.ndim
    if len(items) != spec.ndim:
        raise SymstrideError(f"size has {len(items)} axes but the layer has {spec.ndim} spatial axes")
    out = tuple(as_int(v, f"size (axis {a})") for a, v in enumerate(items))
    for axis, v in enumerate(out):
        if v < 1:
            raise SymstrideError(f"size must be a positive integer on every axis, got {v} (axis {axis})")
    if prod(out) * spec.in_channels > MAX_ELEMENTS:
        raise SymstrideError(f"an input of size {out} with {spec.in_channels} channels exceeds {MAX_ELEMENTS} elements")
    return out


def equivalent_kernel(spec: ConvSpec) -> tuple[int, ...]:
    """Per-axis kernel size of the equivalent unit-stride layer, ``k' = floor(δ(k−1)/s) + 1``."""
    return tuple(d * (k - 1) // s + 1 for k, s, d in zip(spec.kernel, spec.stride, spec.dilation))


def phase_count(spec: ConvSpec) -> int:
    """Number of phases ``P = Π s_a``."""
    return prod(spec.stride)


def split_tap(tap: Sequence[int], stride: Sequence[int], dilation: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Euclidean division ``δ·m = s·j + r`` per axis — the phase map's rule at ``R = 1``,
    ``p = 0`` for one tap; returns ``(phase r, offset j)``."""
    axes = [axis_phase_map(m + 1, s, d) for m, s, d in zip(tap, stride, dilation)]
    return tuple(ax.remainder[0][-1] for ax in axes), tuple(ax.shift[0][-1] for ax in axes)


def layer_phase_map(spec: Any) -> PhaseMap:
    """The :class:`~symstride.core.phasemap.PhaseMap` of one layer (``R = 1``; padding is applied
    before space-to-depth, so ``p = 0`` in the rule): strided for a ``ConvSpec``, transposed for a
    ``ConvTransposeSpec``."""
    return phase_map(spec.kernel, spec.stride, spec.dilation, direction=spec.direction)


def tap_map(spec: ConvSpec) -> list[Tap]:
    """Every original tap (row-major order) with its phase and offset in the equivalent bank."""
    return [Tap(t.tap, t.in_phase, t.offset) for t in layer_phase_map(spec).taps]


def phases(stride: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """All phase vectors ``r`` in row-major order (the order of φ)."""
    return itertools.product(*map(range, stride))


def phase_index(phase: Sequence[int], stride: Sequence[int]) -> int:
    """Row-major flattening φ(r) of a phase vector."""
    flat = 0
    for r, s in zip(phase, stride):
        flat = flat * s + r
    return flat


def phase_vector(flat: int, stride: Sequence[int]) -> tuple[int, ...]:
    """Inverse of :func:`phase_index`."""
    out = []
    for s in reversed(stride):
        flat, r = divmod(flat, s)
        out.append(r)
    return tuple(reversed(out))


def channel_index(c: int, flat_phase: int, channels: int, n_phases: int, layout: str = "pytorch") -> int:
    """Space-to-depth channel of input channel ``c`` and phase ``φ(r)``."""
    if layout == "pytorch":
        return c * n_phases + flat_phase
    if layout == "tf":
        return flat_phase * channels + c
    return channel_index(c, flat_phase, channels, n_phases, check_layout(layout))


def channel_decode(new_channel: int, channels: int, n_phases: int, layout: str = "pytorch") -> tuple[int, int]:
    """Inverse of :func:`channel_index`: ``(c, φ(r))``."""
    if layout == "pytorch":
        return divmod(new_channel, n_phases)
    if layout == "tf":
        flat, c = divmod(new_channel, channels)
        return c, flat
    return channel_decode(new_channel, channels, n_phases, check_layout(layout))


def prepared_length(n_out: int, k_eq: int, stride: int) -> int:
    """Length ``L = s·(N_out + k' − 1)`` to which the padded input is trimmed or zero-extended."""
    return stride * (n_out + k_eq - 1)


def prepared_shape(spec: ConvSpec, size: Sequence[int] | int) -> tuple[int, ...]:
    """Spatial shape of the prepared (space-to-depth'd) input: ``N_out + k' − 1`` per axis."""
    return tuple(n + k - 1 for n, k in zip(output_shape(spec, size), equivalent_kernel(spec)))


def _claimed_arrays(spec: Any, taps: Sequence[Tap]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(m, φ(phase), j)`` of claimed ``taps`` as arrays (``m``, ``j``: one row per axis)."""
    m, r, j = (np.array([t[i] for t in taps], dtype=np.int64).reshape(-1, spec.ndim).T for i in range(3))
    flat = np.ravel_multi_index(tuple(r), spec.stride) if m.size else np.zeros(0, dtype=np.int64)
    return m, flat, j


def _bank_arrays(spec: Any, taps: Sequence[Tap] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(m, φ(r), j)`` of the layer's own phase map (``taps`` None) or of claimed ``taps``."""
    if taps is not None:
        return _claimed_arrays(spec, taps)
    m, ins, outs, j = layer_phase_map(spec).arrays
    return m, (outs if spec.direction == "transposed" else ins), j


def tap_arrays(spec, *, flip: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every tap's ``(m, r, j)`` as three ``(ndim, Π k)`` int arrays, row-major in ``m``.

    The vectorised :func:`tap_map` (``flip``: :func:`transposed_tap_map`'s offsets): no Python
    object per tap, so a 9·10^6-tap kernel costs a few arrays.

    >>> m, r, j = tap_arrays(ConvSpec.create(kernel=3, stride=2))
    >>> m.tolist(), r.tolist(), j.tolist()
    ([[0, 1, 2]], [[0, 1, 0]], [[0, 0, 1]])
    """
    grid = np.indices(spec.kernel).reshape(spec.ndim, -1)
    reach = np.asarray(spec.dilation)[:, None] * grid
    stride = np.asarray(spec.stride)[:, None]
    q = reach // stride  # δ·m = s·q + r, Euclidean division per axis
    if flip:
        q = np.asarray(equivalent_kernel(spec))[:, None] - 1 - q
    return grid, reach % stride, q


def bank_gather_index(
    weight_shape: Sequence[int], groups: int, direction: str, m: np.ndarray, phase_in: np.ndarray, phase_out: np.ndarray,
    j: np.ndarray, in_phases: int, out_phases: int, kernel: Sequence[int], layout: str = "pytorch", rows: slice | None = None,
) -> np.ndarray:
    """The one gather index of a phase filter bank: ``W'.flat = w.flat[index]``, −1 for structural zeros.

    Entry ``e`` of the phase map says: weight tap ``m[:, e]`` joins input phase ``phase_in[e]``
    (flat, of ``in_phases``) to output phase ``phase_out[e]`` (flat, of ``out_phases``) at offset
    ``j[:, e]``, for every channel pair of a group:
    ``W'[chan(o, phase_out), chan(c_local, phase_in), j] = w[o, c_local, m]`` (``direction``
    ``"strided"``, weight ``(C_out, C_in/groups, *k)``) or ``w[g·C_in/groups + c_local, o_local, m]``
    (``"transposed"``, weight ``(C_in, C_out/groups, *k)``, ``g`` the group of ``o``).  ``W'`` has
    shape ``(C_out·out_phases, C_in/groups·in_phases, *kernel)``; ``rows`` restricts it to a block of
    output channels.  A strided layer is ``out_phases = 1`` (Theorem 2), a transposed one
    ``in_phases = 1`` (sub-pixel), a network's tied bank or a decoder's stage has both above 1.

    >>> z = np.zeros(3, dtype=np.int64)
    >>> bank_gather_index((1, 1, 3), 1, "strided", np.array([[0, 1, 2]]), np.array([0, 1, 0]), z, np.array([[0, 0, 1]]), 2, 1, (2,)).tolist()
    [[[0, 2], [1, -1]]]
    """
    if direction == "strided":
        c_out, cin_g = weight_shape[0], weight_shape[1]
    else:
        cin_g, c_out = weight_shape[0] // groups, weight_shape[1] * groups
    cout_g = c_out // groups
    start, stop, _ = (rows or slice(None)).indices(c_out * out_phases)
    check_index_size((max(0, stop - start), cin_g * in_phases, *kernel), prod(weight_shape))
    index = np.full((max(0, stop - start), cin_g * in_phases, *kernel), -1, dtype=np.int64)
    if not phase_in.size or stop <= start:
        return index
    w_index = np.arange(prod(weight_shape), dtype=np.int64).reshape(tuple(weight_shape))
    row = channel_index(np.arange(c_out)[:, None], phase_out[None, :], c_out, out_phases, layout) - start  # (C_out, entries)
    o_sel, e_sel = np.nonzero((row >= 0) & (row < stop - start))
    for c in range(cin_g):
        col = channel_index(c, phase_in[e_sel], cin_g, in_phases, layout)
        w_at = (o_sel, c) if direction == "strided" else ((o_sel // cout_g) * cin_g + c, o_sel % cout_g)
        index[(row[o_sel, e_sel], col, *j[:, e_sel])] = w_index[(*w_at, *m[:, e_sel])]
    return index


def weight_gather_index(spec: ConvSpec, layout: str = "pytorch", taps: Sequence[Tap] | None = None) -> np.ndarray:
    """Gather index of one layer's equivalent bank (either direction): ``W'.flat = w.flat[index]``, −1 for zeros.

    A strided layer's ``W'`` has shape ``(C_out, C_in/groups · P, *k')`` (its input channels in
    ``layout`` order); a transposed layer's ``(C_out·P, C_in/groups, *k')`` (its output channels in
    ``layout`` order).  With ``layout="tf"`` that is a grouped convolution only when ``groups == 1``
    (see :func:`symstride.layer.destride.destride`).  ``taps`` defaults to the layer's tap map
    (:func:`tap_map`, :func:`transposed_tap_map`); passing another map builds the bank that map claims.
    """
    check_layout(layout)
    m_arr, flat, j_arr = _bank_arrays(spec, taps)
    zero, n_phases = np.zeros_like(flat), phase_count(spec)
    if spec.direction == "transposed":
        return bank_gather_index(spec.weight_shape, spec.groups, "transposed", m_arr, zero, flat, j_arr, 1, n_phases,
                                 equivalent_kernel(spec), layout)
    return bank_gather_index(spec.weight_shape, spec.groups, "strided", m_arr, flat, zero, j_arr, n_phases, 1,
                             equivalent_kernel(spec), layout)


def structural_zeros(spec: ConvSpec) -> int:
    """Structural zeros per (input, output) channel pair: ``P·Π k' − Π k``."""
    return phase_count(spec) * prod(equivalent_kernel(spec)) - spec.taps


# -- transposed convolution (fractional stride) -------------------------------------------------
#
# y[o, t] = Σ w[c, o, m]·x[c, n] over s·n + δ·m = t + p_left.  Write t + p_left = s·a + r and
# δ·m = s·q + r (Euclidean division): output phase r receives exactly the taps with δ·m ≡ r
# (mod s), and output block a reads x[a − q] — a true convolution, flipped into
# cross-correlation form by the offset j = k' − 1 − q.


def transposed_output_length(
    n: int, kernel: int, stride: int, padding: tuple[int, int], output_padding: int, dilation: int
) -> int:
    """``(N − 1)·s − p_l − p_r + δ(k − 1) + output_padding + 1``, or a ValueError when it is not positive."""
    out = (n - 1) * stride + dilation * (kernel - 1) + 1 + output_padding - padding[0] - padding[1]
    if out < 1:
        raise SymstrideError(
            f"the transposed layer has no output: (N−1)·s + δ(k−1) + 1 + output_padding − p_l − p_r = "
            f"({n}−1)·{stride} + {dilation}·({kernel}−1) + 1 + {output_padding} − {padding[0]} − {padding[1]} "
            f"= {out} must be at least 1 (the padding crops more than the layer produces)"
        )
    return out


def transposed_output_shape(spec, size: Sequence[int] | int) -> tuple[int, ...]:
    """Spatial output shape of a :class:`~symstride.core.params.ConvTransposeSpec` on an input of ``size``."""
    size = input_size(spec, size)
    return tuple(
        transposed_output_length(n, k, s, p, op, d)
        for n, k, s, p, op, d in zip(size, spec.kernel, spec.stride, spec.padding, spec.output_padding, spec.dilation)
    )


def transposed_tap_map(spec) -> list[Tap]:
    """Every tap with the output phase ``r`` it feeds and its offset ``j`` in the equivalent kernel.

    ``δ·m = s·(k' − 1 − j) + r``: phase ``r`` of the output (``t + p_left = s·a + r``) and the
    cross-correlation offset ``j`` of the flipped, unit-stride phase filter — the transposed
    rule of :mod:`symstride.core.phasemap` with ``R = 1``.

    >>> from symstride.core.params import ConvTransposeSpec
    >>> [(t.tap, t.phase, t.offset) for t in transposed_tap_map(ConvTransposeSpec.create(kernel=3, stride=2))]
    [((0,), (0,), (1,)), ((1,), (1,), (1,)), ((2,), (0,), (0,))]
    """
    return [Tap(t.tap, t.out_phase, t.offset) for t in layer_phase_map(spec).taps]


class TransposedAxis(NamedTuple):
    """How one axis of a transposed layer runs as unit-stride convolution + depth-to-space + crop.

    The prepared input is ``x`` padded by ``pad`` (``(left, right)``; a negative side trims);
    the unit-stride convolution yields ``coarse`` blocks of ``s`` samples; depth-to-space makes
    ``s·coarse`` samples, of which ``output`` samples starting at ``crop`` are kept.  Block
    ``a`` holds ``t + p_left = s·(a + start) + r`` — the first ``start = ⌊p_left/s⌋`` blocks
    would be cropped entirely, so they are never computed.
    """

    output: int
    start: int
    coarse: int
    crop: int
    pad: tuple[int, int]


def transposed_geometry(spec, size: Sequence[int] | int) -> tuple[TransposedAxis, ...]:
    """Per axis: output size, skipped blocks, computed blocks, crop and input padding (signed).

    >>> from symstride.core.params import ConvTransposeSpec
    >>> transposed_geometry(ConvTransposeSpec.create(kernel=3, stride=2, padding=1, output_padding=1), 4)
    (TransposedAxis(output=8, start=0, coarse=5, crop=1, pad=(1, 1)),)
    """
    size = input_size(spec, size)
    out = []
    for n, n_out, s, (pl, _), kq in zip(size, transposed_output_shape(spec, size), spec.stride, spec.padding, equivalent_kernel(spec)):
        start, crop = divmod(pl, s)
        coarse = -(-(pl + n_out) // s) - start
        left = kq - 1 - start
        out.append(TransposedAxis(n_out, start, coarse, crop, (left, coarse + kq - 1 - left - n)))
    return tuple(out)
