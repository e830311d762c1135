"""Guo et al.'s diffusion JSCC: bandwidth, the hybrid loss's KL, the receiver, the trainer."""

import math

import numpy as np
import pytest
import torch

from diffair.models.autoencoder import AutoencoderConfig, SemanticAutoencoder
from diffair.models.channels import transmit
from diffair.models.checkpoint import load_model
from diffair.models.data import to_tensor_batch
from diffair.models.denoiser import DenoiserConfig, LatentPrior
from diffair.models.djscc import DiffusionJSCCReceiver, DiffusionLink, LinkConfig
from diffair.models.observation import LatentObservation
from diffair.models.symbols import latent_to_symbols
from diffair.models.training.djscc import gaussian_kl
from diffair.testbed.cli import main


def _receiver(steps=3):
    torch.manual_seed(0)
    link = DiffusionLink(LinkConfig()).eval()
    return DiffusionJSCCReceiver(link, LatentPrior(DenoiserConfig(channels=8, width=16)),
                                 SemanticAutoencoder(AutoencoderConfig(filters=16)), steps=steps).eval()


def test_transmitter_uses_the_deep_jscc_bandwidth_at_unit_power():
    receiver = _receiver()
    with torch.no_grad():
        symbols, latent = receiver.encode(torch.rand(4, 3, 32, 32))
    assert symbols.shape == (4, 64, 4, 4) and latent.shape == (4, 8, 8, 8)
    assert latent_to_symbols(symbols).shape[1] / (3 * 32 * 32) == pytest.approx(1 / 6)
    assert latent_to_symbols(symbols).abs().square().mean(dim=1).numpy() == pytest.approx(np.ones(4), rel=1e-5)
    assert LinkConfig(symbol_channels=32).bandwidth_ratio == pytest.approx(1 / 12)


def test_gaussian_kl_closed_form():
    m, lv = torch.tensor([0.5]), torch.tensor([math.log(0.25)])
    expected = 0.5 * (0.0 - math.log(0.25) + 0.25 + 0.25 - 1)  # KL(N(0.5, 0.25) || N(0, 1))
    assert gaussian_kl(m, lv, torch.zeros(1), torch.zeros(1)).item() == pytest.approx(expected, rel=1e-6)
    assert gaussian_kl(m, lv, m, lv).item() == pytest.approx(0.0, abs=1e-7)


def test_receiver_decodes_deterministically_from_its_seed():
    receiver = _receiver()
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        symbols, latent = receiver.encode(images)
        rx = transmit(latent_to_symbols(symbols), torch.full((2,), 10.0), "rayleigh", torch.Generator().manual_seed(1))
        obs = LatentObservation.from_symbols(rx, tuple(symbols.shape[1:]), 10.0)
        first, estimate = receiver(obs)
        second, _ = receiver(obs)
    assert first.shape == images.shape and estimate.shape == latent.shape
    assert torch.equal(first, second)
    assert 0.0 <= first.min() and first.max() <= 1.0


def test_train_djscc_three_stages_from_the_cli(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "d.npz"
    np.savez(data, x_train=rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8),
             x_test=rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8))
    out = tmp_path / "w"
    for stage in ("autoencoder", "prior", "link"):
        assert main(["train", "djscc", "--stage", stage, "--channel", "awgn", "--epochs", "1", "--width", "16",
                     "--data", str(data), "--out", str(out)]) == 0
    autoencoder = load_model(SemanticAutoencoder, AutoencoderConfig, out, "djscc_autoencoder")
    with torch.no_grad():
        latents = autoencoder.encode(to_tensor_batch(np.load(data)["x_train"]))
    assert latents.std().item() == pytest.approx(1.0, rel=0.05)  # the stored scale factor
    assert (out / "djscc_prior.safetensors").exists() and (out / "djscc_link_awgn.json").exists()


def test_mean_receiver_starts_its_ddim_at_the_upsampler_mean():
    """djscc-mean (sample=False) draws no noise: its decoding does not depend on the seed and
    differs from the paper's sampled one."""
    sampled = _receiver()
    mean = DiffusionJSCCReceiver(sampled.link, sampled.prior, sampled.autoencoder, steps=3, sample=False).eval()
    assert (sampled.name, mean.name) == ("djscc", "djscc-mean")
    assert torch.count_nonzero(mean.noise((2, 8, 8, 8))) == 0
    with torch.no_grad():
        symbols, _ = sampled.encode(torch.rand(2, 3, 32, 32))
        rx = transmit(latent_to_symbols(symbols), torch.full((2,), 10.0), "awgn", torch.Generator().manual_seed(1))
        obs = LatentObservation.from_symbols(rx, tuple(symbols.shape[1:]), 10.0)
        first = mean(obs)[0]
        mean.seed = 99
        assert torch.equal(first, mean(obs)[0])
        assert not torch.equal(first, sampled(obs)[0])
