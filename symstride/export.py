"""Exporters: the filter mapping of Theorem 2 (and of a transposed layer) in the forms other tools consume.

Each exporter takes an :class:`~symstride.layer.equivalence.Equivalence` (``destride(layer, layout=…)``)
and states its channel layout, since PyTorch (``c·P + φ(r)``) and TensorFlow/ONNX
(``φ(r)·C + c``) order the space-to-depth channels differently.  Pure NumPy/Jinja2, no torch.

- :func:`python_module` — a standalone, readable Python module (NumPy only) defining
  ``destride_weights(w)`` and ``destride_input(x)`` for the configuration, rendered from
  ``templates/destride_module.py.j2``;
- :func:`npz_arrays` / :func:`npz_bytes` — the gather index ``W'.flat = w.flat[index]`` (−1 at
  structural zeros), the shapes, the layout and the input preparation, for any language;
- :func:`formula_text` — the entry formula of ``W'`` alone, as text and LaTeX.

>>> from symstride import Conv, destride
>>> eq = destride(Conv(kernel=3, stride=2))
>>> npz_arrays(eq)["index"].tolist()
[[[0, 2], [1, -1]]]
>>> print(formula_text(eq), end="")
layout  pytorch — channel-major: new channel c·P + φ(r) (torch.nn.functional.pixel_unshuffle)
text    W'[r, j] = w[2*j + r] if 2*j + r <= 2 else 0    for 0 <= r < 2, 0 <= j < 2
latex   {W'}_{r,j} = \\begin{cases} {w}_{2 j + r} & \\text{if } 2 j + r \\leq 2 \\\\ 0 & \\text{otherwise} \\end{cases} \\qquad 0 \\le r < 2,\\ 0 \\le j < 2
"""

from __future__ import annotations

from .core.errors import SymstrideError

import io
from typing import Any, Sequence

import numpy as np

from .layer.equivalence import Equivalence
from .core.indexing import LAYOUTS, input_size, output_shape, prepared_shape
from .reference.convolution import PADDING_MODES
from .render.templates import render_template

__all__ = ["python_module", "npz_arrays", "npz_bytes", "formula_text", "identity_text", "PREPARATION", "TRANSPOSED_PREPARATION"]

#: How the input is prepared, in words (the same in every export).
PREPARATION = (
    "pad by p (per axis, left and right), trim or zero-extend each axis to "
    "L = s·(N_out + k' − 1) with N_out = floor((N + p_left + p_right − δ(k−1) − 1)/s) + 1, "
    "then space-to-depth by s"
)


def _identity_sides(eq: Equivalence, padding_mode: str = "zeros") -> tuple[str, str]:
    spec = eq.spec
    mode = "" if padding_mode == "zeros" else f", padding_mode={padding_mode!r}"
    lhs = f"conv(x, w, stride={spec.stride}, padding={spec.padding}{mode}, dilation={spec.dilation}, groups={spec.groups})"
    rhs = f"conv(destride_input(x), destride_weights(w), stride=1, padding=0, groups={eq.spec.groups})"
    return lhs, rhs


def identity_text(eq: Equivalence, padding_mode: str = "zeros") -> str:
    """The identity an export implements, in one line of plain text."""
    sides = _transposed_identity_sides(eq) if _is_transposed(eq) else _identity_sides(eq, padding_mode)
    return " == ".join(sides)


def _check_padding_mode(padding_mode: str) -> str:
    if padding_mode not in PADDING_MODES:
        options = ", ".join(map(repr, PADDING_MODES))
        raise SymstrideError(f"unknown padding_mode {padding_mode!r}; expected one of {options}")
    return PADDING_MODES[padding_mode]


def python_module(eq: Equivalence, *, padding_mode: str = "zeros", channels_fixed: bool = True) -> str:
    """Source of a standalone NumPy module implementing ``eq`` (``symstride derive --format python``).

    The module defines ``destride_weights(w)`` and ``destride_input(x)`` (for a transposed
    layer also ``finish_output(z, n)``: depth-to-space and crop); its docstring states the
    configuration, the channel layout and the identity.  It imports only NumPy.
    ``channels_fixed=False`` (a layer derived without channel counts, one group): the module
    accepts weights and inputs with any channel counts, read from their shapes.
    """
    if not channels_fixed and eq.spec.groups != 1:
        raise SymstrideError("a grouped layer's export fixes its channel counts (channels_fixed must be True with groups > 1)")
    if _is_transposed(eq):
        return _transposed_module(eq, padding_mode, channels_fixed)
    _refuse_symbols(eq, "the Python export")
    np_mode = _check_padding_mode(padding_mode)
    spec = eq.spec
    ndim = spec.ndim
    blocks = [3 + 2 * a for a in range(ndim)]
    grid = [2 + 2 * a for a in range(ndim)]
    order = [0, 1, *blocks, *grid] if eq.layout == "pytorch" else [0, *blocks, 1, *grid]
    return render_template(
        "destride_module.py.j2",
        eq=eq,
        spec=spec,
        configuration=spec.describe() + ("" if padding_mode == "zeros" else f", padding_mode {padding_mode!r}"),
        layout=eq.layout,
        channel_order=LAYOUTS[eq.layout],
        identity=_identity_sides(eq, padding_mode),
        formula=eq.formula_text(),
        preparation=PREPARATION,
        padding_mode=padding_mode,
        np_mode=np_mode,
        taps=[repr((t.tap, t.phase, t.offset)) for t in eq.taps],
        transpose=tuple(order),
        live=len(eq.live_phases),
        fixed=channels_fixed,
    )


