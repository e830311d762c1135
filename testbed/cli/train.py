"""``diffair train``: train a model from a data path (resumable), writing weights the other
commands load; on one process, or on several under ``torchrun --no-python diffair train ...``
(DDP: docs/scale-out.md)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

from diffair.dsp.errors import ConfigError
from diffair.testbed.cli.args import CHANNEL_TYPES, COUNT, EXISTING, EXISTING_FILE, POSITIVE, SEED

DEVICE_CHOICES = ("auto", "cpu", "cuda")  # models.distributed.DEVICE_CHOICES, without importing torch


def _class_list(value: str) -> tuple[int, ...]:
    try:
        classes = tuple(int(v) for v in value.split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--classes {value!r}: expected comma-separated labels, e.g. 0,1,8,9")
    if not classes or any(c < 0 for c in classes):
        raise argparse.ArgumentTypeError(f"--classes {value!r}: expected non-negative labels")
    return classes


def weights_name(value: str) -> str:
    """A weights name: a plain file stem (letters, digits, '_', '-', '.'), never a path."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}", value) or ".." in value:
        raise argparse.ArgumentTypeError(f"--name {value!r}: expected a plain name of letters, digits, '_', '-' and "
                                         "'.' (the weights are written inside --out)")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a data path (resumable)")
    p.add_argument("model", choices=["jscc", "jscc-mmse", "jscc-interf", "cddm", "cddm-decoder", "icdm",
                                          "icdm-decoder", "djscc"])
    p.add_argument("--stage", choices=["autoencoder", "prior", "link"], default="link",
                   help="djscc: which of the three stages (in this order; link: for --channel)")
    p.add_argument("--data", type=EXISTING, required=True, help="a CIFAR-style .npz or a folder of images")
    p.add_argument("--val-data", type=EXISTING,
                   help="validation images, their test split (default: images held out from --data's training "
                        "split, so that the test split stays untouched)")
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="weights and checkpoints go here")
    p.add_argument("--epochs", type=COUNT, default=60)
    p.add_argument("--channel", choices=CHANNEL_TYPES, default="awgn")
    p.add_argument("--channels", type=COUNT, default=16, help="jscc: latent channels C (16 = ratio 1/6)")
    p.add_argument("--jscc", type=EXISTING_FILE, default=None,
                   help="jscc-mmse, jscc-interf, cddm, icdm, icdm-decoder: the frozen codec's .safetensors")
    p.add_argument("--interferer", type=EXISTING_FILE, default=None,
                   help="jscc-interf, icdm-decoder: the interferer's codec (.safetensors; ICDM's scenario: "
                        "models/weights/jscc_vehicles_c16.safetensors)")
    p.add_argument("--init", type=EXISTING_FILE, default=None, help="jscc: start from these weights; cddm-decoder: start the decoder from this codec's "
                        "(.safetensors, e.g. the jscc-mmse baseline's); icdm-decoder: from this jscc-interf codec's "
                        "(default the shipped one)")
    p.add_argument("--decoder-start", choices=["baseline", "codec"], default="baseline",
                   help="icdm-decoder: start from jscc-interf's decoder (--init, default the shipped one) or from the "
                        "paper's, the --jscc codec's")
    p.add_argument("--classes", type=_class_list, default=None,
                   help="jscc, icdm: train only on these labels, e.g. 0,1,8,9 (CIFAR-10's vehicles)")
    p.add_argument("--name", type=weights_name, default=None, help="jscc, icdm, cddm-decoder: weights name (default jscc_<channel>_c<channels>, "
                        "icdm_prior_<codec>, cddm_codec_<channel>)")
    p.add_argument("--lr", type=POSITIVE, default=None, help="base learning rate (default: the trainer's)")
    size = p.add_argument_group("denoiser size (cddm, icdm, djscc --stage prior)")
    size.add_argument("--realtime", action="store_true",
                      help="the real-time variant of the -rt receivers: width 32, patch 2, one block per level "
                           "(unless given below); weights named <name>_rt")
    size.add_argument("--width", type=COUNT, default=None, help="feature width, a multiple of 8 (default 64)")
    size.add_argument("--patch", type=COUNT, default=None, help="latent patch side folded into channels (default 1)")
    size.add_argument("--blocks", type=COUNT, default=None, help="residual blocks per level (default 2)")
    size.add_argument("--unconditioned", action="store_true",
                      help="cddm: a denoiser blind to the channel weights W_s, W_n (the ablation)")
    size.add_argument("--bypass", action="store_true",
                      help="a 1x1 convolution from the input to the output beside the body (the real-time priors)")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--threads", type=COUNT, default=1, help="torch CPU threads (per process)")
    control = p.add_argument_group("run control")
    control.add_argument("--limit", type=COUNT, default=None, help="train on the first N training images (smoke runs)")
    control.add_argument("--device", choices=DEVICE_CHOICES, default="cpu",
                     help="auto: this rank's GPU when torch sees one; under torchrun each rank takes LOCAL_RANK's")
    control.add_argument("--resume", action="store_true",
                     help="continue from the checkpoint in --out (a fresh start when there is none yet)")
    control.add_argument("--checkpoint-every-s", type=POSITIVE, default=300.0,
                     help="seconds between checkpoints within an epoch (one is written after every epoch too)")
    control.add_argument("--stop-after-steps", type=COUNT, default=None,
                     help="stop after this many optimizer steps of this run, with a checkpoint (--resume goes on)")
    control.add_argument("--bf16", action="store_true", help="bfloat16 autocast on CUDA (no effect on the CPU)")
    control.add_argument("--json", action="store_true",
                     help="print one JSON report (world_size, epochs, steps, wall_s, final_loss, weights); the "
                          "per-epoch records go to stderr")
    p.set_defaults(handler=run_train)


