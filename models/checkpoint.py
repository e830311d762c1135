"""Weights and training state as safetensors + JSON; nothing is ever unpickled.

A trained model is two files: ``<name>.safetensors`` (the state dict) and ``<name>.json``
(its config). A training checkpoint adds the optimizer's tensors (keys ``optim/...``) and every rank's
random-generator states (keys ``rng/<kind>/<rank>``, uint8) to the same safetensors file and
its progress (epoch, step, param groups) to ``<name>.train.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from diffair.dsp.errors import ModelError
from diffair.models.config import load_config, save_config

OPTIM_PREFIX = "optim/"
RNG_PREFIX = "rng/"


def save_weights(module: torch.nn.Module, config: Any, directory: Path, name: str) -> Path:
    """Write ``name.safetensors`` and ``name.json``; returns the safetensors path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.safetensors"
    save_file({k: v.detach().contiguous() for k, v in module.state_dict().items()}, str(path))
    save_config(config, directory / f"{name}.json")
    return path


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of a safetensors file, with a clear error when it is missing or corrupt."""
    try:
        return load_file(str(path))
    except (OSError, SafetensorError) as err:
        raise ModelError(f"cannot read weights {path}: {err}") from err


def load_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Load tensors into ``module``, naming every missing, unexpected or mis-shaped key."""
    own = module.state_dict()
    weights = {k: v for k, v in tensors.items() if not k.startswith((OPTIM_PREFIX, RNG_PREFIX))}
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    wrong = [f"{k}: {tuple(weights[k].shape)} != {tuple(own[k].shape)}"
             for k in own.keys() & weights.keys() if weights[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        raise ModelError(f"weights {path} do not match the config: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}, wrong shapes {wrong[:5]}")
    corrupt = sorted(k for k, v in weights.items() if v.is_floating_point() and not torch.isfinite(v).all())
    if corrupt:
        raise ModelError(f"weights {path} hold NaN or infinite values in {corrupt[:5]}"
                         f"{f' and {len(corrupt) - 5} more' if len(corrupt) > 5 else ''}: a diverged or corrupt "
                         "training run; retrain or restore the file")
    module.load_state_dict(weights)


def load_model(cls: type, config_cls: type, directory: Path, name: str) -> torch.nn.Module:
    """Build ``cls(config)`` from ``name.json`` and load ``name.safetensors`` into it (eval mode)."""
    directory = Path(directory)
    config = load_config(config_cls, directory / f"{name}.json")
    module = cls(config)
    path = directory / f"{name}.safetensors"
    load_state(module, read_tensors(path), path)
    return module.eval()


def save_training_state(module: torch.nn.Module, config: Any, optimizer: torch.optim.Optimizer,
                        progress: dict[str, Any], directory: Path, name: str,
                        rng_states: dict[str, torch.Tensor] | None = None) -> None:
    """Write a resumable checkpoint: weights + optimizer tensors (+ ``rng_states``, keyed
    ``<kind>/<rank>``), config, progress. The safetensors file is replaced atomically."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    tensors |= {f"{RNG_PREFIX}{key}": state.cpu().contiguous() for key, state in (rng_states or {}).items()}
    state = optimizer.state_dict()
    for index, slots in state["state"].items():
        for slot, value in slots.items():
            tensors[f"{OPTIM_PREFIX}{index}/{slot}"] = torch.as_tensor(value).cpu().contiguous()
    tmp = directory / f"{name}.safetensors.tmp"
    save_file(tensors, str(tmp))
    tmp.replace(directory / f"{name}.safetensors")
    save_config(config, directory / f"{name}.json")
    tmp = directory / f"{name}.train.json.tmp"
    tmp.write_text(json.dumps({**progress, "param_groups": state["param_groups"]}, indent=2) + "\n")
    tmp.replace(directory / f"{name}.train.json")


def load_training_state(module: torch.nn.Module, optimizer: torch.optim.Optimizer, directory: Path,
                        name: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Restore what :func:`save_training_state` wrote into ``module`` and ``optimizer``;
    returns (the progress dict, the random-generator states keyed ``<kind>/<rank>``)."""
    directory = Path(directory)
    path = directory / f"{name}.safetensors"
    tensors = read_tensors(path)
    load_state(module, tensors, path)
    progress = json.loads((directory / f"{name}.train.json").read_text())
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith(OPTIM_PREFIX):
            index, slot = key[len(OPTIM_PREFIX):].split("/")
            slots.setdefault(int(index), {})[slot] = value
    optimizer.load_state_dict({"state": slots, "param_groups": progress.pop("param_groups")})
    rng_states = {key[len(RNG_PREFIX):]: value for key, value in tensors.items() if key.startswith(RNG_PREFIX)}
    return progress, rng_states
