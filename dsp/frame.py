"""The one frame-format description shared by every PHY block.

A frame, in samples (N = fft_size, CP = cp_len)::

    | STF: 2N | LTF: N/2 guard + 2 x N | header: H x (CP+N) | [sounding] | data: S x (CP+N) | [sounding] |

* STF (short training field): QPSK on the used carriers that are multiples of 8, so the
  waveform repeats every D = N/8 samples: packet detection and coarse CFO over +/-4
  subcarrier spacings (+/-62.5 kHz at 1 MS/s with N = 64).
* LTF (long training field): BPSK on every used carrier, sent twice after a guard of N/2:
  fine timing (matched filter), fractional CFO (lag N), integer CFO (frequency-domain
  search), LS channel estimate and noise variance (from the difference of the repeats).
* Header and data OFDM symbols carry pilots (BPSK x a per-symbol polarity sequence) on
  fixed carriers for phase and sample-rate-offset tracking.
* Sounding (Q = ``sounding_symbols``, 0 by default): symbols that carry the pilots only, the
  first Q - 1 after the header and the last after the data (so that the receiver can follow
  the interferer's phase across the frame). A frame-synchronous co-channel transmitter
  (radio.interferer.SynchronousInterferer: ICDM's interferer) sends the LTF sequence on the
  data carriers there and stays silent in the preamble, the header and on the pilots, so the
  receiver estimates its channel apart from the wanted one (docs/phy.md).

Occupancy is 802.11a-like: for N = 64 the used carriers are -26..26 without DC, pilots at
+/-7 and +/-21, leaving 48 data carriers; for 128 and 256 points the used band scales with N
(+/-52, +/-104) and pilots continue every 14 carriers.

Time-domain scaling: an OFDM symbol with unit-power values on all used carriers has unit
mean power per sample (``ifft(X) * N / sqrt(N_used)``); the STF is scaled to match.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from diffair.dsp.errors import ConfigError

HEADER_CODED_BITS = 240
"""Coded header bits: (80 info + 32 CRC + 6 tail) x 2 = 236, padded to 240."""

STF_CARRIER_SPACING = 8
"""The STF loads every 8th carrier, so it repeats every N/8 samples."""

GUARD_MARGIN = 3
"""Guard carriers closer than this to the used band are not used for the noise estimate
(leakage of an unsynchronized interferer, windowed at random, decays with the distance)."""

PREAMBLE_SEED = 0x5EED
"""Seed of the fixed pseudo-random STF, LTF and pilot-polarity sequences."""


def _check(name: str, value: float, allowed: str, ok: bool) -> None:
    if not ok:
        raise ConfigError(f"FrameFormat.{name} = {value!r}; expected {allowed}")


SOUNDING_SYMBOLS = 2
"""Sounding symbols per frame when a synchronous interferer is on the air (FrameFormat): one
before and one after the data, which follows a carrier offset between the two transmitters
of up to about +/-100 Hz at 1 MS/s (3 for about +/-1 kHz; docs/phy.md)."""


@dataclass(frozen=True)
class FrameFormat:
    """OFDM frame layout.

    fft_size: N, 64, 128 or 256 points.
    cp_len: cyclic prefix in samples, 1..N/2 (default N/4).
    sample_rate_hz: baseband sample rate (only converts CFO and SRO units).
    data_symbols: OFDM data symbols S per frame.
    backoff_db: transmit back-off: frame RMS amplitude is 10^(-backoff_db/20) of full scale 1.0.
    sounding_symbols: Q, OFDM symbols kept free of data for a synchronous interferer's channel
        sounding (0..4): Q - 1 after the header, one after the data. 2 lets the receiver follow
        a small carrier offset between the two transmitters; 3 a larger one.
    """

    fft_size: int = 64
    cp_len: int = 16
    sample_rate_hz: float = 1e6
    data_symbols: int = 48
    backoff_db: float = 12.0
    sounding_symbols: int = 0

    def __post_init__(self) -> None:
        _check("fft_size", self.fft_size, "one of 64, 128, 256", self.fft_size in (64, 128, 256))
        _check("cp_len", self.cp_len, f"an integer in [1, {self.fft_size // 2}]",
               isinstance(self.cp_len, int) and 1 <= self.cp_len <= self.fft_size // 2)
        _check("sample_rate_hz", self.sample_rate_hz, "a rate in [1e3, 1e9] Hz", 1e3 <= self.sample_rate_hz <= 1e9)
        _check("data_symbols", self.data_symbols, "an integer in [1, 1000]",
               isinstance(self.data_symbols, int) and 1 <= self.data_symbols <= 1000)
        _check("backoff_db", self.backoff_db, "a value in [0, 30] dB", 0.0 <= self.backoff_db <= 30.0)
        _check("sounding_symbols", self.sounding_symbols, "an integer in [0, 4]",
               isinstance(self.sounding_symbols, int) and 0 <= self.sounding_symbols <= 4)

    @property
    def tx_power(self) -> float:
        """Mean power of a transmitted frame, 10^(-backoff_db / 10) of full scale (what an SNR refers to)."""
        return 10 ** (-self.backoff_db / 10)

    @classmethod
    def for_fft(cls, fft_size: int, **overrides) -> "FrameFormat":
        """The default format for an FFT size: CP = N/4, the rest default."""
        return cls(fft_size=fft_size, cp_len=overrides.pop("cp_len", fft_size // 4), **overrides)

    # ---- subcarriers (logical index k in [-N/2, N/2); FFT bin k mod N) ----------------

    @property
    def used_half_width(self) -> int:
        """Highest used logical carrier: 26 for N = 64 (scales with N)."""
        return self.fft_size * 26 // 64

    @cached_property
    def used_carriers(self) -> np.ndarray:
        """Logical indices of used carriers, ascending, DC excluded: int ``[N_used]``."""
        half = self.used_half_width
        k = np.arange(-half, half + 1)
        return k[k != 0]

    @cached_property
    def pilot_carriers(self) -> np.ndarray:
        """Logical pilot carriers: +/-7, +/-21, ... within the used band, int ``[N_pilot]``."""
        positive = np.arange(7, self.used_half_width + 1, 14)
        return np.concatenate([-positive[::-1], positive])

    @cached_property
    def data_carriers(self) -> np.ndarray:
        """Logical data carriers: used minus pilots, int ``[N_data]``."""
        return np.setdiff1d(self.used_carriers, self.pilot_carriers)

    @cached_property
    def guard_carriers(self) -> np.ndarray:
        """Logical carriers of the guard band at least GUARD_MARGIN from the used band, int
        ``[N_guard]`` (7 for N = 64: +/-29.., 19 for 128): nothing is sent there, so they see the
        receiver's thermal noise alone (an interferer of the same format leaves them empty too)."""
        k = np.arange(-self.fft_size // 2, self.fft_size // 2)
        return k[np.abs(k) >= self.used_half_width + GUARD_MARGIN]

    def bins(self, carriers: np.ndarray) -> np.ndarray:
        """FFT bin of each logical carrier."""
        return np.mod(carriers, self.fft_size)

    @cached_property
    def subcarrier_spacing_hz(self) -> float:
        return self.sample_rate_hz / self.fft_size

    @cached_property
    def bandwidth_fraction(self) -> float:
        """N_used / N: the share of the sampled band the frame occupies."""
        return len(self.used_carriers) / self.fft_size

    # ---- sizes -------------------------------------------------------------------------

    @property
    def stf_period(self) -> int:
        """D = N/8 samples: the STF's repetition period."""
        return self.fft_size // 8

    @cached_property
    def stf_len(self) -> int:
        return 2 * self.fft_size

    @property
    def ltf_guard(self) -> int:
        return self.fft_size // 2

    @cached_property
    def ltf_len(self) -> int:
        return self.ltf_guard + 2 * self.fft_size

    @property
    def symbol_len(self) -> int:
        return self.cp_len + self.fft_size

    @cached_property
    def header_symbols(self) -> int:
        """OFDM symbols the BPSK header needs (5 for N = 64)."""
        return -(-HEADER_CODED_BITS // len(self.data_carriers))

    @cached_property
    def symbols_per_frame(self) -> int:
        """Header, sounding and data OFDM symbols."""
        return self.header_symbols + self.sounding_symbols + self.data_symbols

    @cached_property
    def sounding_indices(self) -> np.ndarray:
        """Indices of the sounding symbols among the frame's OFDM symbols (header = 0), int ``[Q]``."""
        q, first = self.sounding_symbols, self.header_symbols
        if q == 0:
            return np.zeros(0, np.int64)
        return np.array(list(range(first, first + q - 1)) + [self.symbols_per_frame - 1], np.int64)

    @cached_property
    def data_indices(self) -> np.ndarray:
        """Indices of the data symbols among the frame's OFDM symbols (header = 0), int ``[S]``."""
        rest = np.arange(self.header_symbols, self.symbols_per_frame)
        return np.setdiff1d(rest, self.sounding_indices)

    @cached_property
    def payload_capacity(self) -> int:
        """Complex payload symbols one frame carries: S x N_data."""
        return self.data_symbols * len(self.data_carriers)

    @property
    def ltf_start(self) -> int:
        """Offset of the LTF (guard included) from the frame start."""
        return self.stf_len

    @cached_property
    def first_symbol_start(self) -> int:
        """Offset of the first header symbol (its CP) from the frame start."""
        return self.stf_len + self.ltf_len

    @cached_property
    def frame_len(self) -> int:
        return self.first_symbol_start + self.symbols_per_frame * self.symbol_len

    # ---- fixed sequences ----------------------------------------------------------------

    @cached_property
    def _rng_sequences(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(PREAMBLE_SEED + self.fft_size)
        stf_carriers = self.used_carriers[self.used_carriers % STF_CARRIER_SPACING == 0]
        qpsk = np.exp(1j * np.pi / 4 * (2 * rng.integers(0, 4, len(stf_carriers)) + 1))
        return {
            "stf_carriers": stf_carriers,
            "stf_values": qpsk.astype(np.complex64),
            "ltf_values": (1 - 2 * rng.integers(0, 2, len(self.used_carriers))).astype(np.complex64),
            "pilot_base": (1 - 2 * rng.integers(0, 2, len(self.pilot_carriers))).astype(np.float32),
            "pilot_polarity": (1 - 2 * rng.integers(0, 2, 127)).astype(np.float32),
        }

    @property
    def ltf_values(self) -> np.ndarray:
        """Known LTF value on every used carrier, complex64 ``[N_used]``."""
        return self._rng_sequences["ltf_values"]

    @property
    def sounding_values(self) -> np.ndarray:
        """What a synchronous interferer sends on the data carriers of a sounding symbol: the
        LTF sequence there, complex64 ``[N_data]``."""
        return self.ltf_values[np.searchsorted(self.used_carriers, self.data_carriers)]

    def pilot_values(self, first_symbol: int, count: int) -> np.ndarray:
        """Pilot values of OFDM symbols ``first_symbol .. first_symbol+count-1`` (header = 0),
        float32 ``[count, N_pilot]``: base sequence x polarity of the symbol (period 127)."""
        polarity = self._rng_sequences["pilot_polarity"][np.arange(first_symbol, first_symbol + count) % 127]
        return polarity[:, None] * self._rng_sequences["pilot_base"][None, :]

    def to_time(self, grid: np.ndarray) -> np.ndarray:
        """Frequency grid ``[..., N]`` (FFT bin order) -> time ``[..., N]`` at unit power."""
        from scipy import fft

        return (fft.ifft(grid, axis=-1) * (self.fft_size / np.sqrt(len(self.used_carriers)))).astype(np.complex64)

    @cached_property
    def stf_waveform(self) -> np.ndarray:
        """The STF, complex64 ``[2N]``: 16 periods of N/8 samples, unit mean power."""
        seq = self._rng_sequences
        grid = np.zeros(self.fft_size, np.complex64)
        grid[self.bins(seq["stf_carriers"])] = seq["stf_values"]
        symbol = self.to_time(grid)
        symbol /= np.sqrt(np.mean(np.abs(symbol) ** 2))
        return np.tile(symbol, 2).astype(np.complex64)

    @cached_property
    def ltf_symbol(self) -> np.ndarray:
        """One LTF OFDM symbol without guard, complex64 ``[N]``."""
        grid = np.zeros(self.fft_size, np.complex64)
        grid[self.bins(self.used_carriers)] = self.ltf_values
        return self.to_time(grid)

    @cached_property
    def ltf_waveform(self) -> np.ndarray:
        """Guard (the symbol's last N/2 samples) + two LTF symbols, complex64 ``[N/2 + 2N]``."""
        symbol = self.ltf_symbol
        return np.concatenate([symbol[-self.ltf_guard:], symbol, symbol]).astype(np.complex64)
