"""Frame assembly and transmit scaling: header + payload symbols -> complex64 samples."""

from __future__ import annotations

import numpy as np

from diffair.dsp.errors import SignalError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.header import FrameHeader, encode_header


def check_symbols(symbols: np.ndarray, name: str = "symbols") -> np.ndarray:
    """Refuse anything but a finite 1-D complex array; returns it as complex64."""
    if not isinstance(symbols, np.ndarray) or not np.iscomplexobj(symbols):
        raise SignalError(f"{name} must be a complex numpy array, got {type(symbols).__name__} "
                          f"{getattr(symbols, 'dtype', '')}")
    if symbols.ndim != 1:
        raise SignalError(f"{name} must be 1-D, got shape {symbols.shape}")
    if not np.all(np.isfinite(symbols)):
        raise SignalError(f"{name} contain {np.count_nonzero(~np.isfinite(symbols))} NaN/Inf values")
    return symbols.astype(np.complex64, copy=False)


def _data_grid(payload: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """The payload on the data carriers of the data symbols, zero-padded: complex64 ``[S, N_data]``."""
    payload = check_symbols(payload, "payload")
    if len(payload) > fmt.payload_capacity:
        raise SignalError(f"payload of {len(payload)} symbols exceeds the frame capacity {fmt.payload_capacity}")
    data = np.zeros(fmt.payload_capacity, np.complex64)
    data[:len(payload)] = payload
    return data.reshape(fmt.data_symbols, len(fmt.data_carriers))


def _with_cyclic_prefix(grid: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """OFDM symbols ``[n, N]`` (FFT bin order) -> time samples with cyclic prefixes ``[n (CP+N)]``."""
    symbols = fmt.to_time(grid)
    return np.concatenate([symbols[:, -fmt.cp_len:], symbols], axis=1).reshape(-1)


def build_frame(header: FrameHeader, payload: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """One frame at unit mean power, complex64 ``[frame_len]``.

    payload: up to ``fmt.payload_capacity`` complex symbols (unit mean power); unused data
    slots stay empty (zero), as do the data carriers of the sounding symbols.
    """
    grid = np.zeros((fmt.symbols_per_frame, fmt.fft_size), np.complex64)
    data_bins = fmt.bins(fmt.data_carriers)
    grid[:fmt.header_symbols, data_bins] = encode_header(header, fmt)
    grid[fmt.data_indices[:, None], data_bins] = _data_grid(payload, fmt)
    grid[:, fmt.bins(fmt.pilot_carriers)] = fmt.pilot_values(0, fmt.symbols_per_frame)
    return np.concatenate([fmt.stf_waveform, fmt.ltf_waveform, _with_cyclic_prefix(grid, fmt)]).astype(np.complex64)


def build_sounding_frame(payload: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """What a frame-synchronous co-channel transmitter sends alongside one wanted frame,
    complex64 ``[frame_len]``: nothing in the preamble, the header or on the pilot carriers;
    the LTF sequence on the data carriers of the sounding symbols; ``payload`` (up to
    ``payload_capacity`` unit-power symbols) on the data carriers of the data symbols. Its
    data carriers have the wanted frame's per-carrier power."""
    if fmt.sounding_symbols == 0:
        raise SignalError("build_sounding_frame: the frame format has no sounding symbols (sounding_symbols = 0)")
    grid = np.zeros((fmt.symbols_per_frame, fmt.fft_size), np.complex64)
    data_bins = fmt.bins(fmt.data_carriers)
    grid[fmt.sounding_indices[:, None], data_bins] = fmt.sounding_values
    grid[fmt.data_indices[:, None], data_bins] = _data_grid(payload, fmt)
    silent = np.zeros(fmt.first_symbol_start, np.complex64)
    return np.concatenate([silent, _with_cyclic_prefix(grid, fmt)]).astype(np.complex64)


def papr_db(iq: np.ndarray) -> float:
    """Peak-to-average power ratio of the non-zero samples, in dB."""
    power = np.abs(iq[iq != 0]) ** 2
    return float(10 * np.log10(power.max() / power.mean())) if len(power) else 0.0


def scale_for_tx(frame: np.ndarray, fmt: FrameFormat) -> tuple[np.ndarray, int]:
    """Scale a unit-power frame to RMS 10^(-backoff/20) and clip magnitudes to 1.0.

    Returns the samples (complex64, |x| <= 1) and how many were clipped.
    """
    return clip_to_full_scale(frame * np.float32(10 ** (-fmt.backoff_db / 20)))


def clip_to_full_scale(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Samples with magnitudes above 1.0 cut to 1.0 (phase kept), complex64, and how many were."""
    samples = samples.astype(np.complex64)
    magnitude = np.abs(samples)
    over = magnitude > 1.0
    samples[over] /= magnitude[over]
    return samples, int(np.count_nonzero(over))
