"""Symbol-level channels for training and for the fast ``--genie`` sweeps (torch).

SNR is per complex symbol: SNR = E|x|^2 / sigma^2 with n ~ CN(0, sigma^2) and E|x|^2 = 1.
Every channel returns what the PHY hands a receiver (see ``dsp.frame.RxPayload``):
the MMSE-equalized symbols, their effective gain and their effective noise variance, so
that y_eq = gain * x + noise with noise ~ CN(0, noise_var), per symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from diffair.dsp.errors import ConfigError
from diffair.models.symbols import snr_map_db


@dataclass
class EqualizedSymbols:
    """Per-symbol receiver statistics, all ``[B, K]``.

    y: complex64 equalized symbols; gain: float32 effective gain W_s (real after MMSE);
    noise_var: float32 effective complex noise variance W_n^2 sigma^2.
    """

    y: torch.Tensor
    gain: torch.Tensor
    noise_var: torch.Tensor

    @property
    def snr_db(self) -> torch.Tensor:
        """Per-symbol effective SNR gain^2 / noise_var in dB, ``[B, K]``."""
        return snr_map_db(self.gain, self.noise_var)


def complex_noise(shape: tuple[int, ...], generator: torch.Generator | None,
                  device: torch.device | None = None) -> torch.Tensor:
    """CN(0, 1) samples of the given shape, drawn on ``generator``'s device, returned on
    ``device`` (default: the generator's, or the CPU)."""
    where = generator.device if generator is not None else device
    re = torch.randn(shape, generator=generator, device=where)
    im = torch.randn(shape, generator=generator, device=where)
    noise = torch.complex(re, im) / 2**0.5
    return noise if device is None else noise.to(device)


def transmit(x: torch.Tensor, snr_db: torch.Tensor, channel: str, generator: torch.Generator | None = None
             ) -> EqualizedSymbols:
    """Send unit-power symbols ``x`` ``[B, K]`` complex over a channel at ``snr_db`` ``[B]``.

    "awgn": y = x + n.  "rayleigh": fast i.i.d. fading y = h x + n, h ~ CN(0, 1), known at the
    receiver, then MMSE equalization x~ = h* y / (|h|^2 + sigma^2), i.e. CDDM's
    x~ = W_s x + W_n n' with W_s = |h|^2/(|h|^2+sigma^2), W_n = |h|/(|h|^2+sigma^2).
    """
    sigma2 = (10 ** (-snr_db / 10)).float().view(-1, 1).expand(x.shape)
    n = complex_noise(tuple(x.shape), generator, x.device) * sigma2.sqrt()
    if channel == "awgn":
        return EqualizedSymbols(x + n, torch.ones_like(sigma2), sigma2)
    if channel == "rayleigh":
        h = complex_noise(tuple(x.shape), generator, x.device)
        power = h.abs().square()
        y = h.conj() * (h * x + n) / (power + sigma2)
        gain = power / (power + sigma2)
        noise_var = power * sigma2 / (power + sigma2).square()
        return EqualizedSymbols(y, gain, noise_var)
    raise ConfigError(f"channel = {channel!r}, expected 'awgn' or 'rayleigh'")
