"""What ``destride_model`` does with torchvision's architectures: the pinned support table.

:data:`FAMILIES` lists each family as tested by ``tests/test_torchvision_models.py`` (random
weights, ``weights=None``: nothing is downloaded; float64; the input size given), and per mode
what the test pins: ``EXACT`` (converted, equal to the original to the relative tolerance
:data:`TOLERANCE`, no strided operator left) or a :class:`Refusal` (the ``SymstrideError`` the
converter raises, matched by a regular expression, and the reason in a few words).  The README's
table of supported families is rendered from this table by :func:`support_table` and kept
identical to it by a test; ``python tests/torchvision_families.py`` rewrites it.

>>> print(support_table().splitlines()[2])
| resnet18 | 64×64 | exact | exact |
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Callable, NamedTuple

__all__ = ["EXACT", "TOLERANCE", "Refusal", "Family", "FAMILIES", "support_table", "README_MARKERS", "readme_with_table"]

#: The pinned outcome of an exact conversion.
EXACT = "exact"
#: Relative tolerance of the float64 comparison with the original (scaled by max(1, max |output|)).
TOLERANCE = 1e-9
ROOT = Path(__file__).resolve().parents[1]


class Refusal(NamedTuple):
    """A pinned refusal: what the error says (a regular expression) and the reason in short."""

    pattern: str
    reason: str


class Family(NamedTuple):
    """One architecture as tested: its builder, keyword arguments, input and pinned outcomes."""

    name: str
    builder: str                 # attribute path under torchvision.models
    kwargs: dict[str, Any]
    size: int                    # square input size
    layer: str | Refusal
    network: str | Refusal
    note: str = ""               # what the test changes and why, if anything
    channels_last: bool = False
    prepare: Callable[[Any], Any] | None = None


def _small_head(features: int) -> Callable[[Any], Any]:
    """Replace a classifier of Linear layers (no stride, most of the parameters) by one Linear."""

    def prepare(model: Any) -> Any:
        import torch

        model.classifier = torch.nn.Linear(features, 10)
        return model

    return prepare


FAMILIES: list[Family] = [
    Family("resnet18", "resnet18", {}, 64, EXACT, EXACT),
    Family("resnet18 (channels_last)", "resnet18", {}, 64, EXACT, EXACT, channels_last=True),
    Family("resnet50", "resnet50", {}, 64, EXACT, EXACT),
    Family("mobilenet_v2", "mobilenet_v2", {}, 64, EXACT, EXACT),
    Family("mobilenet_v3_small", "mobilenet_v3_small", {}, 64, EXACT, EXACT),
    Family("efficientnet_b0", "efficientnet_b0", {}, 64, EXACT, EXACT),
    Family("regnet_y_400mf", "regnet_y_400mf", {}, 64, EXACT, EXACT),
    Family("shufflenet_v2_x0_5", "shufflenet_v2_x0_5", {}, 64, EXACT, EXACT),
    Family("squeezenet1_0", "squeezenet1_0", {}, 64, EXACT, EXACT),
    Family("densenet121", "densenet121", {}, 64, EXACT, EXACT),
    Family("alexnet", "alexnet", {}, 64, EXACT, EXACT, "classifier replaced by one Linear", prepare=_small_head(256 * 36)),
    Family("alexnet, 416×416", "alexnet", {}, 416, EXACT, EXACT,
           "adaptive pooling 12→6 strides 2; classifier replaced by one Linear", prepare=_small_head(256 * 36)),
    Family("vgg11", "vgg11", {}, 64, EXACT, EXACT, "classifier replaced by one Linear", prepare=_small_head(512 * 49)),
    Family("googlenet", "googlenet", {"aux_logits": False, "init_weights": False}, 64, EXACT, EXACT, "aux_logits=False"),
    Family("convnext_tiny", "convnext_tiny", {}, 64, EXACT, EXACT),
    Family("convnext_tiny (channels_last)", "convnext_tiny", {}, 64, EXACT, EXACT, channels_last=True),
    Family("mnasnet0_5", "mnasnet0_5", {}, 64, EXACT, EXACT),
    Family("swin_t", "swin_t", {}, 64, EXACT, EXACT),
    Family("lraspp_mobilenet_v3_large", "segmentation.lraspp_mobilenet_v3_large", {"weights_backbone": None}, 64, EXACT, EXACT),
    Family("fcn_resnet50", "segmentation.fcn_resnet50", {"weights_backbone": None, "aux_loss": False}, 64, EXACT, EXACT),
    Family("deeplabv3_mobilenet_v3_large", "segmentation.deeplabv3_mobilenet_v3_large", {"weights_backbone": None, "aux_loss": False},
           64, EXACT, EXACT),
]

README_MARKERS = ("<!-- torchvision support table: generated from tests/torchvision_families.py -->",
                  "<!-- end of the torchvision support table -->")


def _cell(outcome: str | Refusal) -> str:
    return outcome if outcome == EXACT else f"refused: {outcome.reason}"


def support_table() -> str:
    """The Markdown table of :data:`FAMILIES`: family, input, outcome per mode."""
    lines = ["| family | input | `mode=\"layer\"` | `mode=\"network\"` |", "| --- | --- | --- | --- |"]
    for f in FAMILIES:
        name = f.name + (f" ({f.note})" if f.note else "")
        lines.append(f"| {name} | {f.size}×{f.size} | {_cell(f.layer)} | {_cell(f.network)} |")
    return "\n".join(lines)


def readme_with_table(text: str) -> str:
    """``text`` (the README) with the part between :data:`README_MARKERS` replaced by the table."""
    start, end = README_MARKERS
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError("the README has no torchvision support table markers")
    return pattern.sub(lambda _: f"{start}\n{support_table()}\n{end}", text)


if __name__ == "__main__":  # python tests/torchvision_families.py: rewrite the README's table
    readme = ROOT / "README.md"
    readme.write_text(readme_with_table(readme.read_text()))
    sys.stdout.write(support_table() + "\n")
