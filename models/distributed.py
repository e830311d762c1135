"""This process's place among the processes ``torchrun`` started: rank, world size, device,
and the few collectives diffair uses (PyTorch distributed; nothing home-made).

Without ``torchrun`` (no ``WORLD_SIZE`` in the environment) a process is rank 0 of a world of
one and no process group is created, so every command works unchanged. Under ``torchrun``
the process group uses nccl when this rank trains on CUDA and gloo otherwise; each rank
takes the GPU of its ``LOCAL_RANK``.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from diffair.dsp.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Workers:
    """rank / world_size: this process among ``world_size`` ranks; device: where it computes."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that prints, logs and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def gather(self, item: Any) -> list[Any] | None:
        """Every rank's ``item`` (picklable), in rank order, on rank 0; ``None`` elsewhere."""
        if not self.distributed:
            return [item]
        items: list[Any] | None = [None] * self.world_size if self.is_main else None
        dist.gather_object(item, items, dst=0)
        return items

    def rank0_says(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (one byte broadcast: cheap enough for every step)."""
        if not self.distributed:
            return flag
        box = torch.tensor([int(flag)], dtype=torch.uint8, device=self.device)
        dist.broadcast(box, src=0)
        return bool(box.item())

    def sum(self, value: float) -> float:
        """The sum of ``value`` over all ranks (float64 all-reduce)."""
        if not self.distributed:
            return value
        total = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return total.item()


def _environment_int(key: str, default: int) -> int:
    value = os.environ.get(key, str(default))
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment {key}={value!r}: expected an integer (torchrun sets it)") from None


def resolve_device(choice: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> this rank's CUDA device when torch sees one, else the CPU; ``cuda`` insists."""
    if choice not in DEVICE_CHOICES:
        raise ConfigError(f"--device {choice!r}: expected one of {', '.join(DEVICE_CHOICES)}")
    if choice == "cpu" or (choice == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"--device cuda: torch {torch.__version__} sees no CUDA device (a CPU build, or no GPU "
                          "visible); use --device cpu or auto")
    if local_rank >= torch.cuda.device_count():
        raise ConfigError(f"LOCAL_RANK {local_rank}: only {torch.cuda.device_count()} CUDA device(s) here; start at "
                          "most that many processes per node (torchrun --nproc-per-node)")
    return torch.device("cuda", local_rank)


@contextmanager
def workers(device: str = "cpu", timeout_s: float = 600.0) -> Iterator[Workers]:
    """Join torchrun's process group (when started by torchrun) for the duration of the block.

    ``device``: one of :data:`DEVICE_CHOICES`. ``timeout_s``: how long a collective waits for
    a rank that has stopped answering before raising instead of hanging.
    """
    world_size = _environment_int("WORLD_SIZE", 1)
    rank, local_rank = _environment_int("RANK", 0), _environment_int("LOCAL_RANK", 0)
    if not 0 <= rank < world_size:
        raise ConfigError(f"environment RANK={rank} WORLD_SIZE={world_size}: expected 0 <= RANK < WORLD_SIZE")
    place = Workers(rank, world_size, resolve_device(device, local_rank))
    started_here = place.distributed and not dist.is_initialized()
    if started_here:
        if place.device.type == "cuda":
            torch.cuda.set_device(place.device)
        dist.init_process_group("nccl" if place.device.type == "cuda" else "gloo",
                                timeout=timedelta(seconds=timeout_s))
    completed = False
    try:
        yield place
        completed = True
    finally:
        if started_here:
            # A DistributedDataParallel wrapper sits in a reference cycle, so it outlives the
            # function that made it until the cyclic collector runs; freed after the group (at
            # interpreter exit, say), the gloo group it holds went down late and the process
            # aborted now and then ("terminate called without an active exception", SIGABRT: 2 of
            # 18 two-rank runs of a small DDP script here; 0 of 36 with this collection first).
            gc.collect()
            if completed:  # no rank drops its connections while another still talks
                dist.barrier()
            dist.destroy_process_group()
