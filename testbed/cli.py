"""The ``diffair`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from dsp.errors import DiffairError


def _add_link(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("link", help="random symbols through the OFDM PHY over the loopback radio")
    p.add_argument("--snr-db", type=float, default=15.0, help="in-band SNR in dB (default 15)")
    p.add_argument("--channel", choices=["awgn", "rayleigh"], default="awgn")
    p.add_argument("--cfo-hz", type=float, default=0.0, help="carrier frequency offset in Hz")
    p.add_argument("--sro-ppm", type=float, default=0.0, help="sample-rate offset in ppm")
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fft-size", type=int, choices=[64, 128, 256], default=64)
    p.add_argument("--sounding-symbols", type=int, choices=[0, 1, 2, 3, 4], default=0,
                   help="ICDM's scenario (both sides): symbols per frame for the synchronous interferer's "
                        "channel sounding (2 recommended; 0: none)")
    p.add_argument("--estimator", choices=["lmmse", "ls"], default="lmmse")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=_run_link)


def _run_link(args: argparse.Namespace) -> int:
    from testbed.link import LinkOptions, run_link

    if args.frames < 1:
        raise DiffairError(f"--frames = {args.frames}; expected at least 1")
    options = LinkOptions(snr_db=args.snr_db, channel=args.channel, cfo_hz=args.cfo_hz, sro_ppm=args.sro_ppm,
                          frames=args.frames, seed=args.seed, fft_size=args.fft_size, estimator=args.estimator)
    summary = run_link(options, progress=not args.json)
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_link_summary(summary))
    return 0


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def format_link_summary(s: dict) -> str:
    """A readable block of the link summary."""
    rows = [
        ("channel", f"{s['channel']}, {s['fft_size']}-point FFT, SRO {s['sro_ppm']:g} ppm"),
        ("frames", f"{s['frames_header_ok']}/{s['frames_sent']} with a good header, "
                   f"{s['frames_detected']} detected, {s['false_alarms']} false alarms"),
        ("SNR", f"true {s['snr_db_true']:.1f} dB, estimated {_fmt(s['snr_db_est'], '.2f')} dB"),
        ("CFO", f"true {s['cfo_hz_true']:.0f} Hz, estimate RMSE {_fmt(s['cfo_hz_est_rmse'], '.1f')} Hz"),
        ("EVM", f"{_fmt(s['evm_db'], '.2f')} dB (genie {_fmt(s['evm_db_genie'], '.2f')} dB)"),
        ("PAPR", f"mean {s['papr_db']:.2f} dB, max {s['papr_db_max']:.2f} dB, {s['clipped_samples']} samples clipped"),
    ]
    return "\n".join(f"{name:>8}  {text}" for name, text in rows)


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-phy", help="throughput of the receive front end (pin it: taskset -c 0)")
    p.add_argument("--frames", type=int, default=400)
    p.add_argument("--out", type=Path, default=None, help="write the JSON record here")
    p.set_defaults(handler=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from testbed.bench import bench_phy, write_bench

    record = bench_phy(frames=args.frames)
    for r in record["results"]:
        print(f"FFT {r['fft_size']:>3}: {r['msps_median']:6.1f} MS/s median, {r['msps_best']:6.1f} best, "
              f"{r['frames_per_s_median']:7.0f} frames/s ({r['frames_decoded']}/{r['frames']} decoded)")
    if args.out:
        write_bench(record, args.out)
    return 0


def _add_radio_flags(p: argparse.ArgumentParser, kinds: list[str]) -> None:
    p.add_argument("--radio", choices=kinds, required=True)
    p.add_argument("--uri", help="Pluto URI (else $DIFFAIR_PLUTO_URI, else discovery)")
    p.add_argument("--address", help="ZMQ endpoint (tx default binds tcp://127.0.0.1:5555, "
                                     "rx default connects tcp://127.0.0.1:5556)")
    p.add_argument("--lo-hz", type=float, default=2.4e9)
    p.add_argument("--sample-rate-hz", type=float, default=1e6)
    p.add_argument("--seed", type=int, default=0, help="seed of the link test payload (both sides)")
    p.add_argument("--frames", type=int, default=20, help="frames per payload")
    p.add_argument("--fft-size", type=int, choices=[64, 128, 256], default=64)
    p.add_argument("--sounding-symbols", type=int, choices=[0, 1, 2, 3, 4], default=0,
                   help="ICDM's scenario (both sides): symbols per frame for the synchronous interferer's "
                        "channel sounding (2 recommended; 0: none)")


def _choice(args: argparse.Namespace):
    from testbed.rxtx import RadioChoice

    return RadioChoice(kind=args.radio, uri=args.uri, address=args.address, path=getattr(args, "input", None),
                       cyclic=getattr(args, "cyclic", False), lo_hz=args.lo_hz, sample_rate_hz=args.sample_rate_hz,
                       rx_gain_db=getattr(args, "rx_gain_db", 30.0))


def _add_tx(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tx", help="transmit payloads over a radio")
    _add_radio_flags(p, ["zmq", "pluto", "loopback"])
    p.add_argument("--repeat", type=int, default=1, help="how many times the payload is sent")
    p.add_argument("--cyclic", action="store_true", help="Pluto: one cyclic buffer, repeated by the radio")
    p.add_argument("--gap-samples", type=int, default=1000, help="idle samples before each frame")
    p.add_argument("--record", type=Path, help="loopback: write the air to this SigMF recording")
    p.add_argument("--snr-db", type=float, default=20.0, help="loopback: channel SNR")
    p.add_argument("--cfo-hz", type=float, default=0.0, help="loopback: channel CFO")
    p.add_argument("--image", nargs="?", const="builtin", default=None,
                   help="send an image as JSCC symbols (no value: the built-in photograph)")
    p.add_argument("--channel", choices=["awgn", "rayleigh"], default="awgn", help="image: which codec")
    p.add_argument("--transmitter", choices=["jscc", "djscc"], default="jscc",
                   help="image: deep JSCC (received by jscc, cddm) or Guo et al.'s diffusion JSCC (djscc)")
    p.add_argument("--interferer-image", nargs="?", const="builtin", default=None,
                   help="ICDM's scenario (with --sounding-symbols): add a synchronous interferer sending this "
                        "image (no value: a built-in one) from the same radio")
    p.add_argument("--sir-db", type=float, default=0.0, help="the interferer's power below the image's (dB)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run_tx)


def _run_tx(args: argparse.Namespace) -> int:
    from testbed.rxtx import run_tx

    summary = run_tx(_choice(args), _frame_format(args), args.seed, args.frames, args.repeat, args.gap_samples,
                     args.record, args.snr_db, args.cfo_hz, image=_image_arg(args.image), channel=args.channel,
                     transmitter=args.transmitter, interferer=_image_arg(args.interferer_image, interferer=True),
                     sir_db=args.sir_db)
    print(json.dumps(summary) if args.json else f"sent {summary['frames_sent']} frames")
    return 0


def _frame_format(args: argparse.Namespace):
    from dsp.frame import FrameFormat

    return FrameFormat.for_fft(args.fft_size, sample_rate_hz=args.sample_rate_hz,
                               sounding_symbols=args.sounding_symbols)


def _image_arg(value: str | None, interferer: bool = False):
    """An image file, the built-in image ("builtin": the photograph, or the interferer's), or None."""
    if value is None:
        return None
    from models.data import load_image
    from testbed.loopback import BUILTIN_INTERFERER_IMAGE, builtin_image

    if value == "builtin":
        return builtin_image(BUILTIN_INTERFERER_IMAGE) if interferer else builtin_image()
    return load_image(Path(value))


def _add_rx(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rx", help="receive and decode continuously from a radio or a recording")
    _add_radio_flags(p, ["zmq", "pluto", "sigmf"])
    p.add_argument("--input", type=Path, help="sigmf: the recording to replay")
    p.add_argument("--record", type=Path, help="write what was received to this SigMF recording")
    p.add_argument("--rx-gain-db", type=float, default=30.0)
    p.add_argument("--duration-s", type=float, help="stop after this long (default: when idle)")
    p.add_argument("--idle-timeout-s", type=float, default=3.0, help="stop after this long without samples")
    p.add_argument("--no-reference", action="store_true", help="do not compare with the seeded test payload")
    p.add_argument("--report", type=Path, help="write the JSON report here")
    p.add_argument("--receivers", type=_receivers, default=(), help="image payloads: comma list (default: all "
                                                                     "with weights)")
    p.add_argument("--channel", choices=["awgn", "rayleigh"], default="awgn", help="image payloads: which weights")
    p.add_argument("--steps", type=_steps, default=10, help="diffusion sampler steps K, or 'full' (CDDM's "
                                                             "m steps, ICDM's 40)")
    p.add_argument("--reference", nargs="?", const="builtin", default=None,
                   help="image payloads: the sent image, for PSNR (no value: the built-in photograph)")
    p.add_argument("--image-size", default=None, help="image payloads without --reference: WxH")
    p.add_argument("--images-out", type=Path, default=None, help="write decoded images here")
    p.add_argument("--backend", choices=["torch", "ort", "trt"], default="torch", help="who runs the receivers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run_rx)


def _run_rx(args: argparse.Namespace) -> int:
    from testbed.rxtx import run_rx, write_report

    report = run_rx(_choice(args), _frame_format(args), None if args.no_reference else args.seed, args.frames,
                    args.duration_s, args.idle_timeout_s, args.record, progress=not args.json,
                    images=_image_decoding(args))
    write_report(report, args.report)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['frames_ok']} frames decoded, {report['header_failures']} header failures, "
              f"{report['overflows']} overflows, {len(report['payloads'])} payloads")
        if report["format_mismatches"]:
            print(f"  {report['format_mismatches']} frames dropped: their header announces another number of "
                  f"sounding symbols than --sounding-symbols {args.sounding_symbols}; start rx with the "
                  "transmitter's")
        for p in report["payloads"]:
            evm = f", EVM {p['evm_db']:.2f} dB" if p.get("evm_db") is not None else ""
            psnr = "".join(f", {name} {r['psnr_db']:.2f} dB" for name, r in p.get("receivers", {}).items()
                           if "psnr_db" in r)
            sir = f", SIR {p['sir_db']:.1f} dB" if "sir_db" in p else ""
            print(f"  payload {p['payload_id']}: {p['frames_received']}/{p['frames_expected']} frames, "
                  f"SNR {p['snr_db']:.1f} dB{sir}, CFO {p['cfo_hz']:.0f} Hz{evm}{psnr}")
            for name, r in p.get("receivers", {}).items():
                for message in r.get("warnings", []) if isinstance(r, dict) else []:
                    print(f"    warning, {name}: {message}")
    return 0


def _image_decoding(args: argparse.Namespace):
    """The image decoder rx uses for JSCC payloads, or None when no size is known."""
    from models.registry import (INTERFERENCE_RECEIVERS, available_receivers, build_interference_receiver,
                                 build_receiver, load_codec)
    from testbed.rxtx import ImageDecoding

    reference = _image_arg(args.reference)
    if reference is not None:
        size = reference.shape[:2]
    elif args.image_size:
        try:
            width, height = (int(v) for v in args.image_size.lower().split("x"))
        except ValueError:
            raise DiffairError(f"--image-size {args.image_size!r}: expected WxH, e.g. 128x128") from None
        if width % 4 or height % 4 or width < 8 or height < 8:
            raise DiffairError(f"--image-size {args.image_size}: sides must be multiples of 4 (at least 8)")
        size = (height, width)
    else:
        return None
    from testbed.backends import RunnerReceiver

    graphs = (args.images_out or Path("reports/rx")) / "graphs"
    if args.sounding_symbols:  # ICDM's scenario
        names = args.receivers or INTERFERENCE_RECEIVERS
        models = {n: build_interference_receiver(n, args.channel, args.steps) for n in names}
    else:
        names = args.receivers or tuple(available_receivers(args.channel))
        models = {n: build_receiver(n, args.channel, args.steps) for n in names}
    receivers = {n: RunnerReceiver(m, args.backend, graphs) for n, m in models.items()}
    return ImageDecoding(receivers, size, load_codec(args.channel).config.channels, reference, args.images_out)


def _add_emulator(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pluto-emulator", help="serve an emulated PlutoSDR (libiio network protocol)")
    p.add_argument("--port", type=int, default=30431)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    p.add_argument("--snr-db", type=float, default=30.0)
    p.add_argument("--cfo-hz", type=float, default=0.0)
    p.add_argument("--sro-ppm", type=float, default=0.0)
    p.add_argument("--channel", choices=["awgn", "rayleigh"], default="awgn")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_run_emulator)


def _run_emulator(args: argparse.Namespace) -> int:
    from radio.channel import ChannelConfig
    from radio.pluto_emulator import PlutoEmulator

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


def _class_list(value: str) -> tuple[int, ...]:
    try:
        classes = tuple(int(v) for v in value.split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--classes {value!r}: expected comma-separated labels, e.g. 0,1,8,9")
    if not classes or any(c < 0 for c in classes):
        raise argparse.ArgumentTypeError(f"--classes {value!r}: expected non-negative labels")
    return classes


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a data path (resumable)")
    p.add_argument("model", choices=["jscc", "cddm", "cddm-decoder", "icdm", "djscc"])
    p.add_argument("--stage", choices=["autoencoder", "prior", "link"], default="link",
                   help="djscc: which of the three stages (in this order; link: for --channel)")
    p.add_argument("--data", type=Path, required=True, help="a CIFAR-style .npz or a folder of images")
    p.add_argument("--val-data", type=Path, help="evaluation images (default: --data's test split)")
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="weights and checkpoints go here")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--channel", choices=["awgn", "rayleigh"], default="awgn")
    p.add_argument("--channels", type=int, default=16, help="jscc: latent channels C (16 = ratio 1/6)")
    p.add_argument("--jscc", type=Path, default=None, help="cddm, icdm: the frozen codec's .safetensors")
    p.add_argument("--init", type=Path, default=None, help="jscc: start from these weights (.safetensors)")
    p.add_argument("--classes", type=_class_list, default=None,
                   help="jscc, icdm: train only on these labels, e.g. 0,1,8,9 (CIFAR-10's vehicles)")
    p.add_argument("--name", default=None, help="jscc, icdm: weights name (default jscc_<channel>_c<channels>, icdm_prior_<codec>)")
    p.add_argument("--lr", type=float, default=None, help="base learning rate (default: the trainer's)")
    p.add_argument("--width", type=int, default=64, help="cddm, icdm: denoiser width")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.set_defaults(handler=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        raise DiffairError(f"--epochs = {args.epochs}; expected at least 1")
    if args.model == "jscc":
        from models.jscc import JSCCConfig
        from models.train_jscc import TrainJSCCOptions, train_jscc

        config = JSCCConfig(channels=args.channels, channel=args.channel)
        extra = {"lr": args.lr} if args.lr else {}
        path = train_jscc(config, TrainJSCCOptions(data=args.data, out=args.out, epochs=args.epochs, seed=args.seed,
                                                   val_data=args.val_data, threads=args.threads, init=args.init,
                                                   classes=args.classes, **extra),
                          args.name or f"jscc_{args.channel}_c{args.channels}")
    elif args.model == "djscc":
        import torch

        from models.train_djscc import TrainDJSCCOptions, train_autoencoder, train_djscc_prior, train_link

        torch.set_num_threads(args.threads)
        options = TrainDJSCCOptions(data=args.data, out=args.out, epochs=args.epochs, seed=args.seed,
                                    val_data=args.val_data)
        stages = {"autoencoder": train_autoencoder, "prior": lambda o: train_djscc_prior(o, args.width),
                  "link": lambda o: train_link(o, args.channel)}
        path = stages[args.stage](options)
    elif args.jscc is None:
        raise DiffairError(f"train {args.model} needs --jscc PATH.safetensors (the frozen codec, with its .json beside)")
    elif args.model == "icdm":
        import torch

        from models.train_prior import TrainPriorOptions, codec_latents, train_prior

        latents, val_latents = codec_latents(args.jscc.parent, args.jscc.stem, args.data, args.classes, args.val_data)
        torch.set_num_threads(args.threads)
        options = TrainPriorOptions(out=args.out, epochs=args.epochs, width=args.width, seed=args.seed)
        path = train_prior(latents, val_latents, options, args.name or f"icdm_prior_{args.jscc.stem}")
    else:
        from models.train_cddm import TrainCDDMOptions, train_cddm_decoder, train_denoiser

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


def _steps(value: str) -> int | None:
    if value == "full":
        return None
    steps = int(value)
    if steps < 1:
        raise argparse.ArgumentTypeError(f"--steps {value}: expected a positive integer or 'full'")
    return steps


def _receivers(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(",") if v)


def _add_receiver_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--receivers", type=_receivers, default=(), help="comma list, e.g. jscc,cddm (default: all "
                                                                     "with weights)")
    p.add_argument("--steps", type=_steps, default=10, help="diffusion sampler steps K, or 'full' (CDDM's "
                                                             "m steps, ICDM's 40)")
    p.add_argument("--genie", action="store_true", help="ideal sync and CSI: symbol-level channel, no PHY (fast)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", type=Path, default=None, help="a folder of weights (default: the shipped ones)")


def _add_loopback(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("loopback", help="an image through encoder, PHY, channel and every receiver")
    p.add_argument("--image", type=Path, help="an image file (default: a built-in photograph)")
    p.add_argument("--snr-db", type=float, default=10.0)
    p.add_argument("--channel", choices=["awgn", "rayleigh"], default="awgn")
    p.add_argument("--cfo-hz", type=float, default=10e3)
    p.add_argument("--sir-db", type=float, default=None,
                   help="add a second transmitter at this signal-to-interference ratio")
    p.add_argument("--interferer", choices=["auto", "sync", "async"], default="auto",
                   help="sync: ICDM's frame-synchronous interferer sending another image (receivers jscc, lmmse, "
                        "icdm); async: an unsynchronized one sending test symbols; auto: sync when a receiver "
                        "needs it or none is named")
    p.add_argument("--interferer-image", type=Path, default=None,
                   help="sync: the interferer's image (default: a built-in one), resized to the wanted image")
    p.add_argument("--interferer-cfo-hz", type=float, default=None,
                   help="the interferer's carrier offset (async, default -12 kHz) or its offset from the wanted "
                        "transmitter's (sync, default 0)")
    p.add_argument("--sounding-symbols", type=int, default=2,
                   help="sync: sounding symbols per frame (2 follows a carrier offset between the transmitters up "
                        "to ~100 Hz, 3 up to ~1 kHz)")
    _add_receiver_flags(p)
    p.add_argument("--backend", choices=["torch", "ort", "trt"], default="torch", help="who runs the receivers")
    p.add_argument("--out", type=Path, default=Path("reports/loopback"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run_loopback)


def _run_loopback(args: argparse.Namespace) -> int:
    from models.registry import WEIGHTS_DIR
    from testbed.loopback import LoopbackOptions, run_loopback

    options = LoopbackOptions(image=args.image, snr_db=args.snr_db, channel=args.channel, cfo_hz=args.cfo_hz,
                              receivers=args.receivers, steps=args.steps, genie=args.genie, seed=args.seed,
                              out=args.out, weights=args.weights or WEIGHTS_DIR, backend=args.backend,
                              sir_db=args.sir_db, interferer=args.interferer,
                              interferer_image=args.interferer_image, interferer_cfo_hz=args.interferer_cfo_hz,
                              sounding_symbols=args.sounding_symbols)
    summary = run_loopback(options)
    if args.json:
        print(json.dumps(summary))
        return 0
    interference = "" if summary["sir_db"] is None else (
        f", {summary['interferer']} interferer at SIR {summary['sir_db']:g} dB (SINR {summary['sinr_db_true']:.2f} "
        f"dB): SINR estimate {_fmt(summary['sinr_db_est'], '.2f')} dB, SNR estimate "
        f"{_fmt(summary['snr_db_est' if summary['interferer'] == 'sync' else 'thermal_snr_db_est'], '.2f')} dB")
    snr = "" if interference else f", SNR estimate {_fmt(summary['snr_db_est'], '.2f')} dB"
    print(f"{summary['channel']} at {summary['snr_db_true']:g} dB{' (genie)' if summary['genie'] else ''}"
          f"{interference}: {summary['frames_ok']}/{summary['frames_sent']} frames{snr}, CFO estimate "
          f"{_fmt(summary['cfo_hz_est'], '.0f')} Hz, {summary['erased_symbols']} erased symbols")
    print(f"{'receiver':>9} {'PSNR dB':>8} {'SSIM':>6} {'latent MSE dB':>14} {'latency ms':>11}  backend")
    for name, r in summary["receivers"].items():
        print(f"{name:>9} {r['psnr_db']:8.2f} {r['ssim']:6.3f} {r['latent_mse_db']:14.2f} {r['latency_ms']:11.1f}  "
              f"{r['backend']} ({r['provider']})")
    for name, r in summary["receivers"].items():
        for message in r.get("warnings", []):
            print(f"warning, {name}: {message}")
    stages = ", ".join(f"{k} {v:.1f} ms" for k, v in summary["latency_ms"].items())
    print(f"stages: {stages}\nreport: {args.out}/")
    return 0


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="PSNR / SSIM / latent MSE versus SNR")
    p.add_argument("--data", type=Path, required=True, help="a .npz with x_test, or a folder of images")
    p.add_argument("--limit", type=int, default=256)
    p.add_argument("--snr-db", type=_floats, default=(0.0, 5.0, 10.0, 15.0, 20.0))
    p.add_argument("--channel", type=_receivers, default=("awgn",), help="comma list of awgn, rayleigh")
    p.add_argument("--cfo-hz", type=float, default=30e3, help="carrier frequency offset through the PHY (not --genie)")
    p.add_argument("--sinr-db", "--sir-db", type=_floats, default=(),
                   help="add ICDM's interferer at these signal-to-interference-plus-noise ratios: frame-"
                        "synchronous through the PHY, or with --genie at symbol level with perfect CSI (receivers "
                        "jscc,lmmse,icdm by default)")
    p.add_argument("--interferer-cfo-hz", type=float, default=0.0,
                   help="--sinr-db through the PHY: the interferer's carrier offset from the wanted transmitter's")
    p.add_argument("--sounding-symbols", type=int, choices=[1, 2, 3, 4], default=2,
                   help="--sinr-db through the PHY: sounding symbols per frame")
    _add_receiver_flags(p)
    p.add_argument("--out", type=Path, default=Path("reports/sweep"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run_sweep)


def _run_sweep(args: argparse.Namespace) -> int:
    from models.registry import WEIGHTS_DIR
    from testbed.sweep import SweepOptions, run_sweep

    options = SweepOptions(data=args.data, limit=args.limit, snr_db=args.snr_db, channels=args.channel,
                           receivers=args.receivers, steps=args.steps, genie=args.genie, seed=args.seed,
                           cfo_hz=args.cfo_hz,
                           out=args.out, weights=args.weights or WEIGHTS_DIR, sinr_db=args.sinr_db,
                           interferer_cfo_hz=args.interferer_cfo_hz, sounding_symbols=args.sounding_symbols)
    result = run_sweep(options, progress=not args.json)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'receiver':>9} {'channel':>8} {'SNR dB':>7} {'SINR dB':>8} {'PSNR dB':>8} {'SSIM':>6} {'MS-SSIM':>8} "
          f"{'latent MSE dB':>14}")
    for r in result["results"]:
        sinr = f"{r['sinr_db']:8.1f}" if "sinr_db" in r else f"{'-':>8}"
        print(f"{r['receiver']:>9} {r['channel']:>8} {r['snr_db']:7.1f} {sinr} {r['psnr_db']:8.2f} {r['ssim']:6.3f} "
              f"{r['ms_ssim']:8.3f} {r['latent_mse_db']:14.2f}" + (f"  warning: {r['warnings']}" if "warnings" in r else ""))
    print(f"wrote {args.out}/sweep.csv, sweep.json, sweep.png")
    return 0


def _floats(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in value.split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated numbers, e.g. -5,0,5")


def _ints(value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated integers") from None


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a receiver's graphs to ONNX (and TensorRT engines)")
    p.add_argument("--receiver", choices=["jscc", "cddm", "icdm", "djscc"], default="cddm")
    p.add_argument("--steps", type=int, default=10, help="K of the unrolled diffusion receiver (ICDM: per prior)")
    p.add_argument("--format", choices=["onnx", "trt"], default="onnx")
    p.add_argument("--channel", choices=["awgn", "rayleigh"], default="awgn")
    p.add_argument("--side", type=int, default=32, help="image side the graphs are traced at (batch is dynamic)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--untrained", action="store_true", help="export untrained networks when weights are missing")
    p.add_argument("--fp16", action="store_true", help="trt: allow FP16")
    p.add_argument("--out", type=Path, default=Path("exports"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from export.build import BATCH_INPUTS, receiver_graphs
    from export.onnx_export import as_numpy, export_graph
    from export.parity import parity_report
    from export.runners import OrtRunner, TorchRunner

    specs, untrained = receiver_graphs(args.receiver, args.channel, args.steps, untrained=args.untrained)
    summary = {"receiver": args.receiver, "untrained_weights": untrained, "graphs": []}
    for spec in specs:
        example = spec.example(args.side, 2)
        path = args.out / f"{spec.name}.onnx"
        export_graph(spec.graph, example, path, kind=spec.kind, batch_inputs=BATCH_INPUTS[spec.kind],
                     configs=spec.configs, steps=spec.steps, opset=args.opset)
        check = as_numpy(spec.example(args.side, 3), spec.graph.inputs)
        parity = parity_report(TorchRunner(spec.graph), OrtRunner(path), check)
        entry = {"graph": str(path), "parity": parity}
        if args.format == "trt":
            from export.tensorrt_runner import BuildConfig, TrtRunner

            runner = TrtRunner(path, args.out / "engines", BuildConfig(fp16=args.fp16))
            entry["trt_parity"] = parity_report(TorchRunner(spec.graph), runner, check, rtol=1e-2 if args.fp16 else 1e-3)
        summary["graphs"].append(entry)
    if args.json:
        print(json.dumps(summary))
    else:
        for entry in summary["graphs"]:
            worst = max(o["max_rel"] for o in entry["parity"]["outputs"])
            print(f"{entry['graph']}: onnxruntime vs torch max relative error {worst:.2e} "
                  f"({'ok' if entry['parity']['passed'] else 'FAILED'})")
        if untrained:
            print("note: untrained weights (no trained receiver in the weights folder)")
    return 0 if all(e["parity"]["passed"] for e in summary["graphs"]) else 1


def _add_profile(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="latency p50 / p99 and throughput per backend, steps and batch")
    p.add_argument("--backend", type=_receivers, default=("torch", "ort"),
                   help="comma list of torch, ort, ort-cuda, ort-trt, trt, trt-fp16")
    p.add_argument("--receiver", choices=["jscc", "cddm", "icdm", "djscc"], default="cddm")
    p.add_argument("--steps", type=_ints, default=[1, 2, 5, 10, 20])
    p.add_argument("--batch", type=_ints, default=[1, 16])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--out", type=Path, default=Path("reports/profile"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run_profile)


def _run_profile(args: argparse.Namespace) -> int:
    from export.profile import run_profile

    record = run_profile(args.receiver, list(args.backend), args.steps, args.batch, args.out, threads=args.threads,
                         repeats=args.repeats, progress=not args.json)
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"{'backend':>8} {'provider':>22} {'K':>3} {'batch':>5} {'p50 ms':>8} {'p99 ms':>8} {'images/s':>9}")
    for r in record["results"]:
        print(f"{r['backend']:>8} {r['provider']:>22} {r['steps']:>3} {r['batch']:>5} {r['p50_ms']:8.2f} "
              f"{r['p99_ms']:8.2f} {r['images_per_s']:9.1f}")
    for c in record["per_step_ms"]:
        print(f"per step: {c['backend']} batch {c['batch']}: {c['ms_per_step']:.3f} ms")
    print(f"wrote {args.out}/profile.json, profile.png")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diffair", description="Diffusion-model receivers on a software-radio testbed.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_link(sub)
    _add_bench(sub)
    _add_tx(sub)
    _add_rx(sub)
    _add_emulator(sub)
    _add_train(sub)
    _add_loopback(sub)
    _add_sweep(sub)
    _add_export(sub)
    _add_profile(sub)
    return parser


def apply_config(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """``--config FILE.yaml`` (any subcommand): the file's keys (flag names, dashes or
    underscores) become that subcommand's defaults; flags on the command line still win.
    Unknown keys are refused with the list of known ones."""
    import yaml

    from dsp.errors import ConfigError

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
        defaults[dest] = action.type(str(value)) if action.type and not isinstance(value, bool) else value
    sub.set_defaults(**defaults)
    for action in sub._actions:
        if action.dest in defaults:
            action.required = False


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        apply_config(parser, argv)
    except DiffairError as err:
        print(f"diffair: error: {err}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except DiffairError as err:
        print(f"diffair {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
