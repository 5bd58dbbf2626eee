"""Benchmark: a REPL session with symstride against a bare ``import sympy`` (issue 3).

The session imports symstride, derives the 2-D 3×3 stride-2 padded layer (the ResNet
downsampling layer), checks its derivation and renders its LaTeX.  Both run as whole Python
processes, alternately, in the same run; the figure is the ratio of the median wall times.
The target is at most 2.5.

    python benchmarks/repl_session.py [--repeat 7] [--target 2.5]

Exit status 1 when the ratio exceeds the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SESSION = """
import symstride
from symstride import Conv, destride
eq = destride(Conv(kernel=(3, 3), stride=2, padding=1))
report = eq.derivation.check()
assert report.ok, report.failure
tex = eq.derivation.latex()
assert "\\\\begin{align*}" in tex
"""

BASELINE = "import sympy"


def run(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each process (default 7)")
    parser.add_argument("--target", type=float, default=2.5, help="largest acceptable ratio (default 2.5)")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    run(BASELINE, env)  # warm the file cache for both
    run(SESSION, env)
    session, baseline = [], []
    for _ in range(args.repeat):  # alternate, so that both see the same machine load
        baseline.append(run(BASELINE, env))
        session.append(run(SESSION, env))
    b, s = statistics.median(baseline), statistics.median(session)
    ratio = s / b
    print(f"python -c 'import sympy'              median {b:.3f} s  (runs: {', '.join(f'{t:.2f}' for t in baseline)})")
    print(f"symstride session (derive+check+LaTeX) median {s:.3f} s  (runs: {', '.join(f'{t:.2f}' for t in session)})")
    print(f"ratio {ratio:.2f} (target ≤ {args.target})")
    return 0 if ratio <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
