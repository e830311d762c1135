"""``diffair train``: train a model from a data path (resumable), writing weights the other
commands load."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from diffair.dsp.errors import ConfigError
from diffair.testbed.cli.args import CHANNEL_TYPES, COUNT, EXISTING, EXISTING_FILE, POSITIVE, SEED


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
    p.add_argument("model", choices=["jscc", "cddm", "cddm-decoder", "icdm", "djscc"])
    p.add_argument("--stage", choices=["autoencoder", "prior", "link"], default="link",
                   help="djscc: which of the three stages (in this order; link: for --channel)")
    p.add_argument("--data", type=EXISTING, required=True, help="a CIFAR-style .npz or a folder of images")
    p.add_argument("--val-data", type=EXISTING, help="evaluation images (default: --data's test split)")
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="weights and checkpoints go here")
    p.add_argument("--epochs", type=COUNT, default=60)
    p.add_argument("--channel", choices=CHANNEL_TYPES, default="awgn")
    p.add_argument("--channels", type=COUNT, default=16, help="jscc: latent channels C (16 = ratio 1/6)")
    p.add_argument("--jscc", type=EXISTING_FILE, default=None, help="cddm, icdm: the frozen codec's .safetensors")
    p.add_argument("--init", type=EXISTING_FILE, default=None, help="jscc: start from these weights (.safetensors)")
    p.add_argument("--classes", type=_class_list, default=None,
                   help="jscc, icdm: train only on these labels, e.g. 0,1,8,9 (CIFAR-10's vehicles)")
    p.add_argument("--name", type=weights_name, default=None, help="jscc, icdm: weights name (default jscc_<channel>_c<channels>, icdm_prior_<codec>)")
    p.add_argument("--lr", type=POSITIVE, default=None, help="base learning rate (default: the trainer's)")
    p.add_argument("--width", type=COUNT, default=64, help="cddm, icdm: denoiser width")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--threads", type=COUNT, default=1, help="torch CPU threads")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.model == "jscc":
        from diffair.models.jscc import JSCCConfig
        from diffair.models.training.jscc import TrainJSCCOptions, train_jscc

        config = JSCCConfig(channels=args.channels, channel=args.channel)
        extra = {"lr": args.lr} if args.lr else {}
        path = train_jscc(config, TrainJSCCOptions(data=args.data, out=args.out, epochs=args.epochs, seed=args.seed,
                                                   val_data=args.val_data, threads=args.threads, init=args.init,
                                                   classes=args.classes, **extra),
                          args.name or f"jscc_{args.channel}_c{args.channels}")
    elif args.model == "djscc":
        import torch

        from diffair.models.training.djscc import TrainDJSCCOptions, train_autoencoder, train_djscc_prior, train_link

        torch.set_num_threads(args.threads)
        options = TrainDJSCCOptions(data=args.data, out=args.out, epochs=args.epochs, seed=args.seed,
                                    val_data=args.val_data)
        stages = {"autoencoder": train_autoencoder, "prior": lambda o: train_djscc_prior(o, args.width),
                  "link": lambda o: train_link(o, args.channel)}
        path = stages[args.stage](options)
    elif args.jscc is None:
        raise ConfigError(f"train {args.model} needs --jscc PATH.safetensors (the frozen codec, with its .json beside)")
    elif args.model == "icdm":
        import torch

        from diffair.models.training.prior import TrainPriorOptions, codec_latents, train_prior

        latents, val_latents = codec_latents(args.jscc.parent, args.jscc.stem, args.data, args.classes, args.val_data)
        torch.set_num_threads(args.threads)
        options = TrainPriorOptions(out=args.out, epochs=args.epochs, width=args.width, seed=args.seed)
        path = train_prior(latents, val_latents, options, args.name or f"icdm_prior_{args.jscc.stem}")
    else:
        from diffair.models.training.cddm import TrainCDDMOptions, train_cddm_decoder, train_denoiser

        options = TrainCDDMOptions(data=args.data, out=args.out, jscc_dir=args.jscc.parent, jscc_name=args.jscc.stem,
                                   channel=args.channel, epochs=args.epochs, seed=args.seed, threads=args.threads,
                                   val_data=args.val_data)
        denoiser = f"cddm_denoiser_{args.channel}"
        if args.model == "cddm":
            path = train_denoiser(options, denoiser, width=args.width)
        else:
            path = train_cddm_decoder(options, denoiser, f"cddm_codec_{args.channel}")
    print(f"weights: {path}")
    return 0
