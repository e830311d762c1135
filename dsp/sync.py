"""Acquisition: packet detection, coarse and fine timing, and CFO (integer + fractional).

1. Detection (Schmidl & Cox, 1997, on the STF's period D = N/8): over a window W = 3N/2,
   P(d) = sum_m r*(d+m) r(d+m+D) and M(d) = |P(d)|^2 / ((E1(d) + E2(d)) / 2)^2, with E1, E2
   the energies of the two windows (the mean, not the product, so that the end of a burst
   followed by silence does not trigger), hence 0 <= M <= 1 and M ~ (SNR/(1+SNR))^2 on the
   STF plateau. Runs of M above the
   threshold, at least ``min_run`` long, are candidates.
2. A rough CFO from angle(sum of P over the run): f = angle * Fs / (2 pi D), unambiguous
   within +/-Fs/(2D) = +/-4 subcarrier spacings.
3. Fine timing: matched filter of the roughly corrected signal against both LTF symbols;
   the FFT window starts ``backoff`` samples before the first path above 25 % of the peak.
   The coarse CFO is then measured again over the whole STF, now that its position is known.
4. Fractional CFO eps in (-1/2, 1/2] spacings from the lag-N correlation of the two LTF
   symbols; integer part I from a frequency-domain search: the candidate shift m that
   maximizes |sum_k Z_k Z*_(k+1)|, Z_k = Y_(k+m) X*_k (differential, so robust to a
   frequency-selective channel). CFO = (I + eps) x spacing.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

from diffair.dsp.frame import FrameFormat


def detection_metric(samples: np.ndarray, lag: int, window: int, step: int = 4
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Schmidl & Cox metric over a stream, evaluated every ``step`` samples.

    samples: complex64 ``[n]``; lag and window must be multiples of ``step``. Returns ``M``
    float32 ``[J]`` and ``P`` complex128 ``[J]`` for window starts d = j * step. Products and
    energies are first summed over blocks of ``step`` samples, so the running sums cost
    1/step of a per-sample metric.
    """
    prod = np.conj(samples[:-lag]) * samples[lag:]
    power = samples.real * samples.real + samples.imag * samples.imag
    blocks = len(prod) // step
    prod_blocks = _block_sum(prod, blocks, step)
    power_blocks = _block_sum(power, blocks, step)
    win, lag_b = window // step, lag // step
    acc = np.concatenate([[0], np.cumsum(prod_blocks, dtype=np.complex128)])
    corr = acc[win:] - acc[:-win]
    energy = np.concatenate([[0], np.cumsum(power_blocks, dtype=np.float64)])
    count = max(min(len(corr), len(energy) - win - lag_b), 0)  # 0 for a buffer shorter than 2 lags + window
    corr = corr[:count]
    e1 = energy[win:win + count] - energy[:count]
    e2 = energy[win + lag_b:win + lag_b + count] - energy[lag_b:lag_b + count]
    metric = (corr.real ** 2 + corr.imag ** 2) / np.maximum(0.25 * (e1 + e2) ** 2, 1e-30)
    return metric.astype(np.float32), corr


def _block_sum(x: np.ndarray, blocks: int, step: int) -> np.ndarray:
    """Sums of consecutive groups of ``step`` values (strided adds beat a reduce over a short axis)."""
    total = x[0:blocks * step:step].copy()
    for offset in range(1, step):
        total += x[offset:blocks * step:step]
    return total


