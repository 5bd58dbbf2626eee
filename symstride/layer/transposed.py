"""Fractional stride: a transposed convolution is a unit-stride convolution plus depth-to-space.

A transposed convolution with stride ``s`` (PyTorch's ``conv_transpose``) scatters every input
sample through the kernel: ``y[o, t] = Σ w[c, o, m]·x[c, n]`` over ``s·n + δ·m = t + p_left``.
Split the output by phase, ``t + p_left = s·a + r`` (``0 ≤ r < s``), and the taps by Euclidean
division, ``δ·m = s·q + r'``: output phase ``r`` receives exactly the taps with ``δ·m ≡ r
(mod s)``, and its block ``a`` reads ``x[a − q]`` — an ordinary unit-stride convolution of the
input with the sub-kernel of those taps.  Flipped into cross-correlation form (offset
``j = k' − 1 − q``) the ``P = Π s`` phase filters are one unit-stride layer with ``C_out·P``
output channels; depth-to-space (``pixel_shuffle``) interleaves them and a crop by
``p_left mod s`` gives the transposed layer's output — sub-pixel convolution, exactly.

The transposed layer is also the adjoint of the strided convolution with the same weight
tensor (Theorem 2's layer): ``⟨Conv_s x, y⟩ = ⟨x, ConvT_s y⟩``, checked by
:meth:`TransposedEquivalence.verify_adjoint`.

>>> from symstride import ConvTranspose, destride
>>> eq = destride(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1))
>>> eq.kernel, eq.phases, eq.out_channels
((2,), 2, 2)
>>> eq.filters                       # phase 0 gets taps 0 and 2 (flipped), phase 1 tap 1
[[[w[2], w[0]]], [[0, w[1]]]]
>>> eq.verify(size=9).exact, eq.verify_adjoint(size=9).exact
(True, True)
"""

from __future__ import annotations

from ..core.errors import SymstrideTypeError

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from .equivalence import PhaseEquivalence
from ..core.indexing import (
    LAYOUTS,
    TransposedAxis,
    channel_index,
    input_size,
    phase_index,
    transposed_geometry,
    tap_arrays,
    transposed_tap_map,
    weight_gather_index,
)
from ..algebra.conv_transpose import ConvTranspose
from ..core.params import ConvTransposeSpec
from ..algebra.operator_checks import verify_adjoint
from ..core.tap_comparison import VerifyReport
from ..core.verify import verify_transposed_taps
from .filterbank import FilterBank

if TYPE_CHECKING:  # pragma: no cover
    from ..proof.derivation import Derivation

__all__ = ["TransposedEquivalence", "AdjointTensors", "default_transposed_size"]


