"""MemoryRadio: a receive stream held in memory, replayed like a recording (finite: an empty
read means it ended). For benchmarks and tests that must not depend on a disk or a peer."""

from __future__ import annotations

import numpy as np

from diffair.dsp.errors import RadioError
from diffair.radio.base import Radio


class MemoryRadio(Radio):
    """Replays ``samples`` (complex64 ``[n]``) in order."""

    finite = True

    def __init__(self, samples: np.ndarray):
        super().__init__()
        self.samples = np.ascontiguousarray(samples, np.complex64)
        self._position = 0

    def send(self, iq: np.ndarray) -> None:
        raise RadioError("a MemoryRadio only receives (it replays a stream held in memory)")

    def receive(self, num_samples: int, timeout: float = 1.0) -> np.ndarray:
        self._require_open()
        block = self.samples[self._position:self._position + num_samples]
        self._position += len(block)
        return block
