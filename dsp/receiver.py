"""The streaming OFDM receive front end: detection through equalization, batched.

``OfdmReceiver.process(samples)`` takes any chunk of a continuous stream, finds every
complete frame in it (frames cut at a buffer edge wait for the next chunk), and returns one
``RxFrame`` per frame with a good header. All frames found in a chunk are synchronized,
estimated and equalized together as arrays ``[F, ...]``, so the per-frame Python cost is small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from diffair.dsp.equalize import mmse_equalize
from diffair.dsp.errors import ConfigError, SignalError
from diffair.dsp.estimation import (estimate_channel, estimate_interferer, interferer_ici, thermal_snr_db, track_phase,
                            unit_phasor)
from diffair.dsp.frame import FrameFormat
from diffair.dsp.header import decode_headers
from diffair.dsp.packetizer import RxFrame
from diffair.dsp.sync import (coarse_cfo_hz, detection_metric, find_runs, fine_timing, fractional_cfo, integer_cfo,
                      ltf_correlation, spectrum, stf_cfo_hz)


@dataclass(frozen=True)
class ReceiverConfig:
    """threshold: detection metric threshold in (0, 1); estimator: "lmmse" or "ls";
    record_candidates: keep every confirmed detection in ``ReceiverStats.candidates`` (for
    detection statistics over a bounded run such as ``diffair link``; a live stream leaves it off,
    since the list grows with every frame)."""

    threshold: float = 0.1
    estimator: str = "lmmse"
    record_candidates: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"ReceiverConfig.threshold = {self.threshold!r} is outside (0, 1)")
        if self.estimator not in ("lmmse", "ls"):
            raise ConfigError(f"ReceiverConfig.estimator = {self.estimator!r}, expected 'lmmse' or 'ls'")


@dataclass
class ReceiverStats:
    """Counters over the receiver's life. ``candidates`` holds (frame start, header ok) when the
    config records them;
    ``format_mismatches`` counts good headers announcing another number of sounding symbols
    than the receiver's format has (those frames are dropped); ``gaps`` / ``samples_lost``:
    losses in the stream (``OfdmReceiver.gap``); ``frames_dropped_in_gaps``: frames found
    whose extent overlaps a loss (never decoded as good: their samples are not all there)."""

    samples: int = 0
    gaps: int = 0
    samples_lost: int = 0
    frames_dropped_in_gaps: int = 0
    bad_samples: int = 0
    detections: int = 0
    header_failures: int = 0
    format_mismatches: int = 0
    frames_ok: int = 0
    candidates: list[tuple[int, bool]] = field(default_factory=list)


def check_stream(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Validate a chunk of samples: complex64 ``[n]``. NaN/Inf samples are zeroed and counted."""
    if not isinstance(samples, np.ndarray) or samples.dtype != np.complex64:
        raise SignalError(f"samples must be a complex64 numpy array, got {type(samples).__name__} "
                          f"{getattr(samples, 'dtype', '')}")
    if samples.ndim != 1:
        raise SignalError(f"samples must be 1-D [num_samples], got shape {samples.shape}")
    bad = ~np.isfinite(samples)
    count = int(np.count_nonzero(bad))
    if count:
        samples = np.where(bad, np.complex64(0), samples)
    return samples, count


MAX_PAYLOAD_SYMBOLS = 1 << 23
"""Largest payload the receiver assembles (8.4 M symbols, about 200 MB of per-symbol arrays: a
16-megapixel image at ratio 1/6); a header announcing more, or a frame count that does not
match its length in this format, is refused before anything is allocated."""

DETECTION_STEP = 4
"""The detection metric is evaluated every 4 samples (fine timing comes from the LTF)."""

LTF_CONFIRM = 0.25
"""A detection is confirmed when the two LTF symbols correlate at least this much
(normalized |<r1, r2>| / sqrt(E1 E2); ~SNR/(1+SNR) on a frame, ~1/sqrt(N) on noise) ..."""

TIMING_CONFIRM = 0.1
"""... and the matched filter found the known LTF with at least this quality (normalized
peak; ~SNR/(1+SNR) times the strongest path's share of the channel energy)."""


