"""ONNX export with a sidecar: opset >= 17, dynamic batch, checked by onnx.checker; transposed
convolutions are exported in their equal, faster polyphase form (export.rewrite).

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

from diffair.dsp.errors import ExportError
from diffair.export.rewrite import polyphase

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
                 configs: dict, steps: int | None = None, opset: int = MIN_OPSET,
                 batch_inputs: tuple[str, ...] | None = None) -> Path:
    """Export ``graph`` (with ``inputs`` / ``outputs`` / ``batch_inputs`` name tuples) to
    ``path``; axis 0 of the batch inputs (``batch_inputs`` overrides the graph's) and of every
    output is the dynamic batch. Returns the sidecar path."""
    import onnx

    batch_inputs = graph.batch_inputs if batch_inputs is None else batch_inputs
    if opset < MIN_OPSET:
        raise ExportError(f"opset {opset} is below the supported minimum {MIN_OPSET}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dynamic = {name: {0: "batch"} for name in (*batch_inputs, *graph.outputs)}
    graph.eval()
    with torch.no_grad():
        torch.onnx.export(polyphase(graph), example, str(path), input_names=list(graph.inputs),
                          output_names=list(graph.outputs),
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


def as_numpy(inputs: tuple[torch.Tensor, ...], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {n: t.numpy() for n, t in zip(names, inputs)}
