"""Runners with one contract, ``infer(dict[str, ndarray]) -> dict[str, ndarray]``, so torch,
onnxruntime and TensorRT are interchangeable and parity is one harness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dsp.errors import ExportError

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider", "tensorrt": "TensorrtExecutionProvider"}


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
    """An ONNX file run by onnxruntime on the requested execution provider. onnxruntime falls
    back to CPU silently when a provider cannot load; this runner checks which provider
    actually runs and refuses a fallback."""

    backend = "ort"

    def __init__(self, path: Path, provider: str = "cpu", threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise ExportError("onnxruntime is not installed: pip install 'diffair[cpu]' (or [gpu])") from err
        path = Path(path)
        if not path.exists():
            raise ExportError(f"no ONNX file at {path}: run `diffair export` first")
        wanted = PROVIDERS.get(provider)
        if wanted is None:
            raise ExportError(f"unknown provider {provider!r}; expected one of {sorted(PROVIDERS)}")
        available = ort.get_available_providers()
        if wanted not in available:
            raise ExportError(f"onnxruntime provider {wanted} is not installed (available: {available}); "
                              "for CUDA / TensorRT install onnxruntime-gpu instead of onnxruntime")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            chain = [wanted] + (["CPUExecutionProvider"] if wanted != PROVIDERS["cpu"] else [])
            self.session = ort.InferenceSession(str(path), options, providers=chain)
        except Exception as err:  # onnxruntime raises its own exception types for corrupt models
            raise ExportError(f"onnxruntime cannot load {path}: {err}") from err
        running = self.session.get_providers()[0]
        if running != wanted:
            raise ExportError(f"asked onnxruntime for {wanted} but it runs {running} (the provider failed to "
                              "load: check CUDA / cuDNN / TensorRT libraries)")
        self.provider = running
        self.input_names = [i.name for i in self.session.get_inputs()]

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        missing = sorted(set(self.input_names) - set(inputs))
        if missing:
            raise ExportError(f"onnxruntime runner: missing inputs {missing}; expected {self.input_names}")
        feeds = {n: np.ascontiguousarray(inputs[n], dtype=np.float32) for n in self.input_names}
        names = [o.name for o in self.session.get_outputs()]
        return dict(zip(names, self.session.run(names, feeds)))

    def synchronize(self) -> None:
        """``run`` returns host arrays: nothing is left in flight."""
