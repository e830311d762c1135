"""The seed spread of the diffusion receivers' gap to the strongest baseline of the run (issue 17):

- cddm-rt, the real-time CDDM, from training seeds 0 (shipped), 1 and 2 (seeds/train.sh);
- cddm, the width-64 CDDM, from seeds 0, 1 and 2 trained anew with validation held out of the
  training split (seeds/train64.sh), the shipped one beside them;
- icdm, ICDM's two priors from seeds 0, 1 and 2 trained anew the same way (seeds/train_icdm.sh),
  the shipped ones beside them;

genie Rayleigh, the 1,017 lossless CIFAR-10 test images (ICDM: their 599 animals against vehicles),
CDDM at SNR 5 / 10 / 15 dB, ICDM at SNR 20 dB and SINR 0 / 10 / 20 dB, every receiver's own
method (its switch keeps its decisions out of these columns). The seeded receivers are
registered for the run only; a seed whose weights are not there yet is listed as untrained.

    .venv/bin/python docs/benchmarks/seeds/run.py [DATA_DIR] > docs/benchmarks/seeds/seeds.txt
"""

import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from diffair.models import icdm, receivers, registry
from diffair.models.contract import LoadRequest, ReceiverSpec, WeightsLoader
from diffair.models.provenance import file_sha256
from diffair.testbed.loopback import default_receivers
from diffair.testbed.sweep import SweepOptions, run_sweep

WEIGHTS_DIR = Path(__file__).resolve().parents[3] / "models" / "weights"
SEEDS = (0, 1, 2)


@dataclasses.dataclass(frozen=True)
class Family:
    """One receiver trained from several seeds: ``spec`` the shipped receiver; ``folder`` the
    seeds' weights (``seed<N>/`` inside) holding the networks named ``trained`` (the others, the
    codecs, are the shipped ones); ``shipped_seed`` the seed the shipped weights are (None: they
    are none of these); where it is swept: ``scenario``, ``points`` (the sweep's SNRs, SINRs)."""

    spec: ReceiverSpec
    folder: Path
    trained: tuple[str, ...]
    shipped_seed: int | None
    scenario: str
    snr_db: tuple[float, ...]
    sinr_db: tuple[float, ...] = ()

    def name(self, seed: int) -> str:
        return self.spec.name if seed == self.shipped_seed else f"{self.spec.name}-seed{seed}"

    def trained_seeds(self) -> list[int]:
        """The seeds whose weights are there (the shipped one's always are)."""
        return [seed for seed in SEEDS if seed == self.shipped_seed
                or all((self.folder / f"seed{seed}" / f"{n}.safetensors").exists() for n in self.trained)]

    def seeded_specs(self) -> list[ReceiverSpec]:
        return [_seeded(self.spec, self.folder / f"seed{seed}", self.name(seed))
                for seed in self.trained_seeds() if seed != self.shipped_seed]


FAMILIES = {
    "cddm-rt": Family(receivers.CDDM_RT_SPEC, WEIGHTS_DIR / "seeds",
                      ("cddm_denoiser_rayleigh_rt", "cddm_codec_rayleigh_rt"), 0, "plain", (5.0, 10.0, 15.0)),
    "cddm": Family(receivers.CDDM_SPEC, WEIGHTS_DIR / "seeds64", ("cddm_denoiser_rayleigh", "cddm_codec_rayleigh"),
                   None, "plain", (5.0, 10.0, 15.0)),
    "icdm": Family(icdm.SPEC, WEIGHTS_DIR / "seeds_icdm", icdm.PRIORS, None, "interference", (20.0,),
                   (0.0, 10.0, 20.0)),
}


@dataclasses.dataclass
class _SeedFirst(WeightsLoader):
    """A seed's networks from its folder, the shipped ones (the codecs) for the rest."""

    def load(self, module_cls: type, config_cls: type, name: str, default=None):
        return WeightsLoader(self.folder if self.has(name) else WEIGHTS_DIR).load(module_cls, config_cls, name, default)


