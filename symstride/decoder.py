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
mask is needed on an axis exactly when some junk sample ``n`` reaches, through a tap ``m``, an
output ``t = s'·n + δ'·m − p'_left`` of the next layer that the network's output depends on
(outputs that later layers crop away do not count) — decided by integer arithmetic, backwards
from the output, and confirmed by exact index verification (:meth:`DecoderEquivalent.verify`).  For DCGAN-style
layers (``k = 4, s = 2, p = 1``) ``N_l = T_l·N_0`` and no mask is ever needed.

The spec is the network spec of :mod:`symstride.network.spec` (its input, pointwise layers
and parameter keys — a PyTorch ``nn.Sequential`` ``state_dict``) with layer type
``conv_transpose``:

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
from dataclasses import dataclass
from math import prod
from typing import Any, Mapping, Sequence, Union

import numpy as np

from .indexing import LAYOUTS, check_layout, transposed_bank_gather_index, transposed_output_shape
from .network.pointwise import ACTIVATIONS, batchnorm
from .network.spec import LAYER_TYPES as NETWORK_LAYER_TYPES
from .network.spec import Activation, BatchNorm, Shape, _flag, _Layer, _layer, _load, parse_input
from .network.strided import input_array, parameter
from .params import ConvTransposeSpec
from .reference import conv, conv_transpose, depth_to_space, destride_transposed_bias, pad_or_trim
from .verify import VerifyReport, _check_channels, _compare, _transposed_reads

__all__ = [
    "LAYER_TYPES",
    "TransposedLayer",
    "DecoderSpec",
    "parse",
    "parameter_shapes",
    "forward",
    "random_parameters",
    "Stage",
    "DecoderEquivalent",
    "destride_decoder",
    "MASK_POLICIES",
]

#: Layer types a decoder spec may use: transposed convolutions and the network spec's pointwise maps.
LAYER_TYPES = ("conv_transpose", "batchnorm", *ACTIVATIONS)
_TRANSPOSED_KEYS = {"out_channels", "kernel", "stride", "padding", "output_padding", "dilation", "groups", "bias"}


# -- the spec -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransposedLayer(_Layer):
    """A transposed convolution; parameters ``{path}.weight`` ``(C_in, C_out/groups, *k)``, ``{path}.bias``."""

    conv: ConvTransposeSpec
    bias: bool
    kind = "conv_transpose"


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


def _transposed(d: Mapping, path: str, shape: Shape) -> TransposedLayer:
    unknown = sorted(set(d) - _TRANSPOSED_KEYS - {"type"})
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} for a conv_transpose layer; allowed keys: {', '.join(sorted(_TRANSPOSED_KEYS))}")
    for key in ("out_channels", "kernel"):
        if key not in d:
            raise ValueError(f"a conv_transpose layer needs {key!r}")
    spec = ConvTransposeSpec.create(
        d["kernel"], d.get("stride", 1), d.get("padding", 0), d.get("output_padding", 0), d.get("dilation", 1),
        shape.channels, d["out_channels"], d.get("groups", 1), ndim=len(shape.size),
    )
    out = Shape(spec.out_channels, transposed_output_shape(spec, shape.size))
    return TransposedLayer(path, shape, out, spec, _flag(d.get("bias", True), "bias"))


def _decoder_layer(d: Any, path: str, shape: Shape) -> Layer:
    kind = d.get("type") if isinstance(d, Mapping) else None
    if kind != "conv_transpose":
        if isinstance(kind, str) and kind not in LAYER_TYPES:
            known = "a strided layer (see symstride.network)" if kind in NETWORK_LAYER_TYPES else "an unknown layer type"
            raise ValueError(f"layer {path} ({kind}): {kind!r} is {known}; a decoder holds "
                             f"{', '.join(map(repr, LAYER_TYPES))}")
        return _layer(d, path, shape)  # the network spec's pointwise layers, validated there
    try:
        return _transposed(d, path, shape)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"layer {path} (conv_transpose): {exc}") from None


