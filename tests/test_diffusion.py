"""Schedule golden numbers, the DDIM sampler and the CDDM receiver's plumbing."""

import numpy as np
import pytest
import torch

from diffair.dsp.errors import ConfigError
from diffair.models.channels import transmit
from diffair.models.denoiser import DenoiserConfig, LatentUNet
from diffair.models.jscc import JSCCConfig, JSCCDecoder, normalize_power
from diffair.models.observation import LatentObservation
from diffair.models.receivers import CDDMReceiver, JSCCReceiver
from diffair.models.sampler import ddim_step, forward_diffuse
from diffair.models.schedule import NoiseSchedule
from diffair.models.symbols import latent_to_symbols


def test_linear_schedule_golden_numbers():
    s = NoiseSchedule()
    a = s.alphas_cumprod
    assert a[0] == pytest.approx(0.9999)
    assert a[499] == pytest.approx(0.0785872, rel=1e-5)
    assert a[999] == pytest.approx(4.0358e-5, rel=1e-3)
    # start steps: alpha_bar/(1-alpha_bar) = SNR on unit-variance latents; 93 evaluations at
    # 10 dB and 52 at 15 dB, as CDDM's table (../shared/notes/models.md section 1.6)
    assert [s.start_step(snr) + 1 for snr in (0, 10, 15, 20)] == [259, 93, 52, 27]


def test_timesteps_consecutive_and_respaced():
    s = NoiseSchedule()
    assert list(s.timesteps(4, None)) == [4, 3, 2, 1, 0]
    assert list(s.timesteps(92, 10)) == [92, 82, 72, 61, 51, 41, 31, 20, 10, 0]
    assert list(s.timesteps(2, 10)) == [2, 1, 0]
    with pytest.raises(ConfigError):
        s.timesteps(1000, 5)


@pytest.mark.parametrize("steps", [None, 1, 5])
def test_ddim_with_the_true_noise_recovers_ws_x0(steps):
    """The sampler is exact when the network returns the true noise (here: an oracle)."""
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(4, 16, 8, 8, generator=g), torch.randn(4, 16, 8, 8, generator=g)
    w_s, w_n = torch.rand(4, 16, 8, 8, generator=g), torch.rand(4, 16, 8, 8, generator=g) + 0.1
    s = NoiseSchedule()
    alphas = torch.as_tensor(s.alphas_cumprod, dtype=torch.float32)
    visit = s.timesteps(60, steps)
    x = forward_diffuse(x0, eps, alphas[visit[0]], w_s, w_n)
    for i, t in enumerate(visit):
        nxt = alphas[visit[i + 1]] if i + 1 < len(visit) else torch.tensor(1.0)
        x = ddim_step(x, w_n * eps, alphas[t], nxt)
    torch.testing.assert_close(x, w_s * x0, rtol=1e-4, atol=1e-4)


class _Oracle(torch.nn.Module):
    """Returns the exact noise of x_t given the clean latent (tests the receiver's scaling)."""

    def __init__(self, x0):
        super().__init__()
        self.x0 = x0
        self.alphas = torch.as_tensor(NoiseSchedule().alphas_cumprod, dtype=torch.float32)

    def fold(self, latent):  # no patches (models.denoiser)
        return latent

    unfold = fold

    def forward(self, x_t, t, w_s, w_n):
        a = self.alphas[t.long()].view(-1, 1, 1, 1)
        return (x_t - a.sqrt() * w_s * self.x0) / ((1 - a).sqrt() * w_n)

    folded = forward


