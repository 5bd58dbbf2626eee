"""The decoder spec: transposed convolutions and the network spec's pointwise maps, validated.

The format is the network spec of :mod:`symstride.network.spec` (input, pointwise layers and
``state_dict`` parameter keys) with one more layer type, ``conv_transpose``; parsing reuses that
module for everything but the transposed layer, so the two formats cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..core.errors import SymstrideError, SymstrideTypeError

from ..core.indexing import transposed_output_shape
from ..network.pointwise import ACTIVATIONS
from ..network.spec import LAYER_TYPES as NETWORK_LAYER_TYPES
from ..network.spec import ConvLayer, NetworkSpec, Shape, spec_flag, parse_layer, load_spec_document, parse_input
from ..core.params import ConvTransposeSpec

__all__ = ["DECODER_LAYER_TYPES", "parse_decoder"]

#: Layer types a decoder spec may use: transposed convolutions and the network spec's pointwise maps.
DECODER_LAYER_TYPES = ("conv_transpose", "batchnorm", *ACTIVATIONS)
_TRANSPOSED_KEYS = {"out_channels", "kernel", "stride", "padding", "output_padding", "dilation", "groups", "bias"}


def _transposed(d: Mapping, path: str, shape: Shape) -> ConvLayer:
    unknown = sorted(set(d) - _TRANSPOSED_KEYS - {"type"})
    if unknown:
        raise SymstrideError(f"unknown key {unknown[0]!r} for a conv_transpose layer; allowed keys: {', '.join(sorted(_TRANSPOSED_KEYS))}")
    for key in ("out_channels", "kernel"):
        if key not in d:
            raise SymstrideError(f"a conv_transpose layer needs {key!r}")
    spec = ConvTransposeSpec.create(
        d["kernel"], d.get("stride", 1), d.get("padding", 0), d.get("output_padding", 0), d.get("dilation", 1),
        shape.channels, d["out_channels"], d.get("groups", 1), ndim=len(shape.size),
    )
    out = Shape(spec.out_channels, transposed_output_shape(spec, shape.size))
    return ConvLayer(path, shape, out, spec, spec_flag(d.get("bias", True), "bias"))


def _decoder_layer(d: Any, path: str, shape: Shape) -> Any:
    kind = d.get("type") if isinstance(d, Mapping) else None
    if kind != "conv_transpose":
        if isinstance(kind, str) and kind not in DECODER_LAYER_TYPES:
            known = "a strided layer (see symstride.network)" if kind in NETWORK_LAYER_TYPES else "an unknown layer type"
            raise SymstrideError(f"layer {path} ({kind}): {kind!r} is {known}; a decoder holds "
                             f"{', '.join(map(repr, DECODER_LAYER_TYPES))}")
        return parse_layer(d, path, shape)  # the network spec's pointwise layers, validated there
    try:
        return _transposed(d, path, shape)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"layer {path} (conv_transpose): {exc}") from None


def parse_decoder(spec_or_path: Any) -> NetworkSpec:
    """Validate a decoder spec (a dict, or the path of a JSON file): the network spec format of
    :mod:`symstride.network.spec` with ``conv_transpose`` layers and pointwise maps, into the one
    spec type :class:`~symstride.network.spec.NetworkSpec` (its convolutions transposed)."""
    data = load_spec_document(spec_or_path)
    shape = first = parse_input(data, "decoder")
    items = data["layers"]
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise SymstrideTypeError(f"layers must be a list of layer objects, got {type(items).__name__}")
    layers = []
    for i, item in enumerate(items):
        layers.append(_decoder_layer(item, str(i), shape))
        shape = layers[-1].out_shape
    if not any(isinstance(layer, ConvLayer) for layer in layers):
        raise SymstrideError("a decoder needs at least one conv_transpose layer")
    return NetworkSpec(first, tuple(layers))
