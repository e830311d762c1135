"""``make tables``: re-measure every receiver table of the README from scratch and write them back.

Each job is one command a user could type (the README shows them); its output goes under
docs/benchmarks/tables/<job>/ (``sweep.json`` with provenance, csv, png, or the script's own files). The
renderers then turn those files into the README's markdown tables and replace each block between
``<!-- table: NAME -->`` and ``<!-- /table -->`` in README.md; a table whose data is missing is
left as it is and named in the output.

    .venv/bin/python docs/benchmarks/tables/make_tables.py               # run every job, then render
    .venv/bin/python docs/benchmarks/tables/make_tables.py --only cddm_rayleigh,ablation
    .venv/bin/python docs/benchmarks/tables/make_tables.py --render-only

Data: $DIFFAIR_DATA (default ../shared/data). Sweeps run on two processes under torchrun (the
same figures as one: tests/test_scale_out.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
README = ROOT / "README.md"
DATA = Path(os.environ.get("DIFFAIR_DATA", ROOT.parent / "shared" / "data"))
CIFAR = f"--data {DATA}/cifar10/cifar10_lossless_subset.npz --limit 1017"
SWEEP = "torchrun --standalone --nproc-per-node 2 --no-python diffair sweep"
STEPS_CDDM = ("1", "2", "5", "10", "20", "full")
STEPS_ICDM = ("5", "10", "20", "full")
STEPS_DJSCC = ("1", "2", "5", "10", "full")


def _sweep(args: str, out: str) -> str:
    return f"{SWEEP} {CIFAR} {args} --out {HERE / out} --json > /dev/null"


JOBS: dict[str, list[str]] = {
    "jscc_awgn": [_sweep("--snr-db 0,5,10,15,20 --channel awgn --receivers jscc --genie", "jscc_awgn")],
    "jscc_rayleigh": [_sweep("--snr-db 0,5,10,15,20 --channel rayleigh --receivers jscc --genie", "jscc_rayleigh")],
    "cddm_rayleigh": [_sweep("--snr-db 0,5,10,15,20 --channel rayleigh --receivers jscc,jscc-mmse,cddm --genie "
                             "--steps 10", "cddm_rayleigh")],
    "cddm_steps": [_sweep(f"--snr-db 10 --channel rayleigh --receivers cddm --genie --steps {k}", f"cddm_steps/k{k}")
                   for k in STEPS_CDDM],
    "cddm_awgn": [_sweep("--snr-db 0,5,10,15,20 --channel awgn --receivers jscc,cddm --genie --steps 10", "cddm_awgn")],
    "cddm_phy": [_sweep("--snr-db 10 --channel rayleigh --receivers jscc,jscc-mmse,cddm --steps 10", "cddm_phy")],
    "kodak": [f"bash {HERE / 'kodak.sh'} {HERE / 'kodak'}"],
    "seeds": [f"{sys.executable} {ROOT / 'docs/benchmarks/seeds/run.py'} {DATA} > {HERE / 'seeds.txt'}"],
    "ablation": [f"{sys.executable} {ROOT / 'docs/benchmarks/ablation/run.py'} {DATA} > {HERE / 'ablation.txt'}"],
    "icdm_phy": [_sweep("--snr-db 20 --sinr-db=-5,0,5,10,20 --channel rayleigh,awgn --steps 20", "icdm_phy")],
    "icdm_phy_snr10_15": [_sweep("--snr-db 10,15 --sinr-db=-5,0,5,10 --channel rayleigh --steps 20",
                                 "icdm_phy_snr10_15")],
    "icdm_genie": [_sweep("--snr-db 20 --sinr-db=-5,0,5,10 --channel rayleigh,awgn --steps full --genie",
                          "icdm_genie")],
    "icdm_steps": [_sweep(f"--snr-db 20 --sinr-db=0 --channel rayleigh --receivers icdm --genie --steps {k}",
                          f"icdm_steps/k{k}") for k in STEPS_ICDM],
    "djscc_awgn": [_sweep("--snr-db 0,5,10,15,20 --channel awgn --receivers jscc,djscc,djscc-mean --genie",
                          "djscc_awgn")],
    "djscc_rayleigh": [_sweep("--snr-db 0,5,10,15,20 --channel rayleigh --receivers jscc,djscc,djscc-mean --genie",
                              "djscc_rayleigh")],
    "djscc_steps": [_sweep(f"--snr-db 10 --channel awgn --receivers djscc,djscc-mean --genie --steps {k}",
                           f"djscc_steps/k{k}") for k in STEPS_DJSCC],
}


def run_jobs(names: list[str]) -> dict[str, float]:
    """Run the jobs ``names`` in order; their wall seconds, also written to timings.json."""
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "DIFFAIR_DATA": str(DATA)}
    timings_file = HERE / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    for name in names:
        started = time.monotonic()
        for command in JOBS[name]:
            print(f"[{name}] {command}", flush=True)
            subprocess.run(command, shell=True, check=True, cwd=ROOT, env=env)
        timings[name] = round(time.monotonic() - started, 1)
        print(f"[{name}] {timings[name]:.0f} s", flush=True)
        timings_file.write_text(json.dumps(timings, indent=1) + "\n")
    return timings


# ---- rendering -------------------------------------------------------------------------------

def _rows(path: Path) -> list[dict]:
    return json.loads(path.read_text())["results"]


def _pick(rows: list[dict], **where) -> dict:
    found = [r for r in rows if all(r.get(k) == v for k, v in where.items())]
    if len(found) != 1:
        raise LookupError(f"{len(found)} rows match {where}")
    return found[0]


def _db(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _gain(row: dict) -> str:
    low, high = row["psnr_gain_ci95_db"]
    return f"{row['psnr_gain_db']:+.2f} ({low:+.2f} … {high:+.2f})".replace("-", "−")


FORMATS = {"psnr_db": _db, "latent_mse_db": _db, "ssim": "{:.3f}".format, "ms_ssim": "{:.3f}".format,
           "vif": "{:.3f}".format}
LABELS = {"psnr_db": "PSNR", "ssim": "SSIM", "ms_ssim": "MS-SSIM", "vif": "VIF", "latent_mse_db": "latent MSE"}
UNITS = {"psnr_db": " (dB)", "latent_mse_db": " (dB)"}


def points_table(rows: list[dict], header: str, x_key: str, xs: list, receivers: list[str],
                 metrics=("psnr_db", "ssim", "ms_ssim", "vif", "latent_mse_db"), gains=(), **where) -> str:
    """Points as columns (``x_key`` = each of ``xs``), one line per metric with the receivers'
    values joined by " / ", then one line per receiver in ``gains``: its PSNR against the best
    baseline with the paired 95% CI."""
    def cell(x, receiver, metric):
        return FORMATS[metric](_pick(rows, receiver=receiver, **{x_key: x}, **where)[metric])

    lines = [f"| {header} | " + " | ".join(_x_label(x) for x in xs) + " |", "|---" * (len(xs) + 1) + "|"]
    for metric in metrics:
        label = f"{LABELS[metric]}, {' / '.join(receivers)}{UNITS.get(metric, '')}" if len(receivers) > 1 else \
            f"{LABELS[metric]}{UNITS.get(metric, '')}"
        lines.append(f"| {label} | " + " | ".join(" / ".join(cell(x, r, m) for r in receivers)
                                                  for x in xs for m in (metric,)) + " |")
    for receiver in gains:
        best = {_pick(rows, receiver=receiver, **{x_key: x}, **where)["best_baseline"] for x in xs}
        lines.append(f"| {receiver} − {'/'.join(sorted(best))} (95% CI) | " + " | ".join(
            _gain(_pick(rows, receiver=receiver, **{x_key: x}, **where)) for x in xs) + " |")
    return "\n".join(lines)


def _x_label(x) -> str:
    return f"{x:g}".replace("-", "−") if isinstance(x, float) else str(x)


def steps_table(folder: Path, steps: tuple[str, ...], receivers: list[str], metrics: tuple[str, ...],
                header: str = "K") -> str:
    """Sampler steps as columns, one sweep per K (``folder/k<K>/sweep.json``)."""
    by_k = {k: _rows(folder / f"k{k}" / "sweep.json") for k in steps}
    lines = [f"| {header} | " + " | ".join(k for k in steps) + " |", "|---" * (len(steps) + 1) + "|"]
    for metric in metrics:
        label = f"{LABELS[metric]}, {' / '.join(receivers)}" if len(receivers) > 1 else LABELS[metric]
        lines.append(f"| {label}{UNITS.get(metric, '')} | " + " | ".join(
            " / ".join(FORMATS[metric](_pick(by_k[k], receiver=r)[metric]) for r in receivers) for k in steps) + " |")
    return "\n".join(lines)


SNRS = [0.0, 5.0, 10.0, 15.0, 20.0]
SINRS = [-5.0, 0.0, 5.0, 10.0]
ICDM_RECEIVERS = ["jscc", "lmmse", "jscc-interf", "icdm"]


def _icdm(folder: str, channel: str, sinrs=SINRS, snr_db: float = 20.0) -> Callable[[], str]:
    def render() -> str:
        rows = [r for r in _rows(HERE / folder / "sweep.json") if r["channel"] == channel and r["snr_db"] == snr_db]
        return points_table(rows, f"{channel.capitalize() if channel == 'rayleigh' else 'AWGN'}, SINR (dB)",
                            "sinr_db", sinrs, ICDM_RECEIVERS, metrics=("latent_mse_db", "psnr_db", "ms_ssim", "vif"),
                            gains=("icdm",))
    return render


def _baseline_rows() -> str:
    """CDDM against both baselines: CIFAR genie 5 / 10 / 15 dB, CIFAR through the PHY, Kodak."""
    lines = ["| Rayleigh, PSNR (dB) | jscc | jscc-mmse | cddm | cddm − best baseline (95% CI) |", "|---|---|---|---|---|"]
    cifar = _rows(HERE / "cddm_rayleigh" / "sweep.json")
    phy = _rows(HERE / "cddm_phy" / "sweep.json")
    kodak = json.loads((HERE / "kodak" / "summary.json").read_text())
    for label, rows, snr in ([("CIFAR-10 (1,017 lossless test images), genie", cifar, s) for s in (5.0, 10.0, 15.0)]
                             + [("CIFAR-10 through the PHY (CFO 30 kHz, estimated CSI)", phy, 10.0)]):
        values = [_pick(rows, receiver=r, snr_db=snr)["psnr_db"] for r in ("jscc", "jscc-mmse", "cddm")]
        lines.append(f"| {label}, {snr:g} dB | " + " | ".join(_db(v) for v in values)
                     + f" | {_gain(_pick(rows, receiver='cddm', snr_db=snr))} |")
    for point in kodak:
        lines.append(f"| Kodak-24 photographs, {point['link']} | " + " | ".join(
            _db(point["psnr_db"][r]) for r in ("jscc", "jscc-mmse", "cddm"))
                     + f" | {_gain(point['cddm'])} |")
    return "\n".join(lines)


RENDERERS: dict[str, Callable[[], str]] = {
    "jscc_awgn": lambda: points_table(_rows(HERE / "jscc_awgn" / "sweep.json"), "AWGN SNR (dB)", "snr_db", SNRS,
                                      ["jscc"], metrics=("psnr_db", "ssim", "ms_ssim", "vif")),
    "jscc_rayleigh": lambda: points_table(_rows(HERE / "jscc_rayleigh" / "sweep.json"), "Rayleigh SNR (dB)",
                                          "snr_db", SNRS, ["jscc"]),
    "cddm_rayleigh": lambda: points_table(_rows(HERE / "cddm_rayleigh" / "sweep.json"), "Rayleigh SNR (dB)",
                                          "snr_db", SNRS, ["jscc", "jscc-mmse", "cddm"], gains=("cddm",)),
    "cddm_steps": lambda: steps_table(HERE / "cddm_steps", STEPS_CDDM, ["cddm"], ("psnr_db", "latent_mse_db")),
    "cddm_awgn": lambda: points_table(_rows(HERE / "cddm_awgn" / "sweep.json"), "AWGN SNR (dB)", "snr_db", SNRS,
                                      ["jscc", "cddm"], metrics=("psnr_db", "ms_ssim", "latent_mse_db"),
                                      gains=("cddm",)),
    "cddm_baseline": _baseline_rows,
    "icdm_phy_rayleigh": _icdm("icdm_phy", "rayleigh", SINRS + [20.0]),
    "icdm_phy_awgn": _icdm("icdm_phy", "awgn", SINRS + [20.0]),
    "icdm_genie_rayleigh": _icdm("icdm_genie", "rayleigh"),
    "icdm_genie_awgn": _icdm("icdm_genie", "awgn"),
    "icdm_steps": lambda: steps_table(HERE / "icdm_steps", STEPS_ICDM, ["icdm"], ("latent_mse_db", "psnr_db",
                                                                                  "ms_ssim"), "K per prior"),
    "djscc_awgn": lambda: points_table(_rows(HERE / "djscc_awgn" / "sweep.json"), "AWGN SNR (dB)", "snr_db", SNRS,
                                       ["jscc", "djscc", "djscc-mean"], metrics=("psnr_db", "ssim", "ms_ssim", "vif")),
    "djscc_rayleigh": lambda: points_table(_rows(HERE / "djscc_rayleigh" / "sweep.json"), "Rayleigh SNR (dB)",
                                           "snr_db", SNRS, ["jscc", "djscc", "djscc-mean"],
                                           metrics=("psnr_db", "ssim", "ms_ssim", "vif")),
    "djscc_steps": lambda: steps_table(HERE / "djscc_steps", STEPS_DJSCC, ["djscc", "djscc-mean"], ("psnr_db",)),
}


def render_readme() -> list[str]:
    """Replace every README block whose renderer has its data; the names of those left as they were."""
    text = README.read_text()
    skipped = []

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in RENDERERS:
            raise KeyError(f"README names table {name!r}, which no renderer makes")
        try:
            table = RENDERERS[name]()
        except (FileNotFoundError, LookupError) as missing:
            skipped.append(f"{name} ({missing})")
            return match.group(0)
        return f"<!-- table: {name} -->\n{table}\n<!-- /table -->"

    README.write_text(re.sub(r"<!-- table: (\w+) -->\n.*?<!-- /table -->", replace, text, flags=re.S))
    return skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated jobs (default: all): " + ", ".join(JOBS))
    parser.add_argument("--render-only", action="store_true", help="write the tables from the files already there")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(JOBS)
    unknown = sorted(set(names) - set(JOBS))
    if unknown:
        parser.error(f"unknown jobs {unknown}; expected some of {', '.join(JOBS)}")
    if not args.render_only:
        timings = run_jobs(names)
        print(f"jobs: {sum(timings[n] for n in names):.0f} s ({shlex.join(names)})")
    for name in render_readme():
        print(f"left as it was (no data yet): {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
