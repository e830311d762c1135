"""The one helper pair that packs a real latent into complex channel symbols and back.

A latent ``z`` of shape ``[B, C, H, W]`` (C even) carries ``C/2 * H * W`` complex
symbols: channels ``0 .. C/2-1`` are the real parts, channels ``C/2 .. C-1`` the
imaginary parts, both flattened in C order (channel, row, column).
"""

import torch

from diffair.dsp.errors import SignalError


def latent_to_symbols(z: torch.Tensor) -> torch.Tensor:
    """``[B, C, H, W]`` float -> ``[B, C/2*H*W]`` complex64."""
    if z.ndim != 4 or z.shape[1] % 2:
        raise SignalError(f"latent must be [B, C, H, W] with C even, got shape {tuple(z.shape)}")
    half = z.shape[1] // 2
    real = z[:, :half].reshape(z.shape[0], -1)
    imag = z[:, half:].reshape(z.shape[0], -1)
    return torch.complex(real.float(), imag.float())


def symbols_to_latent(s: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """``[B, C/2*H*W]`` complex -> ``[B, C, H, W]`` float32, the inverse of :func:`latent_to_symbols`."""
    c, h, w = shape
    if s.ndim != 2 or s.shape[1] * 2 != c * h * w:
        raise SignalError(f"symbols of shape {tuple(s.shape)} do not fill a latent of shape {shape}")
    half = (s.shape[0], c // 2, h, w)
    return torch.cat([s.real.reshape(half), s.imag.reshape(half)], dim=1).float()



def snr_map_db(gain: torch.Tensor, noise_var: torch.Tensor) -> torch.Tensor:
    """Per-value effective SNR gain^2 / noise_var in dB (floored at -100 dB), any shape: what a
    decoder is told about each received value's reliability."""
    return 10 * torch.log10(gain.square() / noise_var.clamp_min(1e-12)).clamp_min(-100.0)
