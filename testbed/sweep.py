"""``diffair sweep``: PSNR / SSIM / latent MSE versus SNR for each receiver and channel.

The images of one (channel, SNR) point travel in batches of ``batch``, each as one payload
seeded ``seed + first image``: through the PHY and the loopback channel (default; CFO and
timing as in ``diffair loopback``), or with ``genie`` over the symbol-level channel with
perfect CSI (fast). Every diffusion receiver's row names the strongest non-diffusion receiver
of its point, its PSNR gain over it and the gain's paired bootstrap 95% CI (``compare_point``). Under torchrun the (point, batch) units are dealt over the ranks and the
per-image scores gathered on rank 0, which writes sweep.csv, sweep.json and sweep.png into
``out``: the same numbers as one process.

With ``sinr_db`` the link carries ICDM's interferer: the wanted user sends the CIFAR-10
animals of the test split with the ICDM signal codec, the interferer the vehicles with its
own codec, frame-synchronous through the PHY (radio.interferer.SynchronousInterferer; the PHY
estimates both channels), or with ``genie`` at symbol level with perfect CSI
(models.interference); every (channel, SNR, SINR) point is scored.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from diffair.dsp.frame import SOUNDING_SYMBOLS, FrameFormat
from diffair.models import registry
from diffair.models.channels import EqualizedSymbols, transmit
from diffair.models.data import load_images, to_tensor_batch
from diffair.models.distributed import Workers
from diffair.models.interference import (INTERFERER_CLASSES, SIGNAL_CLASSES, InterferedSymbols, sinr_of,
                                         transmit_interfered)
from diffair.models.observation import InterferedObservation, LatentObservation
from diffair.models.provenance import provenance, weights_used
from diffair.models.symbols import latent_to_symbols
from diffair.testbed.baselines import paired_ci95, versus_best_baseline
from diffair.testbed.images import crop_images, pad_images
from diffair.testbed.loopback import by_transmitter, default_receivers, sir_for_sinr, through_phy
from diffair.testbed.metrics import IMAGE_METRICS, LPIPS_KEY, image_metrics, latent_mse_db, psnr_db


@dataclass(frozen=True)
class SweepOptions:
    data: Path
    limit: int | None = 256
    snr_db: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0, 20.0)
    channels: tuple[str, ...] = ("awgn",)
    receivers: tuple[str, ...] = ()
    steps: int | str | None = None
    genie: bool = False
    cfo_hz: float = 30e3
    seed: int = 0
    out: Path = Path("reports/sweep")
    weights: Path = registry.WEIGHTS_DIR
    batch: int = 256
    sinr_db: tuple[float, ...] = ()
    interferer_cfo_hz: float = 0.0
    sounding_symbols: int = SOUNDING_SYMBOLS
    switch: bool = True
    lpips: Path | None = None
    metrics: tuple[str, ...] | None = None  # the image metrics to score (None: all; PSNR always)


def _score(receivers: dict, obs: LatentObservation, x: torch.Tensor, z: torch.Tensor, scores: dict,
           metrics: dict) -> None:
    """Run every receiver on ``obs`` and append per-image scores (``metrics``: PSNR, SSIM, MS-SSIM,
    VIF, LPIPS where asked) and latent MSE (against the reference latent ``z``, each receiver's
    own) to ``scores``. The scores are of each receiver's own method; where its switch table
    (models.switching) hands ``obs`` to a baseline, that decode's PSNR is kept too
    (``switched_psnr_db``: what a user gets by default)."""
    reference = x.permute(0, 2, 3, 1).numpy()

    def as_images(decoded: torch.Tensor) -> np.ndarray:
        return crop_images(decoded.clamp(0, 1), tuple(x.shape[-2:])).permute(0, 2, 3, 1).numpy()

    for name, receiver in receivers.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            by_default = receiver.decode(obs)
            switched_to = receiver.switched_to
            decoded, latent = receiver.decode(obs, switch=False) if switched_to else by_default
        scores[name]["warnings"].update(str(w.message) for w in caught)
        decoded = as_images(decoded)
        for metric, score in metrics.items():
            scores[name][metric].extend(score(reference, decoded))
        scores[name]["latent_mse_db"].extend(latent_mse_db(z[i].numpy(), latent[i].numpy()) for i in range(len(x)))
        switched = psnr_db(reference, as_images(by_default.image)) if switched_to else scores[name]["psnr_db"][-len(x):]
        scores[name]["switched_psnr_db"].extend(switched)
        scores[name]["switched_to"].extend([switched_to] * len(x))


def _rows(scores: dict, point: dict, images: int, genie: bool, metrics: dict) -> list[dict]:
    """One result row per receiver: the point's keys and the means of its scores."""
    rows = []
    for name, s in scores.items():
        row = {"receiver": name, **point, **{metric: float(np.mean(s[metric])) for metric in metrics},
               "latent_mse_db": float(10 * np.log10(np.mean(10 ** (np.array(s["latent_mse_db"]) / 10)))),
               "images": images, "genie": genie}
        switched = [b for b in s["switched_to"] if b]
        if switched:  # how many images a baseline decoded in its place by default, and their PSNR then
            row |= {"switched_to": ", ".join(sorted(set(switched))), "switched_images": len(switched),
                    "switched_psnr_db": float(np.mean(s["switched_psnr_db"]))}
        if s["warnings"]:
            row["warnings"] = "; ".join(sorted(s["warnings"]))
        rows.append(row)
    return rows


