"""Exact verification of Theorem 2: symstride's structural ``verify`` vs the naive SymPy approach.

The naive approach is what a user would write today: build every output entry of both sides as a
SymPy expression in symbolic weights and inputs, expand the difference, and test it for zero.
Both are timed in the same run; the script prints the times and their ratios.

    python benchmarks/verify.py            # targets: ≥100× at 24×24; 224×224 faster than naive 24×24
"""

from __future__ import annotations

import itertools
import sys
import time
from math import prod

import sympy as sp

from symstride import Conv, destride
from symstride.core.indexing import equivalent_kernel, output_shape


def naive_verify(layer: Conv, size: tuple[int, ...]) -> bool:
    """Expand both sides of Theorem 2 with SymPy and compare every output entry."""
    spec = layer.spec
    eq = destride(layer)
    x = sp.IndexedBase("x")
    n_out = output_shape(spec, size)
    kq = equivalent_kernel(spec)
    cin_g = spec.in_channels // spec.groups

    def xpad(c, pos):  # zero padding
        q = [p_ - pl for p_, (pl, _) in zip(pos, spec.padding)]
        return x[(c, *q)] if all(0 <= v < n for v, n in zip(q, size)) else sp.S.Zero

    def z(ch, a):  # the prepared input: pad, trim/extend, space-to-depth
        c, flat = divmod(ch, eq.phases)
        r = []
        for s_ in reversed(spec.stride):
            flat, rr = divmod(flat, s_)
            r.append(rr)
        r = r[::-1]
        pos = [s_ * aa + rr for aa, s_, rr in zip(a, spec.stride, r)]
        limit = [s_ * (n + k - 1) for n, k, s_ in zip(n_out, kq, spec.stride)]
        return xpad(c, pos) if all(p_ < L for p_, L in zip(pos, limit)) else sp.S.Zero

    filters = eq.filters
    for o in range(spec.out_channels):
        for i in itertools.product(*map(range, n_out)):
            strided = sp.Add(*[
                layer.weight(o, c, m) * xpad(c, [s_ * ii + d * mm for ii, mm, s_, d in zip(i, m, spec.stride, spec.dilation)])
                for c in range(cin_g) for m in itertools.product(*map(range, spec.kernel))
            ])
            unit = sp.Add(*[
                filters[(o, ch, *j)] * z(ch, [ii + jj for ii, jj in zip(i, j)])
                for ch in range(cin_g * eq.phases) for j in itertools.product(*map(range, kq))
            ])
            if sp.expand(strided - unit) != 0:
                return False
    return True


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        assert result, "the identity must hold"
    return min(times)


def main() -> int:
    small = Conv((3, 3), 2, padding=1, in_channels=2, out_channels=2)
    big = Conv((3, 3), 2, padding=1, in_channels=64, out_channels=128)
    t_naive = best_of(lambda: naive_verify(small, (24, 24)), 1)
    t_small = best_of(lambda: destride(small).verify(size=(24, 24)).exact, 5)
    t_big = best_of(lambda: destride(big).verify(size=(224, 224)).exact, 3)
    print(f"{'case':<52}{'seconds':>12}{'ratio':>12}")
    print(f"{'naive SymPy expansion, 24×24, 2→2, k=3, s=2, p=1':<52}{t_naive:>12.4f}{'1.0':>12}")
    print(f"{'symstride verify,      24×24, 2→2, k=3, s=2, p=1':<52}{t_small:>12.4f}{t_naive / t_small:>11.0f}×")
    print(f"{'symstride verify,    224×224, 64→128, k=3, s=2, p=1':<52}{t_big:>12.4f}{t_naive / t_big:>11.1f}×")
    ok = t_naive / t_small >= 100 and t_big < t_naive
    print("targets (≥100× at 24×24; 224×224 faster than naive 24×24):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
