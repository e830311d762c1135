"""Receivers: what turns the PHY's per-symbol statistics back into an image.

Every receiver takes a ``LatentObservation`` (the equalized latent and, per real value, its
gain and noise variance, plus the frame SNR) and returns the decoded image and the latent
estimate it decoded from. The network (denoiser), the sampler (models.sampler, no
parameters) and the loop (here) stay apart, so another diffusion receiver reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dsp.errors import ConfigError
from models.channels import EqualizedSymbols
from models.jscc import JSCCDecoder, unbiased
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
    """The equalized symbols straight into the deep-JSCC decoder (as their unbiased estimate,
    with the per-symbol SNR map; see ``models.jscc.unbiased``)."""

    name = "jscc"

    def __init__(self, decoder: JSCCDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, obs: LatentObservation) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(unbiased(obs.y, obs.gain), obs.snr_map_db), obs.y


@dataclass
class SamplerPlan:
    """What a K-step sampler needs, all ``[K]``: the steps t, alpha_bar_t and the alpha_bar of
    the next visited step (1.0 after the last, so that step returns x0_hat). Computed on the
    host from the SNR; an exported receiver takes them as graph inputs."""

    t: np.ndarray
    alpha_t: np.ndarray
    alpha_next: np.ndarray

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return tuple(torch.as_tensor(a, dtype=torch.float32) for a in (self.t, self.alpha_t, self.alpha_next))

    def padded(self, count: int) -> "SamplerPlan":
        """The same plan stretched to ``count`` steps by repeating the first one; a DDIM step
        from t to t changes nothing, so a fixed-K graph serves every SNR."""
        extra = count - len(self.t)
        if extra < 0:
            raise ConfigError(f"plan of {len(self.t)} steps does not fit {count}")
        pad = lambda a, v: np.concatenate([np.full(extra, v), a])  # noqa: E731
        return SamplerPlan(pad(self.t, self.t[0]), pad(self.alpha_t, self.alpha_t[0]),
                           pad(self.alpha_next, self.alpha_t[0]))


def sampler_plan(schedule: NoiseSchedule, snr_db: float, steps: int | None) -> SamplerPlan:
    """CDDM's visit list from the SNR-matched start step (``steps`` None: all of them)."""
    visit = schedule.timesteps(schedule.start_step(snr_db), steps)
    alphas = schedule.alphas_cumprod
    nxt = np.concatenate([alphas[visit[1:]], [1.0]])
    return SamplerPlan(visit.astype(np.float32), alphas[visit].astype(np.float32), nxt.astype(np.float32))


def cddm_denoise(denoiser: torch.nn.Module, y: torch.Tensor, gain: torch.Tensor, noise_var: torch.Tensor,
                 sigma: torch.Tensor, t: torch.Tensor, alpha_t: torch.Tensor, alpha_next: torch.Tensor
                 ) -> torch.Tensor:
    """The CDDM loop, tensors only (so it unrolls into an ONNX graph for a fixed K).

    y, gain, noise_var: ``[B, C, H, W]``; sigma: the frames' noise level ``[B]``; t, alpha_t,
    alpha_next: a ``SamplerPlan`` ``[K]``. Returns the latent estimate in encoder units.
    """
    w_n = noise_var.sqrt() / sigma.view(-1, 1, 1, 1)
    x = alpha_t[0].sqrt() * (2 ** 0.5) * y
    for k in range(t.shape[0]):
        eps_hat = w_n * denoiser(x, t[k].expand(x.shape[0]), gain, w_n)
        x = ddim_step(x, eps_hat, alpha_t[k], alpha_next[k])
    return x / (2 ** 0.5)


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

    def plan(self, snr_db: float) -> SamplerPlan:
        """The steps and schedule values this receiver visits at ``snr_db``."""
        return sampler_plan(self.schedule, snr_db, self.steps)

    def denoise(self, obs: LatentObservation) -> torch.Tensor:
        """The latent estimate (encoder units, an estimate of W_s z) ``[B, C, H, W]``."""
        sigma = torch.full((len(obs.y),), 10 ** (-obs.snr_db / 20))
        return cddm_denoise(self.denoiser, obs.y, obs.gain, obs.noise_var, sigma, *self.plan(obs.snr_db).tensors())

    def forward(self, obs: LatentObservation) -> tuple[torch.Tensor, torch.Tensor]:
        latent = self.denoise(obs)
        return self.decoder(latent, obs.snr_map_db), latent
