"""Boundary analysis of a decoder: where junk past the end of a feature map would reach a real output.

When ``T_l`` does not divide ``N_l`` the last phase block holds samples the strided decoder does
not have.  These integer computations, run backwards from the output, decide per axis whether
the next layer would read such a sample into an output the network's output depends on — that
is, whether the stage needs a 0/1 mask (see :mod:`symstride.decoder`).
"""

from __future__ import annotations

import numpy as np

from ..core.params import ConvTransposeSpec

__all__ = ["relevant_inputs", "junk_reaches"]


def _reads(spec: ConvTransposeSpec, axis: int, n: int) -> list[tuple[int, int]]:
    """``(tap, output)`` pairs into which input sample ``n`` scatters on ``axis`` (``t = s·n + δ·m − p_left``)."""
    s, d, pl = spec.stride[axis], spec.dilation[axis], spec.padding[axis][0]
    return [(m, s * n + d * m - pl) for m in range(spec.kernel[axis])]


def relevant_inputs(spec: ConvTransposeSpec, axis: int, n_in: int, relevant_out: np.ndarray) -> np.ndarray:
    """Input samples that scatter into an output the network's output depends on."""
    return np.array([any(0 <= t < relevant_out.size and relevant_out[t] for _, t in _reads(spec, axis, n)) for n in range(n_in)])


def junk_reaches(n_true: int, coarse: int, block: int, nxt: ConvTransposeSpec, axis: int, relevant: np.ndarray) -> tuple[bool, str]:
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
