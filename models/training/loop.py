"""The epoch loop every trainer shares, on one process or many (``torchrun``, DDP).

A trainer hands over its loss, ``loss(indices, generator) -> scalar tensor`` over the training
items ``indices`` (a ``[b]`` int64 tensor), and an ``evaluate() -> dict``; the loop does the
rest the same way for every target:

- data order: a ``DistributedSampler`` over the items, reshuffled every epoch from ``seed``;
  ``batch`` is the global batch, split evenly over the ranks (each rank takes
  ``ceil(batch / world_size)`` items a step), so an epoch has the same number of optimizer
  steps, and each step averages the same number of items, on any number of processes;
- gradients: the loss runs inside ``DistributedDataParallel`` when there are several ranks
  (gradient all-reduce, nothing else shared); every rank draws its noise from its own
  generator, seeded ``seed + 1009 * rank``;
- learning rate: cosine decay from ``lr`` to ``lr / 20`` over the epochs;
- checkpoints (rank 0 writes them; every rank's random states are gathered into them): at the
  end of every epoch and every ``checkpoint_every_s`` seconds within one, holding the model,
  the optimizer, the generators and the position (epoch, step, running loss), so that
  ``resume`` continues bit for bit where the hardware is deterministic;
- the exported weights ``out/name.{safetensors,json}`` after every epoch (rank 0 only).
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from diffair.dsp.errors import ConfigError
from diffair.models.checkpoint import load_training_state, save_training_state, save_weights
from diffair.models.distributed import Workers

RANK_SEED_STRIDE = 1009
# DDP's hint about 1x1 convolutions' gradient strides is about speed, not results
warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")


@dataclass(frozen=True)
class RunControl:
    """How a run is driven, the same for every trainer.

    workers: this process's rank, world size and device; resume: continue from the checkpoint
    (a fresh start when there is none yet, so that an elastic restart's command line is the
    first one's); limit: train on the first ``limit`` items only; checkpoint_every_s: seconds
    between checkpoints within an epoch; stop_after_steps: stop (with a checkpoint) after this
    many optimizer steps of this run; bf16: autocast to bfloat16 on CUDA; log: where rank 0
    prints its per-epoch records.
    """

    workers: Workers = Workers()
    resume: bool = False
    limit: int | None = None
    checkpoint_every_s: float = 300.0
    stop_after_steps: int | None = None
    bf16: bool = False
    log: Any = field(default=sys.stdout, repr=False)


@dataclass(frozen=True)
class TrainReport:
    """What a run did: world_size ranks, epochs done, optimizer steps in total (all runs of
    this checkpoint), wall seconds of this run, the last mean training loss, the weights
    files written (``[]`` when no epoch finished), whether it stopped early."""

    world_size: int
    epochs: int
    steps: int
    wall_s: float
    final_loss: float | None
    weights: list[str]
    stopped: bool = False


class _Objective(torch.nn.Module):
    """The trained module with the trainer's loss as its forward, so that DDP sees the
    parameters and arms its gradient all-reduce on every call."""

    def __init__(self, trained: torch.nn.Module, loss: Callable[[torch.Tensor, torch.Generator], torch.Tensor]):
        super().__init__()
        self.trained = trained
        self._loss = loss

    def forward(self, indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self._loss(indices, generator)


def descend(optimizer: torch.optim.Optimizer, loss: torch.Tensor, clip_norm: float | None = None) -> float:
    """One optimizer step on ``loss`` (gradients clipped to ``clip_norm`` when given); returns
    the loss as a float."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip_norm is not None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, clip_norm)
    optimizer.step()
    return loss.item()


def cosine_lr(base: float, epoch: int, epochs: int) -> float:
    """Cosine decay from ``base`` to ``base / 20`` over ``epochs``."""
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * epoch / epochs)))


def _rng_states(generator: torch.Generator, workers: Workers) -> dict[str, torch.Tensor]:
    """Every rank's generator and torch states, keyed ``<kind>/<rank>``, on rank 0 (a collective)."""
    own = {"generator": generator.get_state(), "torch": torch.get_rng_state()}
    if workers.device.type == "cuda":
        own["cuda"] = torch.cuda.get_rng_state(workers.device)
    gathered = workers.gather(own) or []
    return {f"{kind}/{rank}": state for rank, states in enumerate(gathered) for kind, state in states.items()}


def _restore_rng(states: dict[str, torch.Tensor], generator: torch.Generator, workers: Workers) -> None:
    ranks = {int(key.split("/")[1]) for key in states}
    if ranks != set(range(workers.world_size)):
        if workers.is_main:
            warnings.warn(f"the checkpoint holds random states for {len(ranks)} rank(s) and this run has "
                          f"{workers.world_size} (another world size, or a checkpoint older than them): its random "
                          "streams start afresh, so it does not continue bit for bit", stacklevel=3)
        return
    generator.set_state(states[f"generator/{workers.rank}"])
    torch.set_rng_state(states[f"torch/{workers.rank}"])
    if workers.device.type == "cuda" and f"cuda/{workers.rank}" in states:
        torch.cuda.set_rng_state(states[f"cuda/{workers.rank}"], workers.device)


