"""The receive pipeline of ``diffair rx`` and ``diffair bench-rx``, three stages joined by
bounded queues, each in its own thread:

    reader (radio.ring.RingReader) ─ blocks with absolute positions ─►
    front end (this thread): gaps, detection ... equalization (dsp.receiver), payload assembly ─►
    decoder (a worker thread): each completed payload through its receivers ─► sinks

A recording waits for its reader (back-pressure all the way: nothing is dropped); a live
radio's ring overflows instead, and the front end turns each hole in the positions into
``OfdmReceiver.gap``: the frames across it are dropped and counted, their payload symbols
erased, and no spliced frame is decoded as good. The front end and the decoder spend their
time in numpy and onnxruntime / torch calls that release the GIL, so on two cores they overlap.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from diffair.dsp.packetizer import Reassembler, RxFrame, RxPayload
from diffair.dsp.receiver import OfdmReceiver
from diffair.radio.ring import RingReader

_DONE = object()
MEMORY_EVERY_S = 10.0
MEMORY_SAMPLES = 1000


def resident_mb() -> float:
    """The process's resident memory now (MB; Linux /proc, else the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


@dataclass
class PipelineReport:
    """What one run of the pipeline did: timing (``wall_s`` from the first block to the last,
    plus finishing what was pending: not the wait before the first sample nor the idle timeout
    after the last; ``air_s`` of stream received or lost at the sample rate; their ratio), losses, queue high-water marks, the
    payload summaries in arrival order, the decode time per receiver (ms, one entry per
    payload) and the process's resident memory over the run ((seconds, MB) every
    ``MEMORY_EVERY_S``, at most ``MEMORY_SAMPLES`` of them)."""

    wall_s: float = 0.0
    air_s: float = 0.0
    frontend_s: float = 0.0
    overflows: int = 0
    gaps: int = 0
    samples_lost: int = 0
    frames_dropped_in_gaps: int = 0
    ring_high_water: int = 0
    decode_queue_high_water: int = 0
    payloads: list[dict] = field(default_factory=list)
    payload_latency_ms: list[float] = field(default_factory=list)
    decode_ms: dict[str, list[float]] = field(default_factory=dict)
    memory_mb: list[tuple[float, float]] = field(default_factory=list)

    @property
    def realtime_factor(self) -> float:
        """Air seconds per wall second (above 1: faster than the air)."""
        return self.air_s / self.wall_s if self.wall_s > 0 else 0.0


class RxPipeline:
    """Stream from ``ring`` through ``receiver`` and ``reassembler``; every completed payload
    goes to ``summarize(payload) -> dict`` on the decoder thread (which may fill
    ``report.decode_ms``). ``on_samples(block)`` and ``on_frames(frames)`` are front-end sinks
    (a recorder, a progress bar); ``decode_queue`` bounds the payloads waiting for the decoder."""

    def __init__(self, ring: RingReader, receiver: OfdmReceiver, reassembler: Reassembler,
                 summarize: Callable[[RxPayload, "PipelineReport"], dict], sample_rate_hz: float,
                 on_samples: Callable | None = None, on_frames: Callable[[list[RxFrame]], None] | None = None,
                 on_payload: Callable[[dict], None] | None = None, decode_queue: int = 4):
        self.ring, self.receiver, self.reassembler = ring, receiver, reassembler
        self.summarize, self.sample_rate_hz = summarize, sample_rate_hz
        self.on_samples, self.on_frames, self.on_payload = on_samples, on_frames, on_payload
        self.report = PipelineReport()
        self._queue: queue.Queue = queue.Queue(maxsize=decode_queue)
        self._error: BaseException | None = None

    def _decode_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            payload, completed_at = item
            if self._error is not None:
                continue  # drain after a failure so that the front end never blocks
            try:
                summary = self.summarize(payload, self.report)
            except BaseException as err:  # handed to the front end, raised from run()
                self._error = err
                continue
            self.report.payload_latency_ms.append(1e3 * (time.perf_counter() - completed_at))
            self.report.payloads.append(summary)
            if self.on_payload:
                self.on_payload(summary)

    def _hand_over(self, payloads: list[RxPayload]) -> None:
        for payload in payloads:
            self._queue.put((payload, time.perf_counter()))  # blocks when the decoder is behind
            self.report.decode_queue_high_water = max(self.report.decode_queue_high_water, self._queue.qsize())

    def _frames(self, frames: list[RxFrame]) -> None:
        if frames and self.on_frames:
            self.on_frames(frames)
        self._hand_over([p for f in frames if (p := self.reassembler.add(f))] + self.reassembler.evict())

    def run(self, duration_s: float | None = None, idle_timeout_s: float = 3.0) -> PipelineReport:
        """Stream until the source ends, has been idle ``idle_timeout_s`` since its last sample,
        or ``duration_s`` passed; then finish what is pending. Returns the report."""
        decoder = threading.Thread(target=self._decode_loop, daemon=True, name="diffair-decoder")
        decoder.start()
        started = time.perf_counter()
        first = last_done = None  # the stream's first block, and when the last one was processed
        expected = 0
        try:
            while duration_s is None or time.perf_counter() - started < duration_s:
                block = self.ring.get(self._idle_left(idle_timeout_s, started))
                if block is None:
                    if self.ring.finished.is_set() or self._idle_left(idle_timeout_s, started) <= 0:
                        break
                    continue
                first = first or time.perf_counter()
                if block.start > expected:
                    self._frames(self._timed(self.receiver.gap, block.start - expected))
                expected = block.end
                if self.on_samples:
                    self.on_samples(block)
                self._frames(self._timed(self.receiver.process, block.samples))
                last_done = time.perf_counter()
                self._sample_memory(started)
                if self._error is not None:
                    break
            finishing = time.perf_counter()
            self._frames(self.receiver.flush())
            self._hand_over(self.reassembler.flush())
        finally:
            self._queue.put(_DONE)
            decoder.join()
        if self._error is not None:
            raise self._error
        report, stats = self.report, self.receiver.stats
        # wall time of the stream: from its first block to its last, then finishing what was pending
        # (not the wait for a first sample, nor the idle timeout after the last one)
        streaming = last_done - first if first is not None else 0.0
        report.wall_s = streaming + time.perf_counter() - finishing
        report.air_s = (stats.samples + stats.samples_lost) / self.sample_rate_hz
        report.overflows, report.ring_high_water = self.ring.overflows, self.ring.high_water
        report.gaps, report.samples_lost = stats.gaps, stats.samples_lost
        report.frames_dropped_in_gaps = stats.frames_dropped_in_gaps
        return report

    def _sample_memory(self, started: float) -> None:
        memory = self.report.memory_mb
        elapsed = time.perf_counter() - started
        if (not memory or elapsed - memory[-1][0] >= MEMORY_EVERY_S) and len(memory) < MEMORY_SAMPLES:
            memory.append((round(elapsed, 1), round(resident_mb(), 1)))

    def _timed(self, stage: Callable, argument):
        """``stage(argument)``, its time added to the front end's busy time."""
        started = time.perf_counter()
        try:
            return stage(argument)
        finally:
            self.report.frontend_s += time.perf_counter() - started

    def _idle_left(self, idle_timeout_s: float, started: float) -> float:
        """Seconds until the idle timeout, counted from the last sample received (or the start)."""
        last = self.ring.last_sample_at
        since = time.monotonic() - last if last is not None else time.perf_counter() - started
        return max(idle_timeout_s - since, 0.0)


def percentile_ms(values: list[float], q: float) -> float | None:
    """The q-th percentile of ``values`` (ms), None when empty."""
    return float(np.percentile(values, q)) if values else None
