"""Acceptance figures of the shipped weights on the real evaluation images (issue 3).

They read the data folder named by $DIFFAIR_DATA (default ../shared/data, which CI has beside
the checkout) and skip, with the reason, where it is missing."""

import importlib.util
import json
import os
from pathlib import Path

import pytest

from diffair.models.registry import FULL, WEIGHTS_DIR
from diffair.testbed.sweep import SweepOptions, run_sweep

DATA_DIR = Path(os.environ.get("DIFFAIR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DATA = DATA_DIR / "cifar10" / "cifar10_lossless_subset.npz"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"evaluation images not found at {DATA}")
PSNR = ("psnr_db",)  # the one image metric most tests here check: the sweeps skip the slow others (VIF)
CDDM = WEIGHTS_DIR / "cddm_codec_rayleigh.safetensors"
needs_cddm = pytest.mark.skipif(not CDDM.exists(), reason=f"trained CDDM receiver not found at {CDDM}")


def _genie(tmp_path, snr_db, receivers, steps=10, channel="rayleigh"):
    """A genie sweep of the 1,017 lossless test images: (receiver, SNR) -> its result row."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=snr_db, channels=(channel,), receivers=receivers,
                                  steps=steps, genie=True, out=tmp_path, metrics=PSNR), progress=False)["results"]
    return {(r["receiver"], r["snr_db"]): r for r in rows}


BENCHMARKS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
TABLES = BENCHMARKS / "tables"


def _as_committed(job: str, rows: list[dict], tolerance_db: float = 0.03) -> None:
    """Each re-measured sweep row against the row of the same point in the result file behind a
    README table (docs/benchmarks/tables/JOB/sweep.json, which tests/test_tables.py holds equal
    to the README): PSNR, the gain over the best baseline and its 95% CI within ``tolerance_db``,
    latent MSE within 0.1 dB, the same best baseline and the same switch decision (the other
    image metrics are not re-scored: the sweeps here score PSNR)."""
    def point(row: dict) -> tuple:
        return row["receiver"], row["channel"], row["snr_db"], row.get("sinr_db")

    committed = {point(row): row for row in json.loads((TABLES / job / "sweep.json").read_text())["results"]}
    for row in rows:
        table = committed[point(row)]
        assert row["psnr_db"] == pytest.approx(table["psnr_db"], abs=tolerance_db), point(row)
        assert row["latent_mse_db"] == pytest.approx(table["latent_mse_db"], abs=0.1), point(row)
        for key in ("psnr_gain_db", "psnr_gain_ci95_db"):
            assert row.get(key) == pytest.approx(table.get(key), abs=tolerance_db), (key, point(row))
        assert (row.get("best_baseline"), row.get("switched_to")) == (table.get("best_baseline"),
                                                                      table.get("switched_to")), point(row)


SNRS_DB = (0.0, 5.0, 10.0, 15.0, 20.0)


@pytest.mark.parametrize("channel", ["awgn", "rayleigh"])
def test_deep_jscc_as_its_tables_say(tmp_path, channel):
    """README, jscc_awgn / jscc_rayleigh (ratio 1/6, genie, 1,017 lossless CIFAR-10 test images):
    every SNR as the table has it (+-0.03 dB); AWGN 10 dB at 29 dB or more (published about
    29-31 dB), and each codec better at every higher SNR."""
    rows = _genie(tmp_path, SNRS_DB, ("jscc",), channel=channel)
    _as_committed(f"jscc_{channel}", list(rows.values()))
    psnr = [rows["jscc", snr_db]["psnr_db"] for snr_db in SNRS_DB]
    assert psnr == sorted(psnr) and (channel != "awgn" or rows["jscc", 10.0]["psnr_db"] >= 29.0)


def test_whole_phy_within_half_a_db_of_genie(tmp_path):
    """CFO 30 kHz, random timing and estimated CSI cost at most 0.5 dB at 10 dB."""
    rows = {}
    for genie in (True, False):
        rows[genie] = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(10.0,), receivers=("jscc",), genie=genie,
                                             cfo_hz=30e3, out=tmp_path, metrics=PSNR),
                                progress=False)["results"][0]["psnr_db"]
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
    """Issue 17's finding, held (README, cddm_rayleigh and cddm_baseline; genie Rayleigh, 1,017
    lossless CIFAR-10 test images, K = 10): every SNR as the table has it (+-0.03 dB). The
    deep-JSCC decoder fine-tuned on the MMSE-equalized symbols and their SNR (jscc-mmse, CDDM's
    inputs, no diffusion) gains +1.18 dB over jscc at 10 dB; CDDM (its stage-3 decoder started
    from jscc-mmse's) is level with it, -0.03 / +0.03 / +0.03 dB at 5 / 10 / 15 dB, not the +0.3
    dB the issue asked for, and nowhere below -0.1 dB (-0.09 at 0 dB, its lowest); by default it
    switches to jscc-mmse at 5 dB."""
    rows = _genie(tmp_path, SNRS_DB, ("jscc", "jscc-mmse", "cddm"))
    _as_committed("cddm_rayleigh", list(rows.values()))
    assert rows["jscc-mmse", 10.0]["psnr_db"] - rows["jscc", 10.0]["psnr_db"] == pytest.approx(1.18, abs=0.05)
    gains = {snr_db: rows["cddm", snr_db]["psnr_gain_db"] for snr_db in SNRS_DB}
    assert gains == pytest.approx({0.0: -0.09, 5.0: -0.03, 10.0: 0.03, 15.0: 0.03, 20.0: -0.03}, abs=0.03)
    assert min(gains.values()) >= -0.1 and max(gains.values()) < 0.3
    assert {rows["cddm", snr_db]["best_baseline"] for snr_db in SNRS_DB} == {"jscc-mmse"}
    assert rows["cddm", 5.0]["switched_to"] == "jscc-mmse"
    assert rows["cddm", 5.0]["switched_psnr_gain_db"] == pytest.approx(0.0, abs=1e-6)


@needs_cddm
@pytest.mark.skipif(not MMSE_BASELINE.exists(), reason=f"the jscc-mmse baseline not found at {MMSE_BASELINE}")
def test_cddm_through_the_phy(tmp_path):
    """README, cddm_phy (Rayleigh 10 dB through the PHY: multipath, CFO 30 kHz, estimated CSI, K =
    10), each row as the table has it (+-0.03 dB): jscc 24.97 dB, CDDM +1.27 dB over it (issue
    3's +0.5 dB held through the PHY; +-0.1) and +0.02 dB over jscc-mmse (+-0.05)."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(10.0,), channels=("rayleigh",), metrics=PSNR,
                                  receivers=("jscc", "jscc-mmse", "cddm"), steps=10, out=tmp_path),
                     progress=False)["results"]
    _as_committed("cddm_phy", rows)
    psnr = {r["receiver"]: r["psnr_db"] for r in rows}
    assert psnr["cddm"] - psnr["jscc"] == pytest.approx(1.27, abs=0.1)
    assert psnr["cddm"] - psnr["jscc-mmse"] == pytest.approx(0.02, abs=0.05)


@needs_cddm
def test_ten_steps_within_a_tenth_of_a_db_of_the_full_sampler(tmp_path):
    """README, cddm_steps (genie Rayleigh 10 dB): every K as the table has it (+-0.03 dB); the
    full sampler runs m + 1 = 93 steps and K = 10 loses at most 0.1 dB to it (measured 0.01)."""
    psnr = {}
    for steps in (1, 2, 5, 10, 20, FULL):
        row = _genie(tmp_path / f"k{steps}", (10.0,), ("cddm",), steps=steps)["cddm", 10.0]
        _as_committed(f"cddm_steps/k{steps}", [row])
        psnr[steps] = row["psnr_db"]
    assert abs(psnr[FULL] - psnr[10]) <= 0.1


CDDM_AWGN = WEIGHTS_DIR / "cddm_codec_awgn.safetensors"


@pytest.mark.skipif(not CDDM_AWGN.exists(), reason=f"the AWGN CDDM not found at {CDDM_AWGN}")
def test_cddm_on_awgn_removes_latent_noise_not_pixel_error(tmp_path):
    """README, cddm_awgn (genie AWGN, 1,017 lossless test images, K = 10), every SNR as the table
    has it (+-0.03 dB): CDDM lowers the latent error at every SNR (2.3 dB at 10 dB) but gains
    PSNR only at 0 dB (+0.09 dB), 0.02-0.03 dB below jscc above it, so by default it hands the
    frames above 0 dB to jscc."""
    rows = _genie(tmp_path, SNRS_DB, ("jscc", "cddm"), channel="awgn")
    _as_committed("cddm_awgn", list(rows.values()))
    assert rows["jscc", 10.0]["latent_mse_db"] - rows["cddm", 10.0]["latent_mse_db"] == pytest.approx(2.29, abs=0.1)
    for snr_db in SNRS_DB:
        assert rows["cddm", snr_db]["latent_mse_db"] < rows["jscc", snr_db]["latent_mse_db"], snr_db
        assert (rows["cddm", snr_db]["psnr_gain_db"] > 0) == (snr_db == 0.0), snr_db
        assert rows["cddm", snr_db].get("switched_to") == (None if snr_db == 0.0 else "jscc"), snr_db


@pytest.mark.parametrize("channel", ["awgn", "rayleigh"])
def test_guo_et_al_loses_to_deep_jscc(tmp_path, channel):
    """README, djscc_awgn / djscc_rayleigh (genie, 1,017 lossless CIFAR-10 test images, K = 10),
    every SNR as the table has it (+-0.03 dB): Guo et al.'s receiver loses to deep JSCC at every
    point, by 5.5 to 10.4 dB sampled as the paper does and by 3.3 to 6.2 dB started at the mean
    (+-0.05 dB at the ends of each range), djscc-mean above djscc everywhere."""
    rows = _genie(tmp_path, SNRS_DB, ("jscc", "djscc", "djscc-mean"), channel=channel)
    _as_committed(f"djscc_{channel}", list(rows.values()))
    losses = {name: [rows["jscc", s]["psnr_db"] - rows[name, s]["psnr_db"] for s in SNRS_DB]
              for name in ("djscc", "djscc-mean")}
    assert min(losses["djscc"]) >= 5.45 and min(losses["djscc-mean"]) >= 3.25
    assert max(losses["djscc"]) <= 10.45 and max(losses["djscc-mean"]) <= 6.25
    assert all(sampled > mean for sampled, mean in zip(losses["djscc"], losses["djscc-mean"]))


ICDM = WEIGHTS_DIR / "icdm_prior_vehicles.safetensors"


@pytest.mark.skipif(not ICDM.exists(), reason=f"trained ICDM priors not found at {ICDM}")
@pytest.mark.parametrize("genie, steps", [(True, 20), (True, 10)], ids=["genie", "genie-k10"])
def test_icdm_cancels_interference_at_sinr_0db(tmp_path, genie, steps):
    """ICDM (K = 20 per prior, and K = 10) against the MMSE-only receiver at SINR 0 dB, SNR
    20 dB, Rayleigh, the animals of the 1,017 lossless test images, at symbol level with perfect
    CSI: latent MSE 4.5 dB lower or more (the paper: 4.54 dB), and higher PSNR and MS-SSIM (through
    the PHY: test_icdm_is_above_every_baseline_as_its_tables_say)."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(20.0,), sinr_db=(0.0,), channels=("rayleigh",),
                                  metrics=("ms_ssim",),
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
                                  metrics=PSNR,
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
    with its decoder trained in the loop: every difference within 0.05 dB of the table's, and
    every PSNR the table is made of as ablation.json has it (+-0.03 dB)."""
    records = _script("ablation/run.py", "diffair_ablation").measure(DATA_DIR)["records"]
    psnr = {(r["receiver"], r["channel"], r["snr_db"], r["sinr_db"]): r["psnr_db"] for r in records}
    table = json.loads((TABLES.parent / "ablation" / "ablation.json").read_text())["records"]
    assert psnr == pytest.approx({(r["receiver"], r["channel"], r["snr_db"], r["sinr_db"]): r["psnr_db"]
                                  for r in table}, abs=0.03)
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
    CDDM is out of reach); at 15 dB CDDM's path leads y by 0.08 dB (±0.03). Every cell of the
    table (5 / 10 / 15 dB) as estimate.json has it (+-0.03 dB)."""
    experiment = _script("cddm_estimate/run.py", "diffair_cddm_estimate")
    rows = {row["snr_db"]: row for row in experiment.evaluate(DATA_DIR, experiment.load_arms(), (5.0, 10.0, 15.0))}
    table = json.loads((TABLES.parent / "cddm_estimate" / "estimate.json").read_text())["rows"]
    table = {row["snr_db"]: row for row in table}
    for snr, row in rows.items():
        assert row["psnr_db"] == pytest.approx(table[snr]["psnr_db"], abs=0.03), snr
        assert ({arm: g["gain_db"] for arm, g in row["over_y"].items()}
                == pytest.approx({arm: g["gain_db"] for arm, g in table[snr]["over_y"].items()}, abs=0.03)), snr
        psnr, over_y = row["psnr_db"], {arm: g["gain_db"] for arm, g in row["over_y"].items()}
        assert over_y["jscc-mmse (shipped)"] == pytest.approx(0.0, abs=0.03), snr
        assert over_y["both, from y"] == pytest.approx(0.0, abs=0.02), snr
        assert psnr["both, from CDDM"] - psnr["estimate"] == pytest.approx(0.0, abs=0.02), snr
    best_at_5 = max(v for arm, v in rows[5.0]["psnr_db"].items() if arm != "jscc-mmse (shipped)")
    assert best_at_5 - rows[5.0]["psnr_db"]["jscc-mmse (shipped)"] <= 0.05
    assert rows[15.0]["over_y"]["both, from CDDM"]["gain_db"] == pytest.approx(0.08, abs=0.03)


def _script(relative: str, name: str):
    """A benchmark script's module (its receivers and helpers), loaded from docs/benchmarks."""
    path = BENCHMARKS / relative
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


