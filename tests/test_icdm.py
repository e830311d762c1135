"""ICDM: the interference channel, the joint sampler and its corrector, the sweep plumbing."""

import json
import math
import warnings

import numpy as np
import pytest
import torch

from diffair.dsp.errors import ConfigError, ModelError
from diffair.models.checkpoint import save_weights
from diffair.models.data import load_images
from diffair.models.denoiser import DenoiserConfig, LatentPrior
from diffair.models.icdm import GaussianPrior, Guidance, ICDMDecoder, ICDMReceiver, guidance_for_sinr, lambda_grid
from diffair.models.interference import interference_amplitude, transmit_interfered
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.observation import InterferedObservation, LatentObservation
from diffair.models.sampler import corrected_step, ddim_step
from diffair.models.schedule import NoiseSchedule
from diffair.models.symbols import latent_to_symbols

SCHEDULE = NoiseSchedule()


def _observation(channel, snr_db=20.0, sinr_db=0.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 16, 8, 8, generator=g) / 2 ** 0.5  # encoder units: unit power per complex symbol
    z = torch.randn(32, 16, 8, 8, generator=g) / 2 ** 0.5
    rx = transmit_interfered(latent_to_symbols(x), latent_to_symbols(z), snr_db, sinr_db, channel, g)
    return x, InterferedObservation.from_interfered(rx, (16, 8, 8), snr_db, sinr_db)


def _mse_db(estimate, x):
    return 10 * math.log10(((estimate - x) * 2 ** 0.5).square().mean().item())


@pytest.mark.parametrize("channel", ["awgn", "rayleigh"])
def test_joint_sampler_with_gaussian_priors_is_the_lmmse_estimate(channel):
    """With exact Gaussian priors the joint posterior is Gaussian: the sampler started at zero
    must land on the linear MMSE estimate g y / (g^2 + var(W_z z + w)) of the wanted latent."""
    x, obs = _observation(channel)
    lmmse = obs.gain * obs.y / (obs.gain.square() + obs.noise_var)
    estimate = ICDMReceiver(GaussianPrior(), GaussianPrior(), None, SCHEDULE, steps=10, guidance=Guidance()).denoise(obs)
    assert (estimate - lmmse).abs().max().item() < 0.01
    assert abs(_mse_db(estimate, x) - _mse_db(lmmse, x)) < 0.02
    # at SINR 0 dB it beats the equalized symbols with the interference left in by 2.5 dB or more
    assert _mse_db(estimate, x) < _mse_db(obs.y, x) - 2.5


def test_guidance_follows_the_table_between_its_points():
    assert guidance_for_sinr(-2.5) == Guidance(2.75, 1.5)
    assert guidance_for_sinr(7.0) == Guidance(2.0, 3.0)
    assert guidance_for_sinr(-20.0) == Guidance(3.0, 1.5) and guidance_for_sinr(30.0) == Guidance(2.0, 3.0)
    assert guidance_for_sinr(0.0, steps=10) == Guidance(2.0, 1.5, 0.3)
    assert guidance_for_sinr(3.0, "awgn", steps=10) == Guidance()
    assert guidance_for_sinr(0.0, "awgn") == Guidance(2.0, 3.0)
    with pytest.raises(ConfigError, match="channel 'rician'"):
        guidance_for_sinr(0.0, "rician")


def test_interference_power_matches_the_sinr():
    x, obs = _observation("awgn", snr_db=20.0, sinr_db=5.0)
    disturbance = (obs.y - x).square().mean().item() * 2  # per complex symbol
    assert disturbance == pytest.approx(10 ** -0.5, rel=0.05)
    assert interference_amplitude(20.0, 20.0) == 0.0
    with pytest.raises(ConfigError, match="SINR 25.0 dB exceeds the SNR 20.0 dB"):
        interference_amplitude(20.0, 25.0)
    with pytest.raises(ConfigError, match="channel = 'rician'"):
        _observation("rician")


