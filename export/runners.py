"""Runners with one contract, ``infer(dict[str, ndarray]) -> dict[str, ndarray]``, so torch,
onnxruntime and TensorRT are interchangeable and parity is one harness; built in one place,
``make_runner``, from one set of backend names (``RunnerChoice``).

Backend names: ``torch``, ``ort`` and ``trt`` (``onnxruntime`` and ``tensorrt`` are aliases),
each optionally with a variant after a dash: ``torch-cuda``, ``ort-cuda`` and ``ort-trt``
(onnxruntime's CUDA and TensorRT execution providers), ``trt-fp16`` (TensorRT allowed FP16).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from diffair.dsp.errors import ConfigError, ExportError

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider", "tensorrt": "TensorrtExecutionProvider"}
BACKENDS = ("torch", "ort", "trt")
BACKEND_ALIASES = {"onnxruntime": "ort", "tensorrt": "trt"}
VARIANTS = {"torch": ("auto", "cpu", "cuda"), "ort": ("cpu", "cuda", "trt"), "trt": ("fp32", "fp16")}
"""Each backend's variants, the first being what the bare name means (torch: CUDA when this
torch build has a GPU, else the CPU)."""


@dataclass(frozen=True)
class RunnerChoice:
    """Which runner runs a graph: ``backend`` (one of BACKENDS), its ``variant`` (VARIANTS),
    ``threads`` (CPU threads: onnxruntime's intra-op pool, or as many one-thread runs over the
    images of a batch; None: all the cores this process may use)."""

    backend: str
    variant: str = ""
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend {self.backend!r}; expected one of {', '.join(BACKENDS)} (or "
                              f"{', '.join(BACKEND_ALIASES)})")
        if self.variant and self.variant not in VARIANTS[self.backend]:
            raise ConfigError(f"backend {self.label!r}: variant {self.variant!r}; expected one of "
                              f"{', '.join(f'{self.backend}-{v}' for v in VARIANTS[self.backend])}")

    @classmethod
    def parse(cls, text: str, threads: int | None = None) -> "RunnerChoice":
        """``torch``, ``ort-cuda``, ``tensorrt``, ``trt-fp16``, ...: a backend name, an alias, or
        either with a variant after a dash."""
        name, _, variant = text.strip().lower().partition("-")
        return cls(BACKEND_ALIASES.get(name, name), variant, threads)

    @property
    def label(self) -> str:
        """The canonical name: ``ort``, ``ort-cuda``, ``trt-fp16``, ..."""
        default = VARIANTS.get(self.backend, ("",))[0]
        return self.backend if self.variant in ("", default) else f"{self.backend}-{self.variant}"

    @property
    def needs_onnx(self) -> bool:
        return self.backend != "torch"


def make_runner(choice: RunnerChoice, graph: torch.nn.Module, onnx_path: Path | None = None,
                cache_dir: Path | None = None, max_batch: int = 64):
    """The runner of ``choice`` for ``graph`` (torch) or its exported ``onnx_path`` (ort, trt;
    TensorRT engines cached under ``cache_dir``): the one place that picks execution providers,
    devices and threads."""
    if choice.backend == "torch":
        gpu = choice.variant == "cuda" or (choice.variant in ("", "auto") and torch.cuda.is_available())
        return TorchRunner(graph, "cuda" if gpu else "cpu")
    if onnx_path is None:
        raise ExportError(f"backend {choice.label} runs an exported ONNX file: export the graph first")
    if choice.backend == "ort":
        provider = {"": "cpu", "cpu": "cpu", "cuda": "cuda", "trt": "tensorrt"}[choice.variant]
        return OrtRunner(onnx_path, provider, choice.threads, getattr(graph, "batch_inputs", ()))
    from diffair.export.tensorrt_runner import BuildConfig, TrtRunner

    return TrtRunner(onnx_path, cache_dir or Path(onnx_path).parent / "engines",
                     BuildConfig(fp16=choice.variant == "fp16", max_batch=max_batch))


class TorchRunner:
    """A graph module (``inputs`` / ``outputs`` name tuples) run by PyTorch eager, on CPU or CUDA."""

    backend = "torch"

    def __init__(self, graph: torch.nn.Module, device: str = "cpu", compile: bool = False):
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ExportError(f"torch runner asked for {device} but CUDA is not available to this torch build")
        self.device = torch.device(device)
        self.graph = graph.eval().to(self.device)
        self.module = torch.compile(self.graph) if compile else self.graph
        self.provider = f"torch-{self.device.type}{'-compiled' if compile else ''}"

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        missing = sorted(set(self.graph.inputs) - set(inputs))
        if missing:
            raise ExportError(f"torch runner: missing inputs {missing}; expected {list(self.graph.inputs)}")
        args = [torch.from_numpy(np.ascontiguousarray(inputs[n])).to(self.device) for n in self.graph.inputs]
        with torch.inference_mode():
            out = self.module(*args)
        out = out if isinstance(out, tuple) else (out,)
        return {n: t.detach().cpu().numpy() for n, t in zip(self.graph.outputs, out)}

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


class OrtRunner:
    """An ONNX file run by onnxruntime on ``provider`` ("cpu", "cuda" or "tensorrt").

    onnxruntime falls back to CPU silently when a provider cannot load; this runner checks which
    provider actually runs and refuses a fallback. On the CPU, a batch of several images (a
    photograph's 32 x 32 tiles, models.tiling) is split over ``threads`` one-thread runs in
    parallel, along ``batch_inputs``: a convolution on an 8 x 8 latent does not split well over
    cores, an image per core does (cddm-rt on 16 tiles: 12.6 ms against 19.9 on two cores,
    docs/benchmarks/realtime.md); a single image runs on the ``threads``-thread pool."""

    backend = "ort"

    def __init__(self, path: Path, provider: str = "cpu", threads: int | None = None,
                 batch_inputs: tuple[str, ...] = ()):
        try:
            import onnxruntime  # noqa: F401
        except ImportError as err:
            raise ExportError("onnxruntime is not installed: pip install 'diffair[cpu]' (or [gpu])") from err
        self.path = Path(path)
        if not self.path.exists():
            raise ExportError(f"no ONNX file at {self.path}: run `diffair export` first")
        self.wanted = PROVIDERS.get(provider)
        if self.wanted is None:
            raise ExportError(f"unknown provider {provider!r}; expected one of {sorted(PROVIDERS)}")
        self.session = self._session(threads)
        self.provider = self.session.get_providers()[0]
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.workers = threads or len(os.sched_getaffinity(0))
        self.batch_inputs = tuple(n for n in batch_inputs if n in self.input_names)
        self._one_thread = self._pool = None  # made on the first batch that is split

    def _session(self, threads: int | None):
        import onnxruntime as ort

        available = ort.get_available_providers()
        if self.wanted not in available:
            raise ExportError(f"onnxruntime provider {self.wanted} is not installed (available: {available}); "
                              "for CUDA / TensorRT install onnxruntime-gpu instead of onnxruntime")
        options = ort.SessionOptions()
        # idle pool threads sleep instead of spinning: a receiver shares the cores with the front end
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            chain = [self.wanted] + (["CPUExecutionProvider"] if self.wanted != PROVIDERS["cpu"] else [])
            session = ort.InferenceSession(str(self.path), options, providers=chain)
        except Exception as err:  # onnxruntime raises its own exception types for corrupt models
            raise ExportError(f"onnxruntime cannot load {self.path}: {err}") from err
        running = session.get_providers()[0]
        if running != self.wanted:
            raise ExportError(f"asked onnxruntime for {self.wanted} but it runs {running} (the provider failed to "
                              "load: check CUDA / cuDNN / TensorRT libraries)")
        return session

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        missing = sorted(set(self.input_names) - set(inputs))
        if missing:
            raise ExportError(f"onnxruntime runner: missing inputs {missing}; expected {self.input_names}")
        feeds = {n: np.ascontiguousarray(inputs[n], dtype=np.float32) for n in self.input_names}
        names = [o.name for o in self.session.get_outputs()]
        batch = len(feeds[self.batch_inputs[0]]) if self.batch_inputs else 1
        if self.wanted != PROVIDERS["cpu"] or self.workers < 2 or batch < 2:
            return dict(zip(names, self.session.run(names, feeds)))
        if self._one_thread is None:
            self._one_thread = self._session(1)
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="diffair-ort")
        parts = min(self.workers, batch)
        split = {n: np.array_split(v, parts) if n in self.batch_inputs else [v] * parts for n, v in feeds.items()}
        chunks = [{n: split[n][i] for n in feeds} for i in range(parts)]
        outputs = list(self._pool.map(lambda chunk: self._one_thread.run(names, chunk), chunks))
        return {n: np.concatenate(pieces) for n, pieces in zip(names, zip(*outputs))}

    def synchronize(self) -> None:
        """``run`` returns host arrays: nothing is left in flight."""


def available_backends() -> list[str]:
    """The backends whose Python package imports here (torch always)."""
    import importlib.util

    packages = {"ort": "onnxruntime", "trt": "tensorrt"}
    return ["torch"] + [b for b, package in packages.items() if importlib.util.find_spec(package) is not None]
