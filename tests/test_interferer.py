"""The loopback radio's second transmitter (radio.interferer) and the PHY's SINR / SNR
estimates with it on the air."""

import json

import numpy as np
import pytest

from diffair.dsp.errors import ConfigError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.units import complex_gaussian
from diffair.dsp.receiver import OfdmReceiver
from diffair.radio.channel import ChannelConfig
from diffair.radio.interferer import Interferer
from diffair.radio.loopback import LoopbackRadio
from diffair.testbed.cli import main
from diffair.testbed.loopback import loopback_interferer
from diffair.testbed.session import frame_bursts

FMT = FrameFormat()
POWER = 10 ** (-FMT.backoff_db / 10)


def _symbols(count: int, seed: int) -> np.ndarray:
    return complex_gaussian(np.random.default_rng(seed), count)


def _channel(snr_db: float) -> ChannelConfig:
    return ChannelConfig(snr_db=snr_db, signal_power=POWER, bandwidth_fraction=FMT.bandwidth_fraction,
                         rms_delay_samples=FMT.cp_len / 8, max_delay_samples=FMT.cp_len // 2, cfo_hz=30e3,
                         gap_samples=(FMT.fft_size, 10 * FMT.fft_size))


def test_interferer_power_follows_the_sir():
    interferer = loopback_interferer(FMT, _channel(20.0), sir_db=3.0, cfo_hz=-12e3, payload_id=9, seed=0)
    samples = interferer.take(200_000)
    # gaps of at most one OFDM symbol between frames of ~3,700 samples: a duty cycle above 99 %
    power_db = 10 * np.log10(np.mean(np.abs(samples) ** 2) / POWER)
    assert abs(power_db - (-3.0)) < 0.2
    assert interferer.sent > 40


def test_interferer_refuses_bad_settings():
    bursts = [np.full(100, 0.1, np.complex64)]
    with pytest.raises(ConfigError, match="sir_db"):
        Interferer(bursts, ChannelConfig(), sir_db=99.0, signal_power=POWER)
    with pytest.raises(ConfigError, match="snr_db"):
        Interferer(bursts, ChannelConfig(snr_db=10.0), sir_db=0.0, signal_power=POWER)
    with pytest.raises(ConfigError, match="passband"):
        Interferer(bursts, ChannelConfig(), sir_db=0.0, signal_power=POWER, passband=1.5)
    with pytest.raises(ConfigError, match="no bursts"):
        Interferer([], ChannelConfig(), sir_db=0.0, signal_power=POWER)


@pytest.mark.parametrize("sir_db, interferer_cfo_hz", [(5.0, -12e3), (10.0, 10e3), (None, 0.0)])
def test_phy_estimates_sinr_and_snr_apart(sir_db, interferer_cfo_hz):
    """30 frames at 20 dB SNR, AWGN: the LTF's estimate follows the SINR, the guard carriers'
    the SNR, both within 0.5 dB (an interferer's band edge may sit in either guard band).
    The relative carrier offsets here are 2.7 and 1.3 subcarriers; near whole numbers of
    subcarriers the LTF estimate reads up to 1.2 dB high, near halves 0.8 dB low (docs/phy.md)."""
    snr_db = 20.0
    channel = _channel(snr_db)
    interferer = None if sir_db is None else loopback_interferer(FMT, channel, sir_db, interferer_cfo_hz, 99, 1)
    with LoopbackRadio(channel, seed=2, interferer=interferer) as radio:
        for burst in frame_bursts(_symbols(30 * FMT.payload_capacity, 0), 7, FMT, 0):
            radio.send(burst)
        stream = radio.receive(radio.pending + 2 * FMT.frame_len)
    receiver = OfdmReceiver(FMT)
    frames = [f for f in receiver.process(stream) + receiver.flush() if f.header.payload_id == 7]
    sinr_db = snr_db if sir_db is None else -10 * np.log10(10 ** (-snr_db / 10) + 10 ** (-sir_db / 10))
    assert len(frames) == 30
    assert abs(np.mean([f.snr_db for f in frames]) - sinr_db) < 0.5
    assert abs(np.mean([f.thermal_snr_db for f in frames]) - snr_db) < 0.5


def test_loopback_with_an_interferer(tmp_path, capsys):
    """The shipped AWGN codec at 20 dB with an interferer 5 dB below the signal: the report
    carries both estimates, and the interference costs PSNR."""
    def run(*extra):
        assert main(["loopback", "--snr-db", "20", "--receivers", "jscc", "--out", str(tmp_path), "--json",
                     *extra]) == 0
        return json.loads(capsys.readouterr().out)

    clean, interfered = run(), run("--sir-db", "5")
    assert interfered["sir_db"] == 5.0 and abs(interfered["sinr_db_true"] - 4.86) < 0.01
    assert abs(interfered["snr_db_est"] - interfered["sinr_db_true"]) < 1.0
    assert abs(interfered["thermal_snr_db_est"] - 20) < 1.0
    assert interfered["frames_ok"] == interfered["frames_sent"]
    assert interfered["receivers"]["jscc"]["psnr_db"] < clean["receivers"]["jscc"]["psnr_db"] - 0.5


def test_loopback_refuses_an_interferer_without_the_phy(tmp_path, capsys):
    assert main(["loopback", "--genie", "--sir-db", "5", "--out", str(tmp_path)]) == 2
    assert "needs the PHY" in capsys.readouterr().err
