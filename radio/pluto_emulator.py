"""An emulated PlutoSDR: a small server speaking libiio 0.x's network protocol (iiod).

Real pyadi-iio and libiio (and GNU Radio's gr-iio) connect to it as to a Pluto at
``ip:127.0.0.1:PORT``. Every attribute pyadi-iio's ``adi.Pluto`` touches is kept, validated
against the Pluto's ranges and read back; transmit buffers (int16, full scale 2^15) pass
through a LoopbackChannel into the receive stream (12-bit, +/-2048), cyclic buffers repeat,
and (``realtime``) the receive stream runs at the configured sample rate, as a device's does.
Binds 127.0.0.1 only, unless told otherwise.

Protocol (text, one command per line, answers are integers then payload), as iiod 0.24:
PRINT, VERSION, TIMEOUT, OPEN, CLOSE, READ, WRITE, READBUF, WRITEBUF, SETTRIG, GETTRIG, EXIT.
"""

from __future__ import annotations

import dataclasses
import errno
import socketserver
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from diffair.radio import pluto_ranges as ranges
from diffair.radio.channel import ChannelConfig, LoopbackChannel

PHY, TX_DEV, RX_DEV = "iio:device0", "iio:device1", "iio:device2"
NAMES = {PHY: "ad9361-phy", TX_DEV: "cf-ad9361-dds-core-lpc", RX_DEV: "cf-ad9361-lpc"}
TX_FULL_SCALE = 32768.0
RX_FULL_SCALE = 2048.0

RATES = "BBPLL:983040000 ADC:245760000 R2:122880000 R1:61440000 RF:30720000 RXSAMP:30720000"
TX_RATES = "BBPLL:983040000 DAC:122880000 T2:61440000 T1:30720000 TF:30720000 TXSAMP:30720000"


def _int_range(low: float, high: float):
    return lambda v: low <= float(v) <= high


def _choice(*options: str):
    return lambda v: v in options


# (device, direction, channel or None, attribute) -> (default, validator or None)
ATTRIBUTES: dict[tuple, tuple[str, object]] = {
    (PHY, "in", "voltage0", "hardwaregain"): ("30.000000 dB", _int_range(*ranges.RX_GAIN_DB)),
    (PHY, "in", "voltage0", "gain_control_mode"): ("slow_attack", _choice("manual", "slow_attack", "fast_attack", "hybrid")),
    (PHY, "in", "voltage0", "gain_control_mode_available"): ("manual fast_attack slow_attack hybrid", None),
    (PHY, "in", "voltage0", "hardwaregain_available"): ("[-3 1 71]", None),
    (PHY, "in", "voltage0", "rf_bandwidth"): ("18000000", _int_range(*ranges.RX_BANDWIDTH_HZ)),
    (PHY, "in", "voltage0", "sampling_frequency"): ("30720000", _int_range(*ranges.SAMPLE_RATE_HZ)),
    (PHY, "in", "voltage0", "sampling_frequency_available"): ("[2083333 1 61440000]", None),
    (PHY, "in", "voltage0", "rssi"): ("100.00 dB", None),
    (PHY, "in", "voltage0", "rf_port_select"): ("A_BALANCED", None),
    (PHY, "in", "out", "voltage_filter_fir_en"): ("0", _choice("0", "1")),
    (PHY, "out", "voltage0", "hardwaregain"): ("-10.000000 dB", _int_range(*ranges.TX_ATTENUATION_DB)),
    (PHY, "out", "voltage0", "rf_bandwidth"): ("18000000", _int_range(*ranges.TX_BANDWIDTH_HZ)),
    (PHY, "out", "voltage0", "sampling_frequency"): ("30720000", _int_range(*ranges.SAMPLE_RATE_HZ)),
    (PHY, "out", "voltage0", "rf_port_select"): ("A", None),
    (PHY, "out", "altvoltage0", "frequency"): ("2400000000", _int_range(*ranges.LO_HZ)),
    (PHY, "out", "altvoltage0", "frequency_available"): ("[325000000 1 3800000000]", None),
    (PHY, "out", "altvoltage0", "powerdown"): ("0", _choice("0", "1")),
    (PHY, "out", "altvoltage1", "frequency"): ("2450000000", _int_range(*ranges.LO_HZ)),
    (PHY, "out", "altvoltage1", "frequency_available"): ("[325000000 1 3800000000]", None),
    (PHY, "out", "altvoltage1", "powerdown"): ("0", _choice("0", "1")),
    (PHY, "dev", None, "filter_fir_config"): ("FIR Rx: 0,0 Tx: 0,0", None),
    (PHY, "dev", None, "rx_path_rates"): (RATES, None),
    (PHY, "dev", None, "tx_path_rates"): (TX_RATES, None),
    (PHY, "dev", None, "ensm_mode"): ("fdd", None),
    (PHY, "dev", None, "xo_correction"): ("40000000", _int_range(39992159, 40008159)),
    (PHY, "debug", None, "loopback"): ("0", _choice("0", "1", "2")),
    (PHY, "debug", None, "direct_reg_access"): ("0x0", None),
    (TX_DEV, "debug", None, "direct_reg_access"): ("0x0", None),
    (RX_DEV, "debug", None, "direct_reg_access"): ("0x0", None),
    (TX_DEV, "out", "voltage0", "sampling_frequency"): ("30720000", None),
    (TX_DEV, "out", "voltage0", "sampling_frequency_available"): ("30720000 3840000", None),
    (TX_DEV, "out", "voltage1", "sampling_frequency"): ("30720000", None),
    (RX_DEV, "in", "voltage0", "sampling_frequency"): ("30720000", None),
    (RX_DEV, "in", "voltage0", "sampling_frequency_available"): ("30720000 3840000", None),
    (RX_DEV, "in", "voltage1", "sampling_frequency"): ("30720000", None),
}
DDS_ATTRIBUTES = ("frequency", "scale", "phase", "raw")
MAX_BUFFER_SAMPLES = 1 << 24
"""Largest buffer a client may open, read or write (16 M samples, 64 MiB of I/Q words, as the
Pluto's own limit); larger requests are answered -ENOMEM."""
MAX_AIR_SAMPLES = 1 << 24
"""Most samples the air holds for a receiver that does not read them (a device drops what its
receive buffers cannot hold); the oldest go first."""


