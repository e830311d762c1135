"""The real-time receivers (issue 15): variants of cddm / icdm / djscc whose diffusion networks
fold 2 x 2 latent patches into channels and run narrower. Speed lives in the benchmark
(docs/benchmarks/realtime.md); here: they are variants, run only when named, and their K = 10
graphs cost a fraction of the full ones' arithmetic (counted, not timed)."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from diffair.models import registry

PAIRS = [("cddm", "cddm-rt", "rayleigh", "plain"), ("cddm", "cddm-rt", "awgn", "plain"),
         ("djscc", "djscc-rt", "awgn", "plain"), ("icdm", "icdm-rt", "rayleigh", "interference")]


def _has_weights(name, channel, scenario):
    return name in registry.available(channel, scenario, variants=True)


def test_variants_are_run_when_named_not_by_default():
    for full, fast, channel, scenario in PAIRS:
        assert registry.spec(fast).variant_of == full
        assert fast not in registry.available(channel, scenario)
        if _has_weights(fast, channel, scenario):
            assert full in registry.available(channel, scenario)


def _flops(name, channel, scenario):
    receiver = registry.build(name, channel, steps=10, scenario=scenario)
    sender = registry.transmitter_for(name, channel, scenario=scenario)
    whole = receiver.export_graphs(lambda side: sender.latent_shape(side, side))[-1]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        whole.graph(*whole.example(128, 1))
    return counter.get_total_flops()


@pytest.mark.parametrize("full,fast,channel,scenario", PAIRS)
def test_a_realtime_receiver_costs_a_fraction_of_the_full_one(full, fast, channel, scenario):
    """Floating-point operations of the whole K = 10 graph on one 128 x 128 photograph's latent:
    the -rt receiver at most a fifth of the full one (the measured CPU time follows:
    docs/benchmarks/realtime.md)."""
    if not (_has_weights(full, channel, scenario) and _has_weights(fast, channel, scenario)):
        pytest.skip(f"{full} / {fast} weights for {channel} are not shipped")
    assert _flops(fast, channel, scenario) <= _flops(full, channel, scenario) / 5
