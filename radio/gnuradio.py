"""Start the shipped GNU Radio flowgraphs as their own processes.

Debian's GNU Radio is built against NumPy 1.x and imports only under the system Python,
so a flowgraph never shares a process with diffair: it runs under ``/usr/bin/python3``
and talks to diffair over ZMQ only.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from diffair.dsp.errors import RadioError

SYSTEM_PYTHON = "/usr/bin/python3"
FLOWGRAPHS = Path(__file__).parent / "flowgraphs"


def gnuradio_available() -> tuple[bool, str]:
    """Whether the system Python imports GNU Radio's zeromq and channels modules (and why not)."""
    try:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "from gnuradio import zeromq, channels"],
                               capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, f"{SYSTEM_PYTHON} cannot run: {err}"
    if probe.returncode:
        return False, f"GNU Radio is not importable by {SYSTEM_PYTHON} (apt-get install gnuradio): " + \
            probe.stderr.strip().splitlines()[-1]
    return True, ""


class Flowgraph:
    """A shipped flowgraph script in its own process; a context manager that waits until it
    prints "ready" and stops it (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, script: str, *args: str, ready_timeout_s: float = 30.0):
        self.command = [SYSTEM_PYTHON, str(FLOWGRAPHS / script), *args]
        self.ready_timeout_s = ready_timeout_s
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Flowgraph":
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + self.ready_timeout_s
        line = ""
        while time.monotonic() < deadline and self.process.poll() is None:
            line = self.process.stdout.readline()
            if line.strip() == "ready":
                return self
        self.__exit__(None, None, None)
        raise RadioError(f"flowgraph {self.command[1]} did not start: {line.strip()!r}, stderr: "
                         f"{self.process.stderr.read()[-500:] if self.process.stderr else ''}")

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
