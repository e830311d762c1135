"""The Radio contract: complex64 samples at full scale 1.0 at every boundary.

A radio is opened, used and closed (or used as a context manager). ``send(iq)`` transmits a
burst; ``receive(n, timeout)`` returns the next samples of the continuous receive stream,
``n`` of them unless the timeout passes first. Drivers convert to their own integer formats
inside.
"""

from __future__ import annotations

import abc

import numpy as np

from diffair.dsp.errors import RadioError, SignalError


def check_tx_samples(iq: np.ndarray) -> np.ndarray:
    """Validate a transmit burst: non-empty complex64 ``[n]``, finite, |iq| <= 1."""
    if not isinstance(iq, np.ndarray) or iq.dtype != np.complex64:
        raise SignalError(f"send() takes a complex64 numpy array, got {type(iq).__name__} {getattr(iq, 'dtype', '')}")
    if iq.ndim != 1 or len(iq) == 0:
        raise SignalError(f"send() takes a non-empty 1-D array [num_samples], got shape {iq.shape}")
    if not np.all(np.isfinite(iq)):
        raise SignalError(f"send(): {np.count_nonzero(~np.isfinite(iq))} samples are NaN/Inf")
    peak = float(np.max(np.abs(iq)))
    if peak > 1.0 + 1e-6:
        raise SignalError(f"send(): peak magnitude {peak:.3f} exceeds full scale 1.0; scale or back off first")
    return iq


class Radio(abc.ABC):
    """Base class of every radio (loopback, ZMQ, Pluto, SigMF file).

    ``finite`` is True for a recording: an empty read means it ended, whereas a live radio
    that returns nothing has only been quiet for the timeout.
    """

    finite = False
    lost_samples = 0
    """Samples this radio knows it lost before delivering them (e.g. a gap in the ZMQ tag
    header's sample counter); one ``receive`` never returns samples from both sides of a loss."""

    def __init__(self) -> None:
        self._open = False

    def open(self) -> "Radio":
        self._open = True
        return self

    def close(self) -> None:
        self._open = False

    def __enter__(self) -> "Radio":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def _require_open(self) -> None:
        if not self._open:
            raise RadioError(f"{type(self).__name__} is not open; call open() or use it in a 'with' block")

    @abc.abstractmethod
    def send(self, iq: np.ndarray) -> None:
        """Transmit a burst of complex64 samples ``[n]`` with |iq| <= 1."""

    @abc.abstractmethod
    def receive(self, num_samples: int, timeout: float = 1.0) -> np.ndarray:
        """The next samples of the receive stream, complex64 ``[<= num_samples]``: all of them
        unless ``timeout`` seconds pass first (a stream that stopped, a file that ended)."""
