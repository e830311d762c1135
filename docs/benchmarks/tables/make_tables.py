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
KODAK = ROOT / "runs" / "kodak24_landscape.npz"  # made by kodak_archive.py, outside what git tracks
STEPS_CDDM = ("1", "2", "5", "10", "20", "full")
STEPS_ICDM = ("5", "10", "20", "full")
STEPS_DJSCC = ("1", "2", "5", "10", "full")


def _sweep(args: str, out: str, data: str = CIFAR) -> str:
    return f"{SWEEP} {data} {args} --out {HERE / out} --json > /dev/null"


def _per_step(args: str, folder: str, steps: tuple[str, ...]) -> list[str]:
    """One sweep per sampler step count K, into ``folder/k<K>``."""
    return [_sweep(f"{args} --steps {k}", f"{folder}/k{k}") for k in steps]


def _script(script: str, out: str) -> str:
    """A benchmark script of docs/benchmarks run on the data folder, its printout to ``out``."""
    return f"{sys.executable} {ROOT / 'docs/benchmarks' / script} {DATA} > {ROOT / 'docs/benchmarks' / out}"


JOBS: dict[str, list[str]] = {  # in this order: the switch tables first, the sweeps report what they do
    "switch": [_script("switch/measure.py", "tables/switch.txt")],
    "cddm_estimate": [_script("cddm_estimate/run.py", "cddm_estimate/estimate.txt")],
    "jscc_awgn": [_sweep("--snr-db 0,5,10,15,20 --channel awgn --receivers jscc --genie", "jscc_awgn")],
    "jscc_rayleigh": [_sweep("--snr-db 0,5,10,15,20 --channel rayleigh --receivers jscc --genie", "jscc_rayleigh")],
    "cddm_rayleigh": [_sweep("--snr-db 0,5,10,15,20 --channel rayleigh --receivers jscc,jscc-mmse,cddm --genie "
                             "--steps 10", "cddm_rayleigh")],
    "cddm_steps": _per_step("--snr-db 10 --channel rayleigh --receivers cddm --genie", "cddm_steps", STEPS_CDDM),
    "cddm_awgn": [_sweep("--snr-db 0,5,10,15,20 --channel awgn --receivers jscc,cddm --genie --steps 10", "cddm_awgn")],
    "cddm_phy": [_sweep("--snr-db 10 --channel rayleigh --receivers jscc,jscc-mmse,cddm --steps 10", "cddm_phy")],
    "kodak": [f"{sys.executable} {HERE / 'kodak_archive.py'} {DATA} {KODAK}",
              _sweep("--snr-db 5,15 --channel rayleigh --receivers jscc,jscc-mmse,cddm --steps 10", "kodak_rayleigh",
                     f"--data {KODAK}"),
              _sweep("--snr-db 10 --channel awgn --receivers jscc,cddm --steps 10", "kodak_awgn", f"--data {KODAK}")],
    "ablation": [_script("ablation/run.py", "ablation/ablation.txt")],
    "icdm_phy": [_sweep("--snr-db 20 --sinr-db=-5,0,5,10,20 --channel rayleigh,awgn --steps 20", "icdm_phy")],
    "djscc_photos": [_script("djscc_photos/run.py", "djscc_photos/photos.txt")],
    "seeds": [_script("seeds/run.py", "seeds/seeds.txt")],
    "icdm_default": [_sweep("--snr-db 20 --sinr-db=0,10,20 --channel rayleigh,awgn", "icdm_default")],
    "icdm_phy_snr10_15": [_sweep("--snr-db 10,15 --sinr-db=-5,0,5,10 --channel rayleigh --steps 20",
                                 "icdm_phy_snr10_15")],
    "icdm_genie": [_sweep("--snr-db 20 --sinr-db=-5,0,5,10 --channel rayleigh,awgn --steps full --genie",
                          "icdm_genie")],
    "icdm_steps": _per_step("--snr-db 20 --sinr-db=0 --channel rayleigh --receivers icdm --genie", "icdm_steps",
                            STEPS_ICDM),
    "djscc_awgn": [_sweep("--snr-db 0,5,10,15,20 --channel awgn --receivers jscc,djscc,djscc-mean --genie",
                          "djscc_awgn")],
    "djscc_rayleigh": [_sweep("--snr-db 0,5,10,15,20 --channel rayleigh --receivers jscc,djscc,djscc-mean --genie",
                              "djscc_rayleigh")],
    "djscc_steps": _per_step("--snr-db 10 --channel awgn --receivers djscc,djscc-mean --genie", "djscc_steps",
                             STEPS_DJSCC),
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


def _by_default(row: dict) -> str:
    """What the receiver gives by default against the best baseline: its own gain, or the gain
    after its switch table handed the images to a baseline (models.switching)."""
    if "switched_to" not in row:
        return f"{row['psnr_gain_db']:+.2f} (own)".replace("-", "−")
    share = "" if row["switched_images"] == row["images"] else f" ({row['switched_images']}/{row['images']})"
    return f"{row['switched_psnr_gain_db']:+.2f}".replace("-", "−") + f" → {row['switched_to']}{share}"


FORMATS = {"psnr_db": _db, "latent_mse_db": _db, "ssim": "{:.3f}".format, "ms_ssim": "{:.3f}".format,
           "vif": "{:.3f}".format, "haarpsi": "{:.3f}".format}
LABELS = {"psnr_db": "PSNR", "ssim": "SSIM", "ms_ssim": "MS-SSIM", "vif": "VIF", "haarpsi": "HaarPSI",
          "latent_mse_db": "latent MSE"}
UNITS = {"psnr_db": " (dB)", "latent_mse_db": " (dB)"}
IMAGE_SCORES = ("psnr_db", "ssim", "ms_ssim", "vif", "haarpsi")


def points_table(rows: list[dict], header: str, x_key: str, xs: list, receivers: list[str],
                 metrics=(*IMAGE_SCORES, "latent_mse_db"), gains=(), **where) -> str:
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
        picked = [_pick(rows, receiver=receiver, **{x_key: x}, **where) for x in xs]
        best = sorted({r["best_baseline"] for r in picked})
        lines.append(f"| {receiver} − {'/'.join(best)} (95% CI) | " + " | ".join(_gain(r) for r in picked) + " |")
        lines.append(f"| {receiver} by default (its switch) − {'/'.join(best)} | "
                     + " | ".join(_by_default(r) for r in picked) + " |")
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
                            "sinr_db", sinrs, ICDM_RECEIVERS, metrics=("latent_mse_db", "psnr_db", "ms_ssim", "vif",
                                                                            "haarpsi"),
                            gains=("icdm",))
    return render


