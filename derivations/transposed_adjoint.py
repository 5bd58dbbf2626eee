"""The transposed layer is the adjoint of Theorem 2's strided layer, on the convolution tensors."""

from symstride.layer.transposed import AdjointTensors
from symstride.algebra.conv_transpose import ConvTranspose

TITLE = "The transposed layer is the adjoint of the strided layer"
INTRO = (
    "PyTorch's transposed convolution is the gradient of the strided convolution with respect to its "
    "input: with the same weight tensor, its convolution tensor is the transpose of the strided layer's, "
    "so ⟨Conv_s x, y⟩ = ⟨x, ConvT_s y⟩. Below both tensors are built from their own definitions as SymPy "
    "matrices and compared, for the 3-tap and the 4-tap stride-2 layers of the previous chapter (in 1-D)."
)


def build():
    return [
        AdjointTensors(ConvTranspose(kernel=3, stride=2, padding=1, output_padding=1), 3),
        AdjointTensors(ConvTranspose(kernel=4, stride=2, padding=1), 3),
    ]
