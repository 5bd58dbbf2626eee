"""Padding of the spatial axes in PyTorch: ``(left, right)`` pairs, padding modes, extension and trimming.

Every destrided layer first pads its input as the original would and then extends (or trims)
it to the length its phases need; the two steps live here so convolutions, poolings and the
network construction pad alike.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = ["TORCH_PADDING_MODES", "pad_widths", "pad_to"]

#: PyTorch's ``padding_mode`` of a convolution → the mode of ``F.pad``.
TORCH_PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def pad_widths(pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Per-axis ``(left, right)`` pairs in ``torch.nn.functional.pad``'s order (last axis first)."""
    return [v for pair in reversed(pairs) for v in pair]


def pad_to(x: torch.Tensor, pads: Sequence[tuple[int, int]], lengths: Sequence[int], mode: str, value: float = 0.0) -> torch.Tensor:
    """Pad the spatial axes by ``pads`` in ``mode``, then extend with ``value`` or trim to ``lengths``.

    With ``mode="zeros"`` both steps are one ``F.pad`` (a negative width trims).
    """
    if mode == "zeros":
        flat = pad_widths([(l, L - n - l) for (l, _), L, n in zip(pads, lengths, x.shape[2:])])
        return F.pad(x, flat, value=value) if any(flat) else x
    flat = pad_widths(pads)
    xp = F.pad(x, flat, mode=TORCH_PADDING_MODES[mode]) if any(flat) else x
    flat = pad_widths([(0, L - n) for L, n in zip(lengths, xp.shape[2:])])
    return F.pad(xp, flat, value=value) if any(flat) else xp
