"""ZmqRadio: samples to and from GNU Radio 3.10's gr-zeromq blocks.

Wire format: raw complex64 items (little-endian float32 I, Q), message boundaries that
never align with frames, optionally preceded by the tag header (``pass_tags``). Roles
follow GNU Radio 3.10.5, whose stream sinks always bind and sources always connect: by
default diffair's receive side connects (to a ``push_sink``/``pub_sink``) and its transmit
side binds (for a ``pull_source``/``sub_source``). Nothing binds beyond 127.0.0.1 unless
``allow_remote`` is set. Every socket has a high-water mark and every wait a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

import numpy as np

from diffair.dsp.errors import ConfigError, RadioError
from diffair.radio.base import Radio, check_tx_samples
from diffair.radio.zmq_tags import StreamTag, TagHeaderError, decode_header, encode_header

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
ITEM_BYTES = 8


@dataclass(frozen=True)
class ZmqConfig:
    """rx_address / tx_address: ZMQ endpoints (None disables that side); pattern "pushpull"
    (lossless, default) or "pubsub"; pass_tags must match the GNU Radio blocks; hwm in
    messages; timeout_s bounds every wait; message_samples is the largest message sent."""

    rx_address: str | None = "tcp://127.0.0.1:5556"
    tx_address: str | None = "tcp://127.0.0.1:5555"
    pattern: str = "pushpull"
    pass_tags: bool = False
    rx_bind: bool = False
    tx_bind: bool = True
    hwm: int = 64
    timeout_s: float = 1.0
    message_samples: int = 8192
    allow_remote: bool = False

    def __post_init__(self) -> None:
        if self.pattern not in ("pushpull", "pubsub"):
            raise ConfigError(f"ZmqConfig.pattern = {self.pattern!r}, expected 'pushpull' or 'pubsub'")
        if not 1 <= self.hwm <= 100_000:
            raise ConfigError(f"ZmqConfig.hwm = {self.hwm} is outside [1, 100000] messages")
        if not 0 < self.timeout_s <= 3600:
            raise ConfigError(f"ZmqConfig.timeout_s = {self.timeout_s} is outside (0, 3600] s")
        if not 1 <= self.message_samples <= 1 << 22:
            raise ConfigError(f"ZmqConfig.message_samples = {self.message_samples} is outside [1, 4194304]")
        for name, address, bind in (("rx_address", self.rx_address, self.rx_bind),
                                    ("tx_address", self.tx_address, self.tx_bind)):
            if address is None:
                continue
            parsed = urlparse(address)
            if parsed.scheme not in ("tcp", "ipc", "inproc"):
                raise ConfigError(f"ZmqConfig.{name} = {address!r}; expected tcp://host:port, ipc:// or inproc://")
            if parsed.scheme == "tcp":
                host = address[len("tcp://"):].rsplit(":", 1)[0]
                if bind and host not in LOCAL_HOSTS and not self.allow_remote:
                    raise ConfigError(f"ZmqConfig.{name} = {address!r} would bind beyond 127.0.0.1; "
                                      "set allow_remote to do that on purpose")


@dataclass
class ZmqStats:
    """What the radio saw: messages and samples in/out, and what it dropped and why."""

    rx_messages: int = 0
    rx_samples: int = 0
    tx_messages: int = 0
    tx_samples: int = 0
    odd_length_drops: int = 0
    bad_header_drops: int = 0
    rx_timeouts: int = 0
    gaps: int = 0
    tags: list[StreamTag] = field(default_factory=list)


class ZmqRadio(Radio):
    """A radio whose air is a ZMQ link to a GNU Radio flowgraph (or another ZmqRadio)."""

    def __init__(self, config: ZmqConfig | None = None):
        super().__init__()
        self.config = config or ZmqConfig()
        self.stats = ZmqStats()
        self._pending: list[np.ndarray] = []
        self._pending_count = 0
        self._tx_offset = 0
        self._rx_next_offset: int | None = None
        self._held: tuple[int, np.ndarray] | None = None  # (samples lost, the samples after the loss)
        self._ctx = self._rx = self._tx = None

    def open(self) -> "ZmqRadio":
        import zmq

        cfg = self.config
        self._ctx = zmq.Context()
        push, pull = (zmq.PUSH, zmq.PULL) if cfg.pattern == "pushpull" else (zmq.PUB, zmq.SUB)
        try:
            if cfg.rx_address:
                self._rx = self._socket(pull, cfg.rx_address, cfg.rx_bind, zmq.RCVHWM)
                if pull == zmq.SUB:
                    self._rx.setsockopt(zmq.SUBSCRIBE, b"")
            if cfg.tx_address:
                self._tx = self._socket(push, cfg.tx_address, cfg.tx_bind, zmq.SNDHWM)
        except zmq.ZMQError as err:
            self.close()
            raise RadioError(f"cannot open ZMQ endpoint: {err} (is another process bound to it?)") from err
        return super().open()

    def _socket(self, kind, address: str, bind: bool, hwm_option):
        import zmq

        sock = self._ctx.socket(kind)
        sock.setsockopt(hwm_option, self.config.hwm)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            (sock.bind if bind else sock.connect)(address)
        except zmq.ZMQError:
            sock.close(linger=0)  # an unclosed socket would make the context's term() wait forever
            raise
        return sock

    def close(self) -> None:
        """Close; samples still queued for sending get up to ``timeout_s`` to leave."""
        if self._rx is not None:
            self._rx.close(linger=0)
        if self._tx is not None:
            self._tx.close(linger=int(self.config.timeout_s * 1000))
        if self._ctx is not None:
            self._ctx.term()
        self._ctx = self._rx = self._tx = None
        super().close()

    # ---- transmit ------------------------------------------------------------------------

    def send(self, iq: np.ndarray) -> None:
        """Send a burst as one or more messages; raises RadioError if no peer takes them in time."""
        import zmq

        self._require_open()
        if self._tx is None:
            raise RadioError("this ZmqRadio has no tx_address; configure one to transmit")
        iq = check_tx_samples(iq)
        step = self.config.message_samples
        for start in range(0, len(iq), step):
            part = iq[start:start + step]
            payload = part.tobytes()
            if self.config.pass_tags:
                tags = [StreamTag(self._tx_offset, "burst_start", len(iq))] if start == 0 else []
                payload = encode_header(self._tx_offset, tags) + payload
            if not self._tx.poll(int(self.config.timeout_s * 1000), zmq.POLLOUT):
                raise RadioError(f"no receiver took samples on {self.config.tx_address} within "
                                 f"{self.config.timeout_s} s: start the peer (e.g. the GNU Radio flowgraph) first")
            self._tx.send(payload, zmq.NOBLOCK)
            self._tx_offset += len(part)
            self.stats.tx_messages += 1
            self.stats.tx_samples += len(part)

    # ---- receive -------------------------------------------------------------------------

    def receive(self, num_samples: int, timeout: float | None = None) -> np.ndarray:
        """Up to ``num_samples`` samples; fewer (maybe none) when ``timeout`` (default the
        config's) passes without data, e.g. when the peer has gone. Malformed messages are
        dropped and counted in ``stats``."""
        import time

        self._require_open()
        if self._rx is None:
            raise RadioError("this ZmqRadio has no rx_address; configure one to receive")
        deadline = time.monotonic() + (self.config.timeout_s if timeout is None else timeout)
        self._release_held()
        while self._pending_count < num_samples and self._held is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._rx.poll(max(int(remaining * 1000), 1)):
                self.stats.rx_timeouts += 1
                break
            self._accept(self._rx.recv(copy=True))
        return self._take(num_samples)

    def _accept(self, message: bytes) -> None:
        start = offset = 0
        if self.config.pass_tags:
            try:
                offset, tags, start = decode_header(message)
            except TagHeaderError:
                self.stats.bad_header_drops += 1
                return
            self.stats.tags.extend(tags)
            del self.stats.tags[:-1000]
        body = memoryview(message)[start:]
        if len(body) % ITEM_BYTES:
            self.stats.odd_length_drops += 1
            return
        samples = np.frombuffer(body, np.complex64).copy()
        self.stats.rx_messages += 1
        self.stats.rx_samples += len(samples)
        if self.config.pass_tags:
            # the sender's sample counter: a jump forward is samples lost on the way (a jump back
            # is a sender that restarted, not a loss)
            lost = 0 if self._rx_next_offset is None else offset - self._rx_next_offset
            self._rx_next_offset = offset + len(samples)
            if lost > 0:
                self._held = (lost, samples)  # delivered after what came before the loss
                self._release_held()
                return
        self._pending.append(samples)
        self._pending_count += len(samples)

    def _release_held(self) -> None:
        """Once the samples before a loss are taken, count the loss and queue what followed it."""
        if self._held is None or self._pending_count:
            return
        lost, samples = self._held
        self._held = None
        self.lost_samples += lost
        self.stats.gaps += 1
        self._pending, self._pending_count = [samples], len(samples)

    def _take(self, count: int) -> np.ndarray:
        joined = np.concatenate(self._pending) if self._pending else np.zeros(0, np.complex64)
        out, rest = joined[:count], joined[count:]
        self._pending = [rest] if len(rest) else []
        self._pending_count = len(rest)
        return out
