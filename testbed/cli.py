"""The ``diffair`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dsp.errors import DiffairError


def _add_link(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("link", help="random symbols through the OFDM PHY over the loopback radio")
    p.add_argument("--snr-db", type=float, default=15.0, help="in-band SNR in dB (default 15)")
    p.add_argument("--channel", choices=["awgn", "rayleigh"], default="awgn")
    p.add_argument("--cfo-hz", type=float, default=0.0, help="carrier frequency offset in Hz")
    p.add_argument("--sro-ppm", type=float, default=0.0, help="sample-rate offset in ppm")
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fft-size", type=int, choices=[64, 128, 256], default=64)
    p.add_argument("--estimator", choices=["lmmse", "ls"], default="lmmse")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=_run_link)


def _run_link(args: argparse.Namespace) -> int:
    from testbed.link import LinkOptions, run_link

    if args.frames < 1:
        raise DiffairError(f"--frames = {args.frames}; expected at least 1")
    options = LinkOptions(snr_db=args.snr_db, channel=args.channel, cfo_hz=args.cfo_hz, sro_ppm=args.sro_ppm,
                          frames=args.frames, seed=args.seed, fft_size=args.fft_size, estimator=args.estimator)
    summary = run_link(options, progress=not args.json)
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_link_summary(summary))
    return 0


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def format_link_summary(s: dict) -> str:
    """A readable block of the link summary."""
    rows = [
        ("channel", f"{s['channel']}, {s['fft_size']}-point FFT, SRO {s['sro_ppm']:g} ppm"),
        ("frames", f"{s['frames_header_ok']}/{s['frames_sent']} with a good header, "
                   f"{s['frames_detected']} detected, {s['false_alarms']} false alarms"),
        ("SNR", f"true {s['snr_db_true']:.1f} dB, estimated {_fmt(s['snr_db_est'], '.2f')} dB"),
        ("CFO", f"true {s['cfo_hz_true']:.0f} Hz, estimate RMSE {_fmt(s['cfo_hz_est_rmse'], '.1f')} Hz"),
        ("EVM", f"{_fmt(s['evm_db'], '.2f')} dB (genie {_fmt(s['evm_db_genie'], '.2f')} dB)"),
        ("PAPR", f"mean {s['papr_db']:.2f} dB, max {s['papr_db_max']:.2f} dB, {s['clipped_samples']} samples clipped"),
    ]
    return "\n".join(f"{name:>8}  {text}" for name, text in rows)


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-phy", help="throughput of the receive front end (pin it: taskset -c 0)")
    p.add_argument("--frames", type=int, default=400)
    p.add_argument("--out", type=Path, default=None, help="write the JSON record here")
    p.set_defaults(handler=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from testbed.bench import bench_phy, write_bench

    record = bench_phy(frames=args.frames)
    for r in record["results"]:
        print(f"FFT {r['fft_size']:>3}: {r['msps_median']:6.1f} MS/s median, {r['msps_best']:6.1f} best, "
              f"{r['frames_per_s_median']:7.0f} frames/s ({r['frames_decoded']}/{r['frames']} decoded)")
    if args.out:
        write_bench(record, args.out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diffair", description="Diffusion-model receivers on a software-radio testbed.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_link(sub)
    _add_bench(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except DiffairError as err:
        print(f"diffair {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
