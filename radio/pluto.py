"""PlutoRadio: an ADALM-Pluto through pyadi-iio (and libiio 0.x with pylibiio 0.25).

Each setting is validated against the Pluto's ranges before it is written and read back
after. Scaling to the project's full scale 1.0: transmit samples are multiplied by
``tx_peak`` (2^14, the ADI/PySDR convention: -6 dBFS peak) before pyadi-iio's int16 cast,
receive samples (12-bit, +/-2048) are divided by 2048. After a retune the first receive
buffers (stale kernel buffers) are discarded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from diffair.dsp.errors import ConfigError, RadioError
from diffair.radio import pluto_ranges as ranges
from diffair.radio.base import Radio, check_tx_samples

URI_ENV = "DIFFAIR_PLUTO_URI"
RX_FULL_SCALE = 2048.0
HOW_TO_CONNECT = ("connect a PlutoSDR by USB (its network URI is ip:192.168.2.1), pass --uri, set "
                  f"{URI_ENV}, or start `diffair pluto-emulator --port 30431` and use ip:127.0.0.1:30431")


def _need(ok: bool, name: str, value, expected: str) -> None:
    if not ok:
        raise ConfigError(f"PlutoConfig.{name} = {value!r}; expected {expected}")


def _need_range(limits: tuple[float, float], name: str, value: float, unit: str) -> None:
    _need(ranges.contains(limits, value), name, value, f"{ranges.describe(limits, unit)} (the AD9363's range)")


@dataclass(frozen=True)
class PlutoConfig:
    """uri: None = $DIFFAIR_PLUTO_URI, else discovery. lo_hz: RX and TX LO. gain_mode:
    "manual", "slow_attack", "fast_attack". tx_attenuation_db: TX hardwaregain, -89.75..0 in
    0.25 dB steps. flush_buffers: receive buffers dropped after configuration."""

    uri: str | None = None
    lo_hz: float = 2.4e9
    sample_rate_hz: float = 1e6
    rf_bandwidth_hz: float | None = None
    gain_mode: str = "manual"
    rx_gain_db: float = 30.0
    tx_attenuation_db: float = -10.0
    buffer_size: int = 65536
    cyclic: bool = False
    tx_peak: float = 2.0 ** 14
    flush_buffers: int = 4
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        _need_range(ranges.LO_HZ, "lo_hz", self.lo_hz, "Hz")
        _need_range(ranges.SAMPLE_RATE_HZ, "sample_rate_hz", self.sample_rate_hz, "Hz")
        if self.rf_bandwidth_hz is not None:
            _need_range(ranges.TX_BANDWIDTH_HZ, "rf_bandwidth_hz", self.rf_bandwidth_hz, "Hz")
        _need(self.gain_mode in ("manual", "slow_attack", "fast_attack"), "gain_mode", self.gain_mode,
              "'manual', 'slow_attack' or 'fast_attack'")
        _need_range(ranges.RX_GAIN_DB, "rx_gain_db", self.rx_gain_db, "dB")
        _need(ranges.contains(ranges.TX_ATTENUATION_DB, self.tx_attenuation_db)
              and (self.tx_attenuation_db * 4).is_integer(), "tx_attenuation_db", self.tx_attenuation_db,
              f"{ranges.describe(ranges.TX_ATTENUATION_DB, 'dB')} in 0.25 dB steps")
        _need(16 <= self.buffer_size <= 1 << 24, "buffer_size", self.buffer_size, "16 .. 16777216 samples")
        _need(0 < self.tx_peak <= 32767, "tx_peak", self.tx_peak, "an int16 amplitude in (0, 32767]")

    def resolved_uri(self) -> str | None:
        """Flag, then environment, then None (pyadi-iio's discovery)."""
        return self.uri or os.environ.get(URI_ENV) or None


class PlutoRadio(Radio):
    """One Pluto, configured once on open(), streaming through pyadi-iio."""

    def __init__(self, config: PlutoConfig | None = None):
        super().__init__()
        self.config = config or PlutoConfig()
        self.sdr = None
        self._pending = np.zeros(0, np.complex64)
        self._tx_length: int | None = None

    def open(self) -> "PlutoRadio":
        try:
            import adi
        except (ImportError, OSError, AttributeError) as err:  # AttributeError: pylibiio without its libiio
            raise RadioError(f"pyadi-iio cannot load ({err}): pip install 'diffair[sdr]' and apt-get install libiio0") from err
        uri = self.config.resolved_uri()
        try:
            self.sdr = adi.Pluto(uri) if uri else adi.Pluto()
        except Exception as err:  # pyadi-iio raises a bare Exception("No device found")
            raise RadioError(f"no PlutoSDR answered at {uri or 'auto-discovery'} ({err}): {HOW_TO_CONNECT}") from err
        try:
            self.sdr.ctx.set_timeout(int(self.config.timeout_s * 1000))
            self._configure()
        except OSError as err:
            raise RadioError(f"PlutoSDR at {uri} refused its configuration: {err}") from err
        super().open()
        self.flush()
        return self

    def _configure(self) -> None:
        cfg, sdr = self.config, self.sdr
        bandwidth = int(cfg.rf_bandwidth_hz or cfg.sample_rate_hz)
        sdr.sample_rate = int(cfg.sample_rate_hz)
        sdr.rx_lo = sdr.tx_lo = int(cfg.lo_hz)
        sdr.rx_rf_bandwidth = sdr.tx_rf_bandwidth = bandwidth
        sdr.gain_control_mode_chan0 = cfg.gain_mode
        if cfg.gain_mode == "manual":
            sdr.rx_hardwaregain_chan0 = cfg.rx_gain_db
        sdr.tx_hardwaregain_chan0 = cfg.tx_attenuation_db
        sdr.tx_cyclic_buffer = cfg.cyclic
        sdr.rx_buffer_size = cfg.buffer_size
        checks = [("sample_rate", sdr.sample_rate, cfg.sample_rate_hz, 0.01 * cfg.sample_rate_hz),
                  ("rx_lo", sdr.rx_lo, cfg.lo_hz, 10.0), ("tx_lo", sdr.tx_lo, cfg.lo_hz, 10.0),
                  ("tx_hardwaregain_chan0", sdr.tx_hardwaregain_chan0, cfg.tx_attenuation_db, 0.25),
                  ("rx_rf_bandwidth", sdr.rx_rf_bandwidth, bandwidth, 0.01 * bandwidth)]
        if cfg.gain_mode == "manual":
            checks.append(("rx_hardwaregain_chan0", sdr.rx_hardwaregain_chan0, cfg.rx_gain_db, 1.0))
        for name, got, wanted, tolerance in checks:
            if abs(float(got) - float(wanted)) > tolerance:
                raise RadioError(f"PlutoSDR {name} reads back {got}, expected {wanted}")

    def tune(self, lo_hz: float) -> None:
        """Retune both LOs (validated, read back) and drop the receive buffers captured before."""
        self._require_open()
        _need_range(ranges.LO_HZ, "lo_hz", lo_hz, "Hz")
        self.sdr.rx_lo = self.sdr.tx_lo = int(lo_hz)
        if abs(self.sdr.rx_lo - lo_hz) > 10 or abs(self.sdr.tx_lo - lo_hz) > 10:
            raise RadioError(f"PlutoSDR LO reads back {self.sdr.rx_lo} / {self.sdr.tx_lo}, expected {lo_hz:.0f}")
        self.flush()

    def flush(self) -> None:
        """Drop the stale receive buffers the kernel holds after a (re)configuration."""
        self._require_open()
        for _ in range(self.config.flush_buffers):
            self._rx_block()
        self._pending = np.zeros(0, np.complex64)

    def close(self) -> None:
        if self.sdr is not None:
            for destroy in (self.sdr.tx_destroy_buffer, self.sdr.rx_destroy_buffer):
                try:
                    destroy()
                except Exception:  # the device may already be gone; closing must not raise
                    pass
            self.sdr = None
        super().close()

    def send(self, iq: np.ndarray) -> None:
        """Transmit a burst (or, with ``cyclic``, replace the repeating buffer). pyadi-iio fixes
        the buffer length on the first push, so a burst of another length re-creates it."""
        self._require_open()
        iq = check_tx_samples(iq)
        if self.config.cyclic or (self._tx_length is not None and self._tx_length != len(iq)):
            self.sdr.tx_destroy_buffer()
        try:
            self.sdr.tx(iq.astype(np.complex128) * self.config.tx_peak)
        except OSError as err:
            raise RadioError(f"PlutoSDR stopped taking samples: {err}") from err
        self._tx_length = len(iq)

    def _rx_block(self) -> np.ndarray:
        try:
            block = self.sdr.rx()
        except OSError as err:
            raise RadioError(f"PlutoSDR stopped answering ({err}); check the cable or the URI: {HOW_TO_CONNECT}") from err
        return (np.asarray(block) / RX_FULL_SCALE).astype(np.complex64)

    def receive(self, num_samples: int, timeout: float = 1.0) -> np.ndarray:
        self._require_open()
        parts, have = [self._pending], len(self._pending)
        while have < num_samples:
            block = self._rx_block()
            parts.append(block)
            have += len(block)
        joined = np.concatenate(parts)
        self._pending = joined[num_samples:]
        return joined[:num_samples]