KODIM23 = DATA_DIR / "kodak24" / "kodim23.png"


PHOTOS = BENCHMARKS / "djscc_photos" / "photos.json"


@pytest.mark.skipif(not KODIM23.exists(), reason=f"the Kodak photos {KODIM23.parent} not found")
def test_a_photograph_is_coded_far_better_as_tiles():
    """README, photographs (docs/benchmarks/djscc_photos), genie, the 24 Kodak photos at AWGN 10
    dB and Rayleigh 15 dB, every PSNR of the experiment's per-photo file within 0.05 dB. Whole
    through the networks (the papers' way), djscc-mean beats jscc on 6 (AWGN) and 10 (Rayleigh)
    of the 24, by 3 dB or more on kodim02, 15 and 20 at AWGN (the issue's +2.9 to +3.9 dB); as
    32 x 32 tiles (diffair's way) jscc gains 2.5 dB or more on every photo and is ahead of
    djscc-mean on every one."""
    experiment = _script("djscc_photos/run.py", "diffair_djscc_photos")
    table = {(r["photo"], r["channel"]): r for r in json.loads(PHOTOS.read_text())["records"]}
    scores = {(path.name, channel): experiment.score_photo(path, seed, channel, snr_db)
              for seed, path in enumerate(experiment.photos(DATA_DIR)) for channel, snr_db in experiment.LINKS}
    assert sorted(scores) == sorted(table)
    for point, score in scores.items():
        assert score == pytest.approx({key: table[point][key] for key in experiment.KEYS}, abs=0.05), point
        assert score["jscc_tiles"] >= score["jscc_whole"] + 2.5, point
        assert score["jscc_tiles"] > score["djscc-mean_tiles"], point
    for channel, wins in (("awgn", 6), ("rayleigh", 10)):
        ahead = {photo for (photo, at), score in scores.items()
                 if at == channel and score["djscc-mean_whole"] > score["jscc_whole"]}
        assert len(ahead) == wins, (channel, sorted(ahead))
    for photo in ("kodim02.png", "kodim15.png", "kodim20.png"):
        assert scores[photo, "awgn"]["djscc-mean_whole"] >= scores[photo, "awgn"]["jscc_whole"] + 3.0, photo


