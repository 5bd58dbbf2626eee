"""The derivations book: one module per chapter, in the order of :data:`CHAPTERS`.

Each module defines ``TITLE``, optionally ``INTRO``, and ``build()`` returning the chapter's
checked parts.  ``symstride book -o DIR`` renders and compiles them all; the tests check them.
"""

CHAPTERS = (
    "notation",
    "stride_as_subsampling",
    "polyphase_1d",
    "resnet_downsampling",
    "stem_7x7",
    "dilation",
    "layouts",
    "proofs_theorems",
    "proofs_lemmas",
    "identities",
    "parameter_sharing",
    "subpixel_dcgan",
    "transposed_adjoint",
    "proofs_transposed",
)
