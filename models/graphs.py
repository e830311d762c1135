"""Graphs: thin modules whose ``forward`` takes and returns tensors only, so that torch,
onnxruntime and TensorRT run the same computation (``diffair.export``). Each names its
``inputs`` and ``outputs`` and which inputs carry the batch axis (``batch_inputs``; the others,
such as a sampler plan ``[K]``, are shared by the whole batch).

The generic ones live here; each receiver's own graph lives next to it (``CDDMGraph`` in
models.receivers, ``ICDMGraph`` in models.icdm, ``DJSCCGraph`` in models.djscc, ``LMMSEGraph``
in models.interference).

* ``EncoderGraph``: image ``[B, 3, H, W]`` -> latent ``[B, C, H/4, W/4]``.
* ``DecoderGraph``: y, gain, noise_var ``[B, C, h, w]`` -> image ``[B, 3, H, W]`` and the
  latent it decoded (the equalized y itself): the deep-JSCC receiver.
* ``DenoiserGraph``: one CDDM network evaluation (x_t, t, w_s, w_n) -> eps.
"""

from __future__ import annotations

import torch

from diffair.models.jscc import unbiased
from diffair.models.symbols import snr_map_db


class EncoderGraph(torch.nn.Module):
    inputs, outputs, batch_inputs = ("image",), ("latent",), ("image",)

    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encoder(image)


class DecoderGraph(torch.nn.Module):
    inputs = batch_inputs = ("y", "gain", "noise_var")
    outputs = ("image", "latent")

    def __init__(self, decoder: torch.nn.Module):
        super().__init__()
        self.decoder = decoder

    def forward(self, y: torch.Tensor, gain: torch.Tensor, noise_var: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(unbiased(y, gain), snr_map_db(gain, noise_var)), self.latent(y, gain, noise_var)

    @staticmethod
    def latent(y: torch.Tensor, gain: torch.Tensor, noise_var: torch.Tensor) -> torch.Tensor:
        """The latent estimate the receiver reports: the equalized symbols as they are."""
        return y.clone()


class DenoiserGraph(torch.nn.Module):
    inputs = batch_inputs = ("x_t", "t", "w_s", "w_n")
    outputs = ("eps",)

    def __init__(self, denoiser: torch.nn.Module):
        super().__init__()
        self.denoiser = denoiser

    def forward(self, x_t, t, w_s, w_n) -> torch.Tensor:
        return self.denoiser(x_t, t, w_s, w_n)
