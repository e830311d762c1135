"""One parity harness: any two runners on the same inputs, per output errors and a verdict."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class OutputParity:
    """Errors of one output: max absolute, max relative (to the reference's peak magnitude),
    and non-finite values in either."""

    name: str
    max_abs: float
    max_rel: float
    nonfinite: int
    passed: bool


def compare(reference: dict[str, np.ndarray], candidate: dict[str, np.ndarray], rtol: float = 1e-4,
            atol: float = 0.0) -> list[OutputParity]:
    """Per-output parity: passes when max|a - b| <= atol + rtol * max|a| and all is finite."""
    results = []
    for name, ref in reference.items():
        got = candidate.get(name)
        if got is None or got.shape != ref.shape:
            results.append(OutputParity(name, float("inf"), float("inf"), 0, False))
            continue
        nonfinite = int(np.count_nonzero(~np.isfinite(ref)) + np.count_nonzero(~np.isfinite(got)))
        diff = np.abs(ref.astype(np.float64) - got.astype(np.float64))
        peak = float(np.max(np.abs(ref))) if ref.size else 0.0
        max_abs = float(diff.max()) if diff.size else 0.0
        max_rel = max_abs / peak if peak > 0 else max_abs
        results.append(OutputParity(name, max_abs, max_rel, nonfinite,
                                    nonfinite == 0 and max_abs <= atol + rtol * peak))
    return results


def parity_report(reference_runner, candidate_runner, inputs: dict[str, np.ndarray], rtol: float = 1e-4) -> dict:
    """Run both and report {reference, candidate, outputs: [...], passed}."""
    results = compare(reference_runner.infer(inputs), candidate_runner.infer(inputs), rtol=rtol)
    return {"reference": reference_runner.provider, "candidate": candidate_runner.provider,
            "outputs": [r.__dict__ for r in results], "passed": all(r.passed for r in results)}
