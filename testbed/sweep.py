"""``diffair sweep``: PSNR / SSIM / latent MSE versus SNR for each receiver and channel.

All images of one (channel, SNR) point travel as one payload: through the PHY and the
loopback channel (default; CFO and timing as in ``diffair loopback``), or with ``genie``
over the symbol-level channel with perfect CSI (fast). Writes sweep.csv, sweep.json and
sweep.png into ``out``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from dsp.frame import FrameFormat
from models.channels import transmit
from models.data import load_images, to_tensor_batch
from models.receivers import LatentObservation
from models.registry import WEIGHTS_DIR, available_receivers, build_receiver, load_codec
from models.symbols import latent_to_symbols
from testbed.loopback import check_image, through_phy
from testbed.metrics import latent_mse_db, psnr_db, ssim


@dataclass(frozen=True)
class SweepOptions:
    data: Path
    limit: int | None = 256
    snr_db: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0, 20.0)
    channels: tuple[str, ...] = ("awgn",)
    receivers: tuple[str, ...] = ()
    steps: int | None = 10
    genie: bool = False
    cfo_hz: float = 10e3
    seed: int = 0
    out: Path = Path("reports/sweep")
    weights: Path = WEIGHTS_DIR
    batch: int = 256


def _point(codec, receivers, images, snr_db, channel, options, fmt) -> list[dict]:
    rows = []
    scores = {name: {"psnr_db": [], "ssim": [], "latent_mse_db": []} for name in receivers}
    for start in range(0, len(images), options.batch):
        x = images[start:start + options.batch]
        with torch.no_grad():
            z = codec.encoder(x)
            symbols = latent_to_symbols(z)
            if options.genie:
                generator = torch.Generator().manual_seed(options.seed + start)
                rx = transmit(symbols, torch.full((len(x),), snr_db), channel, generator)
                snr_used = snr_db
            else:
                flat, link = through_phy(symbols.reshape(-1).numpy(), snr_db, channel, options.cfo_hz,
                                         options.seed + start, fmt)
                rx = type(flat)(*(v.reshape(symbols.shape) for v in (flat.y, flat.gain, flat.noise_var)))
                snr_used = link["snr_db_est"] if link["snr_db_est"] is not None else snr_db
            obs = LatentObservation.from_symbols(rx, tuple(z.shape[1:]), snr_used)
            reference = x.permute(0, 2, 3, 1).numpy()
            for name, receiver in receivers.items():
                decoded, latent = receiver(obs)
                decoded = decoded.clamp(0, 1).permute(0, 2, 3, 1).numpy()
                for i in range(len(x)):
                    scores[name]["psnr_db"].append(psnr_db(reference[i], decoded[i]))
                    scores[name]["ssim"].append(ssim(reference[i], decoded[i]))
                    scores[name]["latent_mse_db"].append(latent_mse_db(z[i].numpy(), latent[i].numpy()))
    for name, s in scores.items():
        rows.append({"receiver": name, "channel": channel, "snr_db": snr_db, "psnr_db": float(np.mean(s["psnr_db"])),
                     "ssim": float(np.mean(s["ssim"])),
                     "latent_mse_db": float(10 * np.log10(np.mean(10 ** (np.array(s["latent_mse_db"]) / 10)))),
                     "images": len(images), "genie": options.genie})
    return rows


def run_sweep(options: SweepOptions, progress: bool = True) -> dict:
    """Every (channel, SNR, receiver) point; returns {"results": [...]} and writes the files."""
    uint8 = load_images(options.data, "test", options.limit)
    check_image(uint8[0], str(options.data))
    images = to_tensor_batch(uint8)
    fmt = FrameFormat()
    results = []
    points = [(c, s) for c in options.channels for s in options.snr_db]
    for channel, snr_db in tqdm(points, desc="sweep", disable=not progress):
        names = list(options.receivers) or available_receivers(channel, options.weights)
        codec = load_codec(channel, options.weights)
        receivers = {n: build_receiver(n, channel, options.steps, options.weights) for n in names}
        results += _point(codec, receivers, images, snr_db, channel, options, fmt)
    write_sweep(results, options.out)
    return {"results": results}


def write_sweep(results: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "sweep.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    (out / "sweep.json").write_text(json.dumps({"results": results}, indent=2) + "\n")
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for metric, ax in zip(("psnr_db", "ssim", "latent_mse_db"), axes):
        for key in sorted({(r["receiver"], r["channel"]) for r in results}):
            rows = sorted((r for r in results if (r["receiver"], r["channel"]) == key), key=lambda r: r["snr_db"])
            ax.plot([r["snr_db"] for r in rows], [r[metric] for r in rows], marker="o", label=f"{key[0]} / {key[1]}")
        ax.set_xlabel("SNR (dB)")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "sweep.png", dpi=110)
    plt.close(fig)
