"""The registry: every receiver and transmitter diffair knows, by name, and the shipped weights.

A receiver is one module (its class, graph and ``ReceiverSpec``, models.contract) plus one line
in ``RECEIVER_SPECS`` below; everything else — the CLI's choices and defaults, loopback, sweep,
rx, export, profile and ``diffair receivers`` — asks this registry (docs/architecture.md).

Weights (``models/weights``, safetensors + JSON config each) per channel type ("awgn",
"rayleigh"): ``jscc_<channel>_c16`` (the codec), ``cddm_denoiser_<channel>`` and
``cddm_codec_<channel>`` (CDDM's stages 2 and 3), ``jscc_mmse_<channel>`` (the baseline
decoder fine-tuned on MMSE-equalized symbols, models.baselines), ``jscc_interf_<channel>`` (its
twin for ICDM's scenario), ``djscc_link_<channel>`` with the
channel-independent ``djscc_autoencoder`` and ``djscc_prior`` (Guo et al.). ICDM's scenario has
its own cast (models.interference): the wanted user's codec ``jscc_rayleigh_c16``, the
interferer's ``jscc_vehicles_c16``, the priors ``icdm_prior_animals`` / ``icdm_prior_vehicles``
and ICDM's decoder trained in the loop, ``icdm_decoder_<channel>`` (models.icdm.ICDMDecoder).
The real-time receivers (``cddm-rt``, ``icdm-rt``, ``djscc-rt``) use the same weights but for
their diffusion networks, named ``<name>_rt`` (models.denoiser.REALTIME); icdm-rt decodes with
the wanted codec's decoder.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from diffair.dsp.errors import ConfigError, ModelError
from diffair.models import baselines, djscc, icdm, interference, receivers, switching, transmitters
from diffair.models.contract import (Link, LoadRequest, Receiver, ReceiverSpec, Transmitter,
                                     TransmitterSpec, WeightsLoader)
from diffair.models.tiling import TILE_PX

WEIGHTS_DIR = Path(__file__).parent / "weights"
CHANNELS = ("awgn", "rayleigh")

RECEIVER_SPECS: list[ReceiverSpec] = [
    receivers.JSCC_SPEC,
    baselines.SPEC,
    receivers.CDDM_SPEC,
    interference.LMMSE_SPEC,
    baselines.INTERFERENCE_SPEC,
    icdm.SPEC,
    djscc.SPEC,
    djscc.MEAN_SPEC,
    receivers.CDDM_RT_SPEC,
    icdm.RT_SPEC,
    djscc.RT_SPEC,
]
TRANSMITTER_SPECS: list[TransmitterSpec] = [transmitters.JSCC_TRANSMITTER, djscc.TRANSMITTER]

FULL = "full"
"""The ``steps`` value that asks for a receiver's full sampler (CDDM: all m steps; ICDM: 40)."""


def receiver_names(scenario: str | None = None) -> list[str]:
    """Registered receivers, in registry order (only those serving ``scenario``, if given)."""
    return [s.name for s in RECEIVER_SPECS if scenario is None or scenario in s.scenarios]


def spec(name: str) -> ReceiverSpec:
    """The spec of receiver ``name``; unknown names are refused with the list of known ones."""
    for candidate in RECEIVER_SPECS:
        if candidate.name == name:
            return candidate
    raise ConfigError(f"unknown receiver {name!r}; expected one of {', '.join(receiver_names())}")


def transmitter_spec(name: str) -> TransmitterSpec:
    for candidate in TRANSMITTER_SPECS:
        if candidate.name == name:
            return candidate
    raise ConfigError(f"unknown transmitter {name!r}; expected one of "
                      f"{', '.join(t.name for t in TRANSMITTER_SPECS)}")


def _link(channel: str, scenario: str) -> Link:
    if channel not in CHANNELS:
        raise ConfigError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    return Link(channel, scenario)


def _missing(files: tuple[str, ...], weights_dir: Path) -> list[str]:
    return [f for f in files if not (Path(weights_dir) / f"{f}.safetensors").exists()]


def weights_channels(name: str, weights_dir: Path = WEIGHTS_DIR) -> list[str]:
    """The channel types for which receiver ``name`` (and its transmitter) has weights in
    ``weights_dir``, in any scenario it serves."""
    receiver, sender = spec(name), transmitter_spec(spec(name).transmitter)
    return [c for c in CHANNELS if any(not _missing(receiver.weights(Link(c, s)) + sender.weights(Link(c, s)),
                                                    weights_dir) for s in receiver.scenarios)]


def available(channel: str, scenario: str = "plain", weights_dir: Path = WEIGHTS_DIR,
              variants: bool = False) -> list[str]:
    """Receivers serving ``scenario`` whose weights for ``channel`` are present (``variants``:
    the ``variant_of`` receivers too; the default lists leave them out)."""
    link = _link(channel, scenario)
    return [s.name for s in RECEIVER_SPECS
            if scenario in s.scenarios and not _missing(s.weights(link), weights_dir)
            and (variants or s.variant_of is None)]


