"""The network specification: parsing and validation of the JSON/dict format.

A spec is ``{"input": {"channels": C, "size": [N1, ...]}, "layers": [...]}``; layers are
``conv``, the activations of :data:`~symstride.network.pointwise.ACTIVATIONS`, ``batchnorm``,
``maxpool``, ``avgpool`` and ``residual`` (``body`` and ``shortcut``, each a list of layers;
an empty shortcut is the identity).  Optional keys take PyTorch's defaults.  The whole spec is
validated up front, feature-map shapes are inferred layer by layer, and the result is an
immutable :class:`NetworkSpec`.  Errors name the layer by its path (``3.body.0`` — also the
prefix of its parameters, as in a PyTorch ``state_dict``) and type, and the rule broken.

>>> spec = parse({"input": {"channels": 1, "size": [8]},
...               "layers": [{"type": "conv", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1},
...                          {"type": "relu"}]})
>>> spec.output, [layer.label for layer in spec.layers]
(Shape(channels=2, size=(4,)), ['layer 0 (conv)', 'layer 1 (relu)'])
>>> parse({"input": {"channels": 1, "size": [8]}, "layers": [{"type": "dropout"}]})
Traceback (most recent call last):
    ...
symstride.core.errors.SymstrideError: layer 0 (dropout): unknown layer type 'dropout'; expected one of 'conv', 'batchnorm', 'maxpool', 'avgpool', 'residual', 'relu', 'leaky_relu', 'elu', 'tanh', 'silu', 'sigmoid'
"""

from __future__ import annotations

from ..core.errors import SymstrideError, SymstrideTypeError


import numbers
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence, Union

from ..core.indexing import output_shape
from ..core.json_input import load_json
from ..core.params import ConvSpec, as_int, per_axis
from ..reference.convolution import PADDING_MODES
from .pointwise import ACTIVATIONS

__all__ = [
    "Shape",
    "ConvLayer",
    "Activation",
    "BatchNorm",
    "Pool",
    "Residual",
    "NetworkLayer",
    "parameter_shapes",
    "NetworkSpec",
    "LAYER_TYPES",
    "parse",
    "parse_input",
    "layer_stride",
    "walk",
    "spec_flag", "LayerBase", "parse_layer", "load_spec_document"]

#: Layer types a spec may use.
LAYER_TYPES = ("conv", "batchnorm", "maxpool", "avgpool", "residual", *ACTIVATIONS)

_KEYS = {
    "conv": {"out_channels", "kernel", "stride", "padding", "dilation", "groups", "bias", "padding_mode"},
    "batchnorm": {"eps"},
    "maxpool": {"kernel", "stride", "padding", "dilation", "ceil_mode"},
    "avgpool": {"kernel", "stride", "padding", "count_include_pad", "ceil_mode"},
    "residual": {"body", "shortcut"},
    **{name: set(act.defaults) for name, act in ACTIVATIONS.items()},
}
_REQUIRED = {"conv": ("out_channels", "kernel"), "maxpool": ("kernel",), "avgpool": ("kernel",), "residual": ("body",)}


@dataclass(frozen=True)
class Shape:
    """A feature map's channels and spatial size (per axis)."""

    channels: int
    size: tuple[int, ...]


@dataclass(frozen=True)
class LayerBase:
    path: str
    in_shape: Shape
    out_shape: Shape

    kind = "layer"

    @property
    def label(self) -> str:
        """How messages name the layer, e.g. ``layer 3.body.0 (conv)``."""
        return f"layer {self.path} ({self.kind})"


@dataclass(frozen=True)
class ConvLayer(LayerBase):
    """A convolution in either direction (``conv.direction``): ``conv`` (strided, parameters
    ``{path}.weight`` ``(C_out, C_in/groups, *k)``) or ``conv_transpose`` (weight
    ``(C_in, C_out/groups, *k)``), and ``{path}.bias``.  One layer type for networks and
    decoders: the direction is the spec's, not a second class."""

    conv: ConvSpec
    bias: bool
    padding_mode: str = "zeros"

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "conv" if self.conv.direction == "strided" else "conv_transpose"


