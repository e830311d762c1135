"""Receivers on other backends: the same LatentObservation in, image and latent out, run by a
torch, onnxruntime or TensorRT runner over the exported graphs (cached per shape and K)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dsp.errors import ConfigError
from export.build import BATCH_INPUTS
from export.graphs import CDDMGraph, DecoderGraph, DJSCCGraph, ICDMGraph
from export.onnx_export import export_graph
from export.runners import OrtRunner, TorchRunner
from models.djscc import DiffusionJSCCReceiver
from models.icdm import ICDMReceiver
from models.receivers import CDDMReceiver, LatentObservation

BACKENDS = ("torch", "ort", "trt")


class RunnerReceiver:
    """Wraps a torch receiver (JSCC, CDDM, ICDM or Guo et al.'s) so that its graph runs on
    ``backend``; ONNX files go to ``cache``, one per latent shape and step count."""

    def __init__(self, receiver: torch.nn.Module, backend: str, cache: Path):
        if backend not in BACKENDS:
            raise ConfigError(f"--backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        self.receiver, self.backend, self.cache = receiver, backend, Path(cache)
        self.name = receiver.name
        self.provider = "torch-cpu" if backend == "torch" else None
        self._runners: dict = {}

    def _runner(self, graph, kind: str, feeds: dict[str, np.ndarray], steps: int | None):
        key = (kind, steps, feeds["y"].shape[1:])
        if key not in self._runners:
            if self.backend == "torch":
                runner = TorchRunner(graph)
            else:
                shape = "x".join(str(v) for v in feeds["y"].shape[1:])
                path = self.cache / f"{self.name}_{kind}_{shape}_k{steps}.onnx"
                example = tuple(torch.from_numpy(feeds[n]) for n in graph.inputs)
                export_graph(graph, example, path, kind=kind, batch_inputs=BATCH_INPUTS[kind], configs={},
                             steps=steps)
                if self.backend == "ort":
                    runner = OrtRunner(path)
                else:
                    from export.tensorrt_runner import BuildConfig, TrtRunner

                    runner = TrtRunner(path, self.cache / "engines", BuildConfig())
            self._runners[key] = runner
            self.provider = runner.provider
        return self._runners[key]

    def __call__(self, obs: LatentObservation) -> tuple[torch.Tensor, torch.Tensor]:
        feeds = {"y": obs.y.numpy(), "gain": obs.gain.numpy(), "noise_var": obs.noise_var.numpy()}
        if isinstance(self.receiver, CDDMReceiver):
            plan = self.receiver.plan(obs.snr_db)
            feeds |= {"sigma": np.full(len(obs.y), 10 ** (-obs.snr_db / 20), np.float32),
                      "t": plan.t, "alpha_t": plan.alpha_t, "alpha_next": plan.alpha_next}
            graph = CDDMGraph(self.receiver.denoiser, self.receiver.decoder)
            out = self._runner(graph, "cddm", feeds, len(plan.t)).infer(feeds)
            return torch.from_numpy(out["image"]), torch.from_numpy(out["latent"])
        if isinstance(self.receiver, DiffusionJSCCReceiver):
            plan = self.receiver.plan(obs.snr_db)
            b, _, h, w = obs.y.shape
            noise = self.receiver.noise((b, self.receiver.link.config.latent_channels, 2 * h, 2 * w))
            feeds |= {"noise": noise.numpy(), "t": plan.t, "alpha_t": plan.alpha_t, "alpha_next": plan.alpha_next}
            graph = DJSCCGraph(self.receiver.link.upsampler, self.receiver.prior, self.receiver.autoencoder)
            out = self._runner(graph, "djscc", feeds, len(plan.t)).infer(feeds)
            return torch.from_numpy(out["image"]), torch.from_numpy(out["latent"])
        if isinstance(self.receiver, ICDMReceiver):
            feeds = {name: value.numpy() for name, value in self.receiver.inputs(obs).items()}
            graph = ICDMGraph(self.receiver.prior_x, self.receiver.prior_z, self.receiver.decoder)
            out = self._runner(graph, "icdm", feeds, self.receiver.steps).infer(feeds)
            return torch.from_numpy(out["image"]), torch.from_numpy(out["latent"])
        if self.receiver.name not in ("jscc", "lmmse"):
            raise ConfigError(f"receiver {self.receiver.name!r} runs on the torch backend only (--backend torch)")
        # the decoder on the MMSE-equalized symbols; lmmse reports its own latent estimate
        out = self._runner(DecoderGraph(self.receiver.decoder), "decoder", feeds, None).infer(feeds)
        latent = self.receiver.estimate(obs) if hasattr(self.receiver, "estimate") else obs.y
        return torch.from_numpy(out["image"]), latent
