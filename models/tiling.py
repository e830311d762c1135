"""Images larger than the training images go through the codecs as 32 x 32 tiles (issue 17).

Every codec and diffusion network here was trained on 32 x 32 CIFAR-10 images. Fully
convolutional, they accept a 768 x 512 photograph whole, but they code it far worse than its 384
tiles one by one: deep JSCC 3.6-8.8 dB worse at AWGN 10 dB on Kodak photos, and every receiver
behind it likewise (docs/benchmarks/djscc_photos). So a transmitter encodes each 32 x 32 tile as
its own image (its own power normalization included) and lays the tiles' latents out where the
whole image's latent would be (the payload keeps its shape); a receiver cuts the observation into
the matching latent tiles, decodes them as one batch and puts the image back together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

TILE_PX = 32
"""The side of the training images, and of the tiles a larger image is coded in."""


def to_tiles(x: torch.Tensor, side: int) -> torch.Tensor:
    """``[B, C, H, W]`` (H, W multiples of ``side``) -> ``[B * H/side * W/side, C, side, side]``,
    each image's tiles row by row."""
    b, c, h, w = x.shape
    rows, cols = h // side, w // side
    return x.reshape(b, c, rows, side, cols, side).permute(0, 2, 4, 1, 3, 5).reshape(b * rows * cols, c, side, side)


def from_tiles(tiles: torch.Tensor | np.ndarray, batch: int, rows: int, cols: int) -> torch.Tensor | np.ndarray:
    """The inverse of ``to_tiles``: ``[batch * rows * cols, C, s, s]`` -> ``[batch, C, rows*s, cols*s]``,
    a torch tensor or a numpy array (the runners' outputs: numpy copies in the calling thread,
    where torch's two-thread copy of a 128 x 128 image spends 0.5-1 ms waking its pool)."""
    _, c, s, _ = tiles.shape
    grid = tiles.reshape(batch, rows, cols, c, s, s)
    grid = grid.permute(0, 3, 1, 4, 2, 5) if isinstance(grid, torch.Tensor) else grid.transpose(0, 3, 1, 4, 2, 5)
    return grid.reshape(batch, c, rows * s, cols * s)


def needs_tiles(x: torch.Tensor, side: int) -> bool:
    return x.shape[-2] > side or x.shape[-1] > side


def encode_tiled(encode: Callable[[torch.Tensor], tuple[torch.Tensor, ...]], images: torch.Tensor
                 ) -> tuple[torch.Tensor, ...]:
    """``encode`` (images -> latents) run on each TILE_PX tile of ``images`` ``[B, 3, H, W]`` (sides
    multiples of TILE_PX), each latent laid out as the whole image's would be."""
    if not needs_tiles(images, TILE_PX):
        return encode(images)
    b, _, h, w = images.shape
    return tuple(from_tiles(out, b, h // TILE_PX, w // TILE_PX) for out in encode(to_tiles(images, TILE_PX)))


def tiled_observation(obs, side: int):
    """The observation's per-value tensors ``[B, C, h, w]`` cut into ``side`` x ``side`` tiles
    (a batch of B * h/side * w/side); its scalars (SNR, SINR) as they are."""
    return dataclasses.replace(obs, **{f.name: to_tiles(getattr(obs, f.name), side) for f in dataclasses.fields(obs)
                                       if isinstance(getattr(obs, f.name), torch.Tensor)
                                       and getattr(obs, f.name).dim() == 4})


def decode_tiled(decode: Callable, obs, side: int):
    """``decode`` (observation -> Decoded, of tensors or of numpy arrays) on the ``side`` x ``side``
    latent tiles of ``obs``, as one batch; the images and latents put back together (the same type)."""
    b, _, h, w = obs.y.shape
    out = decode(tiled_observation(obs, side))
    return type(out)(*(from_tiles(part, b, h // side, w // side) for part in out))
