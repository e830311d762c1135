"""ICDM's interferer over the PHY: sounding symbols in the frame, the frame-synchronous
transmitter (radio.interferer.SynchronousInterferer), the receiver's estimate of its channel,
and `diffair loopback --sir-db` with the ICDM receivers."""

import json

import numpy as np
import pytest
from scipy import fft

from diffair.dsp.errors import ConfigError, SignalError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.units import complex_gaussian
from diffair.dsp.header import FrameHeader
from diffair.dsp.packetizer import Reassembler
from diffair.dsp.receiver import OfdmReceiver
from diffair.dsp.transmitter import build_frame, build_sounding_frame
from diffair.models.registry import WEIGHTS_DIR
from diffair.radio.channel import ChannelConfig
from diffair.radio.interferer import SynchronousInterferer
from diffair.radio.loopback import LoopbackRadio
from diffair.testbed.cli import main
from diffair.testbed.session import frame_bursts, sounding_bursts

FMT = FrameFormat(sounding_symbols=2)
ICDM = WEIGHTS_DIR / "icdm_prior_vehicles.safetensors"


def _symbols(count: int, seed: int) -> np.ndarray:
    return complex_gaussian(np.random.default_rng(seed), count)


def _symbol_spectra(frame: np.ndarray) -> np.ndarray:
    """The frame's header, sounding and data symbols as spectra ``[symbols, N]``."""
    body = frame[FMT.first_symbol_start:].reshape(FMT.symbols_per_frame, FMT.symbol_len)[:, FMT.cp_len:]
    return fft.fft(body, axis=1)


def test_the_two_transmitters_share_the_grid_without_overlapping_where_it_matters():
    """The wanted frame leaves the sounding symbols' data carriers empty; the interferer is
    silent in the preamble, the header and on the pilots, and sounds every data carrier."""
    payload = _symbols(FMT.payload_capacity, 0)
    wanted = build_frame(FrameHeader(1, 0, 1, len(payload)), payload, FMT)
    other = build_sounding_frame(_symbols(FMT.payload_capacity, 1), FMT)
    assert len(wanted) == len(other) == FMT.frame_len
    assert not np.any(other[:FMT.first_symbol_start])
    data, pilots = FMT.bins(FMT.data_carriers), FMT.bins(FMT.pilot_carriers)
    sounding = FMT.sounding_indices
    assert list(sounding) == [FMT.header_symbols, FMT.symbols_per_frame - 1]  # one before, one after the data
    w, o = _symbol_spectra(wanted), _symbol_spectra(other)
    assert np.max(np.abs(w[sounding][:, data])) < 1e-4 and np.min(np.abs(w[sounding][:, pilots])) > 0.1
    assert np.max(np.abs(o[:FMT.header_symbols])) < 1e-4 and np.max(np.abs(o[:, pilots])) < 1e-4
    assert np.min(np.abs(o[sounding][:, data])) > 0.1


def test_sounding_needs_a_format_with_sounding_symbols():
    with pytest.raises(SignalError, match="sounding_symbols = 0"):
        build_sounding_frame(_symbols(10, 0), FrameFormat())
    with pytest.raises(ConfigError, match="sounding_symbols"):
        FrameFormat(sounding_symbols=5)


def test_synchronous_interferer_refuses_bad_settings():
    with pytest.raises(ConfigError, match="sir_db"):
        SynchronousInterferer([np.zeros(10, np.complex64)], ChannelConfig(), sir_db=-40.0)
    with pytest.raises(ConfigError, match="no bursts"):
        SynchronousInterferer([], ChannelConfig(), sir_db=0.0)


@pytest.mark.parametrize("fading, sir_db, offset_hz, sounding", [
    ("none", 0.0, 0.0, 2), ("none", 6.0, 0.0, 2), ("rayleigh", 0.0, 0.0, 2), ("rayleigh", 0.0, 90.0, 2),
    ("none", 0.0, 1000.0, 3)])
