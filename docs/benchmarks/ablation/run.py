"""Ablations of the diffusion receivers in one table (issue 17), on the 1,017 lossless CIFAR-10
test images with genie CSI, through ``diffair sweep``'s own code. The ablated receivers are
registered for the run only (models.registry.registered), built from the shipped weights:

* cddm-k0: CDDM's stage-3 decoder on the MMSE-equalized symbols as they are (no diffusion step);
  cddm-k1: one DDIM step; cddm (K = 10); cddm-rt (the real-time width-32 denoiser, K = 10);
  cddm-rt-blind: cddm-rt's denoiser twin trained without the |h| conditioning (W_s, W_n), from
  models/weights/ablation (train_unconditioned.sh), decoding with cddm-rt's own stage-3 decoder.
* djscc-k0 / djscc-mean-k0: Guo et al.'s receiver without its diffusion (the upsampler's sample,
  or its mean, straight into the semantic decoder) against djscc / djscc-mean at K = 10.
* icdm-one-prior: ICDM's joint sampler with the interferer's learned prior replaced by the exact
  prior of a Gaussian latent (eps = sqrt(1 - a_t) x_t): one learned prior instead of two;
  icdm-paper-decoder: both learned priors; these two decode as the paper does, with the wanted
  codec's decoder (not re-trained), where icdm decodes with its decoder trained in the loop
  (models.icdm.ICDMDecoder), beside jscc-interf, the baseline that decoder started from.

Run from the repository root (about 5 minutes here):
    .venv/bin/python docs/benchmarks/ablation/run.py [DATA_DIR] > docs/benchmarks/ablation/ablation.txt
"""

import dataclasses
import json
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from diffair.models import djscc, icdm, receivers, registry
from diffair.models.baselines import MMSEDecoderReceiver
from diffair.models.contract import LoadRequest, ReceiverSpec, WeightsLoader
from diffair.models.provenance import file_sha256, provenance
from diffair.models.receivers import SamplerPlan
from diffair.testbed.sweep import SweepOptions, run_sweep

BLIND_WEIGHTS = Path(__file__).resolve().parents[3] / "models" / "weights" / "ablation"


class NoDiffusionDJSCC(djscc.DiffusionJSCCReceiver):
    """Guo et al.'s receiver with an empty sampler plan: the upsampler's output decoded directly."""

    def plan(self, snr_db: float) -> SamplerPlan:
        empty = np.zeros(0, dtype=np.float32)
        return SamplerPlan(empty, empty, empty)


def _named(receiver, name):
    receiver.name = name
    return receiver


def _cddm_k0(request: LoadRequest):
    codec = f"cddm_codec_{request.link.channel}"
    decoder = request.weights.load(receivers.DeepJSCC, receivers.JSCCConfig, codec).decoder
    return _named(MMSEDecoderReceiver(decoder).eval(), "cddm-k0")


def _cddm_k1(request: LoadRequest):
    return _named(receivers.CDDM_SPEC.load(dataclasses.replace(request, steps=1)), "cddm-k1")


def _cddm_blind(request: LoadRequest):
    """The blind denoiser with cddm-rt's own stage-3 decoder: only the conditioning differs."""
    blind = receivers.CDDM_RT_SPEC.load(dataclasses.replace(request, weights=WeightsLoader(BLIND_WEIGHTS)))
    blind.decoder = receivers.CDDM_RT_SPEC.load(request).decoder
    return _named(blind, "cddm-rt-blind")


def _djscc_k0(sample: bool, name: str):
    def load(request: LoadRequest):
        full = djscc.SPEC.load(request)
        return _named(NoDiffusionDJSCC(full.link, full.prior, full.autoencoder, steps=0, sample=sample).eval(), name)

    return load


def _icdm_paper_decoder(one_prior: bool, name: str):
    """ICDM decoding with the wanted codec's decoder, with both learned priors or (``one_prior``)
    the interferer's replaced by the Gaussian one."""
    def load(request: LoadRequest):
        full = icdm.SPEC.load(request)
        decoder = request.weights.load(receivers.DeepJSCC, receivers.JSCCConfig, request.link.codec).decoder
        prior_z = icdm.GaussianPrior() if one_prior else full.prior_z
        return _named(icdm.ICDMReceiver(full.prior_x, prior_z, decoder, steps=full.steps,
                                        channel=request.link.channel).eval(), name)

    return load


