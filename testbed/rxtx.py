"""``diffair tx`` and ``diffair rx``: one process per side of a real (or emulated) link.

Until the trained receivers land (issue 3) the payload is the link test payload: seeded
unit-power complex Gaussian symbols, which ``rx`` regenerates from the same seed to report
the EVM of every decoded payload.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dsp.errors import ConfigError
from dsp.frame import FrameFormat
from dsp.packetizer import Reassembler, RxFrame, RxPayload
from dsp.receiver import OfdmReceiver
from radio.base import Radio
from radio.ring import RingReader
from testbed.session import frame_bursts


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


def run_tx(choice: RadioChoice, fmt: FrameFormat, seed: int, frames: int, repeat: int, gap_samples: int,
           record: Path | None = None, snr_db: float = 20.0, cfo_hz: float = 0.0) -> dict:
    """Send the test payload ``repeat`` times (payload id = repeat index + 1); with
    ``--radio loopback`` the air goes to a SigMF recording instead of a radio."""
    symbols = link_test_payload(seed, frames, fmt)
    if choice.kind == "loopback":
        return _tx_to_recording(symbols, fmt, repeat, gap_samples, record, snr_db, cfo_hz, seed)
    radio = open_radio(choice, "tx", fmt)
    sent = 0
    started = time.time()
    try:
        if choice.cyclic:
            radio.send(np.concatenate(list(frame_bursts(symbols, 1, fmt, gap_samples))))
            sent = -(-len(symbols) // fmt.payload_capacity)
        else:
            for rep in tqdm(range(repeat), desc="tx payloads"):
                for burst in frame_bursts(symbols, rep + 1, fmt, gap_samples):
                    radio.send(burst)
                    sent += 1
            radio.send(np.zeros(4 * fmt.frame_len, np.complex64))  # flush the last frame through
    finally:
        radio.close()
    return {"frames_sent": sent, "payloads": 1 if choice.cyclic else repeat, "seconds": time.time() - started}


def _tx_to_recording(symbols, fmt, repeat, gap_samples, record, snr_db, cfo_hz, seed) -> dict:
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
            for burst in frame_bursts(symbols, rep + 1, fmt, gap_samples):
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
    overflows: int = 0
    samples: int = 0
    payloads: list[dict] | None = None


def _payload_summary(payload: RxPayload, reference: np.ndarray | None) -> dict:
    summary = {"payload_id": payload.payload_id, "frames_received": payload.frames_received,
               "frames_expected": payload.frames_expected, "complete": payload.complete,
               "snr_db": payload.snr_db, "cfo_hz": payload.cfo_hz,
               "erased_symbols": int(payload.erased.sum())}
    if reference is not None and len(reference) == len(payload.y):
        keep = ~payload.erased
        err = np.sum(np.abs(payload.y[keep] - payload.gain[keep] * reference[keep]) ** 2)
        sig = np.sum(payload.gain[keep] ** 2 * np.abs(reference[keep]) ** 2)
        summary["evm_db"] = float(10 * np.log10(err / sig)) if sig > 0 else None
    return summary


def run_rx(choice: RadioChoice, fmt: FrameFormat, seed: int | None, frames: int, duration_s: float | None,
           idle_timeout_s: float, record: Path | None = None, progress: bool = True) -> dict:
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
                report.payloads.append(_payload_summary(done, reference))
        if new:
            bar.update(len(new))
            bar.set_postfix(snr_db=f"{new[-1].snr_db:.1f}", cfo_hz=f"{new[-1].cfo_hz:.0f}",
                            payloads=len(report.payloads))

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
        report.payloads.append(_payload_summary(payload, reference))
    if recorder:
        recorder.close()
    stats = receiver.stats
    report.frames_ok, report.detections = stats.frames_ok, stats.detections
    report.header_failures, report.samples = stats.header_failures, stats.samples
    return report.__dict__


def write_report(report: dict, path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