def npz_arrays(eq: Equivalence, size: Sequence[int] | int | None = None, *, padding_mode: str = "zeros") -> dict[str, np.ndarray]:
    """The arrays of ``symstride derive --format npz``.

    ``index`` realises ``W'.flat = w.flat[index]`` (−1: structural zero; C order, ``W'`` of
    shape ``filter_shape``, ``w`` of shape ``weight_shape``).  The input preparation is given by
    ``padding`` ((left, right) per axis), ``padding_mode``, ``stride`` and the rule
    ``prepared_length_rule``; with ``size`` the concrete ``input_size``, ``output_size``,
    ``prepared_length`` (per axis, before space-to-depth) and ``prepared_shape`` (after) too.
    """
    if _is_transposed(eq):
        return _transposed_arrays(eq, size, padding_mode)
    _refuse_symbols(eq, "the npz export")
    _check_padding_mode(padding_mode)
    spec = eq.spec
    arrays = {
        **_common_arrays(eq),
        "padding_mode": np.array(padding_mode),
        "identity": np.array(identity_text(eq, padding_mode)),
        "prepared_length_rule": np.array(PREPARATION),
    }
    if size is not None:
        size = input_size(spec, size)
        n_out = output_shape(spec, size)
        arrays["input_size"] = np.array(size, dtype=np.int64)
        arrays["output_size"] = np.array(n_out, dtype=np.int64)
        arrays["prepared_length"] = np.array(
            [s * (n + k - 1) for s, n, k in zip(spec.stride, n_out, eq.kernel)], dtype=np.int64
        )
        arrays["prepared_shape"] = np.array(prepared_shape(spec, size), dtype=np.int64)
    return arrays


def _common_arrays(eq: Any) -> dict[str, np.ndarray]:
    """The arrays every ``npz`` export holds: the gather index, shapes, geometry and channel layout."""
    spec = eq.spec
    return {
        "index": np.ascontiguousarray(eq.weight_index, dtype=np.int64),
        "weight_shape": np.array(spec.weight_shape, dtype=np.int64),
        "filter_shape": np.array(eq.weight_shape, dtype=np.int64),
        "kernel": np.array(spec.kernel, dtype=np.int64),
        "stride": np.array(spec.stride, dtype=np.int64),
        "dilation": np.array(spec.dilation, dtype=np.int64),
        "padding": np.array(spec.padding, dtype=np.int64).reshape(spec.ndim, 2),
        "groups": np.array(spec.groups, dtype=np.int64),
        "equivalent_kernel": np.array(eq.kernel, dtype=np.int64),
        "phases": np.array(eq.phases, dtype=np.int64),
        "live_phases": np.array([int(np.ravel_multi_index(r, spec.stride)) for r in eq.live_phases], dtype=np.int64),
        "layout": np.array(eq.layout),
        "channel_order": np.array(_channel_order(eq)),
    }


def npz_bytes(eq: Equivalence, size: Sequence[int] | int | None = None, *, padding_mode: str = "zeros") -> bytes:
    """:func:`npz_arrays` as the bytes of a ``.npz`` file (no pickled objects)."""
    buffer = io.BytesIO()
    np.savez(buffer, **npz_arrays(eq, size, padding_mode=padding_mode))
    return buffer.getvalue()


