"""Channel, noise and SNR estimation from the LTF, and pilot tracking through a frame.

Shapes: F frames, U used carriers, S OFDM symbols (header + data), P pilots.

* LS: H_ls = (Y1 + Y2) / 2 * X* on every used carrier (the LTF is a full pilot symbol),
  noise variance sigma^2 = mean |Y1 - Y2|^2 / 2, SNR = (mean |H_ls|^2 - sigma^2/2) / sigma^2.
* LMMSE: H = R (R + s I)^-1 H_ls with R the frequency correlation of a uniform power-delay
  profile over the cyclic prefix and s = (sigma^2/2) / mean|H|^2, computed through R's
  eigen-decomposition, with the per-carrier error variance of the estimate.
* Thermal noise: the mean power at the guard carriers (fmt.guard_carriers, Hann-windowed
  DFT) over every OFDM symbol of the frame, the quieter of the two band edges; against it the SNR without interference (the LTF's noise estimate
  holds noise plus interference: the SINR).
* Synchronous interferer (fmt.sounding_symbols > 0): its LS channel on the data carriers
  from the sounding symbols, carried to every data symbol with its phase drift against the
  wanted signal (``estimate_interferer``), error variance sigma^2 / Q, and its power; the
  wanted LTF then sees no interference, so its noise estimate is the thermal noise.
* Tracking (time interpolation): per symbol, the pilots give a common phase and a phase
  slope across carriers (timing drift from the sample-rate offset); both are fitted over
  the frame as straight lines in the symbol index (the common phase then also follows its
  residual, averaged over 7 symbols, for phase noise) and removed from every carrier.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from diffair.dsp.frame import FrameFormat


@dataclass
class ChannelEstimate:
    """h: complex64 ``[F, U]``; error_var: float32 ``[F, U]``; noise_var, snr_db,
    signal_power: float ``[F]`` (noise_var counts everything that is not the frame: noise and
    interference, so snr_db is the SINR when an interferer is on the air)."""

    h: np.ndarray
    error_var: np.ndarray
    noise_var: np.ndarray
    snr_db: np.ndarray
    signal_power: np.ndarray


@dataclass
class InterfererEstimate:
    """A synchronous interferer's channel at the data carriers of every data symbol: h
    complex64 ``[F, S, N_data]``; error_var, power and drift float ``[F]`` (power: its mean
    received power per data carrier; drift: its phase turn per OFDM symbol relative to the
    wanted signal's, radians)."""

    h: np.ndarray
    error_var: np.ndarray
    power: np.ndarray
    drift: np.ndarray


def estimate_interferer(sounding: np.ndarray, noise_var: np.ndarray, fmt: FrameFormat) -> InterfererEstimate:
    """From the sounding symbols' data carriers ``[F, Q, N_data]`` (phase-tracked for the wanted
    signal), where the interferer sends the LTF sequence; ``noise_var`` ``[F]`` per carrier.

    LS estimate per sounding symbol q (at symbol index n_q), H_q = Y_q X*. The interferer's
    phase may turn against the wanted signal's (a residual carrier offset between the two
    transmitters): with two or more soundings the turn per symbol phi is first read from the
    closest pair, then refined from the farthest (fmt.sounding_indices puts the last one after
    the data), phi = angle(sum_k H_b H_a*) / (n_b - n_a); then H(n) = mean_q H_q e^(j phi (n - n_q)),
    error variance (sigma^2 + its inter-carrier interference) / Q."""
    per_symbol = sounding * np.conj(fmt.sounding_values)  # [F, Q, N_data]
    times = fmt.sounding_indices.astype(np.float64)
    drift = np.zeros(len(sounding))
    if len(times) > 1:
        gaps = np.diff(times)
        closest = int(np.argmin(gaps))
        for a, b in ((closest, closest + 1), (0, len(times) - 1)):
            turn = np.sum(per_symbol[:, b] * np.conj(per_symbol[:, a]), axis=1) * np.exp(
                -1j * drift * (times[b] - times[a]))
            drift = drift + np.angle(turn) / (times[b] - times[a])
    offsets = fmt.data_indices[None, :, None] - times[None, None, :]  # [1, S, Q]
    rotation = np.exp(1j * drift[:, None, None] * offsets)  # [F, S, Q]
    h = np.einsum("fsq,fqk->fsk", rotation, per_symbol) / len(times)
    power = np.maximum(np.mean(np.abs(per_symbol) ** 2, axis=(1, 2)) - noise_var, 1e-12)
    error_var = (noise_var + interferer_ici(drift, fmt) * power) / len(times)  # its own ICI blurs the soundings
    return InterfererEstimate(h.astype(np.complex64), error_var, power, drift)


def interferer_ici(drift: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """The share of a signal's power that a carrier offset of ``drift`` radians per OFDM symbol
    ``[F]`` spreads onto the other carriers, (pi eps)^2 / 3 for eps = drift / 2 pi * N / (N + CP)
    subcarrier spacings (small-offset approximation), ``[F]``."""
    eps = drift / (2 * np.pi) * fmt.fft_size / fmt.symbol_len
    return (np.pi * eps) ** 2 / 3


@lru_cache(maxsize=8)
def _pdp_eigen(fmt: FrameFormat) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition (lambda ``[U]``, U ``[U, U]``) of the normalized frequency
    correlation of a uniform power-delay profile over ``[0, cp_len)`` samples."""
    k = fmt.used_carriers.astype(np.float64)
    delays = np.arange(fmt.cp_len)
    phase = np.exp(-2j * np.pi * np.outer(k, delays) / fmt.fft_size)
    corr = phase @ phase.conj().T / fmt.cp_len
    lam, vec = np.linalg.eigh(corr)
    return np.clip(lam, 0.0, None).astype(np.float32), vec.astype(np.complex64)


def estimate_channel(ltf1: np.ndarray, ltf2: np.ndarray, fmt: FrameFormat, method: str = "lmmse"
                     ) -> ChannelEstimate:
    """Estimate from the two LTF spectra at the used carriers, each complex ``[F, U]``."""
    known = np.conj(fmt.ltf_values)
    h_ls = 0.5 * (ltf1 + ltf2) * known
    noise_var = np.maximum(np.mean(np.abs(ltf1 - ltf2) ** 2, axis=1) / 2, 1e-12)
    signal = np.maximum(np.mean(np.abs(h_ls) ** 2, axis=1) - noise_var / 2, 1e-12)
    snr_db = 10 * np.log10(signal / noise_var)
    if method == "ls":
        error = np.broadcast_to((noise_var / 2)[:, None], h_ls.shape)
        return ChannelEstimate(h_ls.astype(np.complex64), error.astype(np.float32), noise_var, snr_db, signal)
    lam, vec = _pdp_eigen(fmt)
    s = (noise_var / 2 / signal).astype(np.float32)[:, None]  # [F, 1]
    shrink = lam[None, :] / (lam[None, :] + s)  # [F, U]
    coeffs = h_ls @ vec.conj()  # rows: U^H h_ls for each frame
    h = (coeffs * shrink) @ vec.T
    # error covariance diag: sum_i |U_ki|^2 * lambda_i * s / (lambda_i + s) * signal
    error = (lam[None, :] * s / (lam[None, :] + s)) @ (np.abs(vec) ** 2).T * signal[:, None]
    return ChannelEstimate(h.astype(np.complex64), error.astype(np.float32), noise_var, snr_db, signal)


@lru_cache(maxsize=8)
def guard_dft(fmt: FrameFormat) -> np.ndarray:
    """complex64 ``[N, G]``: a Hann-windowed DFT onto the guard carriers, scaled so white noise
    comes out with the variance it has per used carrier in ``dsp.sync.spectrum``'s units. The
    window keeps an unsynchronized interferer's leakage (a rectangular window's sidelobes fall
    only as 1/d^2) below -30 dB at GUARD_MARGIN carriers from the band."""
    n = np.arange(fmt.fft_size)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / fmt.fft_size)
    scale = np.sqrt(len(fmt.used_carriers)) / fmt.fft_size * np.sqrt(fmt.fft_size / np.sum(window ** 2))
    basis = np.exp(-2j * np.pi * np.outer(n, fmt.bins(fmt.guard_carriers)) / fmt.fft_size)
    return (window[:, None] * basis * scale).astype(np.complex64)


def thermal_snr_db(windows: np.ndarray, signal_power: np.ndarray, fmt: FrameFormat) -> np.ndarray:
    """SNR against the receiver's noise alone, from the frames' FFT windows ``[F, S, N]``
    (time domain) projected on the guard carriers, where nothing is sent; ``signal_power``
    ``[F]``. Returns ``[F]`` dB.

    The noise power is the smaller of the two guard bands' means: an interferer offset in
    frequency from the wanted frame (its own CFO) spills into one band edge, not both."""
    power = np.mean(np.abs(windows @ guard_dft(fmt)) ** 2, axis=1)  # [F, G]
    lower = fmt.guard_carriers < 0
    thermal = np.maximum(np.minimum(power[:, lower].mean(axis=1), power[:, ~lower].mean(axis=1)), 1e-12)
    return 10 * np.log10(np.maximum(signal_power, 1e-12) / thermal)


PHASE_WINDOW = 7
"""Symbols averaged when tracking the phase left after the straight-line fit (phase noise)."""


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average along axis 1 of ``[F, S]``, shorter windows at the edges."""
    from scipy.ndimage import convolve1d

    kernel = np.ones(window)
    counts = np.convolve(np.ones(values.shape[1]), kernel, mode="same")
    return convolve1d(values, kernel, axis=1, mode="constant") / counts


def _line_fit(values: np.ndarray) -> np.ndarray:
    """Least-squares straight line through each row of ``values`` ``[F, S]``, evaluated at 0..S-1."""
    n = np.arange(values.shape[1], dtype=np.float64)
    centred = n - n.mean()
    slope = (values - values.mean(axis=1, keepdims=True)) @ centred / np.sum(centred ** 2)
    return values.mean(axis=1, keepdims=True) + slope[:, None] * centred[None, :]


def track_phase(pilots: np.ndarray, h_pilots: np.ndarray, pilot_values: np.ndarray, carriers: np.ndarray,
                fmt: FrameFormat) -> np.ndarray:
    """Phase correction ``exp(-j(theta_n + slope_n k))`` for every symbol and the chosen carriers.

    pilots: received pilots ``[F, S, P]``; h_pilots: channel at the pilots ``[F, P]``;
    pilot_values: known pilot values ``[S, P]``; carriers: indices into the used carriers
    ``[C]``. Returns complex64 ``[F, S, C]``.

    theta_n = a + b n: first b = angle(sum_n c_n c*_(n-1)) (robust to wrapping) and
    a = angle(sum_n c_n e^(-j b n)), c_n the channel-weighted pilot correlation, then a
    least-squares line through the residual phases refines both; the slope
    (radians per carrier) is fitted per symbol, then as a line over the frame.
    """
    ratio = pilots * np.conj(h_pilots)[:, None, :] * pilot_values[None]  # [F, S, P]
    common = ratio.sum(axis=2)  # [F, S]
    step = np.angle(np.sum(common[:, 1:] * np.conj(common[:, :-1]), axis=1))  # [F]
    n = np.arange(common.shape[1])
    ramp = np.exp(-1j * step[:, None] * n[None, :])
    offset = np.angle(np.sum(common * ramp, axis=1))
    theta = offset[:, None] + step[:, None] * n[None, :]
    # refine: least-squares line through the (now small) residual phases, then follow what
    # is left (phase noise) with a moving average over PHASE_WINDOW symbols
    theta = theta + _line_fit(np.angle(common * np.exp(-1j * theta)))
    theta = theta + _moving_average(np.angle(common * np.exp(-1j * theta)), PHASE_WINDOW)
    k = fmt.pilot_carriers.astype(np.float64)
    weights = np.abs(h_pilots) ** 2  # [F, P]
    residual = np.angle(ratio * np.exp(-1j * theta)[:, :, None])  # [F, S, P]
    slope = np.sum(weights[:, None, :] * k * residual, axis=2) / np.maximum(
        np.sum(weights * k ** 2, axis=1), 1e-12)[:, None]
    slope = _line_fit(slope)
    k_out = fmt.used_carriers[carriers].astype(np.float32)
    phase = theta.astype(np.float32)[:, :, None] + slope.astype(np.float32)[:, :, None] * k_out[None, None, :]
    return unit_phasor(-phase)


def unit_phasor(phase: np.ndarray) -> np.ndarray:
    """exp(j phase) as complex64, through float32 cos/sin (several times faster than complex exp)."""
    phase = np.asarray(phase, np.float32)
    out = np.empty(phase.shape, np.complex64)
    np.cos(phase, out=out.real)
    np.sin(phase, out=out.imag)
    return out