def _baseline_rows() -> str:
    """CDDM against both baselines: CIFAR genie 5 / 10 / 15 dB, CIFAR and the Kodak photographs
    through the PHY."""
    lines = ["| PSNR (dB) | jscc | jscc-mmse | cddm | cddm − best baseline (95% CI) | by default (its switch) |",
             "|---|---|---|---|---|---|"]
    points = ([("CIFAR-10 (1,017 lossless test images), genie", "cddm_rayleigh", "rayleigh", s) for s in (5.0, 10.0, 15.0)]
              + [("CIFAR-10 through the PHY (CFO 30 kHz, estimated CSI)", "cddm_phy", "rayleigh", 10.0)]
              + [("Kodak-24 photographs through the PHY", f"kodak_{c}", c, s)
                 for c, s in (("rayleigh", 5.0), ("rayleigh", 15.0), ("awgn", 10.0))])
    for label, job, channel, snr in points:
        rows = _rows(HERE / job / "sweep.json")
        values = [_db(_pick(rows, receiver=r, snr_db=snr)["psnr_db"]) if any(x["receiver"] == r for x in rows) else "–"
                  for r in ("jscc", "jscc-mmse", "cddm")]
        cddm = _pick(rows, receiver="cddm", snr_db=snr)
        link = f"{'Rayleigh' if channel == 'rayleigh' else 'AWGN'} {snr:g} dB"
        lines.append(f"| {label}, {link} | " + " | ".join(values) + f" | {_gain(cddm)} | {_by_default(cddm)} |")
    return "\n".join(lines)


