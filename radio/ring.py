"""RingReader: drain a radio in a background thread into a bounded ring of blocks, so a slow
consumer never stalls the radio; when the ring is full the oldest block is dropped and
counted as an overflow (the receiver then sees a gap, never stale or duplicated data)."""

from __future__ import annotations

import collections
import threading

import numpy as np

from diffair.radio.base import Radio


class RingReader:
    """``with RingReader(radio, block, capacity) as ring: block = ring.get(timeout)``."""

    def __init__(self, radio: Radio, block_samples: int = 65536, capacity_blocks: int = 64,
                 read_timeout_s: float = 0.5):
        self.radio = radio
        self.block_samples = block_samples
        self.read_timeout_s = read_timeout_s
        self.overflows = 0
        self.samples_read = 0
        self.error: Exception | None = None
        self.finished = threading.Event()
        self._ring: collections.deque[np.ndarray] = collections.deque(maxlen=capacity_blocks)
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RingReader":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                block = self.radio.receive(self.block_samples, self.read_timeout_s)
                if len(block) == 0:
                    if self.radio.finite:
                        break
                    continue
                with self._ready:
                    if len(self._ring) == self._ring.maxlen:
                        self.overflows += 1
                    self._ring.append(block)
                    self.samples_read += len(block)
                    self._ready.notify()
        except Exception as err:  # handed to the consumer by get()
            self.error = err
        finally:
            self.finished.set()
            with self._ready:
                self._ready.notify()

    def get(self, timeout: float) -> np.ndarray | None:
        """The oldest block, or None when nothing came within ``timeout`` (or the stream ended).
        Re-raises an error the reading thread met."""
        with self._ready:
            if not self._ring and not self.finished.is_set():
                self._ready.wait(timeout)
            if self._ring:
                return self._ring.popleft()
        if self.error is not None:
            raise self.error
        return None
