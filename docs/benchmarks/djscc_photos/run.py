"""Why deep JSCC did poorly on photographs, and Guo et al.'s djscc-mean could beat it there
(issue 17): an experiment.

Every codec here was trained on 32 x 32 CIFAR-10 images. Fully convolutional, each accepts a 768 x
512 photograph whole, as the papers' code does; diffair now codes a larger image as 32 x 32 tiles
(models.tiling). Per photo of the 24 Kodak images, genie CSI, AWGN 10 dB and Rayleigh 15 dB (the
links of the issue's report): the PSNR of jscc and of djscc-mean, each with the whole photo through
its networks and tile by tile, the same channel.

    .venv/bin/python docs/benchmarks/djscc_photos/run.py [DATA_DIR] > docs/benchmarks/djscc_photos/photos.txt
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from diffair.models import registry, tiling
from diffair.models.channels import transmit
from diffair.models.data import load_image, to_tensor_batch
from diffair.models.observation import LatentObservation
from diffair.models.provenance import provenance, weights_used
from diffair.models.symbols import latent_to_symbols
from diffair.testbed.images import pad_images
from diffair.testbed.metrics import psnr_db

LINKS = (("awgn", 10.0), ("rayleigh", 15.0))
COLUMNS = (("jscc", False), ("jscc", True), ("djscc-mean", False), ("djscc-mean", True))


def _decode(name: str, channel: str, snr_db: float, images: torch.Tensor, seed: int, tiled: bool) -> torch.Tensor:
    """``images`` ``[B, 3, H, W]`` through receiver ``name``'s transmitter and the genie channel,
    tile by tile or (``tiled`` False) whole through the networks."""
    sender = registry.transmitter_for(name, channel)
    receiver = registry.build(name, channel, switch=False)
    tile_px = tiling.TILE_PX if tiled else max(images.shape[-2:])  # whole: one "tile", the whole image
    with torch.no_grad(), mock.patch.object(tiling, "TILE_PX", tile_px):
        receiver.latent_tile = receiver.latent_tile if tiled else None
        sent, _ = sender.encode(images)
        symbols = latent_to_symbols(sent)
        rx = transmit(symbols, torch.full((len(images),), snr_db), channel, torch.Generator().manual_seed(seed))
        return receiver(LatentObservation.from_symbols(rx, tuple(sent.shape[1:]), snr_db)).image.clamp(0, 1)


KEYS = tuple(f"{name}_{'tiles' if tiled else 'whole'}" for name, tiled in COLUMNS)


def photos(data_dir: Path) -> list[Path]:
    """The 24 Kodak photos in order; photo i's channel is seeded i."""
    return sorted((data_dir / "kodak24").glob("kodim*.png"))


def score_photo(path: Path, seed: int, channel: str, snr_db: float) -> dict[str, float]:
    """One photo's PSNR (dB) in each of ``KEYS``' ways at one link."""
    image = load_image(path)
    x = to_tensor_batch(pad_images(image[None], str(path), tiling.TILE_PX))
    h, w = image.shape[:2]
    return {key: psnr_db(image / 255.0, _decode(name, channel, snr_db, x, seed, tiled)[0, :, :h, :w]
                         .permute(1, 2, 0).numpy()) for key, (name, tiled) in zip(KEYS, COLUMNS)}


def main(data_dir: Path) -> None:
    records = []
    print(f"{'photo':>12} {'link':>14} " + " ".join(f"{k:>16}" for k in KEYS))
    for index, path in enumerate(photos(data_dir)):
        for channel, snr_db in LINKS:
            scores = score_photo(path, index, channel, snr_db)
            records.append({"photo": path.name, "channel": channel, "snr_db": snr_db, **scores})
            print(f"{path.name:>12} {channel + f' {snr_db:g} dB':>14} " + " ".join(f"{scores[k]:>16.2f}" for k in KEYS),
                  flush=True)
    for channel, snr_db in LINKS:
        at = [r for r in records if r["channel"] == channel]
        means = {k: float(np.mean([r[k] for r in at])) for k in KEYS}
        wins = {way: sum(r[f"djscc-mean_{way}"] > r[f"jscc_{way}"] for r in at) for way in ("whole", "tiles")}
        print(f"mean, {channel} {snr_db:g} dB: " + ", ".join(f"{k} {v:.2f}" for k, v in means.items())
              + f"; djscc-mean above jscc on {wins['whole']} / {wins['tiles']} of {len(at)} photos (whole / tiles)")
    weights = {stem: sha for channel, _ in LINKS for stem, sha in weights_used(("jscc", "djscc-mean"), channel).items()}
    origin = provenance(None, dict(sorted(weights.items())), data_dir / "kodak24")  # photo i: channel seed i
    Path(__file__).with_name("photos.json").write_text(json.dumps({"records": records, "provenance": origin}, indent=1)
                                                       + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DIFFAIR_DATA", "../shared/data")))
