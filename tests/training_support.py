"""Training a converted model side by side with its original (issue 15, item 3).

:func:`train_side_by_side` runs the same optimizer steps on the same data on deep copies of an
original model and of its conversion (both in train mode, float64) and reports the largest
differences of outputs and gradients (every step), parameters and running statistics (after the
last step) and eval-mode outputs (after training), plus any difference in what the trainable
parameters are.  Converted tensors are paired with the original's through
:func:`symstride.torch.tied.original_names`.

Figures (run from the repository root)::

    PYTHONPATH=. python -m tests.training_support
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from symstride.torch import destride_model
from symstride.torch.tied import original_names

__all__ = ["TOLERANCE", "TrainingGap", "train_side_by_side", "CASES", "OPTIMIZERS", "convert", "run_case"]

#: Largest absolute difference accepted (float64; values and gradients are of order 1).
TOLERANCE = 1e-10

OPTIMIZERS: dict[str, Callable] = {
    "sgd": lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9),
    "adam": lambda params: torch.optim.Adam(params, lr=1e-3),
}


@dataclass
class TrainingGap:
    """Largest absolute differences between the original and the converted model while training."""

    outputs: float = 0.0
    grads: float = 0.0
    params: float = 0.0
    running_stats: float = 0.0
    eval_outputs: float = 0.0
    structure: list[str] = field(default_factory=list)  #: differences in what the parameters/buffers are

    def worst(self) -> float:
        return max(self.outputs, self.grads, self.params, self.running_stats, self.eval_outputs)

    @property
    def ok(self) -> bool:
        return not self.structure and self.worst() <= TOLERANCE

    @property
    def failure(self) -> str | None:
        if self.structure:
            return self.structure[0]
        for name in ("outputs", "grads", "params", "running_stats", "eval_outputs"):
            if getattr(self, name) > TOLERANCE:
                return f"{name} differ by {getattr(self, name):.3g} (> {TOLERANCE:g})"
        return None

    def row(self) -> str:
        return (f"outputs {self.outputs:8.1e}  grads {self.grads:8.1e}  params {self.params:8.1e}  "
                f"running {self.running_stats:8.1e}  eval {self.eval_outputs:8.1e}")


def _gap(a: torch.Tensor, b: torch.Tensor) -> float:
    if a.shape != b.shape:
        return float("inf")
    return float((a.detach() - b.detach()).abs().max()) if a.numel() else 0.0


def train_side_by_side(original: nn.Module, converted: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]],
                       optimizer: str, steps: int) -> TrainingGap:
    """Train copies of ``original`` and ``converted`` with the same optimizer and data; the gaps."""
    ref, conv = copy.deepcopy(original).train(), copy.deepcopy(converted).train()
    gap = TrainingGap()
    names = original_names(conv)
    ref_params = dict(ref.named_parameters())
    pairs: list[tuple[torch.Tensor, torch.Tensor, str]] = []
    seen = set()
    for name, p in conv.named_parameters():
        key = names.get(name, name)
        if key not in ref_params:
            gap.structure.append(f"converted parameter {name!r} {tuple(p.shape)} is not a parameter of the original")
            continue
        if tuple(p.shape) != tuple(ref_params[key].shape):
            gap.structure.append(f"converted parameter {name!r} has shape {tuple(p.shape)}, the original {key!r} {tuple(ref_params[key].shape)}")
        pairs.append((ref_params[key], p, key))
        seen.add(key)
    gap.structure += [f"original parameter {k!r} is not trained by the converted model" for k in ref_params if k not in seen]
    opt_ref = OPTIMIZERS[optimizer]([r for r, _, _ in pairs] + [p for k, p in ref_params.items() if k not in seen])
    opt_conv = OPTIMIZERS[optimizer](list(conv.parameters()))
    for step in range(steps):
        x, target = batches[step % len(batches)]
        for opt in (opt_ref, opt_conv):
            opt.zero_grad()
        y_ref, y_conv = ref(x), conv(x)
        gap.outputs = max(gap.outputs, _gap(y_ref, y_conv))
        ((y_ref - target) ** 2).mean().backward()
        ((y_conv - target) ** 2).mean().backward()
        for r, c, _ in pairs:
            if r.grad is not None or c.grad is not None:
                zero = torch.zeros_like(r)
                gap.grads = max(gap.grads, _gap(zero if r.grad is None else r.grad, zero if c.grad is None else c.grad))
        opt_ref.step()
        opt_conv.step()
    for r, c, _ in pairs:
        gap.params = max(gap.params, _gap(r, c))
    conv_state = {names.get(k, k): v for k, v in conv.state_dict().items()}
    for key, buffer in ref.named_buffers():
        if key not in conv_state:
            gap.structure.append(f"original buffer {key!r} is not a buffer of the converted model")
        else:
            gap.running_stats = max(gap.running_stats, _gap(buffer.double(), conv_state[key].double()))
    with torch.no_grad():
        x = batches[0][0]
        gap.eval_outputs = _gap(ref.eval()(x), conv.eval()(x))
    return gap


# --- the cases: every supported operator, and a ResNet-style network with batch-norm -------------------


class Block(nn.Module):
    """A ResNet basic block (batch-norm, strided 1×1 shortcut when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x if self.down is None else self.down(x)
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + skip)


