import numpy as np
import pytest

from diffair.dsp.errors import ConfigError
from diffair.dsp.frame import HEADER_CODED_BITS, FrameFormat


@pytest.mark.parametrize("fft_size, used, pilots, header_symbols", [(64, 52, 4, 5), (128, 104, 8, 3), (256, 208, 14, 2)])
def test_occupancy_scales_with_fft_size(fft_size, used, pilots, header_symbols):
    fmt = FrameFormat.for_fft(fft_size)
    assert len(fmt.used_carriers) == used
    assert len(fmt.pilot_carriers) == pilots
    assert 0 not in fmt.used_carriers
    assert set(fmt.pilot_carriers) <= set(fmt.used_carriers)
    assert len(fmt.data_carriers) == used - pilots
    assert fmt.header_symbols == header_symbols
    assert fmt.header_symbols * len(fmt.data_carriers) >= HEADER_CODED_BITS
    assert fmt.cp_len == fft_size // 4


def test_80211a_layout_for_64_points():
    fmt = FrameFormat()
    assert list(fmt.pilot_carriers) == [-21, -7, 7, 21]
    assert fmt.used_carriers.min() == -26 and fmt.used_carriers.max() == 26
    assert fmt.payload_capacity == 48 * 48
    assert fmt.frame_len == 128 + 160 + (5 + 48) * 80


@pytest.mark.parametrize("fft_size", [64, 128, 256])
def test_stf_repeats_every_n_over_8_and_fields_have_unit_power(fft_size):
    fmt = FrameFormat.for_fft(fft_size)
    stf, d = fmt.stf_waveform, fmt.stf_period
    np.testing.assert_allclose(stf[d:], stf[:-d], atol=1e-5)
    assert np.mean(np.abs(stf) ** 2) == pytest.approx(1.0, rel=1e-4)
    assert np.mean(np.abs(fmt.ltf_symbol) ** 2) == pytest.approx(1.0, rel=1e-4)
    ltf = fmt.ltf_waveform
    np.testing.assert_allclose(ltf[fmt.ltf_guard:fmt.ltf_guard + fft_size], ltf[-fft_size:], atol=1e-6)


@pytest.mark.parametrize("field, value", [("fft_size", 100), ("cp_len", 0), ("cp_len", 40), ("data_symbols", 0),
                                          ("backoff_db", -1.0), ("sample_rate_hz", 10.0)])
def test_bad_values_name_the_field_and_range(field, value):
    with pytest.raises(ConfigError, match=field):
        FrameFormat(**{field: value})
