"""Integer index arithmetic shared by the symbolic and numeric sides.

Everything here is exact integer code on normalised :class:`~symstride.params.ConvSpec`
objects: output sizes, the equivalent kernel size ``k' = floor(δ(k−1)/s) + 1``, the tap map
``m ↦ (r, j)`` with ``δ·m = s·j + r`` (Euclidean division), the row-major phase flattening φ,
the space-to-depth channel orders, and gather indices that realise the equivalent filter bank
and the prepared input as plain array indexing.

>>> from symstride.params import ConvSpec
>>> spec = ConvSpec.create(kernel=3, stride=2)
>>> equivalent_kernel(spec)
(2,)
>>> [(t.tap, t.phase, t.offset) for t in tap_map(spec)]
[((0,), (0,), (0,)), ((1,), (1,), (0,)), ((2,), (0,), (1,))]
"""

from __future__ import annotations

import itertools
from math import prod
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from .params import MAX_ELEMENTS, ConvSpec, as_int

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
    "phase_index",
    "phase_vector",
    "phases",
    "channel_index",
    "channel_decode",
    "prepared_length",
    "prepared_shape",
    "weight_gather_index",
    "structural_zeros",
]

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
        raise ValueError(f"unknown layout {layout!r}; expected one of {options}")
    return layout


def output_length(n: int, kernel: int, stride: int, padding: tuple[int, int], dilation: int) -> int:
    """``floor((N + p_l + p_r − δ(k−1) − 1) / s) + 1``, or a ValueError when the kernel does not fit."""
    span = dilation * (kernel - 1) + 1
    padded = n + padding[0] + padding[1]
    if padded < span:
        raise ValueError(
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
        raise ValueError(f"size has {len(items)} axes but the layer has {spec.ndim} spatial axes")
    out = tuple(as_int(v, f"size (axis {a})") for a, v in enumerate(items))
    for axis, v in enumerate(out):
        if v < 1:
            raise ValueError(f"size must be a positive integer on every axis, got {v} (axis {axis})")
    if prod(out) * spec.in_channels > MAX_ELEMENTS:
        raise ValueError(f"an input of size {out} with {spec.in_channels} channels exceeds {MAX_ELEMENTS} elements")
    return out


def equivalent_kernel(spec: ConvSpec) -> tuple[int, ...]:
    """Per-axis kernel size of the equivalent unit-stride layer, ``k' = floor(δ(k−1)/s) + 1``."""
    return tuple(d * (k - 1) // s + 1 for k, s, d in zip(spec.kernel, spec.stride, spec.dilation))


def phase_count(spec: ConvSpec) -> int:
    """Number of phases ``P = Π s_a``."""
    return prod(spec.stride)


def split_tap(tap: Sequence[int], stride: Sequence[int], dilation: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Euclidean division ``δ·m = s·j + r`` per axis; returns ``(phase r, offset j)``."""
    offs, phs = [], []
    for m, s, d in zip(tap, stride, dilation):
        j, r = divmod(d * m, s)
        offs.append(j)
        phs.append(r)
    return tuple(phs), tuple(offs)


def tap_map(spec: ConvSpec) -> list[Tap]:
    """Every original tap (row-major order) with its phase and offset in the equivalent bank."""
    return [Tap(m, *split_tap(m, spec.stride, spec.dilation)) for m in itertools.product(*map(range, spec.kernel))]


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


def weight_gather_index(
    spec: ConvSpec, layout: str = "pytorch", taps: Sequence[Tap] | None = None
) -> np.ndarray:
    """Gather index realising the equivalent filter bank: ``W'.flat = w.flat[index]``, −1 for zeros.

    ``W'`` has shape ``(C_out, C_in/groups · P, *k')``.  Within a group the local channels are
    ordered as ``layout`` orders the global ones; with ``layout="tf"`` that is only a grouped
    convolution when ``groups == 1`` (see :func:`symstride.equivalence.destride`).  ``taps``
    defaults to :func:`tap_map`; passing another map builds the bank that map claims.
    """
    check_layout(layout)
    kq = equivalent_kernel(spec)
    n_phases = phase_count(spec)
    cin_g = spec.in_channels // spec.groups
    cout = spec.out_channels
    index = np.full((cout, cin_g * n_phases, *kq), -1, dtype=np.int64)
    if taps is None:  # vectorised Euclidean division over the whole kernel grid
        grid = np.indices(spec.kernel).reshape(spec.ndim, -1)
        reach = np.asarray(spec.dilation)[:, None] * grid
        stride = np.asarray(spec.stride)[:, None]
        m_arr, j_arr, r_arr = grid, reach // stride, reach % stride
    else:
        m_arr = np.array([t.tap for t in taps], dtype=np.int64).reshape(-1, spec.ndim).T
        r_arr = np.array([t.phase for t in taps], dtype=np.int64).reshape(-1, spec.ndim).T
        j_arr = np.array([t.offset for t in taps], dtype=np.int64).reshape(-1, spec.ndim).T
    flat = np.ravel_multi_index(tuple(r_arr), spec.stride) if m_arr.size else np.zeros(0, dtype=np.int64)
    w_index = np.arange(prod(spec.weight_shape), dtype=np.int64).reshape(spec.weight_shape)
    for c in range(cin_g):
        ch = c * n_phases + flat if layout == "pytorch" else flat * cin_g + c
        index[(slice(None), ch, *j_arr)] = w_index[(slice(None), c, *m_arr)].reshape(cout, -1)
    return index


def structural_zeros(spec: ConvSpec) -> int:
    """Structural zeros per (input, output) channel pair: ``P·Π k' − Π k``."""
    return phase_count(spec) * prod(equivalent_kernel(spec)) - spec.taps
