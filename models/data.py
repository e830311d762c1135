"""Image data sets read from a path: the CIFAR-10 npz files of ../shared/data, or a folder.

Every loader returns uint8 ``[N, H, W, 3]`` arrays; nothing is copied into the repository.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from diffair.dsp.errors import ConfigError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def decode_jpeg_blob(blob: np.ndarray, offsets: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Decode images ``blob[offsets[i]:offsets[i+1]]`` for ``i`` in ``indices`` into uint8 ``[N, H, W, 3]``."""
    images = [np.asarray(Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB"))
              for i in indices]
    return np.stack(images)


def _selection(data, split: str, count: int, limit: int | None, classes: tuple[int, ...] | None) -> np.ndarray:
    """Indices of the images to load: those of ``classes`` (labels ``y_<split>``), at most ``limit``."""
    indices = np.arange(count)
    if classes is not None:
        if f"y_{split}" not in data.files:
            raise ConfigError(f"class filter {classes} needs labels y_{split} in the archive; it holds {sorted(data.files)}")
        indices = indices[np.isin(data[f"y_{split}"][:count], classes)]
        if not len(indices):
            raise ConfigError(f"no image of classes {classes} in split {split!r}")
    return indices[:limit]


def load_npz(path: Path, split: str, limit: int | None = None, classes: tuple[int, ...] | None = None) -> np.ndarray:
    """Images of ``split`` ("train" or "test") from a CIFAR-style npz, optionally only those
    whose label (``y_<split>``) is in ``classes``.

    Understands ``x_<split>`` uint8 arrays (the lossless subset, or any user npz) and
    ``<split>_jpeg`` + ``<split>_offsets`` (the JPEG-coded 60k file).
    """
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read image archive {path}: {err}") from err
    with data:
        if f"x_{split}" in data.files:
            stored = data[f"x_{split}"]
            images = stored[_selection(data, split, len(stored), limit, classes)]
        elif f"{split}_jpeg" in data.files:
            offsets = data[f"{split}_offsets"]
            indices = _selection(data, split, len(offsets) - 1, limit, classes)
            images = decode_jpeg_blob(data[f"{split}_jpeg"], offsets, indices)
        else:
            raise ConfigError(f"{path} holds {sorted(data.files)}; expected x_{split} or {split}_jpeg")
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ConfigError(f"{path}: images must be uint8 [N, H, W, 3], got {images.dtype} {images.shape}")
    return images


def load_image(path: Path) -> np.ndarray:
    """One RGB image as uint8 ``[H, W, 3]``; a clear error for unreadable files."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, UnidentifiedImageError) as err:
        raise ConfigError(f"cannot read image {path}: {err}") from err


def load_folder(path: Path, limit: int | None = None) -> np.ndarray:
    """All images of one size in a folder (sorted by name) as uint8 ``[N, H, W, 3]``."""
    files = sorted(p for p in Path(path).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not files:
        raise ConfigError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {path}")
    images = [load_image(p) for p in files]
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ConfigError(f"images in {path} differ in size {sorted(shapes)}; a batch needs one size")
    return np.stack(images)


def load_images(path: Path, split: str = "test", limit: int | None = None,
                classes: tuple[int, ...] | None = None) -> np.ndarray:
    """Dispatch on what ``path`` is: an ``.npz`` archive or a folder of images. ``classes``
    (label filter) needs an archive with labels."""
    path = Path(path)
    if path.is_dir():
        if classes is not None:
            raise ConfigError(f"a class filter needs a labelled .npz archive, not the folder {path}")
        return load_folder(path, limit)
    if path.suffix == ".npz":
        return load_npz(path, split, limit, classes)
    raise ConfigError(f"--data {path}: expected an .npz archive or a folder of images")


def held_out(images, count: int):
    """(training images, the last ``count`` of them as the validation split, at most a tenth):
    validation carved from the training data, so that the test split stays untouched."""
    count = min(count, len(images) // 10)
    return images[:len(images) - count], images[len(images) - count:]


def training_and_validation(data: Path, val_data: Path | None, count: int, limit: int | None = None,
                            classes: tuple[int, ...] | None = None):
    """(training images, validation images), float32 torch ``[N, 3, H, W]`` in [0, 1]: the first
    ``limit`` training images of ``data`` (of ``classes`` only), and ``count`` validation images,
    ``val_data``'s test split when given, else held out from the training images (``held_out``)."""
    images = to_tensor_batch(load_images(data, "train", limit, classes=classes))
    if val_data is None:
        return held_out(images, count)
    return images, to_tensor_batch(load_images(val_data, "test", limit=count, classes=classes))


def to_tensor_batch(images: np.ndarray):
    """uint8 ``[N, H, W, 3]`` -> float32 torch ``[N, 3, H, W]`` in [0, 1]."""
    import torch

    images = np.ascontiguousarray(images)
    if not images.flags.writeable:
        images = images.copy()
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
