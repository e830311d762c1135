"""The PlutoSDR's (AD9363's) ranges, one source for the radio driver, the emulator and the CLI.

Each is (low, high) in the unit its name ends in, inclusive; ``describe`` words a range for
error messages.
"""

from __future__ import annotations

LO_HZ = (325e6, 3.8e9)
SAMPLE_RATE_HZ = (521e3, 61.44e6)
RX_BANDWIDTH_HZ = (200e3, 56e6)
TX_BANDWIDTH_HZ = (200e3, 40e6)
RX_GAIN_DB = (-3.0, 71.0)
TX_ATTENUATION_DB = (-89.75, 0.0)


def contains(limits: tuple[float, float], value: float) -> bool:
    """Whether ``value`` lies in the inclusive range ``limits``."""
    return limits[0] <= value <= limits[1]


def describe(limits: tuple[float, float], unit: str) -> str:
    """``limits`` in words, e.g. "325 MHz .. 3.8 GHz" for unit "Hz"."""
    def words(v: float) -> str:
        if unit == "Hz":
            for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
                if abs(v) >= scale:
                    return f"{v / scale:g} {prefix}Hz"
        return f"{v:g} {unit}"

    return f"{words(limits[0])} .. {words(limits[1])}"
