"""The mapping checker: is a tap map (possibly edited by hand, or from another tool) correct?

A mapping document has the JSON format of ``symstride derive --format json``: the layer
(``kernel``, ``stride``, optional ``dilation``, ``padding``, ``in_channels``, ``out_channels``,
``groups``, ``layout``, ``equivalent_kernel``) and its ``taps``, each ``{"tap": m, "phase": r,
"offset": j}`` claiming ``W'[o, chan(c, φ(r)), j] = w[o, c, m]``.  :func:`check_mapping` decides
exactly — by the integer index analysis of :func:`symstride.core.verify.verify_taps`, on several
input sizes that exercise both boundaries — whether the map is a correct equivalence for the
stated layer.  A wrong map names its first wrong tap as an index list and gives a concrete
counterexample; a malformed document raises ``ValueError`` with a one-line message.

>>> from symstride import Conv, destride
>>> doc = destride(Conv(kernel=3, stride=2)).to_json()
>>> check_mapping(doc).correct
True
>>> doc["taps"][2]["offset"] = [0]
>>> report = check_mapping(doc)
>>> report.correct, report.tap
(False, [2])
"""

from __future__ import annotations

from ..core.errors import SymstrideError


from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any

import numpy as np

from .equivalence import default_size
from ..core.indexing import Tap, check_layout
from ..core.indexing import equivalent_kernel as eq_kernel
from ..core.params import ConvSpec, ConvTransposeSpec, as_int
from ..core.results import Result
from ..core.tap_comparison import VerifyReport
from ..core.verify import tap_counterexample, verify_taps, verify_transposed_taps
from .mapping_arrays import first_misplaced, structural_problem, tap_rows
from .mapping_fields import check_keys, stated_field_problem, tap_keys
from .mapping_text import read_mapping

__all__ = ["MappingReport", "check_mapping", "load_mapping", "MAX_COUNTEREXAMPLE_TAPS"]

#: A structurally wrong map gets a counterexample when it has at most this many distinct taps
#: (the comparison grows with them; the verdict does not need it).
MAX_COUNTEREXAMPLE_TAPS = 4096


@dataclass(frozen=True, repr=False)
class MappingReport(Result):
    """The verdict on a mapping: ``correct``, the first wrong ``tap`` (an index list) and why.

    Report protocol: ``ok`` is ``correct``; ``failure`` names the wrong tap and the reason.
    """

    correct: bool
    spec: ConvSpec | ConvTransposeSpec
    layout: str
    sizes: tuple[tuple[int, ...], ...]
    tap: list[int] | None = None
    reason: str = ""
    detail: VerifyReport | None = None

    @property
    def ok(self) -> bool:
        return self.correct

    @property
    def failure(self) -> str | None:
        if self.correct:
            return None
        return self.reason if self.tap is None else f"tap {self.tap}: {self.reason}"

    def json_fields(self) -> dict[str, Any]:
        return {"correct": self.correct, "layout": self.layout, "sizes": [list(s) for s in self.sizes], "tap": self.tap,
                "reason": self.reason, "detail": None if self.detail is None else self.detail.to_json()}

    def __str__(self) -> str:
        sizes = ", ".join("×".join(map(str, s)) for s in self.sizes)
        head = f"tap map for {self.spec.describe()}, layout {self.layout}"
        if self.correct and not self.sizes:
            return f"{head}: CORRECT — every tap where the phase map s·q + δ·m − p = B·D + r puts it (proved for every input size)"
        if self.correct:
            return f"{head}: CORRECT — decided exactly by integer index analysis on input sizes {sizes}"
        if self.tap is None:
            return f"{head}: WRONG — {self.reason}"
        return f"{head}: WRONG at tap {self.tap} — {self.reason}"


