"""Image I/O of the product surface: the built-in images, resizing, the codec's size rule (any
size goes: images are reflect-padded to the codec's multiple and cropped back) and PNG output. Reading files is ``models.data.load_image`` (one reader for the whole package).
Arrays are RGB: uint8 ``[H, W, 3]``, or float ``[H, W, 3]`` in [0, 1] for decoded images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from diffair.dsp.errors import ConfigError
from diffair.models.data import load_image

BUILTIN_SIDE = 128
"""The built-in image (matplotlib's sample photograph) is centre-cropped and resized to 128 x 128."""
BUILTIN_INTERFERER_IMAGE = "Minduka_Present_Blue_Pack.png"
"""The synchronous interferer's default image: another of matplotlib's samples."""


def builtin_image(name: str = "grace_hopper.jpg", side: int = BUILTIN_SIDE) -> np.ndarray:
    """One of matplotlib's sample images (default: the photograph of Grace Hopper), centre-
    cropped to a square and resized: ``[side, side, 3]`` RGB uint8."""
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data(name) as f, Image.open(f) as img:
        square = min(img.size)
        left, top = (img.width - square) // 2, (img.height - square) // 2
        return np.asarray(img.convert("RGB").crop((left, top, left + square, top + square))
                          .resize((side, side), Image.LANCZOS))


def image_or_builtin(value: str | Path | None, interferer: bool = False) -> np.ndarray | None:
    """An image file, the built-in image for ``"builtin"`` (the photograph, or the interferer's
    with ``interferer``), or None for None."""
    if value is None:
        return None
    if str(value) == "builtin":
        return builtin_image(BUILTIN_INTERFERER_IMAGE) if interferer else builtin_image()
    return load_image(Path(value))


def resized_like(image: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``image`` (H', W', 3) uint8 resized to ``shape`` (H, W, ...): a synchronous interferer's
    image at the wanted image's size, so that its latent has the wanted one's length."""
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((shape[1], shape[0]), Image.LANCZOS))


def interferer_image(path: Path | None, shape: tuple[int, ...]) -> np.ndarray:
    """The synchronous interferer's image (a file, or the built-in one) at the wanted image's
    ``shape``."""
    return resized_like(load_image(path) if path is not None else builtin_image(BUILTIN_INTERFERER_IMAGE), shape)


def padded_size(size: tuple[int, int], source: str, multiple: int = 4) -> tuple[int, int]:
    """The size (height, width) the codec codes an image of ``size`` at: each side rounded up
    to a multiple of ``multiple``. Sides under ``multiple`` are refused."""
    h, w = size
    if h < multiple or w < multiple:
        raise ConfigError(f"image {source} is {w} x {h}; the codec needs sides of at least {multiple} pixels")
    return -(-h // multiple) * multiple, -(-w // multiple) * multiple


def pad_images(images: np.ndarray, source: str, multiple: int = 4) -> np.ndarray:
    """Images ``[..., H, W, 3]`` reflected at their bottom and right edges to ``padded_size``
    (the codec codes them so; :func:`crop_images` takes the padding off the decoded ones)."""
    h, w = images.shape[-3:-1]
    ph, pw = padded_size((h, w), source, multiple)
    if (ph, pw) == (h, w):
        return images
    width = [(0, 0)] * (images.ndim - 3) + [(0, ph - h), (0, pw - w), (0, 0)]
    return np.pad(images, width, mode="symmetric" if ph - h >= h or pw - w >= w else "reflect")


def crop_images(images, size: tuple[int, int]):
    """Decoded images ``[..., H', W', 3]`` (numpy) or ``[..., 3, H', W']`` (torch) back to
    ``size`` (height, width), the top-left part that was the original image."""
    h, w = size
    if isinstance(images, np.ndarray):
        return images[..., :h, :w, :]
    return images[..., :h, :w]


def save_png(image: np.ndarray, path: Path) -> None:
    """Write ``image`` (uint8, or float in [0, 1], ``[H, W, 3]``) as a PNG."""
    from PIL import Image

    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    Image.fromarray(image).save(path)
