"""``diffair train djscc``: Guo et al.'s diffusion-driven JSCC in three stages.

1. ``autoencoder``: the semantic autoencoder (models.autoencoder), MSE + 1e-4 KL, Adam
   1e-3, random flips; after every epoch ``latent_scale`` is set to 1 / std of the
   training latents (SD's scale factor), so the saved model yields unit-variance latents.
2. ``prior``: an unconditional latent diffusion prior on those latents (models.training.prior).
3. ``link``: downsampler + upsampling VAE head over the channel with the autoencoder frozen,
   the paper's hybrid loss (models.djscc), one SNR per image uniform in [-5, 20] dB (the
   paper trains on -5..13 dB; our evaluation range reaches 20 dB). Adam 1e-3.
Each stage resumes from its checkpoint (``--resume``) and runs on one process or several under
torchrun (models.training.loop); validation PSNR at 10 dB on images held out from the training split
(or --val-data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import torch

from diffair.models.autoencoder import AutoencoderConfig, SemanticAutoencoder
from diffair.models.channels import transmit
from diffair.models.checkpoint import load_model
from diffair.models.data import training_and_validation
from diffair.models.denoiser import DenoiserConfig, LatentPrior
from diffair.models.djscc import AUTOENCODER, PRIOR, DiffusionJSCCReceiver, DiffusionLink, LinkConfig
from diffair.models.jscc import unbiased
from diffair.models.observation import LatentObservation
from diffair.models.schedule import NoiseSchedule
from diffair.models.symbols import latent_to_symbols
from diffair.models.training.jscc import psnr_db
from diffair.models.training.prior import TrainPriorOptions, train_prior
from diffair.models.training.loop import RunControl, TrainReport, run_epochs

KL_WEIGHT, GUIDANCE_WEIGHT = 0.1, 0.1  # the paper's lambda_1, lambda_2


@dataclass(frozen=True)
class TrainDJSCCOptions:
    data: Path
    out: Path
    epochs: int = 10
    batch: int = 128
    seed: int = 0
    val_data: Path | None = None
    snr_min_db: float = -5.0
    snr_max_db: float = 20.0
    control: RunControl = RunControl()


def _images(options: TrainDJSCCOptions) -> tuple[torch.Tensor, torch.Tensor]:
    """(the training images, up to ``--limit``; 512 validation images: ``val_data``'s test split,
    or held out from the training images when none is given), on the run's device."""
    device = options.control.workers.device
    images, val_images = training_and_validation(options.data, options.val_data, 512, options.control.limit)
    return images.to(device), val_images.to(device)


def gaussian_kl(mean_p: torch.Tensor, logvar_p: torch.Tensor, mean_q: torch.Tensor, logvar_q: torch.Tensor
                ) -> torch.Tensor:
    """Mean over elements of KL(N(mean_p, e^logvar_p) || N(mean_q, e^logvar_q)), diagonal."""
    return 0.5 * (logvar_q - logvar_p + (logvar_p.exp() + (mean_p - mean_q).square()) / logvar_q.exp() - 1).mean()


