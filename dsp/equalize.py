"""Per-subcarrier MMSE equalization and the per-symbol statistics handed to a receiver."""

from __future__ import annotations

import numpy as np


def mmse_equalize(y: np.ndarray, h: np.ndarray, noise_var: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MMSE estimate of unit-power symbols x from y = h x + n, n ~ CN(0, noise_var).

    All inputs broadcast to a common shape. Returns (x_hat, gain, effective noise variance),
    such that x_hat = gain * x + w, w of variance ``eff_var``:
    x_hat = h* y / (|h|^2 + v), gain = |h|^2 / (|h|^2 + v), eff_var = |h|^2 v / (|h|^2 + v)^2.
    """
    y, h, noise_var = np.broadcast_arrays(y, h, noise_var)
    power = np.abs(h) ** 2
    denom = power + noise_var
    x_hat = np.conj(h) * y / denom
    gain = power / denom
    eff_var = power * noise_var / (denom * denom)
    return (x_hat.astype(np.complex64, copy=False), gain.astype(np.float32, copy=False),
            eff_var.astype(np.float32, copy=False))
