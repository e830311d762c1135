"""Acceptance figures of the shipped weights on the real evaluation images (issue 3).

They read the data folder named by $DIFFAIR_DATA (default ../shared/data, which CI has beside
the checkout) and skip, with the reason, where it is missing."""

import dataclasses
import importlib.util
import os
from pathlib import Path

import pytest

from diffair.models.registry import WEIGHTS_DIR
from diffair.testbed.sweep import SweepOptions, run_sweep

DATA_DIR = Path(os.environ.get("DIFFAIR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DATA = DATA_DIR / "cifar10" / "cifar10_lossless_subset.npz"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"evaluation images not found at {DATA}")
CDDM = WEIGHTS_DIR / "cddm_codec_rayleigh.safetensors"
needs_cddm = pytest.mark.skipif(not CDDM.exists(), reason=f"trained CDDM receiver not found at {CDDM}")


def _genie(tmp_path, snr_db, receivers, steps=10, channel="rayleigh"):
    """A genie sweep of the 1,017 lossless test images: (receiver, SNR) -> its result row."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=snr_db, channels=(channel,), receivers=receivers,
                                  steps=steps, genie=True, out=tmp_path), progress=False)["results"]
    return {(r["receiver"], r["snr_db"]): r for r in rows}


def test_deep_jscc_awgn_10db_psnr(tmp_path):
    """Deep JSCC, ratio 1/6, AWGN 10 dB, genie, 1,017 lossless CIFAR-10 test images:
    PSNR >= 29 dB (published about 29-31 dB)."""
    result = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(10.0,), receivers=("jscc",), genie=True,
                                    out=tmp_path), progress=False)
    assert result["results"][0]["psnr_db"] >= 29.0


def test_whole_phy_within_half_a_db_of_genie(tmp_path):
    """CFO 30 kHz, random timing and estimated CSI cost at most 0.5 dB at 10 dB."""
    rows = {}
    for genie in (True, False):
        rows[genie] = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(10.0,), receivers=("jscc",), genie=genie,
                                             cfo_hz=30e3, out=tmp_path), progress=False)["results"][0]["psnr_db"]
    assert rows[True] - rows[False] <= 0.5


@needs_cddm
def test_cddm_beats_mmse_only_jscc_on_rayleigh(tmp_path):
    """CDDM (K = 10) over the MMSE-only deep-JSCC receiver, genie Rayleigh: +0.5 dB PSNR or more
    at 10 dB and a latent MSE 0.9 dB lower or more at 15 dB (the CDDM paper's figures)."""
    rows = _genie(tmp_path, (10.0, 15.0), ("jscc", "cddm"))
    assert rows["cddm", 10.0]["psnr_db"] - rows["jscc", 10.0]["psnr_db"] >= 0.5
    assert rows["jscc", 15.0]["latent_mse_db"] - rows["cddm", 15.0]["latent_mse_db"] >= 0.9


MMSE_BASELINE = WEIGHTS_DIR / "jscc_mmse_rayleigh.safetensors"


@needs_cddm
@pytest.mark.skipif(not MMSE_BASELINE.exists(), reason=f"the jscc-mmse baseline not found at {MMSE_BASELINE}")
def test_cddm_is_level_with_the_decoder_fine_tuned_on_its_inputs(tmp_path):
    """Issue 17's finding, held: the deep-JSCC decoder fine-tuned on the MMSE-equalized symbols
    and their SNR (jscc-mmse, CDDM's inputs, no diffusion) gains +1.18 dB over jscc at 10 dB;
    CDDM (K = 10, its stage-3 decoder started from jscc-mmse's) is level with it, -0.03 / +0.03 /
    +0.03 dB at 5 / 10 / 15 dB, not the +0.3 dB the issue asked for (genie Rayleigh, 1,017
    lossless CIFAR-10 test images; tolerance 0.15 dB); by default it switches to jscc-mmse at 5 dB."""
    rows = _genie(tmp_path, (5.0, 10.0, 15.0), ("jscc", "jscc-mmse", "cddm"))
    assert rows["jscc-mmse", 10.0]["psnr_db"] - rows["jscc", 10.0]["psnr_db"] == pytest.approx(1.18, abs=0.15)
    for snr_db, gain_db in ((5.0, -0.03), (10.0, 0.03), (15.0, 0.03)):
        assert rows["cddm", snr_db]["psnr_gain_db"] == pytest.approx(gain_db, abs=0.15)
        assert rows["cddm", snr_db]["best_baseline"] == "jscc-mmse"
    assert rows["cddm", 5.0]["switched_to"] == "jscc-mmse"
    assert rows["cddm", 5.0]["switched_psnr_gain_db"] == pytest.approx(0.0, abs=1e-6)


@needs_cddm
@pytest.mark.skipif(not MMSE_BASELINE.exists(), reason=f"the jscc-mmse baseline not found at {MMSE_BASELINE}")
def test_cddm_through_the_phy(tmp_path):
    """README, cddm_phy (Rayleigh 10 dB through the PHY: multipath, CFO 30 kHz, estimated CSI, K =
    10): jscc 24.97 dB (±0.15), CDDM +1.27 dB over it (issue 3's +0.5 dB held through the PHY) and
    +0.02 dB over jscc-mmse (±0.05)."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(10.0,), channels=("rayleigh",),
                                  receivers=("jscc", "jscc-mmse", "cddm"), steps=10, out=tmp_path),
                     progress=False)["results"]
    psnr = {r["receiver"]: r["psnr_db"] for r in rows}
    assert psnr["jscc"] == pytest.approx(24.97, abs=0.15)
    assert psnr["cddm"] - psnr["jscc"] == pytest.approx(1.27, abs=0.1)
    assert psnr["cddm"] - psnr["jscc-mmse"] == pytest.approx(0.02, abs=0.05)


@needs_cddm
def test_ten_steps_within_a_tenth_of_a_db_of_the_full_sampler(tmp_path):
    """At 10 dB Rayleigh the full sampler runs m + 1 = 93 steps; K = 10 loses at most 0.1 dB."""
    ten = _genie(tmp_path, (10.0,), ("cddm",), steps=10)["cddm", 10.0]["psnr_db"]
    full = _genie(tmp_path, (10.0,), ("cddm",), steps=None)["cddm", 10.0]["psnr_db"]
    assert abs(full - ten) <= 0.1


CDDM_AWGN = WEIGHTS_DIR / "cddm_codec_awgn.safetensors"


@pytest.mark.skipif(not CDDM_AWGN.exists(), reason=f"the AWGN CDDM not found at {CDDM_AWGN}")
def test_cddm_on_awgn_removes_latent_noise_not_pixel_error(tmp_path):
    """README, cddm_awgn (genie AWGN, 1,017 lossless test images, K = 10): CDDM lowers the latent
    error by 2.3 dB at 10 dB but its PSNR is 0.03 dB below jscc's (+0.09 dB at 0 dB; each ±0.05),
    so by default it hands the 10 dB frames to jscc."""
    rows = _genie(tmp_path, (0.0, 10.0), ("jscc", "cddm"), channel="awgn")
    for snr_db, gain_db in ((0.0, 0.09), (10.0, -0.03)):
        assert rows["cddm", snr_db]["psnr_gain_db"] == pytest.approx(gain_db, abs=0.05)
    assert rows["jscc", 10.0]["latent_mse_db"] - rows["cddm", 10.0]["latent_mse_db"] == pytest.approx(2.29, abs=0.2)
    assert rows["cddm", 10.0]["switched_to"] == "jscc"
    assert "switched_to" not in rows["cddm", 0.0]


DJSCC_TABLE = {  # README, djscc_awgn / djscc_rayleigh: PSNR (dB) of jscc / djscc / djscc-mean, genie, K = 10
    ("awgn", 10.0): (29.11, 19.32, 24.08), ("rayleigh", 0.0): (20.33, 14.78, 16.75),
}


@pytest.mark.parametrize("channel, snr_db", list(DJSCC_TABLE))
def test_guo_et_al_loses_to_deep_jscc(tmp_path, channel, snr_db):
    """README, Guo et al.'s diffusion JSCC: it loses to deep JSCC on CIFAR-10 at every point,
    sampled as the paper does and started at the mean; at AWGN 10 dB and at Rayleigh 0 dB (where
    the gap is smallest) each PSNR within 0.15 dB of the table."""
    rows = _genie(tmp_path, (snr_db,), ("jscc", "djscc", "djscc-mean"), channel=channel)
    psnr = tuple(rows[name, snr_db]["psnr_db"] for name in ("jscc", "djscc", "djscc-mean"))
    assert psnr == pytest.approx(DJSCC_TABLE[channel, snr_db], abs=0.15)
    assert psnr[0] - psnr[2] >= 3.0 and psnr[2] > psnr[1]


ICDM = WEIGHTS_DIR / "icdm_prior_vehicles.safetensors"


@pytest.mark.skipif(not ICDM.exists(), reason=f"trained ICDM priors not found at {ICDM}")
@pytest.mark.parametrize("genie, steps", [(True, 20), (False, 20), (True, 10)], ids=["genie", "phy", "genie-k10"])
def test_icdm_cancels_interference_at_sinr_0db(tmp_path, genie, steps):
    """ICDM (K = 20 per prior, and K = 10) against the MMSE-only receiver at SINR 0 dB, SNR
    20 dB, Rayleigh, the animals of the 1,017 lossless test images, at symbol level with perfect
    CSI and through the PHY with the frame-synchronous interferer (estimated CSI, CFO 30 kHz):
    latent MSE 4.5 dB lower or more (the paper: 4.54 dB), and higher PSNR and MS-SSIM."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(20.0,), sinr_db=(0.0,), channels=("rayleigh",),
                                  receivers=("jscc", "icdm"), steps=steps, genie=genie, out=tmp_path),
                     progress=False)["results"]
    jscc, icdm = ({r["receiver"]: r for r in rows}[n] for n in ("jscc", "icdm"))
    assert jscc["latent_mse_db"] - icdm["latent_mse_db"] >= 4.5
    assert icdm["psnr_db"] > jscc["psnr_db"] + 1.0 and icdm["ms_ssim"] > jscc["ms_ssim"]


CDDM_RT = WEIGHTS_DIR / "cddm_codec_rayleigh_rt.safetensors"


@needs_cddm
@pytest.mark.skipif(not CDDM_RT.exists(), reason=f"the real-time CDDM not found at {CDDM_RT}")
def test_the_real_time_cddm_costs_no_psnr(tmp_path):
    """cddm-rt (width 32, 2 x 2 patches, a ninth of the arithmetic) against cddm, genie Rayleigh
    5 / 15 dB, K = 10: within 0.15 dB of it (measured +0.06 / -0.04 dB, README), though its
    latent error is higher (measured 0.4 / 0.7 dB)."""
    rows = _genie(tmp_path, (5.0, 15.0), ("cddm", "cddm-rt"))
    for snr_db in (5.0, 15.0):
        assert rows["cddm-rt", snr_db]["psnr_db"] == pytest.approx(rows["cddm", snr_db]["psnr_db"], abs=0.15)
        assert rows["cddm-rt", snr_db]["latent_mse_db"] > rows["cddm", snr_db]["latent_mse_db"] + 0.2


ICDM_RT = WEIGHTS_DIR / "icdm_prior_animals_rt.safetensors"


@pytest.mark.skipif(not (ICDM.exists() and ICDM_RT.exists()), reason="ICDM's priors, full and real-time, are needed")
def test_the_real_time_icdm_loses_its_gain(tmp_path):
    """The unfavourable finding of issue 15, held: icdm-rt (width-16 priors) keeps up with 1 MS/s
    but no longer separates the users: at SINR 0 dB (SNR 20 dB, Rayleigh, genie) it is within
    0.3 dB of plain jscc (measured -0.17 dB) and 3.5 dB or more below icdm (measured 4.35)."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(20.0,), sinr_db=(0.0,), channels=("rayleigh",),
                                  receivers=("jscc", "icdm", "icdm-rt"), steps=10, genie=True, out=tmp_path),
                     progress=False)["results"]
    psnr = {r["receiver"]: r["psnr_db"] for r in rows}
    assert abs(psnr["icdm-rt"] - psnr["jscc"]) <= 0.3
    assert psnr["icdm"] - psnr["icdm-rt"] >= 3.5


ABLATION_FINDINGS = {  # README, ablations: PSNR differences (dB) between two receivers at one link
    # (a, b, channel, SNR dB, SINR dB): a - b, measured
    **{("cddm", "cddm-k0", "rayleigh", snr, None): gain for snr, gain in ((5.0, 0.26), (10.0, 0.20), (15.0, 0.13))},
    **{("jscc-mmse", "cddm-k0", "rayleigh", snr, None): gap for snr, gap in ((5.0, 0.29), (10.0, 0.17), (15.0, 0.10))},
    **{("cddm-k1", "cddm-k0", "rayleigh", snr, None): 0.0 for snr in (5.0, 10.0, 15.0)},
    **{("cddm-rt", "cddm", "rayleigh", snr, None): gap for snr, gap in ((5.0, 0.02), (10.0, 0.0), (15.0, 0.02))},
    **{("cddm-rt-blind", "cddm-rt", "rayleigh", snr, None): -0.01 for snr in (5.0, 10.0, 15.0)},
    ("djscc", "djscc-k0", "awgn", 10.0, None): 0.22, ("djscc-mean", "djscc-mean-k0", "awgn", 10.0, None): 0.08,
    ("icdm-one-prior", "jscc", "rayleigh", 20.0, 0.0): -3.50, ("icdm-one-prior", "jscc", "awgn", 20.0, 0.0): -1.91,
    ("icdm", "icdm-paper-decoder", "rayleigh", 20.0, 0.0): 0.73, ("icdm", "icdm-paper-decoder", "rayleigh", 20.0, 10.0): 0.35,
    ("icdm", "icdm-paper-decoder", "awgn", 20.0, 0.0): 8.69, ("icdm", "icdm-paper-decoder", "awgn", 20.0, 10.0): 3.19,
    ("icdm", "jscc-interf", "awgn", 20.0, 0.0): 0.30, ("icdm", "jscc-interf", "awgn", 20.0, 10.0): 0.26,
}


@needs_cddm
@pytest.mark.skipif(not ICDM.exists(), reason=f"trained ICDM priors not found at {ICDM}")
def test_the_ablation_findings():
    """README, ablations (genie, 1,017 lossless CIFAR-10 test images; the script's own runs): what
    CDDM's ten steps add over its decoder alone (one step adds nothing), where that decoder sits
    below jscc-mmse, that the real-time denoiser and its twin without the |h| conditioning decode
    as well, what Guo et al.'s diffusion adds, what ICDM loses with one learned prior and gains
    with its decoder trained in the loop: every difference within 0.05 dB of the table's."""
    records = _script("ablation/run.py", "diffair_ablation").measure(DATA_DIR)["records"]
    psnr = {(r["receiver"], r["channel"], r["snr_db"], r["sinr_db"]): r["psnr_db"] for r in records}
    measured = {(a, b, *link): psnr[(a, *link)] - psnr[(b, *link)] for a, b, *link in ABLATION_FINDINGS}
    assert measured == pytest.approx(ABLATION_FINDINGS, abs=0.05)


CDDM_ESTIMATE_ARMS = WEIGHTS_DIR / "cddm_estimate"


@needs_cddm
@pytest.mark.skipif(not CDDM_ESTIMATE_ARMS.exists(), reason=f"the experiment's decoders not found at {CDDM_ESTIMATE_ARMS}")
def test_cddms_estimate_tells_a_decoder_nothing_that_y_does_not():
    """README, what CDDM's estimate adds (genie Rayleigh, 1,017 lossless CIFAR-10 test images, the
    experiment's trained decoders re-scored): jscc-mmse trained further gains nothing (within
    0.03 dB), a decoder given the estimate beside y ends within 0.02 dB of its one-input twin,
    and the best of them at 5 dB is no more than 0.05 dB above jscc-mmse (the +0.3 dB asked of
    CDDM is out of reach); at 15 dB CDDM's path leads y by 0.08 dB (±0.03)."""
    experiment = _script("cddm_estimate/run.py", "diffair_cddm_estimate")
    rows = {row["snr_db"]: row for row in experiment.evaluate(DATA_DIR, experiment.load_arms(), (5.0, 15.0))}
    for snr, row in rows.items():
        psnr, over_y = row["psnr_db"], {arm: g["gain_db"] for arm, g in row["over_y"].items()}
        assert over_y["jscc-mmse (shipped)"] == pytest.approx(0.0, abs=0.03), snr
        assert over_y["both, from y"] == pytest.approx(0.0, abs=0.02), snr
        assert psnr["both, from CDDM"] - psnr["estimate"] == pytest.approx(0.0, abs=0.02), snr
    best_at_5 = max(v for arm, v in rows[5.0]["psnr_db"].items() if arm != "jscc-mmse (shipped)")
    assert best_at_5 - rows[5.0]["psnr_db"]["jscc-mmse (shipped)"] <= 0.05
    assert rows[15.0]["over_y"]["both, from CDDM"]["gain_db"] == pytest.approx(0.08, abs=0.03)


def _script(relative: str, name: str):
    """A benchmark script's module (its receivers and helpers), loaded from docs/benchmarks."""
    path = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / relative
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


KODIM23 = DATA_DIR / "kodak24" / "kodim23.png"


PHOTO_TABLE = {  # README, photographs (photos.txt), AWGN 10 dB, genie: PSNR (dB) of jscc whole / tiles,
    # djscc-mean whole / tiles; kodim02, 15 and 20 are the photos where djscc-mean beat jscc by 3 dB or more
    "kodim02.png": (22.08, 32.03, 25.91, 27.20), "kodim15.png": (22.39, 31.86, 25.49, 27.62),
    "kodim20.png": (18.27, 33.09, 26.15, 28.09), "kodim23.png": (24.28, 33.06, 23.99, 27.19),
}


@pytest.mark.skipif(not KODIM23.exists(), reason=f"the Kodak photo {KODIM23} not found")
def test_a_photograph_is_coded_far_better_as_tiles():
    """The cause of the photo losses (README, photographs; docs/benchmarks/djscc_photos), AWGN 10
    dB, genie: whole through the networks (the papers' way), djscc-mean beats jscc by 3 dB or
    more on kodim02, 15 and 20 (the issue's +2.9 to +3.9 dB); as 32 x 32 tiles (diffair's way)
    jscc gains 8 dB or more and is ahead of djscc-mean on each; every PSNR within 0.05 dB."""
    experiment = _script("djscc_photos/run.py", "diffair_djscc_photos")
    seeds = {path.name: seed for seed, path in enumerate(experiment.photos(DATA_DIR))}
    for photo, expected in PHOTO_TABLE.items():
        scores = experiment.score_photo(DATA_DIR / "kodak24" / photo, seeds[photo], "awgn", 10.0)
        jscc_whole, jscc_tiles, djscc_whole, djscc_tiles = (scores[key] for key in experiment.KEYS)
        assert (jscc_whole, jscc_tiles, djscc_whole, djscc_tiles) == pytest.approx(expected, abs=0.05), photo
        assert jscc_tiles >= jscc_whole + 8.0 and jscc_tiles > djscc_tiles, photo
        if photo != "kodim23.png":
            assert djscc_whole >= jscc_whole + 3.0, photo


@needs_cddm
@pytest.mark.skipif(not KODIM23.exists(), reason=f"the Kodak photos {KODIM23.parent} not found")
def test_cddm_on_the_kodak_photos_at_rayleigh_15db(tmp_path):
    """README, cddm_baseline (the 24 Kodak photos through the PHY, estimated CSI, K = 10): at
    Rayleigh 15 dB, the point where CDDM's own method comes closest to the issue's -0.1 dB floor,
    it is 0.06 dB below jscc-mmse (±0.03, so above the floor) and keeps its own method."""
    archive = tmp_path / "kodak24.npz"
    _script("tables/kodak_archive.py", "diffair_kodak_archive").main(DATA_DIR, archive)
    rows = run_sweep(SweepOptions(data=archive, limit=None, snr_db=(15.0,), channels=("rayleigh",),
                                  receivers=("jscc-mmse", "cddm"), steps=10, out=tmp_path), progress=False)["results"]
    cddm = {r["receiver"]: r for r in rows}["cddm"]
    assert cddm["best_baseline"] == "jscc-mmse" and cddm["images"] == 24
    assert cddm["psnr_gain_db"] == pytest.approx(-0.06, abs=0.03)
    assert "switched_to" not in cddm


INTERF_BASELINE = WEIGHTS_DIR / "jscc_interf_awgn.safetensors"


ICDM_DEFAULT_TABLE = {  # README, icdm_default: icdm's own method - best baseline (dB), PHY, SNR 20 dB, K = 10
    ("rayleigh", 0.0): +4.19, ("rayleigh", 10.0): +1.18, ("rayleigh", 20.0): +0.16,
    ("awgn", 0.0): +0.28, ("awgn", 10.0): +0.25, ("awgn", 20.0): +0.34,
}


@pytest.mark.skipif(not (ICDM.exists() and INTERF_BASELINE.exists()), reason="ICDM's priors and jscc-interf are needed")
def test_icdm_holds_the_issue_targets_against_every_baseline(tmp_path):
    """README, icdm_default (through the PHY, SNR 20 dB, 599 animals, K = 10, the default
    receivers): ICDM's own method, with its decoder trained in the loop, against the best of
    jscc, lmmse and jscc-interf (continued with the same training budget) at SINR 0 / 10 / 20 dB on
    AWGN and Rayleigh: each gain within 0.3 dB of the table, and none below the issue's -0.1 dB."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(20.0,), sinr_db=(0.0, 10.0, 20.0),
                                  channels=("rayleigh", "awgn"), steps=10, switch=False, out=tmp_path),
                     progress=False)["results"]
    gains = {(r["channel"], r["sinr_db"]): r["psnr_gain_db"] for r in rows if r["receiver"] == "icdm"}
    assert gains == pytest.approx(ICDM_DEFAULT_TABLE, abs=0.3)
    assert min(gains.values()) >= -0.1, gains


SEED_TABLE = {  # README, training seeds: the PSNR gain over the best baseline by seed, genie Rayleigh
    ("cddm-rt", 5.0): {0: -0.01, 1: -0.02, 2: -0.01},
    ("cddm", 5.0): {0: -0.03, 1: -0.03, 2: -0.03},
    ("icdm", 0.0): {0: +4.15, 1: +3.96, 2: +4.05},  # SNR 20 dB, SINR 0 dB
}


@needs_cddm
@pytest.mark.skipif(not ICDM.exists(), reason=f"trained ICDM priors not found at {ICDM}")
def test_every_training_seed_keeps_the_finding(tmp_path):
    """README, training seeds (genie Rayleigh, 1,017 lossless CIFAR-10 test images): retrained
    from other seeds, cddm-rt and the width-64 cddm stay level with jscc-mmse at 5 dB (within
    0.1 dB, not the +0.3 dB asked) and ICDM keeps its gain over every baseline at SINR 0 dB (SNR
    20 dB); each seed within 0.05 dB of the table (the width-64 CDDM's and ICDM's seeds trained
    with validation held out of the training split)."""
    seeds = _script("seeds/run.py", "diffair_seeds")
    with seeds.seeded_receivers():
        for (name, x), expected in SEED_TABLE.items():
            family = seeds.FAMILIES[name]
            assert family.trained_seeds() == list(expected), f"{name}: the README's seed table has other seeds"
            family = dataclasses.replace(family, **({"sinr_db": (x,)} if family.sinr_db else {"snr_db": (x,)}))
            (record,) = seeds.family_records(family, seeds.sweep_family(family, DATA, tmp_path / name)["results"])
            gaps = {int(seed): gap for seed, gap in record["gap_db_by_seed"].items()}
            assert gaps == pytest.approx(expected, abs=0.05), name
