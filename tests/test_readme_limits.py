"""The README's limits are the real limits (issue 13): every figure it states is the constant the code refuses by."""

import pathlib

import pytest

from symstride.algebra.operators import MAX_MATRIX_ENTRIES
from symstride.cli import main
from symstride.core.indexing import MAX_INDEX_BYTES
from symstride.core.params import MAX_ELEMENTS, MAX_TAPS
from symstride.core.tap_comparison import MAX_CHECK_BYTES
from symstride.network.limits import MAX_NETWORK_BYTES

README = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
LIMITS = README.split("## Limits", 1)[1].split("\n## ", 1)[0]


def test_the_readme_states_the_constants():
    assert f"at most {MAX_TAPS:,} taps per channel pair" in LIMITS
    assert f"at most {MAX_ELEMENTS:,} weights per layer\n  ({8 * MAX_ELEMENTS / 1e9:g} GB in float64)" in LIMITS
    assert f"at most {MAX_MATRIX_ENTRIES:,} entries" in LIMITS
    for limit in (MAX_INDEX_BYTES, MAX_CHECK_BYTES, MAX_NETWORK_BYTES):
        assert f"{limit / 1e9:g} GB" in LIMITS


@pytest.mark.parametrize("argv, figure", [
    (["derive", "--in-channels", "30000", "--out-channels", "30000"], "21.6 GB"),
])
def test_the_readme_examples_of_refusals_are_the_refusals(capsys, argv, figure):
    assert figure in LIMITS
    assert main(argv) == 2 and figure in capsys.readouterr().err
