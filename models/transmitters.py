"""The deep-JSCC transmitter (models.contract.Transmitter) and its spec: the codec's encoder,
whose symbols the jscc, cddm, lmmse and icdm receivers decode. Guo et al.'s transmitter lives
with its receiver in models.djscc."""

from __future__ import annotations

import torch

from diffair.dsp.header import PayloadKind
from diffair.models.contract import ExportGraph, Link, LoadRequest, Transmitter, TransmitterSpec
from diffair.models.graphs import EncoderGraph
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.tiling import TILE_PX, encode_tiled


class JSCCTransmitter(Transmitter):
    """A deep-JSCC codec's encoder: image ``[B, 3, H, W]`` -> latent ``[B, C, H/4, W/4]``, sent as
    it is and scored against itself; an image larger than 32 x 32 is encoded tile by tile
    (models.tiling), so its sides are multiples of 32."""

    multiple = TILE_PX

    def __init__(self, codec: DeepJSCC):
        self.codec = codec

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        latent, = encode_tiled(lambda tiles: (self.codec.encoder(tiles),), images)
        return latent, latent

    def latent_shape(self, height: int, width: int) -> tuple[int, int, int]:
        return self.codec.config.channels, height // 4, width // 4

    def export_graphs(self) -> list[ExportGraph]:
        def example(side: int, batch: int) -> tuple[torch.Tensor, ...]:
            return (torch.rand(batch, 3, side, side, generator=torch.Generator().manual_seed(0)),)

        return [ExportGraph("encoder", "encoder", EncoderGraph(self.codec.encoder), {"jscc": self.codec.config},
                            example)]


def _weights(link: Link) -> tuple[str, ...]:
    return (link.codec,)


def _load(request: LoadRequest) -> JSCCTransmitter:
    return JSCCTransmitter(request.weights.load(DeepJSCC, JSCCConfig, request.link.codec))


JSCC_TRANSMITTER = TransmitterSpec(
    name="jscc", description="deep JSCC encoder (ratio 1/6): the link's codec", payload_kind=PayloadKind.JSCC_LATENT,
    weights=_weights, load=_load, downsampling=4)
