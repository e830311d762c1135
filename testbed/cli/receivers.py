"""``diffair receivers``: the registry as a table, or as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from diffair.testbed.cli.args import FOLDER


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("receivers", help="the registered receivers: channels with weights, backends, transmitter")
    p.add_argument("--weights", type=FOLDER, default=None, help="a folder of weights (default: the shipped ones)")
    p.add_argument("--json", action="store_true", help='print {"receivers": [...]} on stdout')
    p.set_defaults(handler=run)


def listing(weights: Path | None = None) -> list[dict]:
    """One entry per registered receiver: name, description, the channels it has weights for, the
    backends it runs on (and those that can run here), its transmitter, scenarios, default steps,
    the receiver it is a variant of (variants run only when named)."""
    from diffair.export.runners import available_backends
    from diffair.models import registry

    here = available_backends()
    entries = []
    for spec in registry.RECEIVER_SPECS:
        entries.append({"name": spec.name, "description": spec.description,
                        "channels": registry.weights_channels(spec.name, weights or registry.WEIGHTS_DIR),
                        "backends": list(spec.backends), "backends_here": [b for b in spec.backends if b in here],
                        "transmitter": spec.transmitter, "scenarios": list(spec.scenarios),
                        "default_steps": spec.default_steps, "variant_of": spec.variant_of})
    return entries


def run(args: argparse.Namespace) -> int:
    entries = listing(args.weights)
    if args.json:
        print(json.dumps({"receivers": entries}))
        return 0
    print(f"{'receiver':>10}  {'channels':<14} {'steps':>5}  {'transmitter':<11} {'scenario':<19} backends (here)")
    for e in entries:
        backends = ", ".join(b if b in e["backends_here"] else f"{b}*" for b in e["backends"])
        print(f"{e['name']:>10}  {','.join(e['channels']) or '-':<14} {e['default_steps'] or '-':>5}  "
              f"{e['transmitter']:<11} {','.join(e['scenarios']):<19} {backends}")
    print("* not runnable here (its package is not installed). Descriptions:")
    for e in entries:
        variant = f" [a variant of {e['variant_of']}: run only when named in --receivers]" if e["variant_of"] else ""
        print(f"  {e['name']}: {e['description']}{variant}")
    return 0