@dataclass(frozen=True)
class Activation(LayerBase):
    """An elementwise activation ``name`` with its options (``(key, value)`` pairs)."""

    name: str
    options: tuple[tuple[str, float], ...]

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.name


@dataclass(frozen=True)
class BatchNorm(LayerBase):
    """Inference-mode batch-norm; parameters ``weight``, ``bias``, ``running_mean``, ``running_var``."""

    eps: float
    kind = "batchnorm"


@dataclass(frozen=True)
class Pool(LayerBase):
    """Max or average pooling (``mode`` is ``"max"`` or ``"avg"``) as a depthwise window ``pool``."""

    mode: str
    pool: ConvSpec
    count_include_pad: bool

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"{self.mode}pool"


@dataclass(frozen=True)
class Residual(LayerBase):
    """``body(x) + shortcut(x)``; an empty shortcut is the identity."""

    body: tuple["NetworkLayer", ...]
    shortcut: tuple["NetworkLayer", ...]
    kind = "residual"


NetworkLayer = Union[ConvLayer, Activation, BatchNorm, Pool, Residual]


@dataclass(frozen=True)
class NetworkSpec:
    """A validated network or decoder: its input shape, layers (with inferred shapes) and output shape.

    A decoder (:func:`symstride.decoder.parse_decoder`) is the same type with transposed convolutions."""

    input: Shape
    layers: tuple[NetworkLayer, ...]

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.input.size)

    @property
    def output(self) -> Shape:
        """Shape of the network's output."""
        return self.layers[-1].out_shape if self.layers else self.input

    @property
    def transposed(self) -> tuple[ConvLayer, ...]:
        """The transposed convolutions (a decoder's), in order."""
        return tuple(layer for layer in self.layers if isinstance(layer, ConvLayer) and layer.conv.direction == "transposed")


def layer_stride(layer: NetworkLayer, ndim: int) -> tuple[int, ...]:
    """Per-axis stride of a layer (a residual block's is its body's total stride; pointwise: 1)."""
    if isinstance(layer, ConvLayer):
        return layer.conv.stride
    if isinstance(layer, Pool):
        return layer.pool.stride
    if isinstance(layer, Residual):
        return total_stride(layer.body, ndim)
    return (1,) * ndim


def total_stride(layers: Sequence[NetworkLayer], ndim: int) -> tuple[int, ...]:
    """Per-axis product of the strides of ``layers``."""
    out = [1] * ndim
    for layer in layers:
        out = [a * b for a, b in zip(out, layer_stride(layer, ndim))]
    return tuple(out)


def walk(layers: Sequence):
    """Every layer, depth first (residual blocks before their body and shortcut); also walks
    the operations of an equivalent network, whose residual blocks have the same two branches."""
    for layer in layers:
        yield layer
        if isinstance(getattr(layer, "body", None), tuple):
            yield from walk(layer.body)
            yield from walk(layer.shortcut)


# ---------------------------------------------------------------------------------------------
# parsing

def load_spec_document(spec_or_path: Any) -> Mapping:
    if isinstance(spec_or_path, Mapping):
        return spec_or_path
    if isinstance(spec_or_path, (str, os.PathLike)):
        path = os.fspath(spec_or_path)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise SymstrideError(f"cannot read network spec {path!r}: {exc.strerror or exc}") from None
        data = load_json(text, path)
        if not isinstance(data, Mapping):
            raise SymstrideError(f"{path}: a network spec must be a JSON object, got {type(data).__name__}")
        return data
    raise SymstrideTypeError(
        f"a network spec must be a dict or the path of a JSON file, got {type(spec_or_path).__name__}"
    )


def spec_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise SymstrideTypeError(f"{name} must be true or false, got {value!r}")
    return value


