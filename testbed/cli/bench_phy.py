"""``diffair bench-phy``: throughput of the receive front end."""

from __future__ import annotations

import argparse

from diffair.testbed.cli.args import COUNT, output_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-phy", help="throughput of the receive front end (pin it: taskset -c 0)")
    p.add_argument("--frames", type=COUNT, default=400)
    p.add_argument("--out", type=output_file, default=None, help="write the JSON record here (a file)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.testbed.bench import bench_phy, write_bench

    record = bench_phy(frames=args.frames)
    for r in record["results"]:
        print(f"FFT {r['fft_size']:>3}: {r['msps_median']:6.1f} MS/s median, {r['msps_best']:6.1f} best, "
              f"{r['frames_per_s_median']:7.0f} frames/s ({r['frames_decoded']}/{r['frames']} decoded)")
    if args.out:
        write_bench(record, args.out)
    return 0
