"""A compact KL-regularized image autoencoder: the semantic encoder / decoder of Guo et al.'s
diffusion-driven JSCC, in place of Stable Diffusion's VAE (which cannot be downloaded here).

Like SD's VAE (Rombach et al. 2022, "KL-f4" family) it maps an image ``[B, 3, H, W]`` in
[0, 1] to a latent ``[B, L, H/4, W/4]`` through a Gaussian posterior (mean, log-variance),
is trained with a reconstruction loss plus a small KL term, and its latents are rescaled to
unit variance per value (SD's "scale factor", here the buffer ``latent_scale`` measured on
the training latents) so that a diffusion prior with the standard schedule fits them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from diffair.models.config import require_range
from diffair.models.jscc import conv_prelu, deconv_prelu


@dataclass(frozen=True)
class AutoencoderConfig:
    """latent_channels: L; filters: inner width."""

    latent_channels: int = 8
    filters: int = 64

    def __post_init__(self) -> None:
        require_range("AutoencoderConfig", "latent_channels", self.latent_channels, 1, 256)
        require_range("AutoencoderConfig", "filters", self.filters, 8, 1024)


class SemanticAutoencoder(nn.Module):
    """``encode(image) -> z`` (posterior mean, unit-variance units), ``decode(z) -> image``;
    ``posterior(image) -> (mean, logvar)`` in raw units for training."""

    def __init__(self, config: AutoencoderConfig):
        super().__init__()
        self.config = config
        f, c = config.filters, config.latent_channels
        self.encoder = nn.Sequential(*conv_prelu(3, 16, 2), *conv_prelu(16, f, 2), *conv_prelu(f, f, 1),
                                     *conv_prelu(f, f, 1), nn.Conv2d(f, 2 * c, 5, 1, 2))
        self.decoder = nn.Sequential(*deconv_prelu(c, f, 1), *deconv_prelu(f, f, 1), *deconv_prelu(f, f, 1),
                                     *deconv_prelu(f, 16, 2), nn.ConvTranspose2d(16, 3, 5, 2, 2, output_padding=1),
                                     nn.Sigmoid())
        self.register_buffer("latent_scale", torch.ones(()))

    def posterior(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = self.encoder(image * 2.0 - 1.0).chunk(2, dim=1)
        return mean, logvar.clamp(-20.0, 10.0)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        return self.posterior(image)[0] * self.latent_scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z / self.latent_scale)
