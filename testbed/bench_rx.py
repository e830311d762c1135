"""``diffair bench-rx``: which receivers keep up with the air.

A fixed, seeded workload — ``images`` copies of a photograph, each one payload of its
transmitter's symbols, through the loopback PHY and channel (AWGN 20 dB, 10 kHz CFO) at
``sample_rate_hz`` — is held in memory and replayed through the whole receive pipeline
(testbed.pipeline: reader, front end, decoder) as fast as it goes, once per receiver and
backend. Real-time factor = air seconds / wall seconds; the front end's rate is its samples
over its own busy time inside the pipeline; latency is from a payload's last frame to its
decoded image.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from diffair.dsp.frame import FrameFormat
from diffair.dsp.header import PayloadKind
from diffair.dsp.packetizer import Reassembler
from diffair.dsp.receiver import OfdmReceiver
from diffair.radio.loopback import LoopbackRadio
from diffair.radio.memory import MemoryRadio
from diffair.radio.ring import RingReader
from diffair.testbed.pipeline import RxPipeline, percentile_ms
from diffair.testbed.session import channel_for, frame_bursts

GAP_SAMPLES = 200
"""Idle samples before each frame of the workload (a transmitter streaming back to back)."""


@dataclass(frozen=True)
class BenchRxOptions:
    receivers: tuple[str, ...] = ("jscc",)
    backends: tuple[str, ...] = ("ort",)
    steps: int | str | None = None
    sample_rate_hz: float = 1e6
    images: int = 8
    image: Path | None = None
    side: int = 128
    channel: str | None = None
    fft_size: int = 64
    seed: int = 0
    weights: Path | None = None
    cache: Path = Path("reports/bench-rx/graphs")
    threads: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))


def workload(sender, kind: int, image: np.ndarray, options: BenchRxOptions, fmt: FrameFormat) -> np.ndarray:
    """The received stream, complex64 ``[n]``: ``options.images`` payloads of ``image``."""
    import torch

    from diffair.models.data import to_tensor_batch
    from diffair.models.symbols import latent_to_symbols

    with torch.no_grad():
        symbols = latent_to_symbols(sender.encode(to_tensor_batch(image[None]))[0])[0].numpy()
    channel = channel_for(fmt, 20.0, cfo_hz=10e3)
    with LoopbackRadio(channel, seed=options.seed) as air:
        for payload in range(options.images):
            for burst in frame_bursts(symbols, payload + 1, fmt, GAP_SAMPLES, kind):
                air.send(burst)
        return air.receive(air.pending + 4 * fmt.frame_len)


def bench_one(name: str, backend: str, channel: str, stream: np.ndarray, shape: tuple[int, int, int], kind: int,
              options: BenchRxOptions, fmt: FrameFormat) -> dict:
    """One receiver on one backend over ``stream``: the result row."""
    import torch

    from diffair.export.receiver_runner import ReceiverRunner
    from diffair.export.runners import RunnerChoice
    from diffair.models import registry
    from diffair.testbed.rxtx import ImageDecoding, _payload_summary

    weights = options.weights or registry.WEIGHTS_DIR
    receiver = registry.build(name, channel, options.steps, weights)
    runner = ReceiverRunner(receiver, RunnerChoice.parse(backend, options.threads), options.cache)
    images = ImageDecoding({name: runner}, {name: kind}, {kind: shape}, (options.side, options.side))
    images.warm_up()
    with RingReader(MemoryRadio(stream).open(), lossless=True) as ring:
        pipeline = RxPipeline(ring, OfdmReceiver(fmt), Reassembler(fmt),
                              lambda payload, report: _payload_summary(payload, None, images, report.decode_ms),
                              fmt.sample_rate_hz)
        done = pipeline.run(idle_timeout_s=5.0)
    decoded = sum(1 for p in done.payloads if "error" not in p.get("receivers", {}))
    return {"receiver": name, "channel": channel, "backend": runner.backend, "provider": runner.provider, "steps": receiver.steps,
            "network_calls": receiver.network_calls(20.0), "images": decoded, "air_s": done.air_s,
            "wall_s": done.wall_s, "realtime_factor": done.realtime_factor,
            "frontend_msps": len(stream) / done.frontend_s / 1e6 if done.frontend_s else None,
            "images_per_s": decoded / done.wall_s, "latency_p50_ms": percentile_ms(done.payload_latency_ms, 50),
            "latency_p99_ms": percentile_ms(done.payload_latency_ms, 99),
            "decode_ms_mean": float(np.mean(done.decode_ms[name])) if done.decode_ms.get(name) else None,
            "overflows": done.overflows, "torch_threads": torch.get_num_threads()}


def run_bench_rx(options: BenchRxOptions, progress: bool = True) -> dict:
    """Every (receiver, backend) pair; returns the record."""
    import torch
    from tqdm import tqdm

    from diffair.export.build import default_channel
    from diffair.models import registry
    from diffair.testbed.images import builtin_image, check_image, image_or_builtin, resized_like

    torch.set_num_threads(options.threads)
    fmt = FrameFormat.for_fft(options.fft_size, sample_rate_hz=options.sample_rate_hz)
    photo = image_or_builtin(options.image) if options.image else builtin_image()
    photo = resized_like(photo, (options.side, options.side))
    weights = options.weights or registry.WEIGHTS_DIR
    streams = {}
    results = []
    pairs = [(n, b) for n in options.receivers for b in options.backends]
    for name, backend in tqdm(pairs, desc="bench-rx", disable=not progress):
        channel = options.channel or default_channel(name, weights)
        key = (registry.spec(name).transmitter, channel)
        if key not in streams:
            sender = registry.build_transmitter(key[0], channel, weights)
            check_image(photo, f"bench-rx image ({options.side} x {options.side})", sender.multiple)
            kind = registry.transmitter_spec(key[0]).payload_kind
            streams[key] = (workload(sender, kind, photo, options, fmt), sender.latent_shape(options.side, options.side),
                            kind)
        stream, shape, kind = streams[key]
        started = time.perf_counter()
        results.append(bench_one(name, backend, channel, stream, shape, kind, options, fmt))
        results[-1]["bench_s"] = time.perf_counter() - started
    return {"sample_rate_hz": options.sample_rate_hz, "fft_size": options.fft_size, "images": options.images,
            "image_side": options.side, "results": results,
            "payload_kind": {t: PayloadKind(k).name for (t, _), (_, _, k) in streams.items()},
            "machine": {"cpu": platform.processor() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                        "threads": options.threads, "torch": torch.__version__}}
