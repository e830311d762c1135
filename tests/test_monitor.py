"""The live monitor: its state stays bounded and never blocks, its server answers and survives
browsers that come and go, and a real headless Chromium sees the counters move, the
constellation drawn and the decoded image appear while ``diffair rx`` runs."""

import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from diffair.dsp.errors import ConfigError
from diffair.dsp.packetizer import RxFrame
from diffair.dsp.receiver import ReceiverStats
from diffair.testbed.cli import main
from diffair.testbed.monitor import HISTORY, MAX_POINTS, MonitorServer, MonitorState, parse_address

STATE_KEYS = ("frames_ok", "frames_bad", "gaps", "samples_lost", "realtime_factor", "snr_db", "evm_db", "cfo_hz",
              "constellation", "spectrum_db", "images")


def _frame(rng, count=2304) -> RxFrame:
    y = ((rng.normal(size=count) + 1j * rng.normal(size=count)) / np.sqrt(2)).astype(np.complex64)
    return RxFrame(None, y, np.ones(count, np.float32), np.full(count, 0.01, np.float32), 20.0, 1e3, 0)


def test_addresses_default_to_loopback():
    assert parse_address("8050") == ("127.0.0.1", 8050)
    assert parse_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_address("[::1]:0") == ("::1", 0)
    for bad in ("", "x", "70000", "host:-1"):
        with pytest.raises(ConfigError, match="--monitor"):
            parse_address(bad)


def test_state_is_bounded_and_complete():
    rng = np.random.default_rng(0)
    state = MonitorState(1e6)
    stats = ReceiverStats(frames_ok=12, header_failures=2, gaps=1, samples_lost=500)
    state.attach(stats)
    for _ in range(2 * HISTORY):
        state.on_frames([_frame(rng)])
    state.on_samples(np.ones(65536, np.complex64))
    state.on_image("jscc", np.zeros((32, 32, 3)), 21.5)
    snapshot = state.snapshot()
    assert set(STATE_KEYS) <= set(snapshot)
    assert len(snapshot["snr_db"]) == HISTORY and len(snapshot["constellation"]) <= MAX_POINTS
    assert snapshot["frames_ok"] == 12 and snapshot["frames_bad"] == 2 and snapshot["samples_lost"] == 500
    assert len(snapshot["spectrum_db"]) == 256 and snapshot["images"][0]["receiver"] == "jscc"
    assert abs(snapshot["evm_db"][-1] + 20) < 0.01  # noise 0.01 over unit gain
    assert state.image_png("jscc")[:4] == b"\x89PNG" and state.image_png("cddm") is None


def _get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def test_server_answers_and_browsers_may_come_and_go():
    state = MonitorState(1e6)
    state.attach(ReceiverStats())
    with MonitorServer(state, "127.0.0.1", 0) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert b"<canvas" in _get(server.url) and b"EventSource" in _get(server.url + "monitor.js")
        assert set(STATE_KEYS) <= set(json.loads(_get(server.url + "state.json")))
        with pytest.raises(urllib.error.HTTPError, match="404"):
            _get(server.url + "image/jscc.png")
        for _ in range(3):  # a browser that connects, reads one update and leaves
            with urllib.request.urlopen(server.url + "events", timeout=5) as events:
                assert events.readline().startswith(b"data: {")
        state.on_frames([_frame(np.random.default_rng(1))])
        assert len(json.loads(_get(server.url + "state.json"))["snr_db"]) == 1
        with pytest.raises(Exception, match="cannot listen"):
            with MonitorServer(state, "127.0.0.1", server.port):
                pass


def _free_port() -> int:
    """A port nothing listens on now (the kernel's pick for a socket bound to port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _browser():
    selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install 'diffair[test]')")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("Debian's chromium and chromium-driver are not installed (apt-get install chromium "
                    "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    assert selenium
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.mark.browser
def test_a_real_browser_watches_rx(tmp_path):
    """A 6-second recording (32 images at 100 kS/s) replayed in real time with --monitor; the
    browser starts first, so that the page is up before the stream ends (rx warms up in well under
    a second once an earlier test has loaded its receivers, Chromium may take longer to start)."""
    assert main(["tx", "--radio", "loopback", "--record", str(tmp_path / "air"), "--image", "--repeat", "32",
                 "--sample-rate-hz", "1e5", "--snr-db", "20", "--json"]) == 0
    port = _free_port()
    result = {}

    def receive() -> None:
        try:
            result["code"] = main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "air.sigmf-meta"),
                                   "--sample-rate-hz", "1e5", "--realtime", "--reference", "--receivers", "jscc",
                                   "--monitor", str(port), "--monitor-hold-s", "3", "--json"])
        except BaseException as error:  # shown in the assertion messages below
            result["error"] = repr(error)

    browser = _browser()
    rx = threading.Thread(target=receive)
    rx.start()
    try:
        deadline = time.monotonic() + 120
        while rx.is_alive() and time.monotonic() < deadline:  # rx warms its receivers up before it serves
            try:
                browser.get(f"http://127.0.0.1:{port}/")
                if browser.find_elements("id", "frames_ok"):
                    break
            except Exception:  # the server is not up yet: an error, or Chrome's own error page
                pass
            time.sleep(0.2)
        assert rx.is_alive(), f"rx ended before the page was read: {result}"

        def frames_ok() -> int:
            return int(browser.find_element("id", "frames_ok").text)

        seen = [frames_ok()]  # the counter as the page shows it, while the 6-second stream plays
        deadline = time.monotonic() + 60
        while rx.is_alive() and len({n for n in seen if n > 0}) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            seen.append(frames_ok())
        assert len({n for n in seen if n > 0}) >= 2, f"the counters do not move while frames arrive: {seen[-8:]}, " \
                                                     f"rx: {result}"
        drawn = browser.execute_script("""
            const c = document.getElementById('constellation');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 150) n++;
            return n;""")
        assert drawn > 100, "no constellation points drawn"
        while time.monotonic() < deadline and not browser.execute_script(
                "const i = document.querySelector('#images img'); return i && i.complete && i.naturalWidth"):
            time.sleep(0.1)
        assert browser.execute_script("return document.querySelector('#images img').naturalWidth") == 128
        assert "jscc" in browser.find_element("id", "images").text
    finally:
        browser.quit()
        rx.join(timeout=60)
    assert result.get("code") == 0, f"rx: {result}"