def _ablation() -> str:
    """The ablation table from docs/benchmarks/ablation/ablation.json (its run.py)."""
    records = json.loads((ROOT / "docs/benchmarks/ablation/ablation.json").read_text())["records"]

    def value(receiver: str, metric: str, **where) -> float:
        return _pick(records, receiver=receiver, **where)[metric]

    def joined(receivers, metric, fmt=_db, **where) -> str:
        return " / ".join(fmt(value(r, metric, **where)) for r in receivers)

    ms = "{:.3f}".format
    lines = ["| ablation | link | PSNR (dB) | MS-SSIM |", "|---|---|---|---|"]
    steps = ("cddm-k0", "cddm-k1", "cddm")
    for snr in (5.0, 10.0, 15.0):
        lines.append(f"| CDDM, 0 steps (its stage-3 decoder on the equalized y) / 1 step / 10 steps | Rayleigh "
                     f"{snr:g} dB | {joined(steps, 'psnr_db', snr_db=snr)} | {joined(steps, 'ms_ssim', ms, snr_db=snr)} |")
    snrs = (5.0, 10.0, 15.0)

    def over_snrs(receiver: str) -> str:
        return " / ".join(_db(value(receiver, "psnr_db", snr_db=s)) for s in snrs)

    lines += [f"| CDDM's denoiser at width 64 / the real-time width 32 with 2 × 2 patches (K = 10) | Rayleigh 5 / 10 / 15 dB "
              f"| {over_snrs('cddm')} vs {over_snrs('cddm-rt')} | |",
              f"| the real-time CDDM with / without the \\|h\\| conditioning (W_s, W_n into the network; the sampler uses "
              f"them either way) | Rayleigh 5 / 10 / 15 dB | {over_snrs('cddm-rt')} vs {over_snrs('cddm-rt-blind')} | |",
              f"| jscc-mmse (no diffusion, for reference) | Rayleigh 5 / 10 / 15 dB | {over_snrs('jscc-mmse')} | "
              + " / ".join(ms(value("jscc-mmse", "ms_ssim", snr_db=s)) for s in snrs) + " |"]
    for pair, label in ((("djscc-k0", "djscc"), "Guo et al., without / with its diffusion (K = 10), sampled start"),
                        (("djscc-mean-k0", "djscc-mean"), "same, started at the upsampler's mean (djscc-mean)")):
        lines.append(f"| {label} | AWGN 10 dB | {joined(pair, 'psnr_db', snr_db=10.0)} | "
                     f"{joined(pair, 'ms_ssim', ms, snr_db=10.0)} |")
    icdm = ("icdm-one-prior", "icdm-paper-decoder", "icdm")
    for channel, label in (("rayleigh", "Rayleigh"), ("awgn", "AWGN")):
        for sinr in (0.0, 10.0):
            where = {"channel": channel, "sinr_db": sinr}
            lines.append(f"| ICDM, one learned prior (the interferer's replaced by the exact Gaussian one) / two, both "
                         f"with the paper's decoder / two with its decoder trained in the loop | {label} 20 dB, SINR "
                         f"{sinr:g} dB | {joined(icdm, 'psnr_db', **where)} (jscc-interf "
                         f"{_db(value('jscc-interf', 'psnr_db', **where))}, "
                         f"jscc {_db(value('jscc', 'psnr_db', **where))}) "
                         f"| {joined(icdm, 'ms_ssim', ms, **where)} |")
    return "\n".join(lines)


