"""The command line under bad input: a battery of plainly invalid lines and a seeded fuzzer.
Each invalid value ends in exit status 2 and one line naming it; nothing ends in a traceback or
an internal error; runtime failures end in status 1 with one line."""

import json
import random

import numpy as np
import pytest

from diffair.testbed.cli import build_parser, main

BATTERY = [
    (["sweep", "--data", ".", "--limit", "-1"], "'-1'"),
    (["sweep", "--data", ".", "--limit", "0"], "'0'"),
    (["sweep", "--data", ".", "--snr-db", "nan"], "'nan'"),
    (["sweep", "--data", ".", "--snr-db", "a,b"], "'a,b'"),
    (["sweep", "--data", "missing.npz"], "missing.npz"),
    (["link", "--frames", "0"], "'0'"),
    (["link", "--frames", "-3"], "'-3'"),
    (["link", "--frames", "70000"], "'70000'"),
    (["link", "--snr-db", "nan"], "'nan'"),
    (["link", "--snr-db", "inf"], "'inf'"),
    (["link", "--snr-db", "1e9"], "'1e9'"),
    (["link", "--cfo-hz=-inf"], "'-inf'"),
    (["link", "--sro-ppm", "abc"], "'abc'"),
    (["link", "--seed", "-1"], "'-1'"),
    (["rx", "--radio", "sigmf", "--sample-rate-hz", "0"], "'0'"),
    (["rx", "--radio", "sigmf", "--idle-timeout-s", "-2"], "'-2'"),
    (["rx", "--radio", "zmq", "--monitor", "x"], "'x'"),
    (["rx", "--radio", "zmq", "--monitor", "70000"], "70000"),
    (["rx", "--radio", "zmq", "--backend", "tflite"], "tflite"),
    (["tx", "--radio", "loopback", "--repeat", "-2"], "'-2'"),
    (["tx", "--radio", "loopback", "--gap-samples", "-1"], "'-1'"),
    (["loopback", "--receivers", ""], "''"),
    (["loopback", "--receivers", ",,"], "',,'"),
    (["loopback", "--receivers", "nonesuch"], "nonesuch"),
    (["loopback", "--steps", "0"], "0"),
    (["loopback", "--steps", "many"], "many"),
    (["train", "jscc", "--data", ".", "--name", "../escape"], "../escape"),
    (["train", "jscc", "--data", ".", "--epochs", "0"], "'0'"),
    (["train", "jscc", "--data", ".", "--lr", "-1"], "'-1'"),
    (["train", "jscc", "--data", ".", "--limit", "0"], "'0'"),
    (["train", "jscc", "--data", ".", "--checkpoint-every-s", "nan"], "'nan'"),
    (["train", "jscc", "--data", ".", "--device", "tpu"], "tpu"),
    (["sweep", "--data", ".", "--batch", "-3"], "'-3'"),
    (["receivers", "--weights", "a" * 300], "expected an existing folder"),
    (["loopback", "--image", "missing.png"], "missing.png"),
    (["export", "--receiver", "jscc,cddm"], "jscc,cddm"),
    (["export", "--side", "0"], "'0'"),
    (["profile", "--steps", "0"], "'0'"),
    (["profile", "--batch", ""], "''"),
    (["bench-rx", "--images", "0"], "'0'"),
    (["bench-rx", "--sample-rate-hz", "nan"], "'nan'"),
    (["pluto-emulator", "--port", "70000"], "'70000'"),
    (["nonesuch"], "nonesuch"),
    ([], "command"),
]


@pytest.mark.parametrize("argv, named", BATTERY, ids=[" ".join(a) or "(none)" for a, _ in BATTERY])
def test_invalid_lines_exit_2_with_one_line_naming_the_value(argv, named, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0] and "Traceback" not in err[0], err


