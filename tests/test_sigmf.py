import json

import numpy as np
import pytest

from diffair.dsp.errors import RadioError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.receiver import OfdmReceiver
from diffair.radio.channel import ChannelConfig
from diffair.radio.loopback import LoopbackRadio
from diffair.radio.sigmf_io import SigmfRadio, SigmfRecorder
from diffair.testbed.session import frame_bursts, receive_frames
from tests.conftest import complex_gaussian


def test_a_recording_replays_through_the_receiver(tmp_path, rng):
    fmt = FrameFormat()
    symbols = complex_gaussian(rng, 3 * fmt.payload_capacity)
    with LoopbackRadio(ChannelConfig(snr_db=20, bandwidth_fraction=fmt.bandwidth_fraction, cfo_hz=5e3), seed=2) as air:
        for burst in frame_bursts(symbols, 4, fmt, gap_samples=300):
            air.send(burst)
        stream = air.receive(air.pending + 1000)
    live = OfdmReceiver(fmt)
    with SigmfRecorder(tmp_path / "capture", fmt.sample_rate_hz, 2.4e9, hardware="loopback") as recorder:
        for pos in range(0, len(stream), 5000):
            recorder.write(stream[pos:pos + 5000])
        for frame in live.process(stream) + live.flush():
            recorder.annotate(frame.start, fmt.frame_len, "frame", f"index {frame.header.frame_index}")
    meta = json.loads((tmp_path / "capture.sigmf-meta").read_text())
    assert meta["global"]["core:datatype"] == "cf32_le"
    assert meta["global"]["core:sample_rate"] == fmt.sample_rate_hz
    assert meta["captures"][0]["core:frequency"] == 2.4e9
    assert [a["core:comment"] for a in meta["annotations"]] == ["index 0", "index 1", "index 2"]
    with SigmfRadio(tmp_path / "capture.sigmf-meta") as replay:
        frames = receive_frames(replay, OfdmReceiver(fmt), chunk=7000)
        assert len(replay.receive(10)) == 0
    assert [f.header.frame_index for f in frames] == [0, 1, 2]


def test_missing_or_foreign_recordings_are_refused(tmp_path):
    with pytest.raises(RadioError, match="no SigMF recording"):
        SigmfRadio(tmp_path / "nothing").open()
    (tmp_path / "x.sigmf-data").write_bytes(b"\x00" * 8)
    (tmp_path / "x.sigmf-meta").write_text(json.dumps(
        {"global": {"core:datatype": "ci16_le", "core:version": "1.0.0"}, "captures": [], "annotations": []}))
    with pytest.raises(RadioError, match="ci16_le"):
        SigmfRadio(tmp_path / "x").open()
    with SigmfRecorder(tmp_path / "y", 1e6) as rec:
        rec.write(np.zeros(4, np.complex64))
    with SigmfRadio(tmp_path / "y") as radio, pytest.raises(RadioError, match="read-only"):
        radio.send(np.zeros(4, np.complex64))
