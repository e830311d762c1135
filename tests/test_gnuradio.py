"""diffair through a real GNU Radio 3.10 flowgraph (its own process, system Python):
zeromq pull_source -> channels.channel_model -> zeromq push_sink."""

import resource
import threading

import numpy as np
import pytest

from diffair.dsp.frame import FrameFormat
from diffair.dsp.receiver import OfdmReceiver
from diffair.radio.gnuradio import Flowgraph, gnuradio_available
from diffair.radio.zmq_radio import ZmqConfig, ZmqRadio
from diffair.testbed.session import frame_bursts, receive_frames
from tests.conftest import complex_gaussian

AVAILABLE, WHY = gnuradio_available()
pytestmark = [pytest.mark.gnuradio, pytest.mark.skipif(not AVAILABLE, reason=WHY)]


def _noise_voltage(fmt: FrameFormat, snr_db: float) -> float:
    """channel_model's noise std per complex sample for an in-band SNR."""
    return float(np.sqrt(10 ** (-fmt.backoff_db / 10) / (10 ** (snr_db / 10) * fmt.bandwidth_fraction)))


def _through_flowgraph(frames: int, snr_db: float, port: int, extra=(), pass_tags=False, on_frames=None):
    fmt = FrameFormat()
    symbols = complex_gaussian(np.random.default_rng(port), frames * fmt.payload_capacity)
    args = ["--noise-voltage", str(_noise_voltage(fmt, snr_db)), "--in-address", f"tcp://127.0.0.1:{port}",
            "--out-address", f"tcp://127.0.0.1:{port + 1}", *extra] + (["--pass-tags"] if pass_tags else [])
    with Flowgraph("zmq_channel.py", *args):
        tx = ZmqRadio(ZmqConfig(rx_address=None, tx_address=f"tcp://127.0.0.1:{port}", timeout_s=20,
                                pass_tags=pass_tags)).open()
        rx = ZmqRadio(ZmqConfig(rx_address=f"tcp://127.0.0.1:{port + 1}", tx_address=None,
                                pass_tags=pass_tags)).open()
        errors = []

        def send():
            try:
                for burst in frame_bursts(symbols, 1, fmt, gap_samples=400):
                    tx.send(burst)
                tx.send(np.zeros(4 * fmt.frame_len, np.complex64))
            except Exception as err:  # reported by the assertion below
                errors.append(err)

        sender = threading.Thread(target=send)
        sender.start()
        receiver = OfdmReceiver(fmt)
        decoded = receive_frames(rx, receiver, idle_timeout_s=3.0, on_frames=on_frames)
        sender.join()
        tx.close()
        rx.close()
    assert not errors, errors
    return decoded, receiver, rx


def test_frames_decode_through_gnu_radio_channel_model():
    decoded, receiver, _ = _through_flowgraph(200, 15.0, 6300, ["--frequency-offset", "0.02"])
    assert len({f.header.frame_index for f in decoded}) >= 198  # >= 99 %
    assert np.mean([f.cfo_hz for f in decoded]) == pytest.approx(20e3, abs=200)
    assert np.mean([f.snr_db for f in decoded]) == pytest.approx(15.0, abs=1.0)


def test_tags_pass_through_gnu_radio():
    decoded, _, rx = _through_flowgraph(20, 20.0, 6310, ["--frequency-offset", "-0.01"], pass_tags=True)
    assert len(decoded) == 20
    bursts = [t for t in rx.stats.tags if t.key == "burst_start"]
    assert len(bursts) == 21 and rx.stats.bad_header_drops == 0


def test_soak_2000_frames_no_loss_no_memory_growth():
    rss = []

    def watch(frames):
        rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    decoded, receiver, rx = _through_flowgraph(2000, 20.0, 6320, ["--frequency-offset", "0.005"],
                                               on_frames=watch)
    assert sorted(f.header.frame_index for f in decoded) == list(range(2000))
    assert receiver.stats.header_failures <= 50  # spurious detections rejected by the CRC, < 2.5 %
    # peak RSS (KiB) after the first quarter vs at the end: bounded buffers, no growth
    assert rss[-1] - rss[len(rss) // 4] < 30_000


def test_gr_iio_pluto_source_reads_from_the_emulator():
    import subprocess

    from diffair.radio.channel import ChannelConfig
    from diffair.radio.gnuradio import FLOWGRAPHS, SYSTEM_PYTHON
    from diffair.radio.pluto_emulator import PlutoEmulator

    with PlutoEmulator(port=0, channel=ChannelConfig(snr_db=0.0, signal_power=0.01)) as emu:
        run = subprocess.run([SYSTEM_PYTHON, str(FLOWGRAPHS / "pluto_source_check.py"), emu.uri, "16384"],
                             capture_output=True, text=True, timeout=60)
        assert emu.state.values[("iio:device0", "out", "altvoltage0", "frequency")] == "2400000000"
        assert emu.state.values[("iio:device0", "in", "voltage0", "sampling_frequency")] == "1000000"
    words = run.stdout.split()
    assert words[0] == "samples", run.stderr[-500:]
    # gr-iio scales the 12-bit words by 1/2048, as diffair does: noise of 0.01 power, |x| < 1
    assert int(words[1]) >= 16384 and 0.05 < float(words[3]) < 1.0


def test_gr_iio_streams_from_the_emulator_for_ten_seconds_at_2_msps():
    """GNU Radio's own fmcomms2 source reads 20 M samples (10 s at 2 MS/s; it used to abort after
    about 2 s on the overflow register the emulator did not serve) and finds a tone sent at
    +100 kHz at its frequency plus the emulator's 50 kHz carrier offset."""
    import subprocess

    from diffair.radio.channel import ChannelConfig
    from diffair.radio.gnuradio import FLOWGRAPHS, SYSTEM_PYTHON
    from diffair.radio.pluto_emulator import TX_FULL_SCALE, PlutoEmulator

    rate, count = 2_000_000, 20_000  # 1,000 periods of 100 kHz in the cyclic buffer
    tone = 0.1 * np.exp(2j * np.pi * 100e3 * np.arange(count) / rate)
    words = np.empty(2 * count, "<i2")
    words[0::2], words[1::2] = np.round(tone.real * TX_FULL_SCALE), np.round(tone.imag * TX_FULL_SCALE)
    with PlutoEmulator(port=0, channel=ChannelConfig(snr_db=30.0, signal_power=0.01, cfo_hz=50e3)) as emu:
        emu.state.transmit(words.tobytes(), cyclic=True)
        run = subprocess.run([SYSTEM_PYTHON, str(FLOWGRAPHS / "pluto_source_check.py"), emu.uri, str(10 * rate),
                              str(rate)], capture_output=True, text=True, timeout=120)
    report = dict(zip(run.stdout.split()[0::2], run.stdout.split()[1::2]))
    assert "samples" in report, run.stderr[-800:]
    assert int(report["samples"]) >= 10 * rate and float(report["seconds"]) >= 9.0
    assert abs(float(report["tone_hz"]) - 150e3) < 100  # FFT bins of 30 Hz
