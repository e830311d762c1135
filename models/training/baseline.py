"""``diffair train jscc-mmse``: fine-tune the deep-JSCC decoder on MMSE-equalized symbols
(the ``jscc-mmse`` baseline, models.baselines).

The codec's encoder is frozen; the decoder starts from the codec's and learns to read y as the
PHY hands it (y = W_s x + W_n n after MMSE equalization, not divided by the gain, not
clipped) with the per-symbol SNR map, over the symbol channel CDDM trains on, one SNR per
image uniform in [snr_min_db, snr_max_db], random flips; AdamW (lr 2e-4, weight decay 1e-4)
with cosine decay. The default 16 epochs are CDDM's two stages together (14 + 2 epochs over
the same images). Validation holds out the last ``val_count`` training images (never the
test split) and reports PSNR at ``val_snr_db`` for the codec's own decoder and this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from diffair.models.baselines import mmse_codec_name
from diffair.models.channels import transmit
from diffair.models.checkpoint import load_model
from diffair.models.data import held_out, load_images, to_tensor_batch
from diffair.models.jscc import DeepJSCC, JSCCConfig, JSCCDecoder, unbiased
from diffair.models.observation import LatentObservation
from diffair.models.symbols import latent_to_symbols
from diffair.models.training.jscc import psnr_db
from diffair.models.training.loop import RunControl, TrainReport, run_epochs


@dataclass(frozen=True)
class TrainMMSEOptions:
    """data: training images (the last ``val_count`` held out for validation); jscc: the
    frozen codec's .safetensors; channel: "awgn" or "rayleigh"."""

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
    seed: int = 0
    threads: int = 1
    control: RunControl = RunControl()


def _observe(codec: DeepJSCC, x: torch.Tensor, snr_db: torch.Tensor, channel: str,
             generator: torch.Generator) -> LatentObservation:
    with torch.no_grad():
        z = codec.encoder(x)
    rx = transmit(latent_to_symbols(z), snr_db, channel, generator)
    return LatentObservation.from_symbols(rx, tuple(z.shape[1:]), float(snr_db.mean()))


def train_mmse_decoder(options: TrainMMSEOptions) -> TrainReport:
    """Train (or resume) and write ``out/jscc_mmse_<channel>.{safetensors,json}`` (a DeepJSCC:
    the frozen encoder and the fine-tuned decoder)."""
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    control, device = options.control, options.control.workers.device
    codec = load_model(DeepJSCC, JSCCConfig, options.jscc.parent, options.jscc.stem).to(device)
    for p in codec.encoder.parameters():
        p.requires_grad_(False)
    images, val_images = held_out(to_tensor_batch(load_images(options.data, "train", limit=control.limit)),
                                  options.val_count)
    images, val_images = images.to(device), val_images.to(device)
    reference = JSCCDecoder(codec.config).to(device).eval()
    reference.load_state_dict(codec.decoder.state_dict())
    decoder = codec.decoder
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=options.lr, weight_decay=1e-4)

    def loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        x = images[indices]
        x = torch.where((torch.rand(len(x), generator=generator, device=device) < 0.5).view(-1, 1, 1, 1),
                        x.flip(-1), x)
        snr = options.snr_min_db + (options.snr_max_db - options.snr_min_db) * torch.rand(
            len(x), generator=generator, device=device)
        obs = _observe(codec, x, snr, options.channel, generator)
        return (decoder(obs.y, obs.snr_map_db) - x).square().mean()

    @torch.no_grad()
    def evaluate() -> dict:
        generator = torch.Generator(device=device).manual_seed(11)
        obs = _observe(codec, val_images, torch.full((len(val_images),), options.val_snr_db, device=device),
                       options.channel, generator)
        scores = {}
        for label, image in (("jscc", reference(unbiased(obs.y, obs.gain), obs.snr_map_db)),
                             ("jscc_mmse", decoder(obs.y, obs.snr_map_db))):
            scores[f"val_psnr_db_{label}"] = psnr_db((image - val_images).square().flatten(1).mean(1)).mean().item()
        return scores

    return run_epochs(decoder, codec.config, optimizer, name=mmse_codec_name(options.channel), out=options.out,
                      epochs=options.epochs, lr=options.lr, items=len(images), batch=options.batch, loss=loss,
                      evaluate=evaluate, seed=options.seed, control=control, weights_module=codec)
