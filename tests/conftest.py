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
