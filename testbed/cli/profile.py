"""``diffair profile``: latency p50 / p99 and throughput per backend, steps and batch."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from diffair.testbed.cli.args import COUNT, backend_list, integer_list, receiver_name


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="latency p50 / p99 and throughput per backend, steps and batch")
    p.add_argument("--backend", type=backend_list, default=("torch", "ort"),
                   help="comma list of torch, ort, ort-cuda, ort-trt, trt, trt-fp16 (onnxruntime / tensorrt: aliases)")
    p.add_argument("--receiver", type=receiver_name, default="cddm", help="a registered receiver (`diffair receivers`)")
    p.add_argument("--steps", type=integer_list, default=[1, 2, 5, 10, 20])
    p.add_argument("--batch", type=integer_list, default=[1, 16])
    p.add_argument("--threads", type=COUNT, default=2)
    p.add_argument("--repeats", type=COUNT, default=50)
    p.add_argument("--out", type=Path, default=Path("reports/profile"))
    p.add_argument("--untrained", action="store_true",
                   help="profile untrained networks where weights are missing (latency only; the record says so)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.export.profile import run_profile

    record = run_profile(args.receiver, list(args.backend), args.steps, args.batch, args.out, threads=args.threads,
                         repeats=args.repeats, progress=not args.json, untrained=args.untrained)
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"{'backend':>8} {'provider':>22} {'K':>3} {'batch':>5} {'p50 ms':>8} {'p99 ms':>8} {'images/s':>9}")
    for r in record["results"]:
        print(f"{r['backend']:>8} {r['provider']:>22} {r['steps']:>3} {r['batch']:>5} {r['p50_ms']:8.2f} "
              f"{r['p99_ms']:8.2f} {r['images_per_s']:9.1f}")
    for c in record["per_step_ms"]:
        print(f"per step: {c['backend']} batch {c['batch']}: {c['ms_per_step']:.3f} ms")
    print(f"wrote {args.out}/profile.json, profile.png")
    return 0
