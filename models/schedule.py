"""The DDPM noise schedule CDDM uses, and the SNR-matched start step.

Linear beta from 1e-4 to 0.02 over T = 1000 steps (Ho et al. 2020; CDDM, Wu et al. 2024),
alpha_bar_t = prod_{s<=t} (1 - beta_s), t = 0 .. T-1.

Start step (derivation, see docs/cddm.md). The diffusion works on latents scaled to unit
variance per real value, x0 = sqrt(2) z (the encoder's z has unit power per complex
symbol). After equalization the PHY hands y = g x + w per symbol, var(w) = v (complex), so
sqrt(2) y = W_s x0 + W_n sigma n' with W_s = g, W_n = sqrt(v) / sigma, n' ~ N(0, I) and
sigma^2 = 10^(-SNR/10) the frame's noise level. Scaling by c = sqrt(alpha_bar_m) gives
CDDM's forward process x_m = sqrt(alpha_bar_m) W_s x0 + sqrt(1 - alpha_bar_m) W_n eps exactly
when c sigma = sqrt(1 - alpha_bar_m), i.e. alpha_bar_m / (1 - alpha_bar_m) = 1 / sigma^2 = SNR.
The official code matches alpha_bar / (1 - alpha_bar) = SNR on latents of per-real variance
1/2, which is 3 dB off (it starts from a noisier step than the channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from diffair.dsp.errors import ConfigError


@dataclass(frozen=True)
class NoiseSchedule:
    """steps: T; beta_start, beta_end: the linear beta range."""

    steps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02

    def __post_init__(self) -> None:
        if not 2 <= self.steps <= 100_000:
            raise ConfigError(f"NoiseSchedule.steps = {self.steps} is outside [2, 100000]")
        if not 0 < self.beta_start < self.beta_end < 1:
            raise ConfigError(f"NoiseSchedule betas ({self.beta_start}, {self.beta_end}) must satisfy 0 < start < end < 1")

    @cached_property
    def alphas_cumprod(self) -> np.ndarray:
        """alpha_bar_t, float64 ``[T]``."""
        betas = np.linspace(self.beta_start, self.beta_end, self.steps, dtype=np.float64)
        return np.cumprod(1.0 - betas)

    @cached_property
    def snr_db(self) -> np.ndarray:
        """10 log10(alpha_bar_t / (1 - alpha_bar_t)) per step, float64 ``[T]`` (decreasing)."""
        a = self.alphas_cumprod
        return 10 * np.log10(a / (1 - a))

    def start_step(self, snr_db: float) -> int:
        """The step m whose signal-to-noise ratio matches the channel's (see the module doc)."""
        return int(np.argmin(np.abs(self.snr_db - snr_db)))

    def timesteps(self, start: int, count: int | None) -> np.ndarray:
        """The steps a sampler visits from ``start`` down to 0: all of them (``count`` None,
        CDDM's consecutive sampler, start + 1 evaluations) or ``count`` evenly respaced ones."""
        if not 0 <= start < self.steps:
            raise ConfigError(f"start step {start} is outside [0, {self.steps - 1}]")
        if count is None:
            return np.arange(start, -1, -1)
        if count < 1:
            raise ConfigError(f"sampler steps = {count}; expected at least 1")
        return np.unique(np.round(np.linspace(0, start, min(count, start + 1))).astype(np.int64))[::-1]
