"""Whole models: every strided convolution and pooling replaced, traced with ``torch.fx``.

``destride_model`` traces the model with ``torch.fx.symbolic_trace``, propagates the example
input's shapes through the graph, and rewrites it node by node with the rules in the tables
below.  In ``mode="layer"`` each strided layer is replaced by its Theorem 2 equivalent
(:func:`symstride.torch.dispatch.destride_layer`), in place; every other node is kept as it is,
since a node that does not stride computes the same thing before and after.  Adaptive pooling
is decided at the example input's sizes (:mod:`symstride.torch.adaptive`: kept when its windows
do not stride, an ordinary pooling's Theorem 2 equivalent when they stride uniformly, refused
otherwise); parametrized convolutions (``weight_norm``, ``spectral_norm``) keep their
parametrization (:mod:`symstride.torch.parametrized`).  Nodes that stride in a way symstride
cannot make exact (fractional pooling, pooling that returns indices, …) stop the conversion with
an error naming the node and its module.  Strided transposed convolutions
become sub-pixel convolutions (:mod:`symstride.torch.transposed`): per layer in ``mode="layer"``,
whole decoder chains at their input resolution in ``mode="network"``.  Finally the
converted model is run on the example input: its output must equal the original's, compared by
structure and values (:mod:`symstride.torch.outputs`), and no convolution or pooling — adaptive
pooling included — may run with windows that stride (:func:`symstride.torch.strided_ops`).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from ..core.errors import SymstrideError, SymstrideTypeError
from .adaptive import adaptive_rule
from .audit import recorded_run
from .outputs import CHECK_TOLERANCE, compare_outputs
from .parametrized import ParametrizedDestridedConv, parametrized_conv_base
from .dispatch import destride_layer
from .calls import functional_call, is_strided, refuse
from .network import NETWORK_FORMS
from .phase_graph import convert_graph
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

__all__ = ["MODES", "CHECK_TOLERANCE", "destride_model"]

#: Conversion modes of :func:`destride_model`.
MODES = {
    "layer": "each strided layer replaced in place by its unit-stride equivalent (Theorem 2)",
    "network": "one space-to-depth at the input and tied filters throughout (Theorem 3)",
}


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
_ADAPTIVE_MODULES = {
    nn.AdaptiveAvgPool1d: "avg", nn.AdaptiveAvgPool2d: "avg", nn.AdaptiveAvgPool3d: "avg",
    nn.AdaptiveMaxPool1d: "max", nn.AdaptiveMaxPool2d: "max", nn.AdaptiveMaxPool3d: "max",
}
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
    F.adaptive_avg_pool1d: "avg", F.adaptive_avg_pool2d: "avg", F.adaptive_avg_pool3d: "avg",
    F.adaptive_max_pool1d: "max", F.adaptive_max_pool2d: "max", F.adaptive_max_pool3d: "max",
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
    if parametrized_conv_base(mod) is not None:  # weight_norm, spectral_norm, …: the parametrization kept
        if is_strided(mod.stride):
            _set_module(gm, node.target, ParametrizedDestridedConv(mod, form=form))
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
    if kind in _ADAPTIVE_MODULES:
        _adaptive(gm, node, _ADAPTIVE_MODULES[kind], mod.output_size, getattr(mod, "return_indices", False))
        return
    stride = getattr(mod, "stride", 1)
    if stride is None:  # pooling modules default the stride to the window
        stride = getattr(mod, "kernel_size", 1)
    if is_strided(stride):
        reason = _REFUSED_MODULES.get(kind, "it has stride {stride} and symstride has no rule for " + kind.__name__)
        raise refuse(gm, node, reason.format(stride=stride))


def _adaptive(gm: fx.GraphModule, node: fx.Node, kind: str, output_size: Any, return_indices: Any) -> None:
    """Adaptive pooling at the example input's sizes: kept if it does not stride, else converted or refused."""
    if isinstance(output_size, fx.Node) or isinstance(return_indices, fx.Node):
        raise refuse(gm, node, "its output size is computed in the graph; symstride needs constant layer geometry")
    if not node.args:
        raise refuse(gm, node, "its input is not a positional argument")
    shape = _shape(gm, node, node.args[0], "input")
    ndim = len(output_size) if isinstance(output_size, (tuple, list)) else None
    if ndim is None:  # an int output size: the pooling's dimension is the module's or function's
        name = type(gm.get_submodule(node.target)).__name__ if node.op == "call_module" else node.target.__name__
        ndim = int(name.rstrip("d")[-1])
    try:
        equivalent = adaptive_rule(kind, shape[len(shape) - ndim:], output_size)
    except SymstrideError as exc:
        raise refuse(gm, node, str(exc)) from None
    if equivalent is None:
        return
    if return_indices:
        raise refuse(gm, node, "its windows stride, and pooling that returns indices has no stride-free equivalent here")
    _replace_with_module(gm, node, equivalent, (node.args[0],))


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
        indices = node.args[2] if len(node.args) > 2 else node.kwargs.get("return_indices", False)
        _adaptive(gm, node, _ADAPTIVE_FUNCTIONS[target], size, indices)


