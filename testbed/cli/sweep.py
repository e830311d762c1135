"""``diffair sweep``: PSNR / SSIM / latent MSE versus SNR (and SINR) for every receiver; on one
process, or shared out over several under ``torchrun --no-python diffair sweep ...``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from diffair.testbed.cli.args import (CHANNEL_TYPES, COUNT, EXISTING, FINITE, IMAGE_METRIC_NAMES, add_output_group,
                                      add_receiver_group, choice_list, lpips_cell, lpips_column, number_list,
                                      weights_dir)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="PSNR / SSIM / latent MSE versus SNR")
    p.add_argument("--data", type=EXISTING, required=True, help="a .npz with x_test, or a folder of images")
    p.add_argument("--limit", type=COUNT, default=256)
    p.add_argument("--batch", type=COUNT, default=256,
                   help="images per payload (seeded by its first image); under torchrun the ranks share out the "
                        "(SNR point, batch) pairs")
    channel = p.add_argument_group("channel")
    channel.add_argument("--snr-db", type=number_list, default=(0.0, 5.0, 10.0, 15.0, 20.0))
    channel.add_argument("--channel", type=choice_list(CHANNEL_TYPES, "--channel"), default=("awgn",),
                         help="comma list of awgn, rayleigh")
    channel.add_argument("--cfo-hz", type=FINITE, default=30e3,
                         help="carrier frequency offset through the PHY (not --genie)")
    interference = p.add_argument_group("interference")
    interference.add_argument("--sinr-db", "--sir-db", type=number_list, default=(),
                              help="add ICDM's interferer at these signal-to-interference-plus-noise ratios: frame-"
                                   "synchronous through the PHY, or with --genie at symbol level with perfect CSI (the "
                                   "interference scenario's receivers by default)")
    interference.add_argument("--interferer-cfo-hz", type=FINITE, default=0.0,
                              help="--sinr-db through the PHY: the interferer's carrier offset from the wanted "
                                   "transmitter's")
    interference.add_argument("--sounding-symbols", type=int, choices=[1, 2, 3, 4], default=2,
                              help="--sinr-db through the PHY: sounding symbols per frame")
    add_receiver_group(p, backend=False)
    p.add_argument("--metrics", type=choice_list(IMAGE_METRIC_NAMES, "--metrics", "metric"), default=None,
                   help="score only these image metrics (comma list; PSNR always); default: all. VIF is the "
                        "slowest, about 4 s per 1,000 CIFAR-10 images per receiver and point here")
    add_output_group(p, out=Path("reports/sweep"))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.models.distributed import workers
    from diffair.testbed.sweep import SweepOptions, run_sweep

    options = SweepOptions(data=args.data, limit=args.limit, snr_db=args.snr_db, channels=args.channel,
                           receivers=args.receivers, steps=args.steps, genie=args.genie, seed=args.seed,
                           cfo_hz=args.cfo_hz, out=args.out, batch=args.batch, weights=weights_dir(args),
                           sinr_db=args.sinr_db, interferer_cfo_hz=args.interferer_cfo_hz, switch=args.switch,
                           sounding_symbols=args.sounding_symbols, lpips=args.lpips, metrics=args.metrics)
    with workers("cpu") as place:  # the processes torchrun started, or this one alone
        result = run_sweep(options, progress=not args.json, workers=place)
    if place.is_main:
        print(json.dumps(result) if args.json else table_text(result["results"], args.out))
    return 0


SCORE_COLUMNS = (("ssim", "SSIM", 6), ("ms_ssim", "MS-SSIM", 8), ("vif", "VIF", 6), ("haarpsi", "HaarPSI", 7))


def _score_cells(row: dict) -> str:
    """SSIM, MS-SSIM, VIF and HaarPSI, each ``-`` where the sweep did not score it (--metrics)."""
    return "".join(f" {row[key]:{width}.3f}" if key in row else f" {'-':>{width}}" for key, _, width in SCORE_COLUMNS)


def table_text(results: list[dict], out: Path) -> str:
    """The printed table of a sweep."""
    lines = [f"{'receiver':>10} {'channel':>8} {'SNR dB':>7} {'SINR dB':>8} {'PSNR dB':>8}"
             + "".join(f" {label:>{width}}" for _, label, width in SCORE_COLUMNS)
             + f"{lpips_column(results)} {'latent MSE dB':>14}  vs best baseline (95% CI)"]
    for r in results:
        sinr = f"{r['sinr_db']:8.1f}" if "sinr_db" in r else f"{'-':>8}"
        versus = (f"{r['psnr_gain_db']:+6.2f} dB [{r['psnr_gain_ci95_db'][0]:+.2f}, {r['psnr_gain_ci95_db'][1]:+.2f}] "
                  f"({r['best_baseline']})" if "psnr_gain_db" in r else "-")
        if "switched_to" in r:
            versus += f"; by default switched to {r['switched_to']}: {r['switched_psnr_gain_db']:+.2f} dB"
        lines.append(f"{r['receiver']:>10} {r['channel']:>8} {r['snr_db']:7.1f} {sinr} {r['psnr_db']:8.2f}"
                     f"{_score_cells(r)}{lpips_cell(r)} {r['latent_mse_db']:14.2f}  {versus}"
                     + (f"  warning: {r['warnings']}" if "warnings" in r else ""))
    return "\n".join(lines + [f"wrote {out}/sweep.csv, sweep.json, sweep.png"])
