"""``diffair train jscc-mmse`` and ``jscc-interf``: fine-tune the deep-JSCC decoder on
MMSE-equalized symbols (the ``jscc-mmse`` and ``jscc-interf`` baselines, models.baselines).

The codec's encoder is frozen; the decoder starts from the codec's and learns to read y as the
PHY hands it (y = W_s x + W_n n after MMSE equalization, not divided by the gain, not
clipped) with the per-symbol SNR map, over the symbol channel CDDM trains on, one SNR per
image uniform in [snr_min_db, snr_max_db], random flips; AdamW (lr 2e-4, weight decay 1e-4)
with cosine decay. The default 16 epochs are CDDM's two stages together (14 + 2 epochs over
the same images). Validation holds out the last ``val_count`` training images (never the
test split) and reports PSNR at ``val_snr_db`` for the codec's own decoder and this one.

With an ``interferer`` codec it trains ICDM's baseline instead: the wanted images are CIFAR-10's
animals, each batch's symbols meet a batch of vehicles sent by the interferer's codec
(models.interference, y = W_x x + W_z z + w), one SNR per batch uniform in [snr_min_db,
snr_max_db] and one SINR uniform in [sinr_min_db, SNR]; the decoder reads y with the per-symbol
SINR map (interference counted as noise), as ``jscc`` does in that scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from diffair.models.baselines import interference_codec_name, mmse_codec_name
from diffair.models.channels import transmit
from diffair.models.checkpoint import load_model
from diffair.models.data import held_out, load_images, to_tensor_batch
from diffair.models.jscc import DeepJSCC, JSCCConfig, JSCCDecoder, unbiased
from diffair.models.interference import INTERFERER_CLASSES, SIGNAL_CLASSES, transmit_interfered
from diffair.models.observation import InterferedObservation, LatentObservation
from diffair.models.symbols import latent_to_symbols
from diffair.models.training.jscc import psnr_db
from diffair.models.training.loop import RunControl, TrainReport, run_epochs


@dataclass(frozen=True)
class TrainMMSEOptions:
    """data: training images (the last ``val_count`` held out for validation); jscc: the
    frozen codec's .safetensors; channel: "awgn" or "rayleigh"; interferer: the interferer's
    codec (.safetensors) for ICDM's baseline, with ``sinr_min_db`` (module docstring; ``diffair
    train jscc-interf`` sets SNR 10-20 dB, ICDM's sweeps, and validates at SNR 20, SINR 0 dB)."""

    data: Path
    out: Path
    jscc: Path
    channel: str = "rayleigh"
    epochs: int = 16
    batch: int = 128
    lr: float = 2e-4
    snr_min_db: float = 0.0
    snr_max_db: float = 20.0
    val_snr_db: float = 10.0
    val_count: int = 1000
    interferer: Path | None = None
    sinr_min_db: float = -5.0
    seed: int = 0
    threads: int = 1
    control: RunControl = RunControl()


def _observe(codec: DeepJSCC, x: torch.Tensor, snr_db: torch.Tensor, channel: str,
             generator: torch.Generator) -> LatentObservation:
    with torch.no_grad():
        z = codec.encoder(x)
    rx = transmit(latent_to_symbols(z), snr_db, channel, generator)
    return LatentObservation.from_symbols(rx, tuple(z.shape[1:]), float(snr_db.mean()))


def _observe_interfered(codec: DeepJSCC, interferer: DeepJSCC, x: torch.Tensor, v: torch.Tensor, snr_db: float,
                        sinr_db: float, channel: str, generator: torch.Generator) -> InterferedObservation:
    """Images ``x`` sent by ``codec`` under images ``v`` sent by ``interferer``, both ``[B, 3, H, W]``."""
    with torch.no_grad():
        z, interfering = codec.encoder(x), interferer.encoder(v)
    rx = transmit_interfered(latent_to_symbols(z), latent_to_symbols(interfering), snr_db, sinr_db, channel, generator)
    return InterferedObservation.from_interfered(rx, tuple(z.shape[1:]), snr_db, sinr_db)


def _frozen(path: Path, device: torch.device) -> DeepJSCC:
    codec = load_model(DeepJSCC, JSCCConfig, path.parent, path.stem).to(device)
    for p in codec.encoder.parameters():
        p.requires_grad_(False)
    return codec


def _split(options: TrainMMSEOptions, classes: tuple[int, ...] | None, device: torch.device):
    images = to_tensor_batch(load_images(options.data, "train", limit=options.control.limit, classes=classes))
    return tuple(part.to(device) for part in held_out(images, options.val_count))


def _flipped(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image mirrored with probability 1/2."""
    flip = torch.rand(len(x), generator=generator, device=x.device) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)


def train_mmse_decoder(options: TrainMMSEOptions) -> TrainReport:
    """Train (or resume) and write ``out/jscc_mmse_<channel>`` (or, with an interferer,
    ``out/jscc_interf_<channel>``), ``.safetensors`` + ``.json``: a DeepJSCC holding the frozen
    encoder and the fine-tuned decoder."""
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    control, device = options.control, options.control.workers.device
    codec = _frozen(options.jscc, device)
    interfered = options.interferer is not None
    images, val_images = _split(options, SIGNAL_CLASSES if interfered else None, device)
    if interfered:
        interferer = _frozen(options.interferer, device).eval()
        others, val_others = _split(options, INTERFERER_CLASSES, device)
    reference = JSCCDecoder(codec.config).to(device).eval()
    reference.load_state_dict(codec.decoder.state_dict())
    decoder = codec.decoder
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=options.lr, weight_decay=1e-4)

    def uniform(low: float, high: float, count: int, generator: torch.Generator) -> torch.Tensor:
        return low + (high - low) * torch.rand(count, generator=generator, device=device)

    def loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = _flipped(images[indices], generator)
        if interfered:
            snr = float(uniform(options.snr_min_db, options.snr_max_db, 1, generator))
            sinr = float(uniform(options.sinr_min_db, snr, 1, generator))
            pick = torch.randint(0, len(others), (len(x),), generator=generator, device=device)
            obs = _observe_interfered(codec, interferer, x, _flipped(others[pick], generator), snr, sinr,
                                      options.channel, generator)
        else:
            snr = uniform(options.snr_min_db, options.snr_max_db, len(x), generator)
            obs = _observe(codec, x, snr, options.channel, generator)
        return (decoder(obs.y, obs.snr_map_db) - x).square().mean()

    @torch.no_grad()
    def evaluate() -> dict:
        generator = torch.Generator(device=device).manual_seed(11)
        if interfered:  # at SINR 0 dB, the middle of ICDM's validated range
            pick = torch.arange(len(val_images), device=device) % len(val_others)
            obs = _observe_interfered(codec, interferer, val_images, val_others[pick], options.val_snr_db, 0.0,
                                      options.channel, generator)
        else:
            obs = _observe(codec, val_images, torch.full((len(val_images),), options.val_snr_db, device=device),
                           options.channel, generator)
        scores = {}
        for label, image in (("jscc", reference(unbiased(obs.y, obs.gain), obs.snr_map_db)),
                             ("fine_tuned", decoder(obs.y, obs.snr_map_db))):
            scores[f"val_psnr_db_{label}"] = psnr_db((image - val_images).square().flatten(1).mean(1)).mean().item()
        return scores

    name = (interference_codec_name if interfered else mmse_codec_name)(options.channel)
    return run_epochs(decoder, codec.config, optimizer, name=name, out=options.out,
                      epochs=options.epochs, lr=options.lr, items=len(images), batch=options.batch, loss=loss,
                      evaluate=evaluate, seed=options.seed, control=control, weights_module=codec)
