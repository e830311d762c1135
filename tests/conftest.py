"""Shared helpers for the test suite."""

import numpy as np
import pytest

from diffair.dsp.units import complex_gaussian  # noqa: F401  (the tests import it from here)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


