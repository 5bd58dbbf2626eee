"""Cost of stride-free models: torchvision families, original vs converted by symstride, both modes.

Run from the repository root::

    PYTHONPATH=. python benchmarks/models.py                        # default families, < ~2 minutes
    PYTHONPATH=. python benchmarks/models.py --families resnet18,dcgan --size 224 --runs 7
    PYTHONPATH=. python benchmarks/models.py --all --size 64        # every family (minutes)

Every model is built here with random weights (torchvision ``weights=None``: nothing is
downloaded), in eval mode, float32, batch 1, on the CPU with one thread (``--threads``).  Each
conversion (``destride_model`` in ``mode="layer"`` and ``mode="network"``, checked against the
original) is timed once; forward times are medians of runs that alternate between the original
and its conversions, so that load from other processes falls on all of them alike, and every
ratio is to the original measured in the same run (wall time, and process CPU time, which is
the steadier figure on a loaded machine).  MACs are the multiply-accumulates PyTorch
executes (``torch.utils.flop_counter``: convolutions and matrix products, FLOPs / 2), so a form
that multiplies structural zeros shows them.  Parameters are counted with buffers beside them.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from symstride.core.errors import SymstrideError
from symstride.torch import destride_model

MODES = ("layer", "network")


def dcgan_generator(latent: int = 100, width: int = 64) -> nn.Module:
    """The DCGAN generator (Radford et al. 2016): 1×1 latent → 64×64 RGB, four stride-2 transposed convolutions."""
    layers: list[nn.Module] = []
    channels = [latent, width * 8, width * 4, width * 2, width]
    for i, (cin, cout) in enumerate(zip(channels, channels[1:])):
        layers += [nn.ConvTranspose2d(cin, cout, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*layers, nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False), nn.Tanh())


def _torchvision(name: str, **kwargs) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from tests.torchvision_support import load_torchvision  # the CPU build of torch: see that module

        return getattr(load_torchvision().models, name)(weights=None, **kwargs)
    return build


#: name → (builder, input shape without batch given the image size, affordable default size)
FAMILIES: dict[str, tuple[Callable[[], nn.Module], Callable[[int], tuple[int, ...]], int]] = {
    "resnet18": (_torchvision("resnet18"), lambda n: (3, n, n), 224),
    "resnet50": (_torchvision("resnet50"), lambda n: (3, n, n), 224),
    "mobilenet_v2": (_torchvision("mobilenet_v2"), lambda n: (3, n, n), 224),
    "mobilenet_v3_small": (_torchvision("mobilenet_v3_small"), lambda n: (3, n, n), 224),
    "efficientnet_b0": (_torchvision("efficientnet_b0"), lambda n: (3, n, n), 224),
    "regnet_y_400mf": (_torchvision("regnet_y_400mf"), lambda n: (3, n, n), 224),
    "shufflenet_v2_x1_0": (_torchvision("shufflenet_v2_x1_0"), lambda n: (3, n, n), 224),
    "squeezenet1_0": (_torchvision("squeezenet1_0"), lambda n: (3, n, n), 224),
    "densenet121": (_torchvision("densenet121"), lambda n: (3, n, n), 224),
    "alexnet": (_torchvision("alexnet"), lambda n: (3, n, n), 224),
    "vgg11": (_torchvision("vgg11"), lambda n: (3, n, n), 224),
    "googlenet": (_torchvision("googlenet", aux_logits=False, init_weights=True), lambda n: (3, n, n), 224),
    "convnext_tiny": (_torchvision("convnext_tiny"), lambda n: (3, n, n), 224),
    "mnasnet0_5": (_torchvision("mnasnet0_5"), lambda n: (3, n, n), 224),
    "dcgan": (dcgan_generator, lambda n: (100, 1, 1), 64),
}
#: The default run (about 1–2 minutes on one thread): the rest need ``--families``/``--all``.
DEFAULT = ("resnet18", "mobilenet_v2", "mobilenet_v3_small", "shufflenet_v2_x1_0", "squeezenet1_0", "mnasnet0_5",
           "alexnet", "dcgan")


def randomize_batchnorm(model: nn.Module) -> nn.Module:
    """Non-trivial batch-norm statistics and affine parameters (fresh ones are the identity)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                if m.affine:
                    m.weight.uniform_(0.8, 1.2)
                    m.bias.uniform_(-0.1, 0.1)
    return model.eval()