def _seeds(family: str) -> Callable[[], str]:
    """``family``'s PSNR gain over the best baseline by training seed, from
    docs/benchmarks/seeds/seeds.json (its run.py)."""
    def render() -> str:
        entry = json.loads((ROOT / "docs/benchmarks/seeds/seeds.json").read_text())["families"][family]
        records = entry["records"]
        seeds = list(records[0]["gap_db_by_seed"]) + [str(s) for s in entry["untrained_seeds"]]
        interference = "sinr_db" in records[0]
        point = f"Rayleigh SINR (dB), SNR {records[0]['snr_db']:g} dB" if interference else "Rayleigh SNR (dB)"
        lines = [f"| {point} | best baseline (dB) | " + " | ".join(f"seed {s}" for s in seeds)
                 + " | mean ± std | shipped |", "|---" * (len(seeds) + 4) + "|"]
        for r in records:
            gaps = list(r["gap_db_by_seed"].values())
            mean = sum(gaps) / max(len(gaps), 1)
            spread = (f"{mean:+.2f} ± {(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1)) ** 0.5:.2f}"
                      if len(gaps) > 1 else "–")
            cells = ([f"{g:+.2f}" for g in gaps] + ["not trained yet"] * len(entry["untrained_seeds"])
                     + [spread, f"{r['shipped_gap_db']:+.2f}"])
            lines.append(f"| {r['sinr_db' if interference else 'snr_db']:g} | {r['best_baseline']} "
                         f"{_db(r['baseline_psnr_db'])} | " + " | ".join(cells).replace("-", "−") + " |")
        return "\n".join(lines)

    return render


def _icdm_by_snr() -> str:
    """ICDM at SNR 10 and 15 dB through the PHY, Rayleigh: (SNR, SINR) pairs as columns."""
    rows = [r for r in _rows(HERE / "icdm_phy_snr10_15" / "sweep.json") if r["channel"] == "rayleigh"]
    pairs = [(snr, sinr) for snr in (10.0, 15.0) for sinr in SINRS]
    lines = ["| Rayleigh through the PHY, SNR / SINR (dB) | " + " | ".join(
        f"{_x_label(a)} / {_x_label(b)}" for a, b in pairs) + " |", "|---" * (len(pairs) + 1) + "|"]
    for metric in ("latent_mse_db", "psnr_db"):
        lines.append(f"| {LABELS[metric]}, {' / '.join(ICDM_RECEIVERS)} (dB) | " + " | ".join(
            " / ".join(_db(_pick(rows, receiver=r, snr_db=a, sinr_db=b)[metric]) for r in ICDM_RECEIVERS)
            for a, b in pairs) + " |")
    lines.append("| icdm − best baseline (95% CI) | " + " | ".join(
        _gain(_pick(rows, receiver="icdm", snr_db=a, sinr_db=b)) for a, b in pairs) + " |")
    return "\n".join(lines)


def _switch_tables() -> str:
    """Each shipped switch table (models/weights/switch): the expected gain per grid point."""
    from diffair.models.registry import WEIGHTS_DIR

    lines = ["| receiver, channel (grid) | expected PSNR gain over the best baseline (dB), per grid point |", "|---|---|"]
    for path in sorted((WEIGHTS_DIR / "switch").glob("*.json")):
        table = json.loads(path.read_text())
        unit = "SNR" if table["key"] == "snr_db" else "SINR"
        cells = ", ".join(f"{p['at_db']:g}: {p['gain_db']:+.2f}".replace("-", "−")
                          + ("" if p["gain_db"] >= 0 else f" → {p['baseline']}") for p in table["points"])
        lines.append(f"| {table['receiver']}, {table['channel']} ({unit} dB, K = {table['steps']}) | {cells} |")
    if len(lines) == 2:
        raise LookupError("no switch table in models/weights/switch")
    return "\n".join(lines)


