import numpy as np
import pytest

from diffair.dsp.errors import SignalError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.header import PayloadKind
from diffair.dsp.packetizer import Reassembler, RxFrame, packetize
from tests.conftest import complex_gaussian


def _as_received(parts, fmt):
    return [RxFrame(h, chunk.copy(), np.ones(len(chunk), np.float32), np.full(len(chunk), 0.1, np.float32),
                    20.0, 0.0, 0) for h, chunk in parts]


def test_roundtrip_restores_order(rng):
    fmt = FrameFormat(data_symbols=4)
    symbols = complex_gaussian(rng, 1000)
    parts = packetize(symbols, 9, fmt, PayloadKind.JSCC_LATENT)
    assert len(parts) == -(-1000 // fmt.payload_capacity)
    assert all(h.payload_symbols == 1000 and h.frame_count == len(parts) for h, _ in parts)
    reassembler = Reassembler(fmt)
    results = [reassembler.add(f) for f in _as_received(parts, fmt)]
    payload = results[-1]
    assert all(r is None for r in results[:-1]) and payload.complete
    np.testing.assert_array_equal(payload.y, symbols)
    assert not payload.erased.any() and payload.kind == PayloadKind.JSCC_LATENT


def test_lost_frames_become_marked_erasures(rng):
    fmt = FrameFormat(data_symbols=4)
    symbols = complex_gaussian(rng, 1000)
    frames = _as_received(packetize(symbols, 9, fmt), fmt)
    reassembler = Reassembler(fmt)
    for f in frames[:1] + frames[2:]:
        assert reassembler.add(f) is None
    (payload,) = reassembler.flush()
    lost = fmt.payload_capacity
    assert payload.frames_received == len(frames) - 1 and not payload.complete
    assert payload.erased.sum() == lost
    # erasures are scattered over the payload by the interleaver, not one block
    assert np.count_nonzero(payload.erased[:500]) > 0.3 * lost
    np.testing.assert_array_equal(payload.y[~payload.erased], symbols[~payload.erased])
    assert np.all(payload.gain[payload.erased] == 0) and np.all(payload.noise_var[payload.erased] == 1)


def test_bad_payloads_are_refused():
    fmt = FrameFormat()
    with pytest.raises(SignalError, match="empty"):
        packetize(np.zeros(0, np.complex64), 1, fmt)
    with pytest.raises(SignalError, match="NaN"):
        packetize(np.array([np.nan], np.complex64), 1, fmt)
    with pytest.raises(SignalError, match="complex"):
        packetize(np.zeros(4, np.float32), 1, fmt)
