"""The interference scenario of ICDM (Wu et al., 2025) at symbol level.

A second transmitter's JSCC symbols ``z`` land on the wanted user's symbols ``x``:

    r = h x + A z + n,   n ~ CN(0, sigma^2),   E|x|^2 = E|z|^2 = 1,

with h = 1 (AWGN) or h ~ CN(0, 1) per symbol (fast Rayleigh; as in the authors' code the
interferer reaches the receiver without fading of its own). SINR is defined on powers,
SINR = 1 / (A^2 + sigma^2), so A^2 = 10^(-SINR/10) - 10^(-SNR/10): the "power-consistent"
amplitude of ../shared/notes/models.md §2.2 (SINR <= SNR). The receiver knows h and
equalizes for the wanted user, y = h* r / (|h|^2 + sigma^2), so

    y = W_x x + W_z z + w,  W_x = |h|^2 / (|h|^2 + sigma^2),  W_z = A h* / (|h|^2 + sigma^2),
    var(w) = |h|^2 sigma^2 / (|h|^2 + sigma^2)^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dsp.errors import ConfigError
from models.channels import EqualizedSymbols, complex_noise
from models.jscc import unbiased
from models.receivers import LatentObservation
from models.symbols import symbols_to_latent


def interference_amplitude(snr_db: float, sinr_db: float) -> float:
    """A = sqrt(10^(-SINR/10) - 10^(-SNR/10)); SINR must not exceed SNR."""
    if sinr_db > snr_db:
        raise ConfigError(f"SINR {sinr_db} dB exceeds the SNR {snr_db} dB; interference cannot add power below zero")
    return (10 ** (-sinr_db / 10) - 10 ** (-snr_db / 10)) ** 0.5


@dataclass
class InterferedSymbols:
    """The wanted user's equalized symbols with the interference left in, all ``[B, K]``.

    wanted: y, gain W_x, noise_var var(w) (thermal only), as ``EqualizedSymbols``;
    cross: complex64 W_z, the interferer's effective coefficient.
    """

    wanted: EqualizedSymbols
    cross: torch.Tensor


def transmit_interfered(x: torch.Tensor, z: torch.Tensor, snr_db: float, sinr_db: float, channel: str,
                        generator: torch.Generator | None = None) -> InterferedSymbols:
    """Unit-power symbols ``x`` (wanted) and ``z`` (interferer), both ``[B, K]`` complex."""
    if x.shape != z.shape:
        raise ConfigError(f"wanted symbols {tuple(x.shape)} and interferer symbols {tuple(z.shape)} differ in shape")
    amplitude = interference_amplitude(snr_db, sinr_db)
    sigma2 = 10 ** (-snr_db / 10)
    n = complex_noise(tuple(x.shape), generator) * sigma2 ** 0.5
    if channel == "awgn":
        h = torch.ones_like(x)
    elif channel == "rayleigh":
        h = complex_noise(tuple(x.shape), generator)
    else:
        raise ConfigError(f"channel = {channel!r}, expected 'awgn' or 'rayleigh'")
    power = h.abs().square()
    denominator = power + sigma2
    y = h.conj() * (h * x + amplitude * z + n) / denominator
    wanted = EqualizedSymbols(y, power / denominator, power * sigma2 / denominator.square())
    return InterferedSymbols(wanted, amplitude * h.conj() / denominator)


@dataclass
class InterferedObservation(LatentObservation):
    """A ``LatentObservation`` whose ``noise_var`` counts the interference as noise (what a
    receiver that ignores it, and the decoder's SNR map, see), plus what ICDM needs:
    ``thermal_var`` ``[B, C, H, W]`` (noise only), ``cross`` ``[B, C, H, W]`` (W_z per symbol,
    its real part on the real channels and its imaginary part on the imaginary ones, the
    latent layout of models.symbols) and ``sinr_db``."""

    thermal_var: torch.Tensor | None = None
    cross: torch.Tensor | None = None
    sinr_db: float = 0.0

    @classmethod
    def from_interfered(cls, rx: InterferedSymbols, shape: tuple[int, int, int], snr_db: float, sinr_db: float
                        ) -> "InterferedObservation":
        """From the symbol-level statistics; ``shape`` = (C, H, W) of the latent."""
        as_latent = lambda v: symbols_to_latent(torch.complex(v, v), shape)  # noqa: E731
        total = rx.wanted.noise_var + rx.cross.abs().square()
        return cls(symbols_to_latent(rx.wanted.y, shape), as_latent(rx.wanted.gain), as_latent(total), float(snr_db),
                   thermal_var=as_latent(rx.wanted.noise_var), cross=symbols_to_latent(rx.cross, shape),
                   sinr_db=float(sinr_db))


class InterferenceLMMSEReceiver(torch.nn.Module):
    """The linear MMSE estimate of the wanted latent that knows the interference power,
    g y / (g^2 + |W_z|^2 + var(w)) per value (the exact posterior mean when both latents are
    Gaussian), then the deep-JSCC decoder told the per-symbol SINR: the best receiver that
    has no priors, against which ICDM's priors are measured."""

    name = "lmmse"

    def __init__(self, decoder: torch.nn.Module):
        super().__init__()
        self.decoder = decoder

    @staticmethod
    def estimate(obs: InterferedObservation) -> torch.Tensor:
        """The LMMSE latent ``[B, C, H, W]``."""
        return obs.gain * obs.y / (obs.gain.square() + obs.noise_var)

    def forward(self, obs: InterferedObservation) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(unbiased(obs.y, obs.gain), obs.snr_map_db), self.estimate(obs)
