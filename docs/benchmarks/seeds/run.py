"""The seed spread of the real-time CDDM's gap to the strongest baseline (issue 17): cddm-rt from
training seeds 0 (shipped), 1 and 2 (docs/benchmarks/seeds/train.sh) against jscc-mmse, genie
Rayleigh 5 / 10 / 15 dB, the 1,017 lossless CIFAR-10 test images; the seed-1 and seed-2 receivers
are registered for the run only.

    .venv/bin/python docs/benchmarks/seeds/run.py [DATA_DIR] > docs/benchmarks/seeds/seeds.txt
"""

import dataclasses
import json
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from diffair.models import receivers, registry
from diffair.models.contract import LoadRequest, ReceiverSpec, WeightsLoader
from diffair.models.provenance import file_sha256
from diffair.testbed.sweep import SweepOptions, run_sweep

SEEDS_DIR = Path(__file__).resolve().parents[3] / "models" / "weights" / "seeds"
SNRS_DB = (5.0, 10.0, 15.0)


def _seeded(seed: int) -> ReceiverSpec:
    name = f"cddm-rt-seed{seed}"

    def load(request: LoadRequest):
        seeded = dataclasses.replace(request, weights=WeightsLoader(SEEDS_DIR / f"seed{seed}"))
        receiver = receivers.CDDM_RT_SPEC.load(seeded)
        receiver.name = name
        return receiver

    return ReceiverSpec(name, f"cddm-rt trained from seed {seed}", "jscc", lambda link: (link.codec,), load,
                        default_steps=10)


def main(data_dir: Path) -> None:
    names = ("jscc-mmse", "cddm-rt", "cddm-rt-seed1", "cddm-rt-seed2")
    with ExitStack() as stack:
        for seed in (1, 2):
            stack.enter_context(registry.registered(_seeded(seed)))
        options = SweepOptions(data=data_dir / "cifar10" / "cifar10_lossless_subset.npz", limit=1017, snr_db=SNRS_DB,
                               channels=("rayleigh",), receivers=names, genie=True, out=Path(tempfile.mkdtemp()))
        result = run_sweep(options, progress=False)
    rows = result["results"]
    psnr = {(r["receiver"], r["snr_db"]): r["psnr_db"] for r in rows}
    records = []
    print("cddm-rt - jscc-mmse by training seed (genie Rayleigh, 1,017 lossless CIFAR-10 test images)")
    print(f"{'SNR dB':>7} {'seed 0':>8} {'seed 1':>8} {'seed 2':>8} {'mean':>8} {'std':>6}")
    for snr in SNRS_DB:
        gaps = [psnr[name, snr] - psnr["jscc-mmse", snr] for name in names[1:]]
        records.append({"snr_db": snr, "jscc_mmse_psnr_db": psnr["jscc-mmse", snr], "gap_db_by_seed": gaps})
        spread = f" {np.mean(gaps):>+8.2f} {np.std(gaps, ddof=1):>6.2f}"
        print(f"{snr:>7g} " + " ".join(f"{g:>+8.2f}" for g in gaps) + spread)
    seeded = {str(f.relative_to(SEEDS_DIR.parents[2])): file_sha256(f)  # the sweep's provenance names seed 0's
              for f in sorted(SEEDS_DIR.glob("seed*/*.safetensors"))}
    document = {"command": " ".join(sys.argv), "provenance": result["provenance"], "seed_weights": seeded,
                "rows": records}
    Path(__file__).with_name("seeds.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DIFFAIR_DATA", "../shared/data")))
