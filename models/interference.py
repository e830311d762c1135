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

import math
from dataclasses import dataclass

import torch

from diffair.dsp.errors import ConfigError
from diffair.models.channels import EqualizedSymbols, complex_noise
from diffair.models.contract import Link, LoadRequest, ReceiverSpec, WeightsLoader
from diffair.models.graphs import DecoderGraph
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.observation import InterferedObservation
from diffair.models.receivers import JSCCReceiver

ICDM_SIGNAL_CODEC = "jscc_rayleigh_c16"
"""The wanted user's codec in ICDM's scenario (for both channel types): it sends CIFAR-10 animals."""
ICDM_INTERFERER_CODEC = "jscc_vehicles_c16"
"""The interferer's own codec: it sends CIFAR-10 vehicles."""
SIGNAL_CLASSES = (2, 3, 4, 5, 6, 7)  # CIFAR-10 animals: the wanted user of the ICDM scenario
INTERFERER_CLASSES = (0, 1, 8, 9)  # CIFAR-10 vehicles: the interferer


def interference_amplitude(snr_db: float, sinr_db: float) -> float:
    """A = sqrt(10^(-SINR/10) - 10^(-SNR/10)); SINR must not exceed SNR."""
    if sinr_db > snr_db:
        raise ConfigError(f"SINR {sinr_db} dB exceeds the SNR {snr_db} dB; interference cannot add power below zero")
    return (10 ** (-sinr_db / 10) - 10 ** (-snr_db / 10)) ** 0.5


def sinr_of(snr_db: float, sir_db: float | None) -> float:
    """SINR (dB) from SNR and SIR (None: no interferer): the noise and interference powers add."""
    return snr_db if sir_db is None else float(-10 * math.log10(10 ** (-snr_db / 10) + 10 ** (-sir_db / 10)))


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


class LMMSEGraph(DecoderGraph):
    """``DecoderGraph`` whose latent is the LMMSE estimate g y / (g^2 + var) per value."""

    @staticmethod
    def latent(y: torch.Tensor, gain: torch.Tensor, noise_var: torch.Tensor) -> torch.Tensor:
        return gain * y / (gain.square() + noise_var)


class InterferenceLMMSEReceiver(JSCCReceiver):
    """The linear MMSE estimate of the wanted latent that knows the interference power,
    g y / (g^2 + |W_z|^2 + var(w)) per value (the exact posterior mean when both latents are
    Gaussian), then the deep-JSCC decoder told the per-symbol SINR: the best receiver that
    has no priors, against which ICDM's priors are measured."""

    name = "lmmse"
    graph_kind = "lmmse"
    graph_class = LMMSEGraph
    observation = InterferedObservation

    def graph_name(self) -> str:
        return self.name


def load_interferer_codec(weights: WeightsLoader) -> DeepJSCC:
    """The interferer's codec of ICDM's scenario."""
    return weights.load(DeepJSCC, JSCCConfig, ICDM_INTERFERER_CODEC)


def _lmmse_weights(link: Link) -> tuple[str, ...]:
    return (link.codec,)


def _load_lmmse(request: LoadRequest) -> InterferenceLMMSEReceiver:
    return InterferenceLMMSEReceiver(request.weights.load(DeepJSCC, JSCCConfig, request.link.codec).decoder).eval()


LMMSE_SPEC = ReceiverSpec(
    name="lmmse", description="ICDM's scenario: the LMMSE latent that knows the interference power, then the decoder "
                              "(no diffusion)",
    transmitter="jscc", weights=_lmmse_weights, load=_load_lmmse, scenarios=("interference",))
