"""The real pyadi-iio + libiio against the emulated Pluto (libiio's network protocol)."""

import os

import numpy as np
import pytest

from diffair.dsp.errors import ConfigError, RadioError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.receiver import OfdmReceiver
from diffair.radio.channel import ChannelConfig
from diffair.radio.pluto import PlutoConfig, PlutoRadio
from diffair.radio.pluto_emulator import PlutoEmulator
from diffair.testbed.session import frame_bursts
from tests.conftest import complex_gaussian

try:
    import adi  # noqa: F401  (needs libiio0 and pylibiio<1)
    WHY = ""
except (ImportError, OSError, AttributeError) as err:  # AttributeError: pylibiio without a matching libiio
    WHY = f"pyadi-iio unavailable (apt-get install libiio0): {err}"
needs_adi = pytest.mark.skipif(bool(WHY), reason=WHY or "ok")


def _channel(fmt, snr_db=15.0, cfo_hz=20e3):
    """The emulator's air for frames sent at -12 dB RMS and scaled by 2^14 / 2^15."""
    power = (10 ** (-fmt.backoff_db / 20) * PlutoConfig().tx_peak / 32768) ** 2
    return ChannelConfig(snr_db=snr_db, signal_power=power, bandwidth_fraction=fmt.bandwidth_fraction,
                         cfo_hz=cfo_hz, sro_ppm=10)


@needs_adi
def test_frames_decode_through_the_emulated_pluto():
    fmt = FrameFormat()
    symbols = complex_gaussian(np.random.default_rng(3), 100 * fmt.payload_capacity)
    with PlutoEmulator(port=0, channel=_channel(fmt), seed=1) as emu:
        tx = PlutoRadio(PlutoConfig(uri=emu.uri, buffer_size=16384)).open()
        rx = PlutoRadio(PlutoConfig(uri=emu.uri, buffer_size=16384)).open()
        receiver, frames = OfdmReceiver(fmt), []
        for burst in frame_bursts(symbols, 1, fmt, gap_samples=500):
            tx.send(burst)
            frames += receiver.process(rx.receive(len(burst)))
        frames += receiver.process(rx.receive(3 * fmt.frame_len)) + receiver.flush()
        tx.close()
        rx.close()
    assert len({f.header.frame_index for f in frames}) >= 99
    assert np.mean([f.cfo_hz for f in frames]) == pytest.approx(20e3, abs=200)


@needs_adi
def test_settings_are_written_and_read_back():
    with PlutoEmulator(port=0) as emu:
        radio = PlutoRadio(PlutoConfig(uri=emu.uri, lo_hz=915e6, sample_rate_hz=2e6, rx_gain_db=50,
                                       tx_attenuation_db=-20.25, buffer_size=4096)).open()
        assert radio.sdr.rx_lo == radio.sdr.tx_lo == 915_000_000
        assert radio.sdr.sample_rate == 2_000_000
        assert radio.sdr.rx_hardwaregain_chan0 == 50
        assert radio.sdr.tx_hardwaregain_chan0 == -20.25
        with pytest.raises(OSError):  # the emulator refuses what the AD9363 cannot do
            radio.sdr.rx_lo = int(100e6)
        radio.close()


@needs_adi
def test_cyclic_buffers_repeat():
    with PlutoEmulator(port=0) as emu:
        radio = PlutoRadio(PlutoConfig(uri=emu.uri, cyclic=True, buffer_size=1000)).open()
        ramp = (np.exp(2j * np.pi * np.arange(500) / 500) * 0.5).astype(np.complex64)
        radio.send(ramp)
        got = radio.receive(1500)
        np.testing.assert_allclose(got[:500], got[500:1000], atol=2 / 2048)
        np.testing.assert_allclose(np.abs(got), 0.5 * 2 ** 14 / 32768, atol=2 / 2048)
        radio.close()


@needs_adi
def test_no_device_says_how_to_connect_one():
    with pytest.raises(RadioError, match="pluto-emulator"):
        PlutoRadio(PlutoConfig(uri="ip:127.0.0.1:9")).open()


@needs_adi
def test_a_pluto_that_stops_answering_ends_with_a_clear_error():
    emu = PlutoEmulator(port=0).start()
    radio = PlutoRadio(PlutoConfig(uri=emu.uri, buffer_size=1024, timeout_s=1.0)).open()
    radio.receive(1024)
    emu.shutdown()
    emu.server_close()
    emu.state.lock.acquire()  # the connection thread can no longer answer
    with pytest.raises(RadioError, match="stopped answering"):
        radio.receive(10 * 1024)
    emu.state.lock.release()


def test_out_of_range_settings_are_refused_before_any_device_is_touched():
    for field, value in [("lo_hz", 6e9), ("sample_rate_hz", 100e3), ("rx_gain_db", 80), ("tx_attenuation_db", -0.1),
                         ("gain_mode", "agc"), ("buffer_size", 1)]:
        with pytest.raises(ConfigError, match=field):
            PlutoConfig(**{field: value})


