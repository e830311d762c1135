"""ONNX export with a sidecar: opset >= 17, dynamic batch, checked by onnx.checker.

``NAME.onnx`` comes with ``NAME.json``: the graph kind, model configs, K, opset, input and
output names, the SHA-256 of the weights and of the ONNX file, and the torch version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from dsp.errors import ExportError

MIN_OPSET = 17


def weights_hash(module: torch.nn.Module) -> str:
    """SHA-256 over the module's state dict (names and float32 bytes), for the sidecar."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().float().numpy().tobytes())
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def export_graph(graph: torch.nn.Module, example: tuple[torch.Tensor, ...], path: Path, *, kind: str,
                 batch_inputs: tuple[str, ...], configs: dict, steps: int | None = None, opset: int = MIN_OPSET
                 ) -> Path:
    """Export ``graph`` (with ``inputs`` / ``outputs`` name tuples) to ``path``; axis 0 of
    ``batch_inputs`` and of every output is the dynamic batch. Returns the sidecar path."""
    import onnx

    if opset < MIN_OPSET:
        raise ExportError(f"opset {opset} is below the supported minimum {MIN_OPSET}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dynamic = {name: {0: "batch"} for name in (*batch_inputs, *graph.outputs)}
    graph.eval()
    with torch.no_grad():
        torch.onnx.export(graph, example, str(path), input_names=list(graph.inputs), output_names=list(graph.outputs),
                          dynamic_axes=dynamic, opset_version=opset, dynamo=False)
    try:
        onnx.checker.check_model(onnx.load(str(path)))
    except onnx.checker.ValidationError as err:
        raise ExportError(f"exported {path} fails onnx.checker: {err}") from err
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps({
        "kind": kind, "steps": steps, "opset": opset, "inputs": list(graph.inputs), "outputs": list(graph.outputs),
        "batch_inputs": list(batch_inputs),
        "example_shapes": {n: list(t.shape) for n, t in zip(graph.inputs, example)},
        "configs": {k: dataclasses.asdict(v) for k, v in configs.items()},
        "weights_sha256": weights_hash(graph), "onnx_sha256": file_hash(path), "torch": torch.__version__,
    }, indent=2) + "\n")
    return sidecar


def read_sidecar(path: Path) -> dict:
    """The sidecar of an exported graph, checking that the .onnx beside it is the one described."""
    path = Path(path)
    sidecar = path.with_suffix(".json")
    if not path.exists():
        raise ExportError(f"no exported graph at {path}: run `diffair export` first")
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ExportError(f"cannot read the sidecar {sidecar} of {path}: {err}") from err
    if meta.get("onnx_sha256") != file_hash(path):
        raise ExportError(f"{path} does not match its sidecar (sha256 differs): the file was changed or is corrupt; "
                          "export it again")
    return meta


def example_inputs(kind: str, channels: int, side: int, batch: int, steps: int | None,
                   latent_channels: int = 8) -> tuple[torch.Tensor, ...]:
    """Representative inputs of each graph kind (latent side = image side / 4; Guo et al.'s
    ``djscc`` sends ``channels`` on a side / 8 grid and samples ``latent_channels`` at side / 4)."""
    from models.receivers import sampler_plan
    from models.schedule import NoiseSchedule

    g = torch.Generator().manual_seed(0)
    if kind == "encoder":
        return (torch.rand(batch, 3, side, side, generator=g),)
    grid = side // 8 if kind == "djscc" else side // 4
    lat = (batch, channels, grid, grid)
    y, gain = torch.randn(lat, generator=g), torch.rand(lat, generator=g) * 0.5 + 0.5
    noise_var = torch.rand(lat, generator=g) * 0.1 + 0.01
    if kind == "decoder":
        return y, gain, noise_var
    if kind == "denoiser":
        return y, torch.full((batch,), 50.0), gain, noise_var.sqrt() * 3
    if kind == "icdm":
        from models.icdm import lambda_grid

        schedule = NoiseSchedule()
        visit = lambda_grid(schedule, steps)
        cross = torch.randn(lat, generator=g) * 0.3
        zeros = torch.zeros(lat)
        return (y, gain, noise_var, cross, torch.as_tensor(visit, dtype=torch.float32),
                torch.as_tensor(schedule.alphas_cumprod[visit], dtype=torch.float32), zeros, zeros,
                torch.tensor([2.5, 1.5, 0.0]))
    plan = sampler_plan(NoiseSchedule(), 10.0, steps).padded(steps)
    if kind == "djscc":
        noise = torch.randn(batch, latent_channels, side // 4, side // 4, generator=g)
        return (y, gain, noise_var, noise, *plan.tensors())
    return (y, gain, noise_var, torch.full((batch,), 10 ** (-10 / 20)), *plan.tensors())


def as_numpy(inputs: tuple[torch.Tensor, ...], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {n: t.numpy() for n, t in zip(names, inputs)}
