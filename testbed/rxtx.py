"""``diffair tx`` and ``diffair rx``: one process per side of a real (or emulated) link.

The payload is either the link test payload (seeded unit-power complex Gaussian symbols,
which ``rx`` regenerates from the same seed to report each payload's EVM) or an image as
deep-JSCC symbols or Guo et al.'s (``--transmitter djscc``), which ``rx`` decodes with every
receiver asked for that takes that kind of payload (PSNR / SSIM against a reference image when
one is given).

A link whose frames carry sounding symbols (``--sounding-symbols``, both sides) is ICDM's
scenario: ``tx --image ... --interferer-image ... --sir-db S`` sends the image with the ICDM
signal codec and adds a synchronous interferer's frames (another image, its own codec) at S dB
below it, from the same radio; ``rx`` estimates both channels and decodes with the
interference receivers (jscc, lmmse, icdm).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from diffair.dsp.errors import ConfigError
from diffair.dsp.frame import FrameFormat
from diffair.dsp.header import PayloadKind
from diffair.dsp.packetizer import Reassembler, RxFrame, RxPayload
from diffair.dsp.receiver import OfdmReceiver
from diffair.dsp.units import complex_gaussian
from diffair.radio.base import Radio
from diffair.radio.ring import Block, RingReader
from diffair.testbed.pipeline import PipelineReport, RxPipeline, percentile_ms
from diffair.testbed.session import channel_for, frame_bursts, interfered_bursts


def link_test_payload(seed: int, frames: int, fmt: FrameFormat) -> np.ndarray:
    """The link test payload both sides agree on: ``frames`` full frames of CN(0, 1) symbols."""
    return complex_gaussian(np.random.default_rng(seed), frames * fmt.payload_capacity)


@dataclass(frozen=True)
class RadioChoice:
    """Which radio a command opens, and how."""

    kind: str
    uri: str | None = None
    address: str | None = None
    path: Path | None = None
    cyclic: bool = False
    lo_hz: float = 2.4e9
    sample_rate_hz: float = 1e6
    rx_gain_db: float = 30.0
    zmq_tags: bool = False


def open_radio(choice: RadioChoice, side: str, fmt: FrameFormat) -> Radio:
    """Open the radio for ``side`` ("tx" or "rx")."""
    if choice.kind == "zmq":
        from diffair.radio.zmq_radio import ZmqConfig, ZmqRadio

        default = {"tx": "tcp://127.0.0.1:5555", "rx": "tcp://127.0.0.1:5556"}[side]
        address = choice.address or default
        config = ZmqConfig(tx_address=address if side == "tx" else None,
                           rx_address=address if side == "rx" else None, timeout_s=5.0, pass_tags=choice.zmq_tags)
        return ZmqRadio(config).open()
    if choice.kind == "pluto":
        from diffair.radio.pluto import PlutoConfig, PlutoRadio

        return PlutoRadio(PlutoConfig(uri=choice.uri, lo_hz=choice.lo_hz, sample_rate_hz=choice.sample_rate_hz,
                                      rx_gain_db=choice.rx_gain_db, cyclic=choice.cyclic)).open()
    if choice.kind == "sigmf":
        from diffair.radio.sigmf_io import SigmfRadio

        if choice.path is None:
            raise ConfigError("--radio sigmf needs --input PATH (a .sigmf-meta recording)")
        return SigmfRadio(choice.path).open()
    raise ConfigError(f"--radio {choice.kind!r} is not available for {side}")


def image_payload(image: np.ndarray, channel: str, weights: Path | None = None, transmitter: str = "jscc",
                  scenario: str = "plain") -> tuple[np.ndarray, int]:
    """An image's symbols (complex64 ``[K]``) from the registered ``transmitter`` for ``channel``
    (in ICDM's ``scenario`` "interference": the wanted user's codec), and their PayloadKind. An
    image of any size goes: it is reflect-padded to the codec's multiple (rx crops it back)."""
    import torch

    from diffair.models import registry
    from diffair.models.data import to_tensor_batch
    from diffair.models.symbols import latent_to_symbols
    from diffair.testbed.images import pad_images

    sender = registry.build_transmitter(transmitter, channel, weights or registry.WEIGHTS_DIR, scenario)
    x = to_tensor_batch(pad_images(image, f"to send with --transmitter {transmitter}", sender.multiple)[None])
    with torch.no_grad():
        sent, _ = sender.encode(x)
    return latent_to_symbols(sent)[0].numpy(), registry.transmitter_spec(transmitter).payload_kind


