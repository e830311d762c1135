"""``diffair tx``: transmit the link test payload or an image over a radio."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from diffair.testbed.cli.args import (CHANNEL_TYPES, FINITE, FRAMES, NON_NEGATIVE, NON_NEGATIVE_INT, SNR_DB,
                                      add_radio_group, frame_format, radio_choice)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tx", help="transmit payloads over a radio")
    add_radio_group(p, ["zmq", "pluto", "loopback"])
    p.add_argument("--repeat", type=FRAMES, default=1, help="how many times the payload is sent")
    p.add_argument("--cyclic", action="store_true", help="Pluto: one cyclic buffer, repeated by the radio")
    p.add_argument("--hold-s", type=NON_NEGATIVE, default=None,
                   help="--cyclic: seconds to keep the buffer on the air (default: until Ctrl-C; the radio stops "
                        "a cyclic transmission when tx closes it)")
    p.add_argument("--gap-samples", type=NON_NEGATIVE_INT, default=1000, help="idle samples before each frame")
    p.add_argument("--record", type=Path, help="loopback: write the air to this SigMF recording")
    p.add_argument("--force", action="store_true", help="overwrite an existing --record recording")
    p.add_argument("--snr-db", type=SNR_DB, default=20.0, help="loopback: channel SNR")
    p.add_argument("--cfo-hz", type=FINITE, default=0.0, help="loopback: channel CFO")
    p.add_argument("--image", nargs="?", const="builtin", default=None,
                   help="send an image (no value: the built-in photograph)")
    p.add_argument("--channel", choices=CHANNEL_TYPES, default="awgn", help="image: which codec")
    p.add_argument("--transmitter", default="jscc",
                   help="image: a registered transmitter, jscc (deep JSCC) or djscc (Guo et al.'s); `diffair "
                        "receivers` says which receivers decode which")
    p.add_argument("--interferer-image", nargs="?", const="builtin", default=None,
                   help="ICDM's scenario (with --sounding-symbols): add a synchronous interferer sending this "
                        "image (no value: a built-in one) from the same radio")
    p.add_argument("--sir-db", type=FINITE, default=0.0, help="the interferer's power below the image's (dB)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.testbed.images import image_or_builtin
    from diffair.testbed.rxtx import run_tx

    summary = run_tx(radio_choice(args), frame_format(args), args.seed, args.frames, args.repeat, args.gap_samples,
                     args.record, args.snr_db, args.cfo_hz, image=image_or_builtin(args.image), channel=args.channel,
                     transmitter=args.transmitter, interferer=image_or_builtin(args.interferer_image, interferer=True),
                     sir_db=args.sir_db, overwrite=args.force, hold_s=args.hold_s)
    print(json.dumps(summary) if args.json else f"sent {summary['frames_sent']} frames")
    return 0
