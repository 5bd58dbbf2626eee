"""Decoder networks: the dual of Theorem 3 for chains of transposed convolutions.

A decoder — transposed convolutions with strides ``s_l`` and pointwise maps between them —
equals a network that works entirely at the resolution of its input, with more channels, and
one depth-to-space at the output.  Per axis let ``T_l = Π_{i≤l} s_i`` (the upsampling done by
layers ``1…l``).  Represent the feature map ``h_l`` (true length ``N_l``) by its ``T_l``
phases, ``H_l[(c, q), b] = h_l[T_l·b + q]`` for ``b < A_l = ⌈N_l / T_l⌉``.  Layer ``l`` (input
phases ``R = T_{l−1}``, output phases ``B = s·R``) becomes a unit-stride convolution from
``C_in·R^d`` to ``C_out·B^d`` channels: with ``v = s·q + δ·m − p_left``,

    W'_l[(o, v mod B), (c, q), D_max − ⌊v / B⌋] = w_l[c, o, m]      for every input phase q,

over the input padded by ``D_max`` on the left (signed: negative trims), where ``D_max`` is the
largest ``⌊v/B⌋``; bias ``b'[(o, r)] = b[o]``.  Every weight appears ``R^d`` times — the same
parameter sharing as Theorem 3, now among output phases.  Pointwise maps act per channel and
commute with the phase split.  The output is ``depth_to_space`` by ``T_L``, cropped to ``N_L``.

*Boundaries.*  When ``T_l`` does not divide ``N_l`` the last block holds ``T_l·A_l − N_l``
samples past the end of the true feature map ("junk": the layer computes them, the strided
network does not have them).  The next layer must not read junk into a real output; a fixed
0/1 mask ``M[(c, q), b] = [T_l·b + q < N_l]`` before it makes the construction exact.  The
mask is needed on an axis exactly when some junk sample ``n`` reaches a real output of the next
layer, ``0 ≤ s'·n + δ'·m − p'_left < N_{l+1}`` for a tap ``m`` — decided by integer arithmetic
and confirmed by exact index verification (:meth:`DecoderEquivalent.verify`).  For DCGAN-style
layers (``k = 4, s = 2, p = 1``) ``N_l = T_l·N_0`` and no mask is ever needed.

The spec follows the network format of the networks issue, with layer type
``conv_transpose``; parameters are keyed like a PyTorch ``nn.Sequential`` ``state_dict``:

>>> import numpy as np
>>> spec = parse({"input": {"channels": 2, "size": [3]},
...               "layers": [{"type": "conv_transpose", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1},
...                          {"type": "relu"},
...                          {"type": "conv_transpose", "out_channels": 1, "kernel": 4, "stride": 2, "padding": 1}]})
>>> [layer.out_shape.size for layer in spec.layers]
[(5,), (5,), (10,)]
>>> eq = destride_decoder(spec)
>>> [(st.in_phases, st.out_phases, st.masked) for st in eq.stages]
[((1,), (2,), (False,)), ((2,), (4,), (True,))]
>>> params = random_parameters(spec, seed=0)
>>> x = np.random.default_rng(1).standard_normal((1, 2, 3))
>>> bool(np.abs(eq.forward(params, x) - forward(spec, params, x)).max() < 1e-12)
True
>>> all(report.exact for report in eq.verify())
True
"""

from __future__ import annotations

import itertools
import json
import numbers
import os
from dataclasses import dataclass
from math import prod
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

from .indexing import LAYOUTS, check_layout, transposed_bank_gather_index, transposed_output_shape
from .params import ConvTransposeSpec, as_int, per_axis
from .reference import conv, conv_transpose, depth_to_space, destride_transposed_bias, pad_or_trim
from .verify import VerifyReport, _check_channels, _compare, _transposed_reads

