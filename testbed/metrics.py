"""Image and latent quality metrics (numpy), on images in [0, 1] shaped ``[H, W, 3]``."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

SSIM_K1, SSIM_K2, SSIM_SIGMA = 0.01, 0.03, 1.5


def psnr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """10 log10(1 / MSE) for images in [0, 1] (no rounding, as the JSCC papers compute it)."""
    mse = float(np.mean((reference.astype(np.float64) - estimate.astype(np.float64)) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def ssim(reference: np.ndarray, estimate: np.ndarray) -> float:
    """SSIM (Wang et al., IEEE TIP 2004): Gaussian window sigma 1.5 (truncated at 3.5 sigma),
    K1 = 0.01, K2 = 0.03, data range 1, averaged over channels and the valid interior."""
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    pad = int(3.5 * SSIM_SIGMA + 0.5)
    scores = []
    for ch in range(reference.shape[-1]):
        x, y = reference[..., ch].astype(np.float64), estimate[..., ch].astype(np.float64)

        def blur(img):
            return gaussian_filter(img, SSIM_SIGMA, truncate=3.5)

        mx, my = blur(x), blur(y)
        vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        smap = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(smap[pad:-pad, pad:-pad].mean())
    return float(np.mean(scores))


def latent_mse_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """MSE per real value in dB, with the latent scaled to unit variance per real value
    (CDDM's MSE_channel convention)."""
    return float(10 * np.log10(np.mean(2.0 * (reference - estimate) ** 2)))