KODAK_POINTS = {  # README, cddm_baseline, Kodak rows: (channel, SNR dB) -> the sweep's receivers, its job
    ("rayleigh", 5.0): (("jscc", "jscc-mmse", "cddm"), "kodak_rayleigh"),
    ("rayleigh", 15.0): (("jscc", "jscc-mmse", "cddm"), "kodak_rayleigh"),
    ("awgn", 10.0): (("jscc", "cddm"), "kodak_awgn"),
}


@pytest.fixture(scope="module")
def kodak_archive(tmp_path_factory) -> Path:
    """The 24 Kodak photos in landscape, as the make-tables job ``kodak`` archives them."""
    archive = tmp_path_factory.mktemp("kodak") / "kodak24.npz"
    _script("tables/kodak_archive.py", "diffair_kodak_archive").main(DATA_DIR, archive)
    return archive


@needs_cddm
@pytest.mark.skipif(not KODIM23.exists(), reason=f"the Kodak photos {KODIM23.parent} not found")
@pytest.mark.parametrize("channel, snr_db", list(KODAK_POINTS), ids=["rayleigh5", "rayleigh15", "awgn10"])
def test_cddm_on_the_kodak_photos(tmp_path, kodak_archive, channel, snr_db):
    """README, cddm_baseline (the 24 Kodak photos through the PHY, estimated CSI, K = 10), each
    row as measured (PSNR and gains +-0.03 dB): the issue's targets on photographs. At Rayleigh 5
    dB CDDM is level with jscc-mmse (-0.01 dB), not the +0.3 dB asked, and its switch hands the
    photos to jscc-mmse; at Rayleigh 15 dB and AWGN 10 dB it is 0.06 dB below the best baseline,
    above the -0.1 dB floor (at AWGN 10 dB its switch hands them to jscc)."""
    receivers, job = KODAK_POINTS[channel, snr_db]
    rows = run_sweep(SweepOptions(data=kodak_archive, limit=None, snr_db=(snr_db,), channels=(channel,), metrics=PSNR,
                                  receivers=receivers, steps=10, out=tmp_path), progress=False)["results"]
    _as_committed(job, rows)
    cddm = {r["receiver"]: r for r in rows}["cddm"]
    assert cddm["images"] == 24 and -0.1 <= cddm["psnr_gain_db"] < 0.3


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
    AWGN and Rayleigh: every receiver's row as the table has it (+-0.03 dB), no gain below the
    issue's -0.1 dB, and its own method kept by default at every point."""
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(20.0,), sinr_db=(0.0, 10.0, 20.0), metrics=PSNR,
                                  channels=("rayleigh", "awgn"), steps=10, out=tmp_path), progress=False)["results"]
    _as_committed("icdm_default", rows)
    icdm = {(r["channel"], r["sinr_db"]): r for r in rows if r["receiver"] == "icdm"}
    gains = {point: row["psnr_gain_db"] for point, row in icdm.items()}
    assert gains == pytest.approx(ICDM_DEFAULT_TABLE, abs=0.035)  # the table's two decimals, +-0.03 dB
    assert min(gains.values()) >= -0.1 and not any("switched_to" in row for row in icdm.values()), gains


