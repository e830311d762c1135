"""RingReader: drain a radio in a background thread into a bounded queue of blocks, each with
its absolute position in the stream, so that the consumer knows exactly which samples it got.

Two policies, chosen by the source:

* live (a radio): a slow consumer never stalls the radio. When the queue is full the oldest
  block is dropped and counted as an overflow; the positions show the consumer the gap.
* lossless (a recording, ``radio.finite``): a file can always wait for its reader, so a full
  queue makes the reading thread wait (back-pressure) and nothing is ever dropped.
  ``realtime_rate_hz`` paces it at that sample rate, for those who want live behaviour.

Positions also count the samples a radio knows it lost on the wire (``radio.lost_samples``,
e.g. from the ZMQ tag header's sample counter): a gap on the wire and a dropped block look the
same to the consumer, a block that starts later than the previous one ended.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

import numpy as np

from diffair.radio.base import Radio


@dataclass
class Block:
    """``samples`` complex64 ``[n]`` starting at absolute stream sample ``start``."""

    start: int
    samples: np.ndarray

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


class RingReader:
    """``with RingReader(radio, block, capacity) as ring: block = ring.get(timeout)``.

    ``on_read(block)`` runs on the reading thread for every block before it is queued (a
    recorder: what was read is written even if the queue later drops it). Counters:
    ``overflows`` (blocks dropped), ``samples_dropped``, ``samples_read`` (read from
    the radio), ``high_water`` (most blocks queued at once), ``last_sample_at`` (monotonic
    time of the last block read, None before the first)."""

    def __init__(self, radio: Radio, block_samples: int = 65536, capacity_blocks: int = 64,
                 read_timeout_s: float = 0.5, lossless: bool | None = None, realtime_rate_hz: float | None = None,
                 on_read=None):
        self.radio = radio
        self.on_read = on_read
        self.block_samples = block_samples
        self.capacity = capacity_blocks
        self.read_timeout_s = read_timeout_s
        self.lossless = radio.finite if lossless is None else lossless
        self.realtime_rate_hz = realtime_rate_hz
        self.overflows = 0
        self.samples_dropped = 0
        self.samples_read = 0
        self.high_water = 0
        self.last_sample_at: float | None = None
        self.error: Exception | None = None
        self.finished = threading.Event()
        self._ring: collections.deque[Block] = collections.deque()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="diffair-reader")

    def __enter__(self) -> "RingReader":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        position = lost_seen = 0
        started = time.monotonic()
        try:
            while not self._stop.is_set():
                samples = self.radio.receive(self.block_samples, self.read_timeout_s)
                if len(samples) == 0:
                    if self.radio.finite:
                        break
                    continue
                lost = self.radio.lost_samples - lost_seen
                lost_seen += lost
                block = Block(position + lost, samples)
                position = block.end
                if self.on_read:
                    self.on_read(block)
                if self.realtime_rate_hz:
                    delay = started + position / self.realtime_rate_hz - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                self._put(block)
        except Exception as err:  # handed to the consumer by get()
            self.error = err
        finally:
            self.finished.set()
            with self._changed:
                self._changed.notify_all()

    def _put(self, block: Block) -> None:
        with self._changed:
            if self.lossless:
                while len(self._ring) >= self.capacity and not self._stop.is_set():
                    self._changed.wait(0.1)
            elif len(self._ring) >= self.capacity:
                dropped = self._ring.popleft()
                self.overflows += 1
                self.samples_dropped += len(dropped.samples)
            self._ring.append(block)
            self.samples_read += len(block.samples)
            self.high_water = max(self.high_water, len(self._ring))
            self.last_sample_at = time.monotonic()
            self._changed.notify_all()

    def get(self, timeout: float) -> Block | None:
        """The oldest block, or None when nothing came within ``timeout`` (or the stream ended).
        Re-raises an error the reading thread met."""
        with self._changed:
            if not self._ring and not self.finished.is_set():
                self._changed.wait(timeout)
            if self._ring:
                block = self._ring.popleft()
                self._changed.notify_all()
                return block
        if self.error is not None:
            raise self.error
        return None
