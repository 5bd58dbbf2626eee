"""symstride.torch and transposed convolutions: sub-pixel layers (mode='layer') and decoder chains
at their input resolution (mode='network'); no transposed convolution with stride > 1 is left."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from torch import nn

from symstride import SymstrideError
from symstride.torch import destride_layer, destride_model, strided_ops
from symstride.torch.transposed import DestridedConvTranspose, PhaseDecoder
from tests.transposed_cases import TOL, configs, examples
from tests.transposed_cases import single_thread_torch  # noqa: F401 (autouse fixture)

TRANSPOSED = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}


def module_of(spec, seed):
    torch.manual_seed(seed)
    return TRANSPOSED[spec.ndim](
        spec.in_channels, spec.out_channels, spec.kernel, spec.stride, tuple(l for l, _ in spec.padding),
        spec.output_padding, spec.groups, bias=bool(seed % 2), dilation=spec.dilation, dtype=torch.float64,
    )


@settings(max_examples=examples(40))
@given(configs())
def test_destride_layer_equals_conv_transpose(case):
    spec, size, seed = case
    layer = module_of(spec, seed)
    eq = destride_layer(layer)
    x = torch.randn(2, spec.in_channels, *size, dtype=torch.float64)
    with torch.no_grad():
        assert float((eq(x) - layer(x)).abs().max()) < TOL
    assert not any("transpose" in op.op or op.stride != (1,) * spec.ndim for op in strided_ops(eq, x))


def seeded_eval(model):
    torch.manual_seed(1)
    for mod in model.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            mod.running_mean.normal_()
            mod.running_var.uniform_(0.5, 1.5)
            nn.init.normal_(mod.weight)
            nn.init.normal_(mod.bias)
    return model.double().eval()


def dcgan(nz=8, width=4):
    """A DCGAN generator, scaled down: 1×1 → 4 → 8 → 16 → 32."""
    return seeded_eval(nn.Sequential(
        nn.ConvTranspose2d(nz, 4 * width, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * width), nn.ReLU(True),
        nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(True),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True),
        nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False), nn.Tanh()))


def decoder_1d():
    """Junk past the end after the first layer (N = 9 in blocks of 2), groups, dilation, output padding."""
    return seeded_eval(nn.Sequential(
        nn.ConvTranspose1d(2, 4, 3, 2, 1), nn.LeakyReLU(0.2),
        nn.ConvTranspose1d(4, 4, 5, 3, 2, output_padding=1, groups=2), nn.ELU(),
        nn.ConvTranspose1d(4, 1, 4, 2, 1, output_padding=1, dilation=2), nn.Sigmoid()))


class FunctionalUp(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, 2, 3, 3, dtype=torch.float64))

    def forward(self, x):
        return F.conv_transpose2d(x, self.w * 2, None, 2, 1, 1)  # the weight is computed in the graph


def encoder_decoder():
    return seeded_eval(nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(8, 8, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(8, 3, 4, 2, 1)))


@pytest.mark.parametrize(
    "make, shape, layer_kinds, network_kinds",
    [
        (dcgan, (2, 8, 1, 1), {"DestridedConvTranspose": 3, "ConvTranspose2d": 1}, ["PhaseDecoder"]),
        (decoder_1d, (2, 2, 5), {"DestridedConvTranspose": 3}, ["PhaseDecoder"]),
        (FunctionalUp, (1, 3, 4, 5), {}, []),
        (encoder_decoder, (1, 3, 16, 16), {"DestridedConvTranspose": 2, "DestridedConv": 2}, ["PhaseDecoder", "PhaseGraph"]),
    ],
)
@pytest.mark.parametrize("mode", ["layer", "network"])
def test_models_converted_exactly(make, shape, layer_kinds, network_kinds, mode):
    model = make()
    x = torch.randn(*shape, dtype=torch.float64)
    converted = destride_model(model, x, mode=mode)  # checks the output and that nothing strides
    with torch.no_grad():
        assert float((converted(x) - model(x)).abs().max()) < TOL
    assert strided_ops(converted, x) == []
    kinds = [type(m).__name__ for m in converted.modules()]
    if mode == "layer":
        assert {k: kinds.count(k) for k in layer_kinds} == layer_kinds
    else:
        assert [k for k in kinds if k in ("PhaseDecoder", "PhaseGraph")] == network_kinds
    if make is FunctionalUp:
        assert "DestridedConvTransposeCall" in kinds


def test_phase_decoder_masks_and_input_size():
    model = decoder_1d()
    converted = destride_model(model, torch.randn(1, 2, 5, dtype=torch.float64), mode="network")
    decoder = next(m for m in converted.modules() if isinstance(m, PhaseDecoder))
    assert decoder._masked == [2, 4] and decoder.depth_to_space.stride == (12,)
    with pytest.raises(ValueError, match=r"built for inputs of spatial size \(5,\), got \(6,\)"):
        converted(torch.randn(1, 2, 6, dtype=torch.float64))


def test_sub_pixel_module_shape():
    eq = destride_layer(nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1))
    assert isinstance(eq, DestridedConvTranspose) and eq.bank(eq.weight).shape == (12, 4, 2, 2)
    with pytest.raises(ValueError, match=r"input of shape \(1, 3, 5, 5\) does not fit the layer"):
        eq(torch.randn(1, 3, 5, 5))


def test_output_size_call_is_refused():
    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose1d(1, 1, 3, 2)

        def forward(self, x):
            return self.up(x, output_size=[10])

    with pytest.raises(SymstrideError, match=r"node 'up' \(module 'up', ConvTranspose1d\): it is called with output_size"):
        destride_model(Up(), torch.randn(1, 1, 4))
