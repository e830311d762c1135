"""The live monitor (``--monitor [HOST:]PORT``): a small aiohttp server beside the receive path
that shows what the receiver sees while it runs.

The receive path only ever calls ``MonitorState``'s cheap ``on_*`` methods (a lock held for a
few assignments; the spectrum computed at most ``SPECTRUM_HZ`` times a second; images kept as
arrays and encoded on request), so the monitor never blocks it. The server, in a thread of its
own, serves:

* ``GET /``: one self-contained page (its script and style from the package, nothing from the
  internet) fed by Server-Sent Events (``GET /events``, at most ``UPDATES_HZ`` a second: a slow
  browser gets fewer updates, never a queue of them);
* ``GET /state.json``: the same as one snapshot;
* ``GET /image/<receiver>.png``: the latest decoded image of a receiver.

Memory is bounded: ``HISTORY`` frames of SNR / EVM / CFO, the last frame's symbols (at most
``MAX_POINTS`` of them sent), one spectrum, one image per receiver.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import json
import sys
import threading
import time
from importlib import resources

import numpy as np

from diffair.dsp.errors import ConfigError, RadioError

UPDATES_HZ = 10
SPECTRUM_HZ = 10
SPECTRUM_BINS = 256
HISTORY = 300
MAX_POINTS = 1024
SERIES_PER_BATCH = 16
LOOPBACK_RATE_HZ = 1e6
"""The sample rate of `link` and `loopback` (the default frame format's)."""


def parse_address(value: str) -> tuple[str, int]:
    """``PORT`` or ``HOST:PORT`` -> (host, port); the host defaults to 127.0.0.1 (nothing binds
    beyond it unless asked). Port 0 picks a free one."""
    host, _, port = value.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise ConfigError(f"--monitor {value!r}: expected PORT or HOST:PORT with a port in 0..65535, e.g. 8050")
    return host.strip("[]") or "127.0.0.1", number


def frame_evm_db(gain: np.ndarray, noise_var: np.ndarray) -> float:
    """A frame's EVM as its equalizer sees it: mean effective noise over mean signal power,
    10 log10(E[var] / E[gain^2]) (no reference symbols needed)."""
    signal = float(np.mean(np.square(gain)))
    return float(10 * np.log10(max(float(np.mean(noise_var)), 1e-12) / max(signal, 1e-12)))


class MonitorState:
    """What the page shows. ``attach`` the front end's stats (and the ring's, for overflows);
    the ``on_*`` methods are called by the receive path, ``snapshot`` by the server."""

    def __init__(self, sample_rate_hz: float):
        self.sample_rate_hz = sample_rate_hz
        self._lock = threading.Lock()
        self._stats = self._ring = None
        self._started = time.monotonic()
        self._last_spectrum = 0.0
        self.version = 0
        self.spectrum_db: list[float] = []
        self._symbols = np.zeros(0, np.complex64)
        self.series = {key: collections.deque(maxlen=HISTORY) for key in ("snr_db", "evm_db", "cfo_hz")}
        self.images: dict[str, dict] = {}

    def attach(self, stats, ring=None) -> None:
        """The front end's ``ReceiverStats`` (and optionally the RingReader) to count from."""
        self._stats, self._ring = stats, ring
        self._started = time.monotonic()

    def on_samples(self, samples: np.ndarray) -> None:
        """A block of the stream: its averaged spectrum, at most SPECTRUM_HZ times a second."""
        now = time.monotonic()
        if now - self._last_spectrum < 1 / SPECTRUM_HZ or len(samples) < SPECTRUM_BINS:
            return
        self._last_spectrum = now
        segments = min(len(samples) // SPECTRUM_BINS, 32)
        chunk = samples[-segments * SPECTRUM_BINS:].reshape(segments, SPECTRUM_BINS) * np.hanning(SPECTRUM_BINS)
        power = np.mean(np.abs(np.fft.fftshift(np.fft.fft(chunk, axis=1), axes=1)) ** 2, axis=0) / SPECTRUM_BINS
        spectrum = np.round(10 * np.log10(np.maximum(power, 1e-20)), 2).tolist()
        with self._lock:
            self.spectrum_db = spectrum
            self.version += 1

    def on_frames(self, frames) -> None:
        """Frames just decoded (``RxFrame``): per-frame SNR, EVM, CFO of the last
        ``SERIES_PER_BATCH`` of them (a page updated 10 times a second cannot show more); the
        last one's symbols, kept by reference and thinned when a snapshot is taken."""
        if not frames:
            return
        rows = [(round(float(f.snr_db), 2), round(frame_evm_db(f.gain, f.noise_var), 2), round(float(f.cfo_hz), 1))
                for f in frames[-SERIES_PER_BATCH:]]
        with self._lock:
            for snr, evm, cfo in rows:
                self.series["snr_db"].append(snr)
                self.series["evm_db"].append(evm)
                self.series["cfo_hz"].append(cfo)
            self._symbols = frames[-1].y
            self.version += 1

    def on_image(self, receiver: str, image: np.ndarray, psnr_db: float | None) -> None:
        """A decoded image ``[H, W, 3]`` in [0, 1] (kept as it is; encoded when asked for)."""
        with self._lock:
            previous = self.images.get(receiver, {}).get("count", 0)
            self.images[receiver] = {"image": image, "psnr_db": psnr_db, "count": previous + 1}
            self.version += 1

    def snapshot(self) -> dict:
        """The page's state: ``{"frames_ok", "frames_bad", "gaps", "samples_lost",
        "realtime_factor", "snr_db", "evm_db", "cfo_hz", "constellation", "spectrum_db",
        "images": [{"receiver", "psnr_db", "url"}], ...}``."""
        stats, ring = self._stats, self._ring
        with self._lock:
            state = {key: list(values) for key, values in self.series.items()}
            symbols = self._symbols
            state |= {"spectrum_db": self.spectrum_db, "version": self.version,
                      "images": [{"receiver": name, "psnr_db": entry["psnr_db"],
                                  "url": f"/image/{name}.png?n={entry['count']}"}
                                 for name, entry in self.images.items()]}
        stride = max(len(symbols) // MAX_POINTS, 1)
        state["constellation"] = np.round(np.stack([symbols.real, symbols.imag], axis=1)[::stride][:MAX_POINTS],
                                          4).tolist()
        elapsed = max(time.monotonic() - self._started, 1e-9)
        if stats is not None:
            air_s = (stats.samples + stats.samples_lost) / self.sample_rate_hz
            state |= {"frames_ok": stats.frames_ok,
                      "frames_bad": stats.header_failures + stats.format_mismatches + stats.frames_dropped_in_gaps,
                      "gaps": stats.gaps, "samples_lost": stats.samples_lost, "realtime_factor": air_s / elapsed}
        else:
            state |= {"frames_ok": 0, "frames_bad": 0, "gaps": 0, "samples_lost": 0, "realtime_factor": 0.0}
        state["overflows"] = ring.overflows if ring is not None else 0
        return state

    def image_png(self, receiver: str) -> bytes | None:
        """The latest image of ``receiver`` as PNG bytes (None if there is none)."""
        from PIL import Image

        with self._lock:
            entry = self.images.get(receiver)
        if entry is None:
            return None
        buffer = io.BytesIO()
        Image.fromarray((np.clip(entry["image"], 0, 1) * 255).round().astype(np.uint8)).save(buffer, "PNG")
        return buffer.getvalue()


class MonitorServer:
    """The aiohttp server of a MonitorState, in a thread with its own event loop:
    ``with MonitorServer(state, host, port) as server: print(server.url)``."""

    def __init__(self, state: MonitorState, host: str = "127.0.0.1", port: int = 8050):
        self.state, self.host, self.port = state, host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True, name="diffair-monitor")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def __enter__(self) -> "MonitorServer":
        self._thread.start()
        if not self._ready.wait(15) or self._error is not None:
            raise RadioError(f"the monitor cannot listen on {self.host}:{self.port}: "
                             f"{self._error or 'no answer within 15 s'} (pick another --monitor port)")
        return self

    def __exit__(self, *exc) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as err:  # handed to __enter__
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

    async def _start(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/", self._static("index.html"))
        app.router.add_get("/monitor.js", self._static("monitor.js"))
        app.router.add_get("/monitor.css", self._static("monitor.css"))
        app.router.add_get("/state.json", self._state)
        app.router.add_get("/events", self._events)
        app.router.add_get("/image/{receiver}.png", self._image)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the one picked for port 0

    @staticmethod
    def _static(name: str):
        from aiohttp import web

        body = resources.files("diffair.testbed").joinpath("monitor_static", name).read_bytes()
        kind = {"html": "text/html", "js": "application/javascript", "css": "text/css"}[name.rsplit(".", 1)[1]]

        async def handler(request):
            return web.Response(body=body, content_type=kind, charset="utf-8")

        return handler

    async def _state(self, request):
        from aiohttp import web

        return web.json_response(self.state.snapshot())

    async def _image(self, request):
        from aiohttp import web

        png = await asyncio.get_running_loop().run_in_executor(None, self.state.image_png,
                                                               request.match_info["receiver"])
        if png is None:
            raise web.HTTPNotFound(text=f"no image of receiver {request.match_info['receiver']!r} yet")
        return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})

    async def _events(self, request):
        """Server-Sent Events: the latest snapshot whenever it changed, at most UPDATES_HZ a
        second; a write that waits on a slow browser delays only that browser's next update."""
        from aiohttp import web

        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(request)
        sent = -1
        try:
            while True:
                state = self.state.snapshot()
                if state["version"] != sent:
                    sent = state["version"]
                    await response.write(f"data: {json.dumps(state)}\n\n".encode())
                await asyncio.sleep(1 / UPDATES_HZ)
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the browser went away: nothing to clean up but this coroutine
        return response


@contextlib.contextmanager
def monitoring(address: str | None, sample_rate_hz: float, hold_s: float = 0.0):
    """``with monitoring(args.monitor, rate, hold) as monitor:`` a served MonitorState (None
    without an address); after the block the page stays up ``hold_s`` seconds (Ctrl-C ends it)."""
    if address is None:
        yield None
        return
    host, port = parse_address(address)
    state = MonitorState(sample_rate_hz)
    with MonitorServer(state, host, port) as server:
        print(f"monitor: {server.url}", file=sys.stderr, flush=True)
        yield state
        if hold_s > 0:
            print(f"monitor: serving the final state for {hold_s:g} s (Ctrl-C ends it)", file=sys.stderr, flush=True)
            try:
                time.sleep(hold_s)
            except KeyboardInterrupt:
                pass
