"""The receiver contract: what every receiver takes from the PHY, what it returns, how it is
exported and run, and the spec that registers it (``diffair.models.registry``).

After diffusers' split of network / scheduler / pipeline and Polygraphy's loader / runner
split: a receiver owns its networks (built by its spec's loader from the weights folder) and
a sampler without parameters, and it states its whole work as one tensors-only graph
(``graph()``, whose named inputs ``feeds(obs)`` computes from an observation). Every backend —
torch, onnxruntime, TensorRT — runs that graph through the same runner
(``diffair.export.runners``), so the testbed never asks a receiver what it is.

What a receiver takes from the PHY is its ``observation`` class: a ``LatentObservation``
(equalized latent y, per-value gain and noise variance, erasures as gain 0, the frame SNR) or
an ``InterferedObservation`` (plus the interferer's coefficient W_z, the thermal noise alone
and the SINR). What it returns is ``Decoded``: the image and the latent it decoded from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, NamedTuple

import torch

from diffair.dsp.errors import ConfigError, ModelError
from diffair.models.observation import LatentObservation
from diffair.models.tiling import decode_tiled, needs_tiles

BACKENDS = ("torch", "ort", "trt")
"""The runners every graph-based receiver runs on (``diffair.export.runners``)."""
SCENARIOS = ("plain", "interference")
"""plain: one transmitter on the air; interference: ICDM's scenario, a frame-synchronous
interferer whose channel the PHY estimates (models.interference)."""


class Decoded(NamedTuple):
    """image: ``[B, 3, H, W]`` in about [0, 1] (not clamped); latent: ``[B, C, h, w]`` the
    latent estimate decoded from, in the transmitter's reference units."""

    image: torch.Tensor
    latent: torch.Tensor


@dataclass(frozen=True)
class ExportGraph:
    """One exportable graph: ``name`` (the file stem), ``kind`` (what it computes), the module
    (with ``inputs``, ``outputs`` and ``batch_inputs``), the configs it was built from (for the
    ONNX sidecar), K, and ``example(side, batch)``: representative inputs in ``graph.inputs``
    order for images of ``side`` x ``side`` pixels."""

    name: str
    kind: str
    graph: torch.nn.Module
    configs: dict
    example: Callable[[int, int], tuple[torch.Tensor, ...]]
    steps: int | None = None


class Receiver(torch.nn.Module):
    """The base class of every receiver.

    A subclass sets ``observation`` (what it needs from the PHY) and implements ``graph`` and
    ``feeds``; ``decode`` (also ``forward``) runs that graph in torch. ``graph_kind`` names what
    the graph computes in the ONNX sidecar (default: the name). ``steps`` is the sampler's
    K (None: no sampler, or the full one); ``network_calls`` says how many network evaluations
    one image costs; ``configs`` feeds the ONNX sidecar; ``export_graphs`` lists what
    ``diffair export`` writes (by default the whole receiver as one graph).

    ``latent_tile`` (set by the registry from the transmitter: the latent side of a 32 x 32 tile)
    makes ``decode`` cut a larger observation into such tiles and decode them as one batch
    (models.tiling), as the networks were trained. A diffusion receiver may carry a ``switch``
    table (models.switching) and the baseline receivers it names (``fallbacks``): ``decode`` then
    hands an observation to the baseline where the receiver's expected gain is negative, and
    ``switched_to`` names the receiver that decoded the last call (None: its own method).
    """

    name: str = ""
    graph_kind: str | None = None
    observation: ClassVar[type] = LatentObservation
    steps: int | None = None
    latent_tile: int | None = None
    switch = None  # a models.switching.SwitchTable
    fallbacks: dict = {}  # baseline name -> Receiver, set per instance by the registry
    switched_to: str | None = None

    def graph(self) -> torch.nn.Module:
        """The whole receiver as a tensors-only module: ``inputs`` named as ``feeds`` names
        them, ``outputs`` = ("image", "latent")."""
        raise NotImplementedError

    def feeds(self, obs: LatentObservation) -> dict[str, torch.Tensor]:
        """The graph's inputs for ``obs``, by name (the batch inputs ``[B, ...]``, the rest shared)."""
        raise NotImplementedError

    def network_calls(self, snr_db: float) -> int:
        """Network evaluations per image at ``snr_db`` (a decoder call counts as one)."""
        raise NotImplementedError

    def configs(self) -> dict:
        """The dataclass configs of the networks, by role (for the ONNX sidecar)."""
        return {}

    def check(self, obs: LatentObservation) -> None:
        """Refuse an observation that lacks what this receiver needs from the PHY."""
        if not isinstance(obs, self.observation):
            raise ConfigError(f"receiver {self.name!r} needs a {self.observation.__name__} from the PHY, got a "
                              f"{type(obs).__name__}: it runs in the scenario its spec names "
                              "(`diffair receivers` lists them)")

    def inputs_for(self, obs: LatentObservation) -> dict[str, torch.Tensor]:
        """``feeds`` after ``check``: what every backend hands the graph."""
        self.check(obs)
        return self.feeds(obs)

    def fallback_for(self, obs: LatentObservation, switch: bool = True) -> "Receiver | None":
        """The baseline that decodes ``obs`` in this receiver's place (its switch table says it
        would lose there), or None (also with ``switch`` False); ``switched_to`` names it."""
        name = None
        if switch and self.switch is not None and self.switch.steps == self.steps:
            name = self.switch.baseline_at(getattr(obs, self.switch.key))
        self.switched_to = name
        return None if name is None else self.fallbacks[name]

    def decode(self, obs: LatentObservation, switch: bool = True) -> Decoded:
        """Decode a batch: ``obs`` ``[B, C, h, w]`` -> ``Decoded`` (image ``[B, 3, H, W]``);
        ``switch``: let the switch table hand it to a baseline."""
        if self.latent_tile and needs_tiles(obs.y, self.latent_tile):
            return decode_tiled(lambda tiles: self.decode(tiles, switch), obs, self.latent_tile)
        other = self.fallback_for(obs, switch)
        if other is not None:
            return other.decode(obs)
        graph = self.graph()
        feeds = self.inputs_for(obs)
        image, latent = graph(*(feeds[name] for name in graph.inputs))
        return Decoded(image, latent)

    def forward(self, obs: LatentObservation) -> Decoded:
        return self.decode(obs)

    def export_graphs(self, latent_shape: tuple[int, int, int] | Callable[[int], tuple[int, int, int]]
                      ) -> list[ExportGraph]:
        """What ``diffair export`` writes for this receiver: by default its whole graph, with
        examples from a random observation of ``latent_shape(side)`` = (C, h, w)."""
        return [ExportGraph(self.graph_name(), self.graph_kind or self.name, self.graph(), self.configs(),
                            self.example_feeds(latent_shape), self.steps)]

    def graph_name(self) -> str:
        """The file stem of the exported whole-receiver graph: name, plus ``_k<K>`` with a sampler."""
        return self.name if self.steps is None else f"{self.name}_k{self.steps}"

    def example_feeds(self, latent_shape) -> Callable[[int, int], tuple[torch.Tensor, ...]]:
        """``example(side, batch)`` for the whole graph: the feeds of a seeded random
        observation at 10 dB."""
        shape_of = latent_shape if callable(latent_shape) else (lambda side: latent_shape)

        def example(side: int, batch: int) -> tuple[torch.Tensor, ...]:
            obs = self.observation.random(batch, shape_of(side), torch.Generator().manual_seed(0))
            feeds = self.feeds(obs)
            return tuple(feeds[name] for name in self.graph().inputs)

        return example


