"""LoopbackRadio: a software radio whose air is a seeded LoopbackChannel.

``send`` passes a burst through the channel into a receive queue; ``receive(n)`` returns the
next n samples of the stream: queued samples first, then idle noise, exactly like a real
receiver that never stops streaming. ``truths`` records what the channel did to each burst.
An ``Interferer`` (radio.interferer), when given, transmits on the same air all the while.
"""

from __future__ import annotations

import numpy as np

from diffair.radio.base import Radio, check_tx_samples
from diffair.radio.channel import BurstTruth, ChannelConfig, LoopbackChannel


class LoopbackRadio(Radio):
    """Transmitter and receiver joined by a simulated channel."""

    def __init__(self, channel: ChannelConfig | None = None, seed: int = 0, interferer=None):
        """interferer: an optional ``radio.interferer.Interferer`` sharing the air."""
        super().__init__()
        self.channel = LoopbackChannel(channel or ChannelConfig(), seed, interferer)
        self.truths: list[BurstTruth] = []
        self._queue: list[np.ndarray] = []
        self._queued = 0

    @property
    def pending(self) -> int:
        """Samples sent through the channel but not yet received."""
        return self._queued

    def send(self, iq: np.ndarray) -> None:
        self._require_open()
        samples, truth = self.channel.burst(check_tx_samples(iq))
        self.truths.append(truth)
        self._queue.append(samples)
        self._queued += len(samples)

    def receive(self, num_samples: int, timeout: float = 1.0) -> np.ndarray:
        self._require_open()
        if num_samples < 0:
            from diffair.dsp.errors import RadioError

            raise RadioError(f"receive(): num_samples = {num_samples}, expected >= 0")
        queued = np.concatenate(self._queue) if self._queue else np.zeros(0, np.complex64)
        take, rest = queued[:num_samples], queued[num_samples:]
        self._queue = [rest] if len(rest) else []
        self._queued = len(rest)
        if len(take) < num_samples:
            take = np.concatenate([take, self.channel.idle(num_samples - len(take))])
        return take
