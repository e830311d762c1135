"""The loss-aware receive pipeline: a recording replays without dropping a sample, a gap in a
live stream is counted and never decoded as a good frame, the report carries the timing and
loss counters, and ``diffair bench-rx`` measures the real-time factor."""

import json
import threading
import time

import numpy as np

from diffair.dsp.frame import FrameFormat
from diffair.dsp.receiver import OfdmReceiver
from diffair.radio.sigmf_io import SigmfRecorder
from diffair.radio.zmq_radio import ZmqConfig, ZmqRadio
from diffair.testbed.cli import main
from diffair.testbed.rxtx import RadioChoice, run_rx, run_tx
from diffair.testbed.session import frame_bursts
from tests.conftest import complex_gaussian

REPORT_KEYS = ("wall_s", "air_s", "realtime_factor", "frames_ok", "overflows", "gaps", "samples_lost",
               "frames_dropped_in_gaps", "frames_with_erasures", "queue_high_water", "decode_ms")


def test_a_recording_of_two_thousand_frames_replays_losslessly(tmp_path):
    """9 M samples read from disk far faster than the front end decodes them: the reader
    waits for the pipeline (the old ring dropped blocks here)."""
    fmt = FrameFormat()
    run_tx(RadioChoice("loopback"), fmt, seed=3, frames=20, repeat=100, gap_samples=200,
           record=tmp_path / "air", snr_db=25.0, cfo_hz=4e3)
    report = run_rx(RadioChoice("sigmf", path=tmp_path / "air.sigmf-meta"), fmt, seed=3, frames=20, duration_s=None,
                    idle_timeout_s=5.0, progress=False)
    assert set(REPORT_KEYS) <= set(report)
    assert report["frames_ok"] == 2000 and report["overflows"] == 0 and report["gaps"] == 0
    assert len(report["payloads"]) == 100 and all(p["complete"] for p in report["payloads"])
    assert all(p["evm_db"] < -20 for p in report["payloads"])
    assert report["air_s"] == report["samples"] / fmt.sample_rate_hz and report["realtime_factor"] > 0
    assert report["queue_high_water"]["ring_blocks"] <= 64


def test_a_gap_inside_a_frame_drops_that_frame_only():
    fmt = FrameFormat()
    symbols = complex_gaussian(np.random.default_rng(1), 3 * fmt.payload_capacity)
    stream = np.concatenate(list(frame_bursts(symbols, 1, fmt, 500)))
    frame = len(stream) // 3
    cut = frame + 500 + fmt.frame_len // 2  # the middle of the second frame
    receiver = OfdmReceiver(fmt)
    got = receiver.process(stream[:cut]) + receiver.gap(1500) + receiver.process(stream[cut + 1500:])
    got += receiver.flush()
    assert [f.header.frame_index for f in got] == [0, 2]
    assert receiver.stats.gaps == 1 and receiver.stats.samples_lost == 1500
    assert receiver.stats.frames_dropped_in_gaps == 1 and receiver.stats.frames_ok == 2
    assert got[1].start == 2 * frame + 500  # positions stay absolute across the loss