def _provenance(args: argparse.Namespace) -> dict:
    """A run's provenance: its seed, the sha256 of the weights it started from (--jscc,
    --interferer, --init) and of its training data."""
    from diffair.models.provenance import file_sha256, provenance

    started_from = {Path(path).stem: file_sha256(path) for path in (args.jscc, args.interferer, args.init) if path}
    return provenance(args.seed, started_from, Path(args.data))


def run_train(args: argparse.Namespace) -> int:
    from diffair.models.distributed import workers
    from diffair.models.training.loop import RunControl

    with workers(args.device) as place:
        control = RunControl(workers=place, resume=args.resume, limit=args.limit,
                             checkpoint_every_s=args.checkpoint_every_s, stop_after_steps=args.stop_after_steps,
                             bf16=args.bf16, log=sys.stderr if args.json else sys.stdout)
        report = _train(args, control)
    if place.is_main:
        if args.json:
            print(json.dumps({**dataclasses.asdict(report), "provenance": _provenance(args)}))
        else:
            state = "stopped early (--resume goes on)" if report.stopped else "done"
            print(f"{state}: {report.epochs} epoch(s), {report.steps} steps on {report.world_size} process(es) in "
                  f"{report.wall_s:.1f} s; weights: {', '.join(report.weights) or 'none yet'}")
    return 0


