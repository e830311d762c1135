"""Decibels, noise levels and Gaussian symbols: the one numpy source for the whole package.

SNR is a power ratio; a noise variance is per complex sample (E|n|^2); CN(0, 1) symbols
have unit mean power, E|x|^2 = 1.
"""

from __future__ import annotations

import numpy as np


def db_to_power(db):
    """10^(db / 10): a power ratio from decibels (float or array)."""
    return 10 ** (np.asarray(db, dtype=np.float64) / 10) if np.ndim(db) else 10 ** (db / 10)


def db_to_amplitude(db):
    """10^(db / 20): an amplitude ratio from decibels (float or array)."""
    return 10 ** (np.asarray(db, dtype=np.float64) / 20) if np.ndim(db) else 10 ** (db / 20)


def power_to_db(ratio):
    """10 log10(ratio) in dB (float or array)."""
    return 10 * np.log10(ratio)


def noise_variance(snr_db: float, signal_power: float = 1.0) -> float:
    """Complex noise variance sigma^2 = P / 10^(SNR / 10) for a signal of power ``signal_power``."""
    return signal_power * 10 ** (-snr_db / 10)


def complex_gaussian(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` CN(0, 1) samples, complex64 ``[count]``: real, then imaginary draws of ``rng``."""
    return ((rng.normal(size=count) + 1j * rng.normal(size=count)) / np.sqrt(2)).astype(np.complex64)