@pytest.mark.parametrize("channel", ["awgn", "rayleigh"])
def test_cddm_receiver_start_scaling_and_loop(channel):
    g = torch.Generator().manual_seed(1)
    z = normalize_power(torch.randn(3, 16, 8, 8, generator=g))
    rx = transmit(latent_to_symbols(z), torch.full((3,), 12.0), channel, g)
    obs = LatentObservation.from_symbols(rx, (16, 8, 8), 12.0)
    decoder = JSCCDecoder(JSCCConfig())
    for steps in (None, 10):
        receiver = CDDMReceiver(_Oracle(z * 2 ** 0.5), decoder, steps=steps)
        torch.testing.assert_close(receiver.denoise(obs), obs.gain * z, rtol=1e-3, atol=1e-3)
    image, latent = JSCCReceiver(decoder)(obs)
    assert image.shape == (3, 3, 32, 32) and torch.equal(latent, obs.y)


def test_denoiser_shapes_and_zero_init():
    net = LatentUNet(DenoiserConfig(channels=8, width=16))
    x = torch.randn(2, 8, 8, 8)
    out = net(x, torch.tensor([3.0, 500.0]), torch.ones_like(x), torch.ones_like(x))
    assert out.shape == x.shape and torch.count_nonzero(out) == 0  # head starts at zero
    assert np.isfinite(out.detach().numpy()).all()


def test_a_padded_plan_changes_nothing():
    from diffair.models.receivers import cddm_denoise, sampler_plan

    g = torch.Generator().manual_seed(2)
    net = LatentUNet(DenoiserConfig(width=16))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.05, generator=g)
    y, gain, nv = torch.randn(2, 16, 8, 8, generator=g), torch.rand(2, 16, 8, 8, generator=g), torch.rand(2, 16, 8, 8) + 0.1
    plan = sampler_plan(NoiseSchedule(), 28.0, 10)  # high SNR: fewer steps than K
    assert len(plan.t) < 10
    sigma = torch.full((2,), 0.04)
    with torch.no_grad():
        a = cddm_denoise(net, y, gain, nv, sigma, *plan.tensors())
        b = cddm_denoise(net, y, gain, nv, sigma, *plan.padded(10).tensors())
    torch.testing.assert_close(a, b)


def test_a_patched_denoiser_samples_the_same_folded_once_as_step_by_step():
    from diffair.models.receivers import cddm_denoise, sampler_plan
    from diffair.models.sampler import ddim_step

    g = torch.Generator().manual_seed(3)
    net = LatentUNet(DenoiserConfig(width=16, patch=2, blocks=1))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.05, generator=g)
    y, gain, nv = torch.randn(2, 16, 8, 12, generator=g), torch.rand(2, 16, 8, 12, generator=g), torch.rand(2, 16, 8, 12) + 0.1
    sigma = torch.full((2,), 0.3)
    t, alpha_t, alpha_next = sampler_plan(NoiseSchedule(), 8.0, 10).tensors()
    with torch.no_grad():
        folded_once = cddm_denoise(net, y, gain, nv, sigma, t, alpha_t, alpha_next)
        w_n = nv.sqrt() / sigma.view(-1, 1, 1, 1)
        x = alpha_t[0].sqrt() * 2 ** 0.5 * y
        for k in range(len(t)):  # the unpatched loop, the network folding and unfolding every step
            x = ddim_step(x, w_n * net(x, t[k].expand(2), gain, w_n), alpha_t[k], alpha_next[k])
    assert folded_once.shape == y.shape
    torch.testing.assert_close(folded_once, x / 2 ** 0.5, rtol=1e-5, atol=1e-5)
    assert torch.equal(net.unfold(net.fold(y)), y)


def test_an_unconditioned_denoiser_is_blind_to_the_channel_weights():
    g = torch.Generator().manual_seed(4)
    net = LatentUNet(DenoiserConfig(width=16, conditioned=False))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.05, generator=g)
    x, t = torch.randn(2, 16, 8, 8, generator=g), torch.tensor([10.0, 400.0])
    with torch.no_grad():
        a = net(x, t, torch.rand(2, 16, 8, 8, generator=g), torch.rand(2, 16, 8, 8, generator=g) + 0.1)
        b = net(x, t, torch.ones(2, 16, 8, 8), torch.ones(2, 16, 8, 8))
    assert net.stem.in_channels == 16 and torch.equal(a, b) and a.abs().sum() > 0
