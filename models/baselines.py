"""The strongest non-diffusion receivers: ``jscc-mmse`` (CDDM's scenario) and ``jscc-interf``
(ICDM's).

It is the deep-JSCC decoder fine-tuned on exactly what CDDM's receiver is given: the
MMSE-equalized symbols y = W_s x + W_n n (as they are: no division by the gain, no clipping)
and each symbol's effective SNR W_s^2 / var(W_n n), from which the decoder can tell the gain
(after MMSE equalization W_s = SNR / (1 + SNR)). Trained by ``diffair train jscc-mmse``
(models.training.baseline) over the same symbol channel and SNR range as CDDM, with at least
CDDM's training budget, so that a CDDM gain over it is a gain of the diffusion itself.

``jscc-interf`` is the same receiver for ICDM's scenario: the wanted user's decoder fine-tuned on
its equalized symbols with the interferer's symbols left in (y = W_x x + W_z z + w, another
transmitter's vehicles under its animals) at the SNRs and SINRs ICDM serves, reading the
per-symbol SINR map (``diffair train jscc-interf``): the interference-aware decoder ICDM's
priors must beat.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from diffair.models.contract import LoadRequest, Receiver, ReceiverSpec
from diffair.models.graphs import DecoderGraph
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.observation import InterferedObservation
from diffair.models.receivers import JSCCReceiver
from diffair.models.symbols import snr_map_db


def mmse_codec_name(channel: str) -> str:
    """The weights stem of the fine-tuned codec (the jscc encoder, the re-trained decoder)."""
    return f"jscc_mmse_{channel}"


def interference_codec_name(channel: str) -> str:
    """The weights stem of ICDM's baseline (the wanted user's encoder, the re-trained decoder)."""
    return f"jscc_interf_{channel}"


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


class InterferenceDecoderReceiver(MMSEDecoderReceiver):
    """The decoder fine-tuned on interfered symbols, told the per-symbol SINR; one network call."""

    name = "jscc-interf"
    observation = InterferedObservation


def _loader(stem: Callable[[str], str], receiver: type[MMSEDecoderReceiver]) -> Callable[[LoadRequest], Receiver]:
    def load(request: LoadRequest) -> MMSEDecoderReceiver:
        codec = request.weights.load(DeepJSCC, JSCCConfig, stem(request.link.channel))
        return receiver(codec.decoder).eval()
    return load


SPEC = ReceiverSpec(
    name="jscc-mmse", description="baseline: the deep-JSCC decoder fine-tuned on the MMSE-equalized symbols and "
                                  "their per-symbol SNR (CDDM's inputs, no diffusion)",
    transmitter="jscc", weights=lambda link: (mmse_codec_name(link.channel),),
    load=_loader(mmse_codec_name, MMSEDecoderReceiver))
INTERFERENCE_SPEC = ReceiverSpec(
    name="jscc-interf", description="ICDM's scenario, baseline: the decoder fine-tuned on interfered symbols and their "
                                    "per-symbol SINR (no diffusion)",
    transmitter="jscc", weights=lambda link: (interference_codec_name(link.channel),),
    load=_loader(interference_codec_name, InterferenceDecoderReceiver), scenarios=("interference",))
