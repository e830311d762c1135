"""The shipped weights (``models/weights``) and the receivers built from them.

Files per channel type ("awgn", "rayleigh"), each safetensors + JSON config:
``jscc_<channel>_c16`` (the codec), ``cddm_denoiser_<channel>`` (CDDM stage 2) and
``cddm_codec_<channel>`` (the codec whose decoder was re-trained with CDDM, stage 3).

ICDM's interference scenario (models.interference) has its own cast, one for both channel
types: the wanted user sends CIFAR-10 animals with ``jscc_rayleigh_c16``, the interferer
sends vehicles with its own codec ``jscc_vehicles_c16``; ``icdm_prior_animals`` and
``icdm_prior_vehicles`` are the diffusion priors of those two latent populations.

Guo et al.'s diffusion JSCC: ``djscc_autoencoder`` and ``djscc_prior`` (channel-independent)
and ``djscc_link_<channel>`` (downsampler + upsampling VAE head); two receivers use them,
``djscc`` (the paper's reparameterized sample) and ``djscc-mean`` (the upsampler's mean).
"""

from __future__ import annotations

from pathlib import Path

from dsp.errors import ConfigError, ModelError
from models.checkpoint import load_model
from models.autoencoder import AutoencoderConfig, SemanticAutoencoder
from models.denoiser import DenoiserConfig, LatentPrior, LatentUNet
from models.djscc import AUTOENCODER, PRIOR, DiffusionJSCCReceiver, DiffusionLink, LinkConfig
from models.icdm import ICDMReceiver
from models.interference import InterferenceLMMSEReceiver
from models.jscc import DeepJSCC, JSCCConfig
from models.receivers import CDDMReceiver, JSCCReceiver

WEIGHTS_DIR = Path(__file__).parent / "weights"
RECEIVERS = ("jscc", "cddm", "icdm", "djscc", "djscc-mean")
CHANNELS = ("awgn", "rayleigh")
SIGNAL_CLASSES = (2, 3, 4, 5, 6, 7)  # CIFAR-10 animals: the wanted user of the ICDM scenario
INTERFERER_CLASSES = (0, 1, 8, 9)  # CIFAR-10 vehicles: the interferer
ICDM_SIGNAL_CODEC = "jscc_rayleigh_c16"
ICDM_INTERFERER_CODEC = "jscc_vehicles_c16"
INTERFERENCE_RECEIVERS = ("jscc", "lmmse", "icdm")
"""The receivers of ICDM's scenario: the wanted codec's decoder on the MMSE-equalized symbols
(interference as noise), the LMMSE estimate that knows the interference power, and ICDM."""


def _files(name: str, channel: str) -> list[str]:
    return {"jscc": [f"jscc_{channel}_c16"], "cddm": [f"cddm_denoiser_{channel}", f"cddm_codec_{channel}"],
            "icdm": [ICDM_SIGNAL_CODEC, ICDM_INTERFERER_CODEC, "icdm_prior_animals", "icdm_prior_vehicles"],
            "djscc": [AUTOENCODER, PRIOR, f"djscc_link_{channel}"],
            "djscc-mean": [AUTOENCODER, PRIOR, f"djscc_link_{channel}"]}[name]


def available_receivers(channel: str, weights_dir: Path = WEIGHTS_DIR, interference: bool = False) -> list[str]:
    """Receivers whose weights for ``channel`` are present; ICDM only for a link with an
    interferer (it has nothing to cancel otherwise)."""
    names = [n for n in RECEIVERS if interference or n != "icdm"]
    return [name for name in names
            if all((Path(weights_dir) / f"{f}.safetensors").exists() for f in _files(name, channel))]


def _check(name: str, channel: str, weights_dir: Path) -> None:
    if name not in RECEIVERS:
        raise ConfigError(f"unknown receiver {name!r}; expected one of {', '.join(RECEIVERS)}")
    if channel not in CHANNELS:
        raise ConfigError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    missing = [f for f in _files(name, channel) if not (Path(weights_dir) / f"{f}.safetensors").exists()]
    if missing:
        raise ModelError(f"receiver {name!r} for {channel} needs {', '.join(missing)} in {weights_dir}: "
                         f"train it (`diffair train {name} ...`, see the README) or pass --weights DIR")


def load_codec(channel: str, weights_dir: Path = WEIGHTS_DIR) -> DeepJSCC:
    """The deep-JSCC codec trained for ``channel`` (its encoder is every receiver's transmitter)."""
    _check("jscc", channel, weights_dir)
    return load_model(DeepJSCC, JSCCConfig, weights_dir, f"jscc_{channel}_c16")


def load_icdm_codecs(weights_dir: Path = WEIGHTS_DIR) -> tuple[DeepJSCC, DeepJSCC]:
    """The ICDM scenario's (wanted user's, interferer's) codecs."""
    _check("icdm", "rayleigh", weights_dir)
    return tuple(load_model(DeepJSCC, JSCCConfig, weights_dir, n) for n in (ICDM_SIGNAL_CODEC, ICDM_INTERFERER_CODEC))


def build_receiver(name: str, channel: str, steps: int | None = 10, weights_dir: Path = WEIGHTS_DIR):
    """A ready receiver (eval mode). ``steps``: sampler steps (CDDM: None = the full sampler;
    ICDM: evaluations per prior, None = the paper's 40)."""
    _check(name, channel, weights_dir)
    if name == "jscc":
        return JSCCReceiver(load_codec(channel, weights_dir).decoder).eval()
    if name in ("djscc", "djscc-mean"):
        return DiffusionJSCCReceiver(load_model(DiffusionLink, LinkConfig, weights_dir, f"djscc_link_{channel}"),
                                     load_model(LatentPrior, DenoiserConfig, weights_dir, PRIOR),
                                     load_model(SemanticAutoencoder, AutoencoderConfig, weights_dir, AUTOENCODER),
                                     steps=steps, sample=name == "djscc").eval()
    if name == "icdm":
        priors = [load_model(LatentPrior, DenoiserConfig, weights_dir, f"icdm_prior_{n}") for n in ("animals", "vehicles")]
        decoder = load_model(DeepJSCC, JSCCConfig, weights_dir, ICDM_SIGNAL_CODEC).decoder
        return ICDMReceiver(*priors, decoder, steps=steps or 40, channel=channel).eval()
    denoiser = load_model(LatentUNet, DenoiserConfig, weights_dir, f"cddm_denoiser_{channel}")
    codec = load_model(DeepJSCC, JSCCConfig, weights_dir, f"cddm_codec_{channel}")
    return CDDMReceiver(denoiser, codec.decoder, steps=steps).eval()


def build_interference_receiver(name: str, channel: str, steps: int | None = None, weights_dir: Path = WEIGHTS_DIR):
    """A receiver of ICDM's scenario (INTERFERENCE_RECEIVERS), on the wanted user's codec."""
    if name not in INTERFERENCE_RECEIVERS:
        raise ConfigError(f"receiver {name!r} does not take part in the interference scenario; expected one of "
                          f"{', '.join(INTERFERENCE_RECEIVERS)}")
    if name == "icdm":
        return build_receiver(name, channel, steps, weights_dir)
    decoder = load_icdm_codecs(weights_dir)[0].decoder
    return (JSCCReceiver if name == "jscc" else InterferenceLMMSEReceiver)(decoder).eval()
