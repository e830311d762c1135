"""Which graphs a receiver exports, built from the shipped weights (or, on request,
untrained networks of the shipped shapes, for latency work before training)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from dsp.errors import ConfigError, ModelError
from export.graphs import CDDMGraph, DecoderGraph, DenoiserGraph, DJSCCGraph, EncoderGraph, ICDMGraph
from export.onnx_export import example_inputs
from models.autoencoder import AutoencoderConfig, SemanticAutoencoder
from models.denoiser import DenoiserConfig, LatentPrior, LatentUNet
from models.djscc import DiffusionLink, LinkConfig
from models.jscc import DeepJSCC, JSCCConfig
from models.registry import RECEIVERS, WEIGHTS_DIR, build_receiver, load_codec

BATCH_INPUTS = {"encoder": ("image",), "decoder": ("y", "gain", "noise_var"),
                "denoiser": ("x_t", "t", "w_s", "w_n"), "cddm": ("y", "gain", "noise_var", "sigma"),
                "icdm": ("y", "gain", "thermal_var", "cross", "x_start", "z_start"),
                "djscc": ("y", "gain", "noise_var", "noise")}
UNROLLED = ("cddm", "icdm", "djscc")


@dataclass
class GraphSpec:
    """One exportable graph: its kind, module, the configs it was built from, and K."""

    kind: str
    graph: torch.nn.Module
    configs: dict
    steps: int | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}_k{self.steps}" if self.kind in UNROLLED else self.kind

    def example(self, side: int, batch: int) -> tuple[torch.Tensor, ...]:
        """Representative inputs of this graph for images of ``side`` pixels."""
        if "link" in self.configs:
            link = self.configs["link"]
            return example_inputs(self.kind, link.symbol_channels, side, batch, self.steps, link.latent_channels)
        config = self.configs.get("jscc") or self.configs["denoiser"]
        return example_inputs(self.kind, config.channels, side, batch, self.steps)


def receiver_graphs(receiver: str, channel: str = "awgn", steps: int = 10, weights: Path = WEIGHTS_DIR,
                    untrained: bool = False) -> tuple[list[GraphSpec], bool]:
    """The graphs of ``receiver`` (one of models.registry.RECEIVERS); returns them and whether
    the weights were untrained. ``steps``: K of the unrolled receiver (ICDM: per prior)."""
    if receiver not in RECEIVERS:
        raise ConfigError(f"cannot export receiver {receiver!r}; expected one of {', '.join(RECEIVERS)}")
    if receiver == "icdm":
        return _icdm_graphs(steps, weights, untrained)
    if receiver == "djscc":
        return _djscc_graphs(channel, steps, weights, untrained)
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


def _trained_or_none(receiver: str, channel: str, steps: int, weights: Path, untrained: bool):
    try:
        return build_receiver(receiver, channel, steps, weights)
    except ModelError:
        if not untrained:
            raise
        return None


def _icdm_graphs(steps: int, weights: Path, untrained: bool) -> tuple[list[GraphSpec], bool]:
    trained = _trained_or_none("icdm", "rayleigh", steps, weights, untrained)
    if trained is not None:
        priors, decoder = (trained.prior_x, trained.prior_z), trained.decoder
    else:
        priors, decoder = (LatentPrior(DenoiserConfig()), LatentPrior(DenoiserConfig())), DeepJSCC(JSCCConfig()).decoder
    config = {"jscc": JSCCConfig(), "denoiser": priors[0].config}
    return [GraphSpec("icdm", ICDMGraph(*priors, decoder), config, steps)], trained is None


def _djscc_graphs(channel: str, steps: int, weights: Path, untrained: bool) -> tuple[list[GraphSpec], bool]:
    trained = _trained_or_none("djscc", channel, steps, weights, untrained)
    if trained is not None:
        link, prior, autoencoder = trained.link, trained.prior, trained.autoencoder
    else:
        autoencoder = SemanticAutoencoder(AutoencoderConfig())
        link = DiffusionLink(LinkConfig(channel=channel)).eval()
        prior = LatentPrior(DenoiserConfig(channels=link.config.latent_channels))
    configs = {"link": link.config, "autoencoder": autoencoder.config, "denoiser": prior.config}
    return [GraphSpec("djscc", DJSCCGraph(link.upsampler, prior, autoencoder), configs, steps)], trained is None