def _seeded(base: ReceiverSpec, folder: Path, name: str) -> ReceiverSpec:
    """``base`` loading its networks from ``folder`` (codecs: the shipped ones) under the name ``name``."""

    def load(request: LoadRequest):
        receiver = base.load(dataclasses.replace(request, weights=_SeedFirst(folder)))
        receiver.name = name
        return receiver

    return ReceiverSpec(name, f"{base.name} from {folder}", base.transmitter, base.weights, load,
                        scenarios=base.scenarios, default_steps=base.default_steps,
                        variant_of=base.variant_of or base.name)


@contextmanager
def seeded_receivers() -> Iterator[None]:
    """Every family's seeded receivers registered for the block."""
    with ExitStack() as stack:
        for family in FAMILIES.values():
            for spec in family.seeded_specs():
                stack.enter_context(registry.registered(spec))
        yield


def sweep_family(family: Family, data: Path, out: Path) -> dict:
    """One family's sweep (genie Rayleigh): its seeds, its shipped receiver and the baselines of
    its scenario (CDDM: jscc-mmse, the strongest; ICDM: every default one)."""
    seeded = [family.name(seed) for seed in family.trained_seeds()]
    if family.scenario == "plain":
        baselines = ["jscc-mmse"]
    else:
        baselines = [n for n in default_receivers("rayleigh", family.scenario, WEIGHTS_DIR) if n != family.spec.name]
    names = tuple(dict.fromkeys([*baselines, *seeded, family.spec.name]))
    options = SweepOptions(data=data, limit=1017, snr_db=family.snr_db, sinr_db=family.sinr_db,
                           channels=("rayleigh",), receivers=names, genie=True, out=out, metrics=("psnr_db",))
    return run_sweep(options, progress=False)


def family_records(family: Family, rows: list[dict]) -> list[dict]:
    """Per point: the best baseline and its PSNR, each trained seed's gap to it, the shipped one's."""
    x_key = "sinr_db" if family.sinr_db else "snr_db"
    by_point: dict[float, dict[str, dict]] = {}
    for row in rows:
        by_point.setdefault(row[x_key], {})[row["receiver"]] = row
    records = []
    for x, point in by_point.items():
        shipped = point[family.spec.name]
        best = shipped["best_baseline"]
        records.append({"snr_db": shipped["snr_db"], **({"sinr_db": x} if family.sinr_db else {}),
                        "best_baseline": best, "baseline_psnr_db": point[best]["psnr_db"],
                        "gap_db_by_seed": {str(s): point[family.name(s)]["psnr_gain_db"]
                                           for s in family.trained_seeds()},
                        "shipped_gap_db": shipped["psnr_gain_db"]})
    return records


def main(data_dir: Path) -> None:
    data = data_dir / "cifar10" / "cifar10_lossless_subset.npz"
    document = {"command": " ".join(sys.argv), "families": {}, "provenance": {}, "seed_weights": {}}
    with seeded_receivers():
        for family_name, family in FAMILIES.items():
            result = sweep_family(family, data, Path(tempfile.mkdtemp()))
            records = family_records(family, result["results"])
            untrained = [seed for seed in SEEDS if seed not in family.trained_seeds()]
            document["families"][family_name] = {"records": records, "untrained_seeds": untrained}
            document["provenance"][family_name] = result["provenance"]  # the shipped weights and the data
            document["seed_weights"] |= {str(f.relative_to(WEIGHTS_DIR.parents[1])): file_sha256(f)
                                         for f in sorted(family.folder.glob("seed*/*.safetensors"))}
            print(f"{family_name}: PSNR gain over the best baseline by training seed (genie Rayleigh)"
                  + (f"; seeds {untrained} not trained yet" if untrained else ""))
            seeds = " ".join(f"{'seed ' + str(s):>8}" for s in family.trained_seeds())
            print(f"{'point':>14} {'baseline':>12} {seeds} {'mean':>8} {'std':>6} {'shipped':>8}")
            for r in records:
                gaps = list(r["gap_db_by_seed"].values())
                point = f"SINR {r['sinr_db']:g} dB" if "sinr_db" in r else f"SNR {r['snr_db']:g} dB"
                print(f"{point:>14} {r['best_baseline']:>12} " + " ".join(f"{g:>+8.2f}" for g in gaps)
                      + f" {np.mean(gaps):>+8.2f} {np.std(gaps, ddof=1):>6.2f} {r['shipped_gap_db']:>+8.2f}")
    Path(__file__).with_name("seeds.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DIFFAIR_DATA", "../shared/data")))