def test_runtime_failures_exit_1_with_one_line(tmp_path, capsys):
    assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "missing.sigmf-meta")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no SigMF recording" in err[0]
    assert main(["rx", "--radio", "zmq", "--address", "tcp://127.0.0.1:1", "--idle-timeout-s", "0.5", "--json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no sample arrived" in err[0]
    (tmp_path / "bad.npz").write_bytes(b"not an archive")
    assert main(["sweep", "--data", str(tmp_path / "bad.npz"), "--genie", "--snr-db", "5"]) == 2  # a bad input file
    assert "cannot read image archive" in capsys.readouterr().err


def test_recordings_are_not_overwritten_without_force(tmp_path, capsys):
    argv = ["tx", "--radio", "loopback", "--record", str(tmp_path / "air"), "--frames", "1", "--json"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0


VALUES = ["", "-1", "0", "1", "2", "nan", "inf", "-inf", "1e400", "abc", "1,2,x", ",", "99999999999999999999", "-0.5",
          "3.5", "awgn", "jscc", "full", "🙂", "a" * 300, "--json"]
CHEAP = {"link", "receivers", "rx", "sweep", "train", "tx"}
"""Commands the fuzzer runs when a line parses (their inputs below make them end fast); the
others are only parsed: export, profile, loopback, bench-rx and bench-phy run for seconds to
minutes on valid values, pluto-emulator until stopped."""


def _base(command: str, tmp_path) -> list[str]:
    """A line that reaches the command's work fast: an empty recording, an archive without
    images, a recording target."""
    from diffair.radio.sigmf_io import SigmfRecorder

    if not (tmp_path / "empty.sigmf-meta").exists():
        SigmfRecorder(tmp_path / "empty", 1e6).close()
        np.savez(tmp_path / "labels.npz", y_test=np.zeros(3, np.int64))
    return {"rx": ["rx", "--radio", "sigmf", "--input", str(tmp_path / "empty.sigmf-meta"), "--idle-timeout-s", "0.2"],
            "tx": ["tx", "--radio", "loopback", "--record", str(tmp_path / "fuzz"), "--force"],
            "sweep": ["sweep", "--data", str(tmp_path / "labels.npz")],
            "train": ["train", "jscc", "--data", str(tmp_path / "labels.npz")]}.get(command, [command])


def test_fuzzed_command_lines_never_end_in_a_traceback(tmp_path, capsys):
    """250 seeded lines: every command, 1 to 3 of its flags with values from a hostile pool."""
    rng = random.Random(20261202)
    parser = build_parser()
    commands = {name: sub for action in parser._actions if hasattr(action, "choices") and isinstance(action.choices, dict)
                for name, sub in action.choices.items()}
    ran = refused = 0
    for case in range(250):
        command = rng.choice(sorted(commands))
        flags = [a for a in commands[command]._actions if a.option_strings and a.dest not in ("help",)]
        argv = _base(command, tmp_path)
        for action in rng.sample(flags, k=min(len(flags), rng.randint(1, 3))):
            argv.append(action.option_strings[-1])
            if action.nargs != 0:
                argv.append(rng.choice(VALUES))
        if command == "link":
            argv += ["--frames", "2"]  # valid lines stay short
        if command not in CHEAP:
            try:
                build_parser().parse_args(argv)
                continue  # valid: its work takes long; the battery and the other tests run these commands
            except SystemExit as done:
                code = done.code
        else:
            code = main(argv)
            ran += 1
        out = capsys.readouterr()
        assert code in (0, 1, 2), (argv, code)
        assert "Traceback" not in out.err and "internal error" not in out.err, (argv, out.err)
        if code == 2:
            refused += 1
            assert len(out.err.strip().splitlines()) == 1, (argv, out.err)
    assert ran > 80 and refused > 100, (ran, refused)


def test_a_config_file_with_a_wrong_type_is_refused(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("frames: many\n")
    assert main(["link", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "frames" in err and "'many'" in err


def test_nan_weights_are_refused(tmp_path):
    import torch

    from diffair.dsp.errors import ModelError
    from diffair.models.checkpoint import load_model, save_weights
    from diffair.models.jscc import DeepJSCC, JSCCConfig

    model = DeepJSCC(JSCCConfig(filters=8))
    with torch.no_grad():
        next(model.parameters())[0] = float("nan")
    save_weights(model, model.config, tmp_path, "broken")
    with pytest.raises(ModelError, match="NaN or infinite"):
        load_model(DeepJSCC, JSCCConfig, tmp_path, "broken")


@pytest.mark.parametrize("fft_size", [64, 128, 256])
def test_the_front_end_takes_buffers_of_every_length(fft_size):
    """216-219 samples at FFT 128 and 424-443 at FFT 256 used to raise in the detection window."""
    from diffair.dsp.frame import FrameFormat
    from diffair.dsp.receiver import OfdmReceiver

    rng = np.random.default_rng(fft_size)
    fmt = FrameFormat.for_fft(fft_size)
    for length in range(0, 5 * fft_size + 200):
        noise = ((rng.normal(size=length) + 1j * rng.normal(size=length)) / 100).astype(np.complex64)
        assert OfdmReceiver(fmt).process(noise) == []


def test_a_header_announcing_a_huge_payload_allocates_nothing():
    from diffair.dsp.frame import FrameFormat
    from diffair.dsp.header import FrameHeader
    from diffair.dsp.receiver import MAX_PAYLOAD_SYMBOLS, OfdmReceiver
    from diffair.dsp.transmitter import build_frame, scale_for_tx

    fmt = FrameFormat()
    huge = (1 << 24) - 1
    header = FrameHeader(1, 0, -(-huge // fmt.payload_capacity), huge, 0, 0)
    chunk = np.ones(fmt.payload_capacity, np.complex64)
    frame = scale_for_tx(build_frame(header, chunk, fmt), fmt)[0]
    receiver = OfdmReceiver(fmt)
    frames = receiver.process(np.concatenate([np.zeros(500, np.complex64), frame])) + receiver.flush()
    assert huge > MAX_PAYLOAD_SYMBOLS and frames == [] and receiver.stats.header_failures == 1
    json.dumps(receiver.stats.__dict__)  # the counters stay plain numbers


def test_a_taken_zmq_port_is_a_clear_error_not_a_hang(capsys):
    """tx binding an address another process holds used to hang in the ZMQ context's term()."""
    import time

    import zmq

    context = zmq.Context()
    holder = context.socket(zmq.PULL)
    holder.bind("tcp://127.0.0.1:6497")
    try:
        started = time.monotonic()
        assert main(["tx", "--radio", "zmq", "--address", "tcp://127.0.0.1:6497", "--frames", "1"]) == 1
        assert time.monotonic() - started < 15
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "Address already in use" in err[0] and "6497" in err[0]
    finally:
        holder.close(0)
        context.term()


def test_link_holds_bounded_air_over_a_long_run(monkeypatch):
    """`diffair link` used to push every frame onto the loopback air before receiving any."""
    from diffair.radio.loopback import LoopbackRadio
    from diffair.testbed import link

    peak = []
    send = LoopbackRadio.send

    def watched(self, iq):
        send(self, iq)
        peak.append(self.pending)

    monkeypatch.setattr(LoopbackRadio, "send", watched)
    summary = link.run_link(link.LinkOptions(frames=200, snr_db=20))
    assert summary["frames_header_ok"] == 200
    assert max(peak) < link.RECEIVE_CHUNK + 2 * 4528 + 20 * 64  # one chunk plus a frame and its gap, not 200 frames


def _iiod(port: int):
    """A raw libiio network-protocol client: (send a command line, read one reply line)."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    reader = sock.makefile("rb")

    def ask(line: str) -> str:
        sock.sendall(line.encode() + b"\n")
        return reader.readline().decode().strip()

    return sock, ask


def test_the_emulator_answers_malformed_commands_and_caps_with_errno():
    import errno

    from diffair.radio.pluto_emulator import PlutoEmulator

    with PlutoEmulator(port=0, realtime=False) as emu:
        sock, ask = _iiod(emu.server_address[1])
        other, ask_other = _iiod(emu.server_address[1])  # a second client at the same time
        try:
            assert ask("READBUF iio:device2 abc") == str(-errno.EINVAL)
            assert ask("OPEN iio:device2") == str(-errno.EINVAL)
            assert ask("NONSENSE 1 2 3") == str(-errno.EINVAL)
            assert ask("OPEN iio:device2 400000000 00000003") == str(-errno.ENOMEM)  # 400 M samples: refused
            assert ask("OPEN iio:device2 4096 00000003") == "0"
            assert ask("READBUF iio:device2 4000000000") == str(-errno.ENOMEM)
            assert ask_other("VERSION").startswith("0.")  # the other client is served meanwhile
        finally:
            sock.close()
            other.close()


def test_the_emulator_reads_the_register_gr_iio_polls_and_keeps_cfo_in_hz():
    from diffair.radio.channel import ChannelConfig
    from diffair.radio.pluto_emulator import PHY, RX_DEV, RX_FULL_SCALE, TX_FULL_SCALE, PlutoState

    state = PlutoState(ChannelConfig(snr_db=40.0, signal_power=0.01, cfo_hz=100e3))
    register = (RX_DEV, "debug", None, "direct_reg_access")
    assert state.write(register, "0x80000088") == len("0x80000088") and state.read(register) == "0x0"
    for rate in (1e6, 2e6, 4e6):
        assert state.write((PHY, "in", "voltage0", "sampling_frequency"), str(int(rate))) > 0
        tone = np.zeros(2 * 65536, "<i2")
        tone[0::2] = int(0.1 * TX_FULL_SCALE)  # a constant: a tone at the carrier
        state.transmit(tone.tobytes(), cyclic=False)
        words = np.frombuffer(state.receive(65536), "<i2").astype(np.float32) / RX_FULL_SCALE
        spectrum = np.abs(np.fft.fft(words[0::2] + 1j * words[1::2]))
        peak_hz = np.fft.fftfreq(65536, 1 / rate)[np.argmax(spectrum)]
        assert abs(peak_hz - 100e3) < 2 * rate / 65536, (rate, peak_hz)


def test_a_recording_cut_mid_sample_replays_up_to_its_last_whole_sample(tmp_path, capsys):
    assert main(["tx", "--radio", "loopback", "--record", str(tmp_path / "air"), "--frames", "4", "--seed", "2",
                 "--json"]) == 0
    capsys.readouterr()
    data = tmp_path / "air.sigmf-data"
    data.write_bytes(data.read_bytes()[:-(8 * 3000 + 3)])  # the tail of the last frame and 3 bytes of a sample
    with pytest.warns(UserWarning, match="not a whole sample"):
        assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "air.sigmf-meta"), "--frames", "4",
                     "--seed", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == (data.stat().st_size // 8) and report["frames_ok"] >= 3


class _FailingRadio:
    """A radio that fails on its first send or receive and records whether it was closed."""

    finite = False
    lost_samples = 0

    def __init__(self):
        self.closed = False

    def send(self, iq, *timeout):
        from diffair.dsp.errors import RadioError

        raise RadioError("the device went away")

    receive = send

    def close(self):
        self.closed = True


def test_radios_are_closed_when_tx_or_rx_fails(monkeypatch):
    from diffair.dsp.errors import RadioError
    from diffair.dsp.frame import FrameFormat
    from diffair.testbed import rxtx

    for run in (lambda: rxtx.run_tx(rxtx.RadioChoice("zmq"), FrameFormat(), 0, 2, 1, 100),
                lambda: rxtx.run_rx(rxtx.RadioChoice("zmq"), FrameFormat(), 0, 2, None, 1.0, progress=False)):
        radio = _FailingRadio()
        monkeypatch.setattr(rxtx, "open_radio", lambda *args, radio=radio: radio)
        with pytest.raises(RadioError, match="went away"):
            run()
        assert radio.closed
