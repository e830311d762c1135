"""The strongest non-diffusion receiver of CDDM's scenario: ``jscc-mmse``.

It is the deep-JSCC decoder fine-tuned on exactly what CDDM's receiver is given: the
MMSE-equalized symbols y = W_s x + W_n n (as they are: no division by the gain, no clipping)
and each symbol's effective SNR W_s^2 / var(W_n n), from which the decoder can tell the gain
(after MMSE equalization W_s = SNR / (1 + SNR)). Trained by ``diffair train jscc-mmse``
(models.training.baseline) over the same symbol channel and SNR range as CDDM, with at least
CDDM's training budget, so that a CDDM gain over it is a gain of the diffusion itself.
"""

from __future__ import annotations

import torch

from diffair.models.contract import Link, LoadRequest, ReceiverSpec
from diffair.models.graphs import DecoderGraph
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.receivers import JSCCReceiver
from diffair.models.symbols import snr_map_db


def mmse_codec_name(channel: str) -> str:
    """The weights stem of the fine-tuned codec (the jscc encoder, the re-trained decoder)."""
    return f"jscc_mmse_{channel}"


class MMSEDecoderGraph(DecoderGraph):
    """y ``[B, C, h, w]`` (MMSE-equalized), gain, noise_var -> (image, latent): the decoder
    reads y itself and the per-value SNR map."""

    def forward(self, y: torch.Tensor, gain: torch.Tensor, noise_var: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(y, snr_map_db(gain, noise_var)), self.latent(y, gain, noise_var)


class MMSEDecoderReceiver(JSCCReceiver):
    """The fine-tuned decoder on the MMSE-equalized symbols; one network call per image."""

    name = "jscc-mmse"
    graph_kind = "decoder_mmse"
    graph_class = MMSEDecoderGraph

    def graph_name(self) -> str:
        return "decoder_mmse"


def _weights(link: Link) -> tuple[str, ...]:
    return (mmse_codec_name(link.channel),)


def _load(request: LoadRequest) -> MMSEDecoderReceiver:
    codec = request.weights.load(DeepJSCC, JSCCConfig, mmse_codec_name(request.link.channel))
    return MMSEDecoderReceiver(codec.decoder).eval()


SPEC = ReceiverSpec(
    name="jscc-mmse", description="baseline: the deep-JSCC decoder fine-tuned on the MMSE-equalized symbols and "
                                  "their per-symbol SNR (CDDM's inputs, no diffusion)",
    transmitter="jscc", weights=_weights, load=_load)
