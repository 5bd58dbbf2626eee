"""Parameter sharing: the table's numbers against the tied banks themselves."""

from __future__ import annotations

from math import prod

import numpy as np
import pytest

from symstride.network.sharing import sharing
from symstride.network.strided import Network

SPECS = {
    "1d": {"input": {"channels": 2, "size": [23]},
           "layers": [{"type": "conv", "out_channels": 3, "kernel": 5, "stride": 3, "padding": 2, "dilation": 2}, {"type": "elu"},
                      {"type": "conv", "out_channels": 4, "kernel": 3, "stride": 2, "padding": [[0, 1]], "groups": 1},
                      {"type": "avgpool", "kernel": 2}]},
    "2d": {"input": {"channels": 2, "size": [13, 10]},
           "layers": [{"type": "conv", "out_channels": 4, "kernel": [3, 2], "stride": [2, 1], "padding": 1, "groups": 2},
                      {"type": "maxpool", "kernel": 2, "stride": 2},
                      {"type": "conv", "out_channels": 2, "kernel": 1, "stride": [1, 2]}]},
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_sharing_table_matches_the_banks(name):
    net = Network.from_spec(SPECS[name])
    eq = net.destride()
    report = sharing(eq)
    convs = [op for op in eq.windowed if op.source == "conv"]
    assert [row.layer for row in report.layers] == [op.path for op in convs]
    for row, op in zip(report.layers, convs):
        index = op.weight_index
        counts = np.bincount(index[index >= 0], minlength=prod(op.weight_shape))
        assert (counts == row.sharing_factor).all()  # every weight appears R^d times
        assert row.filters_equivalent == index.shape[0] == row.filters_original * row.sharing_factor
        assert row.weights_equivalent == index.size
        assert row.structural_zero_fraction == pytest.approx((index < 0).mean(), abs=1e-12)
        layer = next(l for l in net.spec.layers if l.path == row.layer)
        assert row.macs_original == prod(layer.out_shape.size) * layer.conv.out_channels * prod(layer.conv.weight_shape[1:])
        assert row.macs_equivalent == prod(op.output.length) * index.size
    totals = report.totals
    assert totals["weights_original"] == sum(prod(op.weight_shape) for op in convs)
    assert "total" in str(report)


def test_the_design_example_has_the_documented_zeros():
    """DESIGN.md: a 3×3 stride-2 layer has phase filters with 4, 2, 2 and 1 live taps (7 zeros of 16)."""
    net = Network.from_spec({"input": {"channels": 1, "size": [8, 8]},
                             "layers": [{"type": "conv", "out_channels": 1, "kernel": 3, "stride": 2}]})
    op = net.destride().ops[0]
    live = sorted(int((op.weight_index[0, r] >= 0).sum()) for r in range(4))
    assert live == [1, 2, 2, 4]
    assert sharing(net.destride()).layers[0].structural_zero_fraction == pytest.approx(7 / 16)