def parse(spec_or_path: Any) -> DecoderSpec:
    """Validate a decoder spec (a dict, or the path of a JSON file): the network spec format of
    :mod:`symstride.network.spec` with ``conv_transpose`` layers and pointwise maps."""
    data = _load(spec_or_path)
    shape = first = parse_input(data, "decoder")
    items = data["layers"]
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise TypeError(f"layers must be a list of layer objects, got {type(items).__name__}")
    layers = []
    for i, item in enumerate(items):
        layers.append(_decoder_layer(item, str(i), shape))
        shape = layers[-1].out_shape
    if not any(isinstance(layer, TransposedLayer) for layer in layers):
        raise ValueError("a decoder needs at least one conv_transpose layer")
    return DecoderSpec(first, tuple(layers))


def parameter_shapes(spec: DecoderSpec) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter, keyed as in a PyTorch ``nn.Sequential`` ``state_dict``."""
    shapes = {}
    for layer in spec.layers:
        if isinstance(layer, TransposedLayer):
            shapes[f"{layer.path}.weight"] = layer.conv.weight_shape
            if layer.bias:
                shapes[f"{layer.path}.bias"] = (layer.conv.out_channels,)
        elif isinstance(layer, BatchNorm):
            shapes.update({f"{layer.path}.{n}": (layer.in_shape.channels,) for n in ("weight", "bias", "running_mean", "running_var")})
    return shapes


def _parameters(spec: DecoderSpec, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every parameter the spec needs, as float64 arrays of the right shape (errors name the layer)."""
    out = {}
    for key, shape in parameter_shapes(spec).items():
        try:
            out[key] = parameter(params, key, shape)
        except (ValueError, TypeError) as exc:
            layer = spec.layers[int(key.split(".")[0])]
            raise type(exc)(f"{layer.label}: {exc}") from None
    return out