__all__ = [
    "ACTIVATIONS",
    "Shape",
    "TransposedLayer",
    "Activation",
    "BatchNorm",
    "DecoderSpec",
    "parse",
    "forward",
    "random_parameters",
    "Stage",
    "DecoderEquivalent",
    "destride_decoder",
]

#: Elementwise maps: name → (options with defaults, NumPy function of (x, **options)).
ACTIVATIONS: dict[str, tuple[dict[str, float], Callable[..., np.ndarray]]] = {
    "relu": ({}, lambda x: np.maximum(x, 0)),
    "leaky_relu": ({"negative_slope": 0.01}, lambda x, negative_slope: np.where(x >= 0, x, negative_slope * x)),
    "elu": ({"alpha": 1.0}, lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))),
    "tanh": ({}, np.tanh),
    "sigmoid": ({}, lambda x: 0.5 * (1 + np.tanh(x / 2))),
    "silu": ({}, lambda x: x * 0.5 * (1 + np.tanh(x / 2))),
}

LAYER_TYPES = ("conv_transpose", "batchnorm", *ACTIVATIONS)
_KEYS = {
    "conv_transpose": {"out_channels", "kernel", "stride", "padding", "output_padding", "dilation", "groups", "bias"},
    "batchnorm": {"eps"},
    **{name: set(defaults) for name, (defaults, _) in ACTIVATIONS.items()},
}


# -- the spec -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A feature map's channels and spatial size (per axis)."""

    channels: int
    size: tuple[int, ...]


@dataclass(frozen=True)
class _Layer:
    path: str
    in_shape: Shape
    out_shape: Shape

    kind = "layer"

    @property
    def label(self) -> str:
        """How messages name the layer, e.g. ``layer 2 (conv_transpose)``."""
        return f"layer {self.path} ({self.kind})"


@dataclass(frozen=True)
class TransposedLayer(_Layer):
    """A transposed convolution; parameters ``{path}.weight`` ``(C_in, C_out/groups, *k)``, ``{path}.bias``."""

    conv: ConvTransposeSpec
    bias: bool
    kind = "conv_transpose"


@dataclass(frozen=True)
class Activation(_Layer):
    """An elementwise map ``name`` with its options (``(key, value)`` pairs)."""

    name: str
    options: tuple[tuple[str, float], ...]

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.name


@dataclass(frozen=True)
class BatchNorm(_Layer):
    """Inference-mode batch-norm; parameters ``weight``, ``bias``, ``running_mean``, ``running_var``."""

    eps: float
    kind = "batchnorm"


Layer = Union[TransposedLayer, Activation, BatchNorm]


@dataclass(frozen=True)
class DecoderSpec:
    """A validated decoder: input shape and layers with inferred shapes."""

    input: Shape
    layers: tuple[Layer, ...]

    @property
    def ndim(self) -> int:
        return len(self.input.size)

    @property
    def output(self) -> Shape:
        return self.layers[-1].out_shape if self.layers else self.input

    @property
    def transposed(self) -> tuple[TransposedLayer, ...]:
        """The transposed convolutions, in order."""
        return tuple(layer for layer in self.layers if isinstance(layer, TransposedLayer))


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def _parse_layer(doc: Any, path: str, shape: Shape, ndim: int) -> Layer:
    if not isinstance(doc, Mapping):
        raise TypeError(f"layer {path}: a layer must be a mapping with a 'type', got {type(doc).__name__}")
    kind = doc.get("type")
    label = f"layer {path} ({kind})"
    if kind not in LAYER_TYPES:
        options = ", ".join(map(repr, LAYER_TYPES))
        raise ValueError(f"{label}: unknown layer type {kind!r}; expected one of {options}")
    unknown = set(doc) - _KEYS[kind] - {"type"}
    if unknown:
        raise ValueError(f"{label}: unknown keys {sorted(unknown)}; {kind} takes {sorted(_KEYS[kind])}")
    try:
        if kind == "conv_transpose":
            for key in ("out_channels", "kernel"):
                if key not in doc:
                    raise ValueError(f"missing required key {key!r}")
            spec = ConvTransposeSpec.create(
                doc["kernel"], doc.get("stride", 1), doc.get("padding", 0), doc.get("output_padding", 0),
                doc.get("dilation", 1), shape.channels, doc["out_channels"], doc.get("groups", 1), ndim=ndim,
            )
            bias = doc.get("bias", True)
            if not isinstance(bias, bool):
                raise TypeError(f"bias must be true or false, got {bias!r}")
            out = Shape(spec.out_channels, transposed_output_shape(spec, shape.size))
            return TransposedLayer(path, shape, out, spec, bias)
        if kind == "batchnorm":
            eps = _number(doc.get("eps", 1e-5), "eps")
            if eps <= 0:
                raise ValueError(f"eps must be positive, got {eps}")
            return BatchNorm(path, shape, shape, eps)
        defaults, _ = ACTIVATIONS[kind]
        options = tuple((key, _number(doc.get(key, default), key)) for key, default in defaults.items())
        return Activation(path, shape, shape, kind, options)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{label}: {exc}") from None


