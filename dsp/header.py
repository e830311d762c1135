"""The frame header: 80 information bits + CRC-32, K = 7 convolutional code, BPSK.

Fields (bits): payload_id 16, frame_index 16, frame_count 16, payload_symbols 24, kind 5,
sounding 3 (the transmitter's ``FrameFormat.sounding_symbols``: the receiver drops a frame laid
out differently from its own format instead of reading its data from the wrong symbols).
The 236 coded bits (+4 zero pad = 240) are block-interleaved and repeated cyclically over
all header data slots (``header_symbols x N_data``), so larger FFTs get extra diversity.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

from diffair.dsp.coding import conv_encode, crc32_bits, hard_decode, interleaver, viterbi_decode
from diffair.dsp.errors import SignalError
from diffair.dsp.frame import HEADER_CODED_BITS, FrameFormat

FIELD_BITS = {"payload_id": 16, "frame_index": 16, "frame_count": 16, "payload_symbols": 24, "kind": 5,
              "sounding": 3}
INFO_BITS = sum(FIELD_BITS.values())


class PayloadKind(IntEnum):
    """What the payload symbols are, so a receiver can refuse what it cannot decode."""

    TEST_SYMBOLS = 0
    JSCC_LATENT = 1
    DJSCC_LATENT = 2  # Guo et al.'s diffusion JSCC: its own transmitter (downsampler)


@dataclass(frozen=True)
class FrameHeader:
    """One frame's header; every field is range-checked against its bit width."""

    payload_id: int
    frame_index: int
    frame_count: int
    payload_symbols: int
    kind: int = PayloadKind.TEST_SYMBOLS
    sounding: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value, width = getattr(self, f.name), FIELD_BITS[f.name]
            if not 0 <= int(value) < (1 << width):
                raise SignalError(f"header field {f.name} = {value} does not fit {width} bits")
        if not self.frame_index < self.frame_count:
            raise SignalError(f"frame_index {self.frame_index} must be below frame_count {self.frame_count}")

    def to_bits(self) -> np.ndarray:
        """The 80 information bits, MSB first, uint8."""
        parts = [np.unpackbits(np.array([getattr(self, name)], ">u4").view(np.uint8))[-width:]
                 for name, width in FIELD_BITS.items()]
        return np.concatenate(parts).astype(np.uint8)


def header_permutation(fmt: FrameFormat) -> np.ndarray:
    """Slot -> coded-bit index map ``[header_symbols * N_data]`` (interleave, then repeat)."""
    slots = fmt.header_symbols * len(fmt.data_carriers)
    order = interleaver(HEADER_CODED_BITS, len(fmt.data_carriers) // 4 or 1)
    return order[np.arange(slots) % HEADER_CODED_BITS]


def encode_header(header: FrameHeader, fmt: FrameFormat) -> np.ndarray:
    """BPSK header values, float32 ``[header_symbols, N_data]``."""
    info = header.to_bits()
    coded = conv_encode(np.concatenate([info, crc32_bits(info)]))
    coded = np.concatenate([coded, np.zeros(HEADER_CODED_BITS - len(coded), np.uint8)])
    bpsk = 1.0 - 2.0 * coded[header_permutation(fmt)].astype(np.float32)
    return bpsk.reshape(fmt.header_symbols, len(fmt.data_carriers))


def _crc_ok(bits: np.ndarray) -> np.ndarray:
    """Whether each decoded row ``[F, INFO_BITS + 32]`` carries a matching CRC-32 -> bool ``[F]``."""
    info_bytes = np.packbits(bits[:, :INFO_BITS], axis=1)
    received = np.packbits(bits[:, INFO_BITS:INFO_BITS + 32], axis=1).view(">u4")[:, 0]
    return np.array([zlib.crc32(row.tobytes()) == crc for row, crc in zip(info_bytes, received)], bool)


def decode_headers(llr: np.ndarray, fmt: FrameFormat) -> list[FrameHeader | None]:
    """Decode a batch of header LLR grids ``[F, header_symbols, N_data]``; None where the CRC
    fails or a field is out of range."""
    frames = llr.shape[0]
    coded = np.zeros((frames, HEADER_CODED_BITS), np.float32)
    np.add.at(coded, (slice(None), header_permutation(fmt)), llr.reshape(frames, -1))
    codeword_len = 2 * (INFO_BITS + 32 + 6)
    bits = hard_decode(coded[:, :codeword_len])
    retry = ~_crc_ok(bits)
    if np.any(retry):  # noisy codewords: soft Viterbi
        bits[retry] = viterbi_decode(coded[retry, :codeword_len])
    crc_ok = _crc_ok(bits)
    values, pos = {}, 0
    for name, width in FIELD_BITS.items():
        values[name] = bits[:, pos:pos + width].astype(np.int64) @ (1 << np.arange(width - 1, -1, -1))
        pos += width
    headers: list[FrameHeader | None] = []
    for i in range(frames):
        if not crc_ok[i]:
            headers.append(None)
            continue
        try:
            headers.append(FrameHeader(**{name: int(v[i]) for name, v in values.items()}))
        except SignalError:
            headers.append(None)
    return headers
