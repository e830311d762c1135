"""Unconditional diffusion priors on latents: ICDM's two priors (``diffair train icdm``) and
the semantic-latent prior of Guo et al. (``diffair train djscc``).

A prior learns unit-variance latents x0 (for ICDM: x0 = sqrt(2) z, the latents a frozen
deep-JSCC encoder makes of one image population, its classes, and of their mirror images)
by plain DDPM noise prediction: x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps, t uniform in [0, T),
loss ||eps - eps_theta(x_t, t)||^2 (Ho et al. 2020). AdamW (lr 2e-4, weight decay 1e-4),
gradient clipping at 1, cosine decay; the validation score is the same loss on validation
latents (held out from the training images, or --val-data) at fixed seeds. One process or several
under torchrun (models.training.loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from diffair.models.checkpoint import load_model
from diffair.models.data import training_and_validation
from diffair.models.denoiser import DenoiserConfig, LatentPrior
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.schedule import NoiseSchedule
from diffair.models.training.cddm import encode_all
from diffair.models.training.loop import RunControl, TrainReport, run_epochs


@dataclass(frozen=True)
class TrainPriorOptions:
    """How one prior trains; ``out`` receives the weights and checkpoints."""

    out: Path
    epochs: int = 10
    batch: int = 128
    lr: float = 2e-4
    size: Mapping[str, int | bool] = field(default_factory=dict)
    seed: int = 0
    control: RunControl = RunControl()


@torch.no_grad()
def codec_latents(codec_dir: Path, codec_name: str, data: Path, classes: tuple[int, ...] | None,
                  val_data: Path | None, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(training latents of ``classes`` (the first ``limit`` images) and their mirror images
    ``[2N, C, H, W]``, up to 512 validation latents: ``val_data``'s test split, or held out from
    the training images when none is given), unit variance per real value, from a frozen
    deep-JSCC encoder."""
    codec = load_model(DeepJSCC, JSCCConfig, codec_dir, codec_name)
    images, val_images = training_and_validation(data, val_data, 512, limit, classes)
    return encode_all(codec.encoder, images) * 2 ** 0.5, codec.encoder(val_images) * 2 ** 0.5


def diffusion_loss(net: torch.nn.Module, x0: torch.Tensor, alphas: torch.Tensor, generator: torch.Generator
                   ) -> torch.Tensor:
    """The DDPM noise-prediction loss of ``net`` on unit-variance latents ``x0`` ``[B, C, H, W]``."""
    t = torch.randint(0, len(alphas), (len(x0),), generator=generator, device=x0.device)
    eps = torch.randn(x0.shape, generator=generator, device=x0.device)
    a = alphas[t].view(-1, 1, 1, 1)
    return (net(a.sqrt() * x0 + (1 - a).sqrt() * eps, t.float()) - eps).square().mean()


def train_prior(latents: torch.Tensor, val_latents: torch.Tensor, options: TrainPriorOptions, name: str
                ) -> TrainReport:
    """Train (or resume) a ``LatentPrior`` on ``latents`` ``[N, C, H, W]`` (unit variance) and
    write ``options.out/name.{safetensors,json}``."""
    torch.manual_seed(options.seed)
    device = options.control.workers.device
    latents, val_latents = latents.to(device), val_latents.to(device)
    config = DenoiserConfig(channels=latents.shape[1], **options.size)
    alphas = torch.as_tensor(NoiseSchedule(steps=config.steps).alphas_cumprod, dtype=torch.float32, device=device)
    net = LatentPrior(config).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=options.lr, weight_decay=1e-4)

    @torch.no_grad()
    def evaluate() -> dict:
        generator = torch.Generator(device=device).manual_seed(5)
        losses = [diffusion_loss(net, val_latents, alphas, generator).item() for _ in range(4)]
        return {"val_loss": sum(losses) / len(losses)}

    return run_epochs(net, config, optimizer, name=name, out=options.out, epochs=options.epochs, lr=options.lr,
                      items=len(latents), batch=options.batch,
                      loss=lambda indices, generator: diffusion_loss(net, latents[indices], alphas, generator),
                      evaluate=evaluate, seed=options.seed, control=options.control, clip_norm=1.0)
