"""``--network``: Theorem 3 on ONNX graphs (one space-to-depth at the trunk's input, tied filters),
compared in onnxruntime with the original; its failing twin, and its refusals."""

from __future__ import annotations

import onnx
import pytest
import torch
from torch import nn

import symstride.onnx.network as network_module
from symstride.cli import main
from symstride.network.phase_ops import TiedConv
from symstride.onnx import NodeError, check_onnx, destride_onnx
from tests.onnx_models import export, rewritten_ops, strided_ops


class Block(nn.Module):
    """A ResNet basic block (a strided 1×1 shortcut when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 or cin != cout else None

    def forward(self, x):
        shortcut = x if self.down is None else self.down(x)
        return torch.relu(self.b2(self.c2(torch.relu(self.b1(self.c1(x))))) + shortcut)


def _net(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    torch.manual_seed(0)
    net, shape = {
        "chain": (nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, 2, 1), nn.LeakyReLU(0.1), nn.Conv2d(8, 4, 3, 1, 1)), (1, 3, 31, 29)),
        "pooling and batch-norm": (nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3), nn.ReLU(), nn.BatchNorm2d(8), nn.MaxPool2d(3, 2, 1),
                                                 nn.Conv2d(8, 8, 3, 2, 1), nn.AvgPool2d(2, 2)), (1, 3, 32, 32)),
        "residual": (nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), Block(8, 8, 1), Block(8, 16, 2), nn.AdaptiveAvgPool2d(1),
                                   nn.Flatten(), nn.Linear(16, 5)), (2, 3, 32, 32)),
        "1-D": (nn.Sequential(nn.Conv1d(2, 4, 5, 2, 2), nn.Tanh(), nn.Conv1d(4, 4, 3, 3), nn.Sigmoid()), (1, 2, 41)),
    }[name]
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 1.5)
    return net.eval(), shape


@pytest.mark.parametrize("dynamo", [True, False])
@pytest.mark.parametrize("name", ["chain", "pooling and batch-norm", "residual", "1-D"])
def test_network_mode_agrees(name, dynamo):
    net, shape = _net(name)
    model = export(net, torch.randn(shape), dynamo=dynamo)
    flat = destride_onnx(model, network=True)
    assert strided_ops(flat) == []
    onnx.checker.check_model(flat, full_check=True)
    ops = rewritten_ops(flat)
    # one space-to-depth (Reshape → Transpose → Reshape) at the trunk's input, nothing else resamples
    assert ops.count("Transpose") == 1 and "SpaceToDepth" not in ops and "DepthToSpace" not in ops
    check = check_onnx(model, flat, seed=2)
    assert check.ok, check.failure


def test_network_mode_keeps_batch_norm_in_the_phase_domain():
    net, shape = _net("pooling and batch-norm")
    flat = destride_onnx(export(net, torch.randn(shape), dynamo=False), network=True)
    bn = [n for n in flat.graph.node if n.op_type == "BatchNormalization"]
    weights = {t.name: t for t in flat.graph.initializer}
    assert len(bn) == 1 and list(weights[bn[0].input[1]].dims) == [8 * 8 * 8]  # 8 channels × R^d phases, R = 2·2·2 still to come


def test_network_twin_is_caught(monkeypatch, tmp_path, capsys):
    """A tied bank built from a shifted gather index: --check fails with exit 1."""
    net, shape = _net("chain")
    path = tmp_path / "in.onnx"
    onnx.save(export(net, torch.randn(shape), dynamo=False), path)
    args = ["onnx", str(path), "-o", str(tmp_path / "out.onnx"), "--network", "--check"]
    assert main(args) == 0
    original = TiedConv.weight_index_rows
    monkeypatch.setattr(TiedConv, "weight_index_rows", lambda self, rows=None: original(self, rows)[:, :, ::-1])
    assert main(args) == 1
    assert "check failed: output" in capsys.readouterr().err


def test_network_refuses_banks_too_large(monkeypatch):
    net, shape = _net("chain")
    model = export(net, torch.randn(shape), dynamo=False)
    monkeypatch.setattr(network_module, "MAX_TIED_ENTRIES", 100)
    with pytest.raises(NodeError, match=r"^Conv '/0/Conv': --network: its tied bank W' would have 6,144 entries \(more than 100\); "
                                        r"rewrite without --network$"):
        destride_onnx(model, network=True)


def test_network_refusal_names_the_node():
    """symstride.network refuses ceil_mode pooling; the message names the ONNX node."""
    net = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.MaxPool2d(3, 2, ceil_mode=True)).eval()
    model = export(net, torch.randn(1, 3, 17, 17), dynamo=False)
    with pytest.raises(NodeError, match=r"^MaxPool '/1/MaxPool': --network: .*ceil_mode"):
        destride_onnx(model, network=True)
