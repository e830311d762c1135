"""Split a payload of complex symbols into frames, and reassemble it at the receiver.

The symbols are interleaved across the whole payload first (a fixed pseudo-random
permutation seeded by the payload length), so a lost frame or a faded subcarrier becomes
scattered erasures rather than one missing block. Missing frames are marked as erasures,
never silently zero: ``erased`` is True there, with y = 0, gain = 0, noise_var = 1 (the
MMSE view of a symbol that was not received).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from diffair.dsp.errors import SignalError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.header import FIELD_BITS, FrameHeader, PayloadKind
from diffair.dsp.transmitter import check_symbols


def payload_permutation(length: int) -> np.ndarray:
    """The transmit order of a payload of ``length`` symbols (a seeded permutation)."""
    return np.random.default_rng(length).permutation(length)


def packetize(symbols: np.ndarray, payload_id: int, fmt: FrameFormat,
              kind: int = PayloadKind.TEST_SYMBOLS) -> list[tuple[FrameHeader, np.ndarray]]:
    """Interleave and split ``symbols`` complex ``[L]`` into (header, chunk) pairs."""
    symbols = check_symbols(symbols)
    if len(symbols) == 0:
        raise SignalError("payload is empty: nothing to send")
    if len(symbols) >= 1 << FIELD_BITS["payload_symbols"]:
        raise SignalError(f"payload of {len(symbols)} symbols exceeds the header's 24-bit length field")
    ordered = symbols[payload_permutation(len(symbols))]
    capacity = fmt.payload_capacity
    count = -(-len(symbols) // capacity)
    if count >= 1 << FIELD_BITS["frame_count"]:
        raise SignalError(f"payload needs {count} frames; at most {(1 << 16) - 1}")
    return [(FrameHeader(payload_id, i, count, len(symbols), kind, fmt.sounding_symbols),
             ordered[i * capacity:(i + 1) * capacity])
            for i in range(count)]


@dataclass
class RxFrame:
    """What the PHY hands on for one frame with a good header.

    y, gain, noise_var: ``[n]`` complex64 / float32 / float32 for the payload symbols this
    frame carries (x_hat = gain * x + noise of variance noise_var); snr_db and cfo_hz are
    the frame's estimates (snr_db from the LTF counts interference as noise: the SINR);
    start is the absolute sample index of the frame's first sample; thermal_snr_db: the SNR
    against the receiver's noise alone (guard carriers; None where not measured). With a
    synchronous interferer (sounding symbols in the format): cross ``[n]`` complex64, its
    coefficient in y (x_hat = gain x + cross z + noise), and sir_db, its estimated
    signal-to-interference ratio; None otherwise.
    """

    header: FrameHeader
    y: np.ndarray
    gain: np.ndarray
    noise_var: np.ndarray
    snr_db: float
    cfo_hz: float
    start: int
    thermal_snr_db: float | None = None
    cross: np.ndarray | None = None
    sir_db: float | None = None


@dataclass
class RxPayload:
    """A reassembled payload; all arrays ``[L]`` in the original symbol order (``cross`` zero
    at erasures; None, as ``sir_db``, without a synchronous interferer)."""

    payload_id: int
    kind: int
    y: np.ndarray
    gain: np.ndarray
    noise_var: np.ndarray
    erased: np.ndarray
    frames_expected: int
    frames_received: int
    snr_db: float
    cfo_hz: float
    thermal_snr_db: float | None = None
    cross: np.ndarray | None = None
    sir_db: float | None = None

    @property
    def complete(self) -> bool:
        return self.frames_received == self.frames_expected


@dataclass
class Reassembler:
    """Collects RxFrames per payload id; hands back payloads when complete or flushed, and —
    through ``evict`` — the oldest incomplete ones beyond ``max_pending`` (a payload that lost
    frames in a gap never completes: a long live run must not keep them all)."""

    fmt: FrameFormat
    max_pending: int = 16
    _frames: dict[int, dict[int, RxFrame]] = field(default_factory=dict)

    def add(self, frame: RxFrame) -> RxPayload | None:
        """Store one frame; returns the payload if that frame completed it."""
        frames = self._frames.setdefault(frame.header.payload_id, {})
        first = next(iter(frames.values()), None)
        if first is not None and (first.header.frame_count, first.header.payload_symbols) != (
                frame.header.frame_count, frame.header.payload_symbols):
            # a new payload reusing the id: hand out the old one, start again
            self._frames[frame.header.payload_id] = {}
            frames = self._frames[frame.header.payload_id]
        frames[frame.header.frame_index] = frame
        if len(frames) == frame.header.frame_count:
            return self._assemble(self._frames.pop(frame.header.payload_id))
        return None

    def evict(self) -> list[RxPayload]:
        """The oldest incomplete payloads beyond ``max_pending``, their missing frames erased."""
        stale = []
        while len(self._frames) > self.max_pending:
            oldest = next(iter(self._frames))
            stale.append(self._assemble(self._frames.pop(oldest)))
        return stale

    def flush(self) -> list[RxPayload]:
        """Every incomplete payload, its missing frames marked as erasures."""
        payloads = [self._assemble(frames) for frames in self._frames.values() if frames]
        self._frames.clear()
        return payloads

    def _assemble(self, frames: dict[int, RxFrame]) -> RxPayload:
        header = next(iter(frames.values())).header
        length, capacity = header.payload_symbols, self.fmt.payload_capacity
        y = np.zeros(length, np.complex64)
        gain = np.zeros(length, np.float32)
        noise_var = np.ones(length, np.float32)
        erased = np.ones(length, bool)
        synchronous = all(f.cross is not None for f in frames.values())
        cross = np.zeros(length, np.complex64)
        for index, frame in frames.items():
            part = slice(index * capacity, min((index + 1) * capacity, length))
            count = part.stop - part.start
            y[part], gain[part], noise_var[part] = frame.y[:count], frame.gain[:count], frame.noise_var[:count]
            if synchronous:
                cross[part] = frame.cross[:count]
            erased[part] = False
        order = payload_permutation(length)
        restored = [np.empty_like(a) for a in (y, gain, noise_var, erased, cross)]
        for out, sent in zip(restored, (y, gain, noise_var, erased, cross)):
            out[order] = sent
        return RxPayload(header.payload_id, header.kind, *restored[:4], frames_expected=header.frame_count,
                         frames_received=len(frames),
                         snr_db=float(np.mean([f.snr_db for f in frames.values()])),
                         cfo_hz=float(np.mean([f.cfo_hz for f in frames.values()])),
                         thermal_snr_db=_mean_or_none([f.thermal_snr_db for f in frames.values()]),
                         cross=restored[4] if synchronous else None,
                         sir_db=_mean_or_none([f.sir_db for f in frames.values()]))


def _mean_or_none(values: list) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(values))
