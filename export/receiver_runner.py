"""A receiver run by any backend: its graph (models.contract.Receiver.graph) with the feeds it
computes for an observation, handed to the runner of a ``RunnerChoice``. ONNX files (and
TensorRT engines) are exported on first use and cached per input shapes, so one receiver
serves payloads of several image sizes and step counts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from diffair.export.onnx_export import export_graph
from diffair.export.runners import RunnerChoice, make_runner
from diffair.models.contract import Decoded, Receiver
from diffair.models.observation import LatentObservation
from diffair.models.registry import check_backend
from diffair.models.tiling import decode_tiled, needs_tiles


class ReceiverRunner:
    """``receiver`` on ``choice`` (a RunnerChoice or a backend name); exported graphs go to
    ``cache``. Called with an observation, returns ``Decoded`` like the receiver itself.
    ``provider`` says what ran the last call (e.g. "CPUExecutionProvider"); ``switched_to`` the
    baseline that decoded it in the receiver's place (models.switching), or None."""

    def __init__(self, receiver: Receiver, choice: RunnerChoice | str, cache: Path):
        self.choice = RunnerChoice.parse(choice) if isinstance(choice, str) else choice
        check_backend(receiver.name, self.choice.backend)
        self.receiver, self.cache = receiver, Path(cache)
        self.graph = receiver.graph()  # built once: every call runs the same module or its export
        self.name, self.backend = receiver.name, self.choice.label
        self.provider = None
        self.switched_to: str | None = None
        self._runners: dict = {}
        self._fallbacks: dict[str, ReceiverRunner] = {}

    def _runner(self, feeds: dict[str, np.ndarray]):
        graph = self.graph
        key = tuple((name, feeds[name].shape[1:] if name in graph.batch_inputs else feeds[name].shape)
                    for name in graph.inputs)
        if key not in self._runners:
            path = None
            if self.choice.needs_onnx:
                digest = hashlib.sha1(repr(key).encode()).hexdigest()[:10]
                path = self.cache / f"{self.name}_{digest}.onnx"
                example = tuple(torch.from_numpy(feeds[name]) for name in graph.inputs)
                export_graph(graph, example, path, kind=self.receiver.graph_kind or self.name,
                             batch_inputs=graph.batch_inputs, configs=self.receiver.configs(),
                             steps=self.receiver.steps)
            self._runners[key] = make_runner(self.choice, graph, path, self.cache / "engines")
        return self._runners[key]

    def __call__(self, obs: LatentObservation) -> Decoded:
        return Decoded(*(torch.from_numpy(part) for part in self.decode_numpy(obs)))

    def decode_numpy(self, obs: LatentObservation) -> Decoded:
        """As a call, but the image and latent as the runner's numpy arrays."""
        tile = self.receiver.latent_tile
        if tile and needs_tiles(obs.y, tile):  # a large image: its 32 x 32 tiles as one batch (models.tiling)
            return decode_tiled(self.decode_numpy, obs, tile)
        other = self.receiver.fallback_for(obs)
        self.switched_to = self.receiver.switched_to
        if other is not None:
            if other.name not in self._fallbacks:
                self._fallbacks[other.name] = ReceiverRunner(other, self.choice, self.cache)
            decoded = self._fallbacks[other.name].decode_numpy(obs)
            self.provider = self._fallbacks[other.name].provider
            return decoded
        feeds = {name: value.numpy() for name, value in self.receiver.inputs_for(obs).items()}
        runner = self._runner(feeds)
        self.provider = runner.provider
        out = runner.infer(feeds)
        return Decoded(out["image"], out["latent"])
