"""Pointwise maps and the commuting lemma.

A pointwise map acts on every sample on its own: ``f(y)[c, n] = f_c(y[c, n])`` with a
function that may depend on the channel ``c`` (batch-norm) but not on the position ``n``.
**Commuting lemma:** such a map commutes with any re-indexing of positions that keeps the
channel, in particular with the phase split ``z[c·R^d + φ(q), a] = y[c, R·a + q]``:
``f(z)[c·R^d + φ(q), a] = f_c(y[c, R·a + q])``.  So in the equivalent network an activation is
unchanged, and a per-channel map uses the parameters of channel ``c`` on every phase channel
``c·R^d + φ(q)`` (batch-norm parameters repeated ``R^d`` times).

Activations are a table: name → NumPy function, options with their PyTorch defaults, and
whether ``f(0) = 0`` (which keeps zero samples past a feature map's end zero, see
:mod:`symstride.network.boundary`).

>>> import numpy as np
>>> ACTIVATIONS["leaky_relu"].apply(np.array([-2.0, 0.0, 3.0]), {"negative_slope": 0.5})
array([-1.,  0.,  3.])
>>> [name for name, act in ACTIVATIONS.items() if not act.zero_preserving]
['sigmoid']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

__all__ = ["ActivationFunction", "ACTIVATIONS", "batchnorm"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # split by sign so that exp never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class ActivationFunction:
    """An elementwise nonlinearity: ``fn(x, **options)`` with PyTorch's option defaults."""

    fn: Callable[..., np.ndarray]
    defaults: Mapping[str, float]
    zero_preserving: bool
    torch_name: str

    def apply(self, x: np.ndarray, options: Mapping[str, Any]) -> np.ndarray:
        """``fn`` applied elementwise with ``options`` (missing ones take the defaults)."""
        return self.fn(x, **{**self.defaults, **options})


#: Pointwise activations by spec name.  ``torch_name`` is the ``torch.nn.functional`` function
#: with the same semantics (used by the tests' independent PyTorch forward).
ACTIVATIONS: dict[str, ActivationFunction] = {
    "relu": ActivationFunction(lambda x: np.maximum(x, 0.0), {}, True, "relu"),
    "leaky_relu": ActivationFunction(
        lambda x, negative_slope: np.where(x >= 0, x, negative_slope * x), {"negative_slope": 0.01}, True, "leaky_relu"
    ),
    "elu": ActivationFunction(lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))), {"alpha": 1.0}, True, "elu"),
    "tanh": ActivationFunction(lambda x: np.tanh(x), {}, True, "tanh"),
    "silu": ActivationFunction(lambda x: x * _sigmoid(x), {}, True, "silu"),
    "sigmoid": ActivationFunction(_sigmoid, {}, False, "sigmoid"),
}


def batchnorm(x: np.ndarray, weight: Any, bias: Any, mean: Any, var: Any, eps: float) -> np.ndarray:
    """Inference-mode batch-norm, an affine map per channel (axis 1):
    ``(x − mean) / sqrt(var + eps) · weight + bias``.

    >>> batchnorm(np.ones((1, 2, 3)), [2.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 4.0], eps=0.0)[0, :, 0]
    array([0. , 1.5])
    """
    shape = (1, -1) + (1,) * (x.ndim - 2)
    weight, bias, mean, var = (np.asarray(v, dtype=np.float64).reshape(shape) for v in (weight, bias, mean, var))
    return (x - mean) / np.sqrt(var + eps) * weight + bias
