"""Frozen, validated model configs, saved beside the weights as JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, TypeVar

from diffair.dsp.errors import ConfigError

T = TypeVar("T")


def config_from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a frozen config dataclass, refusing keys it does not know."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown key(s) {unknown}; expected a subset of {sorted(known)}")
    return cls(**data)


def save_config(config: Any, path: Path) -> None:
    """Write ``{"kind": <class name>, **fields}`` as indented JSON."""
    payload = {"kind": type(config).__name__, **dataclasses.asdict(config)}
    Path(path).write_text(json.dumps(payload, indent=2) + "\n")


def load_config(cls: type[T], path: Path) -> T:
    """Read a config written by :func:`save_config`, checking its kind."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read model config {path}: {err}") from err
    kind = data.pop("kind", None)
    if kind != cls.__name__:
        raise ConfigError(f"{path}: config kind is {kind!r}, expected {cls.__name__!r}")
    return config_from_dict(cls, data)


def require_range(owner: str, name: str, value: float, low: float, high: float) -> None:
    """Raise ConfigError unless ``low <= value <= high``."""
    if not low <= value <= high:
        raise ConfigError(f"{owner}.{name} = {value!r} is outside [{low}, {high}]")
