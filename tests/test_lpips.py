"""LPIPS from user-supplied weights (testbed.lpips): the formula, its errors, and the reports
that carry it. The published weights cannot be had here (AlexNet's come from torchvision's
download site), so these tests use a seeded random AlexNet-shaped file; the implementation was
checked against the lpips package's own code (docs/benchmarks/lpips)."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from diffair.dsp.errors import ConfigError
from diffair.testbed.cli import main
from diffair.testbed.images import builtin_image
from diffair.testbed.lpips import CONVOLUTIONS, LPIPS, SCALE, SHIFT


def _weights(path, lin_layers=(0, 1, 2, 3, 4)):
    """A seeded AlexNet trunk (He-scaled) and non-negative calibration weights on ``lin_layers``
    (zero elsewhere), saved as the LPIPS safetensors file ``path``."""
    generator = torch.Generator().manual_seed(0)
    tensors = {}
    for layer, (index, out_ch, in_ch, kernel, _, _) in enumerate(CONVOLUTIONS):
        fan_in = in_ch * kernel * kernel
        tensors[f"features.{index}.weight"] = torch.randn(out_ch, in_ch, kernel, kernel, generator=generator) * (
            2 / fan_in) ** 0.5
        tensors[f"features.{index}.bias"] = 0.01 * torch.randn(out_ch, generator=generator)
        lin = torch.rand(1, out_ch, 1, 1, generator=generator) if layer in lin_layers else torch.zeros(1, out_ch, 1, 1)
        tensors[f"lin{layer}.model.1.weight"] = lin
    save_file(tensors, path)
    return path


@pytest.fixture
def lpips_file(tmp_path):
    return _weights(tmp_path / "lpips_alex.safetensors")


def _noisy(image01, sigma, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(image01 + rng.normal(0, sigma, image01.shape), 0, 1)


def test_zero_for_a_copy_and_growing_with_the_noise(lpips_file):
    photo = builtin_image() / 255.0
    lpips = LPIPS(lpips_file)
    assert lpips(photo, photo) == pytest.approx(0.0, abs=1e-9)
    distances = [lpips(photo, _noisy(photo, sigma)) for sigma in (0.01, 0.05, 0.2)]
    assert 0 < distances[0] < distances[1] < distances[2]


def test_a_batch_scores_each_image_as_alone(lpips_file):
    lpips = LPIPS(lpips_file)
    images = np.stack([builtin_image(side=32) / 255.0, np.full((32, 32, 3), 0.5)])
    noisy = _noisy(images, 0.1)
    batch = lpips(images, noisy)
    assert batch.shape == (2,)
    np.testing.assert_allclose(batch, [lpips(images[i], noisy[i]) for i in range(2)], rtol=1e-5)


def test_the_first_layer_is_the_papers_formula(tmp_path):
    """With the calibration on AlexNet's first layer only, LPIPS is the spatial mean over that
    layer's positions of sum_c w_c (n_c(x) - n_c(x0))^2, n the channel-normalised ReLU output of
    the 11 x 11 / 4 convolution of the shifted and scaled [-1, 1] image (Zhang et al. 2018, eq. 1);
    computed here with torch.nn modules laid out as AlexNet, and bounded by 2 max(w)."""
    path = _weights(tmp_path / "first.safetensors", lin_layers=(0,))
    tensors = LPIPS(path).tensors
    conv = torch.nn.Conv2d(3, 64, 11, stride=4, padding=2)
    conv.load_state_dict({"weight": tensors["features.0.weight"], "bias": tensors["features.0.bias"]})
    photo = builtin_image(side=64) / 255.0
    noisy = _noisy(photo, 0.1)

    def normalised(image):
        x = torch.tensor(image, dtype=torch.float32).permute(2, 0, 1)[None]
        x = (2 * x - 1 - torch.tensor(SHIFT).view(1, 3, 1, 1)) / torch.tensor(SCALE).view(1, 3, 1, 1)
        f = torch.relu(conv(x))
        return f / (f.norm(dim=1, keepdim=True) + 1e-10)

    with torch.no_grad():
        squared = (normalised(photo) - normalised(noisy)) ** 2
        w = tensors["lin0.model.1.weight"].view(1, 64, 1, 1)
        expected = float((w * squared).sum(1).mean())
    assert LPIPS(path)(photo, noisy) == pytest.approx(expected, rel=1e-5)
    assert 0 < expected <= 2 * float(w.max())


def test_bad_weights_and_small_images_are_clear_errors(tmp_path, lpips_file):
    with pytest.raises(ConfigError, match="not found"):
        LPIPS(tmp_path / "missing.safetensors")
    tensors = {k: v for k, v in LPIPS(lpips_file).tensors.items() if k != "lin3.model.1.weight"}
    save_file(tensors, tmp_path / "partial.safetensors")
    with pytest.raises(ConfigError, match=r"lin3\.model\.1\.weight.*\(1, 256, 1, 1\)"):
        LPIPS(tmp_path / "partial.safetensors")
    tensors["lin3.model.1.weight"] = torch.zeros(1, 128, 1, 1)
    save_file(tensors, tmp_path / "wrong.safetensors")
    with pytest.raises(ConfigError, match=r"\(1, 128, 1, 1\), expected \(1, 256, 1, 1\)"):
        LPIPS(tmp_path / "wrong.safetensors")
    small = np.zeros((30, 40, 3))
    with pytest.raises(ConfigError, match="at least 31 x 31 px, got 30 x 40"):
        LPIPS(lpips_file)(small, small)


def test_sweep_and_loopback_report_lpips_when_given_its_weights(lpips_file, tmp_path, capsys):
    data = tmp_path / "imgs.npz"
    np.savez(data, x_test=(np.random.default_rng(1).random((8, 32, 32, 3)) * 255).astype(np.uint8))
    sweep = ["sweep", "--data", str(data), "--genie", "--snr-db", "0,20", "--receivers", "jscc", "--out",
             str(tmp_path / "sweep")]
    assert main(sweep + ["--lpips", str(lpips_file), "--json"]) == 0
    rows = {r["snr_db"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert rows[0.0]["lpips"] > rows[20.0]["lpips"] > 0
    assert main(sweep + ["--lpips", str(lpips_file)]) == 0
    assert " LPIPS " in capsys.readouterr().out
    assert main(sweep + ["--json"]) == 0
    assert "lpips" not in json.loads(capsys.readouterr().out)["results"][0]
    assert main(["loopback", "--genie", "--receivers", "jscc", "--lpips", str(lpips_file), "--out",
                 str(tmp_path / "loopback"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["receivers"]["jscc"]["lpips"] > 0
    assert main(sweep + ["--lpips", str(tmp_path / "none.safetensors")]) == 2
    assert "none.safetensors" in capsys.readouterr().err


def test_rx_scores_lpips_against_its_reference_only(lpips_file, tmp_path, capsys):
    assert main(["tx", "--radio", "loopback", "--record", str(tmp_path / "air"), "--image", "--snr-db", "20"]) == 0
    capsys.readouterr()
    rx = ["rx", "--radio", "sigmf", "--input", str(tmp_path / "air"), "--receivers", "jscc", "--lpips",
          str(lpips_file)]
    assert main(rx + ["--reference", "--json"]) == 0
    (payload,) = json.loads(capsys.readouterr().out)["payloads"]
    assert 0 < payload["receivers"]["jscc"]["lpips"] < 1
    assert main(rx + ["--image-size", "128x128"]) == 2
    assert "against --reference: give one" in capsys.readouterr().err