def test_icdm_refuses_a_link_without_interferer_and_warns_outside_its_range():
    receiver = ICDMReceiver(GaussianPrior(), GaussianPrior(), None, SCHEDULE, steps=2)
    plain = LatentObservation(torch.zeros(1, 16, 8, 8), torch.ones(1, 16, 8, 8), torch.ones(1, 16, 8, 8), 10.0)
    with pytest.raises(ConfigError, match="needs a link with a synchronous interferer"):
        receiver.denoise(plain)
    _, obs = _observation("awgn", snr_db=30.0, sinr_db=20.0)
    with pytest.warns(UserWarning, match="outside the validated range"):
        receiver.denoise(obs)
    with pytest.warns(UserWarning, match="below 10 the sampler diverges"):
        receiver.denoise(obs)
    with pytest.raises(ConfigError, match="start = 'middle'"):
        ICDMReceiver(GaussianPrior(), GaussianPrior(), None, start="middle")


def test_corrector_is_second_order():
    """Probability-flow ODE of N(0, 4) data from t = 999 to 0: the exact scale is known; the
    DDIM + UniC error falls about 4x per halving of the step (DDIM alone: 2x)."""
    def error(count, correct):
        grid = lambda_grid(SCHEDULE, count)
        eps_of = lambda x, a: torch.sqrt(1 - a) * x / (4 * a + 1 - a)  # noqa: E731
        x = torch.tensor(1.0, dtype=torch.float64)
        a = torch.as_tensor(SCHEDULE.alphas_cumprod)
        eps = eps_of(x, a[grid[0]])
        for now, nxt in zip(grid[:-1], grid[1:]):
            predicted = ddim_step(x, eps, a[now], a[nxt])
            new = eps_of(predicted, a[nxt])
            x = corrected_step(x, eps, new, a[now], a[nxt]) if correct else predicted
            eps = new
        exact = torch.sqrt((4 * a[grid[-1]] + 1 - a[grid[-1]]) / (4 * a[grid[0]] + 1 - a[grid[0]]))
        return abs(float(x - exact))

    assert error(40, True) < error(20, True) / 3
    assert error(20, True) < error(20, False) / 3


def test_lambda_grid_spans_the_schedule():
    grid = lambda_grid(SCHEDULE, 40)
    assert grid[0] == 999 and grid[-1] == 0 and len(grid) == 40
    assert np.all(np.diff(grid) < 0)
    with pytest.raises(ConfigError):
        lambda_grid(SCHEDULE, 0)


def test_class_filter_reads_only_those_labels(tmp_path):
    images = np.arange(6 * 4 * 4 * 3, dtype=np.uint8).reshape(6, 4, 4, 3)
    np.savez(tmp_path / "d.npz", x_test=images, y_test=np.array([0, 2, 1, 2, 9, 2], dtype=np.uint8))
    picked = load_images(tmp_path / "d.npz", "test", classes=(2,))
    assert np.array_equal(picked, images[[1, 3, 5]])
    assert len(load_images(tmp_path / "d.npz", "test", limit=2, classes=(2,))) == 2
    with pytest.raises(ConfigError, match="no image of classes"):
        load_images(tmp_path / "d.npz", "test", classes=(5,))
    with pytest.raises(ConfigError, match="labelled .npz"):
        load_images(tmp_path, "test", classes=(2,))


