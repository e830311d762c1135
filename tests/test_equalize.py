import numpy as np

from diffair.dsp.equalize import mmse_equalize
from tests.conftest import complex_gaussian


def test_mmse_statistics_match_monte_carlo(rng):
    """x_hat = gain x + w with var(w) = eff_var: checked on 2e5 symbols per channel gain
    (relative tolerance 3 %, about 10 standard errors)."""
    n = 200_000
    x = complex_gaussian(rng, n)
    for h, noise_var in [(1.0, 0.1), (0.3 + 0.4j, 0.5), (2.0j, 1.0)]:
        y = h * x + complex_gaussian(rng, n) * np.sqrt(noise_var)
        x_hat, gain, eff_var = mmse_equalize(y, np.complex64(h), np.float32(noise_var))
        assert x_hat.shape == gain.shape == eff_var.shape == (n,)
        g = gain[0]
        np.testing.assert_allclose(np.mean(x_hat * np.conj(x)).real, g, rtol=0.03)
        np.testing.assert_allclose(np.var(x_hat - g * x), eff_var[0], rtol=0.03)
        # the MMSE error 1 - gain is below the zero-forcing error noise / |h|^2
        assert np.mean(np.abs(x_hat - x) ** 2) < noise_var / abs(h) ** 2
