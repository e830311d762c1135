"""Image and latent quality metrics (numpy), on images in [0, 1] shaped ``[H, W, 3]``."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

SSIM_K1, SSIM_K2, SSIM_SIGMA = 0.01, 0.03, 1.5


def psnr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """10 log10(1 / MSE) for images in [0, 1] (no rounding, as the JSCC papers compute it)."""
    mse = float(np.mean((reference.astype(np.float64) - estimate.astype(np.float64)) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_MIN_SIDE = 8


def _ssim_maps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(luminance, contrast-structure) maps of one channel, Gaussian window sigma 1.5 truncated
    at 3.5 sigma, reflected at the borders."""
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2

    def blur(img):
        return gaussian_filter(img, SSIM_SIGMA, truncate=3.5)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    return (2 * mx * my + c1) / (mx * mx + my * my + c1), (2 * cxy + c2) / (vx + vy + c2)


def ssim(reference: np.ndarray, estimate: np.ndarray) -> float:
    """SSIM (Wang et al., IEEE TIP 2004): Gaussian window sigma 1.5 (truncated at 3.5 sigma),
    K1 = 0.01, K2 = 0.03, data range 1, averaged over channels and the valid interior."""
    pad = int(3.5 * SSIM_SIGMA + 0.5)
    scores = []
    for ch in range(reference.shape[-1]):
        lum, cs = _ssim_maps(reference[..., ch].astype(np.float64), estimate[..., ch].astype(np.float64))
        scores.append((lum * cs)[pad:-pad, pad:-pad].mean())
    return float(np.mean(scores))


def ms_ssim(reference: np.ndarray, estimate: np.ndarray) -> float:
    """MS-SSIM (Wang, Simoncelli, Bovik 2003): contrast-structure at every scale, luminance at
    the coarsest, 2x2 average pooling between scales, the standard weights. A 32 x 32 CIFAR
    image cannot hold the five scales of a 11 x 11 window, so the scales stop where a side
    would fall below 8 pixels (three for CIFAR, five from 128 pixels up), with the weights
    renormalized, and the maps are reflected at the borders rather than cropped."""
    x, y = reference.astype(np.float64), estimate.astype(np.float64)
    levels = 1
    while levels < len(MS_SSIM_WEIGHTS) and min(x.shape[:2]) // 2 ** levels >= MS_SSIM_MIN_SIDE:
        levels += 1
    weights = np.array(MS_SSIM_WEIGHTS[:levels]) / sum(MS_SSIM_WEIGHTS[:levels])
    score = 1.0
    for level in range(levels):
        maps = [_ssim_maps(x[..., ch], y[..., ch]) for ch in range(x.shape[-1])]
        cs = max(np.mean([m[1].mean() for m in maps]), 0.0)
        term = cs if level < levels - 1 else max(np.mean([(m[0] * m[1]).mean() for m in maps]), 0.0)
        score *= term ** weights[level]
        h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
        x = x[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))
        y = y[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))
    return float(score)


def latent_mse_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """MSE per real value in dB, with the latent scaled to unit variance per real value
    (CDDM's MSE_channel convention)."""
    return float(10 * np.log10(np.mean(2.0 * (reference - estimate) ** 2)))
