"""The decoder's plain-text report: what ``repr`` of a :class:`DecoderEquivalent` and ``symstride decoder`` print."""

from __future__ import annotations

from math import prod

from ..layer.report import axes_text

__all__ = ["decoder_text"]


def decoder_text(eq: "DecoderEquivalent") -> str:
    """The decoder at its input resolution: one row per transposed layer, then the masks and why."""
    spec = eq.spec
    n_params = sum(prod(st.layer.conv.weight_shape) for st in eq.stages)
    n_bank = sum(st.sharing * prod(st.layer.conv.weight_shape) for st in eq.stages)
    lines = [
        f"Decoder: {len(eq.stages)} transposed layers as unit-stride convolutions at the input resolution, "
        f"one depth-to-space by {axes_text(eq.block)} at the output",
        f"  input {spec.input.channels}×{axes_text(spec.input.size)} → output {spec.output.channels}×{axes_text(spec.output.size)}; "
        f"layout {eq.layout}; masks {eq.masks}",
        f"  weights: {n_params} original, {n_bank} non-zero entries in the equivalent banks (each weight appears Π R times)",
        "",
        "  layer  phases R→B      channels        kernel   pad (left:right)  mask   sharing",
    ]
    for st in eq.stages:
        pads = ",".join(f"{l}:{r}" for l, r in st.pad)
        mask = ",".join("yes" if m else "no" for m in st.masked)
        lines.append(
            f"  {st.layer.path:<6} {axes_text(st.in_phases) + '→' + axes_text(st.out_phases):<15} "
            f"{str(st.in_channels) + '→' + str(st.out_channels):<15} {axes_text(st.kernel):<8} {pads:<17} {mask:<6} ×{st.sharing}"
        )
    lines += ["", "boundaries (junk = samples of the last block past the end of the feature map)"]
    for st in eq.stages[1:]:
        lines += [f"  before layer {st.layer.path}: {why}" for why in st.mask_reasons]
    if len(eq.stages) < 2:
        lines.append("  a single transposed layer reads only the network input: no masks")
    return "\n".join(lines)