def _number(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SymstrideTypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")) or (positive and value <= 0):
        raise SymstrideError(f"{name} must be a {'positive ' if positive else ''}finite number, got {value!r}")
    return value


def _sizes(spec: ConvSpec, size: tuple[int, ...], what: str) -> tuple[int, ...]:
    try:
        return output_shape(spec, size)
    except ValueError as exc:
        raise SymstrideError(f"the feature map of size {list(size)} shrinks to nothing under this {what}: {exc}") from None


def _conv(d: Mapping, path: str, shape: Shape) -> ConvLayer:
    ndim = len(shape.size)
    spec = ConvSpec.create(
        kernel=d["kernel"], stride=d.get("stride", 1), padding=d.get("padding", 0),
        dilation=d.get("dilation", 1), in_channels=shape.channels, out_channels=d["out_channels"],
        groups=d.get("groups", 1), ndim=ndim,
    )
    mode = d.get("padding_mode", "zeros")
    if mode not in PADDING_MODES:
        raise SymstrideError(f"unknown padding_mode {mode!r}; expected one of {', '.join(map(repr, PADDING_MODES))}")
    if mode in ("reflect", "circular"):
        for axis, ((left, right), n) in enumerate(zip(spec.padding, shape.size)):
            limit = n - 1 if mode == "reflect" else n
            if max(left, right) > limit:
                raise SymstrideError(
                    f"{mode} padding {max(left, right)} needs an input of size > {max(left, right) if mode == 'reflect' else max(left, right) - 1} "
                    f"on axis {axis}, got {n}"
                )
    out = _sizes(spec, shape.size, "convolution")
    return ConvLayer(path, shape, Shape(spec.out_channels, out), spec, spec_flag(d.get("bias", True), "bias"), mode)


def _pool(d: Mapping, path: str, shape: Shape, mode: str) -> Pool:
    ndim = len(shape.size)
    if spec_flag(d.get("ceil_mode", False), "ceil_mode"):
        raise SymstrideError("ceil_mode=true is not supported; only PyTorch's default ceil_mode=false")
    kernel = per_axis(d["kernel"], "kernel", ndim, minimum=1)
    padding = per_axis(d.get("padding", 0), "padding", ndim, minimum=0)
    for axis, (k, p) in enumerate(zip(kernel, padding)):
        if p > k // 2:  # PyTorch's rule for both max and average pooling
            raise SymstrideError(f"padding {p} must be at most half the kernel size {k} (axis {axis}), as in PyTorch")
    spec = ConvSpec.create(
        kernel=kernel, stride=d.get("stride", kernel), padding=padding, dilation=d.get("dilation", 1),
        in_channels=shape.channels, out_channels=shape.channels, groups=shape.channels, ndim=ndim,
    )
    out = _sizes(spec, shape.size, f"{mode} pooling")
    include = spec_flag(d.get("count_include_pad", True), "count_include_pad")
    return Pool(path, shape, Shape(shape.channels, out), mode, spec, include)


def _layers(items: Any, prefix: str, shape: Shape, where: str) -> tuple[tuple[NetworkLayer, ...], Shape]:
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise SymstrideTypeError(f"{where} must be a list of layer objects, got {type(items).__name__}")
    layers = []
    for i, item in enumerate(items):
        layer = parse_layer(item, f"{prefix}{i}", shape)
        layers.append(layer)
        shape = layer.out_shape
    return tuple(layers), shape


def parse_layer(d: Any, path: str, shape: Shape) -> NetworkLayer:
    kind = d.get("type") if isinstance(d, Mapping) else None
    label = f"layer {path} ({kind})" if isinstance(kind, str) else f"layer {path}"
    try:
        if not isinstance(d, Mapping):
            raise SymstrideTypeError(f"a layer must be an object with a 'type', got {type(d).__name__}")
        if not isinstance(kind, str):
            raise SymstrideError(f"a layer needs a 'type' string; expected one of {', '.join(map(repr, LAYER_TYPES))}")
        if kind not in LAYER_TYPES:
            raise SymstrideError(f"unknown layer type {kind!r}; expected one of {', '.join(map(repr, LAYER_TYPES))}")
        unknown = sorted(set(d) - _KEYS[kind] - {"type"})
        if unknown:
            allowed = ", ".join(sorted(_KEYS[kind])) or "none"
            raise SymstrideError(f"unknown key {unknown[0]!r} for a {kind} layer; allowed keys: {allowed}")
        for key in _REQUIRED.get(kind, ()):
            if key not in d:
                raise SymstrideError(f"a {kind} layer needs {key!r}")
        if kind == "conv":
            return _conv(d, path, shape)
        if kind in ("maxpool", "avgpool"):
            return _pool(d, path, shape, kind[:3])
        if kind == "batchnorm":
            return BatchNorm(path, shape, shape, _number(d.get("eps", 1e-5), "eps", positive=True))
        if kind == "residual":
            return _residual(d, path, shape)
        options = tuple((key, _number(d[key], key)) for key in sorted(ACTIVATIONS[kind].defaults) if key in d)
        return Activation(path, shape, shape, kind, options)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if message.startswith("layer "):  # already names a nested layer
            raise type(exc)(message) from None
        raise type(exc)(f"{label}: {message}") from None


def _residual(d: Mapping, path: str, shape: Shape) -> Residual:
    body, body_out = _layers(d["body"], f"{path}.body.", shape, "body")
    if not body:
        raise SymstrideError("the body must hold at least one layer")
    shortcut, short_out = _layers(d.get("shortcut", []), f"{path}.shortcut.", shape, "shortcut")
    if body_out != short_out:
        raise SymstrideError(
            f"body and shortcut must produce the same shape to be added: body gives {body_out.channels} channels "
            f"of size {list(body_out.size)}, shortcut gives {short_out.channels} of size {list(short_out.size)}"
        )
    ndim = len(shape.size)
    if total_stride(body, ndim) != total_stride(shortcut, ndim):
        raise SymstrideError(
            f"body and shortcut must have the same total stride per axis (they share one phase basis): "
            f"body {list(total_stride(body, ndim))}, shortcut {list(total_stride(shortcut, ndim))}"
        )
    return Residual(path, shape, body_out, body, shortcut)


def parse_input(data: Mapping, what: str = "network") -> Shape:
    """The top level of a spec: only ``input`` and ``layers``; returns the input's shape.

    Shared by :func:`parse` and the decoder spec (:func:`symstride.decoder.parse_decoder`).
    """
    unknown = sorted(set(data) - {"input", "layers"})
    if unknown:
        raise SymstrideError(f"unknown top-level key {unknown[0]!r} in the {what} spec; expected 'input' and 'layers'")
    for key in ("input", "layers"):
        if key not in data:
            raise SymstrideError(f"the {what} spec needs {key!r}")
    inp = data["input"]
    if not isinstance(inp, Mapping) or set(inp) != {"channels", "size"}:
        raise SymstrideError('input must be an object {"channels": C, "size": [N1, ...]}')
    channels = as_int(inp["channels"], "input channels")
    if channels < 1:
        raise SymstrideError(f"input channels must be a positive integer, got {channels}")
    size = inp["size"]
    if not isinstance(size, Sequence) or isinstance(size, (str, bytes)) or not 1 <= len(size) <= 3:
        raise SymstrideError(f"input size must be a list of 1 to 3 spatial sizes, got {size!r}")
    return Shape(channels, per_axis(size, "input size", len(size), minimum=1))


def parse(spec_or_path: Any) -> NetworkSpec:
    """Validate a network spec (a dict, or the path of a JSON file) into a :class:`NetworkSpec`."""
    data = load_spec_document(spec_or_path)
    shape = parse_input(data)
    layers, _ = _layers(data["layers"], "", shape, "layers")
    if not layers:
        raise SymstrideError("the network needs at least one layer")
    return NetworkSpec(shape, layers)


def parameter_shapes(spec: NetworkSpec) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter of a network or decoder, keyed as in a PyTorch ``state_dict``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in walk(spec.layers):
        if isinstance(layer, ConvLayer):
            shapes[f"{layer.path}.weight"] = layer.conv.weight_shape
            if layer.bias:
                shapes[f"{layer.path}.bias"] = (layer.conv.out_channels,)
        elif isinstance(layer, BatchNorm):
            for name in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"{layer.path}.{name}"] = (layer.in_shape.channels,)
    return shapes
