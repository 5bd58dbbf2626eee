"""Exactness of Theorem 3, decided by integer index analysis (no floating point).

The equivalent network is exact when every link of this chain holds:

1. **input** — one space-to-depth by ``S = Π s_l`` of the (pre-padded, zero-extended) input;
2. **windowed layers** (convolution, pooling): the tied bank's gather index is decoded entry by
   entry (output channel ``o·R^d + φ(q)`` ↦ ``o``, input channel ``c·B^d + φ(r)`` ↦ ``c``, every
   original weight exactly once per output phase ``q``), then every claimed tap
   ``(φ(q), m) ↦ (φ(r), j)`` must read, at every true output ``n = R·a + q``, the sample the
   strided layer reads (``s·n + δ·m − p``) or both the padding value — by the one exact read
   comparison of :mod:`symstride.core.tap_comparison`, the layer's boundary mask as its mask;
3. **pointwise maps** — the commuting lemma (:mod:`~symstride.network.pointwise`): same map,
   per-channel parameters repeated per phase (checked index by index);
4. **residual blocks** — both branches verified from the same phase basis and ending in the
   same phase basis, so the addition is samplewise;
5. **output** — one phase (``R = 1``) and no overhang, so the final tensor *is* the output.

>>> from .strided import Network
>>> conv = dict(type="conv", kernel=3, stride=2, padding=1)
>>> layers = [dict(conv, out_channels=2), dict(type="relu"), dict(conv, out_channels=1)]
>>> eq = Network.from_spec(dict(input=dict(channels=1, size=[9]), layers=layers)).destride()
>>> verify_network(eq).exact
True
>>> from dataclasses import replace
>>> broken = replace(eq, ops=eq.ops[:2] + (replace(eq.ops[2], mask=None),))
>>> print(verify_network(broken).first_failure)
layer 2 (conv): NOT exact — tap [2] of output y[..., 2] (output phase 0, phase sample 2): the strided layer reads padding (position 5 is outside the 5-sample input), the equivalent layer reads position 5, past the end of the feature map and not masked
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from math import prod
from typing import Sequence

import numpy as np

from ..core.errors import SymstrideTypeError
from ..core.indexing import output_shape, phase_vector
from ..core.phasemap import phase_reads
from ..core.results import Result
from ..core.tap_comparison import Mismatch, VerifyReport, axis_reads, first_difference
from .phase_ops import zero_overhang_after
from .equivalent import EquivalentNetwork
from .phase_ops import PhaseActivation, PhaseBatchNorm, PhaseOp, PhaseResidual, TiedConv, TiedMaxPool
from .phases import PhaseBasis, mask_keep
from .spec import Activation, BatchNorm, ConvLayer, NetworkLayer, Pool, Residual, total_stride

__all__ = ["Check", "NetworkVerification", "verify_network"]

#: Entries of a gather index decoded at once (bounds memory on large banks).
BLOCK = 1 << 20


@dataclass(frozen=True, repr=False)
class Check(Result):
    """One link of the chain: which layer, by which rule, and whether it holds (``ok`` is ``exact``)."""

    path: str
    kind: str
    rule: str
    exact: bool
    detail: str
    report: VerifyReport | None = None

    @property
    def ok(self) -> bool:
        return self.exact

    @property
    def failure(self) -> str | None:
        return None if self.exact else str(self)

    def json_fields(self) -> dict:
        return {"path": self.path, "layer": self.kind, "rule": self.rule, "exact": self.exact, "detail": self.detail,
                "report": None if self.report is None else self.report.to_json()}

    def __str__(self) -> str:
        head = f"layer {self.path} ({self.kind})" if self.path else self.kind
        return f"{head}: {'exact' if self.exact else 'NOT exact'} — {self.detail}"


@dataclass(frozen=True, repr=False)
class NetworkVerification(Result):
    """The outcome of :func:`verify_network`: ``exact`` only when every check holds (``ok``);
    ``failure`` is the first failed check."""

    checks: tuple[Check, ...]
    superfluous_masks: tuple[str, ...] = field(default=())

    @property
    def exact(self) -> bool:
        return all(c.exact for c in self.checks)

    @property
    def minimal(self) -> bool:
        """No mask blanks a sample that a true output reads past the end: each mask is needed."""
        return not self.superfluous_masks

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if not c.exact), None)

    @property
    def ok(self) -> bool:
        return self.exact

    @property
    def failure(self) -> str | None:
        first = self.first_failure
        return None if first is None else str(first)

    def json_fields(self) -> dict:
        return {"exact": self.exact, "minimal": self.minimal, "checks": [c.to_json() for c in self.checks],
                "superfluous_masks": list(self.superfluous_masks)}

    def __str__(self) -> str:
        lines = [f"Theorem 3 exact check: {'exact' if self.exact else 'NOT exact'} ({len(self.checks)} checks, integer index analysis)"]
        lines += [f"  {c}" for c in self.checks]
        if self.superfluous_masks:
            lines.append(f"  masks that blank nothing a true output reads: {', '.join(self.superfluous_masks)}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# windowed layers


def _axes_grid(per_axis: Sequence[np.ndarray]) -> np.ndarray:
    """Outer AND of per-axis boolean vectors."""
    d = len(per_axis)
    return reduce(np.logical_and, (v.reshape([-1 if i == ax else 1 for i in range(d)]) for ax, v in enumerate(per_axis)),
                  np.ones((), dtype=bool))


def _claimed_taps(op: TiedConv, spec) -> tuple[set, str | None]:
    """Decode the gather index: the set of ``(φ(q), m, φ(r), j)`` it claims, or the first fault."""
    n_out, n_in = op.output.count, op.inputs.count
    c_out, cin_g, *kernel = op.weight_shape
    k_eq = tuple(m.kernel_eq for m in op.axes)
    taps, cells = prod(kernel), prod(k_eq)
    rows_total = c_out * n_out
    per_row = max(1, BLOCK // max(1, cin_g * n_in * cells))
    keys = []
    seen = np.zeros(prod(op.weight_shape) * n_out, dtype=np.int64)
    for start in range(0, rows_total, per_row):
        block = op.weight_index_rows(slice(start, min(rows_total, start + per_row)))
        flat = block.reshape(block.shape[0], block.shape[1], cells)
        row, ch, j = np.nonzero(flat >= 0)
        v = flat[row, ch, j]
        row = row + start
        o, rest = np.divmod(v, cin_g * taps)
        c, m = np.divmod(rest, taps)
        q, r = row % n_out, ch % n_in
        bad = (row // n_out != o) | (ch // n_in != c)
        if bad.any():
            i = int(np.argmax(bad))
            jj = ", ".join(map(str, np.unravel_index(int(j[i]), k_eq)))
            mm = ", ".join(map(str, np.unravel_index(int(m[i]), kernel)))
            return set(), (f"entry W'[{row[i]}, {ch[i]}, {jj}] holds w[{o[i]}, {c[i]}, {mm}], but output channel {row[i]} is "
                           f"channel {row[i] // n_out} phase {q[i]} and input channel {ch[i]} is channel {ch[i] // n_in} phase {r[i]}")
        seen += np.bincount(v * n_out + q, minlength=seen.size)
        keys.append(np.unique(((q * taps + m) * n_in + r) * cells + j))
    if (seen != 1).any():
        v, q = divmod(int(np.argmax(seen != 1)), n_out)
        idx = ", ".join(map(str, np.unravel_index(v, op.weight_shape)))
        return set(), f"weight w[{idx}] appears {int(seen[v * n_out + q])} times for output phase {q}; it must appear exactly once"
    claimed = set()
    for key in np.unique(np.concatenate(keys)) if keys else ():
        rest, j = divmod(int(key), cells)
        rest, r = divmod(rest, n_in)
        q, m = divmod(rest, taps)
        claimed.add((q, tuple(int(x) for x in np.unravel_index(m, kernel)), r, tuple(int(x) for x in np.unravel_index(j, k_eq))))
    return claimed, None


def _check_reads(spec, op, claimed, zero_overhang: bool, fill: float):
    """The one exact read comparison (:func:`~symstride.core.tap_comparison.first_difference`,
    the layer's mask as its mask) per output phase ``q``: the strided read ``s·n + δ·m − p`` at
    true outputs ``n = R·a + q`` against entry ``(r, j)``'s read of phase ``r`` at offset
    ``a + j − e`` (:func:`~symstride.core.phasemap.phase_reads`), live when inside the phase
    tensor, kept by the mask, and a sample — or past the end where not known to be zero.
    Returns ``(mismatch or None, positions compared, whether the mask blanked a read past the end)``."""
    n_in, n_out = op.inputs.size, op.output.size
    big, small = op.inputs.phases, op.output.phases
    a_in, a_out = op.inputs.length, op.output.length
    keep = op.mask.keep if op.mask is not None else None
    zero_ok = zero_overhang and fill == 0.0
    by_q: dict[int, dict] = {}
    for q_flat, m, r_flat, j in sorted(claimed):
        by_q.setdefault(q_flat, {}).setdefault(m, []).append((r_flat, j))
    mask_used, compared = False, 0
    for q_flat, entries in sorted(by_q.items()):
        q = phase_vector(q_flat, small)
        # the true outputs of phase q: a < ⌈(N_out − q)/R⌉ on each axis
        n_true = tuple(max(0, min(al, -(-(n - qq) // rr))) for al, n, qq, rr in zip(a_out, n_out, q, small))
        reference, reads, masks, views = {}, {}, {}, {}
        for m, rj in entries.items():
            ref_axes = []
            for ax in range(len(n_in)):
                ps = spec.stride[ax] * (small[ax] * np.arange(n_true[ax]) + q[ax]) + spec.dilation[ax] * m[ax] - spec.padding[ax][0]
                ref_axes.append(axis_reads(ps, n_in[ax]))
            reference[m] = ref_axes
            for r_flat, j in rj:
                r = phase_vector(r_flat, big)
                axes, inside, idx = [], [], []
                for ax in range(len(n_in)):
                    read, mine = phase_reads("strided", small[ax] * a_out[ax], small[ax], big[ax], r[ax], q[ax], j[ax], op.padding[ax][0])
                    pe = read[mine][: n_true[ax]]  # B·(a + j − e) + r: phase r at phase-domain index ix
                    ix = (pe - r[ax]) // big[ax]
                    inside.append((ix >= 0) & (ix < a_in[ax]))
                    axes.append((pe, inside[-1] & ((pe < n_in[ax]) | (not zero_ok))))
                    idx.append(np.clip(ix, 0, a_in[ax] - 1))
                kept = keep[(r_flat, *np.ix_(*idx))] if keep is not None else None
                reads.setdefault(m, []).append(axes)
                masks.setdefault(m, []).append(kept)
                views.setdefault(m, (axes, inside, kept))  # the first entry of (q, m) names a difference
                if kept is not None and not zero_ok:
                    past = ~_axes_grid([lv for _, lv in ref_axes]) & _axes_grid(inside) & ~_axes_grid([pe < n for (pe, _), n in zip(axes, n_in)])
                    mask_used |= bool((past & ~kept).any())
                compared += prod(n_true)
        first, _ = first_difference(n_true, reference, reads, masks)
        if first is not None:
            a, m = first
            return _describe(fill, q, m, a, small, n_in, reference[m], *views[m]), compared, mask_used
    return None, compared, mask_used


def _describe(fill, q, m, a, small, n_in, ref_axes, axes, inside, kept) -> Mismatch:
    """The first difference of a windowed layer, named in the network's words."""
    n = tuple(rr * aa + qq for rr, aa, qq in zip(small, a, q))
    ps = tuple(int(p[i]) for (p, _), i in zip(ref_axes, a))
    pe = tuple(int(p[i]) for (p, _), i in zip(axes, a))
    fmt = lambda v: ", ".join(map(str, v))  # noqa: E731
    pad = "−∞" if fill < 0 else "0"
    size = "×".join(map(str, n_in))
    strided = (f"reads x[..., {fmt(ps)}]" if all(bool(lv[i]) for (_, lv), i in zip(ref_axes, a))
               else f"reads padding (position {fmt(ps)} is outside the {size}-sample input)")
    if not all(bool(v[i]) for v, i in zip(inside, a)):
        equivalent = f"reads phase-domain padding {pad}"
    elif kept is not None and not kept[a]:
        equivalent = f"reads position {fmt(pe)} blanked by the mask"
    elif all(p < s for p, s in zip(pe, n_in)):
        equivalent = f"reads x[..., {fmt(pe)}]"
    else:
        equivalent = f"reads position {fmt(pe)}, past the end of the feature map and not masked"
    reason = (f"tap [{fmt(m)}] of output y[..., {fmt(n)}] (output phase {fmt(q)}, phase sample {fmt(a)}): "
              f"the strided layer {strided}, the equivalent layer {equivalent}")
    return Mismatch(reason, output=n, tap=tuple(m), strided=strided, equivalent=equivalent)


def _windowed(layer: ConvLayer | Pool, spec, op, basis: PhaseBasis, zero_overhang: bool, checks: list, superfluous: list) -> None:
    label = layer.label
    is_max = isinstance(layer, Pool) and layer.mode == "max"
    fill = -np.inf if is_max else 0.0
    expect = TiedMaxPool if is_max else TiedConv
    n_out = output_shape(spec, basis.size)
    identity = f"{label}: Theorem 3 phase map (B = {'×'.join(map(str, basis.phases))} → R = {'×'.join(map(str, op.output.phases))})"

    def fail(reason: str) -> None:
        checks.append(Check(layer.path, layer.kind, "multi-rate tap map", False, reason,
                            VerifyReport(identity, False, basis.size, n_out, 0, 0, Mismatch(reason))))

    if not isinstance(op, expect):
        return fail(f"expected a {expect.__name__}, got {type(op).__name__}")
    if op.inputs != basis:
        return fail(f"reads phase basis {op.inputs}, but the previous layer leaves {basis}")
    if any(b != s * r for b, s, r in zip(basis.phases, spec.stride, op.output.phases)):
        return fail(f"input phases {basis.phases} are not stride {spec.stride} × output phases {op.output.phases}")
    if op.output.size != n_out or op.output.channels != layer.out_shape.channels or any(
        r * a < n for r, a, n in zip(op.output.phases, op.output.length, n_out)
    ):
        return fail(f"output basis {op.output} does not hold the {layer.out_shape.channels}×{list(n_out)} output")
    if op.mask is not None and (op.mask.fill != fill or op.mask.keep.shape != (basis.count, *basis.length)):
        return fail(f"the mask must have shape {(basis.count, *basis.length)} and fill {fill}")
    if is_max:
        if op.pad_value != -np.inf:
            return fail(f"max pooling must pad with −∞ in the phase domain, got {op.pad_value}")
        if op.guard is not None and (op.guard.keep.shape != (op.output.count, *op.output.length) or not np.all(
                op.guard.keep | ~mask_keep(op.output.size, op.output.phases, op.output.length))):
            return fail("the guard on the output blanks a sample of the true feature map")
        claimed = {(t.out_phase, tuple(t.tap), t.in_phase, tuple(t.offset)) for t in op.taps}
        by_qm = {}
        for q, m, r, j in claimed:
            by_qm.setdefault((q, m), []).append((r, j))
        want = op.output.count * spec.taps
        if len(by_qm) != want:
            return fail(f"the tap list covers {len(by_qm)} of the {want} (output phase, tap) pairs")
        k_eq = tuple(max(t[3][ax] for t in claimed) + 1 for ax in range(len(n_out)))
    else:
        if op.groups != spec.groups:
            return fail(f"groups {op.groups} differ from the strided layer's {spec.groups}")
        if tuple(op.weight_shape) != spec.weight_shape:
            return fail(f"gathers from a weight of shape {op.weight_shape}, the layer's is {spec.weight_shape}")
        claimed, fault = _claimed_taps(op, spec)
        if fault:
            return fail(fault)
        k_eq = tuple(m.kernel_eq for m in op.axes)
    for ax, ((el, er), a_in, a_out, k) in enumerate(zip(op.padding, basis.length, op.output.length, k_eq)):
        if a_in + el + er - k + 1 < a_out:
            return fail(f"axis {ax}: phase-domain length {a_in}+{el}+{er} leaves fewer than {a_out} outputs for kernel {k}")
    mismatch, compared, mask_used = _check_reads(spec, op, claimed, zero_overhang, fill)
    notes = []
    if isinstance(layer, ConvLayer):
        want_bias = np.repeat(np.arange(spec.out_channels), op.output.count) if layer.bias else None
        if (want_bias is None) != (op.bias_index is None) or (want_bias is not None and not np.array_equal(want_bias, op.bias_index)):
            mismatch = mismatch or Mismatch("the bias is not b'[o·R^d + φ(q)] = b[o]")
        elif layer.bias:
            notes.append("bias b'[o·R^d + φ(q)] = b[o]")
    elif not is_max:
        mismatch = mismatch or _avg_weights(layer, spec, op, basis)
    if op.mask is not None:
        notes.append("mask " + ("blanks samples past the end that true outputs read" if mask_used else "blanks nothing that is read"))
        if not mask_used and mismatch is None:
            superfluous.append(layer.path)
    report = VerifyReport(identity, mismatch is None, basis.size, n_out, len(claimed), compared, mismatch, tuple(notes))
    detail = (f"{len(claimed)} (output phase, tap) ↦ (input phase, offset) entries, {compared} reads compared" + (f"; {'; '.join(notes)}" if notes else "")
              if mismatch is None else str(mismatch))
    checks.append(Check(layer.path, layer.kind, "multi-rate tap map", mismatch is None, detail, report))


def _avg_weights(layer: Pool, spec, op: TiedConv, basis: PhaseBasis) -> Mismatch | None:
    """Average pooling: fixed weights ``1/Π k``, or 1 and a divisor equal to the count of taps inside."""
    mean = layer.count_include_pad or not any(l for l, _ in spec.padding)
    want = 1.0 / spec.taps if mean else 1.0
    if op.fixed_weight is None or op.fixed_weight.shape != spec.weight_shape or not np.all(op.fixed_weight == want):
        return Mismatch(f"the fixed depthwise weights must all be {want}")
    if mean:
        return None if op.divisor is None else Mismatch("count_include_pad=True divides by Π k, not by a per-position count")
    if op.divisor is None or op.divisor.shape != (op.output.count, *op.output.length):
        return Mismatch("count_include_pad=False needs a divisor per output phase sample")
    for q_flat in range(op.output.count):
        q = phase_vector(q_flat, op.output.phases)
        counts, true_out = [], []
        for ax in range(spec.ndim):
            n = op.output.phases[ax] * np.arange(op.output.length[ax]) + q[ax]
            pos = spec.stride[ax] * n[:, None] + np.arange(spec.kernel[ax])[None, :] - spec.padding[ax][0]
            counts.append(((pos >= 0) & (pos < basis.size[ax])).sum(axis=1))
            true_out.append(n < op.output.size[ax])
        count = np.ones(())
        for ax, cnt in enumerate(counts):
            shape = [1] * spec.ndim
            shape[ax] = cnt.size
            count = count * cnt.reshape(shape)
        bad = _axes_grid(true_out) & (op.divisor[q_flat] != count)
        if bad.any():
            a = tuple(int(x) for x in np.argwhere(bad)[0])
            return Mismatch(f"divisor of output phase {q_flat} at {a} is {op.divisor[(q_flat, *a)]}, the window holds {count[a]} input samples")
    return None


# ---------------------------------------------------------------------------------------------
# the chain


def _pointwise(layer: Activation | BatchNorm, op: PhaseOp, basis: PhaseBasis, checks: list) -> None:
    rule = "commuting lemma"
    if isinstance(layer, Activation):
        ok = isinstance(op, PhaseActivation) and op.name == layer.name and dict(op.options) == dict(layer.options) and op.basis == basis
        detail = (f"{layer.name} is elementwise, so it commutes with the phase split" if ok
                  else f"expected {layer.name} {dict(layer.options)} on {basis}, got {op!r}")
    else:
        want = np.repeat(np.arange(basis.channels), basis.count)
        ok = (isinstance(op, PhaseBatchNorm) and op.basis == basis and op.eps == layer.eps
              and np.array_equal(op.channel_source, want))
        detail = (f"per-channel affine map; phase channel c·R^d + φ(q) uses channel c's parameters (R^d = {basis.count})" if ok
                  else "batch-norm parameters are not repeated per phase (channel c·R^d + φ(q) must use channel c)")
    checks.append(Check(layer.path, layer.kind, rule, ok, detail))


def _chain(layers: Sequence[NetworkLayer], ops: Sequence[PhaseOp], basis: PhaseBasis, zero: bool, prepad: str | None,
           checks: list, superfluous: list) -> tuple[PhaseBasis, bool]:
    if len(layers) != len(ops):
        checks.append(Check(layers[0].path if layers else "", "network", "structure", False,
                            f"{len(layers)} layers but {len(ops)} equivalent operations"))
        return basis, zero
    for layer, op in zip(layers, ops):
        if getattr(op, "path", None) != layer.path:
            checks.append(Check(layer.path, layer.kind, "structure", False, f"the equivalent operation is for layer {getattr(op, 'path', '?')}"))
            return basis, zero
        if isinstance(layer, (ConvLayer, Pool)):
            spec = layer.conv if isinstance(layer, ConvLayer) else layer.pool
            if isinstance(layer, ConvLayer) and layer.path == prepad:
                spec = spec.replace(padding=0)  # its padding was applied before space-to-depth
            _windowed(layer, spec, op, basis, zero, checks, superfluous)
        elif isinstance(layer, (Activation, BatchNorm)):
            _pointwise(layer, op, basis, checks)
        elif isinstance(layer, Residual):
            if not isinstance(op, PhaseResidual) or op.inputs != basis:
                checks.append(Check(layer.path, layer.kind, "structure", False, "expected a residual block on the incoming basis"))
                return basis, zero
            out_b, _ = _chain(layer.body, op.body, basis, zero, prepad, checks, superfluous)
            out_s, _ = _chain(layer.shortcut, op.shortcut, basis, zero, prepad, checks, superfluous)
            ok = out_b == out_s == op.output
            checks.append(Check(layer.path, layer.kind, "samplewise addition", ok,
                                "body and shortcut end in the same phase basis; the sum is taken sample by sample" if ok
                                else f"body ends in {out_b}, shortcut in {out_s}, block claims {op.output}"))
        zero = zero_overhang_after(op, zero)
        basis = getattr(op, "output", basis)
    return basis, zero


def _input_check(eq: EquivalentNetwork) -> Check:
    net = eq.network.spec
    stage = eq.input
    s = total_stride(net.layers, net.ndim)
    size = tuple(n + l + r for n, (l, r) in zip(net.input.size, stage.padding))
    problems = []
    if stage.basis.phases != s:
        problems.append(f"space-to-depth by {stage.basis.phases}, but the total stride is {s}")
    if stage.basis.size != size or stage.basis.channels != net.input.channels:
        problems.append(f"the input basis {stage.basis} does not hold the {net.input.channels}×{list(size)} input")
    if any(p * a < n for p, a, n in zip(stage.basis.phases, stage.basis.length, size)):
        problems.append("the phase tensor is too short for the input")
    if stage.serves is None and any(l or r for l, r in stage.padding):
        problems.append("pre-padding without a convolution it belongs to")
    if stage.serves is not None:
        pre = []
        for layer in net.layers:
            if layer.path == stage.serves:
                break
            pre.append(layer)
        target = next((l for l in net.layers if l.path == stage.serves), None)
        if (not isinstance(target, ConvLayer) or any(not isinstance(l, (Activation, BatchNorm)) for l in pre)
                or target.conv.padding != stage.padding or target.padding_mode != stage.padding_mode):
            problems.append(f"pre-padding {stage.padding_mode} {stage.padding} is not the padding of the first window-reading layer")
    detail = "; ".join(problems) or (
        f"one space-to-depth by S = {'×'.join(map(str, s))}"
        + (f" after {stage.padding_mode} padding {list(stage.padding)} of layer {stage.serves} (it copies samples, "
           "so it commutes with the pointwise maps before it)" if stage.serves else "")
        + "; zero extension to a multiple of S reads as right zero padding")
    return Check("", "input", "space-to-depth", not problems, detail)


def verify_network(eq: EquivalentNetwork) -> NetworkVerification:
    """Decide exactly whether ``eq`` computes its strided network (see the module docstring)."""
    if not isinstance(eq, EquivalentNetwork):
        raise SymstrideTypeError(f"verify_network expects an EquivalentNetwork (from Network.destride()), got {type(eq).__name__}")
    net = eq.network.spec
    checks = [_input_check(eq)]
    superfluous: list[str] = []
    basis, _ = _chain(net.layers, eq.ops, eq.input.basis, True, eq.input.serves, checks, superfluous)
    ok = basis.phases == (1,) * net.ndim and basis.size == net.output.size and basis.length == net.output.size
    checks.append(Check("", "output", "one phase", ok,
                        "the last layer leaves R = 1 phase and no overhang: the phase tensor is the output" if ok
                        else f"the network ends in {basis}, not in one phase of size {list(net.output.size)}"))
    return NetworkVerification(tuple(checks), tuple(superfluous))
