"""The decoder at its input resolution: unit-stride convolutions between phase maps, one depth-to-space.

:class:`Stage` is one transposed layer's place in the construction (its phases, coarse lengths,
kernel, padding, masks and tap map); :class:`DecoderEquivalent` builds the stages, their tied
banks and masks, runs them, and verifies them exactly by index analysis.
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError

import itertools
from dataclasses import dataclass
from math import prod
from typing import Any, Mapping, Sequence

import numpy as np

from ..core.indexing import LAYOUTS, bank_gather_index, check_layout
from ..core.phasemap import axis_phase_map, phase_reads
from ..network.equivalent import MAX_NETWORK_PHASES
from ..network.spec import BatchNorm, ConvLayer, NetworkSpec
from ..network.arrays import input_array
from ..reference.convolution import conv, depth_to_space, destride_transposed_bias, pad_or_trim
from ..core.tap_comparison import VerifyReport, check_channels, check_extent, compare_reads, transposed_reads
from .boundary import junk_reaches, relevant_inputs
from .spec import parse_decoder
from .transposed import stage_parameters, pointwise_stage
from .verification import DecoderVerification

__all__ = ["Stage", "MASK_POLICIES", "DecoderEquivalent", "destride_decoder"]


@dataclass(frozen=True)
class Stage:
    """One transposed layer of the decoder, run as a unit-stride convolution between phase maps.

    Per axis: ``in_phases`` ``R`` and ``out_phases`` ``B = s·R``, the coarse lengths ``A`` of the
    input and output maps, the equivalent ``kernel``, the signed input ``pad`` ``(left, right)``,
    and whether the input is ``masked`` (with the reason, per axis, in ``mask_reasons``).
    ``entries`` is the tap map: ``(m, q, r, j)`` — tap ``m`` joins input phase ``q`` to output
    phase ``r`` at offset ``j``.
    """

    layer: ConvLayer
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


MASK_POLICIES = ("auto", "always", "never")


class DecoderEquivalent:
    """The decoder at its input resolution: unit-stride convolutions between phase maps, masks
    where the boundary needs them, one depth-to-space at the output.

    ``masks``: ``"auto"`` (where junk would reach a real output — exact), ``"always"`` (wherever
    there is junk — exact), ``"never"`` (for showing why they are needed).
    """

    def __init__(self, spec: NetworkSpec, layout: str = "pytorch", masks: str = "auto") -> None:
        if not isinstance(spec, NetworkSpec) or not spec.transposed:
            raise SymstrideTypeError(f"expected a decoder spec (see symstride.decoder.parse_decoder), got {type(spec).__name__}")
        if masks not in MASK_POLICIES:
            raise SymstrideError(f"unknown mask policy {masks!r}; expected one of {', '.join(map(repr, MASK_POLICIES))}")
        self.spec, self.layout, self.masks = spec, check_layout(layout), masks
        if layout == "tf" and any(layer.conv.groups > 1 for layer in spec.transposed):
            raise SymstrideError("layout='tf' orders channels phase-major, which splits channel groups across phases; "
                             "use layout='pytorch' for decoders with grouped layers")
        nd = spec.ndim
        transposed = spec.transposed
        total = [1] * nd
        for layer in transposed:
            total = [t * s for t, s in zip(total, layer.conv.stride)]
        if prod(total) > MAX_NETWORK_PHASES:  # stages grow with Π S: refuse before allocating anything
            raise SymstrideError(
                f"the decoder's total stride {tuple(total)} gives {prod(total)} output phases (Π S); symstride "
                f"builds decoders with at most {MAX_NETWORK_PHASES}"
            )
        # backwards: which samples of each layer's output the network's output depends on (per axis)
        relevant = [[np.ones(n, dtype=bool) for n in spec.output.size]]
        for layer in reversed(transposed[1:]):
            relevant.insert(0, [relevant_inputs(layer.conv, a, n, rel)
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
                    reaches, why = junk_reaches(n_true[a], coarse[a], R[a], c, a, relevant[i][a])
                    junk = R[a] * coarse[a] > n_true[a]
                    masked.append(junk and (masks == "always" or (masks == "auto" and reaches)))
                    reasons.append(why)
            B = tuple(s * r for s, r in zip(c.stride, R))
            out_coarse = tuple(-(-n // b) for n, b in zip(layer.out_shape.size, B))
            # the transposed rule s·q + δ·m − p_left = B·D + r of symstride.core.phasemap, R input phases
            axes = [axis_phase_map(k, s, d, pl, r, "transposed") for k, s, d, (pl, _), r in zip(c.kernel, c.stride, c.dilation, c.padding, R)]
            kernel = tuple(ax.kernel_eq for ax in axes)
            pad = tuple((ax.pad_phase, ao + k - 1 - ax.pad_phase - ai) for ax, ao, k, ai in zip(axes, out_coarse, kernel, coarse))
            entries = tuple(
                tuple(tuple(e[i] for e in combo) for i in range(4))
                for combo in itertools.product(*(ax.entries() for ax in axes))
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
        conv = stage.layer.conv
        return bank_gather_index(conv.weight_shape, conv.groups, "transposed", m, q_flat, r_flat, j,
                                 prod(stage.in_phases), prod(stage.out_phases), stage.kernel, self.layout)

    def weights(self, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The equivalent network's parameters, keyed like the original's (``{path}.weight`` is ``W'``)."""
        params = stage_parameters(self.spec, params)
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
            if isinstance(layer, ConvLayer):
                stage = stages[layer.path]
                mask = self.mask(stage)
                if mask is not None:
                    h = h * mask
                h = conv(pad_or_trim(h, stage.pad), eq[f"{layer.path}.weight"], groups=layer.conv.groups)
                if layer.bias:
                    h = h + eq[f"{layer.path}.bias"][(slice(None), *(None,) * self.spec.ndim)]
                repeat = prod(stage.out_phases)
            else:
                h = pointwise_stage(layer, eq, h, repeat, self.layout)
        y = depth_to_space(h, self.block, self.layout)
        return y[(slice(None), slice(None), *(slice(0, n) for n in self.spec.output.size))]

    # -- exact verification -------------------------------------------------------------------------
    def verify(self) -> DecoderVerification:
        """Decide every stage exactly by index analysis, with the chosen masks.

        Stage ``l`` must, for every tap and every output sample the network's output depends on,
        read the same true input sample as the transposed layer (or nothing where it reads
        nothing).  Unmasked junk is treated as a live, wrong sample (its value is whatever the
        previous stage computed).  Together the stages are exact exactly when the network is
        (index-wise; pointwise maps commute with the phase split).  One result on the report
        protocol (:class:`~symstride.decoder.verification.DecoderVerification`), its stage reports in order.
        """
        return DecoderVerification(tuple(self._verify_stage(stage) for stage in self.stages))

    def _verify_stage(self, stage: Stage) -> VerifyReport:
        relevant = self.relevant[self.stages.index(stage)]
        c = stage.layer.conv
        size, n_out = stage.layer.in_shape.size, stage.layer.out_shape.size
        identity = (f"decoder {stage.layer.label}: unit-stride over {_shape(stage.in_phases)} → "
                    f"{_shape(stage.out_phases)} phases")
        check_extent(identity, c, size, n_out)
        for channels, phases in ((c.in_channels, stage.in_phases), (c.out_channels, stage.out_phases)):
            problem = check_channels(channels, c.groups, prod(phases), self.layout)
            if problem is not None:
                return VerifyReport(identity, False, size, n_out, 0, 0, problem)
        claimed: dict[tuple[int, ...], list] = {}
        for m, q, r, j in stage.entries:
            axes = []
            for a in range(len(size)):
                R, B, lo = stage.in_phases[a], stage.out_phases[a], stage.pad[a][0]
                pos, mine = phase_reads("transposed", n_out[a], R, B, q[a], r[a], j[a], lo)
                coarse = (pos - q[a]) // R  # the input block read, before padding
                bound = size[a] if stage.masked[a] or R * stage.in_coarse[a] == size[a] else R * stage.in_coarse[a]
                live = mine & (coarse >= 0) & (coarse < stage.in_coarse[a]) & (pos < bound) & relevant[a]
                axes.append((pos, live))
            claimed.setdefault(m, []).append(axes)
        notes = (f"input phases {_shape(stage.in_phases)} (positions ≥ N are junk of the previous stage"
                 f"{'; masked on axes ' + ','.join(str(a) for a, on in enumerate(stage.masked) if on) if any(stage.masked) else ''})",)
        reference = {m: [(pos, live & rel) for (pos, live), rel in zip(axes, relevant)]
                     for m, axes in transposed_reads(c, size, n_out).items()}
        skipped = [int((~rel).sum()) for rel in relevant]
        if any(skipped):
            notes += (f"outputs no later layer reads are not compared ({_shape(skipped)} per axis)",)
        return compare_reads(identity, size, n_out, c.kernel, reference, claimed,
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
    """The equivalent of a decoder at its input resolution (a spec mapping, JSON, path or :class:`NetworkSpec`)."""
    return DecoderEquivalent(spec if isinstance(spec, NetworkSpec) else parse_decoder(spec), layout, masks)
