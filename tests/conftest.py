"""Shared pytest configuration: Hypothesis profiles.

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
