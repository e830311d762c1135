"""Image and latent quality metrics on images in [0, 1] shaped ``[H, W, 3]`` (numpy).

PSNR and the latent MSE are one line each; SSIM, MS-SSIM and VIF come from the field's library,
torchmetrics (its functional image metrics, in float32), with these small-image rules:

- SSIM: Gaussian window 11 px, sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1 (Wang et al., IEEE
  TIP 2004), on any image of at least 11 x 11 px.
- MS-SSIM (Wang, Simoncelli, Bovik 2003): the standard five scale weights when the image is large
  enough for them with that window (torchmetrics' size check: from 176 px), else the first scales
  only, as many as the check admits, their weights renormalized to sum to 1 — two scales for a
  32 x 32 CIFAR-10 image, four for 128 px; negative contrast terms are clipped at 0 ("relu").
- VIF, pixel domain (Sheikh & Bovik, IEEE TIP 2006), no learned weights. It needs 41 x 41 px:
  smaller images (CIFAR-10) are scored upscaled 2x by pixel repetition, reference and estimate
  alike, so their figures compare with each other, not with a full-size photo's.
- HaarPSI (Reisenhofer et al., Signal Processing: Image Communication 2018), a perceptual metric
  with no learned weights, from piq (its defaults: 3 Haar scales, 2x subsampling, C = 30,
  alpha = 4.2), 1 for a perfect copy, from 16 x 16 px (piq's size check). On a 32 x 32
  CIFAR-10 image, subsampled to 16 x 16, the third scale's 8-px wavelet spans half the image:
  such figures compare with each other, not with a photograph's. piq is installed without its
  dependencies (Makefile): torchvision serves only piq's network-based metrics, and its PyPI
  build does not load beside the pinned CPU torch, so only piq's pure-torch modules are loaded.
- LPIPS (testbed.lpips, AlexNet "lin" v0.1) when the user gives its weights file (``--lpips``):
  nothing downloads; at the image's own size, from 31 x 31 px.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torchmetrics.functional.image import (multiscale_structural_similarity_index_measure,
                                           structural_similarity_index_measure, visual_information_fidelity)

from diffair.dsp.errors import ConfigError

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SSIM_WINDOW = 11
VIF_MIN_SIDE = 41


def _per_image(values: torch.Tensor | np.ndarray, single: bool) -> float | np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return float(values[0]) if single else values


def psnr_db(reference: np.ndarray, estimate: np.ndarray) -> float | np.ndarray:
    """10 log10(1 / MSE) for images in [0, 1] (no rounding, as the JSCC papers compute it);
    ``[H, W, 3]`` -> a float, ``[N, H, W, 3]`` -> ``[N]``."""
    error = reference.astype(np.float64) - estimate.astype(np.float64)
    mse = np.mean(error.reshape(-1, *error.shape[-3:]) ** 2, axis=(1, 2, 3))
    return _per_image(10 * np.log10(1.0 / np.maximum(mse, 1e-12)), reference.ndim == 3)


def _tensor(images: np.ndarray) -> torch.Tensor:
    """``[H, W, 3]`` or ``[N, H, W, 3]`` -> ``[N, 3, H, W]`` float32."""
    batch = np.ascontiguousarray(images, dtype=np.float32).reshape(-1, *images.shape[-3:])
    return torch.from_numpy(batch).permute(0, 3, 1, 2)


def ssim(reference: np.ndarray, estimate: np.ndarray) -> float | np.ndarray:
    """SSIM per image, averaged over the channels and the whole image (reflected at the
    borders); ``[H, W, 3]`` -> a float, ``[N, H, W, 3]`` -> ``[N]``."""
    scores = structural_similarity_index_measure(_tensor(estimate), _tensor(reference), data_range=1.0,
                                                 kernel_size=SSIM_WINDOW, sigma=1.5, reduction="none")
    return _per_image(scores, reference.ndim == 3)


def ms_ssim_scales(height: int, width: int) -> int:
    """How many of MS-SSIM's five scales an image of this size gets (torchmetrics' size check:
    side >= 2^L and side // max(1, L - 1)^2 > window - 1)."""
    side = min(height, width)
    scales = len(MS_SSIM_WEIGHTS)
    while scales > 1 and (side < 2 ** scales or side // max(1, scales - 1) ** 2 <= SSIM_WINDOW - 1):
        scales -= 1
    return scales


def ms_ssim(reference: np.ndarray, estimate: np.ndarray) -> float | np.ndarray:
    """MS-SSIM per image with the scales the image's size admits (module docstring)."""
    scales = ms_ssim_scales(*reference.shape[-3:-1])
    weights = tuple(w / sum(MS_SSIM_WEIGHTS[:scales]) for w in MS_SSIM_WEIGHTS[:scales])
    scores = multiscale_structural_similarity_index_measure(
        _tensor(estimate), _tensor(reference), data_range=1.0, kernel_size=SSIM_WINDOW, sigma=1.5, betas=weights,
        normalize="relu", reduction="none")
    return _per_image(scores, reference.ndim == 3)


def vif(reference: np.ndarray, estimate: np.ndarray) -> float | np.ndarray:
    """VIF (pixel domain) per image, 1 for a perfect copy, averaged over the channels; images
    under 41 px upscaled by pixel repetition first (module docstring)."""
    x, y = _tensor(reference), _tensor(estimate)
    repeat = -(-VIF_MIN_SIDE // min(x.shape[-2:]))
    if repeat > 1:
        x, y = (t.repeat_interleave(repeat, -1).repeat_interleave(repeat, -2) for t in (x, y))
    return _per_image(visual_information_fidelity(y, x, reduction="none"), reference.ndim == 3)


def _piq_haarpsi() -> Callable:
    """piq's ``haarpsi`` function, its module loaded without piq/__init__.py, which imports every
    piq metric and through the network-based ones torchvision (module docstring). Loaded when
    this module is imported (rx's warm-up does), not at a stream's first payload."""
    if "piq" not in sys.modules:
        spec = importlib.util.find_spec("piq")
        if spec is None:
            raise ImportError("HaarPSI needs piq: pip install --no-deps piq==0.8.0 (`make install` does; its "
                              "torchvision dependency serves only metrics diffair does not use)")
        sys.modules["piq"] = importlib.util.module_from_spec(spec)  # the package, its __init__ not run
    return importlib.import_module("piq.haarpsi").haarpsi


_PIQ_HAARPSI = _piq_haarpsi()


def haarpsi(reference: np.ndarray, estimate: np.ndarray) -> float | np.ndarray:
    """HaarPSI per image (piq, module docstring), 1 for a perfect copy; the estimate is clipped
    to [0, 1] as displayed (piq refuses values outside). ``[H, W, 3]`` -> a float,
    ``[N, H, W, 3]`` -> ``[N]``."""
    scores = _PIQ_HAARPSI(_tensor(np.clip(estimate, 0.0, 1.0)), _tensor(reference), data_range=1.0,
                          reduction="none")
    return _per_image(scores, reference.ndim == 3)


def latent_mse_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """MSE per real value in dB, with the latent scaled to unit variance per real value
    (CDDM's MSE_channel convention)."""
    return float(10 * np.log10(np.mean(2.0 * (reference - estimate) ** 2)))


IMAGE_METRICS = {"psnr_db": psnr_db, "ssim": ssim, "ms_ssim": ms_ssim, "vif": vif, "haarpsi": haarpsi}
"""Every report's image scores, by their report key: each takes (reference, estimate) images in
[0, 1], ``[H, W, 3]`` or ``[N, H, W, 3]``."""
LPIPS_KEY = "lpips"


@functools.lru_cache(maxsize=8)
def image_metrics(lpips_weights: Path | None = None, names: tuple[str, ...] | None = None) -> dict[str, Callable]:
    """IMAGE_METRICS, or only those of them named in ``names`` (PSNR always: every comparison
    is of PSNR), and LPIPS under LPIPS_KEY when ``lpips_weights`` (its safetensors file,
    testbed.lpips) is given; loaded once per file. Not to be changed by the caller."""
    unknown = sorted(set(names or ()) - set(IMAGE_METRICS))
    if unknown:
        raise ConfigError(f"unknown image metric(s) {unknown}; expected some of {', '.join(IMAGE_METRICS)}")
    chosen = {k: f for k, f in IMAGE_METRICS.items() if names is None or k == "psnr_db" or k in names}
    if lpips_weights is None:
        return chosen
    from diffair.testbed.lpips import LPIPS

    return {**chosen, LPIPS_KEY: LPIPS(lpips_weights)}