ICDM_TABLES = {  # make-tables job -> (K per prior, genie, channels, SNRs, SINRs): its whole sweep
    "icdm_phy": (20, False, ("rayleigh", "awgn"), (20.0,), (-5.0, 0.0, 5.0, 10.0, 20.0)),
    "icdm_phy_snr10_15": (20, False, ("rayleigh",), (10.0, 15.0), (-5.0, 0.0, 5.0, 10.0)),
    "icdm_genie": (FULL, True, ("rayleigh", "awgn"), (20.0,), (-5.0, 0.0, 5.0, 10.0)),
}


@pytest.mark.skipif(not (ICDM.exists() and INTERF_BASELINE.exists()), reason="ICDM's priors and jscc-interf are needed")
@pytest.mark.parametrize("job", list(ICDM_TABLES))
def test_icdm_is_above_every_baseline_as_its_tables_say(tmp_path, job):
    """README, the ICDM tables beyond the shipped K = 10 (icdm_default, held above), every point
    of each: through the PHY at K = 20 on both channels (+6.67 to +0.21 dB over Rayleigh, +0.27
    to +0.40 over AWGN); at SNR 10 and 15 dB over Rayleigh (+0.29 dB at SNR 10 / SINR 10, the
    smallest); at symbol level with the paper's 40 steps (over AWGN +0.28 to +0.41, where the
    paper's decoder was 3-4 dB below jscc-interf). Every receiver's row as the table has it
    (+-0.03 dB) and ICDM above the best baseline at each point by 0.15 dB or more. Through the
    PHY at SINR 0 dB over Rayleigh, the paper's target: ICDM's latent MSE 4.5 dB or more below
    the MMSE-only receiver's (the paper: 4.54 dB; measured 13.2)."""
    steps, genie, channels, snrs, sinrs = ICDM_TABLES[job]
    rows = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=snrs, sinr_db=sinrs, channels=channels, steps=steps,
                                  metrics=PSNR,
                                  genie=genie, out=tmp_path), progress=False)["results"]
    _as_committed(job, rows)
    gains = {(r["channel"], r["snr_db"], r["sinr_db"]): r["psnr_gain_db"] for r in rows if r["receiver"] == "icdm"}
    assert len(gains) == len(channels) * len(snrs) * len(sinrs) and min(gains.values()) >= 0.15, gains
    if job == "icdm_phy":
        latent = {r["receiver"]: r["latent_mse_db"] for r in rows if (r["channel"], r["sinr_db"]) == ("rayleigh", 0.0)}
        assert latent["jscc"] - latent["icdm"] >= 4.5


