"""What every command shares: value parsers (each error names the value and what was expected)
and the argument groups — channel, PHY format, radio, receivers, output — defined once.

Receiver names, their default steps and the backend names come from the registry
(``diffair.models.registry``) and the runner factory (``diffair.export.runners``).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``diffair CMD: error: MESSAGE (see --help)``, exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def number(kind: type = float, low: float | None = None, high: float | None = None, above: bool = False,
           what: str | None = None):
    """A parser of one number of ``kind``: finite, at least ``low`` (above it with ``above``) and
    at most ``high``; the error names the value and what was expected."""
    if what is None:
        word = "a whole number" if kind is int else "a finite number"
        bounds = ([f"> {low:g}" if above else f">= {low:g}"] if low is not None else []) + \
                 ([f"<= {high:g}"] if high is not None else [])
        what = f"{word} {' and '.join(bounds)}".strip()

    def parse(value: str):
        try:
            parsed = kind(value)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{value!r}: expected {what}") from None
        if (not math.isfinite(parsed) or (low is not None and (parsed <= low if above else parsed < low))
                or (high is not None and parsed > high)):
            raise argparse.ArgumentTypeError(f"{value!r}: expected {what}")
        return parsed

    return parse


FINITE = number(float)
POSITIVE = number(float, 0, above=True)
NON_NEGATIVE = number(float, 0)
COUNT = number(int, 1, 10 ** 7)
FRAMES = number(int, 1, 65535, what="a frame count from 1 to 65535 (the header's 16 bits)")
NON_NEGATIVE_INT = number(int, 0, 10 ** 9)
SEED = number(int, 0, 2 ** 32 - 1)
SNR_DB = number(float, -30, 80, what="an SNR in dB from -30 to 80")
PORT = number(int, 1, 65535, what="a port from 1 to 65535")

def existing(kind: str = "path"):
    """A parser of a path that must exist: ``kind`` "path" (file or folder), "file" or "folder"."""
    def parse(value: str) -> Path:
        path = Path(value)
        try:
            ok = {"path": path.exists, "file": path.is_file, "folder": path.is_dir}[kind]()
        except (OSError, ValueError):  # a name too long for the file system, a NUL byte
            ok = False
        if not ok:
            raise argparse.ArgumentTypeError(f"{value[:200]!r}: expected an existing {kind}")
        return path

    return parse


EXISTING, EXISTING_FILE, FOLDER = existing("path"), existing("file"), existing("folder")


def output_file(value: str) -> Path:
    """A path to write a file at: not empty, not an existing folder."""
    path = Path(value)
    if not value or path.is_dir():
        raise argparse.ArgumentTypeError(f"{value[:200]!r}: expected a file to write (not empty, not a folder)")
    return path


CHANNEL_TYPES = ("awgn", "rayleigh")  # the registry's CHANNELS, without importing torch to parse
IMAGE_METRIC_NAMES = ("psnr_db", "ssim", "ms_ssim", "vif", "haarpsi")  # testbed.metrics.IMAGE_METRICS' keys
FFT_SIZES = (64, 128, 256)


def number_list(value: str) -> tuple[float, ...]:
    """``-5,0,5`` -> (-5.0, 0.0, 5.0): finite numbers, at least one."""
    try:
        numbers = tuple(float(v) for v in value.split(",") if v)
    except ValueError:
        numbers = ()
    if not numbers or not all(math.isfinite(v) for v in numbers):
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated finite numbers, e.g. -5,0,5")
    return numbers


def integer_list(value: str) -> list[int]:
    """``1,2,5`` -> [1, 2, 5]: whole numbers >= 1, at least one."""
    try:
        numbers = [int(v) for v in value.split(",") if v]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated whole numbers >= 1, e.g. 1,2,5")
    return numbers


def choice_list(choices: tuple[str, ...], what: str, noun: str = "value"):
    """A parser of comma lists whose items must be among ``choices``."""
    def parse(value: str) -> tuple[str, ...]:
        items = tuple(v for v in value.split(",") if v)
        unknown = [v for v in items if v not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(f"{what}: unknown {noun} {', '.join(map(repr, unknown))}; expected a "
                                             f"comma list of {', '.join(choices)}")
        if not items:
            raise argparse.ArgumentTypeError(f"{what} {value!r}: expected a comma list of {', '.join(choices)}")
        return items

    return parse


def receiver_list(value: str) -> tuple[str, ...]:
    """Registered receiver names, comma-separated (unknown names refused with the known ones)."""
    from diffair.models import registry

    return choice_list(tuple(registry.receiver_names()), "--receivers", "receiver")(value)


def receiver_name(value: str) -> str:
    """One registered receiver name."""
    if "," in value:
        raise argparse.ArgumentTypeError(f"--receiver {value!r}: expected one receiver name")
    return receiver_list(value)[0]


def backend_name(value: str) -> str:
    """A backend name (torch, ort, trt; onnxruntime, tensorrt) or a variant such as ort-cuda:
    returned in its canonical spelling."""
    from diffair.dsp.errors import ConfigError
    from diffair.export.runners import RunnerChoice

    try:
        return RunnerChoice.parse(value).label
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def backend_list(value: str) -> tuple[str, ...]:
    return tuple(backend_name(v) for v in value.split(",") if v)


def steps_value(value: str) -> int | str:
    """A positive sampler step count, or "full" (the receiver's full sampler)."""
    from diffair.models.registry import FULL

    if value == FULL:
        return FULL
    try:
        steps = int(value)
    except ValueError:
        steps = 0
    if steps < 1:
        raise argparse.ArgumentTypeError(f"--steps {value}: expected a positive integer or '{FULL}'")
    return steps


def add_channel_group(p: argparse.ArgumentParser, snr_db: float, cfo_hz: float, with_channel: bool = True) -> None:
    """--snr-db, --channel, --cfo-hz."""
    group = p.add_argument_group("channel")
    group.add_argument("--snr-db", type=SNR_DB, default=snr_db, help=f"in-band SNR in dB (default {snr_db:g})")
    if with_channel:
        group.add_argument("--channel", choices=CHANNEL_TYPES, default="awgn")
    group.add_argument("--cfo-hz", type=FINITE, default=cfo_hz, help=f"carrier frequency offset in Hz (default "
                                                                     f"{cfo_hz:g})")


SOUNDING_HELP = ("ICDM's scenario (both sides): symbols per frame for the synchronous interferer's channel sounding "
                 "(2 recommended; 0: none)")


def add_format_group(p: argparse.ArgumentParser, sounding_default: int = 0) -> None:
    """--fft-size, --sounding-symbols (the PHY's frame format)."""
    group = p.add_argument_group("PHY format")
    group.add_argument("--fft-size", type=int, choices=FFT_SIZES, default=64)
    group.add_argument("--sounding-symbols", type=int, choices=[0, 1, 2, 3, 4], default=sounding_default,
                       help=SOUNDING_HELP)


def frame_format(args: argparse.Namespace):
    """The FrameFormat of the format group (and --sample-rate-hz where the command has one)."""
    from diffair.dsp.frame import FrameFormat

    rate = getattr(args, "sample_rate_hz", None)
    extra = {} if rate is None else {"sample_rate_hz": rate}
    return FrameFormat.for_fft(args.fft_size, sounding_symbols=args.sounding_symbols, **extra)


def add_radio_group(p: argparse.ArgumentParser, kinds: list[str]) -> None:
    """--radio and how to reach it, the LO and sample rate, and the link test payload's seed
    and length (both sides)."""
    group = p.add_argument_group("radio")
    group.add_argument("--radio", choices=kinds, required=True)
    group.add_argument("--uri", help="Pluto URI (else $DIFFAIR_PLUTO_URI, else discovery)")
    group.add_argument("--address", help="ZMQ endpoint (tx default binds tcp://127.0.0.1:5555, rx default connects "
                                         "tcp://127.0.0.1:5556)")
    group.add_argument("--lo-hz", type=POSITIVE, default=2.4e9)
    group.add_argument("--sample-rate-hz", type=POSITIVE, default=1e6)
    group.add_argument("--seed", type=SEED, default=0, help="seed of the link test payload (both sides)")
    group.add_argument("--frames", type=FRAMES, default=20, help="frames per payload")
    group.add_argument("--zmq-tags", action="store_true",
                       help="zmq: messages carry GNU Radio's tag header (both sides; gr-zeromq's pass_tags), whose "
                            "sample counter reveals samples lost on the way")
    add_format_group(p)


def radio_choice(args: argparse.Namespace):
    """The RadioChoice of the radio group."""
    from diffair.testbed.rxtx import RadioChoice

    return RadioChoice(kind=args.radio, uri=args.uri, address=args.address, path=getattr(args, "input", None),
                       cyclic=getattr(args, "cyclic", False), lo_hz=args.lo_hz, sample_rate_hz=args.sample_rate_hz,
                       rx_gain_db=getattr(args, "rx_gain_db", 30.0), zmq_tags=args.zmq_tags)


def add_receiver_group(p: argparse.ArgumentParser, backend: bool = True, genie: bool = True,
                       channel: bool = False) -> None:
    """--receivers, --steps, --weights, --no-switch, --lpips, and where asked --backend, --genie,
    --channel; --seed comes with --genie (the channel's seed)."""
    group = p.add_argument_group("receivers")
    group.add_argument("--receivers", type=receiver_list, default=(),
                       help="comma list of registered receivers (`diffair receivers`; default: every one with weights "
                            "for the link)")
    group.add_argument("--steps", type=steps_value, default=None,
                       help="diffusion sampler steps K, or 'full' (CDDM's m steps, ICDM's 40); default: each "
                            "receiver's own (`diffair receivers`)")
    group.add_argument("--weights", type=FOLDER, default=None, help="a folder of weights (default: the shipped ones)")
    group.add_argument("--no-switch", dest="switch", action="store_false",
                       help="run each diffusion receiver's own method everywhere (default: where its switch table "
                            "expects a loss it hands the frame to the baseline and the report says so; the README's "
                            "'switching' section)")
    group.add_argument("--lpips", type=EXISTING_FILE, default=None, metavar="WEIGHTS",
                       help="also score LPIPS (AlexNet, v0.1) with these weights, a safetensors file you make from the "
                            "published ones (README, 'metrics'; nothing downloads)")
    if channel:
        group.add_argument("--channel", choices=CHANNEL_TYPES, default="awgn", help="which weights")
    if backend:
        group.add_argument("--backend", type=backend_name, default="torch",
                           help="who runs the receivers: torch, ort (onnxruntime) or trt (tensorrt)")
    if genie:
        group.add_argument("--genie", action="store_true",
                           help="ideal sync and CSI: symbol-level channel, no PHY (fast)")
        group.add_argument("--seed", type=SEED, default=0)


def weights_dir(args: argparse.Namespace) -> Path:
    from diffair.models.registry import WEIGHTS_DIR

    return args.weights or WEIGHTS_DIR


def lpips_column(rows) -> str:
    """The LPIPS column's header in a printed table of result rows (a dict or list of them), if
    any row has it (--lpips)."""
    return f" {'LPIPS':>6}" if any("lpips" in r for r in (rows.values() if isinstance(rows, dict) else rows)) else ""


def lpips_cell(row: dict) -> str:
    return f" {row['lpips']:6.3f}" if "lpips" in row else ""


def add_output_group(p: argparse.ArgumentParser, out: Path | None) -> None:
    """--out (where the command writes; omitted when ``out`` is None) and --json."""
    group = p.add_argument_group("output")
    if out is not None:
        group.add_argument("--out", type=Path, default=out, help=f"output folder (default {out})")
    group.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_monitor_flags(p: argparse.ArgumentParser) -> None:
    """--monitor [HOST:]PORT and --monitor-hold-s (the live web page, testbed.monitor)."""
    group = p.add_argument_group("live monitor")
    group.add_argument("--monitor", metavar="[HOST:]PORT", default=None, type=monitor_address,
                       help="serve a live page of the link at http://HOST:PORT/ (HOST defaults to 127.0.0.1; port 0 "
                            "picks a free one)")
    group.add_argument("--monitor-hold-s", type=NON_NEGATIVE, default=0.0,
                       help="keep serving the final state this long after the run (default 0)")


def monitor_address(value: str) -> str:
    from diffair.dsp.errors import ConfigError
    from diffair.testbed.monitor import parse_address

    try:
        parse_address(value)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value


def fmt(value, spec: str) -> str:
    """``value`` formatted, or "n/a" for None."""
    return "n/a" if value is None else format(value, spec)
