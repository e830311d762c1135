"""Deep JSCC after Bourtsoulatze, Kurka and Gündüz (IEEE TCCN 2019), SNR-adaptive decoder.

Encoder (paper, Fig. 2): conv5x5/2 16 -> conv5x5/2 F -> conv5x5 F -> conv5x5 F -> conv5x5 C,
each followed by PReLU, then power normalization to unit mean power per complex symbol
(z~ = sqrt(k) z / ||z||, P = 1). The decoder mirrors it with transposed convolutions and a
final sigmoid. It is fully convolutional: any image whose sides are multiples of 4 goes through.

Deviation (stated): the decoder also takes, per complex symbol, the effective SNR after
equalization (|h|^2 / sigma^2, in dB) as C extra input channels. One decoder then serves
every SNR and every fading realization, and the transmitter needs no channel knowledge.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from diffair.dsp.errors import ConfigError
from diffair.models.config import require_range

SNR_DB_CLIP = (-10.0, 40.0)
"""Per-symbol SNRs are clipped to this range (dB) before the decoder sees them."""


@dataclass(frozen=True)
class JSCCConfig:
    """Deep-JSCC hyper-parameters.

    channels: real latent channels C (even); the bandwidth ratio k/n is C/96 for any image.
    filters: width F of the inner convolutions (the paper uses 32).
    channel: the channel the weights were trained for, "awgn" or "rayleigh".
    """

    channels: int = 16
    filters: int = 64
    channel: str = "awgn"

    def __post_init__(self) -> None:
        require_range("JSCCConfig", "channels", self.channels, 2, 256)
        if self.channels % 2:
            raise ConfigError(f"JSCCConfig.channels = {self.channels} must be even (real and imaginary halves)")
        require_range("JSCCConfig", "filters", self.filters, 4, 512)
        if self.channel not in ("awgn", "rayleigh"):
            raise ConfigError(f"JSCCConfig.channel = {self.channel!r}, expected 'awgn' or 'rayleigh'")

    @property
    def bandwidth_ratio(self) -> float:
        """k/n: complex channel uses per real source value (C/2 per 4x4x3 = 48 pixels)."""
        return self.channels / 96


def conv_prelu(cin: int, cout: int, stride: int) -> list[nn.Module]:
    """A 5x5 convolution (padding 2) and its PReLU: the building block of every codec here."""
    return [nn.Conv2d(cin, cout, 5, stride, 2), nn.PReLU(cout)]


def deconv_prelu(cin: int, cout: int, stride: int) -> list[nn.Module]:
    """A 5x5 transposed convolution that multiplies the side by ``stride``, and its PReLU."""
    return [nn.ConvTranspose2d(cin, cout, 5, stride, 2, output_padding=stride - 1), nn.PReLU(cout)]


def normalize_power(z: torch.Tensor) -> torch.Tensor:
    """Scale each image's latent ``[B, C, H, W]`` to unit mean power per complex symbol.

    Per real value that is a mean square of 1/2, so sum(z^2) = k = C*H*W/2 per image.
    """
    k = z[0].numel() / 2
    energy = z.pow(2).flatten(1).sum(dim=1).clamp_min(1e-12)
    return z * torch.sqrt(k / energy).view(-1, 1, 1, 1)


UNBIASED_LIMIT = 4.0
"""Unbiased symbol estimates are clipped to +/-4 per real value (the latent's values have a
standard deviation of 0.71; deep fades would otherwise feed the decoder huge noise)."""


def unbiased(y: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """The decoder's view of a received latent: y / gain (the zero-forcing estimate, whose
    reliability the per-symbol SNR map carries), clipped; zero where nothing was received.
    The same tensors in give the same input whether the PHY equalized by MMSE or not."""
    safe = torch.where(gain > 1e-6, gain, torch.ones_like(gain))
    return torch.where(gain > 1e-6, (y / safe).clamp(-UNBIASED_LIMIT, UNBIASED_LIMIT), torch.zeros_like(y))


class JSCCEncoder(nn.Module):
    """Image ``[B, 3, H, W]`` in [0, 1] -> latent ``[B, C, H/4, W/4]``, unit complex power."""

    def __init__(self, config: JSCCConfig):
        super().__init__()
        self.config = config
        f = config.filters
        self.layers = nn.Sequential(
            *conv_prelu(3, 16, 2), *conv_prelu(16, f, 2), *conv_prelu(f, f, 1), *conv_prelu(f, f, 1), *conv_prelu(f, config.channels, 1)
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return normalize_power(self.layers(image * 2.0 - 1.0))


class JSCCDecoder(nn.Module):
    """Received latent ``[B, C, h, w]`` + per-value SNR in dB ``[B, C, h, w]`` -> image ``[B, 3, 4h, 4w]``.

    ``latents``: how many latent-shaped inputs the first layer reads (the latent passed in then
    has ``latents * C`` channels; ICDM's decoder reads two, models.icdm.ICDMDecoder)."""

    def __init__(self, config: JSCCConfig, latents: int = 1):
        super().__init__()
        self.config = config
        f, c = config.filters, config.channels
        self.layers = nn.Sequential(
            *deconv_prelu((latents + 1) * c, f, 1), *deconv_prelu(f, f, 1), *deconv_prelu(f, f, 1),
            *deconv_prelu(f, 16, 2),
            nn.ConvTranspose2d(16, 3, 5, 2, 2, output_padding=1), nn.Sigmoid(),
        )

    def forward(self, latent: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        snr = snr_db.clamp(*SNR_DB_CLIP) / 20.0
        return self.layers(torch.cat([latent, snr], dim=1))


class DeepJSCC(nn.Module):
    """Encoder and decoder of one deep-JSCC codec (the parameters saved together)."""

    def __init__(self, config: JSCCConfig):
        super().__init__()
        self.config = config
        self.encoder = JSCCEncoder(config)
        self.decoder = JSCCDecoder(config)
