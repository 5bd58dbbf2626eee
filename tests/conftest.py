"""Shared test fixtures."""

import pytest


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
