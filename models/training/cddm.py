"""``diffair train cddm``: CDDM's stages 2 and 3 on a frozen deep-JSCC encoder.

Stage 2 (denoiser): latents x0 = sqrt(2) z of the training images (and their mirror images)
from the frozen encoder; per image an SNR drawn from [snr_min_db, snr_max_db] and a channel
realization give W_s and W_n; t uniform in [0, T); loss ||eps - eps_theta(x_t, t, W_s, W_n)||^2
with x_t = sqrt(a_t) W_s x0 + sqrt(1 - a_t) W_n eps. AdamW (lr 2e-4, weight decay 1e-4),
gradient clipping at 1, cosine decay; one process or several under torchrun
(models.training.loop).

Stage 3 (decoder): encoder and denoiser frozen; the decoder, started from the JSCC decoder (or
from ``init``'s, e.g. the jscc-mmse baseline's, which already reads W_s-scaled latents with
their SNR map), is re-trained on the CDDM receiver's output (K-step sampler), one SNR per batch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import torch

from diffair.models.channels import transmit
from diffair.models.checkpoint import load_model
from diffair.models.data import training_and_validation
from diffair.models.denoiser import DenoiserConfig, LatentUNet
from diffair.models.jscc import DeepJSCC, JSCCConfig, JSCCDecoder
from diffair.models.observation import LatentObservation
from diffair.models.receivers import CDDMReceiver, JSCCReceiver
from diffair.models.sampler import forward_diffuse
from diffair.models.schedule import NoiseSchedule
from diffair.models.symbols import latent_to_symbols
from diffair.models.training.loop import RunControl, TrainReport, run_epochs


@dataclass(frozen=True)
class TrainCDDMOptions:
    """data: training images; jscc_dir / jscc_name: the frozen codec; channel: "awgn" or
    "rayleigh"; sampler_steps: K used by stage 3 and the validation."""

    data: Path
    out: Path
    jscc_dir: Path
    jscc_name: str
    channel: str = "rayleigh"
    epochs: int = 40
    batch: int = 128
    lr: float = 2e-4
    snr_min_db: float = 0.0
    snr_max_db: float = 20.0
    val_snr_db: float = 15.0
    sampler_steps: int = 10
    seed: int = 0
    threads: int = 1
    val_data: Path | None = None
    init: Path | None = None
    control: RunControl = RunControl()


def _observe(z: torch.Tensor, snr_db: torch.Tensor, channel: str, generator: torch.Generator | None
             ) -> tuple[LatentObservation, torch.Tensor]:
    """Send latents ``[B, C, H, W]`` over the symbol channel; the observation (batch SNR = the
    mean) and the per-value W_n ``[B, C, H, W]`` computed with each image's own SNR."""
    rx = transmit(latent_to_symbols(z), snr_db, channel, generator)
    obs = LatentObservation.from_symbols(rx, tuple(z.shape[1:]), float(snr_db.mean()))
    sigma = (10 ** (-snr_db / 20)).view(-1, 1, 1, 1).to(z.device)
    return obs, obs.noise_var.sqrt() / sigma


