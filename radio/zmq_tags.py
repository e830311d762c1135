"""GNU Radio gr-zeromq's optional tag header (``pass_tags=True``), version 1.

Layout (little-endian integers, the three PMTs big-endian as PMT serializes them)::

    u16 magic 0x5FF0 | u8 version 1 | u64 offset of the first item | u64 ntags |
    ntags x (u64 absolute offset, pmt key, pmt value, pmt srcid) | raw items

Only the PMT types tags use in practice are decoded: symbols, booleans, int32, int64,
uint64, doubles and complex doubles. See ../shared/notes/radio.md section 2.3-2.4.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from diffair.dsp.errors import RadioError

MAGIC = 0x5FF0
VERSION = 1
_HEAD = struct.Struct("<HBQQ")


class TagHeaderError(RadioError):
    """A message's tag header is malformed (bad magic or version, truncated, unknown PMT)."""


@dataclass(frozen=True)
class StreamTag:
    """One stream tag: absolute item offset, key, value, source id."""

    offset: int
    key: str
    value: object
    srcid: str = "diffair"


def _pmt_encode(value: object) -> bytes:
    if isinstance(value, bool):
        return b"\x00" if value else b"\x01"
    if isinstance(value, str):
        raw = value.encode()
        return b"\x02" + struct.pack(">H", len(raw)) + raw
    if isinstance(value, int):
        if -(1 << 31) <= value < (1 << 31):
            return b"\x03" + struct.pack(">i", value)
        return b"\x0d" + struct.pack(">q", value)
    if isinstance(value, float):
        return b"\x04" + struct.pack(">d", value)
    if isinstance(value, complex):
        return b"\x05" + struct.pack(">dd", value.real, value.imag)
    raise TagHeaderError(f"cannot serialize a tag value of type {type(value).__name__}")


_FIXED = {0x03: (">i", 4), 0x04: (">d", 8), 0x0b: (">Q", 8), 0x0d: (">q", 8)}


def _pmt_decode(data: bytes, pos: int) -> tuple[object, int]:
    if pos >= len(data):
        raise TagHeaderError("tag header truncated inside a PMT")
    kind = data[pos]
    pos += 1
    if kind in (0x00, 0x01):
        return kind == 0x00, pos
    if kind == 0x02:
        if pos + 2 > len(data):
            raise TagHeaderError("tag header truncated inside a symbol")
        (length,) = struct.unpack_from(">H", data, pos)
        if pos + 2 + length > len(data):
            raise TagHeaderError("tag header truncated inside a symbol")
        return data[pos + 2:pos + 2 + length].decode(errors="replace"), pos + 2 + length
    if kind in _FIXED:
        fmt, size = _FIXED[kind]
        if pos + size > len(data):
            raise TagHeaderError("tag header truncated inside a number")
        return struct.unpack_from(fmt, data, pos)[0], pos + size
    if kind == 0x05:
        if pos + 16 > len(data):
            raise TagHeaderError("tag header truncated inside a complex number")
        re, im = struct.unpack_from(">dd", data, pos)
        return complex(re, im), pos + 16
    raise TagHeaderError(f"unsupported PMT type 0x{kind:02x} in a tag")


def encode_header(offset: int, tags: list[StreamTag] = ()) -> bytes:
    """The header bytes that precede the items of one message."""
    parts = [_HEAD.pack(MAGIC, VERSION, offset, len(tags))]
    for tag in tags:
        parts += [struct.pack("<Q", tag.offset), _pmt_encode(tag.key), _pmt_encode(tag.value), _pmt_encode(tag.srcid)]
    return b"".join(parts)


def decode_header(message: bytes) -> tuple[int, list[StreamTag], int]:
    """Parse a message's header: (offset of its first item, tags, index where items start)."""
    if len(message) < _HEAD.size:
        raise TagHeaderError(f"message of {len(message)} bytes is shorter than a tag header ({_HEAD.size})")
    magic, version, offset, count = _HEAD.unpack_from(message, 0)
    if magic != MAGIC or version != VERSION:
        raise TagHeaderError(f"tag header magic 0x{magic:04x} version {version}; expected 0x{MAGIC:04x} version {VERSION}")
    if count > len(message):
        raise TagHeaderError(f"tag header claims {count} tags in a {len(message)}-byte message")
    pos, tags = _HEAD.size, []
    for _ in range(count):
        if pos + 8 > len(message):
            raise TagHeaderError("tag header truncated inside a tag offset")
        (tag_offset,) = struct.unpack_from("<Q", message, pos)
        key, pos = _pmt_decode(message, pos + 8)
        value, pos = _pmt_decode(message, pos)
        srcid, pos = _pmt_decode(message, pos)
        tags.append(StreamTag(tag_offset, str(key), value, str(srcid)))
    return offset, tags, pos
