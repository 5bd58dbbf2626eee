"""Striding is parameter sharing: a small ResNet-style network as a non-strided one with tied filters."""

from pathlib import Path

from symstride import Network
from symstride.network.latex import network_body
from symstride.network.summary import summarize

TITLE = "Striding is parameter sharing (Theorem 3)"
INTRO = (
    "A ResNet-style network -- a stride-2 stem, batch-norm, ReLU, a stride-2 max-pool and a residual "
    "block whose body and 1x1 shortcut both have stride 2 -- equals a network that splits its input "
    "once into 8x8 phases and then runs only unit-stride operations. Its filters are more numerous "
    "and tied: every weight of a layer with R phases still to come appears R^2 times. The network is "
    "read from striding-is-parameter-sharing.json beside this chapter."
)
SPEC = Path(__file__).with_name("striding-is-parameter-sharing.json")


class NetworkPart:
    """The checked equivalence of one network, as a part of a chapter."""

    def __init__(self, spec_path: Path) -> None:
        self.summary = summarize(Network.from_spec(spec_path), check=True)

    def check(self):
        """The exact verification (truthy when the whole chain is exact)."""
        return self.summary.verification

    def latex(self) -> str:
        return network_body(self.summary)

    def text(self) -> str:
        return self.summary.text()


def build():
    return [NetworkPart(SPEC)]
