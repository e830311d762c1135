"""``diffair rx``: receive and decode continuously from a radio or a recording."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from diffair.dsp.errors import ConfigError
from diffair.testbed.cli.args import (FINITE, POSITIVE, add_monitor_flags, add_radio_group, add_receiver_group,
                                      frame_format, output_file, radio_choice, weights_dir)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rx", help="receive and decode continuously from a radio or a recording")
    add_radio_group(p, ["zmq", "pluto", "sigmf"])
    p.add_argument("--input", type=Path, help="sigmf: the recording to replay")
    p.add_argument("--record", type=Path, help="write what was received to this SigMF recording")
    p.add_argument("--force", action="store_true", help="overwrite an existing --record recording")
    p.add_argument("--rx-gain-db", type=FINITE, default=30.0)
    p.add_argument("--duration-s", type=POSITIVE, help="stop after this long (default: when idle)")
    p.add_argument("--idle-timeout-s", type=POSITIVE, default=3.0,
                   help="stop when no sample came for this long (counted from the last one)")
    p.add_argument("--realtime", action="store_true",
                   help="sigmf: replay at the recording's sample rate (default: as fast as the receiver goes, "
                        "never dropping a sample)")
    p.add_argument("--no-reference", action="store_true", help="do not compare with the seeded test payload")
    p.add_argument("--report", type=output_file, help="write the JSON report here (a file)")
    add_receiver_group(p, genie=False, channel=True)
    p.add_argument("--reference", nargs="?", const="builtin", default=None,
                   help="image payloads: the sent image, for PSNR (no value: the built-in photograph)")
    p.add_argument("--image-size", default=None, help="image payloads without --reference: WxH")
    p.add_argument("--images-out", type=Path, default=None, help="write decoded images here")
    add_monitor_flags(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from diffair.testbed.monitor import monitoring
    from diffair.testbed.rxtx import run_rx, write_report

    images = image_decoding(args)
    if images is not None:
        images.warm_up()
    with monitoring(args.monitor, args.sample_rate_hz, args.monitor_hold_s) as monitor:
        if images is not None and monitor is not None:
            images.on_image = monitor.on_image
        report = run_rx(radio_choice(args), frame_format(args), None if args.no_reference else args.seed, args.frames,
                        args.duration_s, args.idle_timeout_s, args.record, progress=not args.json, images=images,
                        realtime=args.realtime, monitor=monitor, overwrite=args.force)
    report["provenance"] = _provenance(args, images)
    write_report(report, args.report)
    print(json.dumps(report) if args.json else report_text(report, args.sounding_symbols))
    if report["samples"] == 0:
        print(f"diffair rx: error: no sample arrived from --radio {args.radio} within --idle-timeout-s "
              f"{args.idle_timeout_s:g}: {NOTHING_RECEIVED[args.radio]}", file=sys.stderr)
        return 1
    for payload in report["payloads"]:
        error = payload.get("receivers", {}).get("error")
        if error:
            print(f"diffair rx: payload {payload['payload_id']} not decoded: {error}", file=sys.stderr)
    return 0


NOTHING_RECEIVED = {
    "zmq": "is the transmitter (or the GNU Radio flowgraph) running and pushing to --address?",
    "pluto": "is the Pluto transmitting on --lo-hz, and the gain (--rx-gain-db) high enough?",
    "sigmf": "the recording holds no samples",
}


def report_text(report: dict, sounding_symbols: int) -> str:
    """The printed summary of an rx report."""
    lines = [f"{report['frames_ok']} frames decoded, {report['header_failures']} header failures, "
             f"{len(report['payloads'])} payloads; {report['air_s']:.2f} s of air in {report['wall_s']:.2f} s "
             f"(real-time factor {report['realtime_factor']:.2f})",
             f"losses: {report['overflows']} overflows, {report['gaps']} gaps ({report['samples_lost']} samples), "
             f"{report['frames_dropped_in_gaps']} frames dropped across them"]
    if report["format_mismatches"]:
        lines.append(f"  {report['format_mismatches']} frames dropped: their header announces another number of "
                     f"sounding symbols than --sounding-symbols {sounding_symbols}; start rx with the transmitter's")
    for p in report["payloads"]:
        evm = f", EVM {p['evm_db']:.2f} dB" if p.get("evm_db") is not None else ""
        psnr = "".join(f", {name} {r['psnr_db']:.2f} dB" + (f" (LPIPS {r['lpips']:.3f})" if "lpips" in r else "")
                       for name, r in p.get("receivers", {}).items() if "psnr_db" in r)
        sir = f", SIR {p['sir_db']:.1f} dB" if "sir_db" in p else ""
        lines.append(f"  payload {p['payload_id']}: {p['frames_received']}/{p['frames_expected']} frames, "
                     f"SNR {p['snr_db']:.1f} dB{sir}, CFO {p['cfo_hz']:.0f} Hz{evm}{psnr}")
        for name, r in p.get("receivers", {}).items():
            for message in r.get("warnings", []) if isinstance(r, dict) else []:
                lines.append(f"    warning, {name}: {message}")
    return "\n".join(lines)


def _image_size(args: argparse.Namespace, reference) -> tuple[int, int] | None:
    """(height, width) of the image payloads: the reference's, or --image-size WxH, or None."""
    if reference is not None:
        return reference.shape[:2]
    if not args.image_size:
        return None
    try:
        width, height = (int(v) for v in args.image_size.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--image-size {args.image_size!r}: expected WxH, e.g. 128x128") from None
    if width < 8 or height < 8:
        raise ConfigError(f"--image-size {args.image_size}: sides must be at least 8")
    return height, width


def _scenario(args: argparse.Namespace) -> str:
    """The link scenario rx decodes for: "interference" (ICDM's) when frames carry sounding
    symbols, else "plain"."""
    return "interference" if args.sounding_symbols else "plain"


def _provenance(args: argparse.Namespace, images) -> dict:
    """The report's provenance: the seed of the expected payloads (None with --no-reference),
    the weights of the receivers that decoded images, and the reference image read."""
    from diffair.models.provenance import provenance, weights_used

    weights = {} if images is None else weights_used(images.receivers, args.channel, _scenario(args), weights_dir(args))
    reference = None if args.reference in (None, "builtin") else Path(args.reference)
    return provenance(None if args.no_reference else args.seed, weights, reference)


def image_decoding(args: argparse.Namespace):
    """The image decoding rx does for image payloads, or None when no size is known."""
    from diffair.export.receiver_runner import ReceiverRunner
    from diffair.models import registry
    from diffair.testbed.images import image_or_builtin, padded_size
    from diffair.testbed.loopback import by_transmitter, default_receivers
    from diffair.testbed.rxtx import ImageDecoding

    reference = image_or_builtin(args.reference)
    if args.lpips and reference is None:
        raise ConfigError(f"--lpips {args.lpips} scores the decoded images against --reference: give one")
    size = _image_size(args, reference)
    if size is None:
        return None
    scenario = _scenario(args)
    weights = weights_dir(args)
    names = args.receivers or default_receivers(args.channel, scenario, weights)
    shapes, kinds = {}, {}
    for transmitter, members in by_transmitter(names).items():
        sender = registry.build_transmitter(transmitter, args.channel, weights, scenario)
        kind = registry.transmitter_spec(transmitter).payload_kind
        shapes[kind] = sender.latent_shape(*padded_size(size, "--reference / --image-size", sender.multiple))
        kinds |= {name: kind for name in members}
    graphs = (args.images_out or Path("reports/rx")) / "graphs"
    receivers = {n: ReceiverRunner(registry.build(n, args.channel, args.steps, weights, scenario, switch=args.switch),
                                   args.backend, graphs) for n in names}
    return ImageDecoding(receivers, kinds, shapes, size, reference, args.images_out, lpips=args.lpips)