def _loader(what: str, link: Link, files: tuple[str, ...], weights_dir: Path, untrained: bool) -> WeightsLoader:
    """The weights loader for ``files``, refusing missing ones (unless ``untrained``) with the fix."""
    missing = _missing(files, weights_dir)
    if missing and not untrained:
        raise ModelError(f"{what} for {link.channel} needs {', '.join(missing)} in {weights_dir}: train it "
                         f"(`diffair train ...`, see the README) or pass --weights DIR")
    return WeightsLoader(Path(weights_dir), untrained)


def resolve_steps(name: str, steps: int | str | None) -> int | None:
    """The K a receiver runs with: ``steps`` as asked, None for its spec's default, FULL for its
    full sampler (None to the receiver)."""
    if steps is None:
        return spec(name).default_steps
    return None if steps == FULL else steps


def check_backend(name: str, backend: str) -> None:
    """Refuse a backend the receiver's spec does not list."""
    if backend not in spec(name).backends:
        raise ConfigError(f"receiver {name!r} runs on {', '.join(spec(name).backends)}, not on {backend!r}")


def build(name: str, channel: str, steps: int | str | None = None, weights_dir: Path = WEIGHTS_DIR,
          scenario: str = "plain", untrained: bool = False, switch: bool = True) -> Receiver:
    """A ready receiver (eval mode) for ``channel`` in ``scenario``. ``steps``: the sampler's K,
    None for the spec's default, FULL for the full sampler. ``untrained``: networks whose weights
    are missing are built untrained (``receiver.untrained`` says whether any was). ``switch``:
    attach the receiver's switch table, if it ships one, and the baselines it names
    (models.switching)."""
    receiver_spec = spec(name)
    if scenario not in receiver_spec.scenarios:
        if scenario == "plain":
            raise ConfigError(f"receiver {name!r} needs the interference scenario (a synchronous interferer): add "
                              "--sir-db (loopback) or --sinr-db (sweep)")
        raise ConfigError(f"receiver {name!r} does not take part in the {scenario} scenario; its receivers are "
                          f"{', '.join(receiver_names(scenario))}")
    link = _link(channel, scenario)
    loader = _loader(f"receiver {name!r}", link, receiver_spec.weights(link), weights_dir, untrained)
    receiver = receiver_spec.load(LoadRequest(link, resolve_steps(name, steps), loader))
    receiver.untrained = loader.used_untrained
    receiver.latent_tile = TILE_PX // transmitter_spec(receiver_spec.transmitter).downsampling
    table = switching.load_table(weights_dir, name, channel) if switch else None
    if table is not None and table.steps == receiver.steps:
        receiver.switch = table
        receiver.fallbacks = {b: build(b, channel, None, weights_dir, scenario, untrained, switch=False)
                              for b in table.baselines}
    return receiver


def build_transmitter(name: str, channel: str, weights_dir: Path = WEIGHTS_DIR, scenario: str = "plain",
                      untrained: bool = False) -> Transmitter:
    """The transmitter ``name`` (a TransmitterSpec's) for ``channel`` in ``scenario``."""
    sender = transmitter_spec(name)
    link = _link(channel, scenario)
    loader = _loader(f"transmitter {name!r}", link, sender.weights(link), weights_dir, untrained)
    transmitter = sender.load(LoadRequest(link, None, loader))
    transmitter.untrained = loader.used_untrained
    return transmitter


def transmitter_for(name: str, channel: str, weights_dir: Path = WEIGHTS_DIR, scenario: str = "plain",
                    untrained: bool = False) -> Transmitter:
    """The transmitter whose symbols receiver ``name`` decodes."""
    return build_transmitter(spec(name).transmitter, channel, weights_dir, scenario, untrained)


def payload_kind(name: str) -> int:
    """The header's PayloadKind of the payloads receiver ``name`` decodes."""
    return transmitter_spec(spec(name).transmitter).payload_kind


def load_interferer_transmitter(weights_dir: Path = WEIGHTS_DIR) -> transmitters.JSCCTransmitter:
    """The interferer of ICDM's scenario (models.interference): its codec as a transmitter, so that
    a photograph is coded in 32 x 32 tiles as the wanted user's is."""
    return transmitters.JSCCTransmitter(interference.load_interferer_codec(WeightsLoader(Path(weights_dir))))


@contextmanager
def registered(receiver_spec: ReceiverSpec):
    """Register ``receiver_spec`` for the duration of a ``with`` block (plugins, tests)."""
    register(receiver_spec)
    try:
        yield receiver_spec
    finally:
        RECEIVER_SPECS.remove(receiver_spec)


def register(receiver_spec: ReceiverSpec) -> None:
    """Register a receiver for the rest of the process (a plugin's module calls this once)."""
    if receiver_spec.name in receiver_names():
        raise ConfigError(f"a receiver named {receiver_spec.name!r} is registered already")
    RECEIVER_SPECS.append(receiver_spec)