def _ranges(eq: Equivalence) -> list[tuple[Any, int]]:
    sym = eq.index_symbols
    out = []
    if eq.layer.channel_indexed:
        out += [(sym["o"][0], eq.spec.out_channels), (sym["c"][0], eq.spec.in_channels // eq.groups)]
    out += list(zip(sym["r"], eq.spec.stride))
    out += list(zip(sym["j"], eq.kernel))
    return out


def formula_text(eq: Equivalence) -> str:
    """The entry formula of ``W'`` alone (``symstride derive --format formula``): layout, text, LaTeX."""
    ranges = _ranges(eq)
    text_ranges = ", ".join(f"0 <= {s} < {n}" for s, n in ranges)
    return render_template(
        "formula_export.j2",
        layout=eq.layout,
        channel_order=_channel_order(eq),
        text=eq.formula_text(),
        text_ranges=text_ranges,
        formula_latex=eq.formula_latex(),
        ranges=ranges,
    )


# -- transposed layers: unit-stride convolution, depth-to-space, crop ------------------------------

#: How a transposed layer's input is prepared and its output finished, in words.
TRANSPOSED_PREPARATION = (
    "zero-pad each axis by k' − 1 − ⌊p_left/s⌋ on the left (trim where negative) and trim or "
    "zero-extend the right to A + k' − 1 samples, A = ⌈(p_left + N_out)/s⌉ − ⌊p_left/s⌋ blocks; "
    "after the unit-stride convolution, depth-to-space by s and keep N_out samples from p_left mod s"
)


def _refuse_symbols(eq: Any, what: str) -> None:
    """Exports are arrays and code for numbers: a layer with symbols asks for values first."""
    from .core.symbolic_params import needs_values

    symbols = getattr(eq.spec, "symbols", ())
    if symbols:
        raise needs_values(what, symbols)


def _is_transposed(eq: Any) -> bool:
    from .layer.transposed import TransposedEquivalence

    return isinstance(eq, TransposedEquivalence)


def _channel_order(eq: Any) -> str:
    return LAYOUTS[eq.layout] + ("; depth-to-space inverts it" if _is_transposed(eq) else "")


def _zeros_only(padding_mode: str) -> None:
    _check_padding_mode(padding_mode)
    if padding_mode != "zeros":
        raise SymstrideError(f"padding_mode {padding_mode!r}: transposed convolutions pad with zeros only, as in PyTorch")


def _transposed_identity_sides(eq: Any) -> tuple[str, str]:
    spec = eq.spec
    lhs = (f"conv_transpose(x, w, stride={spec.stride}, padding={spec.padding}, output_padding={spec.output_padding}, "
           f"dilation={spec.dilation}, groups={spec.groups})")
    rhs = f"finish_output(conv(destride_input(x), destride_weights(w), stride=1, padding=0, groups={spec.groups}), x.shape[2:])"
    return lhs, rhs


def _transposed_module(eq: Any, padding_mode: str, channels_fixed: bool) -> str:
    _zeros_only(padding_mode)
    spec = eq.spec
    nd = spec.ndim
    if eq.layout == "pytorch":  # (b, C, *s, *A)
        channel, blocks, coarse = 1, [2 + a for a in range(nd)], [2 + nd + a for a in range(nd)]
    else:  # (b, *s, C, *A)
        channel, blocks, coarse = 1 + nd, [1 + a for a in range(nd)], [2 + nd + a for a in range(nd)]
    order = [0, channel] + [axis for pair in zip(coarse, blocks) for axis in pair]
    return render_template(
        "destride_transposed_module.py.j2",
        eq=eq,
        spec=spec,
        configuration=spec.describe(),
        layout=eq.layout,
        channel_order=LAYOUTS[eq.layout],
        identity=_transposed_identity_sides(eq),
        formula=eq.formula_text(),
        preparation=TRANSPOSED_PREPARATION,
        taps=[repr((t.tap, t.phase, t.offset)) for t in eq.taps],
        transpose=tuple(order),
        live=len(eq.live_phases),
        fixed=channels_fixed,
    )


def _transposed_arrays(eq: Any, size: Sequence[int] | int | None, padding_mode: str) -> dict[str, np.ndarray]:
    from .core.indexing import transposed_geometry

    _zeros_only(padding_mode)
    spec = eq.spec
    arrays = {
        "transposed": np.array(True),
        **_common_arrays(eq),
        "output_padding": np.array(spec.output_padding, dtype=np.int64),
        "identity": np.array(identity_text(eq)),
        "input_left_padding": np.array(eq.input_left_padding, dtype=np.int64),
        "crop_start": np.array(eq.crop_start, dtype=np.int64),
        "preparation_rule": np.array(TRANSPOSED_PREPARATION),
    }
    if size is not None:
        geometry = transposed_geometry(spec, size)
        arrays["input_size"] = np.array(input_size(spec, size), dtype=np.int64)
        arrays["output_size"] = np.array([ax.output for ax in geometry], dtype=np.int64)
        arrays["blocks"] = np.array([ax.coarse for ax in geometry], dtype=np.int64)
        arrays["input_padding"] = np.array([ax.pad for ax in geometry], dtype=np.int64).reshape(spec.ndim, 2)
    return arrays