@pytest.mark.skipif(not ICDM.exists(), reason=f"trained ICDM priors not found at {ICDM}")
def test_icdm_diverges_below_ten_steps_and_twenty_are_as_good_as_forty(tmp_path):
    """README, icdm_steps (genie Rayleigh, SNR 20 dB, SINR 0 dB): K = 10, 20 and 40 per prior as
    the table has them (+-0.03 dB), 40 within 0.15 dB of 20 (26.01 / 26.11 dB) and K = 10 0.9 dB
    behind 20 (+-0.1 dB); K = 5 diverges (PSNR below 10 dB, latent MSE above +10 dB) and the
    receiver warns of it."""
    psnr = {}
    for steps in (5, 10, 20, FULL):
        (row,) = run_sweep(SweepOptions(data=DATA, limit=1017, snr_db=(20.0,), sinr_db=(0.0,), channels=("rayleigh",),
                                        receivers=("icdm",), steps=steps, genie=True, out=tmp_path / str(steps),
                                        metrics=PSNR),
                           progress=False)["results"]
        if steps == 5:
            assert row["psnr_db"] < 10.0 and row["latent_mse_db"] > 10.0 and "diverges" in row["warnings"]
        else:
            _as_committed(f"icdm_steps/k{steps}", [row])
        psnr[steps] = row["psnr_db"]
    assert abs(psnr[FULL] - psnr[20]) <= 0.15
    assert psnr[20] - psnr[10] == pytest.approx(0.9, abs=0.1)


