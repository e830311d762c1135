"""LPIPS (Zhang, Isola, Efros, Shechtman, Wang, "The Unreasonable Effectiveness of Deep Features
as a Perceptual Metric", CVPR 2018), its "lin" form over AlexNet, from weights the user supplies:
nothing downloads and nothing is unpickled.

The distance between images x and x0 is

    d(x, x0) = sum_l mean_hw( w_l . (f_l(x) / |f_l(x)| - f_l(x0) / |f_l(x0)|)^2 )

with f_l the five ReLU outputs of AlexNet's convolutional layers (on the images mapped to
[-1, 1] and shifted / scaled per channel as the paper's network was calibrated), the norm taken
over channels at each position, and w_l >= 0 the learned per-channel weights of layer l (v0.1).
0 for a copy; larger is more different. Any image of at least 31 x 31 px (AlexNet's second
pooling needs a 3 x 3 map) is scored at its own size, CIFAR-10's 32 x 32 included.

The weights file (safetensors) holds AlexNet's feature convolutions under torchvision's state-dict
names, ``features.{0,3,6,8,10}.{weight,bias}``, and the lpips package's calibration under its
names, ``lin{0..4}.model.1.weight`` (README: how to make it from the two published files).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from diffair.dsp.errors import ConfigError

CONVOLUTIONS = ((0, 64, 3, 11, 4, 2), (3, 192, 64, 5, 1, 2), (6, 384, 192, 3, 1, 1), (8, 256, 384, 3, 1, 1),
                (10, 256, 256, 3, 1, 1))
"""AlexNet's feature convolutions: (index in torchvision's ``features``, out channels, in
channels, kernel, stride, padding); a 3 x 3 / 2 max-pool follows the first two ReLUs."""
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
"""The per-channel input normalisation the LPIPS calibration was trained with, on [-1, 1] images."""
MIN_SIDE = 31
NORM_EPS = 1e-10


def _expected_shapes() -> dict[str, tuple[int, ...]]:
    shapes = {}
    for layer, (index, out_ch, in_ch, kernel, _, _) in enumerate(CONVOLUTIONS):
        shapes[f"features.{index}.weight"] = (out_ch, in_ch, kernel, kernel)
        shapes[f"features.{index}.bias"] = (out_ch,)
        shapes[f"lin{layer}.model.1.weight"] = (1, out_ch, 1, 1)
    return shapes


class LPIPS:
    """LPIPS (AlexNet, lin) from the safetensors file ``path``; call it as the other image metrics:
    (reference, estimate) in [0, 1], ``[H, W, 3]`` -> a float, ``[N, H, W, 3]`` -> ``[N]``."""

    def __init__(self, path: Path):
        from safetensors.torch import load_file

        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"LPIPS weights {path} not found: expected a safetensors file with AlexNet's "
                              "features and the LPIPS v0.1 calibration (README, metrics)")
        tensors = load_file(path)
        for name, shape in _expected_shapes().items():
            if name not in tensors:
                raise ConfigError(f"LPIPS weights {path} have no tensor {name!r} (expected shape {shape})")
            if tuple(tensors[name].shape) != shape:
                raise ConfigError(f"LPIPS weights {path}: {name} has shape {tuple(tensors[name].shape)}, "
                                  f"expected {shape}")
        self.tensors = {name: tensors[name].float() for name in _expected_shapes()}

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The five ReLU outputs of AlexNet for ``[N, 3, H, W]`` images in [0, 1], each unit-normed
        over its channels at every position."""
        shift = torch.tensor(SHIFT).view(1, 3, 1, 1)
        scale = torch.tensor(SCALE).view(1, 3, 1, 1)
        h = (2 * images - 1 - shift) / scale
        taps = []
        for layer, (index, _, _, _, stride, padding) in enumerate(CONVOLUTIONS):
            if layer in (1, 2):
                h = F.max_pool2d(h, kernel_size=3, stride=2)
            h = F.relu(F.conv2d(h, self.tensors[f"features.{index}.weight"], self.tensors[f"features.{index}.bias"],
                                stride=stride, padding=padding))
            taps.append(h / (h.square().sum(1, keepdim=True).sqrt() + NORM_EPS))
        return taps

    @torch.inference_mode()
    def __call__(self, reference: np.ndarray, estimate: np.ndarray) -> float | np.ndarray:
        side = min(reference.shape[-3:-1])
        if side < MIN_SIDE:
            raise ConfigError(f"LPIPS needs images of at least {MIN_SIDE} x {MIN_SIDE} px, got "
                              f"{reference.shape[-3]} x {reference.shape[-2]}")
        x, x0 = (torch.from_numpy(np.ascontiguousarray(i, dtype=np.float32).reshape(-1, *i.shape[-3:]))
                 .permute(0, 3, 1, 2) for i in (reference, estimate))
        distance = torch.zeros(len(x))
        for layer, (f, f0) in enumerate(zip(self.features(x), self.features(x0))):
            weighted = F.conv2d((f - f0).square(), self.tensors[f"lin{layer}.model.1.weight"])
            distance += weighted.mean(dim=(1, 2, 3))
        values = distance.double().numpy()
        return float(values[0]) if reference.ndim == 3 else values
