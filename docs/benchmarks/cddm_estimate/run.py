"""Why CDDM stays level with jscc-mmse (issue 17): does CDDM's denoised latent tell a decoder
anything that the equalized symbols y and their SNR map do not? An experiment.

ICDM's decoder gained from reading ICDM's estimate beside y (README, ICDM): there the sampler
brings what y alone lacks, the interferer's learned prior. CDDM's sampler starts from y and
uses no other observation, so its estimate is a function of y and the channel; if an MSE-trained
decoder reading y is already (near) the best function of them, the estimate adds nothing. The
test: the two-input decoder ICDM uses (models.icdm.ICDMDecoder: latent estimate, y, SNR map),
trained with the shipped CDDM (K = 10) in the loop, against the same decoder trained the same
way with one of its inputs withheld (zeros), all from the shipped weights:

* y:              jscc-mmse's decoder (the strongest baseline), the estimate withheld;
* estimate:       CDDM's stage-3 decoder, y withheld (CDDM's own method, trained further);
* both, from y:   jscc-mmse's decoder plus zero weights on the estimate (``from_baseline``);
* both, from CDDM: CDDM's stage-3 decoder plus zero weights on y (``from_codec``).

Training: ``TRAIN_IMAGES`` CIFAR-10 training images drawn at random (the last 1,000 of the
split left out), random flips, one Rayleigh SNR per batch of 256 uniform in [0, 20] dB (CDDM's
range), genie CSI; CDDM's estimates computed once; then ``EPOCHS`` epochs per arm (AdamW 2e-4,
cosine, batch 128, seed 0), no checkpoint selection; each arm's weights are kept in
models/weights/cddm_estimate/ (``load_arms``; tests/test_acceptance.py re-scores them). Evaluation: the 1,017 lossless CIFAR-10
test images at Rayleigh 5 / 10 / 15 dB, genie: each arm's PSNR (and the shipped jscc-mmse's and
CDDM's), and each arm's gain over the y arm with its paired bootstrap 95% CI over the images.

    .venv/bin/python docs/benchmarks/cddm_estimate/run.py [DATA_DIR] > docs/benchmarks/cddm_estimate/estimate.txt

7-10 minutes on this machine's two cores (446 s; 608 s on a slower day).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from diffair.models.checkpoint import load_model, save_weights
from diffair.models.data import held_out, load_images, to_tensor_batch
from diffair.models.denoiser import DenoiserConfig, LatentUNet
from diffair.models.icdm import ICDMDecoder
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.provenance import file_sha256, provenance
from diffair.models.receivers import CDDMReceiver
from diffair.models.registry import WEIGHTS_DIR
from diffair.models.training.cddm import _observe
from diffair.models.training.icdm_decoder import DecoderExamples
from diffair.models.training.jscc import psnr_db
from diffair.models.training.loop import descend
from diffair.testbed.baselines import paired_ci95

TRAIN_IMAGES, EPOCHS, BATCH, LR, SEED = 20_000, 3, 128, 2e-4, 0
SNRS_DB = (5.0, 10.0, 15.0)
WEIGHTS = {"codec": "jscc_rayleigh_c16", "denoiser": "cddm_denoiser_rayleigh", "cddm": "cddm_codec_rayleigh",
           "baseline": "jscc_mmse_rayleigh"}
ARMS = {"y": ("baseline", "estimate"), "estimate": ("cddm", "y"), "both, from y": ("baseline", None),
        "both, from CDDM": ("cddm", None)}
"""arm -> (the decoder it starts from, the input it is denied)."""
ARMS_DIR = WEIGHTS_DIR / "cddm_estimate"
TEST_ARCHIVE = Path("cifar10") / "cifar10_lossless_subset.npz"


def inputs(examples: DecoderExamples, index, denied: str | None) -> tuple[torch.Tensor, ...]:
    """The decoder's inputs (CDDM's estimate, y, the SNR map) for the examples ``index``, the
    ``denied`` one ("estimate" or "y") replaced by zeros."""
    estimate, y = examples.latent[index], examples.y[index]
    return (torch.zeros_like(estimate) if denied == "estimate" else estimate,
            torch.zeros_like(y) if denied == "y" else y, examples.sinr_db[index])


def observe(codec, cddm: CDDMReceiver, images: torch.Tensor, snr_db: float, generator) -> DecoderExamples:
    """``images`` through the codec's encoder, the genie Rayleigh symbol channel and CDDM (the
    "SINR" map of these examples is the SNR map: there is no interferer)."""
    parts = []
    for x in images.split(256):
        with torch.no_grad():
            obs, _ = _observe(codec.encoder(x), torch.full((len(x),), snr_db), "rayleigh", generator)
        parts.append(DecoderExamples.of(cddm, obs, x))
    return DecoderExamples.concatenated(parts)


def training_examples(codec, cddm: CDDMReceiver, images: torch.Tensor) -> DecoderExamples:
    generator = torch.Generator().manual_seed(SEED)
    chosen = images[torch.randperm(len(images), generator=generator)[:TRAIN_IMAGES]]
    parts = []
    for x in tqdm(chosen.split(256), desc="CDDM sampling the training images", mininterval=5):
        flipped = x.flip(-1) if torch.rand(1, generator=generator).item() < 0.5 else x
        snr_db = 20.0 * torch.rand(1, generator=generator).item()
        parts.append(observe(codec, cddm, flipped, snr_db, generator))
    return DecoderExamples.concatenated(parts)


def train(start: ICDMDecoder, examples: DecoderExamples, denied: str | None, label: str) -> ICDMDecoder:
    torch.manual_seed(SEED)
    optimizer = torch.optim.AdamW(start.parameters(), lr=LR, weight_decay=1e-4)
    count = len(examples.image)
    total, step = EPOCHS * math.ceil(count / BATCH), 0
    with tqdm(total=total, desc=f"training: {label}", mininterval=5) as bar:
        for _ in range(EPOCHS):
            for index in torch.randperm(count).split(BATCH):
                for group in optimizer.param_groups:
                    group["lr"] = LR * 0.5 * (1 + math.cos(math.pi * step / total))
                descend(optimizer, (start(*inputs(examples, index, denied)) - examples.image[index]).square().mean())
                step += 1
                bar.update()
    return start.eval()


@torch.no_grad()
def psnr_per_image(decoder, examples: DecoderExamples, denied: str | None) -> np.ndarray:
    out = torch.cat([decoder(*inputs(examples, index, denied)) for index in torch.arange(len(examples.image)).split(256)])
    return psnr_db((out - examples.image).square().flatten(1).mean(1)).numpy()


def shipped() -> tuple[DeepJSCC, dict[str, torch.nn.Module], CDDMReceiver]:
    """The shipped codec (its encoder), the two shipped decoders ("cddm", "baseline") and CDDM (K = 10)."""
    codec = load_model(DeepJSCC, JSCCConfig, WEIGHTS_DIR, WEIGHTS["codec"]).eval()
    decoders = {key: load_model(DeepJSCC, JSCCConfig, WEIGHTS_DIR, WEIGHTS[key]).decoder.eval()
                for key in ("cddm", "baseline")}
    denoiser = load_model(LatentUNet, DenoiserConfig, WEIGHTS_DIR, WEIGHTS["denoiser"]).eval()
    return codec, decoders, CDDMReceiver(denoiser, decoders["cddm"], steps=10).eval()


def load_arms() -> dict[str, ICDMDecoder]:
    """The trained arms, as ``main`` saved them under ``ARMS_DIR``."""
    return {arm: load_model(ICDMDecoder, JSCCConfig, ARMS_DIR, _stem(arm)) for arm in ARMS}


def evaluate(data_dir: Path, arms: dict[str, ICDMDecoder], snrs_db=SNRS_DB) -> list[dict]:
    """Each arm's PSNR (and the shipped jscc-mmse's and CDDM's) on the 1,017 lossless CIFAR-10
    test images at genie Rayleigh ``snrs_db``, and each arm's gain over the y arm with its paired
    bootstrap 95% CI; one row per SNR."""
    codec, decoders, cddm = shipped()
    test_images = to_tensor_batch(load_images(data_dir / TEST_ARCHIVE, "test"))
    rows = []
    for snr in snrs_db:
        examples = observe(codec, cddm, test_images, snr, torch.Generator().manual_seed(11))
        scores = {"jscc-mmse (shipped)": psnr_per_image(lambda e, y, m: decoders["baseline"](y, m), examples, None),
                  "cddm (shipped)": psnr_per_image(lambda e, y, m: decoders["cddm"](e, m), examples, None)}
        scores |= {arm: psnr_per_image(decoder, examples, ARMS[arm][1]) for arm, decoder in arms.items()}
        rows.append({"snr_db": snr, "psnr_db": {arm: float(v.mean()) for arm, v in scores.items()},
                     "over_y": {arm: {"gain_db": float((v - scores["y"]).mean()),
                                      "ci95": paired_ci95(v - scores["y"])}
                                for arm, v in scores.items() if arm != "y"}})
    return rows


def main(data_dir: Path) -> dict:
    """Train every arm from the shipped weights, save it under ``ARMS_DIR``, evaluate them all."""
    torch.set_num_threads(2)
    started = time.time()
    codec, decoders, cddm = shipped()
    train_images = to_tensor_batch(load_images(data_dir / "cifar10" / "cifar10_jpeg_q75_60k.npz", "train"))
    training = training_examples(codec, cddm, held_out(train_images, 1000)[0])
    arms = {}
    for arm, (start, denied) in ARMS.items():
        begin = ICDMDecoder.from_baseline if start == "baseline" else ICDMDecoder.from_codec
        arms[arm] = train(begin(decoders[start]), training, denied, arm)
        save_weights(arms[arm], arms[arm].config, ARMS_DIR, _stem(arm))
    rows = evaluate(data_dir, arms)
    weights = {stem: file_sha256(WEIGHTS_DIR / f"{stem}.safetensors") for stem in WEIGHTS.values()}
    weights |= {f"cddm_estimate/{_stem(arm)}": file_sha256(ARMS_DIR / f"{_stem(arm)}.safetensors") for arm in ARMS}
    return {"rows": rows, "train_images": TRAIN_IMAGES, "epochs": EPOCHS, "seconds": time.time() - started,
            "provenance": provenance(SEED, weights, data_dir / TEST_ARCHIVE)}


def _stem(arm: str) -> str:
    """An arm's weights file stem: "both, from CDDM" -> "both_from_cddm"."""
    return arm.lower().replace(",", "").replace(" ", "_")


def report(result: dict) -> str:
    """One line per SNR (the README's table is rendered from estimate.json by make_tables.py)."""
    lines = []
    for row in result["rows"]:
        lines.append(f"Rayleigh {row['snr_db']:g} dB, PSNR (dB) and its gain over y (95% CI):")
        for arm, value in row["psnr_db"].items():
            over = row["over_y"].get(arm)
            gain = f" {over['gain_db']:+.3f} ({over['ci95'][0]:+.3f} ... {over['ci95'][1]:+.3f})" if over else ""
            lines.append(f"  {arm}: {value:.2f}{gain}")
    return "\n".join(lines + [f"{result['seconds']:.0f} s"])


if __name__ == "__main__":
    data = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DIFFAIR_DATA", "../shared/data"))
    outcome = main(data)
    (Path(__file__).parent / "estimate.json").write_text(json.dumps(outcome, indent=1))
    print(report(outcome))
