"""Seeded, reproducible channel impairments between a transmitter and the loopback receiver.

Per burst, in this order: random leading idle gap -> Rayleigh block-fading multipath (a new
tapped delay line per burst, exponential power-delay profile, E sum|h|^2 = 1) -> sample-rate
offset and fractional timing (windowed-sinc resampling) -> carrier frequency offset and
Wiener phase noise -> an optional interferer's samples (radio.interferer) -> AWGN -> receiver
gain, IQ imbalance, DC offset, ADC quantization with clipping. A synchronous interferer's
burst joins the wanted one after the fading instead, so that it shares its timing, sample
clock and frequency offset. Idle time between bursts carries the same noise and receiver chain.

SNR convention: in-band SNR = signal_power / (noise power inside the occupied band), i.e.
the noise variance per complex sample is signal_power / (SNR * bandwidth_fraction). With an
OFDM frame that equals the per-subcarrier SNR of its data symbols.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from diffair.dsp.errors import ConfigError
from diffair.dsp.units import complex_gaussian

SINC_HALF_WIDTH = 16
"""The resampler's Kaiser-windowed sinc spans 2 x 16 input samples."""

KAISER_BETA = 8.0
"""Window shape: interpolation error below -80 dB up to 0.41 Fs (an OFDM band edge)."""


def _need(ok: bool, name: str, value, expected: str) -> None:
    if not ok:
        raise ConfigError(f"ChannelConfig.{name} = {value!r}; expected {expected}")