def _icdm_default() -> str:
    """ICDM as shipped (K = 10, its switch) at issue 17's target points, through the PHY."""
    rows = _rows(HERE / "icdm_default" / "sweep.json")
    sinrs = [0.0, 10.0, 20.0]
    lines = ["| through the PHY, SNR 20 dB, K = 10; SINR (dB) | " + " | ".join(_x_label(x) for x in sinrs) + " |",
             "|---" * (len(sinrs) + 1) + "|"]
    for channel in ("rayleigh", "awgn"):
        picked = [_pick(rows, receiver="icdm", channel=channel, sinr_db=x) for x in sinrs]
        label = "Rayleigh" if channel == "rayleigh" else "AWGN"
        lines.append(f"| {label}: icdm's own − best baseline (95% CI) | " + " | ".join(
            f"{_gain(r)} ({r['best_baseline']})" for r in picked) + " |")
        lines.append(f"| {label}: icdm by default (its switch) − best baseline | "
                     + " | ".join(_by_default(r) for r in picked) + " |")
    return "\n".join(lines)


def _photos() -> str:
    """Kodak, whole through the networks or as 32 x 32 tiles (docs/benchmarks/djscc_photos)."""
    records = json.loads((ROOT / "docs/benchmarks/djscc_photos/photos.json").read_text())["records"]
    keys = ("jscc_whole", "jscc_tiles", "djscc-mean_whole", "djscc-mean_tiles")
    lines = ["| 24 Kodak photos, genie, mean PSNR (dB) | jscc, whole | jscc, tiles | djscc-mean, whole | djscc-mean, "
             "tiles | photos where djscc-mean beats jscc: whole / tiles |", "|---|---|---|---|---|---|"]
    for channel, snr in (("awgn", 10.0), ("rayleigh", 15.0)):
        at = [r for r in records if r["channel"] == channel and r["snr_db"] == snr]
        means = [_db(sum(r[k] for r in at) / len(at)) for k in keys]
        wins = [sum(r[f"djscc-mean_{w}"] > r[f"jscc_{w}"] for r in at) for w in ("whole", "tiles")]
        label = f"{'AWGN' if channel == 'awgn' else 'Rayleigh'} {snr:g} dB"
        lines.append(f"| {label} | " + " | ".join(means) + f" | {wins[0]} / {wins[1]} of {len(at)} |")
    return "\n".join(lines)


def _cddm_estimate() -> str:
    """A decoder given CDDM's estimate beside y, against the same with an input withheld
    (docs/benchmarks/cddm_estimate)."""
    rows = json.loads((ROOT / "docs/benchmarks/cddm_estimate/estimate.json").read_text())["rows"]
    arms, both = list(rows[0]["psnr_db"]), ("both, from y", "both, from CDDM")
    lines = ["| Rayleigh SNR (dB), genie | " + " | ".join(arms) + " | "
             + " | ".join(f"{arm} − y (95% CI)" for arm in both) + " |", "|---" * (len(arms) + 3) + "|"]
    for row in rows:
        gains = [f"{g['gain_db']:+.2f} ({g['ci95'][0]:+.2f} … {g['ci95'][1]:+.2f})".replace("-", "−")
                 for g in (row["over_y"][arm] for arm in both)]
        lines.append(f"| {row['snr_db']:g} | " + " | ".join(_db(row["psnr_db"][a]) for a in arms) + " | "
                     + " | ".join(gains) + " |")
    return "\n".join(lines)


RENDERERS: dict[str, Callable[[], str]] = {
    "cddm_estimate": _cddm_estimate,
    "photos": _photos,
    "icdm_default": _icdm_default,
    "switch": _switch_tables,
    "ablation": _ablation,
    "seeds": _seeds("cddm-rt"),
    "seeds64": _seeds("cddm"),
    "seeds_icdm": _seeds("icdm"),
    "icdm_phy_snr10_15": _icdm_by_snr,
    "jscc_awgn": lambda: points_table(_rows(HERE / "jscc_awgn" / "sweep.json"), "AWGN SNR (dB)", "snr_db", SNRS,
                                      ["jscc"], metrics=IMAGE_SCORES),
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
                                       ["jscc", "djscc", "djscc-mean"], metrics=IMAGE_SCORES),
    "djscc_rayleigh": lambda: points_table(_rows(HERE / "djscc_rayleigh" / "sweep.json"), "Rayleigh SNR (dB)",
                                           "snr_db", SNRS, ["jscc", "djscc", "djscc-mean"],
                                           metrics=IMAGE_SCORES),
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
