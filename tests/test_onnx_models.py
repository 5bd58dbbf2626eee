"""Real models exported by torch.onnx.export, rewritten stride-free and compared in onnxruntime
(float32, relative 1e-4): torchvision ResNet-18 and MobileNetV2 (random weights, nothing
downloaded), a 1-D audio-style encoder, a network with odd input sizes and a transposed-convolution
decoder, a 3-D network; and the PyTorch path: ``symstride.torch.destride_model`` outputs export."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from symstride.onnx import check_onnx, destride_onnx, strided_nodes
from symstride.onnx.check import session
from symstride.torch import destride_model
from tests.onnx_models import export, strided_ops
from tests.torchvision_support import torchvision


@pytest.fixture(autouse=True)
def seeded():
    threads = torch.get_num_threads()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class AudioEncoder(nn.Module):
    """A 1-D waveform encoder (strided convolutions 10/5/4 with GELU and group norm, then pooling)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(1, 16, 10, stride=5, padding=3), nn.GroupNorm(4, 16), nn.GELU(),
            nn.Conv1d(16, 24, 3, stride=2, padding=1, groups=4), nn.GELU(),
            nn.Conv1d(24, 32, 4, stride=4, dilation=1), nn.ReLU(),
            nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True),
            nn.AvgPool1d(2, stride=2, count_include_pad=False, padding=1),
        )

    def forward(self, x):
        return self.body(x)


class OddAutoencoder(nn.Module):
    """Odd input sizes, asymmetric padding, dilation and groups on the way down; transposed convolutions
    with output padding on the way up (a decoder)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Sequential(
            nn.ZeroPad2d((0, 1, 1, 0)), nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=(2, 3), padding=2, dilation=2, groups=2), nn.ReLU(),
            nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 4, 3, stride=(2, 3), padding=1, output_padding=(1, 2)), nn.Tanh(),
            nn.ConvTranspose2d(4, 3, 3, stride=2, padding=0, groups=1),
        )

    def forward(self, x):
        return self.up(self.down(x))


class Volume(nn.Module):
    """3-D: strided convolution, pooling and a transposed convolution."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv3d(2, 4, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool3d(2, stride=2),
                                 nn.ConvTranspose3d(4, 2, 2, stride=2))

    def forward(self, x):
        return self.net(x)


MODELS = {
    "resnet18 (dynamo)": (lambda: torchvision.models.resnet18(weights=None), (1, 3, 65, 63), True),
    "mobilenet_v2 (torchscript exporter)": (lambda: torchvision.models.mobilenet_v2(weights=None), (1, 3, 64, 64), False),
    "audio encoder 1-D": (AudioEncoder, (2, 1, 1601), True),
    "odd sizes + transposed decoder": (OddAutoencoder, (1, 3, 37, 41), False),
    "3-D": (Volume, (1, 2, 9, 10, 11), False),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_exported_model_rewritten_stride_free(name):
    build, shape, dynamo = MODELS[name]
    model = build().eval()
    model_onnx = export(model, torch.randn(shape), dynamo=dynamo)
    assert strided_ops(model_onnx)
    for layout in ("dcr", "crd"):
        flat = destride_onnx(model_onnx, layout=layout)
        assert strided_ops(flat) == [] and strided_nodes(flat) == []
        onnx.checker.check_model(flat, full_check=True)
        check = check_onnx(model_onnx, flat, seed=1)
        assert check.ok, check.failure
        assert all(o.relative_error <= 1e-4 for o in check.outputs)


@pytest.mark.parametrize("mode", ["layer", "network"])
@pytest.mark.parametrize("dynamo", [True, False])
def test_destride_model_exports_to_onnx(mode, dynamo):
    """PyTorch → stride-free ONNX through symstride.torch: the converted model exports, has no strided
    operator, and onnxruntime agrees with the original PyTorch model."""
    model = nn.Sequential(nn.Conv2d(3, 8, 7, stride=2, padding=3), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU()).eval()
    x = torch.randn(1, 3, 32, 32)
    flat = destride_model(model, x, mode=mode)
    model_onnx = export(flat, x, dynamo=dynamo)
    assert strided_ops(model_onnx) == []
    y = session(model_onnx).run(None, {model_onnx.graph.input[0].name: x.numpy()})[0]
    expected = model(x).detach().numpy()
    assert np.abs(y - expected).max() <= 1e-4 * np.abs(expected).max()


def test_destride_model_with_functional_calls_exports():
    """Functional strided calls become modules that gather their weights on every call: that gather has no
    data-dependent branch, so torch.export (the dynamo exporter) traces it."""

    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.randn(4, 3, 3, 3))
            self.wt = nn.Parameter(torch.randn(4, 2, 3, 3))

        def forward(self, x):
            y = nn.functional.conv2d(x, self.w, stride=2, padding=1)
            return nn.functional.conv_transpose2d(y, self.wt, stride=2, padding=1, output_padding=1)

    model = Functional().eval()
    x = torch.randn(1, 3, 15, 17)
    model_onnx = export(destride_model(model, x), x, dynamo=True)
    assert strided_ops(model_onnx) == []
    y = session(model_onnx).run(None, {model_onnx.graph.input[0].name: x.numpy()})[0]
    expected = model(x).detach().numpy()
    assert np.abs(y - expected).max() <= 1e-4 * np.abs(expected).max()


def test_import_symstride_does_not_import_onnx():
    code = ("import sys, symstride, symstride.cli; symstride.cli.build_parser(); "
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