def interferer_payload(image: np.ndarray, weights: Path | None = None) -> np.ndarray:
    """The symbols (complex64 ``[K]``) of ICDM's interferer sending ``image`` with its own codec."""
    import torch

    from diffair.models import registry
    from diffair.models.data import to_tensor_batch
    from diffair.models.symbols import latent_to_symbols

    sender = registry.load_interferer_transmitter(weights or registry.WEIGHTS_DIR)
    with torch.no_grad():
        return latent_to_symbols(sender.encode(to_tensor_batch(image[None]))[0])[0].numpy()


def run_tx(choice: RadioChoice, fmt: FrameFormat, seed: int, frames: int, repeat: int, gap_samples: int,
           record: Path | None = None, snr_db: float = 20.0, cfo_hz: float = 0.0,
           image: np.ndarray | None = None, channel: str = "awgn", transmitter: str = "jscc",
           interferer: np.ndarray | None = None, sir_db: float = 0.0, overwrite: bool = False,
           hold_s: float | None = None) -> dict:
    """Send the payload ``repeat`` times (payload id = repeat index + 1): the seeded test
    payload, or ``image`` as the symbols of ``transmitter`` (deep JSCC or Guo et al.'s), or,
    with an ``interferer`` image and a format with sounding symbols, ICDM's scenario (both
    images through their codecs, the interferer ``sir_db`` below). With ``--radio loopback``
    the air goes to a SigMF recording instead of a radio. A cyclic buffer stays on the air for
    ``hold_s`` seconds (None: until Ctrl-C), since closing the radio ends its transmission."""
    if interferer is not None and fmt.sounding_symbols == 0:
        raise ConfigError("tx: the interferer sounds its channel in the frames' sounding symbols: give "
                          "--sounding-symbols 2 (and the same to rx)")
    if interferer is not None and image is None:
        raise ConfigError("tx: --interferer-image needs --image (the wanted user's image)")
    if image is None:
        symbols, kind = link_test_payload(seed, frames, fmt), PayloadKind.TEST_SYMBOLS
    elif interferer is None:
        symbols, kind = image_payload(image, channel, transmitter=transmitter)
    else:
        from diffair.testbed.images import resized_like

        symbols, kind = image_payload(image, channel, scenario="interference")
        other = interferer_payload(resized_like(interferer, image.shape))

    def bursts(payload_id: int):
        if interferer is None:
            return frame_bursts(symbols, payload_id, fmt, gap_samples, kind)
        return interfered_bursts(symbols, other, sir_db, payload_id, fmt, gap_samples, kind)

    if choice.kind == "loopback":
        return _tx_to_recording(bursts, fmt, repeat, record, snr_db, cfo_hz, seed, overwrite)
    radio = open_radio(choice, "tx", fmt)
    sent = 0
    started = time.time()
    try:
        if choice.cyclic:
            radio.send(np.concatenate(list(bursts(1))))
            sent = -(-len(symbols) // fmt.payload_capacity)
            _hold_on_air(hold_s)
        else:
            for rep in tqdm(range(repeat), desc="tx payloads"):
                for burst in bursts(rep + 1):
                    radio.send(burst)
                    sent += 1
            radio.send(np.zeros(4 * fmt.frame_len, np.complex64))  # flush the last frame through
    finally:
        radio.close()
    return {"frames_sent": sent, "payloads": 1 if choice.cyclic else repeat, "seconds": time.time() - started}


def _hold_on_air(seconds: float | None) -> None:
    """Keep a cyclic transmission going for ``seconds`` (None: until Ctrl-C)."""
    if seconds is not None:
        time.sleep(seconds)
        return
    print("cyclic buffer on the air; Ctrl-C stops it", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def _tx_to_recording(bursts, fmt, repeat, record, snr_db, cfo_hz, seed, overwrite: bool = False) -> dict:
    from diffair.radio.loopback import LoopbackRadio
    from diffair.radio.sigmf_io import SigmfRecorder

    if record is None:
        raise ConfigError("tx --radio loopback writes the air to a SigMF recording: give --record PATH")
    channel = channel_for(fmt, snr_db, cfo_hz=cfo_hz)
    sent = 0
    with LoopbackRadio(channel, seed=seed) as air, SigmfRecorder(record, fmt.sample_rate_hz, hardware="diffair loopback",
                                                                 overwrite=overwrite) as recorder:
        for rep in range(repeat):
            for burst in bursts(rep + 1):
                air.send(burst)
                sent += 1
            recorder.write(air.receive(air.pending))
        recorder.write(air.receive(4 * fmt.frame_len))
    return {"frames_sent": sent, "payloads": repeat, "recording": str(recorder.meta_path)}


@dataclass
class ImageDecoding:
    """How ``rx`` turns image payloads into images: the receivers (ReceiverRunner by name), the
    PayloadKind each decodes, the latent shape (C, h, w) of each PayloadKind at this image size,
    the image size (height, width; decoded images are cropped to it from the codec's padded
    size), the reference image for PSNR (optional), where decoded PNGs go and the LPIPS weights
    (optional: LPIPS is scored too, against the reference). Each payload goes to the receivers of
    its kind (its header says which transmitter sent it)."""

    receivers: dict
    kinds: dict[str, int]
    shapes: dict[int, tuple[int, int, int]]
    size: tuple[int, int]
    reference: np.ndarray | None = None
    out: Path | None = None
    on_image: Callable[[str, np.ndarray, float | None], None] | None = None
    lpips: Path | None = None

    def __post_init__(self) -> None:
        self._reference01 = None if self.reference is None else self.reference / 255.0  # computed once

    def warm_up(self) -> None:
        """One call of every receiver on an example observation of its payload size, so that
        graph exports and session start-up happen before the stream, not during it; with a
        reference, the metrics' import too (torchmetrics takes seconds to import: inside the
        stream, that stalled the first payload's decode)."""
        import torch

        if self.reference is not None:
            from diffair.testbed.metrics import image_metrics

            image_metrics(self.lpips)  # loads the LPIPS network once, where asked

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, receiver in self.receivers.items():
                example = receiver.receiver.observation.random(1, self.shapes[self.kinds[name]],
                                                               torch.Generator().manual_seed(0))
                receiver(example)

    def decode(self, payload: RxPayload, decode_ms: dict | None = None) -> dict:
        """Each receiver of the payload's kind on it: backend, PSNR / SSIM (with a reference),
        warnings; the decode time of each goes to ``decode_ms[name]`` (a list, ms)."""
        import torch

        from diffair.models.channels import EqualizedSymbols
        from diffair.models.interference import InterferedSymbols, sinr_of
        from diffair.models.observation import InterferedObservation, LatentObservation
        from diffair.testbed.images import crop_images, save_png

        members = {n: r for n, r in self.receivers.items() if self.kinds[n] == payload.kind}
        if not members:
            return {"error": f"no receiver asked for decodes payload kind {PayloadKind(payload.kind).name} "
                             f"(asked for: {', '.join(self.receivers)})"}
        h, w = self.size
        shape = self.shapes[payload.kind]
        if shape[0] * shape[1] * shape[2] != 2 * len(payload.y):
            return {"error": f"{len(payload.y)} symbols do not fill the {' x '.join(map(str, shape))} latent "
                             f"of a {w} x {h} image"}
        rx = EqualizedSymbols(*(torch.from_numpy(a)[None] for a in (payload.y, payload.gain, payload.noise_var)))
        if payload.cross is None:
            obs = LatentObservation.from_symbols(rx, shape, payload.snr_db)
        else:
            obs = InterferedObservation.from_interfered(InterferedSymbols(rx, torch.from_numpy(payload.cross)[None]),
                                                        shape, payload.snr_db, sinr_of(payload.snr_db, payload.sir_db))
        results = {}
        with torch.no_grad():
            for name, receiver in members.items():
                with warnings.catch_warnings(record=True) as caught:  # e.g. ICDM outside its SINR range
                    warnings.simplefilter("always")
                    started = time.perf_counter()
                    decoded = receiver.decode_numpy(obs).image[0]  # numpy: no torch pool wake-up per image
                    image = crop_images(np.clip(decoded.transpose(1, 2, 0), 0.0, 1.0), self.size)
                    if decode_ms is not None:
                        decode_ms.setdefault(name, []).append(1e3 * (time.perf_counter() - started))
                entry = {"backend": receiver.backend, "provider": receiver.provider}
                if receiver.switched_to:  # its switch table expects a loss here (models.switching)
                    entry["switched_to"] = receiver.switched_to
                notes = sorted({str(w.message) for w in caught if issubclass(w.category, UserWarning)})
                if notes:
                    entry["warnings"] = notes
                if self.reference is not None:
                    from diffair.testbed.metrics import image_metrics  # torchmetrics: imported by warm_up

                    metrics = image_metrics(self.lpips)
                    entry |= {metric: score(self._reference01, image) for metric, score in metrics.items()}
                if self.on_image is not None:  # e.g. the live monitor
                    self.on_image(name, image, entry.get("psnr_db"))
                if self.out is not None:
                    self.out.mkdir(parents=True, exist_ok=True)
                    save_png(image, self.out / f"payload{payload.payload_id}_{name}.png")
                results[name] = entry
        return results


def payload_summary(payload: RxPayload, reference: np.ndarray | None, images: ImageDecoding | None = None,
                     decode_ms: dict | None = None) -> dict:
    """One payload's entry in the rx report: its frames, SNR, CFO, erasures, and either its
    receivers' results (image payloads, with ``images``) or its EVM against ``reference``."""
    summary = {"payload_id": payload.payload_id, "frames_received": payload.frames_received,
               "frames_expected": payload.frames_expected, "complete": payload.complete,
               "snr_db": payload.snr_db, "cfo_hz": payload.cfo_hz,
               "erased_symbols": int(payload.erased.sum())}
    if payload.sir_db is not None:
        summary["sir_db"] = payload.sir_db
    if payload.kind in (PayloadKind.JSCC_LATENT, PayloadKind.DJSCC_LATENT) and images is not None:
        summary["receivers"] = images.decode(payload, decode_ms)
    elif reference is not None and len(reference) == len(payload.y):
        keep = ~payload.erased
        err = np.sum(np.abs(payload.y[keep] - payload.gain[keep] * reference[keep]) ** 2)
        sig = np.sum(payload.gain[keep] ** 2 * np.abs(reference[keep]) ** 2)
        summary["evm_db"] = float(10 * np.log10(err / sig)) if sig > 0 else None
    return summary


def _recorder_sink(recorder):
    """Writes every block read, and zeros (annotated "gap") for samples lost before it, so the
    recording keeps the stream's timeline."""
    written = [0]

    def write(block: Block) -> None:
        if block.start > written[0]:
            recorder.annotate(written[0], block.start - written[0], "gap", "samples lost before the reader")
            recorder.write(np.zeros(block.start - written[0], np.complex64))
        recorder.write(block.samples)
        written[0] = block.end

    return write


LIVE_BLOCK_SAMPLES = 1 << 16
"""Samples per read from a live radio: 65 ms at 1 MS/s, short enough for a live display."""
FILE_BLOCK_SAMPLES = 1 << 18
"""Samples per read from a recording: larger blocks cost the front end less per sample (a
20 M-sample replay: 12.4 MS/s through the pipeline against 8.8 with 2^16; docs/benchmarks/realtime.md)."""


def run_rx(choice: RadioChoice, fmt: FrameFormat, seed: int | None, frames: int, duration_s: float | None,
           idle_timeout_s: float, record: Path | None = None, progress: bool = True,
           images: ImageDecoding | None = None, realtime: bool = False, monitor=None, overwrite: bool = False) -> dict:
    """Stream through the receive pipeline (testbed.pipeline) until the source ends or has been
    idle ``idle_timeout_s`` (or ``duration_s`` passed), decoding payloads as they complete;
    returns the report. ``realtime``: a recording is paced at its sample rate. ``monitor``: a
    testbed.monitor.MonitorState fed from the pipeline (never blocking it)."""
    from diffair.radio.sigmf_io import SigmfRecorder

    radio = open_radio(choice, "rx", fmt)
    receiver = OfdmReceiver(fmt)
    reference = link_test_payload(seed, frames, fmt) if seed is not None else None
    recorder = None
    bar = tqdm(desc="rx frames", unit="frame", disable=not progress)
    last = {}

    def on_frames(new: list[RxFrame]) -> None:
        if monitor is not None:
            monitor.on_frames(new)
        for frame in new:
            if recorder:
                recorder.annotate(frame.start, fmt.frame_len, "frame",
                                  f"payload {frame.header.payload_id} frame {frame.header.frame_index}")
        bar.update(len(new))
        bar.set_postfix({"snr_db": f"{new[-1].snr_db:.1f}", "cfo_hz": f"{new[-1].cfo_hz:.0f}", **last})

    def on_payload(summary: dict) -> None:
        psnr = [r["psnr_db"] for r in summary.get("receivers", {}).values() if isinstance(r, dict) and "psnr_db" in r]
        last["payloads"] = last.get("payloads", 0) + 1
        if psnr:
            last["psnr_db"] = f"{max(psnr):.2f}"

    try:
        if record is not None:
            recorder = SigmfRecorder(record, fmt.sample_rate_hz, choice.lo_hz, hardware=f"diffair rx ({choice.kind})",
                                     overwrite=overwrite)
        rate = fmt.sample_rate_hz if realtime else None
        block = FILE_BLOCK_SAMPLES if radio.finite and not realtime else LIVE_BLOCK_SAMPLES
        with RingReader(radio, block, realtime_rate_hz=rate,
                        on_read=_recorder_sink(recorder) if recorder else None) as ring:
            if monitor is not None:
                monitor.attach(receiver.stats, ring)
            pipeline = RxPipeline(ring, receiver, Reassembler(fmt),
                                  lambda payload, report: payload_summary(payload, reference, images, report.decode_ms),
                                  fmt.sample_rate_hz, on_frames=on_frames, on_payload=on_payload,
                                  on_samples=None if monitor is None else lambda block: monitor.on_samples(block.samples))
            done = pipeline.run(duration_s, idle_timeout_s)
    finally:
        bar.close()
        radio.close()
        if recorder:
            recorder.close()
    return rx_report(receiver.stats, done)


def rx_report(stats, done: PipelineReport) -> dict:
    """The rx report: the front end's counters, the pipeline's timing, losses and queues, the
    decode time per receiver and the payloads."""
    incomplete = [p for p in done.payloads if p["erased_symbols"]]
    return {
        "frames_ok": stats.frames_ok, "detections": stats.detections, "header_failures": stats.header_failures,
        "format_mismatches": stats.format_mismatches, "samples": stats.samples,
        "wall_s": done.wall_s, "air_s": done.air_s, "realtime_factor": done.realtime_factor,
        "frontend_s": done.frontend_s, "overflows": done.overflows, "gaps": done.gaps,
        "samples_lost": done.samples_lost, "frames_dropped_in_gaps": done.frames_dropped_in_gaps,
        "frames_with_erasures": 0, "payloads_with_erasures": len(incomplete),
        "queue_high_water": {"ring_blocks": done.ring_high_water, "decode_payloads": done.decode_queue_high_water},
        "decode_ms": {name: {"payloads": len(ms), "mean": float(np.mean(ms)), "p50": percentile_ms(ms, 50),
                             "p99": percentile_ms(ms, 99)} for name, ms in done.decode_ms.items()},
        "payload_latency_ms": {"p50": percentile_ms(done.payload_latency_ms, 50),
                               "p99": percentile_ms(done.payload_latency_ms, 99)},
        "memory_mb": done.memory_mb,
        "payloads": done.payloads,
    }


def write_report(report: dict, path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