def test_one_ddim_step_is_as_good_as_any_for_guo_et_al(tmp_path):
    """README, djscc_steps (genie AWGN 10 dB): every K as the table has it (+-0.03 dB); at this
    SNR the SNR-matched start step is near 0, so one step is as good as the full 93: every K
    within 0.35 dB of every other (measured 0.32 dB for djscc, 0.27 for djscc-mean)."""
    psnr = {}
    for steps in (1, 2, 5, 10, FULL):
        rows = _genie(tmp_path / f"k{steps}", (10.0,), ("djscc", "djscc-mean"), steps=steps, channel="awgn")
        _as_committed(f"djscc_steps/k{steps}", list(rows.values()))
        psnr |= {(name, steps): row["psnr_db"] for (name, _), row in rows.items()}
    for name in ("djscc", "djscc-mean"):
        spread = [psnr[name, steps] for steps in (1, 2, 5, 10, FULL)]
        assert max(spread) - min(spread) <= 0.35, name


TRAINING_ARCHIVE = DATA_DIR / "cifar10" / "cifar10_jpeg_q75_60k.npz"


@pytest.fixture(scope="module")
def switch_validation(tmp_path_factory) -> Path:
    """The last 512 CIFAR-10 training images, where the switch tables are measured."""
    measure = _script("switch/measure.py", "diffair_switch_measure")
    return measure.validation_archive(TRAINING_ARCHIVE, tmp_path_factory.mktemp("switch"))


