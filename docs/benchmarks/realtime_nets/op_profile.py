"""Where a receiver's onnxruntime time goes, by operator type: its whole K-step graph exported
as diffair exports it (transposed convolutions in polyphase form, export.rewrite) and as
torch.onnx.export writes it, side by side, on one 128 x 128 photograph's latent, two threads.

    .venv/bin/python docs/benchmarks/realtime_nets/op_profile.py cddm cddm-rt jscc > op_profile.txt
"""

import collections
import json
import sys
import tempfile
import time
from pathlib import Path

import onnxruntime as ort
import torch

from diffair.export.build import default_channel
from diffair.export.onnx_export import as_numpy, export_graph
from diffair.models import registry

SIDE, RUNS = 128, 20


def plain_export(graph, example, path: Path) -> None:
    """The graph as torch.onnx.export writes it, no rewrite."""
    with torch.no_grad():
        torch.onnx.export(graph.eval(), example, str(path), input_names=list(graph.inputs),
                          output_names=list(graph.outputs), opset_version=17, dynamo=False)


def profile(path: Path, feeds: dict) -> tuple[float, collections.Counter]:
    """(best wall ms of one run over RUNS, kernel microseconds by operator type over RUNS)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.enable_profiling = True
    options.profile_file_prefix = str(path.with_suffix(""))
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        session.run(None, feeds)
        best = min(best, (time.perf_counter() - start) * 1e3)
    by_op = collections.Counter()
    for event in json.loads(Path(session.end_profiling()).read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            by_op[event["args"]["op_name"]] += event["dur"]
    return best, by_op


def main(names: list[str]) -> None:
    work = Path(tempfile.mkdtemp())
    for name in names:
        scenario = registry.spec(name).scenarios[0]
        receiver = registry.build(name, default_channel(name), scenario=scenario)
        sender = registry.transmitter_for(name, default_channel(name), scenario=scenario)
        whole = receiver.export_graphs(lambda side: sender.latent_shape(side, side))[-1]
        example = whole.example(SIDE, 1)
        feeds = as_numpy(example, whole.graph.inputs)
        for label, write in (("torch.onnx.export", plain_export),
                             ("diffair export", lambda g, e, p: export_graph(g, e, p, kind=whole.kind,
                                                                            configs=whole.configs, steps=whole.steps))):
            path = work / f"{name}_{label.split()[0]}.onnx"
            write(whole.graph, example, path)
            best, by_op = profile(path, feeds)
            total = sum(by_op.values())
            shares = ", ".join(f"{op} {t / total:.0%}" for op, t in by_op.most_common(6))
            print(f"{name:>9} {label:<18} {best:6.1f} ms per image   {shares}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["jscc", "cddm", "cddm-rt"])