def test_uri_comes_from_flag_then_environment(monkeypatch):
    monkeypatch.setenv("DIFFAIR_PLUTO_URI", "ip:10.0.0.2")
    assert PlutoConfig().resolved_uri() == "ip:10.0.0.2"
    assert PlutoConfig(uri="usb:1.2.5").resolved_uri() == "usb:1.2.5"


@pytest.mark.hardware
@pytest.mark.skipif(not os.environ.get("DIFFAIR_PLUTO_URI"), reason="no real PlutoSDR: set DIFFAIR_PLUTO_URI")
def test_real_pluto_digital_loopback():
    radio = PlutoRadio(PlutoConfig(buffer_size=8192)).open()
    radio.sdr.loopback = 1
    tone = (0.5 * np.exp(2j * np.pi * 0.01 * np.arange(8192))).astype(np.complex64)
    radio.send(tone)
    got = radio.receive(8192)
    radio.sdr.loopback = 0
    radio.close()
    assert np.abs(got).max() > 0.05


@needs_adi
def test_retune_flushes_stale_buffers():
    with PlutoEmulator(port=0, realtime=False) as emu:
        radio = PlutoRadio(PlutoConfig(uri=emu.uri, buffer_size=2048, cyclic=True)).open()
        radio.send(np.full(2048, 0.5, np.complex64))
        assert np.abs(radio.receive(100)).mean() > 0.2
        radio.sdr.tx_destroy_buffer()  # stop transmitting, as a retune elsewhere would
        radio.tune(915e6)
        assert radio.sdr.rx_lo == 915_000_000
        assert np.abs(radio.receive(4096)).max() < 0.05  # only the air's noise, nothing stale
        with pytest.raises(ConfigError, match="lo_hz"):
            radio.tune(50e6)
        radio.close()


@needs_adi
@pytest.mark.parametrize("peer", ["closes", "answers garbage", "says nothing"])
def test_a_peer_that_is_not_a_pluto_ends_in_one_line_not_a_crash(peer, tmp_path):
    """``rx --radio pluto`` against a TCP peer that is no Pluto, in a child process (a crash in
    libiio would show as a signal there): exit 1 with the one-line how-to within 30 s."""
    import socket
    import subprocess
    import sys
    import threading
    from pathlib import Path

    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if peer == "closes":
                conn.close()
            elif peer == "answers garbage":
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 8 + b"99999999\n<xml" * 8)
                conn.close()
            else:
                held.append(conn)  # accepted, never answered

    threading.Thread(target=serve, daemon=True).start()
    diffair = Path(sys.executable).parent / "diffair"
    try:
        done = subprocess.run([str(diffair), "rx", "--radio", "pluto", "--uri", f"ip:127.0.0.1:{server.getsockname()[1]}",
                               "--idle-timeout-s", "2"], capture_output=True, text=True, timeout=30)
    finally:
        server.close()
        for conn in held:
            conn.close()
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    lines = [line for line in done.stderr.splitlines() if line.startswith("diffair")]
    assert len(lines) == 1 and "no PlutoSDR answered" in lines[0] and "pluto-emulator" in lines[0]
    assert "Traceback" not in done.stderr


@needs_adi
def test_a_transmitter_is_paced_at_the_sample_rate_and_unread_air_is_bounded(monkeypatch):
    """A push returns at the sample rate, as a Pluto's TX DMA does (a fast `tx` used to pile its
    samples up in the emulator's memory), and what no receiver reads is dropped, oldest first."""
    import time

    from diffair.radio import pluto_emulator

    monkeypatch.setattr(pluto_emulator, "MAX_AIR_SAMPLES", 300_000)
    with PlutoEmulator(port=0, channel=ChannelConfig(snr_db=30.0)) as emu:
        radio = PlutoRadio(PlutoConfig(uri=emu.uri, sample_rate_hz=1e6, buffer_size=4096)).open()
        started = time.monotonic()
        for _ in range(10):
            radio.send(np.full(100_000, 0.1, np.complex64))  # 1 s of air in all
        elapsed = time.monotonic() - started
        radio.close()
        queued = sum(len(q) for q in emu.state.rx_queue)
    assert 0.85 <= elapsed <= 3.0
    assert queued <= 300_000 and emu.state.samples_dropped >= 700_000


def test_stream_clock_paces_at_the_rate_and_restarts_after_a_pause():
    from diffair.radio.pluto_emulator import StreamClock

    clock = StreamClock()
    assert clock.wait(500_000, 1e6) == pytest.approx(0.5, abs=0.01)
    assert clock.wait(500_000, 1e6) == pytest.approx(1.0, abs=0.01)
    clock._due -= 5.0  # as if the client had paused for seconds
    assert clock.wait(100, 1e6) == pytest.approx(1e-4, abs=0.01)
