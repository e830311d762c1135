"""``diffair profile``: latency of a receiver per backend, sampler steps K and batch.

Each point: export (ONNX backends), warm-up, then timed calls with the device synchronized
inside the timed region; p50 / p99 latency and images per second. The per-step cost is the
slope of p50 over K. Results: a JSON record with the machine and the config, and a plot.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from diffair.export.build import default_channel, receiver_graphs
from diffair.export.onnx_export import as_numpy, export_graph
from diffair.export.runners import RunnerChoice, make_runner
from diffair.models import registry
from diffair.models.provenance import provenance, weights_used

IMAGE_SIDE = 32
"""Profiles run CIFAR-size images (32 x 32, latent 16 x 8 x 8)."""


def time_runner(runner, inputs: dict[str, np.ndarray], warmup: int, repeats: int) -> np.ndarray:
    """Latencies (ms) of ``repeats`` calls after ``warmup`` calls, synchronized each time."""
    for _ in range(warmup):
        runner.infer(inputs)
    runner.synchronize()
    times = np.empty(repeats)
    for i in range(repeats):
        started = time.perf_counter()
        runner.infer(inputs)
        runner.synchronize()
        times[i] = 1e3 * (time.perf_counter() - started)
    return times


def run_profile(receiver: str, backends: list[str], steps: list[int], batches: list[int], out: Path,
                threads: int = 2, warmup: int = 5, repeats: int = 30, channel: str | None = None,
                progress: bool = False, untrained: bool = False) -> dict:
    """Every (backend, K, batch) point; writes profile.json and profile.png into ``out``.
    Missing weights are refused unless ``untrained`` (latency does not depend on the values,
    but a record of untrained networks should be asked for, and it says so)."""
    from tqdm import tqdm

    torch.set_num_threads(threads)
    out = Path(out)
    results, used_untrained = [], False
    choices = [RunnerChoice.parse(b, threads) for b in backends]
    channel = channel or default_channel(receiver)
    for k in tqdm(steps, desc="profile (steps)", disable=not progress):
        graphs, used_untrained = receiver_graphs(receiver, channel, k, untrained=untrained)
        whole = graphs[-1]  # the whole receiver
        onnx_path = out / "onnx" / f"{whole.name}.onnx"
        if any(c.needs_onnx for c in choices):
            export_graph(whole.graph, whole.example(IMAGE_SIDE, 2), onnx_path, kind=whole.kind, configs=whole.configs,
                         steps=whole.steps)
        for backend, choice in zip(backends, choices):
            runner = make_runner(choice, whole.graph, onnx_path, out / "engines")
            for batch in batches:
                inputs = as_numpy(whole.example(IMAGE_SIDE, batch), whole.graph.inputs)
                ms = time_runner(runner, inputs, warmup, repeats)
                results.append({"backend": backend, "provider": runner.provider, "receiver": receiver, "steps": k,
                                "batch": batch, "p50_ms": float(np.percentile(ms, 50)),
                                "p99_ms": float(np.percentile(ms, 99)),
                                "images_per_s": float(batch / np.percentile(ms, 50) * 1e3)})
    record = {"results": results, "per_step_ms": per_step_cost(results), "untrained_weights": used_untrained,
              "provenance": provenance(None, weights_used([receiver], channel, registry.spec(receiver).scenarios[0])),
              "config": {"receiver": receiver, "image_side": IMAGE_SIDE, "threads": threads, "warmup": warmup,
                         "repeats": repeats, "channel": channel},
              "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                          "torch": torch.__version__}}
    out.mkdir(parents=True, exist_ok=True)
    (out / "profile.json").write_text(json.dumps(record, indent=2) + "\n")
    plot_profile(results, out / "profile.png")
    return record


def per_step_cost(results: list[dict]) -> list[dict]:
    """Least-squares slope of p50 over K per (backend, batch): the cost of one denoising step."""
    costs = []
    for key in sorted({(r["backend"], r["batch"]) for r in results}):
        rows = [r for r in results if (r["backend"], r["batch"]) == key]
        if len({r["steps"] for r in rows}) > 1:
            slope = np.polyfit([r["steps"] for r in rows], [r["p50_ms"] for r in rows], 1)[0]
            costs.append({"backend": key[0], "batch": key[1], "ms_per_step": float(slope)})
    return costs


def plot_profile(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for key in sorted({(r["backend"], r["batch"]) for r in results}):
        rows = sorted((r for r in results if (r["backend"], r["batch"]) == key), key=lambda r: r["steps"])
        ax.plot([r["steps"] for r in rows], [r["p50_ms"] for r in rows], marker="o", label=f"{key[0]}, batch {key[1]}")
    ax.set_xlabel("sampler steps K")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
