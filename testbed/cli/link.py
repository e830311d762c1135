"""``diffair link``: random symbols through the OFDM PHY over the loopback radio."""

from __future__ import annotations

import argparse
import json

from diffair.testbed.cli.args import (FRAMES, FINITE, SEED, add_channel_group, add_format_group, add_monitor_flags,
                                      add_output_group, fmt)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("link", help="random symbols through the OFDM PHY over the loopback radio")
    add_channel_group(p, snr_db=15.0, cfo_hz=0.0)
    p.add_argument("--sro-ppm", type=FINITE, default=0.0, help="sample-rate offset in ppm")
    p.add_argument("--frames", type=FRAMES, default=100)
    p.add_argument("--seed", type=SEED, default=0)
    add_format_group(p)
    p.add_argument("--estimator", choices=["lmmse", "ls"], default="lmmse")
    add_monitor_flags(p)
    add_output_group(p, out=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.testbed.link import LinkOptions, run_link
    from diffair.testbed.monitor import LOOPBACK_RATE_HZ, monitoring

    options = LinkOptions(snr_db=args.snr_db, channel=args.channel, cfo_hz=args.cfo_hz, sro_ppm=args.sro_ppm,
                          frames=args.frames, seed=args.seed, fft_size=args.fft_size, estimator=args.estimator,
                          sounding_symbols=args.sounding_symbols)
    with monitoring(args.monitor, LOOPBACK_RATE_HZ, args.monitor_hold_s) as monitor:
        summary = run_link(options, progress=not args.json, monitor=monitor)
    print(json.dumps(summary) if args.json else summary_text(summary))
    return 0


def summary_text(s: dict) -> str:
    """A readable block of the link summary."""
    sounding = f", {s['sounding_symbols']} sounding symbols" if s["sounding_symbols"] else ""
    rows = [
        ("channel", f"{s['channel']}, {s['fft_size']}-point FFT{sounding}, SRO {s['sro_ppm']:g} ppm"),
        ("frames", f"{s['frames_header_ok']}/{s['frames_sent']} with a good header, "
                   f"{s['frames_detected']} detected, {s['false_alarms']} false alarms"),
        ("SNR", f"true {s['snr_db_true']:.1f} dB, estimated {fmt(s['snr_db_est'], '.2f')} dB"),
        ("CFO", f"true {s['cfo_hz_true']:.0f} Hz, estimate RMSE {fmt(s['cfo_hz_est_rmse'], '.1f')} Hz"),
        ("EVM", f"{fmt(s['evm_db'], '.2f')} dB (genie {fmt(s['evm_db_genie'], '.2f')} dB)"),
        ("PAPR", f"mean {s['papr_db']:.2f} dB, max {s['papr_db_max']:.2f} dB, {s['clipped_samples']} samples clipped"),
    ]
    return "\n".join(f"{name:>8}  {text}" for name, text in rows)
