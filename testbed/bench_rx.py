"""``diffair bench-rx``: which receivers keep up with the air.

A fixed, seeded workload — ``images`` copies of a photograph, each one payload of its
transmitter's symbols (for a receiver of ICDM's scenario with a synchronous interferer at
SIR 0 dB sending another photograph), through the loopback PHY and channel (AWGN 20 dB,
10 kHz CFO) at ``sample_rate_hz`` — is held in memory and replayed through the whole receive pipeline
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

from diffair.dsp.errors import ConfigError
from diffair.dsp.frame import SOUNDING_SYMBOLS, FrameFormat
from diffair.dsp.header import PayloadKind
from diffair.dsp.packetizer import Reassembler
from diffair.dsp.receiver import OfdmReceiver
from diffair.models.provenance import provenance, weights_used
from diffair.radio.loopback import LoopbackRadio
from diffair.radio.memory import MemoryRadio
from diffair.radio.ring import RingReader
from diffair.testbed.pipeline import RxPipeline, percentile_ms
from diffair.testbed.session import channel_for, frame_bursts, interfered_bursts

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


def workload(sender, kind: int, image: np.ndarray, options: BenchRxOptions, fmt: FrameFormat,
             interferer: np.ndarray | None = None) -> np.ndarray:
    """The received stream, complex64 ``[n]``: ``options.images`` payloads of ``image``; with
    ``interferer`` symbols (ICDM's scenario, a format with sounding symbols) a synchronous
    interferer at SIR 0 dB injected at the transmitter."""
    import torch

    from diffair.models.data import to_tensor_batch
    from diffair.models.symbols import latent_to_symbols

    with torch.no_grad():
        symbols = latent_to_symbols(sender.encode(to_tensor_batch(image[None]))[0])[0].numpy()
    channel = channel_for(fmt, 20.0, cfo_hz=10e3)
    with LoopbackRadio(channel, seed=options.seed) as air:
        for payload in range(options.images):
            bursts = (frame_bursts(symbols, payload + 1, fmt, GAP_SAMPLES, kind) if interferer is None
                      else interfered_bursts(symbols, interferer, 0.0, payload + 1, fmt, GAP_SAMPLES, kind))
            for burst in bursts:
                air.send(burst)
        return air.receive(air.pending + 4 * fmt.frame_len)


def bench_one(name: str, backend: str, channel: str, scenario: str, stream: np.ndarray, shape: tuple[int, int, int],
              kind: int, options: BenchRxOptions, fmt: FrameFormat) -> dict:
    """One receiver on one backend over ``stream``: the result row."""
    import torch

    from diffair.export.receiver_runner import ReceiverRunner
    from diffair.export.runners import RunnerChoice
    from diffair.models import registry
    from diffair.testbed.rxtx import FILE_BLOCK_SAMPLES, ImageDecoding, payload_summary

    weights = options.weights or registry.WEIGHTS_DIR
    # its own method throughout: a switch to a cheaper baseline would flatter its real-time factor
    receiver = registry.build(name, channel, options.steps, weights, scenario, switch=False)
    runner = ReceiverRunner(receiver, RunnerChoice.parse(backend, options.threads), options.cache)
    images = ImageDecoding({name: runner}, {name: kind}, {kind: shape}, (options.side, options.side))
    images.warm_up()
    OfdmReceiver(fmt).process(stream[:1 << 16])  # warm-up: the front end's first call builds its FFT plans
    with RingReader(MemoryRadio(stream).open(), FILE_BLOCK_SAMPLES, lossless=True) as ring:
        pipeline = RxPipeline(ring, OfdmReceiver(fmt), Reassembler(fmt),
                              lambda payload, report: payload_summary(payload, None, images, report.decode_ms),
                              fmt.sample_rate_hz)
        done = pipeline.run(idle_timeout_s=5.0)
    decoded = sum(1 for p in done.payloads if "error" not in p.get("receivers", {}))
    return {"receiver": name, "channel": channel, "scenario": scenario, "backend": runner.backend, "provider": runner.provider, "steps": receiver.steps,
            "network_calls": receiver.network_calls(20.0), "images": decoded, "air_s": done.air_s,
            "wall_s": done.wall_s, "realtime_factor": done.realtime_factor,
            "frontend_msps": len(stream) / done.frontend_s / 1e6 if done.frontend_s else None,
            "images_per_s": decoded / done.wall_s, "latency_p50_ms": percentile_ms(done.payload_latency_ms, 50),
            "latency_p99_ms": percentile_ms(done.payload_latency_ms, 99),
            "decode_ms_mean": float(np.mean(done.decode_ms[name])) if done.decode_ms.get(name) else None,
            "overflows": done.overflows, "torch_threads": torch.get_num_threads()}


def _stream(key: tuple[str, str, str], photo: np.ndarray, options: BenchRxOptions, fmt: FrameFormat, weights: Path):
    """(workload stream, latent shape, PayloadKind) of transmitter, channel and scenario ``key``."""
    from diffair.models import registry
    from diffair.testbed.images import BUILTIN_INTERFERER_IMAGE, builtin_image, padded_size, resized_like
    from diffair.testbed.rxtx import interferer_payload

    transmitter, channel, scenario = key
    sender = registry.build_transmitter(transmitter, channel, weights, scenario)
    if padded_size(photo.shape[:2], f"bench-rx image ({options.side} x {options.side})",
                   sender.multiple) != photo.shape[:2]:
        raise ConfigError(f"--side {options.side}: expected a multiple of {sender.multiple} (the workload codes "
                          "square photos of that side as they are)")
    kind = registry.transmitter_spec(transmitter).payload_kind
    interferer = None
    if scenario == "interference":
        interferer = interferer_payload(resized_like(builtin_image(BUILTIN_INTERFERER_IMAGE), photo.shape), weights)
    return (workload(sender, kind, photo, options, fmt, interferer), sender.latent_shape(options.side, options.side),
            kind)


def run_bench_rx(options: BenchRxOptions, progress: bool = True) -> dict:
    """Every (receiver, backend) pair; returns the record."""
    import torch
    from tqdm import tqdm

    from diffair.export.build import default_channel
    from diffair.models import registry
    from diffair.testbed.images import builtin_image, image_or_builtin, resized_like

    torch.set_num_threads(options.threads)
    formats = {scenario: FrameFormat.for_fft(options.fft_size, sample_rate_hz=options.sample_rate_hz,
                                             sounding_symbols=SOUNDING_SYMBOLS if scenario == "interference" else 0)
               for scenario in ("plain", "interference")}
    photo = image_or_builtin(options.image) if options.image else builtin_image()
    photo = resized_like(photo, (options.side, options.side))
    weights = options.weights or registry.WEIGHTS_DIR
    streams = {}
    results = []
    pairs = [(n, b) for n in options.receivers for b in options.backends]
    for name, backend in tqdm(pairs, desc="bench-rx", disable=not progress):
        channel = options.channel or default_channel(name, weights)
        scenario = registry.spec(name).scenarios[0]
        key = (registry.spec(name).transmitter, channel, scenario)
        if key not in streams:
            streams[key] = _stream(key, photo, options, formats[scenario], weights)
        stream, shape, kind = streams[key]
        started = time.perf_counter()
        results.append(bench_one(name, backend, channel, scenario, stream, shape, kind, options, formats[scenario]))
        results[-1]["bench_s"] = time.perf_counter() - started
    used: dict[str, str] = {}
    for (transmitter, channel, scenario) in streams:
        names = [n for n in options.receivers if registry.spec(n).transmitter == transmitter]
        used |= weights_used(names, channel, scenario, weights)
    return {"sample_rate_hz": options.sample_rate_hz, "fft_size": options.fft_size, "images": options.images,
            "image_side": options.side, "results": results,
            "provenance": provenance(None, used, Path(options.image) if options.image else None),
            "payload_kind": {t: PayloadKind(k).name for (t, _, _), (_, _, k) in streams.items()},
            "machine": {"cpu": platform.processor() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                        "threads": options.threads, "torch": torch.__version__}}