def parse(doc: Any) -> DecoderSpec:
    """Validate a decoder spec (a mapping, a JSON string, or a path to a JSON file)."""
    if isinstance(doc, (str, os.PathLike)):
        text = str(doc)
        if not text.lstrip().startswith("{"):
            with open(text, encoding="utf-8") as fh:
                text = fh.read()
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the decoder spec is not valid JSON: {exc}") from None
    if not isinstance(doc, Mapping) or "input" not in doc or "layers" not in doc:
        raise ValueError("a decoder spec is a mapping with 'input' ({'channels', 'size'}) and 'layers' (a list)")
    inp = doc["input"]
    if not isinstance(inp, Mapping) or set(inp) != {"channels", "size"}:
        raise ValueError(f"input must be a mapping with exactly 'channels' and 'size', got {inp!r}")
    channels = as_int(inp["channels"], "input channels")
    if channels < 1:
        raise ValueError(f"input channels must be a positive integer, got {channels}")
    size_items = inp["size"] if isinstance(inp["size"], Sequence) and not isinstance(inp["size"], str) else [inp["size"]]
    size = per_axis(size_items, "input size", len(size_items), minimum=1)
    layers_doc = doc["layers"]
    if not isinstance(layers_doc, Sequence) or isinstance(layers_doc, str):
        raise TypeError(f"layers must be a list, got {type(layers_doc).__name__}")
    shape, layers = Shape(channels, size), []
    for i, layer_doc in enumerate(layers_doc):
        layer = _parse_layer(layer_doc, str(i), shape, len(size))
        layers.append(layer)
        shape = layer.out_shape
    return DecoderSpec(Shape(channels, size), tuple(layers))


def _parameter_shapes(layer: Layer) -> dict[str, tuple[int, ...]]:
    if isinstance(layer, TransposedLayer):
        shapes = {"weight": layer.conv.weight_shape}
        if layer.bias:
            shapes["bias"] = (layer.conv.out_channels,)
        return shapes
    if isinstance(layer, BatchNorm):
        c = layer.in_shape.channels
        return {"weight": (c,), "bias": (c,), "running_mean": (c,), "running_var": (c,)}
    return {}


