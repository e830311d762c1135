"""Transmit and receive loops shared by ``diffair tx``/``rx`` and the interop tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from diffair.dsp.frame import FrameFormat
from diffair.dsp.header import PayloadKind
from diffair.dsp.packetizer import RxFrame, packetize
from diffair.dsp.receiver import OfdmReceiver
from diffair.dsp.transmitter import build_frame, build_sounding_frame, clip_to_full_scale, scale_for_tx
from diffair.radio.base import Radio
from diffair.radio.channel import ChannelConfig


def channel_for(fmt: FrameFormat, snr_db: float | None, **impairments) -> ChannelConfig:
    """The loopback channel for frames of ``fmt``: ``snr_db`` in-band (relative to the frames'
    power over their occupied band), at the format's sample rate, with ``impairments``
    (ChannelConfig fields) on top."""
    return ChannelConfig(snr_db=snr_db, signal_power=fmt.tx_power, bandwidth_fraction=fmt.bandwidth_fraction,
                         sample_rate_hz=fmt.sample_rate_hz, **impairments)


def frame_bursts(symbols: np.ndarray, payload_id: int, fmt: FrameFormat, gap_samples: int,
                 kind: int = PayloadKind.TEST_SYMBOLS) -> Iterator[np.ndarray]:
    """One burst per frame, each a frame preceded by ``gap_samples`` zeros (idle air), ready
    for ``radio.send``; the stream stays continuous for receivers that need it (ZMQ)."""
    gap = np.zeros(gap_samples, np.complex64)
    for header, chunk in packetize(symbols, payload_id, fmt, kind):
        yield np.concatenate([gap, scale_for_tx(build_frame(header, chunk, fmt), fmt)[0]])


def sounding_bursts(symbols: np.ndarray, fmt: FrameFormat) -> list[np.ndarray]:
    """A synchronous interferer's bursts (radio.interferer.SynchronousInterferer) carrying its
    payload ``symbols`` ``[L]``, one per frame of a wanted payload of the same length: the same
    interleaving, so its symbol i lands where the wanted symbol i does."""
    return [scale_for_tx(build_sounding_frame(chunk, fmt), fmt)[0] for _, chunk in packetize(symbols, 1, fmt)]


def interfered_bursts(symbols: np.ndarray, interferer_symbols: np.ndarray, sir_db: float, payload_id: int,
                      fmt: FrameFormat, gap_samples: int, kind: int = PayloadKind.JSCC_LATENT) -> Iterator[np.ndarray]:
    """Bursts of ``frame_bursts`` with a synchronous interferer's frames (``sounding_bursts``
    of ``interferer_symbols``, same length as ``symbols``) added at ``sir_db`` below them:
    co-channel interference injected at one transmitter, for a single radio (the two then
    share its channel). Clipped to full scale 1.0."""
    amplitude = np.float32(10 ** (-sir_db / 20))
    for burst, other in zip(frame_bursts(symbols, payload_id, fmt, gap_samples, kind),
                            sounding_bursts(interferer_symbols, fmt)):
        burst = burst.copy()
        burst[gap_samples:] += amplitude * other
        yield clip_to_full_scale(burst)[0]


def receive_frames(radio: Radio, receiver: OfdmReceiver, chunk: int = 65536, idle_timeout_s: float = 2.0,
                   max_samples: int | None = None, on_frames: Callable[[list[RxFrame]], None] | None = None
                   ) -> list[RxFrame]:
    """Stream from ``radio`` into ``receiver`` until it goes quiet (a read returns nothing
    within ``idle_timeout_s``) or ``max_samples`` were read; returns the decoded frames."""
    frames: list[RxFrame] = []
    total = 0
    while max_samples is None or total < max_samples:
        block = radio.receive(chunk if max_samples is None else min(chunk, max_samples - total), idle_timeout_s)
        if len(block) == 0:
            break
        total += len(block)
        new = receiver.process(block)
        if new and on_frames:
            on_frames(new)
        frames += new
    tail = receiver.flush()
    if tail and on_frames:
        on_frames(tail)
    return frames + tail
