"""The shipped weights (``models/weights``) and the receivers built from them.

Files per channel type ("awgn", "rayleigh"), each safetensors + JSON config:
``jscc_<channel>_c16`` (the codec), ``cddm_denoiser_<channel>`` (CDDM stage 2) and
``cddm_codec_<channel>`` (the codec whose decoder was re-trained with CDDM, stage 3).
"""

from __future__ import annotations

from pathlib import Path

from dsp.errors import ConfigError, ModelError
from models.checkpoint import load_model
from models.denoiser import DenoiserConfig, LatentUNet
from models.jscc import DeepJSCC, JSCCConfig
from models.receivers import CDDMReceiver, JSCCReceiver

WEIGHTS_DIR = Path(__file__).parent / "weights"
RECEIVERS = ("jscc", "cddm")
CHANNELS = ("awgn", "rayleigh")


def _files(name: str, channel: str) -> list[str]:
    return {"jscc": [f"jscc_{channel}_c16"], "cddm": [f"cddm_denoiser_{channel}", f"cddm_codec_{channel}"]}[name]


def available_receivers(channel: str, weights_dir: Path = WEIGHTS_DIR) -> list[str]:
    """Receivers whose weights for ``channel`` are present."""
    return [name for name in RECEIVERS
            if all((Path(weights_dir) / f"{f}.safetensors").exists() for f in _files(name, channel))]


def _check(name: str, channel: str, weights_dir: Path) -> None:
    if name not in RECEIVERS:
        raise ConfigError(f"unknown receiver {name!r}; expected one of {', '.join(RECEIVERS)}")
    if channel not in CHANNELS:
        raise ConfigError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    missing = [f for f in _files(name, channel) if not (Path(weights_dir) / f"{f}.safetensors").exists()]
    if missing:
        raise ModelError(f"receiver {name!r} for {channel} needs {', '.join(missing)} in {weights_dir}: "
                         f"train it (`diffair train {'jscc' if name == 'jscc' else 'cddm'} --channel {channel} ...`, "
                         "see the README) or pass --weights DIR")


def load_codec(channel: str, weights_dir: Path = WEIGHTS_DIR) -> DeepJSCC:
    """The deep-JSCC codec trained for ``channel`` (its encoder is every receiver's transmitter)."""
    _check("jscc", channel, weights_dir)
    return load_model(DeepJSCC, JSCCConfig, weights_dir, f"jscc_{channel}_c16")


def build_receiver(name: str, channel: str, steps: int | None = 10, weights_dir: Path = WEIGHTS_DIR):
    """A ready receiver (eval mode). ``steps``: CDDM sampler steps, None = the full sampler."""
    _check(name, channel, weights_dir)
    if name == "jscc":
        return JSCCReceiver(load_codec(channel, weights_dir).decoder).eval()
    denoiser = load_model(LatentUNet, DenoiserConfig, weights_dir, f"cddm_denoiser_{channel}")
    codec = load_model(DeepJSCC, JSCCConfig, weights_dir, f"cddm_codec_{channel}")
    return CDDMReceiver(denoiser, codec.decoder, steps=steps).eval()