def _new_scores(receivers: dict, metrics: dict) -> dict:
    return {name: {**{metric: [] for metric in metrics}, "latent_mse_db": [], "switched_psnr_db": [],
                   "switched_to": [], "warnings": set()}
            for name in receivers}


def _merged(parts: list[dict]) -> dict:
    """Per-receiver scores of several batches, concatenated in the given order."""
    merged = {name: {key: set() if key == "warnings" else [] for key in scores} for name, scores in parts[0].items()}
    for part in parts:
        for name, scores in part.items():
            for key, values in scores.items():
                if key == "warnings":
                    merged[name][key].update(values)
                else:
                    merged[name][key].extend(values)
    return merged


def _shared_out(points: int, images: int, batch: int, compute: Callable[[int, int], Any], workers: Workers,
                progress: bool) -> list[list[Any]] | None:
    """Run ``compute(point, start)`` for every point and every batch of images starting at
    ``start``, the units dealt round-robin over the ranks; on rank 0 returns the results as
    ``[point][batch]``, on the other ranks ``None``. A unit's result depends on its point and
    its first image only (its seed is ``seed + start``), so any number of ranks gives the
    same numbers."""
    starts = range(0, images, batch)
    units = [(point, start) for point in range(points) for start in starts]
    mine = units[workers.rank::workers.world_size]
    done = {unit: compute(*unit) for unit in tqdm(mine, desc="sweep", disable=not (progress and workers.is_main))}
    gathered = workers.gather(done)
    if gathered is None:
        return None
    results = {unit: result for part in gathered for unit, result in part.items()}
    return [[results[(point, start)] for start in starts] for point in range(points)]


def _batch_scores(senders, receivers, x, coded, start, snr_db, channel, options, fmt) -> dict:
    """Per-image scores of every receiver for the images ``x`` (the sweep's images from
    ``start`` on), sent as one payload per transmitter; ``coded[transmitter]``: the same images
    padded to that transmitter's multiple."""
    metrics = image_metrics(options.lpips, options.metrics)
    scores = _new_scores(receivers, metrics)
    for transmitter, names in by_transmitter(receivers).items():
        with torch.no_grad():
            sent, reference = senders[transmitter].encode(coded[transmitter])
            symbols = latent_to_symbols(sent)
            if options.genie:
                generator = torch.Generator().manual_seed(options.seed + start)
                rx = transmit(symbols, torch.full((len(x),), snr_db), channel, generator)
                snr_used = snr_db
            else:
                flat, link = through_phy(symbols.reshape(-1).numpy(), snr_db, channel, options.cfo_hz,
                                         options.seed + start, fmt)
                rx = _per_image(flat, symbols.shape)
                snr_used = link["snr_db_est"] if link["snr_db_est"] is not None else snr_db
            obs = LatentObservation.from_symbols(rx, tuple(sent.shape[1:]), snr_used)
            _score({n: receivers[n] for n in names}, obs, x, reference, scores, metrics)
    return scores


def _per_image(flat: EqualizedSymbols | InterferedSymbols, shape: torch.Size) -> EqualizedSymbols | InterferedSymbols:
    """A payload's statistics ``[1, B*K]`` back to one row per image ``[B, K]``."""
    if isinstance(flat, InterferedSymbols):
        return InterferedSymbols(_per_image(flat.wanted, shape), flat.cross.reshape(shape))
    return EqualizedSymbols(*(v.reshape(shape) for v in (flat.y, flat.gain, flat.noise_var)))


