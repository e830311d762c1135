"""SigMF recordings (cf32_le): a recorder for what a receiver heard, and a file radio that
replays a capture through any receiver later.

A recording is ``NAME.sigmf-data`` (raw little-endian complex64) plus ``NAME.sigmf-meta``
(JSON: sample rate, centre frequency, hardware, and one annotation per detected frame).
"""

from __future__ import annotations

import datetime
import json
import warnings
from pathlib import Path

import numpy as np

from diffair.dsp.errors import ConfigError, RadioError
from diffair.radio.base import Radio

DATATYPE = "cf32_le"
ITEM_BYTES = 8  # one complex64 sample


def _paths(path: Path) -> tuple[Path, Path]:
    base = Path(path)
    if base.suffix in (".sigmf-data", ".sigmf-meta"):
        base = base.with_suffix("")
    return base.with_suffix(".sigmf-data"), base.with_suffix(".sigmf-meta")


class SigmfRecorder:
    """Append samples to a SigMF recording; ``annotate`` marks a detected frame."""

    def __init__(self, path: Path, sample_rate_hz: float, center_frequency_hz: float = 0.0,
                 hardware: str = "diffair", description: str = "", overwrite: bool = False):
        """``overwrite``: replace an existing recording at ``path`` (else it is refused)."""
        self.data_path, self.meta_path = _paths(path)
        existing = [str(p) for p in (self.data_path, self.meta_path) if p.exists()]
        if existing and not overwrite:
            raise ConfigError(f"recording {self.meta_path} exists ({', '.join(existing)}); pass --force to overwrite "
                              "it, or record to another path")
        self.data_path.parent.mkdir(parents=True, exist_ok=True)
        self.sample_rate_hz = sample_rate_hz
        self.center_frequency_hz = center_frequency_hz
        self.hardware = hardware
        self.description = description
        self.samples_written = 0
        self._annotations: list[tuple[int, int, dict]] = []
        self._file = open(self.data_path, "wb")
        self._started = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")

    def write(self, samples: np.ndarray) -> None:
        """Append complex64 samples ``[n]``."""
        self._file.write(np.ascontiguousarray(samples, np.complex64).tobytes())
        self.samples_written += len(samples)

    def annotate(self, start: int, length: int, label: str, comment: str = "") -> None:
        """Mark ``length`` samples from absolute sample ``start`` (e.g. one decoded frame)."""
        self._annotations.append((int(start), int(length), {"core:label": label, "core:comment": comment}))

    def close(self) -> Path:
        """Flush the data and write the metadata; returns the .sigmf-meta path."""
        from sigmf import SigMFFile

        self._file.close()
        # the sigmf package maps the data file, which an empty recording cannot be
        meta = SigMFFile(data_file=str(self.data_path) if self.samples_written else None, global_info={
            "core:datatype": DATATYPE, "core:sample_rate": float(self.sample_rate_hz),
            "core:hw": self.hardware, "core:description": self.description, "core:recorder": "diffair",
        })
        meta.add_capture(0, metadata={"core:frequency": float(self.center_frequency_hz),
                                      "core:datetime": self._started})
        for start, length, fields in sorted(self._annotations, key=lambda a: a[0]):
            if start + length <= self.samples_written and start >= 0:
                meta.add_annotation(start, length, metadata=fields)
        meta.tofile(str(self.meta_path), overwrite=True)
        return self.meta_path

    def __enter__(self) -> "SigmfRecorder":
        return self

    def __exit__(self, *exc) -> None:
        if not self._file.closed:
            self.close()


class SigmfRadio(Radio):
    """Replays a cf32_le SigMF recording as a receive stream; reading past its end returns
    fewer samples, then none."""

    finite = True

    def __init__(self, path: Path):
        super().__init__()
        self.data_path, self.meta_path = _paths(path)
        self.sample_rate_hz = self.center_frequency_hz = None
        self._data: np.ndarray | None = None
        self._position = 0

    def open(self) -> "SigmfRadio":
        if not self.meta_path.exists() or not self.data_path.exists():
            raise RadioError(f"no SigMF recording at {self.meta_path} / {self.data_path}")
        try:  # the metadata is JSON (read here: the sigmf package cannot open an empty or cut recording)
            meta = json.loads(self.meta_path.read_text())
            info, captures = meta["global"], meta.get("captures") or [{}]
            datatype, self.sample_rate_hz = info.get("core:datatype"), info.get("core:sample_rate")
            self.center_frequency_hz = captures[0].get("core:frequency")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
            raise RadioError(f"cannot read SigMF metadata {self.meta_path}: {err!r}") from err
        if datatype != DATATYPE:
            raise RadioError(f"{self.meta_path}: datatype {datatype!r}; this radio replays {DATATYPE!r}")
        size = self.data_path.stat().st_size
        whole = size // ITEM_BYTES
        if size % ITEM_BYTES:
            warnings.warn(f"{self.data_path}: the last {size % ITEM_BYTES} bytes are not a whole sample (a recording "
                          f"cut short); replaying the {whole} whole samples", stacklevel=2)
        self._data = (np.memmap(self.data_path, np.complex64, mode="r", shape=(whole,)) if whole
                      else np.zeros(0, np.complex64))
        self._position = 0
        return super().open()

    def close(self) -> None:
        self._data = None
        super().close()

    def send(self, iq: np.ndarray) -> None:
        raise RadioError("a SigMF recording is read-only: it can only receive")

    def receive(self, num_samples: int, timeout: float = 1.0) -> np.ndarray:
        self._require_open()
        block = np.array(self._data[self._position:self._position + num_samples], np.complex64)
        self._position += len(block)
        return block