def _parameters(spec: DecoderSpec, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every parameter the spec needs, as float64 arrays of the right shape (named errors otherwise)."""
    out = {}
    for layer in spec.layers:
        for name, shape in _parameter_shapes(layer).items():
            key = f"{layer.path}.{name}"
            if key not in params:
                raise ValueError(f"{layer.label}: missing parameter {key!r} of shape {shape}")
            value = np.asarray(params[key], dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"{layer.label}: parameter {key!r} has shape {value.shape}, expected {shape}")
            out[key] = value
    return out


def random_parameters(spec: DecoderSpec, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float64 parameters for every layer (batch-norm variances positive)."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer in spec.layers:
        for name, shape in _parameter_shapes(layer).items():
            value = rng.standard_normal(shape)
            params[f"{layer.path}.{name}"] = np.abs(value) + 0.5 if name == "running_var" else value
    return params


def _pointwise(layer: Layer, params: Mapping[str, np.ndarray], h: np.ndarray, repeat: int, layout: str) -> np.ndarray:
    """Apply an activation or batch-norm to ``h`` whose channels are ``C·repeat`` phase channels."""
    if isinstance(layer, Activation):
        _, fn = ACTIVATIONS[layer.name]
        return fn(h, **dict(layer.options))
    p = {name: params[f"{layer.path}.{name}"] for name in ("weight", "bias", "running_mean", "running_var")}
    scale = p["weight"] / np.sqrt(p["running_var"] + layer.eps)
    shift = p["bias"] - p["running_mean"] * scale
    scale, shift = (destride_transposed_bias(v, (repeat,), layout) for v in (scale, shift))
    expand = (slice(None), *(None,) * (h.ndim - 2))
    return h * scale[expand] + shift[expand]


def forward(spec: DecoderSpec, params: Mapping[str, Any], x: Any) -> np.ndarray:
    """The decoder as written (NumPy, float64): transposed convolutions and pointwise maps."""
    params = _parameters(spec, params)
    h = _input(spec, x)
    for layer in spec.layers:
        if isinstance(layer, TransposedLayer):
            c = layer.conv
            pads = c.padding
            h = conv_transpose(h, params[f"{layer.path}.weight"], c.stride, pads, c.output_padding, c.dilation, c.groups)
            if layer.bias:
                h = h + params[f"{layer.path}.bias"][(slice(None), *(None,) * spec.ndim)]
        else:
            h = _pointwise(layer, params, h, 1, "pytorch")
    return h


def _input(spec: DecoderSpec, x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    expected = (spec.input.channels, *spec.input.size)
    if x.ndim != spec.ndim + 2 or x.shape[1:] != expected:
        raise ValueError(f"x must have shape (batch, {', '.join(map(str, expected))}), got {x.shape}")
    return x


# -- the equivalent network -------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One transposed layer of the decoder, run as a unit-stride convolution between phase maps.

    Per axis: ``in_phases`` ``R`` and ``out_phases`` ``B = s·R``, the coarse lengths ``A`` of the
    input and output maps, the equivalent ``kernel``, the signed input ``pad`` ``(left, right)``,
    and whether the input is ``masked`` (with the reason, per axis, in ``mask_reasons``).
    ``entries`` is the tap map: ``(m, q, r, j)`` — tap ``m`` joins input phase ``q`` to output
    phase ``r`` at offset ``j``.
    """

    layer: TransposedLayer
    in_phases: tuple[int, ...]
    out_phases: tuple[int, ...]
    in_coarse: tuple[int, ...]
    out_coarse: tuple[int, ...]
    kernel: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]
    masked: tuple[bool, ...]
    mask_reasons: tuple[str, ...]
    entries: tuple[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]], ...]

    @property
    def in_channels(self) -> int:
        return self.layer.conv.in_channels * prod(self.in_phases)

    @property
    def out_channels(self) -> int:
        return self.layer.conv.out_channels * prod(self.out_phases)

    @property
    def sharing(self) -> int:
        """How many times every original weight appears in ``W'`` (``Π R``)."""
        return prod(self.in_phases)


def _axis_entries(k: int, s: int, d: int, pl: int, R: int) -> list[tuple[int, int, int, int]]:
    """Per axis: ``(m, q, r, D)`` with ``s·q + δ·m − p_left = B·D + r``."""
    B = s * R
    return [(m, q, *reversed(divmod(s * q + d * m - pl, B))) for m in range(k) for q in range(R)]