def _adaptive_node(gm: fx.GraphModule, node: fx.Node) -> None:
    """The adaptive-pooling rule alone (network mode: adaptive poolings after the tied chain)."""
    if node.op == "call_module" and type(gm.get_submodule(node.target)) in _ADAPTIVE_MODULES:
        _layer_module(gm, node, "auto")
    elif node.op == "call_function" and node.target in _ADAPTIVE_FUNCTIONS:
        _layer_function(gm, node, "auto")


_LAYER_RULES: dict[str, Callable[[fx.GraphModule, fx.Node, str], None]] = {
    "call_module": _layer_module,
    "call_function": _layer_function,
}


# --- entry point -------------------------------------------------------------------------------


def _inputs(example_input: Any) -> tuple:
    inputs = example_input if isinstance(example_input, tuple) else (example_input,)
    if not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        raise SymstrideTypeError("example_input must be a tensor or a tuple of tensors")
    return inputs


def _trace(model: nn.Module) -> fx.GraphModule:
    try:
        duplicate = copy.deepcopy(model)
    except Exception as exc:  # e.g. a tensor attribute computed in a forward pass with gradients
        raise SymstrideError(
            f"could not copy {type(model).__name__} ({type(exc).__name__}: {exc}); destride_model converts a "
            "deep copy and leaves the model alone (a tensor attribute set by a forward pass with gradients "
            "cannot be copied: run that forward under torch.no_grad())"
        ) from None
    try:
        return fx.symbolic_trace(duplicate)
    except Exception as exc:  # fx raises many kinds of errors on untraceable code
        raise SymstrideError(
            f"torch.fx could not trace {type(model).__name__} ({type(exc).__name__}: {exc}); "
            "destride_model needs a model that fx.symbolic_trace accepts"
        ) from None


def _compare(reference: Any, converted: Any, ops: list) -> None:
    if ops:
        first = ops[0]
        where = f" in module {first.module!r}" if first.module else ""
        raise SymstrideError(
            f"the converted model still runs {len(ops)} strided operator(s), first {first.op} with "
            f"stride {first.stride}{where} on an input of shape {first.input_shape}"
        )
    compare_outputs(reference, converted)


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
    Parametrized convolutions (``weight_norm``, ``spectral_norm``) keep their parametrization;
    adaptive pooling whose windows stride at the example input's sizes becomes the stride-free
    pooling it equals there (:mod:`symstride.torch.adaptive`).
    A strided ``ConvTranspose1d/2d/3d`` (or ``F.conv_transpose{1,2,3}d`` call) becomes sub-pixel
    convolution: padding, a unit-stride convolution with ``C_out·P`` channels, depth-to-space, crop.

    ``mode="network"`` is Theorem 3 (:mod:`symstride.torch.phase_graph`): the graph from the input
    of the first strided layer — convolutions, batch-norms, pointwise maps, poolings (``ceil_mode``
    too), sums and products of branches, concatenation, split and channel shuffle, global pooling
    (squeeze-and-excitation), ``GroupNorm``, channels-last ``LayerNorm``/``Linear`` blocks —
    becomes one space-to-depth at its input and tied unit-stride layers throughout, with the
    boundary masks of :mod:`symstride.network`; what does not read it, or has no phase-domain form
    and holds no strided layer, is kept (values it uses leave the phase domain by depth-to-space).
    It is built for ``example_input``'s spatial size (``form``: :data:`~symstride.torch.network.NETWORK_FORMS`).
    Each chain of transposed convolutions, batch-norms and activations (a decoder) becomes one
    :class:`~symstride.torch.transposed.PhaseDecoder`: unit-stride convolutions at the chain's input
    resolution and one depth-to-space (:mod:`symstride.decoder`); a strided transposed convolution
    outside such a chain is converted as in ``mode="layer"``.

    In both modes the converted model's parameters and buffers are the original's (tied: the
    filters it convolves with are gathered from them on each call, structural zeros are not
    parameters), and batch-norm in training mode computes the original channel's statistics
    (pooled over its phases and true samples in ``mode="network"``), so fine-tuning the converted
    model trains exactly like the original (:func:`symstride.torch.tied.original_names` maps its
    state-dict keys to the original's).

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
        raise SymstrideTypeError(f"destride_model expects a torch.nn.Module, got {type(model).__name__}")
    if mode not in MODES:
        raise SymstrideError(f"unknown mode {mode!r}; expected one of {', '.join(map(repr, MODES))}")
    forms = FORMS if mode == "layer" else NETWORK_FORMS
    if form not in forms:
        raise SymstrideError(f"unknown form {form!r} for mode={mode!r}; expected one of {', '.join(map(repr, forms))}")
    inputs = _inputs(example_input)
    gm = _trace(model)
    with torch.no_grad():
        try:
            ShapeProp(gm).propagate(*inputs)
        except Exception as exc:
            raise SymstrideError(f"the model does not run on the example input ({type(exc).__name__}: {exc})") from None
    if mode == "network":
        convert_decoders(gm)  # chains of transposed convolutions: one depth-to-space each
        convert_graph(gm, form)
        for node in list(gm.graph.nodes):  # transposed convolutions, adaptive poolings outside the chains
            if node.op in ("call_module", "call_function"):
                if not convert_transposed_layer(gm, node, _replace_with_module):
                    _adaptive_node(gm, node)
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
