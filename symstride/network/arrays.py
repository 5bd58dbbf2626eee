"""Parameters and inputs of a network as float64 arrays, checked against the spec (shared by the
strided network, its equivalent and the decoders)."""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError

from typing import Any, Mapping

import numpy as np

from .spec import NetworkSpec

__all__ = ["parameter", "input_array"]


def parameter(params: Mapping[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray:
    """``params[key]`` as a float64 array of ``shape``, or a ValueError naming the key."""
    if key not in params:
        raise SymstrideError(f"missing parameter {key!r} of shape {list(shape)}")
    value = np.asarray(params[key])
    if value.dtype == object or not np.issubdtype(value.dtype, np.number):
        raise SymstrideTypeError(f"parameter {key!r} must be numeric, got dtype {value.dtype}")
    if value.shape != shape:
        raise SymstrideError(f"parameter {key!r} has shape {list(value.shape)}, expected {list(shape)}")
    return value.astype(np.float64, copy=False)


def input_array(x: Any, spec: NetworkSpec) -> np.ndarray:
    """``x`` as float64 of shape ``(batch, C, *size)``, or a ValueError."""
    arr = np.asarray(x)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise SymstrideTypeError(f"the input must be numeric, got dtype {arr.dtype}")
    want = (spec.input.channels, *spec.input.size)
    if arr.ndim != len(want) + 1 or arr.shape[1:] != want:
        raise SymstrideError(f"the input must have shape (batch, {', '.join(map(str, want))}), got {list(arr.shape)}")
    return arr.astype(np.float64, copy=False)
