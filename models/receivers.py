"""Receivers: what turns the PHY's per-symbol statistics back into an image.

Every receiver takes a ``LatentObservation`` (the equalized latent and, per real value, its
gain and noise variance, plus the frame SNR) and returns the decoded image and the latent
estimate it decoded from. The network (denoiser), the sampler (models.sampler, no
parameters) and the loop (here) stay apart, so another diffusion receiver reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.channels import EqualizedSymbols
from models.jscc import JSCCDecoder
from models.sampler import ddim_step
from models.schedule import NoiseSchedule
from models.symbols import symbols_to_latent


@dataclass
class LatentObservation:
    """``y``, ``gain``, ``noise_var``: ``[B, C, H, W]`` in the encoder's units (y = gain z + w,
    var(w) = noise_var per complex symbol, repeated on its real and imaginary channels);
    ``snr_db``: the frame SNR (a float: the batch shares it)."""

    y: torch.Tensor
    gain: torch.Tensor
    noise_var: torch.Tensor
    snr_db: float

    @classmethod
    def from_symbols(cls, rx: EqualizedSymbols, shape: tuple[int, int, int], snr_db: float) -> "LatentObservation":
        """From per-symbol statistics ``[B, K]`` (complex y, real gain / noise variance)."""
        def as_latent(values: torch.Tensor) -> torch.Tensor:
            return symbols_to_latent(torch.complex(values, values), shape)

        return cls(symbols_to_latent(rx.y, shape), as_latent(rx.gain), as_latent(rx.noise_var), float(snr_db))

    @property
    def snr_map_db(self) -> torch.Tensor:
        """Per-value effective SNR gain^2 / noise_var in dB (what the JSCC decoder is told)."""
        return 10 * torch.log10(self.gain.square() / self.noise_var.clamp_min(1e-12)).clamp_min(-100.0)


class JSCCReceiver(torch.nn.Module):
    """MMSE-equalized symbols straight into the deep-JSCC decoder."""

    name = "jscc"

    def __init__(self, decoder: JSCCDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, obs: LatentObservation) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(obs.y, obs.snr_map_db), obs.y


class CDDMReceiver(torch.nn.Module):
    """CDDM (Wu et al., IEEE TWC 2024): channel-denoising diffusion on the equalized latent,
    then the decoder re-trained on its output.

    steps: None for the paper's consecutive DDIM from the SNR-matched step m down to 0
    (m + 1 network evaluations), or K for a respaced sampler of K evaluations from m.
    """

    name = "cddm"

    def __init__(self, denoiser: torch.nn.Module, decoder: JSCCDecoder, schedule: NoiseSchedule | None = None,
                 steps: int | None = 10):
        super().__init__()
        self.denoiser = denoiser
        self.decoder = decoder
        self.schedule = schedule or NoiseSchedule()
        self.steps = steps

    def denoise(self, obs: LatentObservation) -> torch.Tensor:
        """The latent estimate (encoder units, an estimate of W_s z) ``[B, C, H, W]``."""
        sigma = 10 ** (-obs.snr_db / 20)
        w_s = obs.gain
        w_n = obs.noise_var.sqrt() / sigma
        alphas = torch.as_tensor(self.schedule.alphas_cumprod, dtype=torch.float32)
        visit = self.schedule.timesteps(self.schedule.start_step(obs.snr_db), self.steps)
        x = alphas[int(visit[0])].sqrt() * (2 ** 0.5) * obs.y
        for i, t in enumerate(visit):
            t_batch = torch.full((len(x),), float(t))
            eps_hat = w_n * self.denoiser(x, t_batch, w_s, w_n)
            nxt = alphas[int(visit[i + 1])] if i + 1 < len(visit) else None
            x = ddim_step(x, eps_hat, alphas[int(t)], nxt)
        return x / (2 ** 0.5)

    def forward(self, obs: LatentObservation) -> tuple[torch.Tensor, torch.Tensor]:
        latent = self.denoise(obs)
        return self.decoder(latent, obs.snr_map_db), latent