@dataclass
class StreamClock:
    """Paces one stream at the sample rate: ``wait(count, rate)`` says how long to sleep so
    that ``count`` more samples take their air time; after a pause of over a second the clock
    starts again instead of letting a burst through."""

    _due: float | None = None

    def wait(self, count: int, rate: float) -> float:
        now = time.monotonic()
        if self._due is None or self._due < now - 1.0:
            self._due = now
        self._due += count / rate
        return max(self._due - now, 0.0)
REGISTER_ACCESS = "direct_reg_access"
"""The debug attribute of every device through which libiio reads registers: writing an address
selects it, reading returns its value, 0x0 for every register (gr-iio's fmcomms2 source polls
the ADC core's 0x80000088 on the RX device for overflows: none here)."""
CHANNEL_NAMES = {(PHY, "altvoltage0"): "RX_LO", (PHY, "altvoltage1"): "TX_LO"}
"""Channel labels, as the driver names the two synthesizers (gr-iio addresses them so)."""


CONTEXT_DTD = (
    "<!DOCTYPE context ["
    "<!ELEMENT context (device | context-attribute)*>"
    "<!ELEMENT context-attribute EMPTY>"
    "<!ELEMENT device (channel | attribute | debug-attribute | buffer-attribute)*>"
    "<!ELEMENT channel (scan-element?, attribute*)>"
    "<!ELEMENT attribute EMPTY>"
    "<!ELEMENT scan-element EMPTY>"
    "<!ELEMENT debug-attribute EMPTY>"
    "<!ELEMENT buffer-attribute EMPTY>"
    "<!ATTLIST context name CDATA #REQUIRED description CDATA #IMPLIED>"
    "<!ATTLIST context-attribute name CDATA #REQUIRED value CDATA #REQUIRED>"
    "<!ATTLIST device id CDATA #REQUIRED name CDATA #IMPLIED>"
    "<!ATTLIST channel id CDATA #REQUIRED type (input|output) #REQUIRED name CDATA #IMPLIED>"
    "<!ATTLIST scan-element index CDATA #REQUIRED format CDATA #REQUIRED scale CDATA #IMPLIED>"
    "<!ATTLIST attribute name CDATA #REQUIRED filename CDATA #IMPLIED>"
    "<!ATTLIST debug-attribute name CDATA #REQUIRED>"
    "<!ATTLIST buffer-attribute name CDATA #REQUIRED>"
    "]>")


