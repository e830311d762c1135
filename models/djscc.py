"""Guo et al., "Diffusion-Driven Semantic Communication for Generative Models with Bandwidth
Constraints" (arXiv 2407.18468, IEEE TWC 2025), at CIFAR scale.

Transmitter: semantic encoder (models.autoencoder) -> ``Downsampler`` (1x1 conv, LReLU(0.1),
BN; 3x3 stride-2 conv, LReLU, BN; a residual bottleneck; 1x1 conv to the symbol channels)
-> unit mean symbol power. Receiver: ``Upsampler`` (a mirrored residual block, a 5x5
stride-2 transposed conv, 1x1 conv to the latent channels, then two heads: mu = 1x1 conv,
log sigma^2 = 1x1 conv of [features, SNR]) -> z_hat = mu + sigma * eps -> reverse diffusion
from the step m whose alpha_bar_m / (1 - alpha_bar_m) matches the SNR (the paper's
alpha_bar_u = SNR / (SNR + P_z) with P_z = 1 for unit-variance latents) -> semantic decoder.

Training (``models.training.djscc``) uses the paper's hybrid loss
    L = MSE(mu, x_m) + l1 KL(N(mu, sigma^2) || N(0, I)) + l2 KL(N(sqrt(a_m) z0, (1 - a_m) I) || N(mu, sigma^2)),
x_m = sqrt(a_m) z0 + sqrt(1 - a_m) eps the forward-diffused latent at the SNR-matched step,
l1 = l2 = 0.1. Departures, said here once: the receiver also sees the per-symbol SNR map of
the equalizer (as our deep-JSCC decoder does), so fading is handled symbol by symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from diffair.dsp.errors import ConfigError
from diffair.dsp.header import PayloadKind
from diffair.models.autoencoder import AutoencoderConfig, SemanticAutoencoder
from diffair.models.config import require_range
from diffair.models.contract import LoadRequest, Receiver, ReceiverSpec, Transmitter, TransmitterSpec
from diffair.models.denoiser import REALTIME_SUFFIX, DenoiserConfig, LatentPrior
from diffair.models.jscc import SNR_DB_CLIP, normalize_power, unbiased
from diffair.models.tiling import TILE_PX, encode_tiled
from diffair.models.observation import LatentObservation
from diffair.models.receivers import sampler_plan
from diffair.models.sampler import ddim_step
from diffair.models.schedule import NoiseSchedule
from diffair.models.symbols import snr_map_db

AUTOENCODER, PRIOR = "djscc_autoencoder", "djscc_prior"  # weights names; the link is djscc_link_<channel>

@dataclass(frozen=True)
class LinkConfig:
    """latent_channels: the autoencoder's L; symbol_channels: real channels on the
    (H/8 x W/8) grid (64: 32 complex symbols per 8 x 8 x 3 pixels, bandwidth ratio 1/6);
    hidden: the paper's 16; channel: what it was trained over."""

    latent_channels: int = 8
    symbol_channels: int = 64
    hidden: int = 16
    channel: str = "awgn"

    def __post_init__(self) -> None:
        require_range("LinkConfig", "symbol_channels", self.symbol_channels, 2, 1024)
        if self.symbol_channels % 2:
            raise ConfigError(f"LinkConfig.symbol_channels = {self.symbol_channels} must be even")
        if self.channel not in ("awgn", "rayleigh"):
            raise ConfigError(f"LinkConfig.channel = {self.channel!r}, expected 'awgn' or 'rayleigh'")

    @property
    def bandwidth_ratio(self) -> float:
        """Complex channel uses per real pixel value."""
        return self.symbol_channels / 2 / (8 * 8 * 3)