def _train(args: argparse.Namespace, control):
    """Run the trainer ``args`` ask for; returns its TrainReport."""
    extra = {"lr": args.lr} if args.lr else {}  # else each trainer's own default
    if args.model == "jscc":
        from diffair.models.jscc import JSCCConfig
        from diffair.models.training.jscc import TrainJSCCOptions, train_jscc

        config = JSCCConfig(channels=args.channels, channel=args.channel)
        return train_jscc(config, TrainJSCCOptions(data=args.data, out=args.out, epochs=args.epochs, seed=args.seed,
                                                   val_data=args.val_data, threads=args.threads, init=args.init,
                                                   classes=args.classes, control=control, **extra),
                          args.name or f"jscc_{args.channel}_c{args.channels}")
    if args.model == "djscc":
        import torch

        from diffair.models.djscc import PRIOR
        from diffair.models.training.djscc import TrainDJSCCOptions, train_autoencoder, train_djscc_prior, train_link

        torch.set_num_threads(args.threads)
        options = TrainDJSCCOptions(data=args.data, out=args.out, epochs=args.epochs, seed=args.seed,
                                    val_data=args.val_data, control=control)
        stages = {"autoencoder": train_autoencoder,
                  "prior": lambda o: train_djscc_prior(o, _size(args), _variant(args, PRIOR)),
                  "link": lambda o: train_link(o, args.channel)}
        return stages[args.stage](options)
    if args.jscc is None:
        raise ConfigError(f"train {args.model} needs --jscc PATH.safetensors (the frozen codec, with its .json beside)")
    if args.model in ("jscc-interf", "icdm-decoder") and args.interferer is None:
        raise ConfigError(f"train {args.model} needs --interferer PATH.safetensors (the interferer's codec, "
                          "e.g. models/weights/jscc_vehicles_c16.safetensors)")
    if args.model == "icdm-decoder":
        from diffair.models.training.icdm_decoder import TrainICDMDecoderOptions, train_icdm_decoder

        return train_icdm_decoder(TrainICDMDecoderOptions(
            data=args.data, out=args.out, jscc=args.jscc, interferer=args.interferer, weights=args.jscc.parent,
            channel=args.channel, init=args.init, start=args.decoder_start, epochs=args.epochs, seed=args.seed,
            threads=args.threads, control=control, **extra))
    if args.model in ("jscc-mmse", "jscc-interf"):
        from diffair.models.training.baseline import TrainMMSEOptions, train_mmse_decoder

        if args.model == "jscc-interf":
            extra |= {"interferer": args.interferer, "snr_min_db": 10.0, "val_snr_db": 20.0}
        return train_mmse_decoder(TrainMMSEOptions(data=args.data, out=args.out, jscc=args.jscc, channel=args.channel,
                                                   epochs=args.epochs, seed=args.seed, threads=args.threads,
                                                   control=control, **extra))
    if args.model == "icdm":
        import torch

        from diffair.models.training.prior import TrainPriorOptions, codec_latents, train_prior

        latents, val_latents = codec_latents(args.jscc.parent, args.jscc.stem, args.data, args.classes, args.val_data,
                                             args.limit)
        torch.set_num_threads(args.threads)
        options = TrainPriorOptions(out=args.out, epochs=args.epochs, size=_size(args), seed=args.seed,
                                    control=control, **extra)
        return train_prior(latents, val_latents, options, args.name or _variant(args, f"icdm_prior_{args.jscc.stem}"))
    from diffair.models.training.cddm import TrainCDDMOptions, train_cddm_decoder, train_denoiser

    options = TrainCDDMOptions(data=args.data, out=args.out, jscc_dir=args.jscc.parent, jscc_name=args.jscc.stem,
                               channel=args.channel, epochs=args.epochs, seed=args.seed, threads=args.threads,
                               val_data=args.val_data, init=args.init, control=control, **extra)
    denoiser = _variant(args, f"cddm_denoiser_{args.channel}")
    if args.model == "cddm":
        return train_denoiser(options, denoiser, _size(args))
    return train_cddm_decoder(options, denoiser, args.name or _variant(args, f"cddm_codec_{args.channel}"))


def _size(args: argparse.Namespace) -> dict[str, int | bool]:
    """The denoiser's width / patch / blocks / bypass / conditioning: the real-time preset if asked,
    then those given."""
    from diffair.models.denoiser import REALTIME

    size = dict(REALTIME) if args.realtime else {}
    size.update({key: getattr(args, key) for key in ("width", "patch", "blocks") if getattr(args, key) is not None})
    if args.bypass:
        size["bypass"] = True
    if args.unconditioned:
        size["conditioned"] = False
    return size


def _variant(args: argparse.Namespace, name: str) -> str:
    """``name``, or its real-time variant's name with --realtime."""
    from diffair.models.denoiser import REALTIME_SUFFIX

    return name + REALTIME_SUFFIX if args.realtime else name
