"""The README's CPU latency tables from the three runs of `diffair profile` under
docs/benchmarks/profile_{cddm,icdm,djscc}_cpu/run*/profile.json: each cell is the median over
the runs of that run's p50 (or p99) latency in ms, so one disturbed run does not set a figure.

    python docs/benchmarks/profile_tables.py
"""

import json
import statistics
from pathlib import Path

HERE = Path(__file__).parent


def cells(receiver: str) -> dict[tuple[str, int, int], dict[str, list[float]]]:
    """(backend, K, batch) -> {"p50_ms": [one per run], "p99_ms": [...]}."""
    found: dict = {}
    for path in sorted((HERE / f"profile_{receiver}_cpu").glob("run*/profile.json")):
        for row in json.loads(path.read_text())["results"]:
            cell = found.setdefault((row["backend"], row["steps"], row["batch"]), {"p50_ms": [], "p99_ms": []})
            cell["p50_ms"].append(row["p50_ms"])
            cell["p99_ms"].append(row["p99_ms"])
    return found


def median(cell: dict, key: str) -> float:
    return statistics.median(cell[key])


def table(receiver: str) -> str:
    found = cells(receiver)
    runs = len(next(iter(found.values()))["p50_ms"])
    lines = [f"{receiver}: median of {runs} runs",
             "| K | torch, batch 1: p50 / p99 ms | ORT, batch 1: p50 / p99 ms | ORT speed-up | torch, batch 16: p50 ms "
             "| ORT, batch 16: p50 ms (images/s) | ORT, batch 1: p50 of each run |",
             "|---|---|---|---|---|---|---|"]
    for k in sorted({k for _, k, _ in found}):
        t1, o1, t16, o16 = (found[(b, k, n)] for b, n in (("torch", 1), ("ort", 1), ("torch", 16), ("ort", 16)))
        each = " / ".join(f"{v:.1f}" for v in o1["p50_ms"])
        lines.append(f"| {k} | {median(t1, 'p50_ms'):.2f} / {median(t1, 'p99_ms'):.2f} "
                     f"| {median(o1, 'p50_ms'):.2f} / {median(o1, 'p99_ms'):.2f} "
                     f"| {median(t1, 'p50_ms') / median(o1, 'p50_ms'):.1f}× | {median(t16, 'p50_ms'):.1f} "
                     f"| {median(o16, 'p50_ms'):.1f} ({16e3 / median(o16, 'p50_ms'):,.0f}) | {each} |")
    slopes = [f"{backend} batch {batch}: {slope(found, backend, batch):.2f} ms" for backend in ("ort", "torch")
              for batch in (1, 16)]
    lines.append("per step (least-squares slope of the medians over K): " + ", ".join(slopes))
    return "\n".join(lines)


def slope(found: dict, backend: str, batch: int) -> float:
    """ms per sampler step: the least-squares slope of the median p50 over K."""
    ks = sorted({k for b, k, n in found if b == backend and n == batch})
    ms = [median(found[(backend, k, batch)], "p50_ms") for k in ks]
    mean_k, mean_ms = statistics.fmean(ks), statistics.fmean(ms)
    return sum((k - mean_k) * (m - mean_ms) for k, m in zip(ks, ms)) / sum((k - mean_k) ** 2 for k in ks)


if __name__ == "__main__":
    for name in ("cddm", "icdm", "djscc"):
        print(table(name) + "\n")