class Bottleneck(nn.Module):
    """Residual bottleneck: 1x1, 1x1, 3x3, 1x1 convolutions with LReLU(0.1), plus the input."""

    def __init__(self, width: int):
        super().__init__()
        act = lambda: nn.LeakyReLU(0.1)  # noqa: E731
        self.body = nn.Sequential(nn.Conv2d(width, width, 1), act(), nn.Conv2d(width, width, 1), act(),
                                  nn.Conv2d(width, width, 3, padding=1), act(), nn.Conv2d(width, width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Downsampler(nn.Module):
    """Latent ``[B, L, h, w]`` -> channel symbols ``[B, S, h/2, w/2]``, unit complex power."""

    def __init__(self, config: LinkConfig):
        super().__init__()
        hid = config.hidden
        self.layers = nn.Sequential(
            nn.Conv2d(config.latent_channels, hid, 1), nn.LeakyReLU(0.1), nn.BatchNorm2d(hid),
            nn.Conv2d(hid, hid, 3, 2, 1), nn.LeakyReLU(0.1), nn.BatchNorm2d(hid),
            Bottleneck(hid), nn.Conv2d(hid, config.symbol_channels, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return normalize_power(self.layers(z))


class Upsampler(nn.Module):
    """Received symbols (unbiased, ``[B, S, h/2, w/2]``) and their SNR map in dB (same shape)
    -> (mu, logvar) ``[B, L, h, w]`` of the latent at the SNR-matched diffusion step."""

    def __init__(self, config: LinkConfig):
        super().__init__()
        hid = config.hidden
        self.body = nn.Sequential(
            nn.Conv2d(2 * config.symbol_channels, hid, 1), nn.LeakyReLU(0.1), Bottleneck(hid),
            nn.ConvTranspose2d(hid, hid, 5, 2, 2, output_padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(hid, config.latent_channels, 1))
        self.mean = nn.Conv2d(config.latent_channels, config.latent_channels, 1)
        self.logvar = nn.Conv2d(config.latent_channels + 1, config.latent_channels, 1)

    def forward(self, y: torch.Tensor, snr_db: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        snr = snr_db.clamp(*SNR_DB_CLIP) / 20.0
        h = self.body(torch.cat([y, snr], dim=1))
        frame_snr = nn.functional.interpolate(snr.mean(dim=1, keepdim=True), size=h.shape[-2:])
        return self.mean(h), self.logvar(torch.cat([h, frame_snr], dim=1)).clamp(-20.0, 5.0)


class DiffusionLink(nn.Module):
    """The trained pair of one channel type (saved together)."""

    def __init__(self, config: LinkConfig):
        super().__init__()
        self.config = config
        self.downsampler = Downsampler(config)
        self.upsampler = Upsampler(config)


def djscc_receive(upsampler: Upsampler, prior: nn.Module, autoencoder: SemanticAutoencoder, y: torch.Tensor,
                  snr_db: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, alpha_t: torch.Tensor,
                  alpha_next: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The receiver, tensors only (it unrolls into an ONNX graph for a fixed K).

    y, snr_db: unbiased received symbols and their SNR map ``[B, S, h, w]``; noise: the
    reparameterization noise ``[B, L, 2h, 2w]``; t, alpha_t, alpha_next: a ``SamplerPlan``
    ``[K]``. Returns (image, semantic latent estimate at variance 1/2 per value).
    """
    mu, logvar = upsampler(y, snr_db)
    x = prior.fold(mu + torch.exp(0.5 * logvar) * noise)  # the loop runs on the prior's folded latents
    for k in range(t.shape[0]):
        x = ddim_step(x, prior.folded(x, t[k].expand(x.shape[0])), alpha_t[k], alpha_next[k])
    x = prior.unfold(x)
    return autoencoder.decode(x), x / 2 ** 0.5


class DJSCCGraph(torch.nn.Module):
    """Guo et al.'s receiver: upsampling head, the reparameterization noise as an input, the
    K-step DDIM from the SNR-matched step (plan as for CDDM), the semantic decoder."""

    inputs = ("y", "gain", "noise_var", "noise", "t", "alpha_t", "alpha_next")
    outputs = ("image", "latent")
    batch_inputs = ("y", "gain", "noise_var", "noise")

    def __init__(self, upsampler: nn.Module, prior: nn.Module, autoencoder: nn.Module):
        super().__init__()
        self.upsampler, self.prior, self.autoencoder = upsampler, prior, autoencoder

    def forward(self, y, gain, noise_var, noise, t, alpha_t, alpha_next):
        return djscc_receive(self.upsampler, self.prior, self.autoencoder, unbiased(y, gain),
                             snr_map_db(gain, noise_var), noise, t, alpha_t, alpha_next)


class DiffusionJSCCTransmitter(Transmitter):
    """Guo et al.'s transmitter: semantic encoder, then the downsampler to the channel symbols."""

    multiple = TILE_PX

    def __init__(self, link: DiffusionLink, autoencoder: SemanticAutoencoder):
        self.link, self.autoencoder = link, autoencoder

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(channel symbols as a latent ``[B, S, H/8, W/8]``, semantic latent ``[B, L, H/4, W/4]``
        at variance 1/2 per value, the deep-JSCC latents' convention, as the receiver returns it);
        an image larger than 32 x 32 tile by tile (models.tiling)."""
        def encode(tiles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            z = self.autoencoder.encode(tiles)
            return self.link.downsampler(z), z / 2 ** 0.5

        return encode_tiled(encode, images)

    def latent_shape(self, height: int, width: int) -> tuple[int, int, int]:
        return self.link.config.symbol_channels, height // 8, width // 8


class DiffusionJSCCReceiver(Receiver):
    """Guo et al.'s receiver: upsampling VAE head, reparameterized sample, DDIM with the latent
    prior from the SNR-matched step (``steps`` evaluations, None: every step), semantic decoder.
    Its transmitter (``DiffusionJSCCTransmitter``, also ``encode``) differs from the deep-JSCC one.

    sample: True is the paper's z = mu + sigma * eps ("djscc"); False starts the DDIM at mu
    itself ("djscc-mean", eps = 0), which serves PSNR better (docs/djscc.md)."""

    graph_kind = "djscc"

    def __init__(self, link: DiffusionLink, prior: nn.Module, autoencoder: SemanticAutoencoder,
                 schedule: NoiseSchedule | None = None, steps: int | None = 10, seed: int = 0, sample: bool = True):
        super().__init__()
        self.link, self.prior, self.autoencoder = link, prior, autoencoder
        self.schedule = schedule or NoiseSchedule()
        self.steps, self.seed, self.sample = steps, seed, sample
        self.name = "djscc" if sample else "djscc-mean"

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What this receiver's transmitter sends (``DiffusionJSCCTransmitter.encode``)."""
        return DiffusionJSCCTransmitter(self.link, self.autoencoder).encode(images)

    def plan(self, snr_db: float):
        """The ``SamplerPlan`` from the SNR-matched step (K = ``steps`` evaluations)."""
        return sampler_plan(self.schedule, snr_db, self.steps)

    def noise(self, shape: tuple[int, ...]) -> torch.Tensor:
        """The reparameterization noise, seeded (the same observation decodes the same way);
        zeros without ``sample``."""
        if not self.sample:
            return torch.zeros(shape)
        return torch.randn(shape, generator=torch.Generator().manual_seed(self.seed))

    def graph(self) -> torch.nn.Module:
        return DJSCCGraph(self.link.upsampler, self.prior, self.autoencoder)

    def feeds(self, obs: LatentObservation) -> dict[str, torch.Tensor]:
        b, _, h, w = obs.y.shape
        t, alpha_t, alpha_next = self.plan(obs.snr_db).tensors()
        return {"y": obs.y, "gain": obs.gain, "noise_var": obs.noise_var,
                "noise": self.noise((b, self.link.config.latent_channels, 2 * h, 2 * w)), "t": t, "alpha_t": alpha_t,
                "alpha_next": alpha_next}

    def network_calls(self, snr_db: float) -> int:
        return len(self.plan(snr_db).t) + 2

    def configs(self) -> dict:
        return {"link": self.link.config, "autoencoder": self.autoencoder.config, "denoiser": self.prior.config}

    def graph_name(self) -> str:
        return f"djscc_k{self.steps}"


def _weights(suffix: str = ""):
    """The autoencoder, the prior (``suffix`` REALTIME_SUFFIX: the real-time one) and the link."""
    return lambda link: (AUTOENCODER, PRIOR + suffix, f"djscc_link_{link.channel}")


def _load_link(request: LoadRequest) -> DiffusionLink:
    return request.weights.load(DiffusionLink, LinkConfig, f"djscc_link_{request.link.channel}",
                                default=LinkConfig(channel=request.link.channel))


def _receiver_loader(sample: bool, suffix: str = ""):
    def load(request: LoadRequest) -> DiffusionJSCCReceiver:
        prior = request.weights.load(LatentPrior, DenoiserConfig, PRIOR + suffix, default=_PRIOR_DEFAULT)
        autoencoder = request.weights.load(SemanticAutoencoder, AutoencoderConfig, AUTOENCODER)
        return DiffusionJSCCReceiver(_load_link(request), prior, autoencoder, steps=request.steps, sample=sample).eval()

    return load


_PRIOR_DEFAULT = DenoiserConfig(channels=LinkConfig().latent_channels)
"""The prior's shape when untrained (export before training): on the autoencoder's latent channels."""


def _load_transmitter(request: LoadRequest) -> DiffusionJSCCTransmitter:
    return DiffusionJSCCTransmitter(_load_link(request),
                                    request.weights.load(SemanticAutoencoder, AutoencoderConfig, AUTOENCODER))


TRANSMITTER = TransmitterSpec(
    name="djscc", description="Guo et al.'s semantic encoder + downsampler (ratio 1/6)",
    payload_kind=PayloadKind.DJSCC_LATENT, weights=_weights(), load=_load_transmitter, downsampling=8)
SPEC = ReceiverSpec(
    name="djscc", description="Guo et al. (2025): upsampling VAE head, reparameterized sample, latent diffusion, "
                              "semantic decoder",
    transmitter="djscc", weights=_weights(), load=_receiver_loader(sample=True), default_steps=10)
MEAN_SPEC = ReceiverSpec(
    name="djscc-mean", description="Guo et al.'s receiver started at the upsampler's mean (eps = 0)",
    transmitter="djscc", weights=_weights(), load=_receiver_loader(sample=False), default_steps=10)
RT_SPEC = ReceiverSpec(
    name="djscc-rt", description="Guo et al.'s receiver with the real-time prior (width 32, 2 x 2 patches)",
    transmitter="djscc", weights=_weights(REALTIME_SUFFIX),
    load=_receiver_loader(sample=True, suffix=REALTIME_SUFFIX),
    default_steps=10, variant_of="djscc")