class SmallResNet(nn.Module):
    """Stem (strided conv, batch-norm, max pooling), three blocks (two strided), global pooling, a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 5, 2, 2, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.blocks = nn.Sequential(Block(8, 8, 1), Block(8, 12, 2), Block(12, 16, 2))
        self.head = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


def _seq(*layers: nn.Module) -> Callable[[], nn.Module]:
    return lambda: nn.Sequential(*copy.deepcopy(layers))


#: name → (model factory, input shape (batch 4)); odd sizes so that phase bases carry junk samples.
CASES: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "conv padding": (_seq(nn.Conv2d(3, 6, 3, 2, 1), nn.ReLU(), nn.Conv2d(6, 4, 3, 2)), (3, 13, 13)),
    "conv dilation": (_seq(nn.Conv2d(3, 6, 3, 2, 2, dilation=2), nn.Tanh(), nn.Conv2d(6, 4, 2, 2)), (3, 15, 15)),
    "conv groups, depthwise": (_seq(nn.Conv2d(4, 8, 3, 2, 1, groups=2), nn.ReLU(), nn.Conv2d(8, 8, 3, 2, 1, groups=8),
                                    nn.ReLU(), nn.Conv2d(8, 4, 1)), (4, 13, 11)),
    "conv 1-d": (_seq(nn.Conv1d(2, 4, 4, 3, 1), nn.ReLU(), nn.Conv1d(4, 3, 3, 2)), (2, 29)),
    "batch-norm": (_seq(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.Conv2d(8, 4, 3, 2, 1, bias=False), nn.BatchNorm2d(4, momentum=None)), (3, 13, 13)),
    "max pooling": (_seq(nn.Conv2d(3, 6, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2, 1), nn.Conv2d(6, 4, 3, 2)), (3, 13, 13)),
    "avg pooling": (_seq(nn.Conv2d(3, 6, 3, 2), nn.AvgPool2d(3, 2, 1, count_include_pad=False), nn.Conv2d(6, 4, 1)), (3, 17, 17)),
    "residual": (lambda: nn.Sequential(Block(3, 6, 2), Block(6, 6, 1)), (3, 11, 11)),
    "transposed": (_seq(nn.ConvTranspose2d(4, 6, 3, 2, 1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                        nn.ConvTranspose2d(6, 3, 4, 2, 1), nn.Tanh()), (4, 5, 5)),
    "resnet with batch-norm": (SmallResNet, (3, 37, 37)),
}


def convert(case: str, mode: str, seed: int = 0) -> tuple[nn.Module, nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    """The original (float64, random batch-norm statistics), its conversion and two batches of data."""
    make, shape = CASES[case]
    torch.manual_seed(seed)
    model = make().double()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    xs = [torch.randn(4, *shape, dtype=torch.float64) for _ in range(2)]
    converted = destride_model(model.eval(), xs[0], mode=mode)
    with torch.no_grad():
        targets = [torch.randn_like(model(x)) for x in xs]
    return model, converted, list(zip(xs, targets))


def run_case(case: str, mode: str, optimizer: str, steps: int = 6) -> TrainingGap:
    model, converted, batches = convert(case, mode)
    return train_side_by_side(model, converted, batches, optimizer, steps)


if __name__ == "__main__":
    print(f"max |difference| over 6 steps, batch 4, float64 (tolerance {TOLERANCE:g})")
    for case in CASES:
        for mode in ("layer", "network"):
            for optimizer in OPTIMIZERS:
                gap = run_case(case, mode, optimizer)
                print(f"{case:24s} {mode:8s} {optimizer:5s} {gap.row()}  {'ok' if gap.ok else gap.failure}")
