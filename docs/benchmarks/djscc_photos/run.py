"""Why Guo et al.'s djscc-mean can beat deep JSCC on a photograph (issue 17): an experiment.

Both codecs normalize the power of each image's whole latent (models.jscc.normalize_power).
Trained on 32 x 32 CIFAR-10 images, deep JSCC's decoder has only seen latents whose power is
spread over one small image; on a 768 x 512 photograph one normalization spans the whole photo,
so busy regions take more of the power and flat ones arrive at a lower SNR than the frame's. The
experiment tests that: the same photo sent as 32 x 32 tiles, each normalized on its own (the
same number of symbols, the same channel), against the whole photo. Per photo of the 24 Kodak
images, genie CSI, AWGN 10 dB and Rayleigh 15 dB (the links of the issue's report): PSNR of jscc
on the whole photo, jscc on 32 x 32 tiles, djscc-mean on the whole photo.

    .venv/bin/python docs/benchmarks/djscc_photos/run.py [DATA_DIR] > docs/benchmarks/djscc_photos/photos.txt
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from diffair.models import registry
from diffair.models.channels import transmit
from diffair.models.data import load_image, to_tensor_batch
from diffair.models.observation import LatentObservation
from diffair.models.symbols import latent_to_symbols
from diffair.testbed.images import pad_images
from diffair.testbed.metrics import psnr_db

TILE = 32
LINKS = (("awgn", 10.0), ("rayleigh", 15.0))


def _decode(name: str, channel: str, snr_db: float, images: torch.Tensor, seed: int) -> torch.Tensor:
    """``images`` ``[B, 3, H, W]`` through receiver ``name``'s transmitter and the genie channel."""
    sender = registry.transmitter_for(name, channel)
    receiver = registry.build(name, channel, switch=False)
    with torch.no_grad():
        sent, _ = sender.encode(images)
        symbols = latent_to_symbols(sent)
        rx = transmit(symbols, torch.full((len(images),), snr_db), channel, torch.Generator().manual_seed(seed))
        return receiver(LatentObservation.from_symbols(rx, tuple(sent.shape[1:]), snr_db)).image.clamp(0, 1)


def _tiles(image: torch.Tensor) -> torch.Tensor:
    """``[3, H, W]`` (sides multiples of TILE) -> ``[N, 3, TILE, TILE]``, row by row."""
    c, h, w = image.shape
    return image.reshape(c, h // TILE, TILE, w // TILE, TILE).permute(1, 3, 0, 2, 4).reshape(-1, c, TILE, TILE)


def _untiled(tiles: torch.Tensor, h: int, w: int) -> torch.Tensor:
    c = tiles.shape[1]
    return tiles.reshape(h // TILE, w // TILE, c, TILE, TILE).permute(2, 0, 3, 1, 4).reshape(c, h, w)


def main(data_dir: Path) -> None:
    records = []
    photos = sorted((data_dir / "kodak24").glob("kodim*.png"))
    print(f"{'photo':>12} {'link':>14} {'jscc':>7} {'jscc tiles':>11} {'djscc-mean':>11}")
    for index, path in enumerate(photos):
        image = load_image(path)
        x = to_tensor_batch(pad_images(image[None], str(path), 16))
        h, w = image.shape[:2]
        reference = image / 255.0
        for channel, snr_db in LINKS:
            whole = _decode("jscc", channel, snr_db, x, index)[0]
            tiled = _untiled(_decode("jscc", channel, snr_db, _tiles(x[0]), index), *x.shape[-2:])
            djscc = _decode("djscc-mean", channel, snr_db, x, index)[0]
            scores = {name: psnr_db(reference, out[:, :h, :w].permute(1, 2, 0).numpy())
                      for name, out in (("jscc", whole), ("jscc_tiles", tiled), ("djscc_mean", djscc))}
            records.append({"photo": path.name, "channel": channel, "snr_db": snr_db, **scores})
            print(f"{path.name:>12} {channel + f' {snr_db:g} dB':>14} {scores['jscc']:>7.2f} {scores['jscc_tiles']:>11.2f} "
                  f"{scores['djscc_mean']:>11.2f}", flush=True)
    for channel, snr_db in LINKS:
        at = [r for r in records if r["channel"] == channel]
        means = {k: float(np.mean([r[k] for r in at])) for k in ("jscc", "jscc_tiles", "djscc_mean")}
        wins = sum(r["djscc_mean"] > r["jscc"] for r in at)
        print(f"mean, {channel} {snr_db:g} dB: " + ", ".join(f"{k} {v:.2f}" for k, v in means.items())
              + f"; djscc-mean above jscc on {wins} of {len(at)} photos")
    Path(__file__).with_name("photos.json").write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DIFFAIR_DATA", "../shared/data")))