def _interfered_batch_scores(codec, interferer, receivers, x, others, start, snr_db, sinr_db, channel, options,
                             fmt) -> tuple[dict, float | None]:
    """ICDM's scenario for the wanted images ``x`` against the interferers ``others``: through
    the PHY with a synchronous interferer (the receivers told the estimated SNR and SINR), or
    with ``genie`` at symbol level with perfect CSI. ``codec``, ``interferer``: the two users' transmitters.
    Returns (per-image scores, the SINR estimate or ``None`` with ``genie``)."""
    metrics = image_metrics(options.lpips, options.metrics)
    scores = _new_scores(receivers, metrics)
    with torch.no_grad():
        z, _ = codec.encode(x)
        signal, interference = latent_to_symbols(z), latent_to_symbols(interferer.encode(others)[0])
        if options.genie:
            rx = transmit_interfered(signal, interference, snr_db, sinr_db, channel,
                                     torch.Generator().manual_seed(options.seed + start))
            snr_used, sinr_used, estimate = snr_db, sinr_db, None
        else:
            flat, link = through_phy(signal.reshape(-1).numpy(), snr_db, channel, options.cfo_hz,
                                     options.seed + start, fmt, sir_for_sinr(snr_db, sinr_db),
                                     options.interferer_cfo_hz, interference.reshape(-1).numpy(),
                                     options.sounding_symbols)
            rx = _per_image(flat, signal.shape)
            snr_used = snr_db if link["snr_db_est"] is None else link["snr_db_est"]
            sinr_used = estimate = sinr_of(snr_used, link["sir_db_est"])
        obs = InterferedObservation.from_interfered(rx, tuple(z.shape[1:]), snr_used, sinr_used)
        _score(receivers, obs, x, z, scores, metrics)
    return scores, estimate


def run_interference_sweep(options: SweepOptions, progress: bool = True, workers: Workers = Workers()) -> dict:
    """ICDM's scenario: every (channel, SNR, SINR, receiver) point, shared out over ``workers``."""
    wanted = to_tensor_batch(load_images(options.data, "test", options.limit, classes=SIGNAL_CLASSES))
    interferers = to_tensor_batch(load_images(options.data, "test", classes=INTERFERER_CLASSES))
    interferer = registry.load_interferer_transmitter(options.weights)
    points = [(c, s, i) for c in options.channels for s in options.snr_db for i in options.sinr_db]
    setups: dict[str, tuple[dict, Any]] = {}

    def compute(point: int, start: int) -> tuple[dict, float | None]:
        channel, snr_db, sinr_db = points[point]
        if channel not in setups:
            names = list(options.receivers) or default_receivers(channel, "interference", options.weights)
            setups[channel] = ({n: registry.build(n, channel, options.steps, options.weights, "interference",
                                                  switch=options.switch) for n in names},
                               registry.build_transmitter("jscc", channel, options.weights, "interference"))
        receivers, codec = setups[channel]
        x = wanted[start:start + options.batch]
        others = interferers[torch.arange(start, start + len(x)) % len(interferers)]
        return _interfered_batch_scores(codec, interferer, receivers, x, others, start, snr_db, sinr_db,
                                        channel, options, FrameFormat())

    per_point = _shared_out(len(points), len(wanted), options.batch, compute, workers, progress)
    if per_point is None:
        return {"results": []}
    results = []
    metrics = image_metrics(options.lpips, options.metrics)
    for (channel, snr_db, sinr_db), batches in zip(points, per_point):
        point = {"channel": channel, "snr_db": snr_db, "sinr_db": sinr_db}
        estimates = [estimate for _, estimate in batches if estimate is not None]
        if estimates:
            point |= {"sinr_db_est": float(np.mean(estimates)), "interferer_cfo_hz": options.interferer_cfo_hz,
                      "sounding_symbols": options.sounding_symbols}
        scores = _merged([scores for scores, _ in batches])
        results += compare_point(_rows(scores, point, len(wanted), options.genie, metrics), scores)
    origin = _origin(options, "interference")
    write_sweep(results, options.out, x_key="sinr_db", origin=origin)
    return {"results": results, "provenance": origin}


