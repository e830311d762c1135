"""Measure the switch tables (models.switching) of CDDM and ICDM on validation images (issue 17).

The validation images are the last 512 of CIFAR-10's training split (the JPEG-coded 60k archive):
held out by the trainers of cddm-rt, icdm-rt's priors, jscc-mmse and jscc-interf (the width-64
CDDM denoiser and ICDM's width-64 priors were trained with the test split as validation and saw
them); the test split is never read here. Every receiver runs its own method (no switch), genie
CSI, its default K, beside the baselines of its scenario; each grid point's best baseline and the
receiver's mean PSNR gain over it are written to models/weights/switch/<receiver>_<channel>.json.

    .venv/bin/python docs/benchmarks/switch/measure.py [DATA_DIR] [plain|interference]   # both by default
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from diffair.models import registry
from diffair.models.data import load_npz
from diffair.models.provenance import provenance, weights_used
from diffair.models.switching import table_path
from diffair.testbed.sweep import SweepOptions, run_sweep

VALIDATION_IMAGES = 512
SNRS_DB = (0.0, 5.0, 10.0, 15.0, 20.0)
SINRS_DB = (-5.0, 0.0, 5.0, 10.0, 15.0, 20.0)
ICDM_SNR_DB = 20.0
RECEIVERS = {"plain": ("cddm", "cddm-rt"), "interference": ("icdm", "icdm-rt")}
BASELINES = {"plain": ("jscc", "jscc-mmse"), "interference": ("jscc", "lmmse", "jscc-interf")}


def validation_archive(data: Path, folder: Path) -> Path:
    """The last VALIDATION_IMAGES training images and labels, as the test split of a new npz."""
    with np.load(data, allow_pickle=False) as archive:
        labels = archive["y_train"]
    images = load_npz(data, "train")
    path = folder / "validation.npz"
    np.savez(path, x_test=images[-VALIDATION_IMAGES:], y_test=labels[-VALIDATION_IMAGES:])
    return path


def measure(validation: Path, scenario: str, channel: str) -> list[dict]:
    weights = registry.WEIGHTS_DIR
    names = [n for n in BASELINES[scenario] + RECEIVERS[scenario]
             if n in registry.available(channel, scenario, weights, variants=True)]
    interference = scenario == "interference"
    options = SweepOptions(data=validation, limit=VALIDATION_IMAGES, channels=(channel,), receivers=tuple(names),
                           genie=True, switch=False, out=Path(tempfile.mkdtemp()),
                           snr_db=(ICDM_SNR_DB,) if interference else SNRS_DB,
                           sinr_db=SINRS_DB if interference else (), metrics=("psnr_db",))
    return run_sweep(options, progress=True)["results"]


def main(data_dir: Path, scenarios: tuple[str, ...] = ("plain", "interference")) -> None:
    data = data_dir / "cifar10" / "cifar10_jpeg_q75_60k.npz"
    validation = validation_archive(data, Path(tempfile.mkdtemp()))
    for scenario, key in (("plain", "snr_db"), ("interference", "sinr_db")):
        if scenario not in scenarios:
            continue
        for channel in registry.CHANNELS:
            rows = measure(validation, scenario, channel)
            origin = provenance(0, weights_used(sorted({r["receiver"] for r in rows}), channel, scenario), data)
            for receiver in RECEIVERS[scenario]:
                mine = sorted((r for r in rows if r["receiver"] == receiver), key=lambda r: r[key])
                if not mine:
                    continue
                table = {"receiver": receiver, "channel": channel, "key": key,
                         "steps": registry.resolve_steps(receiver, None),
                         "measured_on": f"the last {VALIDATION_IMAGES} CIFAR-10 training images, genie CSI"
                                        + (f", SNR {ICDM_SNR_DB:g} dB" if key == "sinr_db" else ""),
                         "points": [{"at_db": r[key], "baseline": r["best_baseline"],
                                     "gain_db": round(r["psnr_gain_db"], 3)} for r in mine],
                         "provenance": origin}
                path = table_path(registry.WEIGHTS_DIR, receiver, channel)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(table, indent=1) + "\n")
                print(f"{receiver} {channel}: " + ", ".join(
                    f"{p['at_db']:g} dB {p['gain_db']:+.2f} ({p['baseline']})" for p in table["points"]))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DIFFAIR_DATA", "../shared/data")),
         tuple(sys.argv[2:]) or ("plain", "interference"))