def best_of_neighbours(positions: np.ndarray, quality: np.ndarray, distance: int) -> np.ndarray:
    """Mask ``[F]`` keeping, among candidates closer than ``distance`` to each other (runs
    split over one preamble), only the one of highest timing quality."""
    order = np.argsort(positions, kind="stable")
    keep = np.zeros(len(positions), bool)
    group = [order[0]]
    for prev, cur in zip(order[:-1], order[1:]):
        if positions[cur] - positions[prev] > distance:
            keep[max(group, key=lambda i: quality[i])] = True
            group = []
        group.append(cur)
    keep[max(group, key=lambda i: quality[i])] = True
    return keep


class OfdmReceiver:
    """Detect, synchronize, estimate and equalize frames of one ``FrameFormat``."""

    def __init__(self, fmt: FrameFormat, config: ReceiverConfig | None = None):
        self.fmt = fmt
        self.config = config or ReceiverConfig()
        self.stats = ReceiverStats()
        n = fmt.fft_size
        self.backoff = max(fmt.cp_len // 4, 1)
        self.detection_window = 3 * n // 2
        self._taps = np.arange(n)
        self._stf_taps = np.arange(fmt.stf_len)
        self._search = np.arange(8 * n)
        # FFT window offsets from LTF symbol 1: LTF 2, then every header and data symbol
        self._offsets = np.concatenate([[0, n], 2 * n + fmt.cp_len + fmt.symbol_len * np.arange(fmt.symbols_per_frame)])
        # samples a run needs after its start: the timing search span, or the whole frame
        # when the run began up to a detection window before the STF, plus a margin
        self._lookahead = max(3 * n // 2 + len(self._search),
                              self.detection_window + 5 * n // 2 + self._offsets[-1] + n) + n
        self._used_bins = fmt.bins(fmt.used_carriers)
        self._pilot_bins = fmt.bins(fmt.pilot_carriers)
        self._data_bins = fmt.bins(fmt.data_carriers)
        self._pilot_in_used = np.searchsorted(fmt.used_carriers, fmt.pilot_carriers)
        self._data_in_used = np.searchsorted(fmt.used_carriers, fmt.data_carriers)
        self._pilot_values = fmt.pilot_values(0, fmt.symbols_per_frame)
        self._buf = np.zeros(0, np.complex64)
        self._buf_start = 0  # absolute index of _buf[0]
        self._processed_until = 0  # runs starting before this absolute index are done
        self._frame_ends: list[int] = []

    # ---- public ----------------------------------------------------------------------

    def process(self, samples: np.ndarray) -> list[RxFrame]:
        """Feed a chunk of the stream; returns the frames completed by it."""
        samples, bad = check_stream(samples)
        self.stats.samples += len(samples)
        self.stats.bad_samples += bad
        buf = np.concatenate([self._buf, samples]) if len(self._buf) else samples
        fmt, step = self.fmt, DETECTION_STEP
        lag, window = fmt.stf_period, self.detection_window
        if len(buf) < 2 * lag + window + 2 * step:  # the metric needs both of its windows
            self._buf = buf
            return []
        metric, corr = detection_metric(buf, lag, window, step)
        quarter = fmt.fft_size // 4 // step
        starts, ends = find_runs(metric > self.config.threshold, min_run=quarter, max_gap=quarter)
        keep_from = len(buf) - (fmt.stf_len + window + lag + fmt.fft_size)
        fresh = starts * step + self._buf_start >= self._processed_until
        starts, ends = starts[fresh], ends[fresh]
        ready = starts * step + self._lookahead <= len(buf)
        if not np.all(ready):
            first_waiting = int(np.argmin(ready))
            keep_from = min(keep_from, int(starts[first_waiting]) * step - fmt.fft_size)
            starts, ends = starts[:first_waiting], ends[:first_waiting]
        frames = self._decode(buf, starts, ends, corr) if len(starts) else []
        if len(starts):
            self._processed_until = self._buf_start + int(starts[-1]) * step + 1
        keep_from = max(keep_from, 0)
        self._buf = buf[keep_from:].copy()
        self._buf_start += keep_from
        return frames

    def flush(self) -> list[RxFrame]:
        """Finish the frames waiting at the end of the stream (pads with zeros, which do not
        count as stream samples)."""
        return self._finish()

    def _finish(self) -> list[RxFrame]:
        pad = self.fmt.frame_len + 4 * self.fmt.fft_size
        frames = self.process(np.zeros(pad, np.complex64))
        self.stats.samples -= pad
        return frames

    @property
    def position(self) -> int:
        """Absolute index of the next sample the stream will feed."""
        return self._buf_start + len(self._buf)

    def gap(self, lost: int) -> list[RxFrame]:
        """The stream lost ``lost`` samples after what it has fed so far: finish the frames that
        end before the loss; a frame found across it is dropped and counted (its samples are not
        all there, and those after the loss belong to other frames), never returned as good.
        Detection resumes after the loss, at the right absolute positions."""
        if lost <= 0:
            return []
        fmt = self.fmt
        gap_start = self.position
        frames = self._finish()
        kept = [f for f in frames if f.start + fmt.frame_len <= gap_start]
        dropped = len(frames) - len(kept)
        self.stats.frames_ok -= dropped
        self.stats.frames_dropped_in_gaps += dropped
        self.stats.gaps += 1
        self.stats.samples_lost += lost
        self._buf = np.zeros(0, np.complex64)
        self._buf_start = self._processed_until = gap_start + lost
        return kept

    # ---- the batched pipeline -----------------------------------------------------------

    def _decode(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, corr: np.ndarray) -> list[RxFrame]:
        fmt, n, taps = self.fmt, self.fmt.fft_size, self._taps
        spacing, fs = fmt.subcarrier_spacing_hz, fmt.sample_rate_hz
        coarse = coarse_cfo_hz(corr, starts, ends, fmt)  # [F] Hz
        # fine timing: a run starts up to W before the frame start (the plateau), or later at
        # low SNR, so LTF symbol 1 is searched over [start + 3N/2, start + 15N/2)
        search_lo = starts * DETECTION_STEP + 3 * n // 2
        rotor = unit_phasor((-2 * np.pi / fs) * coarse[:, None] * self._search[None, :])
        windows = buf[search_lo[:, None] + self._search[None, :]] * rotor
        offset, quality = fine_timing(windows, fmt, self.backoff)
        ltf1_at = np.clip(search_lo + offset, 0, len(buf) - self._offsets[-1] - n)
        raw1 = buf[ltf1_at[:, None] + taps]
        raw2 = buf[ltf1_at[:, None] + n + taps]
        confirmed = ((ltf_correlation(raw1, raw2) >= LTF_CONFIRM) & (quality >= TIMING_CONFIRM)
                     & best_of_neighbours(ltf1_at, quality, n // 2))
        self.stats.detections += int(np.count_nonzero(confirmed))
        if not np.any(confirmed):
            return []
        coarse, ltf1_at, raw1, raw2 = coarse[confirmed], ltf1_at[confirmed], raw1[confirmed], raw2[confirmed]
        # CFO: coarse over the located STF, fractional from the LTF repetition, integer from a
        # frequency-domain search around their combination
        stf_at = ltf1_at + self.backoff - fmt.ltf_guard - fmt.stf_len
        coarse = stf_cfo_hz(buf[np.maximum(stf_at, 0)[:, None] + self._stf_taps], fmt)
        eps = fractional_cfo(raw1, raw2)
        guess = np.round(coarse / spacing - eps) + eps
        rot = unit_phasor((-2 * np.pi / fs) * (guess * spacing)[:, None] * taps[None, :])
        second = (np.exp(-2j * np.pi * guess)[:, None] * raw2).astype(np.complex64)
        ltf_spec = spectrum(0.5 * (raw1 + second) * rot, fmt)
        cfo = (guess + integer_cfo(ltf_spec, fmt)) * spacing  # [F] Hz
        # every FFT window: derotate inside the window, FFT, then rotate each window as a whole
        windows = sliding_window_view(buf, n)[ltf1_at[:, None] + self._offsets[None, :]]  # [F, 2+S, N]
        windows *= unit_phasor((-2 * np.pi / fs) * cfo[:, None] * taps[None, :])[:, None, :]
        grid = spectrum(windows, fmt)[:, :, self._used_bins]  # [F, 2+S, U]
        grid *= unit_phasor((-2 * np.pi / fs) * cfo[:, None] * self._offsets[None, :])[:, :, None]
        est = estimate_channel(grid[:, 0], grid[:, 1], fmt, self.config.estimator)
        thermal_snr = thermal_snr_db(windows, est.signal_power, fmt)
        symbols = grid[:, 2:]
        phase = track_phase(symbols[:, :, self._pilot_in_used], est.h[:, self._pilot_in_used],
                            self._pilot_values, self._data_in_used, fmt)
        data = symbols[:, :, self._data_in_used] * phase  # [F, S, N_data]
        h = est.h[:, None, self._data_in_used]
        noise = est.noise_var[:, None, None].astype(np.float32) + est.error_var[:, None, self._data_in_used]
        llr = 4 * np.real(np.conj(h) * data[:, :fmt.header_symbols]) / noise
        headers = decode_headers(llr, fmt)
        x_hat, gain, eff_var = mmse_equalize(data[:, fmt.data_indices], h, noise)
        cross = sir_db = None
        if fmt.sounding_symbols:
            interferer = estimate_interferer(data[:, fmt.sounding_indices], est.noise_var, fmt)
            # x_hat = gain x + cross z + w: the interferer through the wanted user's equalizer;
            # its estimation error and its inter-carrier interference (times |z|^2 = 1) join w
            denom = np.abs(h) ** 2 + noise
            cross = np.conj(h) * interferer.h / denom
            ici = interferer_ici(interferer.drift, fmt)[:, None, None] * np.abs(cross) ** 2
            eff_var = eff_var + (np.abs(h) ** 2 / denom ** 2 * interferer.error_var[:, None, None] + ici
                                 ).astype(np.float32)
            sir_db = 10 * np.log10(est.signal_power / interferer.power)
        frame_starts = self._buf_start + ltf1_at + self.backoff - fmt.ltf_start - fmt.ltf_guard
        return self._accept(headers, x_hat, gain, eff_var, est.snr_db, thermal_snr, cfo, frame_starts, cross, sir_db)

    def _accept(self, headers, x_hat, gain, eff_var, snr_db, thermal_snr, cfo, frame_starts, cross, sir_db
                ) -> list[RxFrame]:
        fmt = self.fmt
        frames: list[RxFrame] = []
        for i, header in enumerate(headers):
            start = int(frame_starts[i])
            if self.config.record_candidates:
                self.stats.candidates.append((start, header is not None))
            if header is None:
                self.stats.header_failures += 1
                continue
            if header.sounding != fmt.sounding_symbols:
                self.stats.format_mismatches += 1  # its data symbols are not where this format reads them
                continue
            if any(abs(start + fmt.frame_len - end) < fmt.fft_size for end in self._frame_ends[-4:]):
                continue  # the same frame found twice (a split detection run)
            count = min(header.payload_symbols - header.frame_index * fmt.payload_capacity, fmt.payload_capacity)
            if (count <= 0 or header.payload_symbols > MAX_PAYLOAD_SYMBOLS
                    or header.frame_count != -(-header.payload_symbols // fmt.payload_capacity)):
                self.stats.header_failures += 1  # a header inconsistent with this format: nothing is allocated for it
                continue
            self._frame_ends.append(start + fmt.frame_len)
            del self._frame_ends[:-8]
            self.stats.frames_ok += 1
            frames.append(RxFrame(header, x_hat[i].reshape(-1)[:count], gain[i].reshape(-1)[:count],
                                  eff_var[i].reshape(-1)[:count], float(snr_db[i]), float(cfo[i]), start,
                                  float(thermal_snr[i]),
                                  None if cross is None else cross[i].reshape(-1)[:count].astype(np.complex64),
                                  None if sir_db is None else float(sir_db[i])))
        return frames
