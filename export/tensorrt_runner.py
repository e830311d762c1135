"""TensorRT (10.x Python API): engines built from the exported ONNX files, cached, run on a
CUDA stream. TensorRT cannot be installed on the CI machines; everything that does not need
an engine (cache keys, optimization profiles, binding plans) is plain Python and tested.

Engine cache: ``<cache>/<key>.engine`` with key = SHA-256 of (ONNX SHA-256, build config,
TensorRT version, GPU name and compute capability); a timing cache ``<cache>/timing.cache``
persists between builds. An engine built for another GPU or TensorRT version has another key,
so it is rebuilt (with a message), never silently reused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from diffair.dsp.errors import ExportError
from diffair.export.onnx_export import read_sidecar


@dataclass(frozen=True)
class BuildConfig:
    """fp16: allow half precision; batch range of the optimization profile; workspace in MiB."""

    fp16: bool = False
    min_batch: int = 1
    opt_batch: int = 1
    max_batch: int = 16
    workspace_mib: int = 1024

    def __post_init__(self) -> None:
        if not 1 <= self.min_batch <= self.opt_batch <= self.max_batch:
            raise ExportError(f"batch range {self.min_batch} <= {self.opt_batch} <= {self.max_batch} does not hold")


def engine_cache_key(onnx_sha256: str, build: BuildConfig, trt_version: str, gpu: str) -> str:
    """Everything that invalidates an engine, hashed."""
    blob = json.dumps({"onnx": onnx_sha256, "build": asdict(build), "trt": trt_version, "gpu": gpu}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def profile_shapes(example_shapes: dict[str, list[int]], batch_inputs: list[str], build: BuildConfig
                   ) -> dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    """(min, opt, max) shape per input: the batch axis of batch inputs spans the build's range,
    every other axis is fixed at the exported example's size."""
    shapes = {}
    for name, shape in example_shapes.items():
        if name in batch_inputs:
            shapes[name] = tuple((b, *shape[1:]) for b in (build.min_batch, build.opt_batch, build.max_batch))
        else:
            shapes[name] = (tuple(shape),) * 3
    return shapes


def check_batch(inputs: dict[str, np.ndarray], shapes: dict, batch_inputs: list[str]) -> None:
    """Refuse inputs outside the optimization profile, naming the input, shape and range."""
    for name, (low, _, high) in shapes.items():
        got = inputs[name].shape
        if len(got) != len(low) or any(not lo <= g <= hi for g, lo, hi in zip(got, low, high)):
            raise ExportError(f"input {name} has shape {tuple(got)}; the engine's profile allows {low} .. {high}")


class TrtRunner:
    """An exported graph as a TensorRT engine (built or taken from the cache)."""

    backend = "trt"

    def __init__(self, onnx_path: Path, cache_dir: Path, build: BuildConfig | None = None):
        try:
            import tensorrt as trt
            import torch
        except ImportError as err:
            raise ExportError(f"TensorRT is not available ({err}): install NVIDIA's tensorrt wheel for your CUDA") from err
        if not torch.cuda.is_available():
            raise ExportError("TensorRT needs a CUDA GPU; none is visible to torch")
        self.trt, self.torch = trt, torch
        self.build = build or BuildConfig()
        self.meta = read_sidecar(onnx_path)
        self.batch_inputs = list(self.meta["batch_inputs"])
        props = torch.cuda.get_device_properties(0)
        gpu = f"{props.name} sm_{props.major}{props.minor}"
        key = engine_cache_key(self.meta["onnx_sha256"], self.build, trt.__version__, gpu)
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        engine_path = cache_dir / f"{key}.engine"
        self.shapes = profile_shapes(self.meta["example_shapes"], self.batch_inputs, self.build)
        logger = trt.Logger(trt.Logger.WARNING)
        if not engine_path.exists():
            print(f"building TensorRT engine for {onnx_path} ({gpu}, TensorRT {trt.__version__}) -> {engine_path}")
            engine_path.write_bytes(self._build(Path(onnx_path), cache_dir / "timing.cache", logger))
        self.engine = trt.Runtime(logger).deserialize_cuda_engine(engine_path.read_bytes())
        if self.engine is None:
            raise ExportError(f"cannot deserialize {engine_path}: delete it to rebuild")
        self.context = self.engine.create_execution_context()
        self.stream = torch.cuda.Stream()
        self.provider = f"tensorrt-{'fp16' if self.build.fp16 else 'fp32'}"

    def _build(self, onnx_path: Path, timing_path: Path, logger) -> bytes:
        trt = self.trt
        builder = trt.Builder(logger)
        network = builder.create_network(0)
        parser = trt.OnnxParser(network, logger)
        if not parser.parse(onnx_path.read_bytes()):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise ExportError(f"TensorRT cannot parse {onnx_path}: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, self.build.workspace_mib << 20)
        if self.build.fp16:
            config.set_flag(trt.BuilderFlag.FP16)
        cache = config.create_timing_cache(timing_path.read_bytes() if timing_path.exists() else b"")
        config.set_timing_cache(cache, ignore_mismatch=False)
        profile = builder.create_optimization_profile()
        for name, (low, opt, high) in self.shapes.items():
            profile.set_shape(name, low, opt, high)
        config.add_optimization_profile(profile)
        engine = builder.build_serialized_network(network, config)
        if engine is None:
            raise ExportError(f"TensorRT failed to build an engine for {onnx_path}")
        timing_path.write_bytes(memoryview(config.get_timing_cache().serialize()))
        return bytes(engine)

    def infer(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        check_batch(inputs, self.shapes, self.batch_inputs)
        device = {n: torch.from_numpy(np.ascontiguousarray(inputs[n], np.float32)).cuda() for n in self.meta["inputs"]}
        for name, tensor in device.items():
            self.context.set_input_shape(name, tuple(tensor.shape))
            self.context.set_tensor_address(name, tensor.data_ptr())
        outputs = {}
        for name in self.meta["outputs"]:
            shape = tuple(self.context.get_tensor_shape(name))
            outputs[name] = torch.empty(shape, dtype=torch.float32, device="cuda")
            self.context.set_tensor_address(name, outputs[name].data_ptr())
        if not self.context.execute_async_v3(self.stream.cuda_stream):
            raise ExportError("TensorRT execution failed")
        self.stream.synchronize()
        return {n: t.cpu().numpy() for n, t in outputs.items()}

    def synchronize(self) -> None:
        self.stream.synchronize()