def context_xml() -> str:
    """The libiio 0.x XML context of the emulated Pluto (devices, channels, attributes)."""
    def channel(dev: str, cid: str, kind: str, scan: str | None = None, index: int = 0) -> str:
        attrs = sorted(a for (d, direction, c, a) in ATTRIBUTES if d == dev and c == cid and
                       direction == ("in" if kind == "input" else "out"))
        if cid.startswith("altvoltage") and dev == TX_DEV:
            attrs = list(DDS_ATTRIBUTES)
        prefix = "in" if kind == "input" else "out"
        label = CHANNEL_NAMES.get((dev, cid))
        stem = f"{prefix}_{cid}_{label}" if label else f"{prefix}_{cid}"
        body = f'<scan-element index="{index}" format="{scan}" scale="1.000000" />' if scan else ""
        body += "".join(f'<attribute name="{a}" filename="{stem}_{a}" />' for a in attrs)
        named = f' name="{label}"' if label else ""
        return f'<channel id="{cid}"{named} type="{kind}" >{body}</channel>'

    def device(dev: str, channels: list[str]) -> str:
        dev_attrs = sorted(a for (d, kind, _, a) in ATTRIBUTES if d == dev and kind == "dev")
        debug = sorted(a for (d, kind, _, a) in ATTRIBUTES if d == dev and kind == "debug")
        body = "".join(channels)
        body += "".join(f'<attribute name="{a}" />' for a in dev_attrs)
        body += "".join(f'<debug-attribute name="{a}" />' for a in debug)
        return f'<device id="{dev}" name="{NAMES[dev]}" >{body}</device>'

    phy = device(PHY, [channel(PHY, "voltage0", "input"), channel(PHY, "voltage0", "output"),
                       channel(PHY, "out", "input"), channel(PHY, "altvoltage0", "output"),
                       channel(PHY, "altvoltage1", "output")])
    tx = device(TX_DEV, [channel(TX_DEV, "voltage0", "output", "le:S16/16>>0", 0),
                         channel(TX_DEV, "voltage1", "output", "le:S16/16>>0", 1)]
                + [channel(TX_DEV, f"altvoltage{i}", "output") for i in range(4)])
    rx = device(RX_DEV, [channel(RX_DEV, "voltage0", "input", "le:S12/16>>0", 0),
                         channel(RX_DEV, "voltage1", "input", "le:S12/16>>0", 1)])
    return ('<?xml version="1.0" encoding="utf-8"?>' + CONTEXT_DTD + '<context name="network" '
            'description="diffair emulated PlutoSDR" ><context-attribute name="hw_model" value="Analog Devices PlutoSDR Rev.C (Z7010-AD9363A)" />'
            '<context-attribute name="fw_version" value="v0.38" />'
            '<context-attribute name="ip,ip-addr" value="127.0.0.1" />'
            f'{phy}{tx}{rx}</context>')


