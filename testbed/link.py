"""``diffair link``: random unit-power complex Gaussian symbols (the stand-in for JSCC
symbols) through the PHY and the loopback radio, measured against the channel's truth.

The genie reference uses the same channel realizations with perfect synchronization and
perfect CSI (the true frequency response and noise variance); its EVM is the exact noise
expectation, sum_k |H_k|^2 s^2 / (|H_k|^2 + s^2)^2 / sum_k |H_k|^4 / (|H_k|^2 + s^2)^2, per
received frame, where s^2 is the per-subcarrier noise variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from diffair.dsp.frame import FrameFormat
from diffair.dsp.packetizer import packetize, payload_permutation
from diffair.dsp.receiver import OfdmReceiver, ReceiverConfig
from diffair.dsp.transmitter import build_frame, papr_db, scale_for_tx
from diffair.dsp.units import complex_gaussian
from diffair.radio.channel import BurstTruth, ChannelConfig
from diffair.radio.loopback import LoopbackRadio
from diffair.testbed.session import channel_for

RECEIVE_CHUNK = 65536
"""Samples per receive() call: frames regularly straddle chunk edges, as on a radio."""


@dataclass(frozen=True)
class LinkOptions:
    """One ``diffair link`` run."""

    snr_db: float = 15.0
    channel: str = "awgn"
    cfo_hz: float = 0.0
    sro_ppm: float = 0.0
    frames: int = 100
    seed: int = 0
    fft_size: int = 64
    estimator: str = "lmmse"
    sounding_symbols: int = 0


def link_formats(options: LinkOptions) -> tuple[FrameFormat, ChannelConfig]:
    """The frame format and loopback channel an options set describes."""
    fmt = FrameFormat.for_fft(options.fft_size, sounding_symbols=options.sounding_symbols)
    channel = channel_for(
        fmt, options.snr_db, fading="rayleigh" if options.channel == "rayleigh" else "none",
        rms_delay_samples=fmt.cp_len / 8, max_delay_samples=fmt.cp_len // 2, cfo_hz=options.cfo_hz,
        sro_ppm=options.sro_ppm, gap_samples=(fmt.fft_size, 20 * fmt.fft_size))
    return fmt, channel


def genie_evm_terms(truth: BurstTruth, fmt: FrameFormat) -> tuple[float, float]:
    """(sum of expected error power, sum of signal power) over the data carriers of one frame
    with perfect CSI; see the module docstring."""
    amplitude = np.sqrt(fmt.tx_power)
    k = fmt.data_carriers
    response = amplitude * np.exp(-2j * np.pi * np.outer(k, np.arange(len(truth.taps))) / fmt.fft_size) @ truth.taps
    power = np.abs(response) ** 2
    noise = truth.noise_var * len(fmt.used_carriers) / fmt.fft_size
    denom = (power + noise) ** 2
    return float(np.sum(power * noise / denom)), float(np.sum(power ** 2 / denom))


def run_link(options: LinkOptions, progress: bool = False, monitor=None) -> dict:
    """Send ``options.frames`` frames and return the summary dict (see ``diffair link --json``);
    ``monitor``: a testbed.monitor.MonitorState shown the stream and the frames."""
    fmt, channel = link_formats(options)
    rng = np.random.default_rng(options.seed)
    count = options.frames * fmt.payload_capacity
    symbols = complex_gaussian(rng, count)
    sent_order = symbols[payload_permutation(count)]
    radio = LoopbackRadio(channel, seed=options.seed + 1)
    receiver = OfdmReceiver(fmt, ReceiverConfig(estimator=options.estimator, record_candidates=True))
    paprs, clipped = [], 0
    per_frame: dict[int, tuple[float, float, float, float]] = {}  # frame index -> (err, sig, SNR dB, CFO Hz)
    if monitor is not None:
        monitor.attach(receiver.stats)

    def take(block: np.ndarray | None) -> None:
        """Receive a block (None: flush); keep each frame's EVM terms, not the frame (bounded memory)."""
        new = receiver.process(block) if block is not None else receiver.flush()
        if monitor is not None:
            if block is not None:
                monitor.on_samples(block)
            monitor.on_frames(new)
        for frame in new:
            if frame.header.payload_id != 1:
                continue
            start = frame.header.frame_index * fmt.payload_capacity
            x = sent_order[start:start + len(frame.y)]
            per_frame[frame.header.frame_index] = (float(np.sum(np.abs(frame.y - frame.gain * x) ** 2)),
                                                   float(np.sum(frame.gain ** 2 * np.abs(x) ** 2)),
                                                   frame.snr_db, frame.cfo_hz)

    with radio:
        for header, chunk in tqdm(packetize(symbols, payload_id=1, fmt=fmt), desc="tx", disable=not progress):
            iq, clips = scale_for_tx(build_frame(header, chunk, fmt), fmt)
            paprs.append(papr_db(iq))
            clipped += clips
            radio.send(iq)
            if radio.pending >= RECEIVE_CHUNK:  # receive as it goes: the air never holds the whole run
                take(radio.receive(RECEIVE_CHUNK))
        total = radio.pending + 4 * fmt.frame_len
        for start in tqdm(range(0, total, RECEIVE_CHUNK), desc="rx", disable=not progress):
            take(radio.receive(min(RECEIVE_CHUNK, total - start)))
        take(None)
    truth_starts = np.array([t.start for t in radio.truths])
    candidates = np.array(receiver.stats.candidates, dtype=np.int64).reshape(-1, 2)
    distance = np.abs(candidates[:, :1] - truth_starts[None, :]) if len(candidates) else np.zeros((0, 1))
    matched = distance.min(axis=1) <= fmt.fft_size // 2 if len(candidates) else np.zeros(0, bool)
    detected = np.unique(distance.argmin(axis=1)[matched]) if len(candidates) else np.zeros(0)
    err = sum(v[0] for v in per_frame.values())
    sig = sum(v[1] for v in per_frame.values())
    genie = [genie_evm_terms(radio.truths[index], fmt) for index in per_frame]
    genie_err, genie_sig = sum(e for e, _ in genie), sum(s for _, s in genie)
    cfo_errors = np.array([v[3] - options.cfo_hz for v in per_frame.values()])
    return {
        "frames_sent": options.frames,
        "frames_detected": int(len(detected)),
        "frames_header_ok": len(per_frame),
        "false_alarms": int(np.count_nonzero(~matched)),
        "header_failures": receiver.stats.header_failures,
        "snr_db_true": options.snr_db,
        "snr_db_est": float(np.mean([v[2] for v in per_frame.values()])) if per_frame else None,
        "cfo_hz_true": options.cfo_hz,
        "cfo_hz_est_rmse": float(np.sqrt(np.mean(cfo_errors ** 2))) if per_frame else None,
        "evm_db": 10 * np.log10(err / sig) if sig else None,
        "evm_db_genie": 10 * np.log10(genie_err / genie_sig) if genie_sig else None,
        "papr_db": float(np.mean(paprs)),
        "papr_db_max": float(np.max(paprs)),
        "clipped_samples": clipped,
        "channel": options.channel,
        "sro_ppm": options.sro_ppm,
        "fft_size": options.fft_size,
        "sounding_symbols": options.sounding_symbols,
        "estimator": options.estimator,
        "seed": options.seed,
    }
