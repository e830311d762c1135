"""`diffair train`: runs, resumes, writes safetensors + JSON that load back; bad weights are refused."""

import json

import numpy as np
import pytest
import torch

from diffair.dsp.errors import ConfigError, ModelError
from diffair.models.checkpoint import load_model
from diffair.models.data import load_images
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.testbed.cli import main


@pytest.fixture
def tiny_npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.npz"
    np.savez(path, x_train=rng.integers(0, 256, (96, 32, 32, 3), dtype=np.uint8),
             x_test=rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8))
    return path


def test_train_jscc_then_cddm_resumably(tiny_npz, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "jscc", "--data", str(tiny_npz), "--out", str(out), "--epochs", "1", "--channels", "8"]) == 0
    again = ["train", "jscc", "--data", str(tiny_npz), "--out", str(out), "--epochs", "2", "--channels", "8"]
    assert main(again) == 2  # an earlier run's checkpoint is never overwritten silently
    assert "pass --resume to continue it" in capsys.readouterr().err
    assert main(again + ["--resume"]) == 0
    assert "resumed jscc_awgn_c8 at epoch 1 step 0" in capsys.readouterr().out
    history = json.loads((out / "checkpoints" / "jscc_awgn_c8.train.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    codec = load_model(DeepJSCC, JSCCConfig, out, "jscc_awgn_c8")
    assert codec.config.channels == 8 and not codec.training
    assert main(["train", "cddm", "--data", str(tiny_npz), "--out", str(out), "--epochs", "1", "--width", "16",
                 "--jscc", str(out / "jscc_awgn_c8.safetensors")]) == 0
    assert main(["train", "cddm-decoder", "--data", str(tiny_npz), "--out", str(out), "--epochs", "1",
                 "--jscc", str(out / "jscc_awgn_c8.safetensors")]) == 0
    assert (out / "cddm_denoiser_awgn.safetensors").exists() and (out / "cddm_codec_awgn.json").exists()


def test_weights_that_do_not_match_their_config_are_refused(tmp_path):
    from diffair.models.checkpoint import save_weights

    save_weights(DeepJSCC(JSCCConfig(channels=8)), JSCCConfig(channels=8), tmp_path, "codec")
    config = json.loads((tmp_path / "codec.json").read_text())
    (tmp_path / "codec.json").write_text(json.dumps({**config, "channels": 16}))
    with pytest.raises(ModelError, match="do not match"):
        load_model(DeepJSCC, JSCCConfig, tmp_path, "codec")
    (tmp_path / "codec.json").write_text(json.dumps({**config, "colour": 1}))
    with pytest.raises(ConfigError, match="unknown key"):
        load_model(DeepJSCC, JSCCConfig, tmp_path, "codec")
    (tmp_path / "codec.safetensors").write_bytes(b"not a safetensors file")
    (tmp_path / "codec.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="cannot read weights"):
        load_model(DeepJSCC, JSCCConfig, tmp_path, "codec")


def test_image_loading_errors_are_clear(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ConfigError, match="cannot read image"):
        load_images(tmp_path)
    with pytest.raises(ConfigError, match="expected an .npz"):
        load_images(tmp_path / "x.txt")
    np.savez(tmp_path / "wrong.npz", something=np.zeros(3))
    with pytest.raises(ConfigError, match="x_test"):
        load_images(tmp_path / "wrong.npz")


def test_jscc_is_fully_convolutional_and_power_normalized():
    codec = DeepJSCC(JSCCConfig())
    image = torch.rand(1, 3, 64, 96)
    z = codec.encoder(image)
    assert z.shape == (1, 16, 16, 24)
    assert (z.square().sum() / (z.numel() / 2)).item() == pytest.approx(1.0, rel=1e-5)
    assert codec.decoder(z, torch.full_like(z, 10.0)).shape == image.shape


def test_the_mmse_baseline_trains_on_held_out_validation_and_decodes_y_as_it_is(tiny_npz, tmp_path, capsys):
    """`train jscc-mmse` fine-tunes the decoder (encoder frozen) and validates on held-out
    training images; the receiver feeds the decoder y itself, where jscc feeds y / gain."""
    from diffair.models.baselines import MMSEDecoderReceiver
    from diffair.models.observation import LatentObservation
    from diffair.models.receivers import JSCCReceiver
    from diffair.models.symbols import snr_map_db
    from diffair.models.data import held_out

    out = tmp_path / "run"
    assert main(["train", "jscc", "--data", str(tiny_npz), "--out", str(out), "--epochs", "1", "--channels", "8"]) == 0
    codec = out / "jscc_awgn_c8.safetensors"
    assert main(["train", "jscc-mmse", "--data", str(tiny_npz), "--out", str(out), "--epochs", "1", "--jscc",
                 str(codec), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["epochs"] == 1 and report["steps"] == 1  # 96 - 9 held out = 87 images, batch 128
    assert list(report["provenance"]["weights_sha256"]) == [codec.stem]  # the weights it started from
    record = json.loads((out / "checkpoints" / "jscc_mmse_awgn.train.json").read_text())["history"][0]
    assert {"val_psnr_db_jscc", "val_psnr_db_fine_tuned"} <= set(record)
    before, after = load_model(DeepJSCC, JSCCConfig, out, "jscc_awgn_c8"), load_model(DeepJSCC, JSCCConfig, out,
                                                                                      "jscc_mmse_awgn")
    assert all(torch.equal(a, b) for a, b in zip(before.encoder.state_dict().values(),
                                                 after.encoder.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(before.decoder.state_dict().values(),
                                                     after.decoder.state_dict().values()))
    train, val = held_out(torch.arange(96), 1000)
    assert len(val) == 9 and torch.equal(val, torch.arange(87, 96))

    obs = LatentObservation.random(2, (8, 8, 8), torch.Generator().manual_seed(0))
    mmse, plain = MMSEDecoderReceiver(after.decoder).eval(), JSCCReceiver(after.decoder).eval()
    with torch.no_grad():
        image = mmse(obs).image
        assert torch.allclose(image, after.decoder(obs.y, snr_map_db(obs.gain, obs.noise_var)))
        assert not torch.allclose(image, plain(obs).image)


def test_icdm_decoder_trains_with_icdm_in_the_loop_from_its_baseline_and_resumes_from_its_cached_passes(tmp_path,
                                                                                                         capsys):
    """`train icdm-decoder` runs the shipped ICDM receiver over each training batch, caches its
    outputs per pass, starts from jscc-interf's decoder and writes an ICDMDecoder that loads back;
    a resumed run reads the cached passes instead of sampling again."""
    from diffair.models.icdm import ICDMDecoder
    from diffair.models.registry import WEIGHTS_DIR

    weights = tmp_path / "weights"
    weights.mkdir()
    for name in ("jscc_rayleigh_c16", "jscc_vehicles_c16", "icdm_prior_animals", "icdm_prior_vehicles",
                 "jscc_interf_awgn"):
        for suffix in (".safetensors", ".json"):
            (weights / f"{name}{suffix}").write_bytes((WEIGHTS_DIR / f"{name}{suffix}").read_bytes())
    rng = np.random.default_rng(0)
    data = tmp_path / "labelled.npz"
    np.savez(data, x_train=rng.integers(0, 256, (120, 32, 32, 3), dtype=np.uint8), y_train=np.arange(120) % 10,
             x_test=rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8), y_test=np.arange(10))
    out = tmp_path / "run"
    command = ["train", "icdm-decoder", "--data", str(data), "--out", str(out), "--channel", "awgn", "--jscc",
               str(weights / "jscc_rayleigh_c16.safetensors"), "--json"]
    assert main(command + ["--epochs", "1"]) != 0
    assert "needs --interferer" in capsys.readouterr().err
    command += ["--interferer", str(weights / "jscc_vehicles_c16.safetensors")]
    assert main(command + ["--epochs", "1"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["epochs"] == 1 and report["steps"] == 2  # 2 passes over 72 - 7 held-out animals: 130, batch 128
    record = json.loads((out / "checkpoints" / "icdm_decoder_awgn.train.json").read_text())["history"][0]
    assert {"val_psnr_db_jscc_interf", "val_psnr_db_icdm_paper_decoder", "val_psnr_db_icdm"} <= set(record)
    passes = sorted((out / "checkpoints").glob("icdm_decoder_awgn.pass*.safetensors"))
    assert [p.name for p in passes] == ["icdm_decoder_awgn.pass0.safetensors", "icdm_decoder_awgn.pass1.safetensors"]
    written = [p.stat().st_mtime_ns for p in passes]
    decoder = load_model(ICDMDecoder, JSCCConfig, out, "icdm_decoder_awgn")
    assert decoder.layers[0].in_channels == 48  # ICDM's latent, y and the SINR map, 16 channels each
    assert decoder.layers[0].weight[:16].abs().max() > 0  # the latent's weights moved off their zero start

    assert main(command + ["--epochs", "2", "--resume"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["epochs"] == 2
    assert [p.stat().st_mtime_ns for p in passes] == written