@needs_cddm
@pytest.mark.skipif(not TRAINING_ARCHIVE.exists(), reason=f"the training archive {TRAINING_ARCHIVE} not found")
@pytest.mark.parametrize("scenario, channel", [(s, c) for s in ("plain", "interference") for c in ("rayleigh", "awgn")])
def test_the_switch_tables_are_as_shipped(switch_validation, scenario, channel):
    """README, switch (models/weights/switch, measured on training images, genie, K = 10): each
    receiver's expected gain over the best baseline at every grid point as shipped (+-0.03 dB;
    the diverged icdm-rt +-0.5 dB), the same baseline named. So CDDM expects a gain over Rayleigh
    only at 10-15 dB and over AWGN only at 0 dB, ICDM one at every SINR on both channels, and
    icdm-rt, with the paper's decoder, diverges over AWGN at SINR 5-15 dB (more than 20 dB below
    jscc-interf)."""
    measure = _script("switch/measure.py", "diffair_switch_measure")
    rows = measure.measure(switch_validation, scenario, channel)
    key = "sinr_db" if scenario == "interference" else "snr_db"
    for receiver in measure.RECEIVERS[scenario]:
        shipped = json.loads((WEIGHTS_DIR / "switch" / f"{receiver}_{channel}.json").read_text())["points"]
        measured = {r[key]: r for r in rows if r["receiver"] == receiver}
        assert sorted(measured) == [p["at_db"] for p in shipped], receiver
        for point in shipped:
            row = measured[point["at_db"]]
            tolerance = 0.5 if point["gain_db"] < -5 else 0.03
            assert row["psnr_gain_db"] == pytest.approx(point["gain_db"], abs=tolerance), (receiver, point)
            assert row["best_baseline"] == point["baseline"], (receiver, point)
    gains = {(r["receiver"], r[key]): r["psnr_gain_db"] for r in rows if "psnr_gain_db" in r}
    if scenario == "plain":
        expected_wins = {"rayleigh": {10.0, 15.0}, "awgn": {0.0}}[channel]
        assert {at for (name, at), gain in gains.items() if name == "cddm" and gain > 0} == expected_wins
    else:
        assert min(gain for (name, _), gain in gains.items() if name == "icdm") > 0.2
        if channel == "awgn":
            assert max(gains["icdm-rt", sinr] for sinr in (5.0, 10.0, 15.0)) < -20.0


SEEDS = BENCHMARKS / "seeds" / "seeds.json"


@needs_cddm
@pytest.mark.skipif(not ICDM.exists(), reason=f"trained ICDM priors not found at {ICDM}")
def test_every_training_seed_keeps_the_finding(tmp_path):
    """README, training seeds (genie Rayleigh, 1,017 lossless CIFAR-10 test images; the script's
    own sweeps): every point of the three seed tables as seeds.json has it (each seed's and the
    shipped receiver's gap over the best baseline, and that baseline's PSNR, +-0.03 dB). Retrained
    from other seeds, cddm-rt and the width-64 cddm stay level with jscc-mmse at 5 / 10 / 15 dB
    (within 0.1 dB, not the +0.3 dB asked; seeds within 0.02 dB of each other) and ICDM keeps its
    gain over every baseline at SINR 0 / 10 / 20 dB (SNR 20 dB; +3.9 dB or more at SINR 0)."""
    seeds = _script("seeds/run.py", "diffair_seeds")
    table = json.loads(SEEDS.read_text())["families"]
    with seeds.seeded_receivers():
        for name, family in seeds.FAMILIES.items():
            records = seeds.family_records(family, seeds.sweep_family(family, DATA, tmp_path / name)["results"])
            expected = table[name]["records"]
            assert len(records) == len(expected) and table[name]["untrained_seeds"] == [], name
            for record, shipped in zip(records, expected):
                point = (name, record.get("sinr_db", record["snr_db"]))
                assert record["best_baseline"] == shipped["best_baseline"], point
                assert record["baseline_psnr_db"] == pytest.approx(shipped["baseline_psnr_db"], abs=0.03), point
                assert record["gap_db_by_seed"] == pytest.approx(shipped["gap_db_by_seed"], abs=0.03), point
                assert record["shipped_gap_db"] == pytest.approx(shipped["shipped_gap_db"], abs=0.03), point
                gaps = list(record["gap_db_by_seed"].values())
                if family.scenario == "plain":
                    assert max(abs(g) for g in gaps) <= 0.1 and max(gaps) - min(gaps) <= 0.02, point
                else:
                    assert min(gaps) >= (3.9 if point[1] == 0.0 else 0.2), point
