"""The fx nodes symstride understands: functional convolutions and poolings, and error labels.

``torch.fx`` records a functional call with its arguments as written, positional or keyword;
:func:`functional_call` binds them to the signature of the call and says which kind of
windowed layer the node is.  :func:`label` is how every error names a node.
"""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import torch
import torch.fx as fx
import torch.nn.functional as F

from ..core.errors import SymstrideError

__all__ = [
    "FunctionalCall", "functional_call", "label", "refuse", "is_strided",
    "CONV_FUNCTIONS", "MAX_POOL_FUNCTIONS", "AVG_POOL_FUNCTIONS",
    "REQUIRED_ARGUMENTS", "call_signature"]

REQUIRED_ARGUMENTS = inspect.Parameter.empty


def call_signature(*params: tuple[str, Any]) -> inspect.Signature:
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(name, kind, default=default) for name, default in params])


#: Signatures of the functional calls symstride converts.
SIGNATURES = {
    "conv": call_signature(
        ("input", REQUIRED_ARGUMENTS), ("weight", REQUIRED_ARGUMENTS), ("bias", None), ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)
    ),
    "maxpool": call_signature(
        ("input", REQUIRED_ARGUMENTS), ("kernel_size", REQUIRED_ARGUMENTS), ("stride", None), ("padding", 0), ("dilation", 1),
        ("ceil_mode", False), ("return_indices", False),
    ),
    "avgpool": call_signature(
        ("input", REQUIRED_ARGUMENTS), ("kernel_size", REQUIRED_ARGUMENTS), ("stride", None), ("padding", 0), ("ceil_mode", False),
        ("count_include_pad", True), ("divisor_override", None),
    ),
}
#: Functional convolutions and poolings, with their number of spatial axes.
CONV_FUNCTIONS = {torch.conv1d: 1, torch.conv2d: 2, torch.conv3d: 3}
MAX_POOL_FUNCTIONS = {
    F.max_pool1d: 1, F.max_pool2d: 2, F.max_pool3d: 3,
    torch.max_pool1d: 1, torch.max_pool2d: 2, torch.max_pool3d: 3,
}
AVG_POOL_FUNCTIONS = {F.avg_pool1d: 1, F.avg_pool2d: 2, F.avg_pool3d: 3, torch.avg_pool1d: 1}
_KINDS = [("conv", CONV_FUNCTIONS), ("maxpool", MAX_POOL_FUNCTIONS), ("avgpool", AVG_POOL_FUNCTIONS)]


def is_strided(stride: Any) -> bool:
    """Whether a stride (an int or a per-axis sequence) is other than 1 on some axis."""
    values = stride if isinstance(stride, (tuple, list)) else (stride,)
    return any(int(v) != 1 for v in values)


class FunctionalCall(NamedTuple):
    """A functional convolution or pooling node: its kind, number of spatial axes and bound arguments."""

    kind: str
    ndim: int
    args: dict[str, Any]


def label(gm: fx.GraphModule, node: fx.Node) -> str:
    """How errors name a node, e.g. ``node 'up' (module 'up', ConvTranspose2d)``.

    A functional call or method names the module whose ``forward`` made it (``torch.fx`` keeps
    the module stack in ``node.meta["nn_module_stack"]``), e.g. ``node 'max_pool2d' (function
    max_pool2d in module 'blocks.0', Block)``.
    """
    if node.op == "call_module":
        return f"node {node.name!r} (module {node.target!r}, {type(gm.get_submodule(node.target)).__name__})"
    stack = node.meta.get("nn_module_stack") or {}
    inner = ""
    if stack:
        path, kind = list(stack.values())[-1]
        inner = f" in module {path!r}, {getattr(kind, '__name__', str(kind).rpartition('.')[2])}"
    if node.op == "call_function":
        return f"node {node.name!r} (function {getattr(node.target, '__name__', repr(node.target))}{inner})"
    return f"node {node.name!r} ({node.op} {node.target!r}{inner})"


def refuse(gm: fx.GraphModule, node: fx.Node, reason: str) -> SymstrideError:
    """The error for a node symstride cannot convert, naming it and the reason."""
    return SymstrideError(f"cannot convert {label(gm, node)}: {reason}")


def functional_call(gm: fx.GraphModule, node: fx.Node) -> FunctionalCall | None:
    """The bound call if ``node`` is a functional convolution or pooling, else None.

    Geometry (everything but the tensors) must be constant: an argument computed in the graph
    raises :class:`SymstrideError` naming the node.
    """
    if node.op != "call_function":
        return None
    for kind, table in _KINDS:
        if node.target in table:
            try:
                bound = SIGNATURES[kind].bind(*node.args, **node.kwargs)
            except TypeError as exc:
                raise refuse(gm, node, f"unexpected arguments ({exc})") from None
            bound.apply_defaults()
            args = dict(bound.arguments)
            tensors = ("input", "weight", "bias") if kind == "conv" else ("input",)
            for name, value in args.items():
                if name not in tensors and isinstance(value, fx.Node):
                    raise refuse(gm, node, f"its {name} is computed in the graph ({value.name!r}); symstride needs constant layer geometry")
            return FunctionalCall(kind, table[node.target], args)
    return None
