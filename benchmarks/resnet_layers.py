"""Cost of stride-free models: a ResNet-18-shaped network, original vs converted by symstride.

Run from the repository root::

    PYTHONPATH=. python benchmarks/resnet_layers.py [--threads 1] [--runs 30]

The model is built here (full ResNet-18 widths, random weights and batch-norm statistics,
float32, eval mode, batch 1, 224×224, CPU; nothing is downloaded).  Every timing is the median
of runs that alternate between the variants, so that load from other processes falls on all of
them alike.  Beside each time stand the analytic multiply-accumulate counts (MACs): the original
layer's, and the converted layer's (``dense`` multiplies the structural zeros of ``W'``,
``phases`` multiplies exactly the original taps).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from math import prod
from typing import Callable

import torch
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from symstride.core.errors import SymstrideError
from symstride.torch import destride_layer, destride_model
from symstride.torch.layers import DestridedConv
from symstride.torch.network import TiedConvolution
from symstride.torch.phase_graph import PhaseGraph


# --- the model -----------------------------------------------------------------------------------


class BasicBlock(nn.Module):
    """ResNet basic block: two 3×3 convolutions with batch-norm, a 1×1 strided shortcut when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18 (He et al. 2016) with torchvision's layer shapes."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths, cin, stages = (64, 128, 256, 512), 64, []
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(BasicBlock(cin, w, stride), BasicBlock(w, w, 1)))
            cin = w
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(seed: int = 0) -> ResNet18:
    """A ResNet-18 with random weights and random batch-norm statistics, in eval mode."""
    torch.manual_seed(seed)
    model = ResNet18()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    return model.eval()


# --- measuring -----------------------------------------------------------------------------------


def alternating_medians(variants: dict[str, Callable[[], object]], runs: int, warmup: int = 3) -> dict[str, tuple[float, float]]:
    """Median (wall ms, CPU ms) of each variant over ``runs`` rounds that call every variant once.

    CPU time is the process's (all threads); with one thread it is barely touched by other
    processes on the machine, while wall time is.
    """
    with torch.no_grad():
        for f in variants.values():
            for _ in range(warmup):
                f()
        wall: dict[str, list[float]] = {k: [] for k in variants}
        cpu: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(runs):
            for name, f in variants.items():
                c0, t0 = time.process_time(), time.perf_counter()
                f()
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    return {k: (1e3 * statistics.median(wall[k]), 1e3 * statistics.median(cpu[k])) for k in variants}


def _timing(times: dict[str, tuple[float, float]], name: str) -> str:
    (w, c), (w0, c0) = times[name], times["original"]
    return f"wall {w:8.2f} ms ×{w / w0:5.2f}   cpu {c:8.2f} ms ×{c / c0:5.2f}"


