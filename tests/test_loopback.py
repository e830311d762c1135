"""`diffair loopback` and `diffair sweep` plumbing, with small untrained weights (the
acceptance figures of the trained ones are measured by the README's commands)."""

import json

import numpy as np
import pytest
from PIL import Image

from diffair.dsp.errors import ConfigError, ModelError
from diffair.models.checkpoint import save_weights
from diffair.models.denoiser import DenoiserConfig, LatentUNet
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.testbed.cli import main


@pytest.fixture
def weights(tmp_path):
    folder = tmp_path / "weights"
    config = JSCCConfig(filters=16)
    for channel in ("awgn", "rayleigh"):
        save_weights(DeepJSCC(config), config, folder, f"jscc_{channel}_c16")
    save_weights(LatentUNet(DenoiserConfig(width=16)), DenoiserConfig(width=16), folder, "cddm_denoiser_awgn")
    save_weights(DeepJSCC(config), config, folder, "cddm_codec_awgn")
    return folder


def test_loopback_writes_a_report(weights, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["loopback", "--weights", str(weights), "--out", str(out), "--json", "--cfo-hz", "30000"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["receivers"]) == {"jscc", "cddm"}
    for r in summary["receivers"].values():
        assert np.isfinite(r["psnr_db"]) and 0 <= r["ssim"] <= 1 and r["latency_ms"] > 0
    cddm, jscc = summary["receivers"]["cddm"], summary["receivers"]["jscc"]
    assert cddm["best_baseline"] == "jscc" and cddm["psnr_gain_db"] == pytest.approx(cddm["psnr_db"] - jscc["psnr_db"])
    assert "psnr_gain_db" not in jscc
    assert summary["frames_ok"] == summary["frames_sent"] and summary["erased_symbols"] == 0
    assert abs(summary["snr_db_est"] - 10) < 1.5 and abs(summary["cfo_hz_est"] - 30e3) < 500
    for name in ("original.png", "jscc.png", "cddm.png", "comparison.png", "constellation.png", "config.json",
                 "summary.json"):
        assert (out / name).exists(), name
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 0 and "git_commit" in config and config["command"].startswith("diffair loopback")
    assert set(config["weights_sha256"]) == {"jscc_awgn_c16", "cddm_denoiser_awgn", "cddm_codec_awgn"}
    assert all(len(h) == 64 for h in config["weights_sha256"].values())


def test_lost_frames_are_reported_and_the_image_still_decodes(weights, tmp_path, capsys):
    image = (np.random.default_rng(0).random((96, 128, 3)) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "x.png")
    assert main(["loopback", "--image", str(tmp_path / "x.png"), "--snr-db", "-6", "--receivers", "jscc",
                 "--weights", str(weights), "--out", str(tmp_path / "r"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames_ok"] < summary["frames_sent"]
    assert summary["erased_symbols"] > 0 and np.isfinite(summary["receivers"]["jscc"]["psnr_db"])


def test_an_image_of_any_size_goes_through_padded_and_cropped_back(weights, tmp_path, capsys):
    """A 61 x 43 photo (sides no multiple of 8, like 640 x 427 photos): reflect-padded to 64 x 64
    for the codec (two 32 x 32 tiles a side), decoded, cropped back to 61 x 43 for the metrics and
    the PNGs."""
    image = (np.random.default_rng(1).random((43, 61, 3)) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "odd.png")
    out = tmp_path / "r"
    assert main(["loopback", "--image", str(tmp_path / "odd.png"), "--receivers", "jscc,cddm", "--genie",
                 "--weights", str(weights), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["image_shape"] == [43, 61, 3] and summary["symbols"] == 16 // 2 * 16 * 16
    assert all(np.isfinite(r["psnr_db"]) for r in summary["receivers"].values())
    assert np.asarray(Image.open(out / "jscc.png")).shape == (43, 61, 3)


def test_bad_images_and_missing_weights_are_clear_errors(weights, tmp_path, capsys):
    Image.fromarray(np.zeros((3, 30, 3), np.uint8)).save(tmp_path / "thin.png")
    assert main(["loopback", "--image", str(tmp_path / "thin.png"), "--weights", str(weights)]) == 2
    assert "at least 32 pixels" in capsys.readouterr().err
    (tmp_path / "bad.png").write_bytes(b"nope")
    assert main(["loopback", "--image", str(tmp_path / "bad.png"), "--weights", str(weights)]) == 2
    assert "cannot read image" in capsys.readouterr().err
    assert main(["loopback", "--channel", "rayleigh", "--receivers", "cddm", "--weights", str(weights)]) == 1
    assert "cddm_denoiser_rayleigh" in capsys.readouterr().err  # missing weights: a runtime failure, exit 1
    assert main(["loopback", "--receivers", "nonesuch", "--weights", str(weights)]) == 2
    assert "unknown receiver" in capsys.readouterr().err


def test_sweep_writes_csv_json_and_plot(weights, tmp_path, capsys):
    data = tmp_path / "imgs.npz"
    np.savez(data, x_test=(np.random.default_rng(1).random((12, 32, 32, 3)) * 255).astype(np.uint8))
    out = tmp_path / "sweep"
    assert main(["sweep", "--data", str(data), "--snr-db", "0,10", "--channel", "awgn", "--weights", str(weights),
                 "--out", str(out), "--json", "--limit", "8"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert {(r["receiver"], r["snr_db"]) for r in rows} == {(n, s) for n in ("jscc", "cddm") for s in (0.0, 10.0)}
    assert all(r["images"] == 8 for r in rows)
    jscc = {r["snr_db"]: r for r in rows if r["receiver"] == "jscc"}
    assert jscc[10.0]["latent_mse_db"] < jscc[0.0]["latent_mse_db"] - 5  # the channel got 10 dB better
    for name in ("sweep.csv", "sweep.json", "sweep.png"):
        assert (out / name).exists()
    origin = json.loads((out / "sweep.json").read_text())["provenance"]
    from diffair.models.provenance import file_sha256

    assert origin["data_sha256"] == file_sha256(data) and origin["seed"] == 0
    assert set(origin["weights_sha256"]) == {"jscc_awgn_c16", "cddm_denoiser_awgn", "cddm_codec_awgn"}
    assert main(["sweep", "--data", str(data), "--genie", "--snr-db", "5", "--weights", str(weights),
                 "--out", str(out), "--json", "--receivers", "jscc"]) == 0


def test_padding_reflects_to_the_multiple_and_cropping_restores_the_image():
    from diffair.testbed.images import crop_images, pad_images, padded_size

    image = (np.random.default_rng(2).random((30, 5, 3)) * 255).astype(np.uint8)
    padded = pad_images(image, "x", 4)
    assert padded.shape == (32, 8, 3) and padded_size((30, 9), "x", 8) == (32, 16)
    assert np.array_equal(padded[30, :5], image[28]) and np.array_equal(padded[:30, 5], image[:, 3])  # reflected
    assert np.array_equal(crop_images(padded, (30, 5)), image)
    assert pad_images(padded, "x", 4) is padded  # already a multiple: untouched
    batch = np.stack([image[:4, :4], image[:4, :4]])
    assert pad_images(batch, "x", 4) is batch  # a multiple already: as it is
    assert pad_images(image[:5, :5], "x", 4).shape == (8, 8, 3)  # padding near the side's length: mirrored
    with pytest.raises(ConfigError, match="at least 4 pixels"):
        pad_images(np.zeros((3, 30, 3), np.uint8), "x")
    with pytest.raises(ModelError):
        from diffair.models.registry import build_transmitter

        build_transmitter("jscc", "awgn", weights_dir=__import__("pathlib").Path("/nonexistent"))


def test_onnxruntime_backend_gives_the_torch_result(weights, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    runs = {}
    for backend in ("torch", "ort"):
        assert main(["loopback", "--weights", str(weights), "--out", str(tmp_path / backend), "--backend", backend,
                     "--json", "--steps", "5"]) == 0
        runs[backend] = json.loads(capsys.readouterr().out)["receivers"]
    for name in ("jscc", "cddm"):
        assert runs["ort"][name]["provider"] == "CPUExecutionProvider"
        assert runs["ort"][name]["psnr_db"] == pytest.approx(runs["torch"][name]["psnr_db"], abs=1e-3)


def test_sweep_rows_compare_each_diffusion_receiver_with_the_best_baseline():
    from diffair.testbed.baselines import paired_ci95
    from diffair.testbed.sweep import compare_point

    per_image = {"jscc": [20.0, 21.0, 22.0, 23.0], "jscc-mmse": [21.0, 22.0, 23.0, 24.0],
                 "cddm": [20.5, 21.5, 22.5, 23.5]}
    scores = {n: {"psnr_db": v} for n, v in per_image.items()}
    rows = [{"receiver": n, "channel": "rayleigh", "snr_db": 5.0, "psnr_db": float(np.mean(v))}
            for n, v in per_image.items()]
    compare_point(rows, scores)
    cddm = rows[2]
    assert cddm["best_baseline"] == "jscc-mmse" and cddm["psnr_gain_db"] == pytest.approx(-0.5)
    assert cddm["psnr_gain_ci95_db"] == pytest.approx([-0.5, -0.5])  # the same gain on every image
    assert "psnr_gain_db" not in rows[0] and "psnr_gain_db" not in rows[1]
    low, high = paired_ci95(np.random.default_rng(3).normal(0.2, 1.0, 400))
    assert low < 0.2 < high and high - low == pytest.approx(2 * 1.96 / 20, rel=0.2)  # ~ 1.96 sigma / sqrt(n)
