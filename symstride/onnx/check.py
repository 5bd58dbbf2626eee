"""Both models in onnxruntime on the same random input: the numeric evidence for a rewrite.

:func:`check_onnx` runs the original and the rewritten model (CPU, one thread) on seeded random
input and reports, per output, the largest absolute difference and that difference relative to
the largest magnitude of the original's output.  This is evidence on one input, not a proof —
the rewrite itself is exact by construction (symstride's index maps); the check catches a wrong
graph.  The tolerance depends on the floating type (:data:`TOLERANCES`: float32 ``1e-4``,
float64 ``1e-10``): unit-stride convolutions sum the same products in another order.
"""

from __future__ import annotations

from ..core.errors import SymstrideError

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import onnx
from onnx import TensorProto

from ..core.results import Result

__all__ = ["TOLERANCES", "OutputDifference", "OnnxCheck", "session", "random_inputs", "check_onnx"]

#: Relative tolerance (max |Δ| / max |original|) per output element type.
TOLERANCES = {TensorProto.FLOAT: 1e-4, TensorProto.DOUBLE: 1e-10, TensorProto.FLOAT16: 1e-2, TensorProto.BFLOAT16: 5e-2}


@dataclass(frozen=True)
class OutputDifference:
    """One output: ``max_abs_error`` between the models, ``scale`` = max |original|, and the verdict."""

    name: str
    max_abs_error: float
    scale: float
    tolerance: float

    @property
    def relative_error(self) -> float:
        return self.max_abs_error / self.scale if self.scale > 0 else self.max_abs_error

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.max_abs_error)) and self.relative_error <= self.tolerance


@dataclass(frozen=True, repr=False)
class OnnxCheck(Result):
    """The comparison of two models in onnxruntime on one seeded random input.

    ``proved`` is always False: a numeric comparison on one input is evidence, not a proof.
    """

    outputs: tuple[OutputDifference, ...]
    seed: int
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    proved: bool = False
    #: Set when the rewritten model does not run in onnxruntime (then ``outputs`` is empty).
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(o.ok for o in self.outputs)

    @property
    def failure(self) -> str | None:
        if self.error is not None:
            return f"the rewritten model does not run in onnxruntime: {self.error}"
        for o in self.outputs:
            if not o.ok:
                return (f"output {o.name!r} differs: max abs difference {o.max_abs_error:.3g} is {o.relative_error:.3g} of "
                        f"the largest original value {o.scale:.3g}, above the tolerance {o.tolerance:g}")
        return None

    @property
    def max_abs_error(self) -> float:
        return max((o.max_abs_error for o in self.outputs), default=0.0)

    def json_fields(self) -> dict[str, Any]:
        return {
            "seed": self.seed, "max_abs_error": self.max_abs_error, "error": self.error,
            "inputs": {k: list(v) for k, v in self.input_shapes.items()},
            "outputs": [{"name": o.name, "max_abs_error": o.max_abs_error, "max_abs_original": o.scale,
                         "relative_error": o.relative_error, "tolerance": o.tolerance, "ok": o.ok} for o in self.outputs],
        }

    def __str__(self) -> str:
        if self.error is not None:
            head = f"the rewritten model does not run in onnxruntime (seed {self.seed})"
        else:
            verdict = "agree" if self.ok else "DIFFER"
            head = (f"{len(self.outputs)} output(s) {verdict} in onnxruntime (CPU, one thread, seed {self.seed}): "
                    f"max abs difference {self.max_abs_error:.3g}")
        lines = [head]
        for o in self.outputs:
            lines.append(f"  {o.name}: max |Δ| = {o.max_abs_error:.3g}, relative {o.relative_error:.3g} "
                         f"(tolerance {o.tolerance:g}) {'ok' if o.ok else 'FAILED'}")
        lines.append("  (seeded random input: evidence on one input, not a proof)")
        return "\n".join(lines)


def session(model: onnx.ModelProto) -> Any:
    """An onnxruntime CPU inference session with one intra-op and one inter-op thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def random_inputs(model: onnx.ModelProto, seed: int = 0, batch: int = 1) -> dict[str, np.ndarray]:
    """Standard-normal arrays for the model's graph inputs (not its initializers); a dynamic batch axis is ``batch``."""
    rng = np.random.default_rng(seed)
    weights = {t.name for t in model.graph.initializer}
    out = {}
    for info in model.graph.input:
        if info.name in weights:
            continue
        t = info.type.tensor_type
        if t.elem_type not in TOLERANCES:
            shown = TensorProto.DataType.Name(t.elem_type) if t.elem_type else "unknown"
            raise SymstrideError(f"input {info.name!r} has element type {shown}; the check feeds random floating-point input only")
        shape = []
        for axis, d in enumerate(t.shape.dim):
            if d.HasField("dim_value"):
                shape.append(d.dim_value)
            elif axis == 0:
                shape.append(batch)
            else:
                raise SymstrideError(f"input {info.name!r} has a dynamic dimension {d.dim_param or '?'} on axis {axis}; "
                                 "the check needs static sizes except the batch")
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        out[info.name] = rng.standard_normal(shape).astype(dtype)
    return out


def check_onnx(original: onnx.ModelProto, rewritten: onnx.ModelProto, *, seed: int = 0,
               inputs: Mapping[str, np.ndarray] | None = None) -> OnnxCheck:
    """Run both models in onnxruntime on the same input and compare every output.

    >>> import numpy as np
    >>> from onnx import TensorProto, helper
    >>> g = helper.make_graph([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3], strides=[2])], "g",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 9])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    >>> model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    >>> from symstride.onnx import destride_onnx
    >>> check = check_onnx(model, destride_onnx(model))
    >>> check.ok, check.max_abs_error
    (True, 0.0)
    """
    feed = dict(inputs) if inputs is not None else random_inputs(original, seed)
    names = [o.name for o in original.graph.output]
    if names != [o.name for o in rewritten.graph.output]:
        raise SymstrideError(f"the models have different outputs: {names} and {[o.name for o in rewritten.graph.output]}")
    try:
        ys = session(original).run(None, feed)
    except Exception as exc:  # onnxruntime's own exception types: the original cannot be the oracle here
        raise SymstrideError(f"onnxruntime cannot run the original model: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    shapes = {k: tuple(v.shape) for k, v in feed.items()}
    try:
        zs = session(rewritten).run(None, feed)
    except Exception as exc:  # onnxruntime raises its own exception types; any of them is a failed check
        return OnnxCheck((), seed, shapes, error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    outputs = []
    for info, y, z in zip(original.graph.output, ys, zs):
        y, z = np.asarray(y, dtype=np.float64), np.asarray(z, dtype=np.float64)
        if y.shape != z.shape:
            raise SymstrideError(f"output {info.name!r} has shape {y.shape} in the original and {z.shape} in the rewrite")
        finite = np.isfinite(y)
        same = (y == z) | (finite & np.isfinite(z))  # equal infinities compare equal; other non-finite values differ
        diff = np.where(finite, np.abs(y - z), np.where(same & (y == z), 0.0, np.inf)) if y.size else np.zeros(1)
        tolerance = TOLERANCES.get(info.type.tensor_type.elem_type, 1e-4)
        outputs.append(OutputDifference(info.name, float(diff.max()), float(np.abs(y[finite]).max(initial=0.0)), tolerance))
    return OnnxCheck(tuple(outputs), seed, shapes)
