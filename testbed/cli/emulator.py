"""``diffair pluto-emulator``: an emulated PlutoSDR on the libiio network protocol."""

from __future__ import annotations

import argparse
import time

from diffair.testbed.cli.args import CHANNEL_TYPES, FINITE, PORT, SEED, SNR_DB


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pluto-emulator", help="serve an emulated PlutoSDR (libiio network protocol)")
    p.add_argument("--port", type=PORT, default=30431)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    p.add_argument("--snr-db", type=SNR_DB, default=30.0)
    p.add_argument("--cfo-hz", type=FINITE, default=0.0)
    p.add_argument("--sro-ppm", type=FINITE, default=0.0)
    p.add_argument("--channel", choices=CHANNEL_TYPES, default="awgn")
    p.add_argument("--seed", type=SEED, default=0)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.radio.channel import ChannelConfig
    from diffair.radio.pluto_emulator import PlutoEmulator

    channel = ChannelConfig(snr_db=args.snr_db, signal_power=(10 ** (-12 / 20) * 0.5) ** 2,
                            bandwidth_fraction=52 / 64, cfo_hz=args.cfo_hz, sro_ppm=args.sro_ppm,
                            fading="rayleigh" if args.channel == "rayleigh" else "none")
    with PlutoEmulator(port=args.port, channel=channel, seed=args.seed, host=args.host) as emulator:
        print(f"emulated PlutoSDR at {emulator.uri} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
