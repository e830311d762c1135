"""How a diffusion receiver compares with the strongest non-diffusion receiver of the same run:
the comparison every report makes (loopback, sweep). A receiver is a baseline when its spec
has no sampler (``default_steps`` is None: jscc, jscc-mmse, lmmse)."""

from __future__ import annotations

import numpy as np

from diffair.models import registry


def is_baseline(name: str) -> bool:
    return registry.spec(name).default_steps is None


def versus_best_baseline(psnr_db: dict[str, float]) -> dict[str, dict]:
    """For each diffusion receiver among ``psnr_db`` (receiver -> PSNR of one run or point):
    ``{"best_baseline": name, "psnr_gain_db": its PSNR minus the best baseline's}``; empty
    when the run has no baseline."""
    baselines = {name: value for name, value in psnr_db.items() if is_baseline(name)}
    if not baselines:
        return {}
    best = max(baselines, key=baselines.get)
    return {name: {"best_baseline": best, "psnr_gain_db": value - baselines[best]}
            for name, value in psnr_db.items() if not is_baseline(name)}


def paired_ci95(differences: np.ndarray, seed: int = 0, resamples: int = 10_000) -> tuple[float, float]:
    """The 95% confidence interval of the mean of per-image ``differences`` (paired: the same
    images under both receivers), by the percentile bootstrap over images, seeded."""
    differences = np.asarray(differences, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 1000):  # bounded memory for large image sets
        count = min(1000, resamples - start)
        means[start:start + count] = differences[rng.integers(0, len(differences), (count, len(differences)))].mean(1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)
