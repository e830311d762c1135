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
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dsp.errors import ConfigError
from dsp.frame import FrameFormat
from dsp.header import PayloadKind
from dsp.packetizer import Reassembler, RxFrame, RxPayload
from dsp.receiver import OfdmReceiver
from radio.base import Radio
from radio.ring import RingReader
from testbed.session import frame_bursts, interfered_bursts


def link_test_payload(seed: int, frames: int, fmt: FrameFormat) -> np.ndarray:
    """The link test payload both sides agree on: ``frames`` full frames of CN(0, 1) symbols."""
    rng = np.random.default_rng(seed)
    count = frames * fmt.payload_capacity
    return ((rng.normal(size=count) + 1j * rng.normal(size=count)) / np.sqrt(2)).astype(np.complex64)


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


def open_radio(choice: RadioChoice, side: str, fmt: FrameFormat) -> Radio:
    """Open the radio for ``side`` ("tx" or "rx")."""
    if choice.kind == "zmq":
        from radio.zmq_radio import ZmqConfig, ZmqRadio

        default = {"tx": "tcp://127.0.0.1:5555", "rx": "tcp://127.0.0.1:5556"}[side]
        address = choice.address or default
        config = ZmqConfig(tx_address=address if side == "tx" else None,
                           rx_address=address if side == "rx" else None, timeout_s=5.0)
        return ZmqRadio(config).open()
    if choice.kind == "pluto":
        from radio.pluto import PlutoConfig, PlutoRadio

        return PlutoRadio(PlutoConfig(uri=choice.uri, lo_hz=choice.lo_hz, sample_rate_hz=choice.sample_rate_hz,
                                      rx_gain_db=choice.rx_gain_db, cyclic=choice.cyclic)).open()
    if choice.kind == "sigmf":
        from radio.sigmf_io import SigmfRadio

        if choice.path is None:
            raise ConfigError("--radio sigmf needs --input PATH (a .sigmf-meta recording)")
        return SigmfRadio(choice.path).open()
    raise ConfigError(f"--radio {choice.kind!r} is not available for {side}")


TRANSMITTERS = ("jscc", "djscc")
"""What ``tx --image`` can send: deep-JSCC symbols (decoded by jscc and cddm) or Guo et al.'s."""
ICDM_TRANSMITTERS = ("icdm-signal", "icdm-interferer")
"""The two codecs of ICDM's scenario (models.registry), used by ``tx --interferer-image``."""


def image_payload(image: np.ndarray, channel: str, weights: Path | None = None, transmitter: str = "jscc"
                  ) -> tuple[np.ndarray, int]:
    """An image's symbols (complex64 ``[K]``) from the shipped ``transmitter`` for ``channel``
    ("icdm-signal" / "icdm-interferer": the two codecs of ICDM's scenario), and their PayloadKind."""
    import torch

    from models.data import to_tensor_batch
    from models.registry import WEIGHTS_DIR, build_receiver, load_codec, load_icdm_codecs
    from models.symbols import latent_to_symbols
    from testbed.loopback import check_image

    if transmitter not in TRANSMITTERS + ICDM_TRANSMITTERS:
        raise ConfigError(f"--transmitter {transmitter!r}; expected one of {', '.join(TRANSMITTERS)}")
    x = to_tensor_batch(check_image(image, "to send")[None])
    weights = weights or WEIGHTS_DIR
    with torch.no_grad():
        if transmitter == "djscc":
            if x.shape[-1] % 8 or x.shape[-2] % 8:
                raise ConfigError(f"--transmitter djscc needs image sides that are multiples of 8, got "
                                  f"{x.shape[-1]} x {x.shape[-2]}")
            sent, _ = build_receiver("djscc", channel, weights_dir=weights).encode(x)
            return latent_to_symbols(sent)[0].numpy(), PayloadKind.DJSCC_LATENT
        if transmitter in ICDM_TRANSMITTERS:
            codec = load_icdm_codecs(weights)[ICDM_TRANSMITTERS.index(transmitter)]
        else:
            codec = load_codec(channel, weights)
        return latent_to_symbols(codec.encoder(x))[0].numpy(), PayloadKind.JSCC_LATENT