ABLATIONS = [
    ReceiverSpec("cddm-k0", "CDDM's decoder alone", "jscc", receivers.CDDM_SPEC.weights, _cddm_k0),
    ReceiverSpec("cddm-k1", "CDDM, one step", "jscc", receivers.CDDM_SPEC.weights, _cddm_k1, default_steps=1),
    ReceiverSpec("cddm-rt-blind", "cddm-rt without |h| conditioning", "jscc", lambda link: (link.codec,), _cddm_blind,
                 default_steps=10),
    ReceiverSpec("djscc-k0", "Guo et al. without diffusion", "djscc", djscc.SPEC.weights, _djscc_k0(True, "djscc-k0")),
    ReceiverSpec("djscc-mean-k0", "djscc-mean without diffusion", "djscc", djscc.SPEC.weights,
                 _djscc_k0(False, "djscc-mean-k0")),
    ReceiverSpec("icdm-one-prior", "ICDM with a Gaussian interference prior, the paper's decoder", "jscc",
                 icdm.SPEC.weights, _icdm_paper_decoder(True, "icdm-one-prior"), scenarios=("interference",),
                 default_steps=10),
    ReceiverSpec("icdm-paper-decoder", "ICDM with the paper's decoder", "jscc", icdm.SPEC.weights,
                 _icdm_paper_decoder(False, "icdm-paper-decoder"), scenarios=("interference",), default_steps=10),
]
ICDM_ABLATION = ("jscc", "lmmse", "jscc-interf", "icdm-one-prior", "icdm-paper-decoder", "icdm")

RUNS = [  # (what, channel, SNR dB, SINR dB or None, receivers)
    ("CDDM steps and size", "rayleigh", (5.0, 10.0, 15.0), None,
     ("jscc", "jscc-mmse", "cddm-k0", "cddm-k1", "cddm", "cddm-rt", "cddm-rt-blind")),
    ("Guo et al. with and without diffusion", "awgn", (10.0,), None,
     ("jscc", "djscc-k0", "djscc", "djscc-mean-k0", "djscc-mean")),
    ("ICDM one prior or two, the paper's decoder or its own", "rayleigh", (20.0,), (0.0, 10.0), ICDM_ABLATION),
    ("ICDM one prior or two, the paper's decoder or its own", "awgn", (20.0,), (0.0, 10.0), ICDM_ABLATION),
]


def measure(data_dir: Path, verbose: bool = False) -> dict:
    """Every run of ``RUNS`` with the ablated receivers registered: {"records": one per receiver
    and link, "provenance": the sweeps' weights (the blind twin's included) and data}."""
    data = data_dir / "cifar10" / "cifar10_lossless_subset.npz"
    records, weights = [], {f"ablation/{f.stem}": file_sha256(f) for f in sorted(BLIND_WEIGHTS.glob("*.safetensors"))}
    with ExitStack() as stack:
        for spec in ABLATIONS:
            stack.enter_context(registry.registered(spec))
        for what, channel, snr_db, sinr_db, names in RUNS:
            options = SweepOptions(data=data, limit=1017, snr_db=snr_db, channels=(channel,), receivers=names,
                                   sinr_db=sinr_db or (), genie=True, out=Path(tempfile.mkdtemp()),
                                   metrics=("ms_ssim",))  # the table's scores (PSNR always)
            result = run_sweep(options, progress=False)
            weights |= result["provenance"]["weights_sha256"]
            if verbose:
                print(f"\n{what} ({channel}, genie, 1,017 lossless CIFAR-10 test images)")
                print(f"{'receiver':>15} {'SNR dB':>7} {'SINR dB':>8} {'PSNR dB':>8} {'MS-SSIM':>8} {'latent MSE dB':>14}")
            for r in result["results"]:
                if verbose:
                    sinr = "-" if r.get("sinr_db") is None else f"{r['sinr_db']:g}"
                    print(f"{r['receiver']:>15} {r['snr_db']:>7g} {sinr:>8} {r['psnr_db']:>8.2f} {r['ms_ssim']:>8.3f} "
                          f"{r['latent_mse_db']:>14.2f}")
                records.append({"ablation": what, **{k: r[k] for k in ("receiver", "channel", "snr_db", "psnr_db",
                                                                      "ms_ssim", "latent_mse_db")},
                                "sinr_db": r.get("sinr_db")})
    return {"records": records, "provenance": provenance(SweepOptions.seed, dict(sorted(weights.items())), data)}


if __name__ == "__main__":
    outcome = measure(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DIFFAIR_DATA", "../shared/data")),
                      verbose=True)
    Path(__file__).with_name("ablation.json").write_text(json.dumps(outcome, indent=1) + "\n")
