"""The seed spread of CDDM's gap to the strongest baseline (issue 17), for both denoisers: the
real-time cddm-rt from training seeds 0 (shipped), 1 and 2 (docs/benchmarks/seeds/train.sh), and
the width-64 cddm from seeds 0, 1 and 2 trained anew with validation held out of the training split
(docs/benchmarks/seeds/train64.sh; the shipped one beside them), each against jscc-mmse, genie
Rayleigh 5 / 10 / 15 dB, the 1,017 lossless CIFAR-10 test images. The seeded receivers are
registered for the run only.

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

WEIGHTS_DIR = Path(__file__).resolve().parents[3] / "models" / "weights"
SNRS_DB = (5.0, 10.0, 15.0)
BASELINE = "jscc-mmse"


@dataclasses.dataclass(frozen=True)
class Family:
    """One denoiser trained from several seeds: ``spec`` the shipped receiver, ``folder`` the seed
    weights (``seed<N>/`` inside), ``seeds`` the receiver name of each seed (the shipped name where
    the shipped weights are that seed's)."""

    spec: ReceiverSpec
    folder: Path
    seeds: dict[int, str]

    def seeded_specs(self) -> list[ReceiverSpec]:
        return [_seeded(self.spec, self.folder / f"seed{seed}", name)
                for seed, name in self.seeds.items() if name != self.spec.name]


FAMILIES = {
    "cddm-rt": Family(receivers.CDDM_RT_SPEC, WEIGHTS_DIR / "seeds",
                      {0: "cddm-rt", 1: "cddm-rt-seed1", 2: "cddm-rt-seed2"}),
    "cddm": Family(receivers.CDDM_SPEC, WEIGHTS_DIR / "seeds64",
                   {0: "cddm-seed0", 1: "cddm-seed1", 2: "cddm-seed2"}),
}


def _seeded(base: ReceiverSpec, folder: Path, name: str) -> ReceiverSpec:
    """``base`` loading its networks from ``folder`` under the name ``name``."""

    def load(request: LoadRequest):
        receiver = base.load(dataclasses.replace(request, weights=WeightsLoader(folder)))
        receiver.name = name
        return receiver

    return ReceiverSpec(name, f"{base.name} from {folder}", base.transmitter, base.weights, load,
                        default_steps=base.default_steps, variant_of=base.variant_of or base.name)


def main(data_dir: Path) -> None:
    names = [BASELINE] + [n for f in FAMILIES.values() for n in f.seeds.values()] + ["cddm"]
    with ExitStack() as stack:
        for family in FAMILIES.values():
            for spec in family.seeded_specs():
                stack.enter_context(registry.registered(spec))
        options = SweepOptions(data=data_dir / "cifar10" / "cifar10_lossless_subset.npz", limit=1017, snr_db=SNRS_DB,
                               channels=("rayleigh",), receivers=tuple(names), genie=True,
                               out=Path(tempfile.mkdtemp()))
        result = run_sweep(options, progress=False)
    psnr = {(r["receiver"], r["snr_db"]): r["psnr_db"] for r in result["results"]}
    families = {}
    for family_name, family in FAMILIES.items():
        print(f"{family_name} - {BASELINE} by training seed (genie Rayleigh, 1,017 lossless CIFAR-10 test images)")
        print(f"{'SNR dB':>7} {'seed 0':>8} {'seed 1':>8} {'seed 2':>8} {'mean':>8} {'std':>6} {'shipped':>8}")
        records = []
        for snr in SNRS_DB:
            gaps = [psnr[name, snr] - psnr[BASELINE, snr] for name in family.seeds.values()]
            shipped = psnr[family.spec.name, snr] - psnr[BASELINE, snr]
            records.append({"snr_db": snr, "jscc_mmse_psnr_db": psnr[BASELINE, snr], "gap_db_by_seed": gaps,
                            "shipped_gap_db": shipped})
            print(f"{snr:>7g} " + " ".join(f"{g:>+8.2f}" for g in gaps)
                  + f" {np.mean(gaps):>+8.2f} {np.std(gaps, ddof=1):>6.2f} {shipped:>+8.2f}")
        families[family_name] = records
    seeded = {str(f.relative_to(WEIGHTS_DIR.parents[1])): file_sha256(f)  # the sweep's provenance has the shipped
              for family in FAMILIES.values() for f in sorted(family.folder.glob("seed*/*.safetensors"))}
    document = {"command": " ".join(sys.argv), "provenance": result["provenance"], "seed_weights": seeded,
                "families": families}
    Path(__file__).with_name("seeds.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DIFFAIR_DATA", "../shared/data")))
