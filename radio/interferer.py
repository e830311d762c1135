"""A second transmitter on the loopback air: co-channel interference, of two kinds.

``Interferer``: unsynchronized.

The interferer sends its own bursts back to back (a random idle gap before each), forever,
through its own propagation path: its own block fading, fractional timing and sample-rate
offset, and carrier frequency offset (a ``ChannelConfig`` without noise; the receiver's
noise is added once, by the wanted link's channel). Its power at the receiver is set by the
signal-to-interference ratio against the wanted link's ``signal_power``:

    P_interference = signal_power * 10^(-SIR/10)   (averaged over fading, E sum|h|^2 = 1).

Like any real transmitter's, its spectrum is confined to its channel: with ``passband`` (the
two-sided passband as a fraction of the sample rate) each burst goes through a Kaiser-windowed
low-pass FIR (TX_FILTER_TAPS taps), without which a plain OFDM waveform's sinc sidelobes put
interference 15 dB below its in-band level into the receiver's guard carriers.

``take(n)`` returns the next n samples of its contribution on the receiver's sample clock;
``LoopbackChannel`` adds them before its noise and receiver chain.

``SynchronousInterferer``: ICDM's interferer (Wu et al. 2025), a co-channel transmitter that
shares the wanted transmitter's frame timing, sample clock and carrier reference (two radios
on one 10 MHz / PPS reference, or a coordinated cell), with a frequency offset of its own of
``cfo_offset_hz`` at most. Its bursts (``dsp.transmitter.build_sounding_frame``, one per
wanted frame) sound its channel in the wanted frame's sounding symbols and carry its payload
on the data carriers, so that the receiver sees x_hat = W_x x + W_z z + w per data symbol.
``LoopbackChannel`` adds each through the interferer's own fading, aligned with the wanted
burst, before the shared timing, frequency offset and noise.
"""

from __future__ import annotations

import numpy as np

from diffair.dsp.errors import ConfigError
from diffair.radio.base import check_tx_samples
from diffair.radio.channel import ChannelConfig, LoopbackChannel


TX_FILTER_TAPS = 255
"""The transmit filter: a 255-tap Kaiser (beta 8) low-pass, about -80 dB in its stopband,
1.6 % of the sample rate from pass to stop."""


def transmit_filter(passband: float) -> np.ndarray:
    """float32 ``[TX_FILTER_TAPS]``: low-pass with cutoff ``passband / 2`` cycles per sample."""
    from scipy.signal import firwin

    if not 0.0 < passband < 1.0:
        raise ConfigError(f"Interferer: passband = {passband!r}; expected a fraction of the sample rate in (0, 1)")
    return firwin(TX_FILTER_TAPS, passband, window=("kaiser", 8.0)).astype(np.float32)


def _check_sir(owner: str, sir_db: float) -> None:
    if not -30.0 <= sir_db <= 60.0:
        raise ConfigError(f"{owner}: sir_db = {sir_db!r}; expected a value in [-30, 60] dB")


class Interferer:
    """bursts: complex64 ``[n_i]`` each, the transmitter's frames at unit mean power or any
    power (each is normalized to unit mean power, then scaled to the SIR); path: the
    interferer's own impairments (its ``snr_db`` must be None); sir_db: in [-30, 60] dB;
    passband: the transmit filter's two-sided passband / sample rate, or None for none."""

    synchronous = False

    def __init__(self, bursts: list[np.ndarray], path: ChannelConfig, sir_db: float, signal_power: float,
                 seed: int = 0, passband: float | None = None):
        if not bursts:
            raise ConfigError("Interferer: no bursts to send")
        if path.snr_db is not None:
            raise ConfigError(f"Interferer path: snr_db = {path.snr_db!r}; expected None (the wanted link adds "
                              "the receiver's noise)")
        _check_sir("Interferer", sir_db)
        amplitude = np.sqrt(signal_power * 10 ** (-sir_db / 10))
        taps = None if passband is None else transmit_filter(passband)
        self.bursts = []
        for burst in bursts:
            burst = check_tx_samples(burst)
            if taps is not None:
                burst = np.convolve(burst, taps)
            self.bursts.append((burst / np.sqrt(np.mean(np.abs(burst) ** 2)) * amplitude).astype(np.complex64))
        self.sir_db = sir_db
        self.channel = LoopbackChannel(path, seed)
        self.sent = 0
        self._buffer = np.zeros(0, np.complex64)

    def take(self, count: int) -> np.ndarray:
        """The next ``count`` samples of interference, complex64 ``[count]``."""
        pieces = [self._buffer]
        have = len(self._buffer)
        while have < count:
            samples, _ = self.channel.burst(self.bursts[self.sent % len(self.bursts)])
            self.sent += 1
            pieces.append(samples)
            have += len(samples)
        stream = np.concatenate(pieces)
        self._buffer = stream[count:]
        return stream[:count]


class SynchronousInterferer:
    """bursts: complex64 ``[frame_len]`` each at the wanted transmitter's scale, the i-th sent
    with the wanted link's i-th burst (cycled); sir_db: the ratio of the wanted to the
    interfering power per data carrier, averaged over fading, in [-30, 60] dB; fading: "none"
    or "rayleigh" (its own block fading, the wanted link's power-delay profile from ``path``);
    cfo_offset_hz: its carrier offset from the wanted transmitter's."""

    synchronous = True

    def __init__(self, bursts: list[np.ndarray], path: ChannelConfig, sir_db: float, cfo_offset_hz: float = 0.0,
                 seed: int = 0):
        if not bursts:
            raise ConfigError("SynchronousInterferer: no bursts to send")
        _check_sir("SynchronousInterferer", sir_db)
        if abs(cfo_offset_hz) > path.sample_rate_hz / 2:
            raise ConfigError(f"SynchronousInterferer: cfo_offset_hz = {cfo_offset_hz!r}; expected less than half "
                              "the sample rate")
        amplitude = np.float32(10 ** (-sir_db / 20))
        self.bursts = [check_tx_samples(b) * amplitude for b in bursts]
        self.sir_db, self.cfo_offset_hz = sir_db, cfo_offset_hz
        self.channel = LoopbackChannel(path, seed)
        self.sent = 0

    def aligned(self, wanted_len: int) -> np.ndarray:
        """The next burst through its own fading and frequency offset, cut or zero-padded to the
        wanted burst's faded length: complex64 ``[wanted_len]``."""
        burst = self.bursts[self.sent % len(self.bursts)]
        self.sent += 1
        faded = np.convolve(burst, self.channel.draw_taps()).astype(np.complex64)
        if self.cfo_offset_hz:
            n = np.arange(len(faded))
            faded = faded * np.exp(2j * np.pi * self.cfo_offset_hz / self.channel.config.sample_rate_hz * n)
        out = np.zeros(wanted_len, np.complex64)
        out[:min(wanted_len, len(faded))] = faded[:wanted_len]
        return out
