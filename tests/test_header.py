import numpy as np
import pytest

from diffair.dsp.errors import SignalError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.header import FrameHeader, PayloadKind, decode_headers, encode_header


@pytest.mark.parametrize("fft_size", [64, 128, 256])
def test_header_roundtrip_and_corruption(fft_size):
    fmt = FrameFormat.for_fft(fft_size)
    header = FrameHeader(payload_id=65535, frame_index=41, frame_count=42, payload_symbols=(1 << 24) - 1,
                         kind=PayloadKind.JSCC_LATENT, sounding=2)
    grid = encode_header(header, fmt)
    assert grid.shape == (fmt.header_symbols, len(fmt.data_carriers))
    assert set(np.unique(grid)) == {-1.0, 1.0}
    decoded = decode_headers(np.stack([grid * 5.0, -grid * 5.0, np.zeros_like(grid)]), fmt)
    assert decoded[0] == header
    assert decoded[1] is None and decoded[2] is None


@pytest.mark.parametrize("fields", [dict(payload_id=1 << 16), dict(frame_index=3, frame_count=3),
                                    dict(payload_symbols=1 << 24), dict(kind=32),
                                    dict(sounding=8)])
def test_header_fields_are_range_checked(fields):
    values = dict(payload_id=1, frame_index=0, frame_count=1, payload_symbols=10, kind=0) | fields
    with pytest.raises(SignalError):
        FrameHeader(**values)