@dataclass(frozen=True)
class ChannelConfig:
    """Every impairment of the loopback channel; the defaults are an ideal wire.

    snr_db: in-band SNR (None = no noise). signal_power: the TX mean power the SNR refers to.
    bandwidth_fraction: occupied share of the sampled band. fading: "none" or "rayleigh".
    rms_delay_samples / max_delay_samples: exponential power-delay profile, taps 0..max.
    gap_samples: (low, high) idle samples before each burst, drawn uniformly.
    adc_bits: None, or the ADC resolution (12 for a Pluto) with full scale 1.0.
    """

    snr_db: float | None = None
    signal_power: float = 10 ** (-12 / 10)
    bandwidth_fraction: float = 1.0
    sample_rate_hz: float = 1e6
    fading: str = "none"
    rms_delay_samples: float = 2.0
    max_delay_samples: int = 8
    cfo_hz: float = 0.0
    sro_ppm: float = 0.0
    gap_samples: tuple[int, int] = (0, 0)
    phase_noise_hz: float = 0.0
    dc_offset: tuple[float, float] = (0.0, 0.0)
    iq_gain_db: float = 0.0
    iq_phase_deg: float = 0.0
    rx_gain_db: float = 0.0
    adc_bits: int | None = None

    def __post_init__(self) -> None:
        if self.snr_db is not None:
            _need(-30 <= self.snr_db <= 80, "snr_db", self.snr_db, "None or a value in [-30, 80] dB")
        _need(0 < self.signal_power <= 1, "signal_power", self.signal_power, "a power in (0, 1]")
        _need(0 < self.bandwidth_fraction <= 1, "bandwidth_fraction", self.bandwidth_fraction, "a value in (0, 1]")
        _need(self.fading in ("none", "rayleigh"), "fading", self.fading, "'none' or 'rayleigh'")
        _need(self.rms_delay_samples > 0, "rms_delay_samples", self.rms_delay_samples, "a positive value")
        _need(0 <= self.max_delay_samples <= 256, "max_delay_samples", self.max_delay_samples, "an integer in [0, 256]")
        _need(abs(self.cfo_hz) <= self.sample_rate_hz / 2, "cfo_hz", self.cfo_hz, "|cfo| below half the sample rate")
        _need(abs(self.sro_ppm) <= 1000, "sro_ppm", self.sro_ppm, "a value in [-1000, 1000] ppm")
        low, high = self.gap_samples
        _need(0 <= low <= high, "gap_samples", self.gap_samples, "(low, high) with 0 <= low <= high")
        _need(self.phase_noise_hz >= 0, "phase_noise_hz", self.phase_noise_hz, "a linewidth >= 0 Hz")
        _need(self.adc_bits is None or 2 <= self.adc_bits <= 16, "adc_bits", self.adc_bits, "None or 2..16 bits")

    @classmethod
    def from_dict(cls, data: dict) -> "ChannelConfig":
        """From a YAML mapping; unknown keys are refused."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"channel: unknown key(s) {unknown}; expected a subset of {sorted(known)}")
        data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**data)

    @property
    def noise_var(self) -> float:
        """Complex noise variance per sample (0 without noise)."""
        if self.snr_db is None:
            return 0.0
        return self.signal_power / (10 ** (self.snr_db / 10) * self.bandwidth_fraction)


@dataclass
class BurstTruth:
    """What the channel did to one burst: where it starts in the receive stream (absolute
    sample index of the first burst sample, fractional part included), the taps
    ``[max_delay+1]``, and the noise variance."""

    start: float
    taps: np.ndarray
    noise_var: float


def resample(x: np.ndarray, offset: float, ratio: float) -> np.ndarray:
    """Evaluate ``x`` at times ``offset + k * ratio`` (k = 0, 1, ...) by windowed-sinc
    interpolation; ``offset`` in [0, 1). Returns complex64 ``[floor((len(x) - offset) / ratio)]``."""
    count = int(np.floor((len(x) - offset) / ratio))
    t = offset + np.arange(count) * ratio
    base = np.floor(t).astype(np.int64)
    frac = (t - base).astype(np.float32)
    padded = np.concatenate([np.zeros(SINC_HALF_WIDTH, x.dtype), x, np.zeros(SINC_HALF_WIDTH + 1, x.dtype)])
    out = np.zeros(count, np.complex64)
    for j in range(-SINC_HALF_WIDTH + 1, SINC_HALF_WIDTH + 1):
        arg = frac - j
        window = np.i0(KAISER_BETA * np.sqrt(np.clip(1 - (arg / SINC_HALF_WIDTH) ** 2, 0, None))) / np.i0(KAISER_BETA)
        out += padded[base + j + SINC_HALF_WIDTH] * (np.sinc(arg) * window).astype(np.float32)
    return out


class LoopbackChannel:
    """Applies a ChannelConfig to bursts and idle time, keeping one absolute sample clock."""

    def __init__(self, config: ChannelConfig, seed: int = 0, interferer=None):
        self.config = config
        self.interferer = interferer  # radio.interferer.Interferer, SynchronousInterferer or None
        self.rng = np.random.default_rng(seed)
        self.position = 0  # absolute index of the next output sample
        self._phase_noise = 0.0

    def burst(self, iq: np.ndarray) -> tuple[np.ndarray, BurstTruth]:
        """Leading idle gap + one burst through the channel -> (received samples, truth)."""
        cfg = self.config
        gap = int(self.rng.integers(cfg.gap_samples[0], cfg.gap_samples[1] + 1))
        taps = self.draw_taps()
        faded = np.convolve(iq, taps).astype(np.complex64) if len(taps) > 1 or taps[0] != 1 else iq
        if self.interferer is not None and self.interferer.synchronous:
            faded = faded + self.interferer.aligned(len(faded))
        timing_on = cfg.sro_ppm != 0 or cfg.gap_samples[1] > 0
        offset = float(self.rng.uniform(0, 1)) if timing_on else 0.0
        if timing_on:
            ratio = 1.0 + cfg.sro_ppm * 1e-6
            faded = resample(np.concatenate([np.zeros(1, np.complex64), faded]), 1.0 - offset, ratio)
        start = self.position + gap + offset
        clean = np.concatenate([np.zeros(gap, np.complex64), faded])
        return self._receive_chain(clean), BurstTruth(start, taps, cfg.noise_var)

    def idle(self, count: int) -> np.ndarray:
        """``count`` samples with no signal: noise through the receiver chain."""
        return self._receive_chain(np.zeros(count, np.complex64))

    def draw_taps(self) -> np.ndarray:
        """A new tapped delay line, complex64 ``[max_delay+1]`` (one tap of 1 without fading)."""
        cfg = self.config
        if cfg.fading == "none":
            return np.ones(1, np.complex64)
        delays = np.arange(cfg.max_delay_samples + 1)
        power = np.exp(-delays / cfg.rms_delay_samples)
        power /= power.sum()
        gains = complex_gaussian(self.rng, len(delays)).astype(np.complex128)
        return (gains * np.sqrt(power)).astype(np.complex64)

    def _receive_chain(self, clean: np.ndarray) -> np.ndarray:
        cfg = self.config
        n = np.arange(self.position, self.position + len(clean))
        phase = 2 * np.pi * cfg.cfo_hz * n / cfg.sample_rate_hz
        if cfg.phase_noise_hz > 0:
            steps = self.rng.normal(0, np.sqrt(2 * np.pi * cfg.phase_noise_hz / cfg.sample_rate_hz), len(clean))
            walk = self._phase_noise + np.cumsum(steps)
            self._phase_noise = float(walk[-1]) if len(walk) else self._phase_noise
            phase = phase + walk
        y = clean * np.exp(1j * phase).astype(np.complex64) if np.any(phase) else clean.copy()
        if self.interferer is not None and not self.interferer.synchronous:
            y = y + self.interferer.take(len(clean))
        if cfg.noise_var > 0:
            y = y + np.sqrt(cfg.noise_var) * complex_gaussian(self.rng, len(y))
        y = y * 10 ** (cfg.rx_gain_db / 20)
        if cfg.iq_gain_db or cfg.iq_phase_deg:
            g, phi = 10 ** (cfg.iq_gain_db / 20), np.deg2rad(cfg.iq_phase_deg)
            mu = (1 + g * np.exp(-1j * phi)) / 2
            nu = (1 - g * np.exp(1j * phi)) / 2
            y = mu * y + nu * np.conj(y)
        y = y + complex(*cfg.dc_offset)
        if cfg.adc_bits is not None:
            levels = 2 ** (cfg.adc_bits - 1)
            quant = lambda v: np.clip(np.round(v * levels), -levels, levels - 1) / levels  # noqa: E731
            y = quant(y.real) + 1j * quant(y.imag)
        self.position += len(clean)
        return y.astype(np.complex64)