def find_runs(mask: np.ndarray, min_run: int, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of True runs, merging gaps up to ``max_gap`` and
    dropping runs shorter than ``min_run``."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = edges[0::2], edges[1::2]
    if len(starts) == 0:
        return starts, ends
    separated = starts[1:] - ends[:-1] > max_gap
    starts = starts[np.concatenate([[True], separated])]
    ends = ends[np.concatenate([separated, [True]])]
    long_enough = ends - starts >= min_run
    return starts[long_enough], ends[long_enough]


def coarse_cfo_hz(corr: np.ndarray, starts: np.ndarray, ends: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """CFO (Hz) ``[F]`` from the correlation summed over each detection run (indices into ``corr``)."""
    acc = np.concatenate([[0], np.cumsum(corr)])
    total = acc[ends] - acc[starts]
    return np.angle(total) * fmt.sample_rate_hz / (2 * np.pi * fmt.stf_period)


def fine_timing(windows: np.ndarray, fmt: FrameFormat, backoff: int) -> tuple[np.ndarray, np.ndarray]:
    """Offset (samples) of each FFT window start of LTF symbol 1 within ``windows`` ``[F]``,
    and the match quality ``[F]`` in [0, 1] (normalized matched-filter peak).

    windows: coarse-CFO-corrected complex64 ``[F, L]`` with L > 2N. The matched filter
    c(d) = |<ltf, r[d:d+N]>|^2 + |<ltf, r[d+N:d+2N]>|^2 is computed for every d by FFT
    correlation; the window starts ``backoff`` samples before the first path, the earliest
    index within half a CP before the peak that reaches 25 % of it.
    """
    n, length = fmt.fft_size, windows.shape[1]
    size = 1 << int(np.ceil(np.log2(length)))
    ref = np.conj(fft.fft(fmt.ltf_symbol, size))
    corr = fft.ifft(fft.fft(windows, size, axis=1) * ref, axis=1)[:, :length - n + 1]
    power = corr.real ** 2 + corr.imag ** 2
    score = power[:, :-n] + power[:, n:]
    peak = np.argmax(score, axis=1)
    rows = np.arange(len(windows))
    span = np.arange(-(fmt.cp_len // 2), 1)
    idx = np.clip(peak[:, None] + span[None, :], 0, score.shape[1] - 1)
    strong = score[rows[:, None], idx] >= 0.25 * score[rows, peak][:, None]
    first = idx[rows, np.argmax(strong, axis=1)]
    segment = windows[rows[:, None], peak[:, None] + np.arange(2 * n)]
    at_peak = np.sum(segment.real ** 2 + segment.imag ** 2, axis=1)
    quality = score[rows, peak] / np.maximum(at_peak * np.sum(np.abs(fmt.ltf_symbol) ** 2), 1e-30)
    return first - backoff, quality


def stf_cfo_hz(stf: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """Coarse CFO (Hz) ``[F]`` from STF samples ``[F, L]`` at a known position: the angle of
    the lag-D autocorrelation over the whole field (range +/-Fs/(2D))."""
    lag = fmt.stf_period
    total = np.sum(np.conj(stf[:, :-lag]) * stf[:, lag:], axis=1)
    return np.angle(total) * fmt.sample_rate_hz / (2 * np.pi * lag)


def ltf_correlation(ltf1: np.ndarray, ltf2: np.ndarray) -> np.ndarray:
    """Normalized correlation |<r1, r2>| / sqrt(E1 E2) of the two LTF symbols ``[F, N]`` -> ``[F]``."""
    cross = np.abs(np.sum(np.conj(ltf1) * ltf2, axis=1))
    energy = np.sqrt(np.sum(np.abs(ltf1) ** 2, axis=1) * np.sum(np.abs(ltf2) ** 2, axis=1))
    return cross / np.maximum(energy, 1e-30)


def fractional_cfo(ltf1: np.ndarray, ltf2: np.ndarray) -> np.ndarray:
    """Fractional CFO in subcarrier spacings ``[F]`` from the two LTF symbols ``[F, N]``."""
    return np.angle(np.sum(np.conj(ltf1) * ltf2, axis=1)) / (2 * np.pi)


def integer_cfo(ltf_spectrum: np.ndarray, fmt: FrameFormat, search: int = 1) -> np.ndarray:
    """Residual integer carrier offset ``[F]`` in [-search, search] from an LTF spectrum
    ``[F, N]`` (FFT bin order) already corrected by the fractional and coarse integer parts."""
    known = np.conj(fmt.ltf_values)
    best_score = np.full(len(ltf_spectrum), -1.0)
    best = np.zeros(len(ltf_spectrum), np.int64)
    for shift in range(-search, search + 1):
        z = ltf_spectrum[:, fmt.bins(fmt.used_carriers + shift)] * known
        score = np.abs(np.sum(z[:, 1:] * np.conj(z[:, :-1]), axis=1))
        better = score > best_score
        best_score = np.where(better, score, best_score)
        best = np.where(better, shift, best)
    return best


def spectrum(time_windows: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """FFT ``[..., N]`` -> ``[..., N]`` scaled so unit-power carriers come back at unit power."""
    return fft.fft(time_windows, axis=-1) * np.float32(np.sqrt(len(fmt.used_carriers)) / fmt.fft_size)