def run_epochs(module: torch.nn.Module, config: Any, optimizer: torch.optim.Optimizer, *, name: str, out: Path,
               epochs: int, lr: float, items: int, batch: int,
               loss: Callable[[torch.Tensor, torch.Generator], torch.Tensor], evaluate: Callable[[], dict],
               seed: int, control: RunControl, clip_norm: float | None = None,
               weights_module: torch.nn.Module | None = None) -> TrainReport:
    """Train ``module`` for ``epochs`` epochs over ``items`` training items in global batches
    of ``batch`` (see the module docstring); checkpoints go to ``out/checkpoints/name``, the
    weights of ``weights_module`` (default ``module``) to ``out/name``."""
    workers = control.workers
    started = time.monotonic()
    ckpt_dir = Path(out) / "checkpoints"
    progress: dict = {"epoch": 0, "step": 0, "loss_sum": 0.0, "steps": 0, "history": []}
    generator = torch.Generator(device=workers.device).manual_seed(seed + RANK_SEED_STRIDE * workers.rank)
    if (ckpt_dir / f"{name}.train.json").exists():
        if not control.resume:
            raise ConfigError(f"{ckpt_dir / name}.* holds a checkpoint of an earlier run: pass --resume to continue "
                              "it, or another --out / --name to start afresh")
        progress, rng_states = load_training_state(module, optimizer, ckpt_dir, name)
        progress = {"step": 0, "loss_sum": 0.0, "steps": 0, **progress}
        _restore_rng(rng_states, generator, workers)
        if workers.is_main:
            print(f"resumed {name} at epoch {progress['epoch']} step {progress['step']}", file=control.log, flush=True)
    trained = _Objective(module, loss)
    step_loss = DistributedDataParallel(trained, gradient_as_bucket_view=True) if workers.distributed else trained
    sampler = DistributedSampler(range(items), num_replicas=workers.world_size, rank=workers.rank, shuffle=True,
                                 seed=seed)
    per_rank = math.ceil(batch / workers.world_size)
    run_steps, last_checkpoint, stop = 0, time.monotonic(), False

    def checkpoint() -> None:
        states = _rng_states(generator, workers)
        if workers.is_main:
            save_training_state(module, config, optimizer, progress, ckpt_dir, name, states)

    for epoch in range(progress["epoch"], epochs):
        sampler.set_epoch(epoch)
        batches = torch.tensor(list(sampler), dtype=torch.int64).split(per_rank)
        rate = cosine_lr(lr, epoch, epochs)
        for group in optimizer.param_groups:
            group["lr"] = rate
        module.train()
        epoch_started, total = time.time(), progress["loss_sum"]
        bar = tqdm(range(progress["step"], len(batches)), desc=f"{name} epoch {epoch + 1}/{epochs}", leave=False,
                   mininterval=5, disable=not workers.is_main)
        for step in bar:
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=control.bf16 and workers.device.type == "cuda"):
                value = step_loss(batches[step], generator)
            total += descend(optimizer, value, clip_norm)
            progress["steps"] += 1
            run_steps += 1
            bar.set_postfix(loss=f"{total / (step + 1):.5f}")
            stop = control.stop_after_steps is not None and run_steps >= control.stop_after_steps
            due = workers.rank0_says(time.monotonic() - last_checkpoint >= control.checkpoint_every_s)
            if (stop or due) and step + 1 < len(batches):
                # the ranks' mean running loss: on resume every rank starts from it, so that the
                # epoch's mean (sum over ranks / world size) comes out the same
                progress |= {"step": step + 1, "loss_sum": workers.sum(total) / workers.world_size}
                checkpoint()
                last_checkpoint = time.monotonic()
            if stop and step + 1 < len(batches):
                return TrainReport(workers.world_size, epoch, progress["steps"], time.monotonic() - started,
                                   workers.sum(total) / workers.world_size / (step + 1), [], stopped=True)
        module.eval()
        record = {"epoch": epoch + 1, "lr": rate, "train_loss": workers.sum(total) / workers.world_size / len(batches),
                  **evaluate(), "seconds": time.time() - epoch_started}
        progress = {"epoch": epoch + 1, "step": 0, "loss_sum": 0.0, "steps": progress["steps"],
                    "history": progress["history"] + [record]}
        checkpoint()
        last_checkpoint = time.monotonic()
        if workers.is_main:
            print(json.dumps(record), file=control.log, flush=True)
            save_weights(weights_module or module, config, out, name)
        if stop:
            break
    weights_path = Path(out) / f"{name}.safetensors"
    history = progress["history"]
    return TrainReport(workers.world_size, progress["epoch"], progress["steps"], time.monotonic() - started,
                       history[-1]["train_loss"] if history else None,
                       [str(weights_path), str(weights_path.with_suffix(".json"))] if history else [],
                       stopped=progress["epoch"] < epochs)