@dataclass
class PlutoState:
    """Everything the emulated device holds, shared by all client connections."""

    channel: ChannelConfig
    seed: int = 0
    values: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    air: LoopbackChannel | None = None
    rx_queue: list = field(default_factory=list)
    cyclic: np.ndarray | None = None
    buffer_samples: dict = field(default_factory=dict)
    dds: dict = field(default_factory=dict)
    realtime: bool = True
    rx_clock: StreamClock = field(default_factory=StreamClock)
    tx_clock: StreamClock = field(default_factory=StreamClock)
    samples_dropped: int = 0

    def __post_init__(self) -> None:
        self.values = {key: default for key, (default, _) in ATTRIBUTES.items()}
        self.air = LoopbackChannel(self.channel, self.seed)

    def read(self, key: tuple) -> str | None:
        if key in self.values:
            return self.values[key]
        if key[0] == TX_DEV and key[2] and key[2].startswith("altvoltage"):
            return self.dds.get(key, "0")
        return None

    def write(self, key: tuple, value: str) -> int:
        if key[1] == "debug" and key[3] == REGISTER_ACCESS:
            return len(value)  # the register is selected; every register reads 0x0
        if key[0] == TX_DEV and key[2] and key[2].startswith("altvoltage") and key[3] in DDS_ATTRIBUTES:
            self.dds[key] = value
            return 0
        if key not in ATTRIBUTES:
            return -errno.ENOENT
        _, validator = ATTRIBUTES[key]
        try:
            if validator is not None and not validator(value):
                return -errno.EINVAL
        except ValueError:
            return -errno.EINVAL
        number = value.split()[0] if value.strip() else value
        if key[3] in ("sampling_frequency", "rf_bandwidth", "frequency"):
            number = str(int(float(number)))
        if key == (PHY, "in", "voltage0", "hardwaregain") and self.values[
                (PHY, "in", "voltage0", "gain_control_mode")] != "manual":
            return len(value)  # like the driver: ignored outside manual gain control
        self.values[key] = number + (" dB" if key[3] == "hardwaregain" else "")
        if key[3] == "sampling_frequency" and key[0] == PHY:
            self.values[(PHY, "in", "voltage0", "sampling_frequency")] = number
            self.values[(PHY, "out", "voltage0", "sampling_frequency")] = number
            self.retime(float(number))
        return len(value)

    def retime(self, sample_rate_hz: float) -> None:
        """The air at a new sample rate: the channel's offsets stay in Hz (and ppm)."""
        if sample_rate_hz != self.channel.sample_rate_hz and abs(self.channel.cfo_hz) <= sample_rate_hz / 2:
            self.channel = dataclasses.replace(self.channel, sample_rate_hz=sample_rate_hz)
            self.air = LoopbackChannel(self.channel, self.seed)
            self.rx_queue.clear()

    def transmit(self, raw: bytes, cyclic: bool) -> None:
        """A TX buffer of interleaved int16 I/Q (full scale 2^15) goes on the air."""
        words = np.frombuffer(raw, "<i2").astype(np.float32) / TX_FULL_SCALE
        iq = (words[0::2] + 1j * words[1::2]).astype(np.complex64)
        if cyclic:
            self.cyclic = iq
            self.rx_queue.clear()
        else:
            self.cyclic = None
            samples, _ = self.air.burst(iq)
            self.rx_queue.append(samples)
            excess = sum(len(q) for q in self.rx_queue) - MAX_AIR_SAMPLES
            while excess > 0:  # nobody reads them: the oldest are lost, as a device's would be
                dropped = self.rx_queue[0][:excess]
                self.rx_queue[0] = self.rx_queue[0][excess:]
                if not len(self.rx_queue[0]):
                    self.rx_queue.pop(0)
                self.samples_dropped += len(dropped)
                excess -= len(dropped)

    def pace(self, count: int, direction: str = "in") -> float:
        """Seconds to wait so that the receive (``in``) or transmit (``out``) stream runs no
        faster than the sample rate, as a device's DMA does."""
        if not self.realtime:
            return 0.0
        rate = float(self.values[(PHY, direction, "voltage0", "sampling_frequency")])
        return (self.rx_clock if direction == "in" else self.tx_clock).wait(count, rate)

    def receive(self, count: int) -> bytes:
        """The next ``count`` samples of the air as interleaved int16 I/Q (12-bit scale)."""
        have = sum(len(q) for q in self.rx_queue)
        while self.cyclic is not None and have < count:
            samples, _ = self.air.burst(self.cyclic)
            self.rx_queue.append(samples)
            have += len(samples)
        joined = np.concatenate(self.rx_queue) if self.rx_queue else np.zeros(0, np.complex64)
        out, rest = joined[:count], joined[count:]
        self.rx_queue = [rest] if len(rest) else []
        if len(out) < count:
            out = np.concatenate([out, self.air.idle(count - len(out))])
        words = np.empty(2 * count, "<i2")
        words[0::2] = np.clip(np.round(out.real * RX_FULL_SCALE), -RX_FULL_SCALE, RX_FULL_SCALE - 1)
        words[1::2] = np.clip(np.round(out.imag * RX_FULL_SCALE), -RX_FULL_SCALE, RX_FULL_SCALE - 1)
        return words.tobytes()


