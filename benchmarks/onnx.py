"""Cost of stride-free ONNX models in onnxruntime: original vs ``symstride onnx`` rewrite, in one run.

Run from the repository root::

    PYTHONPATH=. python benchmarks/onnx.py [--runs 20] [--size 224]

Models (random weights, float32, batch 1, nothing downloaded), exported with ``torch.onnx.export``:
torchvision ResNet-18 and MobileNetV2 at ``size×size``, and a DCGAN-style decoder of transposed
convolutions (4×4 → 64×64).  Each is rewritten with ``--layout dcr`` and ``--layout crd``.
onnxruntime runs on the CPU with one intra-op and one inter-op thread.  Every time is the median of
``--runs`` runs that alternate between the original (the baseline, measured in the same run) and its
rewrites, so that load from other processes falls on all of them alike; the ratio is rewrite time
over baseline time.  The models agree with their originals (max |Δ| printed).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

# this file is named onnx.py: keep its folder off the import path so that `import onnx` finds the package
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from symstride.onnx import destride_onnx, strided_nodes  # noqa: E402
from symstride.onnx.check import random_inputs, session  # noqa: E402
from tests.onnx_models import export  # noqa: E402
from tests.torchvision_support import torchvision  # noqa: E402


def decoder() -> nn.Module:
    """DCGAN generator body: 4×4 stride-2 transposed convolutions, 4×4 → 64×64."""
    layers, channels = [], [256, 128, 64, 32]
    for cin, cout in zip(channels, channels[1:]):
        layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    layers += [nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def models(size: int) -> dict[str, tuple[nn.Module, tuple[int, ...]]]:
    return {
        "ResNet-18": (torchvision.models.resnet18(weights=None), (1, 3, size, size)),
        "MobileNetV2": (torchvision.models.mobilenet_v2(weights=None), (1, 3, size, size)),
        "DCGAN decoder": (decoder(), (1, 256, 4, 4)),
    }


def timed(sessions: dict[str, object], feed: dict[str, np.ndarray], runs: int) -> dict[str, float]:
    """Median seconds per run of each session, runs interleaved (one warm-up each)."""
    times: dict[str, list[float]] = {k: [] for k in sessions}
    for s in sessions.values():
        s.run(None, feed)
    for _ in range(runs):
        for k, s in sessions.items():
            t0 = time.perf_counter()
            s.run(None, feed)
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per variant (default 20)")
    parser.add_argument("--size", type=int, default=224, help="input size of the classifiers (default 224)")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    print(f"onnxruntime {onnxruntime.__version__}, CPU, 1 thread; torch {torch.__version__}; {platform.machine()}; "
          f"median of {args.runs} interleaved runs; ratio = rewrite / original (same run)")
    print(f"{'model':<15} {'strided':>7} {'original':>10} {'dcr':>10} {'ratio':>6} {'crd':>10} {'ratio':>6}  max |Δ|")
    for name, (module, shape) in models(args.size).items():
        original = export(module.eval(), torch.randn(shape), dynamo=True)
        variants = {"original": original, "dcr": destride_onnx(original, layout="dcr"), "crd": destride_onnx(original, layout="crd")}
        sessions = {k: session(m) for k, m in variants.items()}
        feed = random_inputs(original, seed=0)
        outs = {k: s.run(None, feed)[0] for k, s in sessions.items()}
        delta = max(float(np.abs(outs[k] - outs["original"]).max()) for k in ("dcr", "crd"))
        t = timed(sessions, feed, args.runs)
        print(f"{name:<15} {len(strided_nodes(original)):>7} {t['original'] * 1e3:>8.2f}ms {t['dcr'] * 1e3:>8.2f}ms "
              f"{t['dcr'] / t['original']:>6.2f} {t['crd'] * 1e3:>8.2f}ms {t['crd'] / t['original']:>6.2f}  {delta:.2g}")


if __name__ == "__main__":
    main()
