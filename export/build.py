"""Which graphs a receiver exports, built from the shipped weights (or, on request,
untrained networks of the shipped shapes, for latency work before training)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from dsp.errors import ConfigError, ModelError
from export.graphs import CDDMGraph, DecoderGraph, DenoiserGraph, EncoderGraph
from models.denoiser import DenoiserConfig, LatentUNet
from models.jscc import DeepJSCC, JSCCConfig
from models.registry import WEIGHTS_DIR, build_receiver, load_codec

BATCH_INPUTS = {"encoder": ("image",), "decoder": ("y", "gain", "noise_var"),
                "denoiser": ("x_t", "t", "w_s", "w_n"), "cddm": ("y", "gain", "noise_var", "sigma")}


@dataclass
class GraphSpec:
    """One exportable graph: its kind, module, the configs it was built from, and K."""

    kind: str
    graph: torch.nn.Module
    configs: dict
    steps: int | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}_k{self.steps}" if self.kind == "cddm" else self.kind


def receiver_graphs(receiver: str, channel: str = "awgn", steps: int = 10, weights: Path = WEIGHTS_DIR,
                    untrained: bool = False) -> tuple[list[GraphSpec], bool]:
    """The graphs of ``receiver`` ("jscc" or "cddm"); returns them and whether the weights
    were untrained."""
    if receiver not in ("jscc", "cddm"):
        raise ConfigError(f"cannot export receiver {receiver!r}; expected jscc or cddm")
    try:
        codec = load_codec(channel, weights)
        trained = build_receiver(receiver, channel, steps, weights)
    except ModelError:
        if not untrained:
            raise
        codec, trained = DeepJSCC(JSCCConfig()), None
    jscc_config = codec.config
    specs = [GraphSpec("encoder", EncoderGraph(codec.encoder), {"jscc": jscc_config})]
    if receiver == "jscc":
        decoder = trained.decoder if trained is not None else codec.decoder
        return specs + [GraphSpec("decoder", DecoderGraph(decoder), {"jscc": jscc_config})], trained is None
    if trained is not None:
        denoiser, decoder = trained.denoiser, trained.decoder
    else:
        denoiser, decoder = LatentUNet(DenoiserConfig(channels=jscc_config.channels)), codec.decoder
    return specs + [
        GraphSpec("decoder", DecoderGraph(decoder), {"jscc": jscc_config}),
        GraphSpec("denoiser", DenoiserGraph(denoiser), {"denoiser": denoiser.config}),
        GraphSpec("cddm", CDDMGraph(denoiser, decoder), {"jscc": jscc_config, "denoiser": denoiser.config}, steps),
    ], trained is None
