"""The epoch loop every trainer shares: cosine learning rate, progress bar, a resumable
checkpoint (weights + optimizer, safetensors) and the exported weights after every epoch."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from diffair.models.checkpoint import load_training_state, save_training_state, save_weights


class Shuffler:
    """Endless mini-batches of indices into ``count`` items, a fresh permutation every pass."""

    def __init__(self, count: int, batch: int):
        self.count, self.batch = count, batch
        self._pending: list[torch.Tensor] = []

    def next(self, generator: torch.Generator) -> torch.Tensor:
        if not self._pending:
            self._pending = list(torch.randperm(self.count, generator=generator).split(self.batch))[::-1]
        return self._pending.pop()


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


def run_epochs(module: torch.nn.Module, config: Any, optimizer: torch.optim.Optimizer, *, name: str, out: Path,
               epochs: int, lr: float, steps_per_epoch: int, train_step: Callable[[torch.Generator], float],
               evaluate: Callable[[], dict], seed: int, weights_module: torch.nn.Module | None = None) -> Path:
    """Train ``epochs`` epochs of ``steps_per_epoch`` calls to ``train_step(generator) -> loss``;
    resume from ``out/checkpoints/name`` when it exists. ``weights_module`` (default
    ``module``) is what ``out/name.safetensors`` receives. Returns that path."""
    ckpt_dir = Path(out) / "checkpoints"
    progress: dict = {"epoch": 0, "history": []}
    if (ckpt_dir / f"{name}.train.json").exists():
        progress = load_training_state(module, optimizer, ckpt_dir, name)
        print(f"resumed {name} at epoch {progress['epoch']}", flush=True)
    generator = torch.Generator().manual_seed(seed + progress["epoch"])
    for epoch in range(progress["epoch"], epochs):
        rate = cosine_lr(lr, epoch, epochs)
        for group in optimizer.param_groups:
            group["lr"] = rate
        module.train()
        started, total = time.time(), 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"{name} epoch {epoch + 1}/{epochs}", leave=False, mininterval=5)
        for step in bar:
            total += train_step(generator)
            bar.set_postfix(loss=f"{total / (step + 1):.5f}")
        module.eval()
        record = {"epoch": epoch + 1, "lr": rate, "train_loss": total / steps_per_epoch, **evaluate(),
                  "seconds": time.time() - started}
        progress = {"epoch": epoch + 1, "history": progress["history"] + [record]}
        print(json.dumps(record), flush=True)
        save_training_state(module, config, optimizer, progress, ckpt_dir, name)
        save_weights(weights_module or module, config, out, name)
    return Path(out) / f"{name}.safetensors"
