"""Shared helpers for the test suite."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def complex_gaussian(rng: np.random.Generator, count: int) -> np.ndarray:
    """Unit-power CN(0, 1) samples, complex64 ``[count]``."""
    return ((rng.normal(size=count) + 1j * rng.normal(size=count)) / np.sqrt(2)).astype(np.complex64)
