"""What the PHY hands a receiver, as latents: the equalized symbols and their per-value
statistics (``LatentObservation``), and in ICDM's scenario also the interferer's coefficient
(``InterferedObservation``). Erased symbols carry gain 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from diffair.models.channels import EqualizedSymbols
from diffair.models.symbols import snr_map_db, symbols_to_latent


def _as_latent(values: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """Real per-symbol values ``[B, K]`` repeated on a symbol's real and imaginary channels."""
    return symbols_to_latent(torch.complex(values, values), shape)


def _random_statistics(batch: int, shape: tuple[int, int, int], generator: torch.Generator):
    """Seeded example statistics ``[B, C, h, w]``: y ~ N(0, 1), gain in [0.5, 1), noise variance
    in [0.01, 0.11)."""
    full = (batch, *shape)
    return (torch.randn(full, generator=generator), torch.rand(full, generator=generator) * 0.5 + 0.5,
            torch.rand(full, generator=generator) * 0.1 + 0.01)


@dataclass
class LatentObservation:
    """``y``, ``gain``, ``noise_var``: ``[B, C, H, W]`` in the encoder's units (y = gain z + w,
    var(w) = noise_var per complex symbol, repeated on its real and imaginary channels);
    ``snr_db``: the frame SNR (a float: the batch shares it)."""

    y: torch.Tensor
    gain: torch.Tensor
    noise_var: torch.Tensor
    snr_db: float

    @classmethod
    def from_symbols(cls, rx: EqualizedSymbols, shape: tuple[int, int, int], snr_db: float) -> "LatentObservation":
        """From per-symbol statistics ``[B, K]`` (complex y, real gain / noise variance)."""
        return cls(symbols_to_latent(rx.y, shape), _as_latent(rx.gain, shape), _as_latent(rx.noise_var, shape),
                   float(snr_db))

    @classmethod
    def random(cls, batch: int, shape: tuple[int, int, int], generator: torch.Generator,
               snr_db: float = 10.0) -> "LatentObservation":
        """A seeded example observation ``[batch, *shape]`` (export examples, profiling)."""
        return cls(*_random_statistics(batch, shape, generator), snr_db)

    @property
    def snr_map_db(self) -> torch.Tensor:
        """Per-value effective SNR gain^2 / noise_var in dB (what the JSCC decoder is told)."""
        return snr_map_db(self.gain, self.noise_var)


@dataclass
class InterferedObservation(LatentObservation):
    """A ``LatentObservation`` whose ``noise_var`` counts the interference as noise (what a
    receiver that ignores it, and the decoder's SNR map, see), plus what ICDM needs:
    ``thermal_var`` ``[B, C, H, W]`` (noise only), ``cross`` ``[B, C, H, W]`` (W_z per symbol,
    its real part on the real channels and its imaginary part on the imaginary ones, the
    latent layout of models.symbols) and ``sinr_db``."""

    thermal_var: torch.Tensor | None = None
    cross: torch.Tensor | None = None
    sinr_db: float = 0.0

    @classmethod
    def from_interfered(cls, rx, shape: tuple[int, int, int], snr_db: float, sinr_db: float
                        ) -> "InterferedObservation":
        """From the symbol-level statistics (``models.interference.InterferedSymbols``);
        ``shape`` = (C, H, W) of the latent."""
        total = rx.wanted.noise_var + rx.cross.abs().square()
        return cls(symbols_to_latent(rx.wanted.y, shape), _as_latent(rx.wanted.gain, shape), _as_latent(total, shape),
                   float(snr_db), thermal_var=_as_latent(rx.wanted.noise_var, shape),
                   cross=symbols_to_latent(rx.cross, shape), sinr_db=float(sinr_db))

    @classmethod
    def random(cls, batch: int, shape: tuple[int, int, int], generator: torch.Generator,
               snr_db: float = 10.0) -> "InterferedObservation":
        """A seeded example: interference coefficients ~ N(0, 0.09) per value, SINR 0 dB."""
        y, gain, thermal = _random_statistics(batch, shape, generator)
        cross = torch.randn((batch, *shape), generator=generator) * 0.3
        return cls(y, gain, thermal + cross.square(), snr_db, thermal_var=thermal, cross=cross, sinr_db=0.0)