def test_phy_estimates_the_interferers_coefficient(fading, sir_db, offset_hz, sounding):
    """20 frames at 20 dB SNR, 30 kHz CFO, random timing, each transmitter with its own fading,
    the interferer ``offset_hz`` off the wanted transmitter's carrier (a phase turn of up to
    1.4 rad over a frame at 90 Hz, which the sounding before and after the data follows; 1 kHz
    needs a third sounding symbol): y = W_x x + W_z z + w holds with the estimated W_x, W_z, the
    residual's power within 25 % of the reported noise variance; without fading the SIR
    estimate is within 0.5 dB."""
    fmt = FrameFormat(sounding_symbols=sounding)
    signal_power = 10 ** (-fmt.backoff_db / 10)
    channel = ChannelConfig(snr_db=20.0, signal_power=signal_power, bandwidth_fraction=fmt.bandwidth_fraction,
                            fading=fading, rms_delay_samples=2, max_delay_samples=8, cfo_hz=30e3,
                            gap_samples=(64, 640))
    x, z = _symbols(20 * fmt.payload_capacity, 0), _symbols(20 * fmt.payload_capacity, 1)
    path = ChannelConfig(fading=fading, rms_delay_samples=2, max_delay_samples=8)
    interferer = SynchronousInterferer(sounding_bursts(z, fmt), path, sir_db, offset_hz, seed=3)
    with LoopbackRadio(channel, seed=2, interferer=interferer) as radio:
        for burst in frame_bursts(x, 7, fmt, 0):
            radio.send(burst)
        stream = radio.receive(radio.pending + 2 * fmt.frame_len)
    receiver, reassembler = OfdmReceiver(fmt), Reassembler(fmt)
    payload = [p for f in receiver.process(stream) + receiver.flush() if (p := reassembler.add(f))][0]
    assert payload.frames_received == 20
    residual = payload.y - payload.gain * x - payload.cross * z
    ratio = np.mean(np.abs(residual) ** 2) / np.mean(payload.noise_var)
    assert 0.8 < ratio < 1.25
    ignoring = np.mean(np.abs(payload.y - payload.gain * x) ** 2) / np.mean(payload.noise_var)
    assert ignoring > 10 * ratio  # the interference is there, and it is what W_z z explains
    if fading == "none":
        assert abs(payload.sir_db - sir_db) < 0.5
        assert abs(payload.snr_db - 20.0) < 0.5  # the LTF sees no interference


@pytest.mark.skipif(not ICDM.exists(), reason=f"trained ICDM priors not found at {ICDM}")
def test_loopback_runs_icdm_through_the_phy(tmp_path, capsys):
    """The built-in photograph against the built-in interferer image at SIR 0 dB, 20 dB SNR,
    Rayleigh: frames all decoded, the SINR estimate within 1.5 dB (two block-faded frames),
    ICDM's latent MSE 3 dB below LMMSE's and its PSNR 2 dB above the MMSE-only receiver's."""
    assert main(["loopback", "--snr-db", "20", "--channel", "rayleigh", "--sir-db", "0", "--steps", "20",
                 "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["interferer"] == "sync" and summary["frames_ok"] == summary["frames_sent"]
    assert abs(summary["sinr_db_est"] - summary["sinr_db_true"]) < 1.5
    r = summary["receivers"]
    assert set(r) == {"jscc", "lmmse", "jscc-interf", "icdm"}
    assert r["icdm"]["latent_mse_db"] < r["lmmse"]["latent_mse_db"] - 3.0
    assert r["icdm"]["psnr_db"] > r["jscc"]["psnr_db"] + 2.0


@pytest.mark.skipif(not ICDM.exists(), reason=f"trained ICDM priors not found at {ICDM}")
def test_loopback_reports_icdm_outside_its_validated_sinr(tmp_path, capsys):
    """At SIR -12 dB the estimated SINR is far below ICDM's validated -5 dB: it still decodes,
    and the report and the table carry the warning."""
    assert main(["loopback", "--snr-db", "20", "--sir-db", "-12", "--receivers", "icdm", "--steps", "20",
                 "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sinr_db_est"] < -10
    assert "outside the validated range" in summary["receivers"]["icdm"]["warnings"][0]
    assert main(["loopback", "--snr-db", "20", "--sir-db", "-12", "--receivers", "icdm", "--steps", "20",
                 "--out", str(tmp_path)]) == 0
    assert "warning, icdm: ICDM at SINR" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--sir-db", "0", "--receivers", "icdm", "--interferer", "async"], "only a synchronous interferer"),
    (["--interferer", "sync"], "without --sir-db"),
    (["--sir-db", "0", "--receivers", "cddm", "--interferer", "sync"], "does not take part"),
])
def test_loopback_refuses_contradictory_interferer_options(tmp_path, capsys, args, message):
    assert main(["loopback", "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