def _junk_reaches(n_true: int, coarse: int, block: int, nxt: ConvTransposeSpec, axis: int, n_next: int) -> tuple[bool, str]:
    """Does a junk sample ``n ∈ [N, block·coarse)`` reach a real output of the next layer on ``axis``?"""
    if block * coarse == n_true:
        return False, f"axis {axis}: N = {n_true} is a multiple of the block {block}, no junk"
    s, d, k, pl = nxt.stride[axis], nxt.dilation[axis], nxt.kernel[axis], nxt.padding[axis][0]
    for n in range(n_true, block * coarse):
        for m in range(k):
            t = s * n + d * m - pl
            if 0 <= t < n_next:
                return True, (f"axis {axis}: junk sample {n} (N = {n_true}, block {block}) reaches output {t} < {n_next} "
                              f"of the next layer through tap {m}: mask")
    junk = f"junk sample {n_true} reaches" if block * coarse - 1 == n_true else f"junk samples {n_true}…{block * coarse - 1} reach"
    return False, f"axis {axis}: {junk} only outputs ≥ {n_next} of the next layer (block {block}): no mask needed"


MASK_POLICIES = ("auto", "always", "never")


class DecoderEquivalent:
    """The decoder at its input resolution: unit-stride convolutions between phase maps, masks
    where the boundary needs them, one depth-to-space at the output.

    ``masks``: ``"auto"`` (where junk would reach a real output — exact), ``"always"`` (wherever
    there is junk — exact), ``"never"`` (for showing why they are needed).
    """

    def __init__(self, spec: DecoderSpec, layout: str = "pytorch", masks: str = "auto") -> None:
        if not isinstance(spec, DecoderSpec):
            raise TypeError(f"expected a DecoderSpec (see symstride.decoder.parse), got {type(spec).__name__}")
        if masks not in MASK_POLICIES:
            raise ValueError(f"unknown mask policy {masks!r}; expected one of {', '.join(map(repr, MASK_POLICIES))}")
        self.spec, self.layout, self.masks = spec, check_layout(layout), masks
        if layout == "tf" and any(layer.conv.groups > 1 for layer in spec.transposed):
            raise ValueError("layout='tf' orders channels phase-major, which splits channel groups across phases; "
                             "use layout='pytorch' for decoders with grouped layers")
        nd = spec.ndim
        R, coarse, n_true = (1,) * nd, spec.input.size, spec.input.size
        stages: list[Stage] = []
        transposed = spec.transposed
        for i, layer in enumerate(transposed):
            c = layer.conv
            masked, reasons = [], []
            if i == 0:
                masked, reasons = [False] * nd, ["the network input has no junk"] * nd
            else:
                for a in range(nd):
                    reaches, why = _junk_reaches(n_true[a], coarse[a], R[a], c, a, layer.out_shape.size[a])
                    junk = R[a] * coarse[a] > n_true[a]
                    masked.append(junk and (masks == "always" or (masks == "auto" and reaches)))
                    reasons.append(why)
            B = tuple(s * r for s, r in zip(c.stride, R))
            out_coarse = tuple(-(-n // b) for n, b in zip(layer.out_shape.size, B))
            per_axis_entries = [_axis_entries(k, s, d, pl, r) for k, s, d, (pl, _), r in zip(c.kernel, c.stride, c.dilation, c.padding, R)]
            d_max = tuple(max(e[3] for e in es) for es in per_axis_entries)
            d_min = tuple(min(e[3] for e in es) for es in per_axis_entries)
            kernel = tuple(hi - lo + 1 for hi, lo in zip(d_max, d_min))
            pad = tuple((hi, ao + k - 1 - hi - ai) for hi, ao, k, ai in zip(d_max, out_coarse, kernel, coarse))
            entries = tuple(
                (tuple(e[0] for e in combo), tuple(e[1] for e in combo), tuple(e[2] for e in combo),
                 tuple(hi - e[3] for hi, e in zip(d_max, combo)))
                for combo in itertools.product(*per_axis_entries)
            )
            stages.append(Stage(layer, R, B, coarse, out_coarse, kernel, pad, tuple(masked), tuple(reasons), entries))
            R, coarse, n_true = B, out_coarse, layer.out_shape.size
        self.stages = tuple(stages)
        self.block = R  # T_L: the final depth-to-space factor

    # -- parameters ---------------------------------------------------------------------------------
    def weight_index(self, stage: Stage) -> np.ndarray:
        """Gather index of a stage's bank: ``W'.flat = w.flat[index]``, −1 at structural zeros."""
        m, q, r, j = (np.array([e[i] for e in stage.entries], dtype=np.int64).T for i in range(4))
        q_flat = np.ravel_multi_index(tuple(q), stage.in_phases)
        r_flat = np.ravel_multi_index(tuple(r), stage.out_phases)
        return transposed_bank_gather_index(
            stage.layer.conv, m, q_flat, r_flat, j, prod(stage.in_phases), prod(stage.out_phases), stage.kernel, self.layout
        )

    def weights(self, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The equivalent network's parameters, keyed like the original's (``{path}.weight`` is ``W'``)."""
        params = _parameters(self.spec, params)
        out = {}
        for stage in self.stages:
            path = stage.layer.path
            w = params[f"{path}.weight"].reshape(-1)
            index = self.weight_index(stage)
            out[f"{path}.weight"] = np.where(index >= 0, w[np.maximum(index, 0)], 0.0)
            if stage.layer.bias:
                out[f"{path}.bias"] = destride_transposed_bias(params[f"{path}.bias"], stage.out_phases, self.layout)
        for layer in self.spec.layers:
            if isinstance(layer, BatchNorm):
                out.update({k: v for k, v in params.items() if k.startswith(f"{layer.path}.")})
        return out

    def mask(self, stage: Stage) -> np.ndarray | None:
        """The 0/1 mask on a stage's input, shape ``(C·Π R, *A)``, or None when it needs none:
        ``M[chan(c, φ(q)), b] = Π_a [R_a·b_a + q_a < N_a]`` over the masked axes."""
        if not any(stage.masked):
            return None
        n_phases, channels = prod(stage.in_phases), stage.layer.conv.in_channels
        per_phase = np.ones((n_phases, *stage.in_coarse))
        for flat, q in enumerate(itertools.product(*map(range, stage.in_phases))):
            for a, on in enumerate(stage.masked):
                if on:
                    shape = [1] * len(q)
                    shape[a] = stage.in_coarse[a]
                    per_phase[flat] *= (stage.in_phases[a] * np.arange(stage.in_coarse[a]) + q[a] < stage.layer.in_shape.size[a]).reshape(shape)
        new = np.arange(channels * n_phases)
        phase = new % n_phases if self.layout == "pytorch" else new // channels
        return per_phase[phase]

    # -- the forward pass ---------------------------------------------------------------------------
    def forward(self, params: Mapping[str, Any], x: Any) -> np.ndarray:
        """Run the equivalent network (NumPy, float64): no transposed convolution, one depth-to-space."""
        eq = self.weights(params)
        h = _input(self.spec, x)
        stages = {stage.layer.path: stage for stage in self.stages}
        repeat = 1
        for layer in self.spec.layers:
            if isinstance(layer, TransposedLayer):
                stage = stages[layer.path]
                mask = self.mask(stage)
                if mask is not None:
                    h = h * mask
                h = conv(pad_or_trim(h, stage.pad), eq[f"{layer.path}.weight"], groups=layer.conv.groups)
                if layer.bias:
                    h = h + eq[f"{layer.path}.bias"][(slice(None), *(None,) * self.spec.ndim)]
                repeat = prod(stage.out_phases)
            else:
                h = _pointwise(layer, eq, h, repeat, self.layout)
        y = depth_to_space(h, self.block, self.layout)
        return y[(slice(None), slice(None), *(slice(0, n) for n in self.spec.output.size))]

    # -- exact verification -------------------------------------------------------------------------
    def verify(self) -> list[VerifyReport]:
        """Decide every stage exactly by index analysis, with the chosen masks.

        Stage ``l`` must, for every tap and every real output sample, read the same true input
        sample as the transposed layer (or nothing where it reads nothing).  Unmasked junk is
        treated as a live, wrong sample (its value is whatever the previous stage computed).
        """
        return [self._verify_stage(stage) for stage in self.stages]

    def _verify_stage(self, stage: Stage) -> VerifyReport:
        c = stage.layer.conv
        size, n_out = stage.layer.in_shape.size, stage.layer.out_shape.size
        identity = (f"decoder {stage.layer.label}: unit-stride over {_shape(stage.in_phases)} → "
                    f"{_shape(stage.out_phases)} phases")
        for channels, phases in ((c.in_channels, stage.in_phases), (c.out_channels, stage.out_phases)):
            problem = _check_channels(channels, c.groups, prod(phases), self.layout)
            if problem is not None:
                return VerifyReport(identity, False, size, n_out, 0, 0, problem)
        claimed: dict[tuple[int, ...], list] = {}
        for m, q, r, j in stage.entries:
            axes = []
            for a in range(len(size)):
                R, B, lo = stage.in_phases[a], stage.out_phases[a], stage.pad[a][0]
                t = np.arange(n_out[a])
                coarse = t // B + j[a] - lo  # the input block read, before padding
                pos = R * coarse + q[a]
                bound = size[a] if stage.masked[a] or R * stage.in_coarse[a] == size[a] else R * stage.in_coarse[a]
                live = (t % B == r[a]) & (coarse >= 0) & (coarse < stage.in_coarse[a]) & (pos < bound)
                axes.append((pos, live))
            claimed.setdefault(m, []).append(axes)
        notes = (f"input phases {_shape(stage.in_phases)} (positions ≥ N are junk of the previous stage"
                 f"{'; masked on axes ' + ','.join(str(a) for a, on in enumerate(stage.masked) if on) if any(stage.masked) else ''})",)
        return _compare(identity, size, n_out, c.kernel, _transposed_reads(c, size, n_out), claimed,
                        ("the transposed layer", "the decoder stage"), notes,
                        ("nothing (no input sample lands there with this tap)", "nothing (wrong phase, or zero padding)"))

    # -- display ----------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        from .report import decoder_text

        return decoder_text(self)

    def to_json(self) -> dict[str, Any]:
        """The construction as a JSON document: stages, their banks' sizes, masks and reasons."""
        return {
            "layout": self.layout,
            "channel_order": LAYOUTS[self.layout],
            "masks": self.masks,
            "output_block": list(self.block),
            "stages": [
                {"layer": st.layer.path, "in_phases": list(st.in_phases), "out_phases": list(st.out_phases),
                 "in_channels": st.in_channels, "out_channels": st.out_channels, "kernel": list(st.kernel),
                 "pad": [list(p) for p in st.pad], "masked": list(st.masked), "mask_reasons": list(st.mask_reasons),
                 "sharing": st.sharing,
                 "taps": [{"tap": list(m), "in_phase": list(q), "out_phase": list(r), "offset": list(j)} for m, q, r, j in st.entries]}
                for st in self.stages
            ],
        }


def _shape(values: Sequence[int]) -> str:
    return "×".join(map(str, values))


def destride_decoder(spec: Any, *, layout: str = "pytorch", masks: str = "auto") -> DecoderEquivalent:
    """The equivalent of a decoder at its input resolution (a spec mapping, JSON, path or :class:`DecoderSpec`)."""
    return DecoderEquivalent(spec if isinstance(spec, DecoderSpec) else parse(spec), layout, masks)
