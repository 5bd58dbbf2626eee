"""The converter's final comparison: the converted model's output against the original's.

Outputs are compared by structure and values.  Containers are compared by what they hold, not
by their Python class: ``torch.fx`` rebuilds an ``OrderedDict`` output (torchvision's
segmentation models, detection backbones) as a plain ``dict``, and a namedtuple may come back
as a tuple — the same output.  Mappings must have the same keys, sequences the same length
(tuples and lists are not interchangeable), tensors the same shape and dtype and, when
floating, NaN and infinities in the same places and the finite values within
``CHECK_TOLERANCE[dtype] · max(1, max |original|)``; other leaves equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ..core.errors import SymstrideError

__all__ = ["CHECK_TOLERANCE", "compare_outputs"]

#: Relative tolerance of the final output check, by dtype (scaled by max(1, max |output|)).
CHECK_TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4, torch.bfloat16: 5e-2, torch.float16: 1e-2}


def _kind(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "tensor"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, tuple):
        return "tuple"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _where(path: str) -> str:
    return f"output{path}" if path else "the output"


def compare_outputs(reference: Any, converted: Any, path: str = "") -> None:
    """Raise :class:`SymstrideError` naming the first place where ``converted`` is not ``reference``.

    >>> from collections import OrderedDict
    >>> import torch
    >>> x = torch.ones(2, dtype=torch.float64)
    >>> compare_outputs(OrderedDict(out=x), {"out": x.clone()})      # a dict for an OrderedDict: same
    >>> compare_outputs(OrderedDict(out=x), {"aux": x})
    Traceback (most recent call last):
      ...
    symstride.core.errors.SymstrideError: the output: the converted model returns keys ['aux'], the original ['out']
    >>> compare_outputs((x,), (x + 1e-3,))
    Traceback (most recent call last):
      ...
    symstride.core.errors.SymstrideError: output[0]: the converted model differs from the original by 0.001 (tolerance 1e-09); this is a bug in symstride, please report it
    """
    kind, other = _kind(reference), _kind(converted)
    if kind != other:
        raise SymstrideError(f"{_where(path)}: the converted model returns a {other}, the original a {kind}")
    if kind == "mapping":
        if set(reference) != set(converted):
            raise SymstrideError(
                f"{_where(path)}: the converted model returns keys {sorted(map(str, converted))}, "
                f"the original {sorted(map(str, reference))}"
            )
        for key in reference:
            compare_outputs(reference[key], converted[key], f"{path}[{key!r}]")
    elif kind in ("tuple", "list"):
        if len(reference) != len(converted):
            raise SymstrideError(f"{_where(path)}: the converted model returns {len(converted)} items, the original {len(reference)}")
        for i, (a, b) in enumerate(zip(reference, converted)):
            compare_outputs(a, b, f"{path}[{i}]")
    elif kind == "tensor":
        _compare_tensors(reference, converted, path)
    elif reference != converted:
        raise SymstrideError(f"{_where(path)}: the converted model returns {converted!r}, the original {reference!r}")


def _compare_tensors(a: torch.Tensor, b: torch.Tensor, path: str) -> None:
    if a.shape != b.shape or a.dtype != b.dtype:
        raise SymstrideError(
            f"{_where(path)}: the converted model gives {b.dtype} of shape {tuple(b.shape)}, "
            f"the original {a.dtype} of shape {tuple(a.shape)}"
        )
    if not a.is_floating_point():
        if not torch.equal(a, b):
            raise SymstrideError(f"{_where(path)}: the converted model's integer output differs from the original's")
        return
    if not a.numel():
        return
    finite = torch.isfinite(a)
    same = (torch.isnan(a) & torch.isnan(b)) | (~finite & ~torch.isnan(a) & (a == b))
    if not bool((finite | same).all()):
        raise SymstrideError(
            f"{_where(path)}: the converted model's NaN or infinite entries are not the original's "
            f"({int((~finite).sum())} in the original, {int((~torch.isfinite(b)).sum())} in the converted model)"
        )
    if not bool(finite.any()):
        return
    tol = CHECK_TOLERANCE.get(a.dtype, 1e-4) * max(1.0, float(a[finite].abs().max()))
    err = float((a[finite] - b[finite]).abs().max())
    if not err <= tol:
        raise SymstrideError(
            f"{_where(path)}: the converted model differs from the original by {err:.3g} (tolerance {tol:.3g}); "
            "this is a bug in symstride, please report it"
        )
