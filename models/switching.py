"""A diffusion receiver that switches itself to a baseline where it is expected to lose (issue 17).

Its expected PSNR gain over the strongest non-diffusion receiver was measured on images held out
from the training split (never the test split: docs/benchmarks/switch/measure.py) on a grid of
SNRs (plain links) or SINRs (ICDM's scenario), per channel type, at the receiver's default K; the
table ships beside the weights as ``switch/<receiver>_<channel>.json``::

    {"receiver": "icdm", "channel": "awgn", "key": "sinr_db", "steps": 10,
     "points": [{"at_db": -5.0, "baseline": "lmmse", "gain_db": 4.1}, ...], "provenance": {...}}

At an observation's (estimated) SNR or SINR the gain is interpolated linearly between grid
points and held at the end points; where it is negative the receiver hands the observation to
the baseline of the nearest grid point and says so (``Receiver.switched_to``). Reports show the
switch; ``--no-switch`` (loopback, sweep, rx) runs the receiver's own method everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diffair.dsp.errors import ModelError

SWITCH_DIR = "switch"


@dataclass(frozen=True)
class SwitchPoint:
    at_db: float
    baseline: str
    gain_db: float


@dataclass(frozen=True)
class SwitchTable:
    """key: the observation attribute the grid is in ("snr_db" or "sinr_db"); steps: the K the
    gains were measured at (the table applies to that K only); points sorted by ``at_db``."""

    receiver: str
    channel: str
    key: str
    steps: int | None
    points: tuple[SwitchPoint, ...]

    def expected_gain_db(self, at_db: float) -> float:
        return float(np.interp(at_db, [p.at_db for p in self.points], [p.gain_db for p in self.points]))

    def baseline_at(self, at_db: float) -> str | None:
        """The baseline to decode with at ``at_db``, or None where the receiver is expected to gain."""
        if self.expected_gain_db(at_db) >= 0:
            return None
        return min(self.points, key=lambda p: abs(p.at_db - at_db)).baseline

    @property
    def baselines(self) -> set[str]:
        return {p.baseline for p in self.points if p.gain_db < 0}


def table_path(weights_dir: Path, receiver: str, channel: str) -> Path:
    return Path(weights_dir) / SWITCH_DIR / f"{receiver}_{channel}.json"


def load_table(weights_dir: Path, receiver: str, channel: str) -> SwitchTable | None:
    """The receiver's switch table for ``channel``, or None when it has none."""
    path = table_path(weights_dir, receiver, channel)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        points = tuple(sorted((SwitchPoint(float(p["at_db"]), str(p["baseline"]), float(p["gain_db"]))
                               for p in data["points"]), key=lambda p: p.at_db))
        table = SwitchTable(data["receiver"], data["channel"], data["key"], data.get("steps"), points)
    except (ValueError, KeyError, TypeError) as err:
        raise ModelError(f"switch table {path} is malformed ({err}); expected the layout of models/switching.py")
    if table.key not in ("snr_db", "sinr_db") or not points or (table.receiver, table.channel) != (receiver, channel):
        raise ModelError(f"switch table {path}: expected key snr_db or sinr_db, at least one point, and receiver / "
                         f"channel {receiver} / {channel}; got {table.key}, {len(points)} points, "
                         f"{table.receiver} / {table.channel}")
    return table