def _dropping_proxy(source: str, sink: str, drop: int, stop: threading.Event) -> threading.Thread:
    """Forwards ZMQ messages from ``source`` to ``sink``, dropping message number ``drop``."""
    import zmq

    def run():
        ctx = zmq.Context()
        pull, push = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH)
        pull.connect(source)
        push.bind(sink)
        count = 0
        while not stop.is_set():
            if pull.poll(100):
                message = pull.recv()
                if count != drop:
                    push.send(message)
                count += 1
        pull.close(0)
        push.close(0)
        ctx.term()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_gap_on_the_zmq_wire_is_counted_and_no_spliced_frame_is_good():
    """tx sends 100 frames in 2,000-sample messages with GNU Radio's tag header; a proxy drops
    one message from the middle of frame 50. Without the sample counter the frame's preamble
    and header would be decoded with another frame's samples as its data."""
    fmt = FrameFormat()
    stop = threading.Event()
    proxy = _dropping_proxy("tcp://127.0.0.1:6411", "tcp://127.0.0.1:6412", drop=3 * 50 + 1, stop=stop)
    result = {}

    def receive():
        result["report"] = run_rx(RadioChoice("zmq", address="tcp://127.0.0.1:6412", zmq_tags=True), fmt, seed=8,
                                  frames=20, duration_s=None, idle_timeout_s=2.0, progress=False)

    rx = threading.Thread(target=receive)
    rx.start()
    time.sleep(0.3)
    symbols = complex_gaussian(np.random.default_rng(8), 20 * fmt.payload_capacity)
    with ZmqRadio(ZmqConfig(tx_address="tcp://127.0.0.1:6411", rx_address=None, pass_tags=True,
                            message_samples=2000, timeout_s=5)) as tx:
        for payload in range(1, 6):
            for burst in frame_bursts(symbols, payload, fmt, 1000):
                tx.send(burst)
        tx.send(np.zeros(4 * fmt.frame_len, np.complex64))
    rx.join(timeout=60)
    stop.set()
    proxy.join(timeout=5)
    report = result["report"]
    assert report["gaps"] == 1 and report["samples_lost"] == 2000
    assert report["frames_dropped_in_gaps"] == 1 and report["frames_ok"] == 99
    assert report["payloads_with_erasures"] == 1
    for payload in report["payloads"]:
        assert payload["evm_db"] < -30, payload  # noiseless wire: a spliced frame would show here
    received = {p["payload_id"]: p["frames_received"] for p in report["payloads"]}
    assert received == {1: 20, 2: 20, 3: 19, 4: 20, 5: 20}  # the incomplete payload comes last, at the flush


def test_rx_that_receives_nothing_exits_non_zero_with_the_reason(tmp_path, capsys):
    SigmfRecorder(tmp_path / "empty", 1e6).close()
    assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "empty.sigmf-meta"), "--json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no sample arrived" in err[0] and "holds no samples" in err[0]


def test_bench_rx_reports_a_realtime_factor_per_receiver(tmp_path, capsys):
    assert main(["bench-rx", "--receivers", "jscc,djscc", "--backend", "ort", "--images", "2", "--image-side", "32",
                 "--json", "--out", str(tmp_path / "bench.json")]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["sample_rate_hz"] == 1e6 and [r["receiver"] for r in record["results"]] == ["jscc", "djscc"]
    for r in record["results"]:
        for key in ("receiver", "backend", "steps", "air_s", "wall_s", "realtime_factor", "frontend_msps",
                    "images_per_s", "latency_p50_ms", "latency_p99_ms"):
            assert key in r, key
        assert r["realtime_factor"] > 0 and r["images"] == 2 and r["backend"] == "ort"
    assert json.loads((tmp_path / "bench.json").read_text())["results"][0]["receiver"] == "jscc"


def test_incomplete_payloads_are_handed_out_instead_of_piling_up():
    """A payload that lost frames in a gap never completes; a live run evicts the oldest."""
    from diffair.dsp.packetizer import Reassembler

    fmt = FrameFormat()
    symbols = complex_gaussian(np.random.default_rng(4), 2 * fmt.payload_capacity)
    receiver, reassembler = OfdmReceiver(fmt), Reassembler(fmt, max_pending=2)
    evicted = []
    for payload in range(1, 6):  # only the first frame of each payload arrives
        first = next(iter(frame_bursts(symbols, payload, fmt, 300)))
        for frame in receiver.process(np.concatenate([first, np.zeros(fmt.frame_len, np.complex64)])):
            assert reassembler.add(frame) is None
        evicted += reassembler.evict()
    assert [p.payload_id for p in evicted] == [1, 2, 3]
    assert all(p.frames_received == 1 and p.erased.sum() == fmt.payload_capacity for p in evicted)
    assert [p.payload_id for p in reassembler.flush()] == [4, 5]
