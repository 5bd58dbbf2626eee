"""torchvision's architectures through ``destride_model``, both modes: the support table, pinned.

Every family of :data:`tests.torchvision_families.FAMILIES` is built with random weights
(``weights=None``, nothing downloaded), in float64 and eval mode, and converted in each mode.
Where the table says ``exact`` the converted model must give the original's output (all its
entries — segmentation models return an ``OrderedDict``) to the relative tolerance
``TOLERANCE = 1e-9`` (scaled by max(1, max |output|)), run no strided operator although the
original does (:func:`symstride.torch.strided_ops`); where it pins a refusal, the conversion
must fail with that reason.  The README's table is the rendering of the same table.
"""

from collections import OrderedDict
from functools import lru_cache

import pytest
import torch

from symstride import SymstrideError
from symstride.torch import destride_model, strided_ops
from symstride.torch.adaptive import AdaptivePoolAt
from tests.torchvision_families import EXACT, FAMILIES, ROOT, TOLERANCE, readme_with_table
from tests.torchvision_support import torchvision

pytestmark = pytest.mark.usefixtures("torch_float64")
#: Family-major (one model in memory at a time), the 416×416 AlexNet last: its own test follows.
CASES = [(f, mode) for f in sorted(FAMILIES, key=lambda f: f.size) for mode in ("layer", "network")]


@lru_cache(maxsize=1)
def built(name):
    """The family's model (float64, eval, seeded) and its example input; one at a time in memory."""
    family = next(f for f in FAMILIES if f.name == name)
    builder = torchvision.models
    for part in family.builder.split("."):
        builder = getattr(builder, part)
    torch.manual_seed(0)
    model = builder(weights=None, **family.kwargs)
    if family.prepare is not None:
        model = family.prepare(model)
    model = model.double().eval()
    x = torch.randn(1, 3, family.size, family.size, dtype=torch.float64)
    if family.channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.to(memory_format=torch.channels_last)
    with torch.no_grad():
        reference = model(x)
    return model, x, reference


def leaves(output):
    if isinstance(output, dict):
        return [t for key in sorted(output) for t in leaves(output[key])]
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in leaves(item)]
    return [output]


@pytest.mark.parametrize("family, mode", CASES, ids=[f"{f.name.split(' (')[0].split(',')[0]}{'-cl' if f.channels_last else ''}{'-' + str(f.size) if f.size != 64 else ''}-{m}" for f, m in CASES])
def test_torchvision_family(family, mode):
    model, x, reference = built(family.name)
    expected = getattr(family, mode)
    if expected != EXACT:
        with pytest.raises(SymstrideError, match=expected.pattern):
            destride_model(model, x, mode=mode)
        return
    flat = destride_model(model, x, mode=mode)
    assert strided_ops(model, x), "the original strides"
    assert strided_ops(flat, x) == []
    with torch.no_grad():
        output = flat(x)
    assert type(output) is dict if isinstance(reference, OrderedDict) else type(output) is type(reference)
    for a, b in zip(leaves(reference), leaves(output), strict=True):
        assert a.shape == b.shape
        assert float((a - b).abs().max()) <= TOLERANCE * max(1.0, float(a.abs().max()))


@pytest.mark.parametrize("mode", ["layer", "network"])
def test_alexnet_adaptive_pooling_strides_at_416(mode):
    """At 416×416 AlexNet's adaptive pooling reads 12×12 into 6×6: a pooling with stride 2 in effect.
    Layer mode converts it as a stride-free pooling at those sizes; network mode makes it a tied pooling
    of Theorem 3's graph, so the input is split once by the total stride 4·2·2·2·2 = 64."""
    family = next(f for f in FAMILIES if f.size == 416)
    model, x, _ = built(family.name)
    assert ("aten._adaptive_avg_pool2d.default", (2, 2), "avgpool") in [(o.op, o.stride, o.module) for o in strided_ops(model, x)]
    flat = destride_model(model, x, mode=mode, check=False)  # checked by test_torchvision_family
    pools = [(p.sizes, p.pool.spec.kernel, p.pool.spec.stride) for p in flat.modules() if isinstance(p, AdaptivePoolAt)]
    if mode == "layer":
        assert pools == [((12, 12), (2, 2), (2, 2))]
    else:
        assert pools == [] and flat.phase_network.space_to_depth.stride == (64, 64)


def test_readme_table_is_the_pinned_table():
    text = (ROOT / "README.md").read_text()
    assert readme_with_table(text) == text, "run python tests/torchvision_families.py to rewrite the README's table"


def test_layer_mode_torchvision_model_traces_with_torch_export():
    """A converted torchvision model has no data-dependent control flow: ``torch.export`` traces it."""
    model, x, reference = built("mobilenet_v3_small")
    flat = destride_model(model, x, mode="layer")
    program = torch.export.export(flat, (x,))
    with torch.no_grad():
        output = program.module()(x)
    assert float((output - reference).abs().max()) <= TOLERANCE * max(1.0, float(reference.abs().max()))
    assert strided_ops(program.module(), x) == []