@torch.no_grad()
def encode_all(encoder: torch.nn.Module, images: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Latents of ``images`` and of their mirror images, ``[2N, C, H, W]``."""
    parts = [encoder(images[i:i + batch]) for i in range(0, len(images), batch)]
    parts += [encoder(images[i:i + batch].flip(-1)) for i in range(0, len(images), batch)]
    return torch.cat(parts)


@torch.no_grad()
def latent_mse_db(receiver: torch.nn.Module, z: torch.Tensor, snr_db: float, channel: str, seed: int = 7
                  ) -> tuple[float, float]:
    """(MMSE-only, receiver) latent MSE per real value in dB, with z scaled to unit variance
    per real value (CDDM's MSE_channel and MSE_channel+CDDM)."""
    generator = torch.Generator(device=z.device).manual_seed(seed)
    obs, _ = _observe(z, torch.full((len(z),), snr_db, device=z.device), channel, generator)
    estimate = receiver.denoise(obs) if isinstance(receiver, CDDMReceiver) else obs.y
    mmse = 10 * math.log10(((obs.y - z) * 2 ** 0.5).square().mean().item())
    ours = 10 * math.log10(((estimate - z) * 2 ** 0.5).square().mean().item())
    return mmse, ours


def _frozen_codec(options: TrainCDDMOptions) -> DeepJSCC:
    codec = load_model(DeepJSCC, JSCCConfig, options.jscc_dir, options.jscc_name)
    for p in codec.parameters():
        p.requires_grad_(False)
    return codec.to(options.control.workers.device)


def _images(options: TrainCDDMOptions) -> tuple[torch.Tensor, torch.Tensor]:
    """(the training images, up to ``--limit``; 512 validation images: ``val_data``'s test split
    when given, else held out from the end of the training images), on the run's device."""
    device = options.control.workers.device
    images, val_images = training_and_validation(options.data, options.val_data, 512, options.control.limit)
    return images.to(device), val_images.to(device)


def train_denoiser(options: TrainCDDMOptions, name: str, size: Mapping[str, int | bool] = MappingProxyType({})
                   ) -> TrainReport:
    """Stage 2: train a latent denoiser for the codec's latents; writes ``out/name.{safetensors,json}``.
    ``size``: DenoiserConfig's width / patch / blocks (default: the config's)."""
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    control, device = options.control, options.control.workers.device
    codec = _frozen_codec(options)
    config = DenoiserConfig(channels=codec.config.channels, **size)
    images, val_images = _images(options)
    latents, val_z = encode_all(codec.encoder, images), codec.encoder(val_images)
    schedule = NoiseSchedule(steps=config.steps)
    alphas = torch.as_tensor(schedule.alphas_cumprod, dtype=torch.float32, device=device)
    net = LatentUNet(config).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=options.lr, weight_decay=1e-4)

    def loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = latents[indices]
        snr = options.snr_min_db + (options.snr_max_db - options.snr_min_db) * torch.rand(
            len(z), generator=generator, device=device)
        obs, w_n = _observe(z, snr, options.channel, generator)
        t = torch.randint(0, config.steps, (len(z),), generator=generator, device=device)
        eps = torch.randn(z.shape, generator=generator, device=device)
        x_t = forward_diffuse(z * 2 ** 0.5, eps, alphas[t].view(-1, 1, 1, 1), obs.gain, w_n)
        return (net(x_t, t.float(), obs.gain, w_n) - eps).square().mean()

    def evaluate() -> dict:
        receiver = CDDMReceiver(net, codec.decoder, schedule, options.sampler_steps)
        mmse, cddm = latent_mse_db(receiver, val_z, options.val_snr_db, options.channel)
        return {"val_latent_mse_db_mmse": mmse, "val_latent_mse_db_cddm": cddm}

    return run_epochs(net, config, optimizer, name=name, out=options.out, epochs=options.epochs, lr=options.lr,
                      items=len(latents), batch=options.batch, loss=loss, evaluate=evaluate,
                      seed=options.seed, control=control, clip_norm=1.0)


def train_cddm_decoder(options: TrainCDDMOptions, denoiser_name: str, name: str) -> TrainReport:
    """Stage 3: re-train the decoder on CDDM outputs; writes ``out/name`` (a DeepJSCC whose
    encoder is the frozen one and whose decoder is the re-trained one)."""
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    control, device = options.control, options.control.workers.device
    codec = _frozen_codec(options)
    denoiser = load_model(LatentUNet, DenoiserConfig, options.out, denoiser_name).to(device)
    images, val_images = _images(options)
    decoder = JSCCDecoder(codec.config)
    start = codec if options.init is None else load_model(DeepJSCC, JSCCConfig, options.init.parent, options.init.stem)
    decoder.load_state_dict(start.decoder.state_dict())
    decoder.to(device)
    codec.decoder = decoder
    receiver = CDDMReceiver(denoiser, decoder, steps=options.sampler_steps)
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=options.lr, weight_decay=1e-4)

    def loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = images[indices]
        snr = options.snr_min_db + (options.snr_max_db - options.snr_min_db) * torch.rand(
            1, generator=generator, device=device)
        with torch.no_grad():
            obs, _ = _observe(codec.encoder(x), snr.expand(len(x)), options.channel, generator)
            latent = receiver.denoise(obs)
        return (decoder(latent, obs.snr_map_db) - x).square().mean()

    @torch.no_grad()
    def evaluate() -> dict:
        generator = torch.Generator(device=device).manual_seed(11)
        z = codec.encoder(val_images)
        obs, _ = _observe(z, torch.full((len(z),), options.val_snr_db, device=device), options.channel, generator)
        scores = {}
        for label, rx in (("jscc", JSCCReceiver(_frozen_codec(options).decoder)), ("cddm", receiver)):
            image, _ = rx(obs)
            mse = (image - val_images).square().flatten(1).mean(1)
            scores[f"val_psnr_db_{label}"] = (10 * torch.log10(1 / mse)).mean().item()
        return scores

    return run_epochs(decoder, codec.config, optimizer, name=name, out=options.out, epochs=options.epochs,
                      lr=options.lr, items=len(images), batch=options.batch, loss=loss,
                      evaluate=evaluate, seed=options.seed, control=control, weights_module=codec)