def train_autoencoder(options: TrainDJSCCOptions, config: AutoencoderConfig = AutoencoderConfig()) -> TrainReport:
    torch.manual_seed(options.seed)
    device = options.control.workers.device
    images, val_images = _images(options)
    model = SemanticAutoencoder(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = images[indices]
        x = torch.where((torch.rand(len(x), generator=generator, device=device) < 0.5).view(-1, 1, 1, 1),
                        x.flip(-1), x)
        mean, logvar = model.posterior(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=generator, device=device)
        kl = gaussian_kl(mean, logvar, torch.zeros_like(mean), torch.zeros_like(logvar))
        return (model.decoder(z) - x).square().mean() + 1e-4 * kl

    @torch.no_grad()
    def evaluate() -> dict:
        model.latent_scale.fill_(1.0 / model.posterior(images[:4096])[0].std().item())
        mse = (model.decode(model.encode(val_images)) - val_images).square().flatten(1).mean(1)
        return {"val_psnr_db": psnr_db(mse).mean().item(), "latent_scale": model.latent_scale.item()}

    return run_epochs(model, config, optimizer, name=AUTOENCODER, out=options.out, epochs=options.epochs, lr=1e-3,
                      items=len(images), batch=options.batch, loss=loss, evaluate=evaluate, seed=options.seed,
                      control=options.control)


@torch.no_grad()
def _latents(autoencoder: SemanticAutoencoder, images: torch.Tensor, mirror: bool) -> torch.Tensor:
    parts = [autoencoder.encode(images[i:i + 512]) for i in range(0, len(images), 512)]
    if mirror:
        parts += [autoencoder.encode(images[i:i + 512].flip(-1)) for i in range(0, len(images), 512)]
    return torch.cat(parts)


def train_djscc_prior(options: TrainDJSCCOptions, size: Mapping[str, int | bool] = MappingProxyType({}),
                      name: str = PRIOR) -> TrainReport:
    autoencoder = load_model(SemanticAutoencoder, AutoencoderConfig, options.out, AUTOENCODER)
    autoencoder.to(options.control.workers.device)
    images, val_images = _images(options)
    return train_prior(_latents(autoencoder, images, True), _latents(autoencoder, val_images, False),
                       TrainPriorOptions(out=options.out, epochs=options.epochs, size=size, seed=options.seed,
                                         control=options.control), name)


def train_link(options: TrainDJSCCOptions, channel: str, val_snr_db: float = 10.0) -> TrainReport:
    torch.manual_seed(options.seed)
    device = options.control.workers.device
    autoencoder = load_model(SemanticAutoencoder, AutoencoderConfig, options.out, AUTOENCODER).to(device)
    prior = load_model(LatentPrior, DenoiserConfig, options.out, PRIOR).to(device)
    images, val_images = _images(options)
    latents = _latents(autoencoder, images, True)
    config = LinkConfig(latent_channels=latents.shape[1], channel=channel)
    link = DiffusionLink(config).to(device)
    schedule = NoiseSchedule()
    alphas = torch.as_tensor(schedule.alphas_cumprod, dtype=torch.float32, device=device)
    step_snr_db = torch.as_tensor(schedule.snr_db, dtype=torch.float32, device=device)
    optimizer = torch.optim.Adam(link.parameters(), lr=1e-3)

    def loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z0 = latents[indices]
        snr = options.snr_min_db + (options.snr_max_db - options.snr_min_db) * torch.rand(
            len(z0), generator=generator, device=device)
        symbols = link.downsampler(z0)
        rx = transmit(latent_to_symbols(symbols), snr, channel, generator)
        obs = LatentObservation.from_symbols(rx, tuple(symbols.shape[1:]), 0.0)
        mu, logvar = link.upsampler(unbiased(obs.y, obs.gain), obs.snr_map_db)
        a = alphas[(step_snr_db[None, :] - snr[:, None]).abs().argmin(dim=1)].view(-1, 1, 1, 1)
        x_m = a.sqrt() * z0 + (1 - a).sqrt() * torch.randn(z0.shape, generator=generator, device=device)
        return ((mu - x_m).square().mean()
                + KL_WEIGHT * gaussian_kl(mu, logvar, torch.zeros_like(mu), torch.zeros_like(logvar))
                + GUIDANCE_WEIGHT * gaussian_kl(a.sqrt() * z0, torch.log(1 - a).expand_as(z0), mu, logvar))

    @torch.no_grad()
    def evaluate() -> dict:
        receiver = DiffusionJSCCReceiver(link, prior, autoencoder, schedule, steps=10)
        symbols, _ = receiver.encode(val_images)
        rx = transmit(latent_to_symbols(symbols), torch.full((len(symbols),), val_snr_db, device=device), channel,
                      torch.Generator(device=device).manual_seed(11))
        image, _ = receiver(LatentObservation.from_symbols(rx, tuple(symbols.shape[1:]), val_snr_db))
        return {"val_psnr_db": psnr_db((image - val_images).square().flatten(1).mean(1)).mean().item()}

    return run_epochs(link, config, optimizer, name=f"djscc_link_{channel}", out=options.out, epochs=options.epochs,
                      lr=1e-3, items=len(latents), batch=options.batch, loss=loss, evaluate=evaluate,
                      seed=options.seed, control=options.control)
