"""Where a result came from, for every result JSON: the command line, diffair's version and git
commit, the seed, the sha256 of each weights file used and of the data read. Importing this
module is cheap (no torch): the CLI records its command line here for every command."""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

COMMAND_LINE: list[str] = []
"""The command line being run, as the CLI parsed it (``diffair`` and its arguments); empty
when diffair is used as a library, and then ``sys.argv`` is reported."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_sha256(path: Path) -> str:
    """A file's sha256, or for a folder the sha256 of its files' names and hashes (sorted)."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for member in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{member.relative_to(path)}:{file_sha256(member)}\n".encode())
    return digest.hexdigest()


def weights_used(receivers: Iterable[str], channel: str, scenario: str = "plain",
                 weights_dir: Path | None = None) -> dict[str, str]:
    """sha256 of every weights file (stem -> hash) the ``receivers`` and their transmitters
    load for ``channel`` in ``scenario`` from ``weights_dir`` (default: the shipped weights);
    files that are absent are left out."""
    from diffair.models import registry  # torch: only when weights are asked about
    from diffair.models.contract import Link

    weights_dir = weights_dir or registry.WEIGHTS_DIR
    link = Link(channel, scenario)
    stems: set[str] = set()
    for name in receivers:
        spec = registry.spec(name)
        stems |= set(spec.weights(link)) | set(registry.transmitter_spec(spec.transmitter).weights(link))
    files = {stem: Path(weights_dir) / f"{stem}.safetensors" for stem in sorted(stems)}
    return {stem: file_sha256(path) for stem, path in files.items() if path.exists()}


def git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def provenance(seed: int | None = None, weights: dict[str, str] | None = None, data: Path | None = None) -> dict:
    """{"command", "diffair_version", "git_commit", "seed", "weights_sha256", "data_sha256"}."""
    from importlib import metadata

    try:
        version = metadata.version("diffair")
    except metadata.PackageNotFoundError:
        version = None
    return {"command": shlex.join(COMMAND_LINE or sys.argv), "diffair_version": version, "git_commit": git_commit(), "seed": seed,
            "weights_sha256": weights or {}, "data_sha256": None if data is None else data_sha256(data)}
