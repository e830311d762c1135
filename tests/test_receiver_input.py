"""Bad input to the receive front end: a clear error or a counted drop, never a crash."""

import numpy as np
import pytest

from diffair.dsp.errors import ConfigError, SignalError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.packetizer import packetize
from diffair.dsp.receiver import OfdmReceiver, ReceiverConfig
from diffair.dsp.transmitter import build_frame, scale_for_tx
from diffair.radio.channel import ChannelConfig
from diffair.radio.loopback import LoopbackRadio
from tests.conftest import complex_gaussian


def _stream(rng, frames=6, snr_db=20.0, seed=0):
    fmt = FrameFormat()
    symbols = complex_gaussian(rng, frames * fmt.payload_capacity)
    with LoopbackRadio(ChannelConfig(snr_db=snr_db, bandwidth_fraction=fmt.bandwidth_fraction, cfo_hz=7e3,
                                     gap_samples=(100, 900)), seed=seed) as radio:
        for header, chunk in packetize(symbols, 3, fmt):
            radio.send(scale_for_tx(build_frame(header, chunk, fmt), fmt)[0])
        return fmt, radio.receive(radio.pending + 2000)


@pytest.mark.parametrize("bad", [np.zeros(10, np.complex128), np.zeros(10, np.float32), [0j] * 10,
                                 np.zeros((2, 10), np.complex64)])
def test_wrong_dtype_or_shape_is_refused(bad):
    with pytest.raises(SignalError):
        OfdmReceiver(FrameFormat()).process(bad)


def test_empty_and_tiny_chunks_are_fine():
    receiver = OfdmReceiver(FrameFormat())
    assert receiver.process(np.zeros(0, np.complex64)) == []
    assert receiver.process(np.ones(3, np.complex64)) == []


def test_any_chunking_finds_the_same_frames(rng):
    """Frames cut at buffer edges (odd and tiny chunk sizes) decode exactly as in one piece."""
    fmt, stream = _stream(rng)
    whole = OfdmReceiver(fmt)
    reference = whole.process(stream) + whole.flush()
    assert len(reference) == 6
    chunked = OfdmReceiver(fmt)
    pieces, pos = [], 0
    sizes = np.random.default_rng(5).integers(1, 3001, 10_000)
    for size in sizes:
        if pos >= len(stream):
            break
        pieces += chunked.process(stream[pos:pos + size])
        pos += size
    pieces += chunked.flush()
    assert [f.header for f in pieces] == [f.header for f in reference]
    for a, b in zip(pieces, reference):
        np.testing.assert_allclose(a.y, b.y, rtol=1e-4, atol=1e-5)


def test_nan_and_inf_samples_are_counted_and_only_their_frame_is_lost(rng):
    fmt, stream = _stream(rng, seed=1)
    receiver = OfdmReceiver(fmt)
    clean = receiver.process(stream.copy()) + receiver.flush()
    first = clean[0]
    corrupted = stream.copy()
    corrupted[first.start + fmt.first_symbol_start:first.start + fmt.first_symbol_start + 400] = np.nan
    corrupted[-10] = np.inf
    receiver = OfdmReceiver(fmt)
    frames = receiver.process(corrupted) + receiver.flush()
    assert receiver.stats.bad_samples == 401
    assert [f.header.frame_index for f in frames] == [f.header.frame_index for f in clean[1:]]
    assert all(np.all(np.isfinite(f.y)) for f in frames)


def test_receiver_config_is_validated():
    with pytest.raises(ConfigError, match="threshold"):
        ReceiverConfig(threshold=1.5)
    with pytest.raises(ConfigError, match="estimator"):
        ReceiverConfig(estimator="ml")


def test_a_frame_ending_near_a_buffer_edge_is_decoded_once(rng):
    """Split the stream at every offset around the end of the first frame: it must decode
    exactly once whichever side of the cut its last samples fall on."""
    fmt, stream = _stream(rng, frames=2, seed=2)
    first = OfdmReceiver(fmt).process(stream)[0]
    end = first.start + fmt.frame_len
    for cut in range(end - 300, end + 300, 13):
        receiver = OfdmReceiver(fmt)
        frames = receiver.process(stream[:cut]) + receiver.process(stream[cut:]) + receiver.flush()
        assert [f.header.frame_index for f in frames] == [0, 1], cut