def test_interference_sweep_runs_and_reports(tmp_path):
    """The ICDM sweep plumbing end to end with small untrained networks (numbers are not
    quality figures): rows per (receiver, SINR), files written, a warning for SINR 12 dB."""
    from diffair.testbed.sweep import SweepOptions, run_sweep

    weights = tmp_path / "weights"
    torch.manual_seed(0)
    for name in ("jscc_rayleigh_c16", "jscc_vehicles_c16"):
        save_weights(DeepJSCC(JSCCConfig(filters=16)), JSCCConfig(filters=16), weights, name)
    for name in ("animals", "vehicles"):
        save_weights(LatentPrior(DenoiserConfig(width=16)), DenoiserConfig(width=16), weights, f"icdm_prior_{name}")
    save_weights(ICDMDecoder(JSCCConfig(filters=16)), JSCCConfig(filters=16), weights, "icdm_decoder_rayleigh")
    images = np.random.default_rng(0).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x_test=images, y_test=np.array([2, 0] * 6, dtype=np.uint8))
    options = SweepOptions(data=tmp_path / "d.npz", limit=4, snr_db=(20.0,), sinr_db=(0.0, 12.0),
                           channels=("rayleigh",), steps=10, out=tmp_path / "out", weights=weights, batch=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = run_sweep(options, progress=False)["results"]
    assert [(r["receiver"], r["sinr_db"]) for r in results] == [(n, s) for s in (0.0, 12.0)
                                                               for n in ("jscc", "lmmse", "icdm")]
    assert all(r["images"] == 4 and np.isfinite(r["psnr_db"]) for r in results)
    assert "outside the validated range" in results[5]["warnings"] and "warnings" not in results[2]
    # the interference-aware linear estimate beats the equalized symbols on latent MSE
    assert results[1]["latent_mse_db"] < results[0]["latent_mse_db"] - 2.0
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["results"][0]["sinr_db"] == 0.0
    assert (tmp_path / "out" / "sweep.png").stat().st_size > 0


def test_a_missing_interference_prior_is_named(tmp_path):
    from diffair.models.registry import WEIGHTS_DIR, build

    for name in ("jscc_rayleigh_c16", "jscc_vehicles_c16", "icdm_prior_animals"):
        for suffix in (".safetensors", ".json"):
            (tmp_path / f"{name}{suffix}").write_bytes((WEIGHTS_DIR / f"{name}{suffix}").read_bytes())
    with pytest.raises(ModelError, match="icdm_prior_vehicles"):
        build("icdm", "rayleigh", weights_dir=tmp_path, scenario="interference")


def test_icdm_decoder_starts_as_its_baseline_and_reads_the_sinr_of_the_observation():
    """ICDMDecoder.from_baseline computes exactly what the jscc-interf decoder computes (zero
    weights on ICDM's latent), from_codec what the paper's decoder computes on the latent (zero
    weights on y), and ICDM's graph hands it y and the per-symbol SINR map that the
    observation's noise_var (thermal + |W_z|^2) gives."""
    from diffair.models.icdm import ICDMGraph, interference_power
    from diffair.models.symbols import snr_map_db

    torch.manual_seed(0)
    baseline = DeepJSCC(JSCCConfig()).decoder.eval()
    decoder = ICDMDecoder.from_baseline(baseline).eval()
    _, obs = _observation("rayleigh")
    latent = torch.randn_like(obs.y)
    sinr = snr_map_db(obs.gain, obs.noise_var)
    with torch.no_grad():
        assert torch.allclose(decoder(latent, obs.y, sinr), baseline(obs.y, sinr), atol=1e-6)
        decoder.layers[0].weight[:16] += 0.01  # once trained, the latent counts
        assert (decoder(latent, obs.y, sinr) - baseline(obs.y, sinr)).abs().max() > 1e-3
    assert torch.allclose(obs.thermal_var + interference_power(obs.cross), obs.noise_var, rtol=1e-5)
    from_codec = ICDMDecoder.from_codec(baseline).eval()  # the paper's decoder on the estimate alone
    with torch.no_grad():
        assert torch.allclose(from_codec(latent, obs.y, sinr), baseline(latent, sinr), atol=1e-6)

    prior = GaussianPrior()
    receiver = ICDMReceiver(prior, GaussianPrior(), decoder, steps=10, channel="rayleigh").eval()
    with torch.no_grad():
        image, estimate = ICDMGraph(prior, GaussianPrior(), decoder)(**receiver.inputs(obs))
        assert torch.allclose(image, decoder(estimate, obs.y, sinr), atol=1e-5)
        assert torch.allclose(receiver(obs).image, image, atol=1e-5)
