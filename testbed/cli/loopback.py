"""``diffair loopback``: an image through encoder, PHY, channel and every receiver."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from diffair.testbed.cli.args import (EXISTING_FILE, FINITE, NON_NEGATIVE_INT, add_channel_group, add_monitor_flags,
                                      add_output_group, add_receiver_group, fmt, lpips_cell, lpips_column,
                                      weights_dir)


def register(sub: argparse._SubParsersAction) -> None:
    from diffair.dsp.frame import SOUNDING_SYMBOLS

    p = sub.add_parser("loopback", help="an image through encoder, PHY, channel and every receiver")
    p.add_argument("--image", type=EXISTING_FILE, help="an image file (default: a built-in photograph)")
    add_channel_group(p, snr_db=10.0, cfo_hz=10e3)
    interference = p.add_argument_group("interference")
    interference.add_argument("--sir-db", type=FINITE, default=None,
                              help="add a second transmitter at this signal-to-interference ratio")
    interference.add_argument("--interferer", choices=["auto", "sync", "async"], default="auto",
                              help="sync: ICDM's frame-synchronous interferer sending another image (the receivers of "
                                   "the interference scenario); async: an unsynchronized one sending test symbols; "
                                   "auto: sync when a receiver needs it or none is named")
    interference.add_argument("--interferer-image", type=EXISTING_FILE, default=None,
                              help="sync: the interferer's image (default: a built-in one), resized to the wanted image")
    interference.add_argument("--interferer-cfo-hz", type=FINITE, default=None,
                              help="the interferer's carrier offset (async, default -12 kHz) or its offset from the "
                                   "wanted transmitter's (sync, default 0)")
    interference.add_argument("--sounding-symbols", type=NON_NEGATIVE_INT, default=SOUNDING_SYMBOLS,
                              help="sync: sounding symbols per frame (2 follows a carrier offset between the "
                                   "transmitters up to ~100 Hz, 3 up to ~1 kHz)")
    add_receiver_group(p)
    add_monitor_flags(p)
    add_output_group(p, out=Path("reports/loopback"))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.testbed.loopback import LoopbackOptions, run_loopback
    from diffair.testbed.monitor import LOOPBACK_RATE_HZ, monitoring

    options = LoopbackOptions(image=args.image, snr_db=args.snr_db, channel=args.channel, cfo_hz=args.cfo_hz,
                              receivers=args.receivers, steps=args.steps, genie=args.genie, seed=args.seed,
                              out=args.out, weights=weights_dir(args), backend=args.backend,
                              sir_db=args.sir_db, interferer=args.interferer,
                              interferer_image=args.interferer_image, interferer_cfo_hz=args.interferer_cfo_hz,
                              sounding_symbols=args.sounding_symbols, switch=args.switch, lpips=args.lpips)
    with monitoring(args.monitor, LOOPBACK_RATE_HZ, args.monitor_hold_s) as monitor:
        summary = run_loopback(options, monitor)
    print(json.dumps(summary) if args.json else summary_text(summary, args.out))
    return 0


def summary_text(summary: dict, out: Path) -> str:
    """The printed table of a loopback run."""
    interference = "" if summary["sir_db"] is None else (
        f", {summary['interferer']} interferer at SIR {summary['sir_db']:g} dB (SINR {summary['sinr_db_true']:.2f} "
        f"dB): SINR estimate {fmt(summary['sinr_db_est'], '.2f')} dB, SNR estimate "
        f"{fmt(summary['snr_db_est' if summary['interferer'] == 'sync' else 'thermal_snr_db_est'], '.2f')} dB")
    snr = "" if interference else f", SNR estimate {fmt(summary['snr_db_est'], '.2f')} dB"
    lines = [f"{summary['channel']} at {summary['snr_db_true']:g} dB{' (genie)' if summary['genie'] else ''}"
             f"{interference}: {summary['frames_ok']}/{summary['frames_sent']} frames{snr}, CFO estimate "
             f"{fmt(summary['cfo_hz_est'], '.0f')} Hz, {summary['erased_symbols']} erased symbols",
             f"{'receiver':>10} {'PSNR dB':>8} {'SSIM':>6} {'MS-SSIM':>8} {'VIF':>6} {'HaarPSI':>7}"
             f"{lpips_column(summary['receivers'])} {'latent MSE dB':>14} {'latency ms':>11}  "
             f"{'vs best baseline':<22} backend"]
    for name, r in summary["receivers"].items():
        versus = f"{r['psnr_gain_db']:+6.2f} dB ({r['best_baseline']})" if "psnr_gain_db" in r else "-"
        if r.get("switched_to"):
            versus = f"switched to {r['switched_to']}"
        lines.append(f"{name:>10} {r['psnr_db']:8.2f} {r['ssim']:6.3f} {r['ms_ssim']:8.3f} {r['vif']:6.3f}"
                     f" {r['haarpsi']:7.3f}{lpips_cell(r)} {r['latent_mse_db']:14.2f} "
                     f"{r['latency_ms']:11.1f}  {versus:<22} {r['backend']} ({r['provider']})")
    for name, r in summary["receivers"].items():
        lines += [f"warning, {name}: {message}" for message in r.get("warnings", [])]
    stages = ", ".join(f"{k} {v:.1f} ms" for k, v in summary["latency_ms"].items())
    return "\n".join(lines + [f"stages: {stages}", f"report: {out}/"])
