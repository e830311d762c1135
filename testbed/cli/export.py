"""``diffair export``: a receiver's graphs (and its transmitter's) to ONNX, with a parity check
against torch (and TensorRT engines with ``--format trt``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from diffair.testbed.cli.args import CHANNEL_TYPES, COUNT, receiver_name, steps_value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a receiver's graphs to ONNX (and TensorRT engines)")
    p.add_argument("--receiver", type=receiver_name, default="cddm", help="a registered receiver (`diffair receivers`)")
    p.add_argument("--steps", type=steps_value, default=None,
                   help="K of the unrolled diffusion receiver (ICDM: per prior); default: the receiver's own")
    p.add_argument("--format", choices=["onnx", "trt"], default="onnx")
    p.add_argument("--channel", choices=CHANNEL_TYPES, default=None,
                   help="which weights (default: the first channel the receiver has weights for)")
    p.add_argument("--side", type=COUNT, default=32, help="image side the graphs are traced at (batch is dynamic)")
    p.add_argument("--opset", type=COUNT, default=17)
    p.add_argument("--untrained", action="store_true", help="export untrained networks when weights are missing")
    p.add_argument("--fp16", action="store_true", help="trt: allow FP16")
    p.add_argument("--out", type=Path, default=Path("exports"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.export.build import receiver_graphs
    from diffair.export.onnx_export import as_numpy, export_graph
    from diffair.export.parity import parity_report
    from diffair.export.runners import RunnerChoice, TorchRunner, make_runner

    graphs, untrained = receiver_graphs(args.receiver, args.channel, args.steps, untrained=args.untrained)
    summary = {"receiver": args.receiver, "untrained_weights": untrained, "graphs": []}
    for graph in graphs:
        path = args.out / f"{graph.name}.onnx"
        export_graph(graph.graph, graph.example(args.side, 2), path, kind=graph.kind, configs=graph.configs,
                     steps=graph.steps, opset=args.opset)
        check = as_numpy(graph.example(args.side, 3), graph.graph.inputs)
        parity = parity_report(TorchRunner(graph.graph), make_runner(RunnerChoice("ort"), graph.graph, path), check)
        entry = {"graph": str(path), "parity": parity}
        if args.format == "trt":
            runner = make_runner(RunnerChoice("trt", "fp16" if args.fp16 else ""), graph.graph, path,
                                 args.out / "engines", max_batch=16)
            entry["trt_parity"] = parity_report(TorchRunner(graph.graph), runner, check,
                                                rtol=1e-2 if args.fp16 else 1e-3)
        summary["graphs"].append(entry)
    if args.json:
        print(json.dumps(summary))
    else:
        for entry in summary["graphs"]:
            worst = max(o["max_rel"] for o in entry["parity"]["outputs"])
            print(f"{entry['graph']}: onnxruntime vs torch max relative error {worst:.2e} "
                  f"({'ok' if entry['parity']['passed'] else 'FAILED'})")
        if untrained:
            print("note: untrained weights (no trained receiver in the weights folder)")
    return 0 if all(e["parity"]["passed"] for e in summary["graphs"]) else 1
