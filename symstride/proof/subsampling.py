"""Theorem 1 as a derivation: a strided convolution is a unit-stride convolution, subsampled.

    y[n] = Σ_m w[m] x̃[s n + δ m]      definition
         = u[s n]                      u = Conv_1(x̃; w), read at t = s·n
         = (D_s u)[n]                  the definition of the subsampling D_s

For a concrete layer the derivation also carries the operator form, checked exactly: the
convolution tensor of the strided layer is the 0/1 selection matrix of ``D_s`` times the
(Toeplitz) convolution tensor of the unit-stride layer (:class:`TensorIdentity`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy as sp

from .derivation import Derivation
from .step import Step
from ..algebra.lines import add, ceil_div
from ..render.printing import Display, OperatorName
from .rules import Outcome
from .signals import LayerSignals, sub
from ..algebra.expansion import Definition

if TYPE_CHECKING:  # pragma: no cover
    from ..algebra.operators import Conv

__all__ = ["subsampling_derivation", "subsampling_proof", "TensorIdentity"]


def _chain(ch: LayerSignals) -> tuple[sp.Indexed, list[Step], list[Definition]]:
    lhs, _ = ch.strided_sum()
    v = sp.IndexedBase("Du")
    n = [ax.n for ax in ch.axes]
    line = ch.Y(ch.o, n, v)
    body = ch.Y(ch.o, [sp.Mul(ax.s, ax.n, evaluate=False) if not (isinstance(ax.s, int) and ax.s == 1) else ax.n for ax in ch.axes], ch.u)
    dom = ([(ch.o, 0, ch.cout - 1)] if ch.channels else []) + [(ax.n, 0, add(ceil_div(ax.unit_length, ax.s), -1)) for ax in ch.axes]
    subsample = Definition(line, body, tuple(dom), note="the subsampled unit-stride output")
    op = OperatorName("D", sub([ax.s for ax in ch.axes]))
    steps = [
        ch.definition_step(),
        ch.subsampling_step(rule="unfold"),
        Step(line, "unfold", ("the subsampling ", op, " keeps the samples at multiples of the stride: ", sp.Eq(line, body, evaluate=False))),
    ]
    return lhs, steps, ch.base_definitions() + [subsample]


def _notation(ch: LayerSignals) -> Any:
    base = ch.notation()
    s = sub([ax.s for ax in ch.axes])
    latex_names = {**base.latex_names, "Du": r"(D_{%s} u)" % s}
    text_names = {**base.text_names, "Du": f"(D_{s} u)"}
    return type(base)({**base.brackets, "Du": 0}, latex_names, text_names)


class TensorIdentity:
    """``T_s = S_s · T_1`` on convolution tensors (explicit SymPy matrices), for small input sizes."""

    def __init__(self, layer: "Conv", sizes: list[int]) -> None:
        self.layer = layer
        self.unit = layer.unit_stride()
        self.sizes = sizes

    def _parts(self, size: int) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
        from ..algebra.resampling import Subsample

        unit_out = self.unit.output_shape(size)
        return self.layer.matrix(size), Subsample(self.layer.stride).matrix(unit_out, self.layer.out_channels), self.unit.matrix(size)

    def check(self) -> Outcome:
        from ..algebra.operator_checks import verify_subsampling

        for size in self.sizes:
            strided, select, unit = self._parts(size)
            if strided != select * unit:
                return Outcome(False, f"the convolution tensors differ at input size {size}", "SymPy matrices")
            report = verify_subsampling(self.layer.spec, size)
            if not report.exact:
                return Outcome(False, str(report.mismatch), "index analysis")
        return Outcome(
            True,
            f"the convolution tensors satisfy T_s = S_s T_1 exactly for input sizes {', '.join(map(str, self.sizes))} "
            "(SymPy matrices, and verify_subsampling's exact index analysis)",
            "exact",
        )

    def display(self) -> dict[str, Any] | None:
        """The three matrices for the smallest size (1-D, one channel), or None when too wide."""
        if self.layer.ndim != 1 or self.layer.channel_indexed:
            return None
        size = self.sizes[0]
        strided, select, unit = self._parts(size)
        if unit.cols > 12:
            return None
        return {"size": size, "strided": strided, "select": select, "unit": unit, "s": self.layer.stride[0]}

    def latex_block(self, notation: Any = None) -> str:
        from ..render.templates import render_template

        return render_template("tensor_identity.tex", identity=self, shown=self.display())

    def text_block(self) -> str:
        shown = self.display()
        if shown is None:
            return "convolution tensors: T_s = S_s · T_1 (checked on the sizes above)"
        rows = [f"convolution tensors at input size {shown['size']}: T_s = S_s · T_1"]
        for name, m in (("T_s", shown["strided"]), ("S_s", shown["select"]), ("T_1", shown["unit"])):
            rows.append(f"  {name} = {m.tolist()}")
        return "\n".join(rows)


def subsampling_derivation(layer: "Conv") -> Derivation:
    """Theorem 1 for a concrete layer: the chain, and the operator identity on convolution tensors."""
    spec = layer.spec
    ch = LayerSignals.concrete(spec, channel_indexed=layer.channel_indexed)
    lhs, steps, defs = _chain(ch)
    grid = ch.concrete_grid()
    per_axis = list(grid.values.values())
    s = sub(spec.stride)
    y_, u_ = sp.symbols("y u")
    statement = [
        f"Let y be the strided convolution ({spec.describe()}) and u the same layer with unit stride. Then",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        "that is, ", sp.Eq(y_, sp.Mul(OperatorName("D", s), u_, evaluate=False), evaluate=False),
        ": striding is subsampling after a unit-stride convolution.",
    ]
    tensors = TensorIdentity(layer, per_axis[0][-3:] if spec.ndim == 1 else [tuple(v[-1] for v in per_axis)])
    return ch.derivation(
        f"A stride-{s} convolution is a unit-stride convolution followed by subsampling", lhs, steps, defs, grid,
        theorem="Theorem 1, stride as subsampling", statement=statement, notation=_notation(ch), blocks=[tensors],
        name="stride-as-subsampling",
    )


#: Parameter values of the exhaustive check of the symbolic proof (1-D).
PROOF_GRID = {"s": range(1, 5), "k": range(1, 8), "d": range(1, 4), "p": range(0, 4), "N": range(1, 13)}


def subsampling_proof(*, grid: dict | None = None) -> Derivation:
    """Theorem 1 for symbolic stride, kernel, dilation and padding (1-D, one channel pair)."""
    ch = LayerSignals.symbolic(1)
    lhs, steps, defs = _chain(ch)
    statement = [
        "For all positive integers s, k, δ, N and every p ≥ 0 with N + 2p ≥ δ(k − 1) + 1, the strided convolution",
        Display(sp.Eq(lhs, steps[0].expr, evaluate=False)),
        "is the unit-stride convolution u, subsampled by s:",
        Display(sp.Eq(lhs, steps[-1].expr, evaluate=False)),
        "and both have the same length ⌊(N + 2p − δ(k − 1) − 1)/s⌋ + 1 = ⌈(N + 2p − δ(k − 1))/s⌉.",
    ]
    return ch.derivation(
        "Striding is subsampling (symbolic parameters)", lhs, steps, defs, ch.proof_grid(grid or PROOF_GRID),
        theorem="Theorem 1, stride as subsampling", statement=statement, notation=_notation(ch), name="stride-as-subsampling",
    )
