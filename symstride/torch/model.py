"""Whole models: every strided convolution and pooling replaced, traced with ``torch.fx``.

``destride_model`` traces the model with ``torch.fx.symbolic_trace``, propagates the example
input's shapes through the graph, and rewrites it node by node with the rules in the tables
below.  In ``mode="layer"`` each strided layer is replaced by its Theorem 2 equivalent
(:func:`symstride.torch.dispatch.destride_layer`), in place; every other node is kept as it is,
since a node that does not stride computes the same thing before and after.  Nodes that stride
in a way symstride cannot make exact (adaptive or fractional pooling, pooling that returns
indices, …) stop the conversion with an error naming the node.  Strided transposed convolutions
become sub-pixel convolutions (:mod:`symstride.torch.transposed`): per layer in ``mode="layer"``,
whole decoder chains at their input resolution in ``mode="network"``.  Finally the
converted model is run on the example input: its output must equal the original's and no
convolution or pooling may run with a stride other than 1 (:func:`symstride.torch.strided_ops`).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp
from torch.utils._pytree import tree_flatten

from ..core.errors import SymstrideError
from .audit import recorded_run
from .dispatch import destride_layer
from .calls import functional_call, is_strided, label, refuse
from .network import NETWORK_FORMS, convert_network
from .transposed import convert_decoders, convert_transposed_layer
from .layers import (
    AVG_POOL_TYPES,
    CONV_TYPES,
    MAX_POOL_TYPES,
    FORMS,
    DestridedConvCall,
    DestridedPool,
    conv_spec,
    pool_spec,
)

__all__ = ["MODES", "destride_model"]

#: Conversion modes of :func:`destride_model`.
MODES = {
    "layer": "each strided layer replaced in place by its unit-stride equivalent (Theorem 2)",
    "network": "one space-to-depth at the input and tied filters throughout (Theorem 3)",
}

#: Relative tolerance of the final output check, by dtype (scaled by max(1, max |output|)).
CHECK_TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4, torch.bfloat16: 5e-2, torch.float16: 1e-2}


#: Modules whose output depends on ``.training``: symstride converts inference models.
_TRAINING_SENSITIVE = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)

#: Strided operations without an exact conversion here, and why (a short note per entry).
_REFUSED_MODULES = {
    nn.LPPool1d: "power-average pooling with stride {stride} is not converted",
    nn.LPPool2d: "power-average pooling with stride {stride} is not converted",
    nn.Unfold: "patch extraction with stride {stride} is not converted",
    nn.Fold: "patch folding with stride {stride} is not converted",
}
_ALWAYS_REFUSED_MODULES = {
    nn.FractionalMaxPool2d: "fractional max pooling has random, non-integer strides",
    nn.FractionalMaxPool3d: "fractional max pooling has random, non-integer strides",
    nn.MaxUnpool1d: "max unpooling scatters by the indices of a strided pooling",
    nn.MaxUnpool2d: "max unpooling scatters by the indices of a strided pooling",
    nn.MaxUnpool3d: "max unpooling scatters by the indices of a strided pooling",
}
_ADAPTIVE_MODULES = (
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
)
_REFUSED_FUNCTIONS = {
    F.lp_pool1d: "power-average pooling is not converted",
    F.lp_pool2d: "power-average pooling is not converted",
    F.max_pool1d_with_indices: "pooling that returns indices has no stride-free equivalent here",
    F.max_pool2d_with_indices: "pooling that returns indices has no stride-free equivalent here",
    F.max_pool3d_with_indices: "pooling that returns indices has no stride-free equivalent here",
    F.fractional_max_pool2d: "fractional max pooling has random, non-integer strides",
    F.fractional_max_pool3d: "fractional max pooling has random, non-integer strides",
    F.unfold: "patch extraction is not converted",
    F.fold: "patch folding is not converted",
}
_ADAPTIVE_FUNCTIONS = {
    F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d,
    F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d,
}


def _shape(gm: fx.GraphModule, node: fx.Node, value: Any, what: str) -> tuple[int, ...]:
    meta = value.meta.get("tensor_meta") if isinstance(value, fx.Node) else None
    if meta is None or not hasattr(meta, "shape"):
        raise refuse(gm, node, f"the shape of its {what} is unknown after shape propagation")
    return tuple(meta.shape)


def _replace_with_module(gm: fx.GraphModule, node: fx.Node, module: nn.Module, args: tuple) -> None:
    base = f"{node.name}_destrided"
    name, i = base, 1
    while hasattr(gm, name):
        i += 1
        name = f"{base}_{i}"
    gm.add_submodule(name, module)
    with gm.graph.inserting_after(node):
        new = gm.graph.call_module(name, args=args)
    new.meta = dict(node.meta)
    node.replace_all_uses_with(new)
    gm.graph.erase_node(node)


def _set_module(gm: fx.GraphModule, target: str, module: nn.Module) -> None:
    parent, _, attr = target.rpartition(".")
    setattr(gm.get_submodule(parent) if parent else gm, attr, module)


# --- rules for mode="layer" ------------------------------------------------------------------


def _layer_module(gm: fx.GraphModule, node: fx.Node, form: str) -> None:
    mod = gm.get_submodule(node.target)
    kind = type(mod)
    if isinstance(mod, _TRAINING_SENSITIVE) and mod.training:
        raise refuse(gm, node, f"{kind.__name__} is in training mode; symstride converts inference models (call model.eval())")
    if kind in CONV_TYPES:
        if is_strided(mod.stride):
            _set_module(gm, node.target, destride_layer(mod, form=form))
        return
    if convert_transposed_layer(gm, node, _replace_with_module):
        return
    if kind in MAX_POOL_TYPES or kind in AVG_POOL_TYPES:
        stride = mod.kernel_size if mod.stride is None else mod.stride
        if is_strided(stride):
            if getattr(mod, "return_indices", False):
                raise refuse(gm, node, "pooling that returns indices has no stride-free equivalent here")
            _set_module(gm, node.target, destride_layer(mod, form=form))
        return
    if kind in _ALWAYS_REFUSED_MODULES:
        raise refuse(gm, node, _ALWAYS_REFUSED_MODULES[kind])
    if isinstance(mod, _ADAPTIVE_MODULES):
        if getattr(mod, "return_indices", False):
            raise refuse(gm, node, "pooling that returns indices has no stride-free equivalent here")
        _check_adaptive(gm, node, mod.output_size)
        return
    stride = getattr(mod, "stride", 1)
    if stride is None:  # pooling modules default the stride to the window
        stride = getattr(mod, "kernel_size", 1)
    if is_strided(stride):
        reason = _REFUSED_MODULES.get(kind, "it has stride {stride} and symstride has no rule for " + kind.__name__)
        raise refuse(gm, node, reason.format(stride=stride))


def _check_adaptive(gm: fx.GraphModule, node: fx.Node, output_size: Any) -> None:
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
    if any(v is not None and v != 1 for v in sizes):
        raise refuse(
            gm, node,
            f"adaptive pooling to {output_size} strides by an amount that depends on the input size; "
            "only global adaptive pooling (output size 1) is stride-free",
        )


def _layer_function(gm: fx.GraphModule, node: fx.Node, form: str) -> None:
    target = node.target
    call = functional_call(gm, node)
    if call is not None and call.kind == "conv":
        args = call.args
        if not is_strided(args["stride"]):
            return
        spec = conv_spec(_shape(gm, node, args["weight"], "weight"), args["stride"], args["padding"], args["dilation"], args["groups"])
        if spec.ndim != call.ndim:
            raise refuse(gm, node, f"its weight has {spec.ndim} spatial axes, expected {call.ndim}")
        _replace_with_module(gm, node, DestridedConvCall(spec, form=form), (args["input"], args["weight"], args["bias"]))
        return
    if call is not None:
        args = call.args
        spec = pool_spec(args["kernel_size"], args["stride"], args["padding"], args.get("dilation", 1), call.ndim)
        if not is_strided(spec.stride):
            return
        if call.kind == "maxpool":
            if args["return_indices"]:
                raise refuse(gm, node, "pooling that returns indices has no stride-free equivalent here")
            pool = DestridedPool("max", spec, ceil_mode=args["ceil_mode"])
        else:
            pool = DestridedPool(
                "avg", spec, ceil_mode=args["ceil_mode"], count_include_pad=args["count_include_pad"],
                divisor_override=args["divisor_override"],
            )
        _replace_with_module(gm, node, pool, (args["input"],))
        return
    if convert_transposed_layer(gm, node, _replace_with_module):
        return
    if target in _REFUSED_FUNCTIONS:
        raise refuse(gm, node, _REFUSED_FUNCTIONS[target])
    if target in _ADAPTIVE_FUNCTIONS:
        size = node.args[1] if len(node.args) > 1 else node.kwargs.get("output_size")
        _check_adaptive(gm, node, size)


_LAYER_RULES: dict[str, Callable[[fx.GraphModule, fx.Node, str], None]] = {
    "call_module": _layer_module,
    "call_function": _layer_function,
}


# --- entry point -------------------------------------------------------------------------------


def _inputs(example_input: Any) -> tuple:
    inputs = example_input if isinstance(example_input, tuple) else (example_input,)
    if not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        raise TypeError("example_input must be a tensor or a tuple of tensors")
    return inputs


def _trace(model: nn.Module) -> fx.GraphModule:
    try:
        return fx.symbolic_trace(copy.deepcopy(model))
    except Exception as exc:  # fx raises many kinds of errors on untraceable code
        raise SymstrideError(
            f"torch.fx could not trace {type(model).__name__} ({type(exc).__name__}: {exc}); "
            "destride_model needs a model that fx.symbolic_trace accepts"
        ) from None


def _compare(reference: Any, converted: Any, ops: list) -> None:
    if ops:
        first = ops[0]
        raise SymstrideError(
            f"the converted model still runs {len(ops)} strided operator(s), first {first.op} with "
            f"stride {first.stride} on an input of shape {first.input_shape}"
        )
    ref_leaves, ref_tree = tree_flatten(reference)
    out_leaves, out_tree = tree_flatten(converted)
    if ref_tree != out_tree:
        raise SymstrideError(f"the converted model returns {out_tree}, the original {ref_tree}")
    for i, (a, b) in enumerate(zip(ref_leaves, out_leaves)):
        if not isinstance(a, torch.Tensor):
            continue
        if a.shape != b.shape:
            raise SymstrideError(f"output {i}: the converted model gives shape {tuple(b.shape)}, the original {tuple(a.shape)}")
        if not a.is_floating_point():
            continue
        tol = CHECK_TOLERANCE.get(a.dtype, 1e-4) * max(1.0, float(a.abs().max()) if a.numel() else 1.0)
        err = float((a - b).abs().max()) if a.numel() else 0.0
        if not err <= tol:
            raise SymstrideError(
                f"output {i}: the converted model differs from the original by {err:.3g} (tolerance {tol:.3g}); "
                "this is a bug in symstride, please report it"
            )


def destride_model(
    model: nn.Module,
    example_input: Any,
    mode: str = "layer",
    *,
    form: str = "auto",
    check: bool = True,
) -> fx.GraphModule:
    """A copy of ``model`` in which no convolution or pooling has a stride other than 1.

    ``model`` is traced with ``torch.fx.symbolic_trace`` (a deep copy; the original is left
    alone) and must be in eval mode where that matters (batch-norm, dropout).  ``example_input``
    (a tensor or a tuple of tensors) drives shape propagation and the final check.

    ``mode="layer"`` replaces each strided ``Conv1d/2d/3d``, ``MaxPool``/``AvgPool`` module and
    each strided functional call (``F.conv2d``, ``F.max_pool2d``, …) by its Theorem 2
    equivalent (``form``: :data:`~symstride.torch.layers.FORMS`, ``"auto"`` picking per layer);
    everything else — batch-norm, elementwise activations, residual additions, … — is kept.
    A strided ``ConvTranspose1d/2d/3d`` (or ``F.conv_transpose{1,2,3}d`` call) becomes sub-pixel
    convolution: padding, a unit-stride convolution with ``C_out·P`` channels, depth-to-space, crop.

    ``mode="network"`` is Theorem 3 (:mod:`symstride.torch.network`): the chain of convolutions,
    batch-norms, pointwise activations, poolings and residual additions that holds every strided
    layer becomes one space-to-depth at its input and tied unit-stride layers throughout, with
    the boundary masks of :mod:`symstride.network`; what follows the chain is kept.  It is built
    for ``example_input``'s spatial size (``form``: :data:`~symstride.torch.network.NETWORK_FORMS`).
    Each chain of transposed convolutions, batch-norms and activations (a decoder) becomes one
    :class:`~symstride.torch.transposed.PhaseDecoder`: unit-stride convolutions at the chain's input
    resolution and one depth-to-space (:mod:`symstride.decoder`); a strided transposed convolution
    outside such a chain is converted as in ``mode="layer"``.

    With ``check=True`` (the default) the converted model is run on ``example_input``: its
    output must equal the original's (relative tolerance :data:`CHECK_TOLERANCE` of the dtype)
    and no strided operator may execute; otherwise :class:`SymstrideError`.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
    ...                           torch.nn.MaxPool2d(3, stride=2, padding=1)).eval()
    >>> flat = destride_model(net, torch.randn(1, 3, 32, 32))
    >>> [type(m).__name__ for m in flat.children()]
    ['DestridedConv', 'ReLU', 'DestridedPool']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"destride_model expects a torch.nn.Module, got {type(model).__name__}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(map(repr, MODES))}")
    forms = FORMS if mode == "layer" else NETWORK_FORMS
    if form not in forms:
        raise ValueError(f"unknown form {form!r} for mode={mode!r}; expected one of {', '.join(map(repr, forms))}")
    inputs = _inputs(example_input)
    gm = _trace(model)
    with torch.no_grad():
        try:
            ShapeProp(gm).propagate(*inputs)
        except Exception as exc:
            raise ValueError(f"the model does not run on the example input ({type(exc).__name__}: {exc})") from None
    if mode == "network":
        convert_decoders(gm)  # chains of transposed convolutions: one depth-to-space each
        convert_network(gm, form)
        for node in list(gm.graph.nodes):  # transposed convolutions outside a decoder chain
            if node.op in ("call_module", "call_function"):
                convert_transposed_layer(gm, node, _replace_with_module)
    else:
        for node in list(gm.graph.nodes):
            rule = _LAYER_RULES.get(node.op)
            if rule is not None:
                rule(gm, node, form)
    gm.graph.lint()
    gm.recompile()
    if check:
        with torch.no_grad():
            reference = model(*inputs)
        converted, ops = recorded_run(gm, inputs)
        _compare(reference, converted, ops)
    return gm
