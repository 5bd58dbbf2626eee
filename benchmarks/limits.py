"""The advertised limits, measured (issue 13 item 6): time and peak memory of large requests.

Every request runs in its own process (``symstride.cli.main``), which reports its peak
resident memory; the parent measures the wall time.  Baselines measured in the same run:
starting the CLI (``symstride --version``) and ``json.loads`` of the same tap map — what any
reader of that file pays at least.  Refusals must come up front: exit 2, one line naming the
figure, in about the time of starting the CLI.

    python benchmarks/limits.py            # 600×600 kernel (360,000 taps): under a minute
    python benchmarks/limits.py --kernel 3000   # the issue's 9·10^6 taps (minutes, ~2 GB)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Runs the CLI (or ``json.loads`` of a file) and prints the peak RSS in MB on the last stderr line.
CHILD = r"""
import resource, sys
sys.path.insert(0, {root!r})
status = 0
if sys.argv[1] == "json.loads":
    import json
    json.loads(open(sys.argv[2], "rb").read())
elif sys.argv[1] == "duplicated":  # written here, so that the parent stays small (a child inherits its peak)
    import json
    sys.path.insert(0, {root!r})
    from symstride import Conv, destride
    doc = destride(Conv(kernel=3, stride=2)).to_json()
    doc["taps"] = doc["taps"] * (int(sys.argv[3]) // 3)
    open(sys.argv[2], "w").write(json.dumps(doc, indent=2))
else:
    from symstride.cli import main
    status = main(sys.argv[1:])
print(f"peak-rss-mb {{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}}", file=sys.stderr)
sys.exit(status)
"""


def run(*args: str) -> dict:
    """Wall time, peak RSS, exit status and the first stderr line of one request in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    rss = float(lines[-1].split()[1]) if lines and lines[-1].startswith("peak-rss-mb") else float("nan")
    message = next((line for line in lines if not line.startswith("peak-rss-mb")), proc.stdout.strip()[:160])
    return {"seconds": seconds, "rss_mb": rss, "status": proc.returncode, "message": message}


def show(name: str, result: dict, baseline: dict | None = None, start: dict | None = None) -> None:
    """One line of figures; with a baseline, the ratio (net of the CLI start when ``start`` is given)."""
    ratio = ""
    if baseline:
        net = result["seconds"] - (start["seconds"] if start else 0.0)
        ratio = f"  ({net / baseline['seconds']:.2f}× {baseline['name']}{', net of CLI start' if start else ''})"
    print(f"{name:52s} {result['seconds']:7.2f} s {result['rss_mb']:7.0f} MB  exit {result['status']}{ratio}")
    if result["message"]:
        print(f"    {result['message'][:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", type=int, default=600, help="K for derive --kernel K,K --format json (default 600)")
    parser.add_argument("--duplicates", type=int, default=600_000, help="taps in the duplicated map (default 600000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = dict(run("--version"), name="CLI start")
        show("symstride --version (baseline: CLI start)", start)

        big = tmp / "big.json"
        k = args.kernel
        show(f"derive --kernel {k},{k} --format json ({k * k} taps)",
             run("derive", "--kernel", f"{k},{k}", "--format", "json", "-o", str(big)))
        print(f"    {big.stat().st_size / 1e6:.0f} MB of JSON")
        loads = dict(run("json.loads", str(big)), name="json.loads")
        show("json.loads of that file (baseline: reading it)", loads)
        show("check --mapping on it", run("check", "--mapping", str(big)), loads, start)

        dup = tmp / "duplicated.json"
        run("duplicated", str(dup), str(args.duplicates))
        n = args.duplicates // 3 * 3
        dup_loads = dict(run("json.loads", str(dup)), name="json.loads")
        show(f"json.loads of {n} duplicated taps (baseline)", dup_loads)
        show(f"check on {n} duplicated taps", run("check", str(dup)), dup_loads, start)

        show("derive --in-channels 30000 --out-channels 30000", run(
            "derive", "--kernel", "3", "--stride", "2", "--in-channels", "30000", "--out-channels", "30000"), start)
        for name, spec in (
            ('network: "padding": 100000 on 16×16', {"input": {"channels": 1, "size": [16, 16]}, "layers": [
                {"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 100000}]}),
            ("network: size [10**9]", {"input": {"channels": 1, "size": [10**9]}, "layers": [
                {"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2}]}),
        ):
            path = tmp / "spec.json"
            path.write_text(json.dumps(spec))
            show(name, run("network", str(path)), start)


if __name__ == "__main__":
    main()
