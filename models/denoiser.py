"""Compact noise-prediction U-Nets for JSCC latents: CDDM's channel-conditioned denoiser
and ICDM's unconditional priors, one body.

eps_theta(x_t, t, W_s, W_n): x_t, W_s, W_n are ``[B, C, H, W]`` (C latent channels; the
channel weights per real value, as CDDM's |h| conditioning generalized to OFDM symbols),
t is ``[B]`` float steps. Two resolutions (H x W and H/2 x W/2), residual blocks with
GroupNorm, SiLU and an additive timestep embedding; sized to train on two CPU cores
(about 1.2 M parameters at width 64 for C = 16). ``forward`` takes and returns tensors only,
so the module exports to ONNX unchanged.

The real-time size (``REALTIME``) folds each 2 x 2 patch of the latent into channels before
the body (space-to-depth, as patch-based diffusion networks do) and runs one residual block per
level at width 32: the body then works on H/2 x W/2 and H/4 x W/4 maps, about a tenth of the
width-64 network's cost on a CPU (docs/benchmarks/realtime.md). Folded, the input has more
channels than the body is wide; the unconditional priors then need a 1x1 convolution from the
input straight to the output (``bypass``: without it a width-16 prior plateaued at a DDPM loss
of 0.78, with it 0.28), while CDDM's conditioned denoiser trained worse with one (its K = 10
latent error rose above the MMSE input's) and has none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from diffair.dsp.errors import ConfigError
from diffair.models.config import require_range


@dataclass(frozen=True)
class DenoiserConfig:
    """channels: latent channels C; width: base feature width (a multiple of 8, the
    GroupNorm groups); steps: the schedule's T; patch: the side of the latent patches folded
    into channels before the body (1: none); blocks: residual blocks per level and side;
    bypass: a 1x1 convolution from the input straight to the output beside the body;
    conditioned: CDDM's denoiser sees the channel weights W_s, W_n (False: the ablation that
    does not, docs/benchmarks/ablation)."""

    channels: int = 16
    width: int = 64
    steps: int = 1000
    patch: int = 1
    blocks: int = 2
    bypass: bool = False
    conditioned: bool = True

    def __post_init__(self) -> None:
        require_range("DenoiserConfig", "channels", self.channels, 2, 256)
        require_range("DenoiserConfig", "width", self.width, 8, 1024)
        if self.width % 8:
            raise ConfigError(f"DenoiserConfig.width = {self.width} must be a multiple of 8 (GroupNorm groups)")
        require_range("DenoiserConfig", "steps", self.steps, 2, 100_000)
        require_range("DenoiserConfig", "patch", self.patch, 1, 8)
        require_range("DenoiserConfig", "blocks", self.blocks, 1, 8)


REALTIME = {"width": 32, "patch": 2, "blocks": 1}
"""The real-time size of a denoiser (the ``-rt`` receivers' networks; module doc)."""
REALTIME_SUFFIX = "_rt"
"""Weights of the real-time variants are named ``<name>_rt``."""


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding ``[B]`` -> ``[B, dim]`` (Vaswani et al.; DDPM's time embedding)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    """GN-SiLU-conv, + timestep embedding, GN-SiLU-conv, with a (1x1 if needed) skip."""

    def __init__(self, cin: int, cout: int, emb_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x))) + self.emb(emb)[:, :, None, None]
        h = self.conv2(self.act(self.norm2(h)))
        return h + self.skip(x)


class UNetBody(nn.Module):
    """The shared two-resolution U-Net: ``run(features [B, inputs * C, H, W], t [B]) -> eps
    [B, C, H, W]``, where ``inputs`` tensors of C channels are stacked at the stem (H and W
    multiples of 2 * patch: folded, then halved once)."""

    def __init__(self, config: DenoiserConfig, inputs: int):
        super().__init__()
        self.config = config
        w, c, n = config.width, config.channels * config.patch ** 2, config.blocks
        emb = 4 * w
        self.time_mlp = nn.Sequential(nn.Linear(w, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.stem = nn.Conv2d(inputs * c, w, 3, padding=1)
        self.down = nn.ModuleList([ResBlock(w, w, emb) for _ in range(n)])
        self.downsample = nn.Conv2d(w, 2 * w, 3, stride=2, padding=1)
        self.middle = nn.ModuleList([ResBlock(2 * w, 2 * w, emb) for _ in range(n)])
        self.upsample = nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1)
        self.up = nn.ModuleList([ResBlock(2 * w, w, emb)] + [ResBlock(w, w, emb) for _ in range(n - 1)])
        self.head = nn.Sequential(nn.GroupNorm(8, w), nn.SiLU(), nn.Conv2d(w, c, 3, padding=1))
        self.bypass = nn.Conv2d(inputs * c, c, 1) if config.bypass else None
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def fold(self, latent: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W] -> [B, C p^2, H/p, W/p]``: each p x p patch into channels (channel c's
        patch on channels c p^2 ... (c + 1) p^2 - 1, so per-value and per-half channel arithmetic
        such as a sampler's commutes with it)."""
        p = self.config.patch
        return nn.functional.pixel_unshuffle(latent, p) if p > 1 else latent

    def unfold(self, folded: torch.Tensor) -> torch.Tensor:
        """The inverse of ``fold``."""
        p = self.config.patch
        return nn.functional.pixel_shuffle(folded, p) if p > 1 else folded

    def run(self, features: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The body on folded features ``[B, inputs * C p^2, H/p, W/p]`` -> folded eps."""
        emb = self.time_mlp(timestep_embedding(t, self.config.width))
        h = self.stem(features)
        for block in self.down:
            h = block(h, emb)
        skip = h
        h = self.downsample(h)
        for block in self.middle:
            h = block(h, emb)
        h = torch.cat([self.upsample(h), skip], dim=1)
        for block in self.up:
            h = block(h, emb)
        eps = self.head(h)
        return eps if self.bypass is None else eps + self.bypass(features)


class LatentUNet(UNetBody):
    """CDDM's channel-conditioned denoiser: ``forward(x_t, t, w_s, w_n) -> eps`` with shapes
    as in the module doc."""

    def __init__(self, config: DenoiserConfig):
        super().__init__(config, inputs=3 if config.conditioned else 1)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, w_s: torch.Tensor, w_n: torch.Tensor) -> torch.Tensor:
        return self.unfold(self.folded(self.fold(x_t), t, self.fold(w_s), self.fold(w_n)))

    def folded(self, x_t: torch.Tensor, t: torch.Tensor, w_s: torch.Tensor, w_n: torch.Tensor) -> torch.Tensor:
        """``forward`` on folded tensors (``fold``): a sampler folds its inputs once, not per step."""
        if not self.config.conditioned:
            return self.run(x_t, t)
        return self.run(torch.cat([x_t, w_s, torch.log(w_n.clamp_min(1e-4))], dim=1), t)


class LatentPrior(UNetBody):
    """An unconditional noise-prediction prior ``forward(x_t [B, C, H, W], t [B]) -> eps`` for
    the plain DDPM process x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps (ICDM's score networks)."""

    def __init__(self, config: DenoiserConfig):
        super().__init__(config, inputs=1)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.unfold(self.run(self.fold(x_t), t))

    def folded(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``forward`` on folded tensors (``fold``)."""
        return self.run(x_t, t)
