"""Shared cases for the transposed-convolution tests: random layers PyTorch accepts, data, the oracle."""

import os

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from symstride.core.params import ConvTransposeSpec

TOL = 1e-10

_SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1


def examples(n: int) -> int:
    """``max_examples`` for a Hypothesis test, ten times more under the ``thorough`` profile."""
    return n * _SCALE


@pytest.fixture(autouse=True, scope="module")
def single_thread_torch():
    """Tiny tensors: torch's intra-op thread pool only adds cost on a busy 2-core machine.
    Import it into a test module to use it there; restored after the module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def torch_conv_transpose(x, w, **kw):
    fn = getattr(torch.nn.functional, f"conv_transpose{x.ndim - 2}d")
    return fn(torch.from_numpy(x), torch.from_numpy(w), **kw).numpy()


@st.composite
def configs(draw, max_ndim=3):
    """A random transposed layer PyTorch accepts: asymmetric strides, dilation, groups, output padding."""
    d = draw(st.integers(1, max_ndim))
    axis = lambda lo, hi: tuple(draw(st.lists(st.integers(lo, hi), min_size=d, max_size=d)))
    kernel, stride, dilation = axis(1, 4), axis(1, 3), axis(1, 3)
    padding = axis(0, 3)
    output_padding = tuple(draw(st.integers(0, max(s, dl) - 1)) for s, dl in zip(stride, dilation))
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    size = axis(1, 4 if d < 3 else 3)
    spec = ConvTransposeSpec.create(kernel, stride, padding, output_padding, dilation, cin, cout, groups)
    full = [(n - 1) * s + dl * (k - 1) + 1 + op for n, s, dl, k, op in zip(size, stride, dilation, kernel, output_padding)]
    size = tuple(n + max(0, -(-(2 * p + 1 - f) // s)) for n, p, f, s in zip(size, padding, full, stride))  # output ≥ 1
    return spec, size, draw(st.integers(0, 2**31 - 1))


def data(spec, size, seed, batch=2):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, spec.in_channels, *size)), rng.standard_normal(spec.weight_shape)


def params(spec):
    return dict(stride=spec.stride, padding=tuple(l for l, _ in spec.padding), output_padding=spec.output_padding,
                dilation=spec.dilation)