def run_sweep(options: SweepOptions, progress: bool = True, workers: Workers = Workers()) -> dict:
    """Every (channel, SNR, receiver) point, its batches shared out over ``workers`` (the
    processes torchrun started; one by default). Rank 0 returns {"results": [...]} and writes
    the files; the other ranks return {"results": []}."""
    if options.sinr_db:
        return run_interference_sweep(options, progress, workers)
    uint8 = load_images(options.data, "test", options.limit)
    images = to_tensor_batch(uint8)
    fmt = FrameFormat()
    points = [(c, s) for c in options.channels for s in options.snr_db]
    setups: dict[str, tuple[dict, dict]] = {}
    padded: dict[int, torch.Tensor] = {}  # the images padded to each codec multiple (any size goes)

    def compute(point: int, start: int) -> dict:
        channel, snr_db = points[point]
        if channel not in setups:
            names = list(options.receivers) or default_receivers(channel, "plain", options.weights)
            senders = {t: registry.build_transmitter(t, channel, options.weights) for t in by_transmitter(names)}
            for sender in senders.values():
                if sender.multiple not in padded:
                    padded[sender.multiple] = to_tensor_batch(pad_images(uint8, str(options.data), sender.multiple))
            setups[channel] = ({n: registry.build(n, channel, options.steps, options.weights, switch=options.switch)
                                for n in names}, senders)
        receivers, senders = setups[channel]
        batch = slice(start, start + options.batch)
        coded = {t: padded[sender.multiple][batch] for t, sender in senders.items()}
        return _batch_scores(senders, receivers, images[batch], coded, start, snr_db, channel, options, fmt)

    per_point = _shared_out(len(points), len(images), options.batch, compute, workers, progress)
    if per_point is None:
        return {"results": []}
    results = []
    metrics = image_metrics(options.lpips, options.metrics)
    for (channel, snr_db), batches in zip(points, per_point):
        scores = _merged(batches)
        point = {"channel": channel, "snr_db": snr_db}
        results += compare_point(_rows(scores, point, len(images), options.genie, metrics), scores)
    origin = _origin(options, "plain")
    write_sweep(results, options.out, origin=origin)
    return {"results": results, "provenance": origin}


def compare_point(rows: list[dict], scores: dict) -> list[dict]:
    """Add to each diffusion receiver's row of one point the strongest non-diffusion receiver
    of that point, ``best_baseline``, its PSNR gain over it, ``psnr_gain_db`` (negative: it
    loses), and the paired bootstrap 95% CI of that gain over the point's images,
    ``psnr_gain_ci95_db``; ``scores``: the point's per-image scores by receiver."""
    by_name = {r["receiver"]: r for r in rows}
    for name, comparison in versus_best_baseline({n: r["psnr_db"] for n, r in by_name.items()}).items():
        gain = np.subtract(scores[name]["psnr_db"], scores[comparison["best_baseline"]]["psnr_db"])
        by_name[name] |= comparison | {"psnr_gain_ci95_db": list(paired_ci95(gain))}
        if "switched_psnr_db" in by_name[name]:
            gain = np.subtract(scores[name]["switched_psnr_db"], scores[comparison["best_baseline"]]["psnr_db"])
            by_name[name] |= {"switched_psnr_gain_db": float(gain.mean())}
    return rows


def _origin(options: SweepOptions, scenario: str) -> dict:
    """The sweep's provenance: command, commit, seed, the weights of every receiver asked for
    (or by default) on every channel, the data's checksum."""
    weights: dict[str, str] = {}
    for channel in options.channels:
        names = list(options.receivers) or default_receivers(channel, scenario, options.weights)
        weights |= weights_used(names, channel, scenario, options.weights)
    return provenance(options.seed, weights, options.data)


def write_sweep(results: list[dict], out: Path, x_key: str = "snr_db", origin: dict | None = None) -> None:
    """sweep.csv, sweep.json and sweep.png (each metric against ``x_key``, one line per
    receiver, channel and other swept value)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "sweep.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in results for k in r)))
        writer.writeheader()
        writer.writerows(results)
    (out / "sweep.json").write_text(json.dumps({"results": results, "provenance": origin}, indent=2) + "\n")
    metrics = [m for m in (*IMAGE_METRICS, LPIPS_KEY) if any(m in r for r in results)] + ["latent_mse_db"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 4))
    for metric, ax in zip(metrics, axes):
        line_of = lambda r: (r["receiver"], r["channel"]) + (() if x_key == "snr_db" else (r["snr_db"],))  # noqa: E731
        for key in sorted({line_of(r) for r in results}):
            rows = sorted((r for r in results if line_of(r) == key), key=lambda r: r[x_key])
            label = " / ".join(str(k) for k in key[:2]) + (f" / SNR {key[2]:g} dB" if len(key) > 2 else "")
            ax.plot([r[x_key] for r in rows], [r[metric] for r in rows], marker="o", label=label)
        ax.set_xlabel({"snr_db": "SNR (dB)", "sinr_db": "SINR (dB)"}[x_key])
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "sweep.png", dpi=110)
    plt.close(fig)
