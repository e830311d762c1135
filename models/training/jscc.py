"""``diffair train jscc``: train a deep-JSCC codec end to end through a symbol-level channel.

Each image draws its SNR uniformly from [snr_min_db, snr_max_db]; the decoder is told the
per-symbol effective SNR, so one model serves the whole range. Adam, MSE loss, batch 64,
random horizontal flips (optionally only the images of some classes), cosine learning-rate
decay from ``lr`` to ``lr/20`` over ``epochs``; one process or several under torchrun, with
resumable checkpoints (models.training.loop).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from diffair.models.channels import transmit
from diffair.models.checkpoint import load_state, read_tensors
from diffair.models.data import training_and_validation
from diffair.models.jscc import DeepJSCC, JSCCConfig, unbiased
from diffair.models.symbols import latent_to_symbols, symbols_to_latent
from diffair.models.training.loop import RunControl, TrainReport, run_epochs


@dataclass(frozen=True)
class TrainJSCCOptions:
    """What one training run does; see the module docstring."""

    data: Path
    out: Path
    epochs: int = 100
    batch: int = 64
    lr: float = 1e-3
    snr_min_db: float = 0.0
    snr_max_db: float = 20.0
    seed: int = 0
    val_data: Path | None = None
    val_snr_db: float = 10.0
    threads: int = 1
    init: Path | None = None
    classes: tuple[int, ...] | None = None
    control: RunControl = RunControl()


def psnr_db(mse: torch.Tensor) -> torch.Tensor:
    """PSNR for images in [0, 1] from their per-image MSE."""
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-12))


def run_codec(model: DeepJSCC, images: torch.Tensor, snr_db: torch.Tensor, channel: str,
              generator: torch.Generator | None) -> torch.Tensor:
    """Encoder -> symbol channel (+MMSE) -> decoder, ``[B, 3, H, W]`` -> ``[B, 3, H, W]``."""
    latent = model.encoder(images)
    rx = transmit(latent_to_symbols(latent), snr_db, channel, generator)
    shape = tuple(latent.shape[1:])
    snr_map = symbols_to_latent(torch.complex(rx.snr_db, rx.snr_db), shape)
    gain = symbols_to_latent(torch.complex(rx.gain, rx.gain), shape)
    return model.decoder(unbiased(symbols_to_latent(rx.y, shape), gain), snr_map)


@torch.no_grad()
def evaluate(model: DeepJSCC, images: torch.Tensor, snr_db: float, channel: str, seed: int = 1234,
             batch: int = 256) -> float:
    """Mean per-image PSNR (dB) of ``images`` at one SNR, seeded."""
    model.eval()
    generator = torch.Generator(device=images.device).manual_seed(seed)
    scores = []
    for start in range(0, len(images), batch):
        x = images[start:start + batch]
        x_hat = run_codec(model, x, torch.full((len(x),), snr_db, device=x.device), channel, generator)
        scores.append(psnr_db((x_hat - x).square().flatten(1).mean(1)))
    model.train()
    return torch.cat(scores).mean().item()


def train_jscc(config: JSCCConfig, options: TrainJSCCOptions, name: str) -> TrainReport:
    """Train (or resume) and write ``options.out/name.{safetensors,json}``."""
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    control, device = options.control, options.control.workers.device
    train_images, val_images = training_and_validation(options.data, options.val_data, 1017, options.control.limit,
                                                       options.classes)
    train_images, val_images = train_images.to(device), val_images.to(device)
    model = DeepJSCC(config)
    if options.init is not None:  # e.g. the Rayleigh codec starts from the AWGN one
        load_state(model, read_tensors(options.init), options.init)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=options.lr)

    def loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = train_images[indices]
        flip = torch.rand(len(x), generator=generator, device=device) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
        snr = options.snr_min_db + (options.snr_max_db - options.snr_min_db) * torch.rand(
            len(x), generator=generator, device=device)
        return (run_codec(model, x, snr, config.channel, generator) - x).square().mean()

    return run_epochs(model, config, optimizer, name=name, out=options.out, epochs=options.epochs, lr=options.lr,
                      items=len(train_images), batch=options.batch, loss=loss,
                      evaluate=lambda: {"val_psnr_db": evaluate(model, val_images, options.val_snr_db, config.channel)},
                      seed=options.seed, control=control)