def _ints(value: Any, name: str, ndim: int | None = None) -> list[int]:
    if isinstance(value, bool) or not isinstance(value, (list, tuple)):
        raise SymstrideError(f"{name} must be a list of integers, got {value!r}")
    try:
        out = [as_int(v, name) for v in value]
    except TypeError as exc:  # a malformed document, not a programming error
        raise SymstrideError(str(exc)) from None
    if ndim is not None and len(out) != ndim:
        raise SymstrideError(f"{name} must have {ndim} entries (one per spatial axis), got {len(out)}")
    return out


def _padding(value: Any) -> Any:
    """Padding as the JSON states it: an int, or a list of ints or ``[left, right]`` pairs."""
    if isinstance(value, list):
        return [tuple(p) if isinstance(p, list) else p for p in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise SymstrideError(f"padding must be an integer or a list (one entry or [left, right] pair per axis), got {value!r}")


def _stated_sizes(doc: dict, spec: ConvSpec, kq: list[int] | None) -> str | None:
    """The document's derived sizes (phases, k', structural zeros) against the stated layer; None if consistent."""
    true_kq = list(eq_kernel(spec))
    if kq is not None and kq != true_kq:
        return f"equivalent_kernel {kq} is not k' = floor(δ(k−1)/s) + 1 = {true_kq} for the stated kernel, stride and dilation"
    phases = doc.get("phases")
    n_phases = prod(spec.stride)
    if phases is not None and phases != n_phases:
        return f"phases {phases!r} is not P = Π s = {n_phases}"
    zeros = doc.get("structural_zeros")
    n_zeros = n_phases * prod(true_kq) - spec.taps
    if zeros is not None and zeros != n_zeros:
        return f"structural_zeros {zeros!r} is not P·Π k' − Π k = {n_zeros}"
    return None


class _WrongField(Exception):
    """A stated per-tap field that contradicts the tap's own entries (the map is WRONG, not malformed)."""

    def __init__(self, tap: list[int], reason: str) -> None:
        super().__init__(reason)
        self.tap, self.reason = tap, reason


def _is_transposed(doc: dict) -> bool:
    flag = doc.get("transposed", False)
    if not isinstance(flag, bool):
        raise SymstrideError(f"transposed must be true or false, got {flag!r}")
    return flag


def _parse(doc: Any) -> tuple[ConvSpec | ConvTransposeSpec, str, list[int] | None, np.ndarray]:
    """The stated layer, layout, ``k'`` and the taps as an ``(n, 3, ndim)`` array of (m, r, j)."""
    if not isinstance(doc, dict):
        raise SymstrideError(f"a mapping must be a JSON object, got {type(doc).__name__}")
    transposed = _is_transposed(doc)
    if "symbols" in doc:  # derive --format json of a layer with symbols: a map for every value, not one to check
        names = ", ".join(str(s.get("name")) if isinstance(s, dict) else repr(s) for s in doc["symbols"]) if isinstance(doc["symbols"], list) else repr(doc["symbols"])
        raise SymstrideError(f"the mapping is symbolic (symbols {names}); check decides a map of a concrete layer: derive it with integer values")
    check_keys(doc, transposed=transposed)
    for key in ("kernel", "stride", "taps"):
        if key not in doc:
            raise SymstrideError(f"the mapping has no {key!r} entry (expected the format of `symstride derive --format json`)")
    try:
        kernel = _ints(doc["kernel"], "kernel")
        fields = dict(
            kernel=kernel,
            stride=_ints(doc["stride"], "stride", len(kernel)),
            dilation=_ints(doc.get("dilation", [1] * len(kernel)), "dilation", len(kernel)),
            padding=_padding(doc.get("padding", [0] * len(kernel))),
            in_channels=doc.get("in_channels", 1),
            out_channels=doc.get("out_channels", 1),
            groups=doc.get("groups", 1),
            ndim=len(kernel),
        )
        if transposed:
            fields["output_padding"] = _ints(doc.get("output_padding", [0] * len(kernel)), "output_padding", len(kernel))
        spec = (ConvTransposeSpec if transposed else ConvSpec).create(**fields)
    except TypeError as exc:
        raise SymstrideError(str(exc)) from None
    layout = doc.get("layout", "pytorch")
    if not isinstance(layout, str):
        raise SymstrideError(f"layout must be a string, got {layout!r}")
    check_layout(layout)
    kq = doc.get("equivalent_kernel")
    kq = None if kq is None else _ints(kq, "equivalent_kernel", spec.ndim)
    if not isinstance(doc["taps"], (list, np.ndarray)):
        raise SymstrideError(f"taps must be a list of {{tap, phase, offset}} objects, got {type(doc['taps']).__name__}")
    raw = doc["taps"]
    if isinstance(raw, np.ndarray):  # a regular tap list read in bulk (mapping_text.read_mapping)
        return _array_taps(raw, spec, layout, kq)
    keys = ("tap", "phase", "offset", "delay") if transposed and raw and isinstance(raw[0], dict) and "delay" in raw[0] else ("tap", "phase", "offset")
    rows = tap_rows(raw, spec.ndim, keys)
    if rows is not None:  # every entry regular: read in bulk
        return _array_taps(rows, spec, layout, kq)
    taps = []
    for k, entry in enumerate(raw):
        if not isinstance(entry, dict) or not {"tap", "phase", "offset"} <= set(entry):
            raise SymstrideError(f"taps[{k}] must be an object with {', '.join(tap_keys(transposed)[:-1])} and {tap_keys(transposed)[-1]}, got {entry!r}")
        taps.append(Tap(*(tuple(_ints(entry[f], f"taps[{k}].{f}", spec.ndim)) for f in ("tap", "phase", "offset"))))
        if "delay" in entry:  # a transposed map's derived field, k' − 1 − offset: checked here
            delay = _ints(entry["delay"], f"taps[{k}].delay", spec.ndim)
            truth = [q - 1 - j for q, j in zip(kq or eq_kernel(spec), taps[-1].offset)]
            if delay != truth:
                raise _WrongField(list(taps[-1].tap), f"its delay {delay} is not k' − 1 − offset = {truth}")
    for t in taps:  # values beyond int64: named here, before the arrays
        if not all(0 <= m < k for m, k in zip(t.tap, spec.kernel)):
            raise _WrongField(list(t.tap), f"tap {list(t.tap)} is outside the kernel {list(spec.kernel)}")
        if any(abs(v) >= 2**62 for v in (*t.phase, *t.offset)):
            raise _WrongField(list(t.tap), f"it is placed at phase {list(t.phase)}, offset {list(t.offset)}, outside every phase and the equivalent kernel")
    return spec, layout, kq, np.array(taps, dtype=np.int64).reshape(len(taps), 3, spec.ndim)


def _array_taps(rows: np.ndarray, spec: Any, layout: str, kq: list[int] | None) -> tuple[Any, str, list[int] | None, np.ndarray]:
    """Taps read as an ``(n, 3 or 4, ndim)`` int array (``tap, phase, offset[, delay]``): the delays checked."""
    if rows.ndim != 3 or rows.shape[1] not in (3, 4) or rows.dtype.kind != "i":
        raise SymstrideError(f"taps as an array must be integers of shape (n, 3 or 4, ndim), got {rows.dtype} {rows.shape}")
    if rows.shape[2] != spec.ndim:
        raise SymstrideError(f"taps[0].tap must have {spec.ndim} entries (one per spatial axis), got {rows.shape[2]}")
    if rows.shape[1] == 4:
        truth = np.asarray(kq or eq_kernel(spec)) - 1 - rows[:, 2]
        bad = (rows[:, 3] != truth).any(axis=1)
        if bad.any():
            k = int(np.argmax(bad))
            raise _WrongField(rows[k, 0].tolist(), f"its delay {rows[k, 3].tolist()} is not k' − 1 − offset = {truth[k].tolist()}")
    return spec, layout, kq, rows[:, :3].astype(np.int64, copy=False)


def _counterexample(spec: ConvSpec, taps: list[Tap], size: tuple[int, ...]) -> str | None:
    """The first output where the claimed bank (entries summed where taps share a slot) differs,
    decided by the exact read comparison of :func:`symstride.core.verify.tap_counterexample`."""
    report = tap_counterexample(spec, taps, size)
    if report.exact:
        return None
    return f"on an input of size {'×'.join(map(str, size))}, {report.mismatch}"


def check_mapping(doc: Any) -> MappingReport:
    """Decide exactly whether the tap map ``doc`` is a correct equivalence for its stated layer.

    A transposed map (``"transposed": true``, as ``derive --transposed --format json`` writes
    it) is checked as the sub-pixel equivalent of its transposed layer.  Every stated field is
    checked: the layer's derived fields against its derivation, each tap against the layer.
    """
    from ..algebra.conv_transpose import ConvTranspose
    from ..algebra.operators import Conv
    from .destride import destride
    from .transposed import default_transposed_size

    try:
        spec, layout, kq, rows = _parse(doc)
    except _WrongField as wrong:
        spec, layout = _parse_layer_only(doc)
        return MappingReport(False, spec, layout, (), wrong.tap, wrong.reason)
    transposed = isinstance(spec, ConvTransposeSpec)
    base = default_transposed_size(spec) if transposed else default_size(spec)
    # every residue of the size mod s on every axis: the boundary patterns repeat with period s
    sizes = tuple(tuple(n + t for n in base) for t in range(max(2, *spec.stride)))
    inconsistent = _stated_sizes(doc, spec, kq)
    if inconsistent is None:
        inconsistent = stated_field_problem(doc, destride(ConvTranspose(spec) if transposed else Conv(spec), layout=layout))
    if inconsistent is not None:
        return MappingReport(False, spec, layout, sizes, None, inconsistent)
    found = structural_problem(spec, rows)
    small = len(rows) <= MAX_COUNTEREXAMPLE_TAPS and spec.taps <= MAX_COUNTEREXAMPLE_TAPS
    taps = [Tap(*map(tuple, row)) for row in rows.tolist()] if small else []
    if found is not None:
        tap, reason = found
        example = None
        inside = all(0 <= m < k for t in taps for m, k in zip(t.tap, spec.kernel))
        if not transposed and inside and small and kq in (None, list(eq_kernel(spec))):
            example = _counterexample(spec, taps, base)
        return MappingReport(False, spec, layout, sizes, tap, reason + (f"; {example}" if example else ""))
    if not small:  # too many taps for the read comparison: tap for tap against the proved phase map
        misplaced = first_misplaced(spec, rows)
        if misplaced is None:
            return MappingReport(True, spec, layout, ())
        i, phase, offset = misplaced
        return MappingReport(False, spec, layout, (), rows[i, 0].tolist(), (
            f"it is placed at phase {rows[i, 1].tolist()}, offset {rows[i, 2].tolist()}, "
            f"but the phase map puts it at phase {phase}, offset {offset}"))
    check = verify_transposed_taps if transposed else verify_taps
    for size in sizes:
        report = check(spec, taps, size, kernel=kq, layout=layout)
        if not report.exact:
            mismatch = report.mismatch
            tap = list(mismatch.tap) if mismatch is not None and mismatch.tap is not None else None
            reason = f"on an input of size {'×'.join(map(str, size))}: {mismatch}"
            return MappingReport(False, spec, layout, sizes, tap, reason, report)
    return MappingReport(True, spec, layout, sizes)


def _parse_layer_only(doc: dict) -> tuple[Any, str]:
    """The stated layer and layout of a document whose taps contradict themselves."""
    stripped = {k: v for k, v in doc.items() if k != "taps"}
    spec, layout, _, _ = _parse({**stripped, "taps": []})
    return spec, layout


def load_mapping(path: str | Path) -> Any:
    """Read a mapping document; a missing file or invalid JSON is a one-line ``ValueError``.

    A regular tap list is read straight into an int array (:func:`~symstride.layer.mapping_text.read_mapping`).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SymstrideError(f"cannot read {path}: {exc.strerror or exc}") from None
    return read_mapping(data, str(path))
