"""The exportable graphs: thin modules whose ``forward`` takes and returns tensors only.

* ``EncoderGraph``: image ``[B, 3, H, W]`` -> latent ``[B, C, H/4, W/4]``.
* ``DecoderGraph``: y, gain, noise_var ``[B, C, h, w]`` -> image (the JSCC receiver).
* ``DenoiserGraph``: one CDDM network evaluation (x_t, t, w_s, w_n) -> eps.
* ``CDDMGraph``: the whole K-step CDDM receiver (sampler unrolled, then the decoder), with the
  SNR-dependent quantities as inputs: sigma ``[B]`` and the sampler plan t, alpha_t,
  alpha_next ``[K]`` (``models.receivers.SamplerPlan``), so one graph serves every SNR.
* ``ICDMGraph``: ICDM's joint sampler (K evaluations per prior, unrolled) and the decoder; the
  grid t, alpha ``[K]`` and the chains' start are inputs.
* ``DJSCCGraph``: Guo et al.'s receiver: upsampling head, the reparameterization noise as an
  input, the K-step DDIM from the SNR-matched step (plan as for CDDM), the semantic decoder.
"""

from __future__ import annotations

import torch

from models.djscc import djscc_receive
from models.icdm import icdm_separate, thermal_snr_map_db
from models.jscc import unbiased
from models.receivers import cddm_denoise


def _snr_map_db(gain: torch.Tensor, noise_var: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(gain.square() / noise_var.clamp_min(1e-12)).clamp_min(-100.0)


class EncoderGraph(torch.nn.Module):
    inputs, outputs = ("image",), ("latent",)

    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encoder(image)


class DecoderGraph(torch.nn.Module):
    inputs, outputs = ("y", "gain", "noise_var"), ("image",)

    def __init__(self, decoder: torch.nn.Module):
        super().__init__()
        self.decoder = decoder

    def forward(self, y: torch.Tensor, gain: torch.Tensor, noise_var: torch.Tensor) -> torch.Tensor:
        return self.decoder(unbiased(y, gain), _snr_map_db(gain, noise_var))


class DenoiserGraph(torch.nn.Module):
    inputs, outputs = ("x_t", "t", "w_s", "w_n"), ("eps",)

    def __init__(self, denoiser: torch.nn.Module):
        super().__init__()
        self.denoiser = denoiser

    def forward(self, x_t, t, w_s, w_n) -> torch.Tensor:
        return self.denoiser(x_t, t, w_s, w_n)


class CDDMGraph(torch.nn.Module):
    inputs = ("y", "gain", "noise_var", "sigma", "t", "alpha_t", "alpha_next")
    outputs = ("image", "latent")

    def __init__(self, denoiser: torch.nn.Module, decoder: torch.nn.Module):
        super().__init__()
        self.denoiser = denoiser
        self.decoder = decoder

    def forward(self, y, gain, noise_var, sigma, t, alpha_t, alpha_next):
        latent = cddm_denoise(self.denoiser, y, gain, noise_var, sigma, t, alpha_t, alpha_next)
        return self.decoder(latent, _snr_map_db(gain, noise_var)), latent


class ICDMGraph(torch.nn.Module):
    inputs = ("y", "gain", "thermal_var", "cross", "t", "alpha", "x_start", "z_start", "guidance")
    outputs = ("image", "latent")

    def __init__(self, prior_x: torch.nn.Module, prior_z: torch.nn.Module, decoder: torch.nn.Module):
        super().__init__()
        self.prior_x, self.prior_z, self.decoder = prior_x, prior_z, decoder

    def forward(self, y, gain, thermal_var, cross, t, alpha, x_start, z_start, guidance):
        latent, _ = icdm_separate(self.prior_x, self.prior_z, y, gain, thermal_var, cross, t, alpha, x_start, z_start,
                                  guidance)
        return self.decoder(latent, thermal_snr_map_db(gain, thermal_var)), latent


class DJSCCGraph(torch.nn.Module):
    inputs = ("y", "gain", "noise_var", "noise", "t", "alpha_t", "alpha_next")
    outputs = ("image", "latent")

    def __init__(self, upsampler: torch.nn.Module, prior: torch.nn.Module, autoencoder: torch.nn.Module):
        super().__init__()
        self.upsampler, self.prior, self.autoencoder = upsampler, prior, autoencoder

    def forward(self, y, gain, noise_var, noise, t, alpha_t, alpha_next):
        return djscc_receive(self.upsampler, self.prior, self.autoencoder, unbiased(y, gain),
                             _snr_map_db(gain, noise_var), noise, t, alpha_t, alpha_next)