class _Handler(socketserver.StreamRequestHandler):
    """One client connection: reads commands, answers as iiod 0.x does."""

    def handle(self) -> None:
        try:
            self._serve()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client went away; its buffers simply stop

    def _serve(self) -> None:
        state: PlutoState = self.server.state
        while True:
            line = self.rfile.readline()
            if not line:
                return
            words = line.decode(errors="replace").split()
            if not words:
                continue
            command = words[0].upper()
            if command == "EXIT":
                return
            handler = getattr(self, f"_cmd_{command.lower()}", None)
            if handler is None:
                self._reply(-errno.EINVAL)
                continue
            with state.lock:
                try:
                    handler(state, words[1:])
                except (ValueError, IndexError, KeyError, UnicodeError):  # a malformed command: iiod answers -EINVAL
                    self._reply(-errno.EINVAL)

    def _reply(self, code: int, payload: bytes = b"") -> None:
        self.wfile.write(f"{code}\n".encode() + payload)
        self.wfile.flush()

    def _cmd_print(self, state, args) -> None:
        xml = context_xml().encode()
        self._reply(len(xml), xml + b"\n")

    def _cmd_version(self, state, args) -> None:
        self.wfile.write(b"0.24.diffair\n")
        self.wfile.flush()

    def _cmd_timeout(self, state, args) -> None:
        self._reply(0)

    _cmd_set = _cmd_settrig = _cmd_timeout

    def _cmd_close(self, state, args) -> None:
        if args and args[0] == TX_DEV:
            state.cyclic = None  # destroying the TX buffer stops a cyclic transmission
        state.buffer_samples.pop(args[0] if args else "", None)
        self._reply(0)

    def _cmd_gettrig(self, state, args) -> None:
        self._reply(-errno.ENOENT)

    def _key(self, args: list[str]) -> tuple | None:
        """READ/WRITE arguments -> attribute key (device, direction, channel, attribute)."""
        if len(args) == 2:
            return args[0], "dev", None, args[1]
        if len(args) == 3 and args[1] in ("DEBUG", "BUFFER"):
            return args[0], args[1].lower(), None, args[2]
        if len(args) == 4 and args[1] in ("INPUT", "OUTPUT"):
            return args[0], "in" if args[1] == "INPUT" else "out", args[2], args[3]
        return None

    def _cmd_read(self, state, args) -> None:
        key = self._key(args)
        value = state.read(key) if key else None
        if value is None:
            self._reply(-errno.ENOENT)
            return
        data = value.encode() + b"\x00"
        self._reply(len(data), data + b"\n")

    def _cmd_write(self, state, args) -> None:
        key, length = self._key(args[:-1]), int(args[-1])
        if not 0 <= length <= 1 << 16:  # attribute values are short
            self._reply(-errno.EINVAL)
            return
        data = self.rfile.read(length)
        if key is None:
            self._reply(-errno.EINVAL)
            return
        self._reply(state.write(key, data.rstrip(b"\x00").decode(errors="replace").strip()))

    def _cmd_open(self, state, args) -> None:
        samples = int(args[1])
        if not 0 < samples <= MAX_BUFFER_SAMPLES:
            self._reply(-errno.ENOMEM if samples > 0 else -errno.EINVAL)
            return
        state.buffer_samples[args[0]] = (samples, args[2], len(args) > 3 and args[3].upper() == "CYCLIC")
        self._reply(0)

    def _cmd_readbuf(self, state, args) -> None:
        device, nbytes = args[0], int(args[1])
        if device != RX_DEV or device not in state.buffer_samples:
            self._reply(-errno.EBADF)
            return
        if not 0 < nbytes <= 4 * MAX_BUFFER_SAMPLES:
            self._reply(-errno.ENOMEM if nbytes > 0 else -errno.EINVAL)
            return
        _, mask, _ = state.buffer_samples[device]
        payload = state.receive(nbytes // 4)
        self._sleep_unlocked(state, state.pace(nbytes // 4))
        self._reply(len(payload), f"{mask}\n".encode() + payload)

    def _cmd_writebuf(self, state, args) -> None:
        device, nbytes = args[0], int(args[1])
        if device != TX_DEV or device not in state.buffer_samples:
            self._reply(-errno.EBADF)
            return
        if not 0 < nbytes <= 4 * MAX_BUFFER_SAMPLES:
            self._reply(-errno.ENOMEM if nbytes > 0 else -errno.EINVAL)
            return
        self._reply(nbytes)
        data = self.rfile.read(nbytes)
        cyclic = state.buffer_samples[device][2]
        state.transmit(data, cyclic)
        if not cyclic:  # the push returns once the samples are on their way, at the sample rate
            self._sleep_unlocked(state, state.pace(len(data) // 4, "out"))
        self._reply(len(data))

    @staticmethod
    def _sleep_unlocked(state: PlutoState, seconds: float) -> None:
        """Wait without holding the device, so that other clients go on meanwhile."""
        state.lock.release()
        try:
            time.sleep(seconds)
        finally:
            state.lock.acquire()


class PlutoEmulator(socketserver.ThreadingTCPServer):
    """``with PlutoEmulator(port=0) as emu:`` serves on ``emu.uri`` in a background thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 30431, channel: ChannelConfig | None = None, seed: int = 0,
                 host: str = "127.0.0.1", realtime: bool = True):
        self.state = PlutoState(channel or ChannelConfig(), seed, realtime=realtime)
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def uri(self) -> str:
        host, port = self.server_address[:2]
        return f"ip:{host}:{port}"

    def start(self) -> "PlutoEmulator":
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> "PlutoEmulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
