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
>>> spec = parse_decoder({"input": {"channels": 2, "size": [3]},
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

from .equivalent import MASK_POLICIES, DecoderEquivalent, Stage, destride_decoder
from .spec import DECODER_LAYER_TYPES, parse_decoder
from .transposed import forward, random_parameters

__all__ = [
    "DECODER_LAYER_TYPES",
    "parse_decoder",
    "forward",
    "random_parameters",
    "Stage",
    "DecoderEquivalent",
    "destride_decoder",
    "MASK_POLICIES",
]
