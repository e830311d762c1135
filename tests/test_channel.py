import numpy as np
import pytest

from diffair.dsp.errors import ConfigError, RadioError, SignalError
from diffair.radio.channel import ChannelConfig, LoopbackChannel, resample
from diffair.radio.loopback import LoopbackRadio
from tests.conftest import complex_gaussian


def test_awgn_sets_the_in_band_snr():
    cfg = ChannelConfig(snr_db=10.0, signal_power=0.25, bandwidth_fraction=0.5)
    noise = LoopbackChannel(cfg, seed=1).idle(200_000)
    # noise per sample = P / (SNR * fraction) = 0.25 / (10 * 0.5); 2e5 samples -> 0.3 % std error
    assert np.mean(np.abs(noise) ** 2) == pytest.approx(0.05, rel=0.02)


def test_same_seed_same_channel():
    cfg = ChannelConfig(snr_db=5.0, fading="rayleigh", cfo_hz=1000, sro_ppm=10, gap_samples=(10, 100))
    burst = np.full(500, 0.1 + 0.1j, np.complex64)
    a, ta = LoopbackChannel(cfg, seed=7).burst(burst)
    b, tb = LoopbackChannel(cfg, seed=7).burst(burst)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ta.taps, tb.taps)


def test_rayleigh_taps_have_unit_mean_power_and_stay_inside_the_delay_limit():
    channel = LoopbackChannel(ChannelConfig(fading="rayleigh", max_delay_samples=6), seed=3)
    taps = np.stack([channel.draw_taps() for _ in range(4000)])
    assert taps.shape[1] == 7
    assert np.mean(np.sum(np.abs(taps) ** 2, axis=1)) == pytest.approx(1.0, rel=0.05)


def test_resampler_is_accurate_for_an_oversampled_signal(rng):
    """A tone at 0.41 Fs (the OFDM band edge) evaluated at drifting fractional times: error < -60 dB."""
    n = np.arange(4000)
    f = 0.41
    x = np.exp(2j * np.pi * f * n).astype(np.complex64)
    y = resample(x, 0.3, 1 + 50e-6)
    t = 0.3 + np.arange(len(y)) * (1 + 50e-6)
    inner = slice(20, len(y) - 20)
    err = np.mean(np.abs(y[inner] - np.exp(2j * np.pi * f * t[inner])) ** 2)
    assert 10 * np.log10(err) < -60


def test_cfo_rotates_at_the_configured_rate():
    cfg = ChannelConfig(cfo_hz=1000.0, sample_rate_hz=1e6)
    out, _ = LoopbackChannel(cfg).burst(np.full(2000, 0.5, np.complex64))
    step = np.angle(np.mean(out[1:] * np.conj(out[:-1])))
    assert step == pytest.approx(2 * np.pi * 1000 / 1e6, rel=1e-4)


def test_adc_quantizes_to_12_bits_and_clips():
    cfg = ChannelConfig(adc_bits=12, rx_gain_db=20.0)
    out, _ = LoopbackChannel(cfg).burst(np.array([0.001 + 0j, 0.5 + 0.5j], np.complex64))
    assert np.all(np.abs(out.real) <= 1.0) and out[1].real == pytest.approx(2047 / 2048)
    np.testing.assert_allclose(out.real * 2048, np.round(out.real * 2048))


def test_config_refuses_unknown_keys_and_bad_values():
    with pytest.raises(ConfigError, match="unknown key"):
        ChannelConfig.from_dict({"snr": 3})
    with pytest.raises(ConfigError, match="fading"):
        ChannelConfig(fading="rician")
    with pytest.raises(ConfigError, match="gap_samples"):
        ChannelConfig(gap_samples=(10, 5))
    assert ChannelConfig.from_dict({"gap_samples": [1, 2]}).gap_samples == (1, 2)


def test_loopback_radio_contract(rng):
    radio = LoopbackRadio(ChannelConfig(snr_db=20.0), seed=1)
    with pytest.raises(RadioError, match="not open"):
        radio.receive(10)
    with radio:
        with pytest.raises(SignalError, match="complex64"):
            radio.send(np.zeros(10, np.complex128))
        with pytest.raises(SignalError, match="full scale"):
            radio.send(np.full(10, 2.0, np.complex64))
        with pytest.raises(SignalError, match="NaN"):
            radio.send(np.array([np.nan], np.complex64))
        with pytest.raises(SignalError, match="non-empty"):
            radio.send(np.zeros(0, np.complex64))
        radio.send(0.5 * complex_gaussian(rng, 1000) / 4)
        assert radio.pending == 1000
        first = radio.receive(600)
        rest = radio.receive(600)  # 400 queued + 200 idle noise
        assert first.dtype == np.complex64 and len(first) == len(rest) == 600
        assert radio.pending == 0
