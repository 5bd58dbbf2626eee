"""Shared pytest configuration: Hypothesis profiles, and the torch fixture of the PyTorch tests.

Profiles (choose with ``HYPOTHESIS_PROFILE=<name>``):

* ``default`` — no deadline (the first call into NumPy/PyTorch is slow and would trip
  Hypothesis' per-example deadline), failing examples printed with a reproduction blob.
  Individual tests set their own ``max_examples`` so each file runs in well under a minute.
* ``ci`` — as ``default`` but derandomized, so CI runs are reproducible.
* ``thorough`` — ten times as many examples for an occasional deep run; per-test
  ``max_examples`` settings are scaled by :func:`examples` in the test modules.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ("pytester",)  # tests/test_reliable_interfaces.py runs a test session of its own

# z3 verdicts are kept on disk between processes (symstride/core/decisions.py); a test session keeps
# its own store, so that no verdict reached outside the session is reused inside it
os.environ.setdefault("SYMSTRIDE_Z3_CACHE", __import__("tempfile").mkdtemp(prefix="symstride-z3-"))

settings.register_profile(
    "default",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.register_profile("thorough", parent=settings.get_profile("default"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def torch_float64():
    """A test in float64 on one torch thread (the machines are shared), seeded; all restored afterwards."""
    import torch

    previous, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(previous)
    torch.set_num_threads(threads)


#: The one message every test that needs pdflatex fails with when it is missing.
PDFLATEX_MISSING = (
    "this test compiles LaTeX and needs pdflatex on PATH, which is missing: install TeX Live "
    "(e.g. apt-get install texlive-latex-base texlive-latex-extra texlive-pictures)"
)


@pytest.fixture
def pdflatex_path():
    """The pdflatex executable; a missing one fails the test with :data:`PDFLATEX_MISSING` (not a FileNotFoundError)."""
    import shutil

    found = shutil.which("pdflatex")
    if found is None:
        pytest.fail(PDFLATEX_MISSING, pytrace=False)
    return found