def conv_macs(conv: nn.Conv2d, out_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of the original convolution."""
    return conv.out_channels * (conv.in_channels // conv.groups) * prod(conv.kernel_size) * prod(out_shape[2:])


def converted_macs(layer: DestridedConv, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of a :class:`DestridedConv`: weights it multiplies × positions it computes."""
    if layer.form == "subsample":  # the unit-stride convolution at every position of the padded input
        spec = layer.spec
        full = [n + pl + pr - d * (k - 1) for n, (pl, pr), k, d in zip(in_shape[2:], spec.padding, spec.kernel, spec.dilation)]
        return layer.conv.weight.numel() * prod(full)
    convs = list(layer.convs) if layer.form == "phases" else [layer.conv]
    return sum(c.weight.numel() for c in convs) * prod(out_shape[2:])


def pool_ops(pool: nn.Module, out_shape: tuple[int, ...]) -> int:
    """Window comparisons (or additions) of a pooling: output samples × window size."""
    k = pool.kernel_size if isinstance(pool.kernel_size, tuple) else (pool.kernel_size,) * 2
    return prod(out_shape[1:]) * prod(k)


def strided_layers(model: nn.Module, x: torch.Tensor) -> list[tuple[str, str, nn.Module, torch.Tensor, tuple]]:
    """``(type, name, layer, input, output shape)`` of every strided conv/pool, by tracing with fx."""
    gm = torch.fx.symbolic_trace(model)
    with torch.no_grad():
        ShapeProp(gm).propagate(x)
    found = []
    for node in gm.graph.nodes:
        if node.op != "call_module":
            continue
        mod = gm.get_submodule(node.target)
        stride = getattr(mod, "stride", 1)
        stride = stride if isinstance(stride, tuple) else (stride,)
        if isinstance(mod, (nn.Conv2d, nn.MaxPool2d)) and any(s != 1 for s in stride):
            inp = torch.randn(tuple(node.args[0].meta["tensor_meta"].shape))
            if isinstance(mod, nn.MaxPool2d):
                kind = f"maxpool {mod.kernel_size}x{mod.kernel_size} s{stride[0]}"
            else:
                kind = f"conv {mod.kernel_size[0]}x{mod.kernel_size[1]} s{stride[0]}"
            found.append((kind, node.target, mod, inp, tuple(node.meta["tensor_meta"].shape)))
    return found


def per_layer_type(model: nn.Module, x: torch.Tensor, runs: int) -> list[str]:
    """Rows of the per-layer-type table: original vs each converted form, summed over the layers of a type."""
    rows = []
    groups: dict[str, list] = {}
    for kind, name, mod, inp, out_shape in strided_layers(model, x):
        groups.setdefault(kind, []).append((name, mod, inp, out_shape))
    for kind, layers in groups.items():
        variants: dict[str, Callable[[], object]] = {}
        macs: dict[str, int] = {"original": 0}
        is_conv = kind.startswith("conv")
        forms = ("dense", "phases", "subsample", "auto") if is_conv else ("axis-wise",)
        conv = {form: [destride_layer(m, form=form) if is_conv else destride_layer(m) for _, m, _, _ in layers] for form in forms}
        variants["original"] = lambda ls=layers: [m(i) for _, m, i, _ in ls]
        for form in forms:
            variants[form] = lambda ls=layers, cs=conv[form]: [c(i) for (_, _, i, _), c in zip(ls, cs)]
            macs[form] = 0
        for j, (_, mod, inp, out_shape) in enumerate(layers):
            if isinstance(mod, nn.Conv2d):
                macs["original"] += conv_macs(mod, out_shape)
                for form in forms:
                    macs[form] += converted_macs(conv[form][j], tuple(inp.shape), out_shape)
            else:
                macs["original"] += pool_ops(mod, out_shape)
                for form in forms:
                    macs[form] += pool_ops(mod, out_shape)
        with torch.no_grad():
            for form in forms:
                for (_, mod, inp, _), c in zip(layers, conv[form]):
                    torch.testing.assert_close(c(inp), mod(inp), rtol=1e-4, atol=1e-4)
        times = alternating_medians(variants, runs)
        chosen = ",".join(sorted({getattr(c, "form", "") for c in conv[forms[-1]]}))
        for form in ("original", *forms):
            label = form if form != "auto" else f"auto ({chosen})"
            rows.append(
                f"{kind:<15} {len(layers):>2}  {label:<16} {_timing(times, form)}"
                f"   MACs {macs[form] / 1e6:7.1f} M ×{macs[form] / macs['original']:5.2f}"
            )
    return rows


def model_macs(model: nn.Module, x: torch.Tensor) -> int:
    """Multiply-accumulates of every convolution in ``model`` (original or converted) on ``x``."""
    gm = model if isinstance(model, torch.fx.GraphModule) else torch.fx.symbolic_trace(model)
    with torch.no_grad():
        ShapeProp(gm).propagate(x)
    total = 0
    for node in gm.graph.nodes:
        if node.op != "call_module":
            continue
        mod = gm.get_submodule(node.target)
        out_shape = tuple(node.meta["tensor_meta"].shape)
        if isinstance(mod, PhaseGraph):
            for m in mod.modules():
                if isinstance(m, TiedConvolution):  # dense: W' at every phase sample; gather: w per output phase
                    per_sample = m.weight.numel() * (1 if m.form == "dense" else m.out_phases)
                    total += per_sample * prod(m.out_length)
        elif isinstance(mod, DestridedConv):
            total += converted_macs(mod, tuple(node.args[0].meta["tensor_meta"].shape), out_shape)
        elif isinstance(mod, nn.Conv2d):
            total += conv_macs(mod, out_shape)
    return total


def whole_model(model: nn.Module, x: torch.Tensor, runs: int) -> list[str]:
    """Rows of the whole-model table: original and each conversion, with their convolution MACs."""
    variants: dict[str, Callable[[], object]] = {"original": lambda: model(x)}
    macs = {"original": model_macs(model, x)}
    notes = []
    conversions = [("layer", form) for form in ("auto", "dense", "phases", "subsample")]
    conversions += [("network", form) for form in ("gather", "dense")]
    for mode, form in conversions:
        name = f"{mode}/{form}"
        try:
            converted = destride_model(model, x, mode=mode, form=form)
        except SymstrideError as exc:
            notes.append(f"{name} not run: {exc}")
            continue
        variants[name] = lambda c=converted: c(x)
        macs[name] = model_macs(converted, x)
    times = alternating_medians(variants, runs)
    rows = [
        f"{name:<16} {_timing(times, name)}   MACs {macs[name] / 1e6:7.1f} M ×{macs[name] / macs['original']:5.2f}"
        for name in times
    ]
    return rows + notes + network_cost(model, x)


def network_cost(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Analytic size of Theorem 3's dense tied banks for ``model`` on ``x`` (what ``form="dense"`` would multiply)."""
    gm = destride_model(model, x, mode="network", form="gather")
    entries = macs = 0
    for m in gm.modules():
        if isinstance(m, TiedConvolution):
            entries += prod(m.dense_shape)
            macs += prod(m.dense_shape) * prod(m.out_length)
    return [
        f"network/dense, analytic: tied banks of {entries / 1e9:.2f} G entries ({4 * entries / 2**30:.1f} GiB float32), "
        f"{macs / 1e9:.1f} G MACs (×{macs / model_macs(model, x):.0f} the original)"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1: the timing machine is shared)")
    parser.add_argument("--runs", type=int, default=30, help="alternating rounds per measurement (default 30)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = resnet18()
    x = torch.randn(1, 3, 224, 224)
    print(f"ResNet-18 shapes, batch 1, 3×224×224, float32, CPU, torch {torch.__version__}, "
          f"{args.threads} thread(s), {platform.processor() or platform.machine()}, median of {args.runs} alternating runs")
    print("\nper strided layer type (summed over its layers): median wall and CPU time, ratio to the original;")
    print("MACs of the convolutions (window positions × window size for pooling), ratio")
    for row in per_layer_type(model, x, args.runs):
        print("  " + row)
    print("\nwhole model (destride_model, form per layer as named; MACs of all convolutions):")
    for row in whole_model(model, x, args.runs):
        print("  " + row)


if __name__ == "__main__":
    main()