def default_transposed_size(spec: ConvTransposeSpec) -> tuple[int, ...]:
    """A small input size whose output exercises both crops and the interior on every axis."""
    sizes = []
    for k, s, d, (pl, pr), op in zip(spec.kernel, spec.stride, spec.dilation, spec.padding, spec.output_padding):
        smallest = max(1, -(-(pl + pr - d * (k - 1) - op) // s) + 1)  # the least N with an output
        sizes.append(smallest + (d * (k - 1)) // s + 3)
    return tuple(sizes)


class TransposedEquivalence(PhaseEquivalence):
    """A transposed layer and its sub-pixel equivalent: ``P = Π s`` unit-stride phase filters.

    Attributes as :class:`~symstride.layer.equivalence.Equivalence`: ``layer`` (the
    :class:`ConvTranspose`), ``layout``, ``kernel`` (``k'``), ``phases`` (``P``),
    ``in_channels`` (``C_in``), ``out_channels`` (``C_out·P``, before depth-to-space),
    ``groups``, ``taps`` (tap ``m`` → output phase ``r``, offset ``j``), ``filters``
    (``W'`` of shape ``(C_out·P, C_in/groups, *k')`` in terms of ``w``), ``formula``,
    ``structural_zeros``.
    """

    #: The tap map's rule, as LaTeX: tap ``m`` feeds output phase ``r`` at offset ``j``.
    tap_rule_latex = r"\delta m = s (k' - 1 - j) + r"

    def __init__(self, layer: ConvTranspose, layout: str = "pytorch") -> None:
        if not isinstance(layer, ConvTranspose):
            raise SymstrideTypeError(f"expected a symstride ConvTranspose layer, got {type(layer).__name__}")
        self._setup(layer, layout, channels="produces")
        self.in_channels = self.spec.in_channels
        self.out_channels = self.spec.out_channels * self.phases

    @cached_property
    def taps(self) -> tuple:
        """Every tap with its output phase and offset (:func:`~symstride.core.indexing.transposed_tap_map`), built on first use."""
        return tuple(transposed_tap_map(self.spec))

    @property
    def tap_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:attr:`taps` as ``(m, r, j)`` arrays of shape ``(ndim, Π k)`` (no object per tap)."""
        return tap_arrays(self.spec, flip=True)

    # -- structure ----------------------------------------------------------------------------
    @cached_property
    def weight_index(self) -> np.ndarray:
        """Gather index: ``W'.flat = w.flat[weight_index]``, −1 at structural zeros."""
        return weight_gather_index(self.spec, self.layout)

    def phase_channel(self, phase: tuple[int, ...], o: int = 0, c: int = 0) -> int:
        """The equivalent output channel holding phase ``r`` of output channel ``o``."""
        return channel_index(o, phase_index(phase, self.spec.stride), self.spec.out_channels, self.phases, self.layout)

    def phase_filter_index(self, phase: tuple[int, ...], o: int = 0, c: int = 0) -> np.ndarray:
        """The gather index of the filter producing phase ``r`` of output ``o`` from input channel ``c``.

        Built from the one-channel bank and offset to ``w[g·C_in/groups + c, o_local]``, so it
        costs ``O(P·Π k')`` whatever the channel counts.
        """
        one = weight_gather_index(self.spec.replace(in_channels=1, out_channels=1, groups=1), self.layout)
        local = one[phase_index(phase, self.spec.stride), 0]
        cin_g, cout_g = self.spec.in_channels // self.groups, self.spec.out_channels // self.groups
        g, o_local = divmod(o, cout_g)
        base = ((g * cin_g + c) * cout_g + o_local) * self.spec.taps
        return np.where(local >= 0, local + base, -1)

    @property
    def skipped_blocks(self) -> tuple[int, ...]:
        """Per axis ``⌊p_left/s⌋``: leading blocks the crop would discard entirely, never computed."""
        return tuple(p // s for (p, _), s in zip(self.spec.padding, self.spec.stride))

    @property
    def crop_start(self) -> tuple[int, ...]:
        """Per axis ``p_left mod s``: where the output starts after depth-to-space."""
        return tuple(p % s for (p, _), s in zip(self.spec.padding, self.spec.stride))

    @property
    def input_left_padding(self) -> tuple[int, ...]:
        """Per axis ``k' − 1 − ⌊p_left/s⌋`` zeros before the input (negative: samples trimmed)."""
        return tuple(k - 1 - a for k, a in zip(self.kernel, self.skipped_blocks))

    def geometry(self, size: Any = None) -> tuple[TransposedAxis, ...]:
        """Per axis: output size, skipped and computed blocks, crop and input padding for ``size``."""
        return transposed_geometry(self.spec, default_transposed_size(self.spec) if size is None else size)

    # -- the entry formula ----------------------------------------------------------------------
    @cached_property
    def channel_expr(self) -> sp.Expr:
        """The equivalent output channel of output channel ``o`` and phase ``r``."""
        (o,) = self.index_symbols["o"]
        if not self.layer.channel_indexed:
            return self.phase_expr
        if self.layout == "pytorch":
            return sp.Add(self.phases * o, *self._phase_terms(), evaluate=False)
        return sp.Add(*(self.spec.out_channels * t for t in self._phase_terms()), o, evaluate=False)

    @cached_property
    def formula_lhs(self) -> sp.Indexed:
        """``W'[chan(o, φ(r)), c, j]`` (``W'[φ(r), j]`` for a one-channel layer)."""
        (c,) = self.index_symbols["c"]
        idx = (self.channel_expr, c) if self.layer.channel_indexed else (self.channel_expr,)
        return sp.IndexedBase("W'")[(*idx, *self.index_symbols["j"])]

    @cached_property
    def formula(self) -> sp.Expr:
        """``w[c, o, (s·(k'−1−j) + r)/δ]`` where that is a tap, else 0 (a Piecewise).

        With groups the weight's first index is the global input channel of ``o``'s group,
        its second ``o`` within the group.
        """
        (o,), (c,) = self.index_symbols["o"], self.index_symbols["c"]
        reaches = []
        for r, j, s, kq in zip(self.index_symbols["r"], self.index_symbols["j"], self.spec.stride, self.kernel):
            if kq > 1:  # s·q with the delay q = k' − 1 − j, as written
                delay = sp.Add(kq - 1, -j, evaluate=False)
                shifted = sp.Mul(s, delay, evaluate=False) if s > 1 else delay
            else:  # k' = 1: q = −j (and j = 0)
                shifted = -s * j
            reaches.append(sp.Add(shifted, r, evaluate=False))
        if self.groups == 1:
            return self._entry_formula(reaches, lambda taps: self.layer.weight(c, o, taps))
        cout_g, cin_g = self.spec.out_channels // self.groups, self.spec.in_channels // self.groups
        group = sp.floor(o / cout_g)
        return self._entry_formula(reaches, lambda taps: self.layer.weight(group * cin_g + c, o - group * cout_g, taps))

    # -- checks ---------------------------------------------------------------------------------
    def verify(self, size: Any = None) -> VerifyReport:
        """Decide the sub-pixel identity exactly on an input of spatial ``size`` (default small)."""
        size = default_transposed_size(self.spec) if size is None else size
        return verify_transposed_taps(self.spec, self.taps, size, kernel=self.kernel, layout=self.layout)

    def verify_adjoint(self, size: Any = None, *, method: str = "auto") -> VerifyReport:
        """Decide ``⟨Conv_s x, y⟩ = ⟨x, ConvT_s y⟩`` exactly (see :func:`~symstride.algebra.operator_checks.verify_adjoint`)."""
        size = default_transposed_size(self.spec) if size is None else size
        return verify_adjoint(self.spec, size, method=method)

    @cached_property
    def derivation(self) -> "Derivation":
        """The sub-pixel theorem for this layer, step by step (:mod:`symstride.proof.subpixel`).

        ``eq.derivation.check()`` checks every step exactly and in float64 against
        :func:`symstride.reference.convolution.conv_transpose`; ``eq.derivation.latex()`` renders it.
        """
        from ..proof.subpixel import subpixel_derivation

        return subpixel_derivation(self, blocks=[FilterBank(self)])

    # -- export and display -----------------------------------------------------------------------
    def to_json(self, *, taps: bool = True) -> dict[str, Any]:
        """The equivalence as the JSON document of ``symstride derive --transposed --format json``
        (``taps=False``: with an empty tap list, for writers that stream the taps themselves)."""
        spec = self.spec
        return {
            "transposed": True,
            "kernel": list(spec.kernel),
            "stride": list(spec.stride),
            "dilation": list(spec.dilation),
            "padding": [list(p) for p in spec.padding],
            "output_padding": list(spec.output_padding),
            "in_channels": spec.in_channels,
            "out_channels": spec.out_channels,
            "groups": self.groups,
            "layout": self.layout,
            "channel_order": LAYOUTS[self.layout] + "; depth-to-space inverts it",
            "phases": self.phases,
            "equivalent_kernel": list(self.kernel),
            "equivalent_out_channels": self.out_channels,
            "taps_meaning": (
                "W'[chan(o, φ(phase)), c, *offset] = w[c, o, *tap]: output t with t + p_left = s·a + phase "
                "receives w[c, o, tap]·x[c, a − delay], delay = k' − 1 − offset"
            ),
            "taps": [
                {"tap": list(t.tap), "phase": list(t.phase), "offset": list(t.offset),
                 "delay": [k - 1 - j for k, j in zip(self.kernel, t.offset)]}
                for t in self.taps
            ] if taps else [],
            "input_left_padding": list(self.input_left_padding),
            "skipped_blocks": list(self.skipped_blocks),
            "crop_start": list(self.crop_start),
            "structural_zeros": self.structural_zeros,
            "live_phases": [list(r) for r in self.live_phases],
            "formula": {"latex": self.formula_latex(), "text": self.formula_text()},
        }

    def latex(self, size: Any = None) -> str:
        """The sub-pixel theorem for this layer as a LaTeX fragment: the checked :attr:`derivation`
        (statement, chain, checks, filter bank and figure), then the whole-layer exact checks
        (:meth:`verify`, :meth:`verify_adjoint`) on an input of ``size``."""
        from ..render.templates import render_template

        return render_template(
            "transposed.tex", eq=self, derivation=self.derivation.latex(),
            report=self.verify(size), adjoint=self.verify_adjoint(size),
        )

    def document(self, size: Any = None) -> str:
        """:meth:`latex` as a standalone document (``symstride derive --transposed --format latex``)."""
        from ..render.templates import render_template

        return render_template("document.tex", title=f"Sub-pixel form of a {self.spec.describe()}", body=self.latex(size))

    def __repr__(self) -> str:  # one line, evaluable with symstride's names imported
        return f"destride({self.layer!r}, layout={self.layout!r})"

    def __str__(self) -> str:
        from .report import transposed_text

        return transposed_text(self)

    def _repr_latex_(self) -> str:
        from ..render.templates import render_template

        return render_template("equivalence_transposed_inline.tex", eq=self).strip()

    def _latex(self, printer: Any) -> str:
        """``sympy.latex(eq)``: the equivalence as one formula (not the text report)."""
        return self._repr_latex_().removeprefix("$\\displaystyle").removesuffix("$").strip()


class AdjointTensors:
    """``⟨Conv_s x, y⟩ = ⟨x, ConvT_s y⟩`` on the convolution tensors of one small layer (a book part).

    The transposed layer's tensor ``T`` (built from its scatter definition) and the strided
    convolution's tensor ``A`` (Theorem 2's layer, same weight symbols) are SymPy matrices;
    :meth:`check` decides ``T = Aᵀ`` entry by entry and expands the bilinear identity with
    symbolic ``x`` and ``y``; the exact decision of :meth:`TransposedEquivalence.verify_adjoint`
    is reported beside it.
    """

    def __init__(self, layer: ConvTranspose, size: Any) -> None:
        self.layer = layer
        self.size = input_size(layer.spec, size)
        self.out_size = layer.output_shape(self.size)
        self.T = layer.matrix(self.size)
        self.A = layer.adjoint().matrix(self.out_size)
        self.x = sp.Matrix(sp.symbols(f"x_0:{self.A.cols}"))
        self.y = sp.Matrix(sp.symbols(f"y_0:{self.T.cols}"))

    def bilinear_gap(self) -> sp.Expr:
        """``⟨A x, y⟩ − ⟨x, T y⟩`` expanded: 0 exactly when the identity holds for every x, y, w."""
        return sp.expand((self.A * self.x).dot(self.y) - self.x.dot(self.T * self.y))

    def check(self) -> Any:
        from ..proof.rules import Outcome

        if self.A.shape[::-1] != self.T.shape:
            return Outcome(False, f"the tensors have shapes {self.A.shape} and {self.T.shape}, not transposes", "SymPy")
        for (i, j), entry in np.ndenumerate(np.array(self.T.tolist(), dtype=object)):
            if sp.expand(entry - self.A[j, i]) != 0:
                return Outcome(False, f"T[{i}, {j}] = {entry} but A[{j}, {i}] = {self.A[j, i]}", "SymPy")
        gap = self.bilinear_gap()
        if gap != 0:
            return Outcome(False, f"⟨Conv_s x, y⟩ − ⟨x, ConvT_s y⟩ = {gap}", "SymPy")
        report = verify_adjoint(self.layer.spec, self.size, method="matrix")
        if not report.exact:
            return Outcome(False, str(report.mismatch), "matrix")
        return Outcome(True, f"T = A^T entry by entry ({self.T.rows}×{self.T.cols}) and ⟨A x, y⟩ − ⟨x, T y⟩ expands to 0; "
                             f"verify_adjoint agrees", "SymPy")

    def latex_block(self, notation: Any = None) -> str:
        from ..render.templates import render_template

        return render_template("adjoint.tex", adj=self, report=self.check())

    def text_block(self) -> str:
        outcome = self.check()
        return (f"adjoint of {self.layer.spec.describe()} on N = {self.size}: T is {self.T.rows}×{self.T.cols}, "
                f"A is {self.A.rows}×{self.A.cols}; {'ok' if outcome.ok else 'FAILED'}: {outcome.detail}")

    def __repr__(self) -> str:
        return self.text_block()
