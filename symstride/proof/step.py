"""The lines of a derivation and the grid they are checked on.

A :class:`Step` is one line ``e_i`` of a :class:`~symstride.proof.derivation.Derivation` with the
rule that claims ``e_{i−1} = e_i``; a :class:`Grid` is the parameter values (and output domain)
on which every line is evaluated exactly; :func:`instance_oracle` wraps a per-instance NumPy
function as the float64 oracle of a derivation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from ..algebra.frames import Frame
from ..render.printing import Notation
from .rules import SideCondition, rule

__all__ = ["Step", "Grid", "instance_oracle"]


@dataclass(frozen=True)
class Step:
    """One line of a derivation and why it equals the previous one.

    ``expr`` is the line; ``rule`` names a rule of :data:`symstride.proof.rules.RULES`; ``why`` is the
    one-line justification as a sequence of prose strings and SymPy objects (printed as inline
    math); ``conditions`` are :class:`~symstride.proof.rules.SideCondition`\\ s and ``instances`` the
    rule's concrete claims (``Partition``, ``Bijection``, ``SameSet``), each checked on the grid;
    a ``Bijection`` also gives the symbolic checker the change of variables (forward and back).
    ``unfold`` names the defined signals the step unfolds (by default: those read by one of the
    two lines only); ``witnesses`` gives the value of a summation variable the step eliminates
    when no equation of its guard states it (e.g. ``r: (t + p) mod s``).  ``product`` is the
    :class:`~symstride.proof.products.AxisProduct` of a step citing ``separable-product``.
    """

    expr: Any
    rule: str
    why: tuple = ()
    conditions: tuple[SideCondition, ...] = ()
    instances: tuple[Any, ...] = ()
    unfold: tuple[str, ...] | None = None
    witnesses: Mapping[Any, Any] | None = None
    product: Any = None

    def __post_init__(self) -> None:
        rule(self.rule)  # an unknown rule name fails here, listing the valid ones
        if isinstance(self.why, str):
            object.__setattr__(self, "why", (self.why,))

    @property
    def title(self) -> str:
        return rule(self.rule).title

    @property
    def label(self) -> str:
        return rule(self.rule).label

    def why_text(self, notation: Notation | None = None) -> str:
        notation = notation or Notation()
        return "".join(p if isinstance(p, str) else notation.text(p) for p in self.why)


@dataclass(frozen=True)
class Grid:
    """Where a derivation is checked: parameter ``values``, ``constraints`` and the output ``domain``.

    ``values`` maps each parameter symbol to the values it takes (every combination satisfying
    the constraints is an instance); ``domain`` lists the free output indices with their
    bounds, e.g. ``[(n, 0, N_out − 1)]``.
    """

    values: Mapping[sp.Symbol, Sequence[int]]
    domain: tuple[tuple[sp.Symbol, Any, Any], ...] = ()
    constraints: tuple[Any, ...] = ()

    @cached_property
    def frame(self) -> Frame:
        return Frame.grid(self.values, self.domain, self.constraints)

    @cached_property
    def parameter_frame(self) -> Frame:
        return Frame.grid(self.values, (), self.constraints)

    def describe_pieces(self) -> tuple:
        """The parameter values as prose pieces (symbols as math)."""
        pieces: list[Any] = []
        for p, vals in self.values.items():
            vals = list(vals)
            if pieces:
                pieces.append(", ")
            if len(vals) == 1:
                pieces += [p, f" = {vals[0]}"]
            elif vals == list(range(vals[0], vals[-1] + 1)):
                pieces += [p, f" ∈ {{{vals[0]}, …, {vals[-1]}}}"]
            else:
                pieces += [p, f" ∈ {{{', '.join(map(str, vals))}}}"]
        return tuple(pieces)

    def describe(self) -> str:
        from ..render.printing import text

        return "".join(p if isinstance(p, str) else text(p) for p in self.describe_pieces())


def instance_oracle(fn: Callable[[dict[str, int], int], np.ndarray]) -> Callable[[Frame, int], np.ndarray]:
    """Turn ``fn(parameters, seed) -> output array`` (indexed by the output indices) into an oracle on frames."""

    def oracle(frame: Frame, seed: int) -> np.ndarray:
        out = np.empty(frame.size, dtype=np.float64)
        names = [str(p) for p in frame.parameters]
        starts = np.searchsorted(frame.instance, np.arange(frame.instances + 1))
        for inst in range(frame.instances):
            rows = np.arange(starts[inst], starts[inst + 1])
            params = {name: int(frame.columns[p][rows[0]]) for name, p in zip(names, frame.parameters)}
            values = np.asarray(fn(params, seed))
            out[rows] = values[tuple(frame.columns[v][rows] for v in frame.outputs)]
        return out

    return oracle
