"""``diffair bench-rx``: which receivers keep up with the air, at which sample rate and steps."""

from __future__ import annotations

import argparse
import json

from diffair.testbed.cli.args import (CHANNEL_TYPES, COUNT, EXISTING_FILE, FFT_SIZES, FOLDER, POSITIVE, backend_list,
                                      output_file, receiver_list, steps_value)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-rx", help="real-time factor of the receive pipeline per receiver and backend")
    p.add_argument("--receivers", type=receiver_list, default=("jscc",), help="comma list (default jscc)")
    p.add_argument("--backend", type=backend_list, default=("ort",), help="comma list of torch, ort, trt (default ort)")
    p.add_argument("--steps", type=steps_value, default=None, help="sampler steps K (default: each receiver's own)")
    p.add_argument("--sample-rate-hz", type=POSITIVE, default=1e6)
    p.add_argument("--images", type=COUNT, default=8, help="payloads in the workload")
    p.add_argument("--image", type=EXISTING_FILE, default=None, help="the photograph (default: the built-in one)")
    p.add_argument("--image-side", type=COUNT, default=128, help="resized to this square")
    p.add_argument("--channel", choices=CHANNEL_TYPES, default=None,
                   help="which weights (default: the first channel each receiver has weights for); the workload's air "
                        "is AWGN 20 dB with a 10 kHz carrier offset either way")
    p.add_argument("--fft-size", type=int, choices=FFT_SIZES, default=64)
    p.add_argument("--threads", type=COUNT, default=None, help="CPU threads (default: all)")
    p.add_argument("--weights", type=FOLDER, default=None)
    p.add_argument("--out", type=output_file, default=None, help="also write the JSON record here (a file)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.testbed.bench import write_bench
    from diffair.testbed.bench_rx import BenchRxOptions, run_bench_rx

    options = BenchRxOptions(receivers=args.receivers, backends=args.backend, steps=args.steps,
                             sample_rate_hz=args.sample_rate_hz, images=args.images, image=args.image,
                             side=args.image_side, channel=args.channel, fft_size=args.fft_size, weights=args.weights,
                             **({"threads": args.threads} if args.threads else {}))
    record = run_bench_rx(options, progress=not args.json)
    if args.out:
        write_bench(record, args.out)
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"{record['sample_rate_hz'] / 1e6:g} MS/s, FFT {record['fft_size']}, {record['images']} images of "
          f"{record['image_side']} x {record['image_side']}")
    print(f"{'receiver':>10} {'backend':>8} {'K':>4} {'RTF':>6} {'front end MS/s':>15} {'images/s':>9} "
          f"{'p50 ms':>8} {'p99 ms':>8}")
    for r in record["results"]:
        print(f"{r['receiver']:>10} {r['backend']:>8} {r['steps'] or '-':>4} {r['realtime_factor']:6.2f} "
              f"{r['frontend_msps']:15.1f} {r['images_per_s']:9.1f} {r['latency_p50_ms']:8.1f} "
              f"{r['latency_p99_ms']:8.1f}")
    return 0
