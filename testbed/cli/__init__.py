"""The ``diffair`` command line: one module per command (``register(sub)`` adds its parser,
its ``run(args)`` does the work), the shared argument groups in ``args``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diffair.dsp.errors import ConfigError, DiffairError
from diffair.testbed.cli.args import Parser
from diffair.testbed.cli import (bench_phy, bench_rx, emulator, export, link, loopback, profile, receivers, rx, sweep,
                                 train, tx)

COMMANDS = (link, bench_phy, tx, rx, emulator, train, loopback, sweep, export, profile, receivers, bench_rx)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="diffair", description="Diffusion-model receivers on a software-radio testbed. Exit status: "
                                                "0 done, 2 a value or option refused, 1 a runtime failure.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of a failure (any position)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def apply_config(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """``--config FILE.yaml`` (any subcommand): the file's keys (flag names, dashes or
    underscores) become that subcommand's defaults; flags on the command line still win.
    Unknown keys are refused with the list of known ones."""
    import yaml

    from diffair.dsp.errors import ConfigError

    if "--config" not in argv:
        return
    index = argv.index("--config")
    if index + 1 >= len(argv):
        raise ConfigError("--config needs a YAML file")
    path = Path(argv[index + 1])
    del argv[index:index + 2]
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read config {path}: {err}") from err
    if not isinstance(values, dict):
        raise ConfigError(f"config {path} must be a mapping of option: value, got {type(values).__name__}")
    command = next((a for a in argv if not a.startswith("-")), None)
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if command not in subparsers.choices:
        raise ConfigError(f"--config needs a subcommand, one of {sorted(subparsers.choices)}")
    sub = subparsers.choices[command]
    known = {a.dest: a for a in sub._actions if a.dest not in ("help", "handler")}
    defaults = {}
    for key, value in values.items():
        dest = str(key).replace("-", "_")
        if dest not in known:
            raise ConfigError(f"config {path}: unknown key {key!r} for `diffair {command}`; "
                              f"known: {', '.join(sorted(known))}")
        action = known[dest]
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        try:
            defaults[dest] = action.type(str(value)) if action.type and not isinstance(value, bool) else value
        except (argparse.ArgumentTypeError, ValueError) as err:
            raise ConfigError(f"config {path}: {key} = {value!r}: {err}") from None
    sub.set_defaults(**defaults)
    for action in sub._actions:
        if action.dest in defaults:
            action.required = False


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status: 2 for a refused value or option (one line),
    1 for a runtime failure (one line; the traceback with --debug), 0 otherwise."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    try:
        apply_config(parser, argv)
    except DiffairError as err:
        print(f"diffair: error: {err}", file=sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # argparse has printed the usage error (exit 2) or the help (exit 0)
        return int(done.code or 0)
    from diffair.models import provenance

    provenance.COMMAND_LINE[:] = ["diffair", *argv]  # what the result JSONs say produced them
    try:
        return args.handler(args)
    except ConfigError as err:  # a value the command refused
        if debug:
            raise
        print(f"diffair {args.command}: error: {err}", file=sys.stderr)
        return 2
    except DiffairError as err:  # a radio, model, export or signal failure
        if debug:
            raise
        print(f"diffair {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"diffair {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: one line, the traceback with --debug
        if debug:
            raise
        print(f"diffair {args.command}: internal error: {type(err).__name__}: {err} (run again with --debug for "
              "the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