def random_parameters(spec: DecoderSpec, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded float64 parameters for every layer (batch-norm variances positive)."""
    rng = np.random.default_rng(seed)
    return {key: np.abs(rng.standard_normal(shape)) + 0.5 if key.endswith("running_var") else rng.standard_normal(shape)
            for key, shape in parameter_shapes(spec).items()}


def _pointwise(layer: Layer, params: Mapping[str, np.ndarray], h: np.ndarray, repeat: int, layout: str) -> np.ndarray:
    """An activation or batch-norm on ``h`` whose channels are ``C·repeat`` phase channels
    (commuting lemma: per-channel parameters repeated per phase in ``layout`` order)."""
    if isinstance(layer, Activation):
        return ACTIVATIONS[layer.name].apply(h, dict(layer.options))
    values = (destride_transposed_bias(params[f"{layer.path}.{n}"], (repeat,), layout)
              for n in ("weight", "bias", "running_mean", "running_var"))
    return batchnorm(h, *values, layer.eps)


def forward(spec: DecoderSpec, params: Mapping[str, Any], x: Any) -> np.ndarray:
    """The decoder as written (NumPy, float64): transposed convolutions and pointwise maps."""
    params = _parameters(spec, params)
    h = input_array(x, spec)
    for layer in spec.layers:
        if isinstance(layer, TransposedLayer):
            c = layer.conv
            h = conv_transpose(h, params[f"{layer.path}.weight"], c.stride, c.padding, c.output_padding, c.dilation, c.groups)
            if layer.bias:
                h = h + params[f"{layer.path}.bias"][(slice(None), *(None,) * spec.ndim)]
        else:
            h = _pointwise(layer, params, h, 1, "pytorch")
    return h


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


def _reads(spec: ConvTransposeSpec, axis: int, n: int) -> list[tuple[int, int]]:
    """``(tap, output)`` pairs into which input sample ``n`` scatters on ``axis`` (``t = s·n + δ·m − p_left``)."""
    s, d, pl = spec.stride[axis], spec.dilation[axis], spec.padding[axis][0]
    return [(m, s * n + d * m - pl) for m in range(spec.kernel[axis])]


def _relevant_inputs(spec: ConvTransposeSpec, axis: int, n_in: int, relevant_out: np.ndarray) -> np.ndarray:
    """Input samples that scatter into an output the network's output depends on."""
    return np.array([any(0 <= t < relevant_out.size and relevant_out[t] for _, t in _reads(spec, axis, n)) for n in range(n_in)])


def _junk_reaches(n_true: int, coarse: int, block: int, nxt: ConvTransposeSpec, axis: int, relevant: np.ndarray) -> tuple[bool, str]:
    """Does a junk sample ``n ∈ [N, block·coarse)`` reach an output of the next layer that the
    network's output depends on (``relevant``)?  With the reason, for the report."""
    if block * coarse == n_true:
        return False, f"axis {axis}: N = {n_true} is a multiple of the block {block}, no junk"
    for n in range(n_true, block * coarse):
        for m, t in _reads(nxt, axis, n):
            if 0 <= t < relevant.size and relevant[t]:
                return True, (f"axis {axis}: junk sample {n} (N = {n_true}, block {block}) reaches output {t} "
                              f"of the next layer through tap {m}: mask")
    junk = f"junk sample {n_true} reaches" if block * coarse - 1 == n_true else f"junk samples {n_true}…{block * coarse - 1} reach"
    return False, (f"axis {axis}: {junk} no output of the next layer that the network's output depends on "
                   f"(block {block}): no mask needed")


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
        transposed = spec.transposed
        # backwards: which samples of each layer's output the network's output depends on (per axis)
        relevant = [[np.ones(n, dtype=bool) for n in spec.output.size]]
        for layer in reversed(transposed[1:]):
            relevant.insert(0, [_relevant_inputs(layer.conv, a, n, rel)
                                for a, (n, rel) in enumerate(zip(layer.in_shape.size, relevant[0]))])
        self.relevant = tuple(tuple(r) for r in relevant)  #: per transposed layer, per axis: outputs that matter
        R, coarse, n_true = (1,) * nd, spec.input.size, spec.input.size
        stages: list[Stage] = []
        for i, layer in enumerate(transposed):
            c = layer.conv
            masked, reasons = [], []
            if i == 0:
                masked, reasons = [False] * nd, ["the network input has no junk"] * nd
            else:
                for a in range(nd):
                    reaches, why = _junk_reaches(n_true[a], coarse[a], R[a], c, a, relevant[i][a])
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
        h = input_array(x, self.spec)
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

        Stage ``l`` must, for every tap and every output sample the network's output depends on,
        read the same true input sample as the transposed layer (or nothing where it reads
        nothing).  Unmasked junk is treated as a live, wrong sample (its value is whatever the
        previous stage computed).  Together the stages are exact exactly when the network is
        (index-wise; pointwise maps commute with the phase split).
        """
        return [self._verify_stage(stage) for stage in self.stages]

    def _verify_stage(self, stage: Stage) -> VerifyReport:
        relevant = self.relevant[self.stages.index(stage)]
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
                live = (t % B == r[a]) & (coarse >= 0) & (coarse < stage.in_coarse[a]) & (pos < bound) & relevant[a]
                axes.append((pos, live))
            claimed.setdefault(m, []).append(axes)
        notes = (f"input phases {_shape(stage.in_phases)} (positions ≥ N are junk of the previous stage"
                 f"{'; masked on axes ' + ','.join(str(a) for a, on in enumerate(stage.masked) if on) if any(stage.masked) else ''})",)
        reference = {m: [(pos, live & rel) for (pos, live), rel in zip(axes, relevant)]
                     for m, axes in _transposed_reads(c, size, n_out).items()}
        skipped = [int((~rel).sum()) for rel in relevant]
        if any(skipped):
            notes += (f"outputs no later layer reads are not compared ({_shape(skipped)} per axis)",)
        return _compare(identity, size, n_out, c.kernel, reference, claimed,
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