def run_tx(choice: RadioChoice, fmt: FrameFormat, seed: int, frames: int, repeat: int, gap_samples: int,
           record: Path | None = None, snr_db: float = 20.0, cfo_hz: float = 0.0,
           image: np.ndarray | None = None, channel: str = "awgn", transmitter: str = "jscc",
           interferer: np.ndarray | None = None, sir_db: float = 0.0) -> dict:
    """Send the payload ``repeat`` times (payload id = repeat index + 1): the seeded test
    payload, or ``image`` as the symbols of ``transmitter`` (deep JSCC or Guo et al.'s), or,
    with an ``interferer`` image and a format with sounding symbols, ICDM's scenario (both
    images through their codecs, the interferer ``sir_db`` below). With ``--radio loopback``
    the air goes to a SigMF recording instead of a radio."""
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
        from testbed.loopback import resized_like

        symbols, kind = image_payload(image, channel, transmitter="icdm-signal")
        other, _ = image_payload(resized_like(interferer, image.shape), channel, transmitter="icdm-interferer")

    def bursts(payload_id: int):
        if interferer is None:
            return frame_bursts(symbols, payload_id, fmt, gap_samples, kind)
        return interfered_bursts(symbols, other, sir_db, payload_id, fmt, gap_samples, kind)

    if choice.kind == "loopback":
        return _tx_to_recording(bursts, fmt, repeat, record, snr_db, cfo_hz, seed)
    radio = open_radio(choice, "tx", fmt)
    sent = 0
    started = time.time()
    try:
        if choice.cyclic:
            radio.send(np.concatenate(list(bursts(1))))
            sent = -(-len(symbols) // fmt.payload_capacity)
        else:
            for rep in tqdm(range(repeat), desc="tx payloads"):
                for burst in bursts(rep + 1):
                    radio.send(burst)
                    sent += 1
            radio.send(np.zeros(4 * fmt.frame_len, np.complex64))  # flush the last frame through
    finally:
        radio.close()
    return {"frames_sent": sent, "payloads": 1 if choice.cyclic else repeat, "seconds": time.time() - started}


def _tx_to_recording(bursts, fmt, repeat, record, snr_db, cfo_hz, seed) -> dict:
    from radio.channel import ChannelConfig
    from radio.loopback import LoopbackRadio
    from radio.sigmf_io import SigmfRecorder

    if record is None:
        raise ConfigError("tx --radio loopback writes the air to a SigMF recording: give --record PATH")
    channel = ChannelConfig(snr_db=snr_db, signal_power=10 ** (-fmt.backoff_db / 10),
                            bandwidth_fraction=fmt.bandwidth_fraction, cfo_hz=cfo_hz,
                            sample_rate_hz=fmt.sample_rate_hz)
    sent = 0
    with LoopbackRadio(channel, seed=seed) as air, SigmfRecorder(record, fmt.sample_rate_hz,
                                                                 hardware="diffair loopback") as recorder:
        for rep in range(repeat):
            for burst in bursts(rep + 1):
                air.send(burst)
                sent += 1
            recorder.write(air.receive(air.pending))
        recorder.write(air.receive(4 * fmt.frame_len))
    return {"frames_sent": sent, "payloads": repeat, "recording": str(recorder.meta_path)}


@dataclass
class RxReport:
    """What ``diffair rx`` saw."""

    frames_ok: int = 0
    detections: int = 0
    header_failures: int = 0
    format_mismatches: int = 0
    overflows: int = 0
    samples: int = 0
    payloads: list[dict] | None = None


def payload_kind_of(receiver) -> int:
    """The PayloadKind a receiver (or a RunnerReceiver around one) decodes: Guo et al.'s has
    its own transmitter, every other one takes deep-JSCC symbols."""
    model = getattr(receiver, "receiver", receiver)
    return PayloadKind.DJSCC_LATENT if hasattr(model, "encode") else PayloadKind.JSCC_LATENT


@dataclass
class ImageDecoding:
    """How ``rx`` turns image payloads into images: the receivers, the image size (height,
    width), the deep-JSCC latent channels, the reference image for PSNR (optional) and where
    decoded PNGs go. Each payload goes to the receivers of its kind (its header says which
    transmitter sent it)."""

    receivers: dict
    size: tuple[int, int]
    channels: int = 16
    reference: np.ndarray | None = None
    out: Path | None = None

    def _latent_shape(self, kind: int, receiver) -> tuple[int, int, int]:
        h, w = self.size
        if kind == PayloadKind.DJSCC_LATENT:
            return getattr(receiver, "receiver", receiver).link.config.symbol_channels, h // 8, w // 8
        return self.channels, h // 4, w // 4

    def decode(self, payload: RxPayload) -> dict:
        import torch
        from PIL import Image

        from models.channels import EqualizedSymbols
        from models.interference import InterferedObservation, InterferedSymbols
        from models.receivers import LatentObservation
        from testbed.loopback import sinr_of
        from testbed.metrics import psnr_db, ssim

        members = {n: r for n, r in self.receivers.items() if payload_kind_of(r) == payload.kind}
        if not members:
            return {"error": f"no receiver asked for decodes payload kind {PayloadKind(payload.kind).name} "
                             f"(asked for: {', '.join(self.receivers)})"}
        h, w = self.size
        shape = self._latent_shape(payload.kind, next(iter(members.values())))
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
                    image = receiver(obs)[0][0].clamp(0, 1).permute(1, 2, 0).numpy()
                entry = {"backend": receiver.backend, "provider": receiver.provider}
                notes = sorted({str(w.message) for w in caught if issubclass(w.category, UserWarning)})
                if notes:
                    entry["warnings"] = notes
                if self.reference is not None:
                    entry |= {"psnr_db": psnr_db(self.reference / 255.0, image),
                              "ssim": ssim(self.reference / 255.0, image)}
                if self.out is not None:
                    self.out.mkdir(parents=True, exist_ok=True)
                    Image.fromarray((image * 255).round().astype(np.uint8)).save(
                        self.out / f"payload{payload.payload_id}_{name}.png")
                results[name] = entry
        return results


def _payload_summary(payload: RxPayload, reference: np.ndarray | None, images: ImageDecoding | None = None) -> dict:
    summary = {"payload_id": payload.payload_id, "frames_received": payload.frames_received,
               "frames_expected": payload.frames_expected, "complete": payload.complete,
               "snr_db": payload.snr_db, "cfo_hz": payload.cfo_hz,
               "erased_symbols": int(payload.erased.sum())}
    if payload.sir_db is not None:
        summary["sir_db"] = payload.sir_db
    if payload.kind in (PayloadKind.JSCC_LATENT, PayloadKind.DJSCC_LATENT) and images is not None:
        summary["receivers"] = images.decode(payload)
    elif reference is not None and len(reference) == len(payload.y):
        keep = ~payload.erased
        err = np.sum(np.abs(payload.y[keep] - payload.gain[keep] * reference[keep]) ** 2)
        sig = np.sum(payload.gain[keep] ** 2 * np.abs(reference[keep]) ** 2)
        summary["evm_db"] = float(10 * np.log10(err / sig)) if sig > 0 else None
    return summary


def run_rx(choice: RadioChoice, fmt: FrameFormat, seed: int | None, frames: int, duration_s: float | None,
           idle_timeout_s: float, record: Path | None = None, progress: bool = True,
           images: ImageDecoding | None = None) -> dict:
    """Stream until the radio has been idle ``idle_timeout_s`` (or ``duration_s`` passed),
    decoding payloads as they complete; returns the report."""
    radio = open_radio(choice, "rx", fmt)
    receiver, reassembler = OfdmReceiver(fmt), Reassembler(fmt)
    reference = link_test_payload(seed, frames, fmt) if seed is not None else None
    report = RxReport(payloads=[])
    recorder = None
    if record is not None:
        from radio.sigmf_io import SigmfRecorder

        recorder = SigmfRecorder(record, fmt.sample_rate_hz, choice.lo_hz, hardware=f"diffair rx ({choice.kind})")
    bar = tqdm(desc="rx frames", unit="frame", disable=not progress)
    started = time.monotonic()

    def take(new: list[RxFrame]) -> None:
        for frame in new:
            if recorder:
                recorder.annotate(frame.start, fmt.frame_len, "frame",
                                  f"payload {frame.header.payload_id} frame {frame.header.frame_index}")
            done = reassembler.add(frame)
            if done:
                report.payloads.append(_payload_summary(done, reference, images))
        if new:
            bar.update(len(new))
            live = {"snr_db": f"{new[-1].snr_db:.1f}", "cfo_hz": f"{new[-1].cfo_hz:.0f}",
                    "payloads": len(report.payloads)}
            psnr = [r["psnr_db"] for r in (report.payloads[-1].get("receivers", {}) if report.payloads else {}).values()
                    if isinstance(r, dict) and "psnr_db" in r]
            if psnr:
                live["psnr_db"] = f"{max(psnr):.2f}"
            bar.set_postfix(live)

    with RingReader(radio) as ring:
        while duration_s is None or time.monotonic() - started < duration_s:
            block = ring.get(idle_timeout_s)
            if block is None:
                break
            if recorder:
                recorder.write(block)
            take(receiver.process(block))
        take(receiver.flush())
        report.overflows = ring.overflows
    bar.close()
    radio.close()
    for payload in reassembler.flush():
        report.payloads.append(_payload_summary(payload, reference, images))
    if recorder:
        recorder.close()
    stats = receiver.stats
    report.frames_ok, report.detections = stats.frames_ok, stats.detections
    report.header_failures, report.samples = stats.header_failures, stats.samples
    report.format_mismatches = stats.format_mismatches
    return report.__dict__


def write_report(report: dict, path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