def macs(model: nn.Module, x: torch.Tensor) -> float:
    """Multiply-accumulates PyTorch runs for ``model(x)`` (FLOPs of convolutions and matmuls / 2)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / 2


def counts(model: nn.Module) -> tuple[int, int]:
    """(parameter entries, buffer entries)."""
    return sum(p.numel() for p in model.parameters()), sum(b.numel() for b in model.buffers())


def median_times(models: dict[str, nn.Module], x: torch.Tensor, runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, process CPU) time (s) of ``model(x)`` per model, runs alternating between the models.

    With one thread the CPU time is the steadier figure when other processes load the machine."""
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in models}
    with torch.no_grad():
        for m in models.values():
            m(x)  # warm-up
        for _ in range(runs):
            for k, m in models.items():
                wall, cpu = time.perf_counter(), time.process_time()
                m(x)
                times[k].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}


def measure(name: str, size: int | None, runs: int) -> list[str]:
    build, shape, default = FAMILIES[name]
    n = default if size is None or name == "dcgan" else size
    torch.manual_seed(0)
    model = randomize_batchnorm(build())
    x = torch.randn(1, *shape(n))
    models, notes = {"original": model}, {}
    for mode in MODES:
        start = time.perf_counter()
        try:
            models[mode] = destride_model(model, x, mode=mode)
            notes[mode] = f"converted in {time.perf_counter() - start:5.1f} s"
        except SymstrideError as exc:
            text = str(exc).split("; use mode=")[0]
            if text.startswith("mode='network' needs one chain") and "; " in text:
                text = text.split("; ", 1)[1]  # the node that breaks the chain, and why
            notes[mode] = "refused: " + (text if len(text) < 150 else text[:147] + "...")
    times = median_times(models, x, runs)
    base_t, base_macs = times["original"], macs(model, x)
    rows = []
    for k in ("original", *MODES):
        label = f"{name} {shape(n)[1]}×{shape(n)[2]}" if k == "original" else ""
        if k not in models:
            rows.append(f"  {label:26s} {k:9s} {notes[k]}")
            continue
        p, b = counts(models[k])
        m = macs(models[k], x)
        (wall, cpu), (base_wall, base_cpu) = times[k], base_t
        rows.append(f"  {label:26s} {k:9s} wall {1e3 * wall:8.2f} ms × {wall / base_wall:5.2f}  cpu {1e3 * cpu:8.2f} ms × "
                    f"{cpu / base_cpu:5.2f}   MACs {m / 1e6:8.1f} M × "
                    f"{m / base_macs:5.2f}   params {p / 1e6:6.2f} M  buffers {b / 1e6:5.2f} M  {notes.get(k, '')}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(DEFAULT), help=f"comma-separated, of: {', '.join(FAMILIES)}")
    parser.add_argument("--all", action="store_true", help="every family")
    parser.add_argument("--size", type=int, default=None, help="image size (default: 224; dcgan: its 1×1 latent)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    names = list(FAMILIES) if args.all else [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in names if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown family {unknown[0]!r}; choose from {', '.join(FAMILIES)}")
    torch.set_num_threads(args.threads)
    print(f"batch 1, float32, CPU, torch {torch.__version__}, {args.threads} thread(s), {platform.machine()}, "
          f"median of {args.runs} alternating runs; ratios to the original in the same run")
    for name in names:
        for row in measure(name, args.size, args.runs):
            print(row, flush=True)


if __name__ == "__main__":
    main()