@dataclass(frozen=True)
class Link:
    """The link a receiver serves: its channel type ("awgn" / "rayleigh") and scenario. The
    deep-JSCC codec of the link is ``codec``: the channel's own, or in the interference scenario
    the wanted user's codec of ICDM's cast (models.interference)."""

    channel: str
    scenario: str = "plain"

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ConfigError(f"scenario {self.scenario!r}; expected one of {', '.join(SCENARIOS)}")

    @property
    def codec(self) -> str:
        from diffair.models.interference import ICDM_SIGNAL_CODEC

        return ICDM_SIGNAL_CODEC if self.scenario == "interference" else f"jscc_{self.channel}_c16"


@dataclass
class WeightsLoader:
    """Loads networks from a weights folder (safetensors + JSON config each). With
    ``untrained``, a missing file gives an untrained network of the default config instead of an
    error (for export and latency work before training), and ``used_untrained`` records it."""

    folder: Path
    untrained: bool = False
    used_untrained: bool = field(default=False, init=False)

    def has(self, name: str) -> bool:
        return (Path(self.folder) / f"{name}.safetensors").exists()

    def load(self, module_cls: type, config_cls: type, name: str, default=None):
        """The module ``name`` in eval mode (or, untrained, ``module_cls(default or config_cls())``)."""
        from diffair.models.checkpoint import load_model

        if not self.has(name):
            if not self.untrained:
                raise ModelError(f"no weights {name}.safetensors in {self.folder}: train them (`diffair train ...`, "
                                 "see the README) or pass --weights DIR")
            self.used_untrained = True
            return module_cls(default or config_cls()).eval()
        return load_model(module_cls, config_cls, self.folder, name)


@dataclass(frozen=True)
class LoadRequest:
    """What a spec's loader gets: the link, the sampler steps (None: no sampler or the full
    one) and the weights loader."""

    link: Link
    steps: int | None
    weights: WeightsLoader


@dataclass(frozen=True)
class ReceiverSpec:
    """One registered receiver, declared next to its class.

    name / description: what the CLI and ``diffair receivers`` show; transmitter: the
    TransmitterSpec whose symbols it decodes; scenarios: which of SCENARIOS it serves;
    default_steps: its sampler's K when none is asked for (None: no sampler); backends: the
    runners it runs on; weights(link): the weights files (stems) it needs; load(request): the
    ready receiver (eval mode); variant_of: the receiver whose method it runs with other networks
    (the real-time ``-rt`` receivers): such variants are asked for by name, not run by default."""

    name: str
    description: str
    transmitter: str
    weights: Callable[[Link], tuple[str, ...]]
    load: Callable[[LoadRequest], Receiver]
    scenarios: tuple[str, ...] = ("plain",)
    default_steps: int | None = None
    backends: tuple[str, ...] = BACKENDS
    variant_of: str | None = None


class Transmitter:
    """What puts images on the air for a family of receivers: ``encode`` images ``[B, 3, H, W]``
    -> (the latent sent as symbols ``[B, C, h, w]``, the reference latent a receiver's estimate
    is scored against); ``latent_shape(height, width)`` of the sent latent; ``multiple``: image
    sides must be multiples of it; ``export_graphs`` for ``diffair export``."""

    multiple: int = 4

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def latent_shape(self, height: int, width: int) -> tuple[int, int, int]:
        raise NotImplementedError

    def export_graphs(self) -> list[ExportGraph]:
        return []


@dataclass(frozen=True)
class TransmitterSpec:
    """One registered transmitter: name, description, the header's PayloadKind of its payloads,
    the weights it needs and its loader (as ReceiverSpec's); downsampling: image pixels per
    latent position, per side (its receivers decode a 32 x 32 tile's latent at a time:
    models.tiling)."""

    name: str
    description: str
    payload_kind: int
    weights: Callable[[Link], tuple[str, ...]]
    load: Callable[[LoadRequest], Transmitter]
    downsampling: int = 4
