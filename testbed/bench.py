"""``diffair bench-phy``: throughput of the receive front end (detection through equalization).

A stream of back-to-back frames (short random gaps, 20 dB, CFO, SRO) is generated first;
then only ``OfdmReceiver.process`` is timed, chunk by chunk, as a radio would feed it. Run
it pinned to one core (``taskset -c 0``) for the single-core figure.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

from diffair.dsp.frame import FrameFormat
from diffair.dsp.packetizer import packetize
from diffair.dsp.receiver import OfdmReceiver
from diffair.dsp.transmitter import build_frame, scale_for_tx
from diffair.dsp.units import complex_gaussian
from diffair.models.provenance import provenance
from diffair.radio.loopback import LoopbackRadio
from diffair.testbed.session import channel_for


def make_stream(fmt: FrameFormat, frames: int, seed: int = 0) -> np.ndarray:
    """Back-to-back frames (gaps of N..5N samples) at 20 dB with 10 kHz CFO and 20 ppm SRO."""
    rng = np.random.default_rng(seed)
    count = frames * fmt.payload_capacity
    symbols = complex_gaussian(rng, count)
    channel = channel_for(fmt, 20.0, cfo_hz=10e3, sro_ppm=20.0, gap_samples=(fmt.fft_size, 5 * fmt.fft_size))
    with LoopbackRadio(channel, seed=seed) as radio:
        for header, chunk in packetize(symbols, 1, fmt):
            radio.send(scale_for_tx(build_frame(header, chunk, fmt), fmt)[0])
        return radio.receive(radio.pending + fmt.frame_len)


def bench_phy(fft_sizes=(64, 128, 256), frames: int = 400, chunk: int = 1 << 18, repeats: int = 5) -> dict:
    """Best and median throughput per FFT size; returns a JSON-ready record."""
    results = []
    for fft_size in fft_sizes:
        fmt = FrameFormat.for_fft(fft_size)
        stream = make_stream(fmt, frames)
        OfdmReceiver(fmt).process(stream[:chunk])  # warm-up: caches, FFT plans
        times, decoded = [], 0
        for _ in range(repeats):
            receiver = OfdmReceiver(fmt)
            started = time.perf_counter()
            for pos in range(0, len(stream), chunk):
                receiver.process(stream[pos:pos + chunk])
            times.append(time.perf_counter() - started)
            decoded = receiver.stats.frames_ok
        results.append({
            "fft_size": fft_size, "samples": len(stream), "frames": frames, "frames_decoded": decoded,
            "chunk_samples": chunk, "msps_best": len(stream) / min(times) / 1e6,
            "msps_median": len(stream) / float(np.median(times)) / 1e6,
            "frames_per_s_median": decoded / float(np.median(times)),
        })
    return {
        "benchmark": "receive front end, detection through equalization",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores_allowed": len(os.sched_getaffinity(0)),
                    "python": platform.python_version(), "numpy": np.__version__},
        "results": results,
        "provenance": provenance(0),  # the stream of make_stream(seed=0); no weights, no data read
    }


def write_bench(record: dict, out: Path) -> None:
    import json

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
