"""Where a receiver's onnxruntime time goes, by operator type: its whole K-step graph exported
as diffair exports it (transposed convolutions in polyphase form, export.rewrite) and as
torch.onnx.export writes it, side by side, on one 128 x 128 photograph's latent, two threads.
Wall time: the median of 12 rounds alternating the two sessions (3 runs a round; this shared
machine's speed drifts by tens of per cent over minutes); operator shares: a profiled session.

    .venv/bin/python docs/benchmarks/realtime_nets/op_profile.py cddm cddm-rt jscc > op_profile.txt
"""

import collections
import json
import statistics
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


def session(path: Path, profiled: bool = False) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.enable_profiling = profiled
    options.profile_file_prefix = str(path.with_suffix(""))
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def operator_shares(path: Path, feeds: dict) -> collections.Counter:
    """Kernel microseconds by operator type over RUNS profiled runs."""
    profiled = session(path, profiled=True)
    for _ in range(RUNS):
        profiled.run(None, feeds)
    by_op = collections.Counter()
    for event in json.loads(Path(profiled.end_profiling()).read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            by_op[event["args"]["op_name"]] += event["dur"]
    return by_op


def alternating_ms(paths: list[Path], feeds: dict, rounds: int = 12, runs: int = 3) -> list[float]:
    """Median wall ms of one run per path, the sessions taking turns."""
    sessions = [session(path) for path in paths]
    times = [[] for _ in paths]
    for _ in range(rounds + 1):                 # the first round warms up
        for spent, timed in zip(times, sessions):
            start = time.perf_counter()
            for _ in range(runs):
                timed.run(None, feeds)
            spent.append((time.perf_counter() - start) / runs * 1e3)
    return [statistics.median(spent[1:]) for spent in times]


def main(names: list[str]) -> None:
    work = Path(tempfile.mkdtemp())
    for name in names:
        scenario = registry.spec(name).scenarios[0]
        receiver = registry.build(name, default_channel(name), scenario=scenario)
        sender = registry.transmitter_for(name, default_channel(name), scenario=scenario)
        whole = receiver.export_graphs(lambda side: sender.latent_shape(side, side))[-1]
        example = whole.example(SIDE, 1)
        feeds = as_numpy(example, whole.graph.inputs)
        paths = {"torch.onnx.export": work / f"{name}_plain.onnx", "diffair export": work / f"{name}_diffair.onnx"}
        plain_export(whole.graph, example, paths["torch.onnx.export"])
        export_graph(whole.graph, example, paths["diffair export"], kind=whole.kind, configs=whole.configs,
                     steps=whole.steps)
        for (label, path), ms in zip(paths.items(), alternating_ms(list(paths.values()), feeds)):
            by_op = operator_shares(path, feeds)
            total = sum(by_op.values())
            shares = ", ".join(f"{op} {t / total:.0%}" for op, t in by_op.most_common(6))
            print(f"{name:>9} {label:<18} {ms:6.1f} ms per image   {shares}", flush=True)

if __name__ == "__main__":
    main(sys.argv[1:] or ["jscc", "cddm", "cddm-rt"])
