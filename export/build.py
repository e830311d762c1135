"""Which graphs ``diffair export`` writes for a receiver: its transmitter's (the deep-JSCC
encoder) and its own (models.contract.Receiver.export_graphs), built from the shipped weights
or, on request, from untrained networks of the shipped shapes (latency work before training)."""

from __future__ import annotations

from pathlib import Path

from diffair.models import registry
from diffair.models.contract import ExportGraph


def receiver_graphs(name: str, channel: str | None = None, steps: int | str | None = None,
                    weights: Path = registry.WEIGHTS_DIR, untrained: bool = False) -> tuple[list[ExportGraph], bool]:
    """The graphs of receiver ``name`` for ``channel`` (None: the first it has weights for) with
    sampler steps ``steps`` (None: its default); returns them, the whole receiver last, and
    whether any network was untrained."""
    spec = registry.spec(name)
    channel = channel or default_channel(name, weights)
    scenario = spec.scenarios[0]
    receiver = registry.build(name, channel, steps, weights, scenario, untrained, switch=False)  # its own graphs
    sender = registry.transmitter_for(name, channel, weights, scenario, untrained)
    graphs = sender.export_graphs() + receiver.export_graphs(lambda side: sender.latent_shape(side, side))
    return graphs, receiver.untrained or sender.untrained


def default_channel(name: str, weights: Path = registry.WEIGHTS_DIR) -> str:
    """The first channel type receiver ``name`` has weights for (else the first there is)."""
    return next(iter(registry.weights_channels(name, weights)), registry.CHANNELS[0])
