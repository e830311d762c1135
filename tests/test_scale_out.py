"""Scale-out on PyTorch's own engine: `torchrun --nproc-per-node 2 --no-python diffair ...`
(gloo, two processes on the CPU) trains with DDP, resumes bit for bit, survives a killed
worker through torchrun's elastic restart, and shards a sweep without changing its numbers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

BIN = Path(sys.executable).parent
CIFAR = Path(os.environ.get("DIFFAIR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "cifar10"


def _run(args: list[str], processes: int | None, timeout_s: float = 240, restarts: int = 0,
         **popen) -> subprocess.CompletedProcess | subprocess.Popen:
    """``diffair args`` alone (processes None) or under torchrun with that many processes."""
    launcher = [] if processes is None else [
        str(BIN / "torchrun"), "--standalone", f"--nproc-per-node={processes}", f"--max-restarts={restarts}",
        "--no-python"]
    # torchrun restarts gloo workers cleanly only with a rendezvous store of their own (pytorch#135712)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1",
           "TORCH_DISABLE_SHARE_RDZV_TCP_STORE": "1"}
    command = launcher + [str(BIN / "diffair"), *args]
    if popen:
        return subprocess.Popen(command, env=env, text=True, **popen)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "images.npz"
    np.savez(path, x_train=rng.integers(0, 256, (512, 32, 32, 3), dtype=np.uint8),
             x_test=rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8))
    return path


def _train(images: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "jscc", "--data", str(images), "--out", str(out), "--epochs", "2", "--channels", "8", "--json",
            *extra]


def _weights(out: Path) -> dict:
    return load_file(str(out / "jscc_awgn_c8.safetensors"))


def _history(out: Path) -> list[float]:
    return [h["train_loss"] for h in json.loads((out / "checkpoints" / "jscc_awgn_c8.train.json").read_text())["history"]]


def test_ddp_training_writes_one_weights_set_and_reports_two_ranks(images, tmp_path):
    done = _run(_train(images, tmp_path / "run"), processes=2)
    assert done.returncode == 0, done.stderr[-2000:]
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(reports) == 1, done.stdout  # rank 1 stays quiet
    report = reports[0]
    assert set(report) >= {"world_size", "epochs", "steps", "wall_s", "final_loss", "weights"}
    assert report["world_size"] == 2 and report["epochs"] == 2
    assert report["steps"] == 2 * 8  # 512 images in global batches of 64 on any number of ranks
    assert np.isfinite(report["final_loss"]) and report["final_loss"] > 0
    written = sorted(p.name for p in (tmp_path / "run").iterdir() if p.is_file())
    assert written == ["jscc_awgn_c8.json", "jscc_awgn_c8.safetensors"]
    assert sorted(Path(w).name for w in report["weights"]) == written


TEARDOWN_PROBE = """
import gc, json, os, sys, weakref
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from diffair.models.distributed import workers

gc.disable()  # the wrapper's reference cycle is then freed by no one but workers()
alive_at_destroy = []
destroy = dist.destroy_process_group
dist.destroy_process_group = lambda: (alive_at_destroy.append(wrapper() is not None), destroy())
with workers("cpu"):
    model = torch.nn.Linear(4, 2)
    wrapper = weakref.ref(DistributedDataParallel(model))
report = os.path.join(sys.argv[1], f"rank{os.environ['RANK']}.json")  # one file each: ranks share stdout
with open(report, "w") as file:
    json.dump({"alive": alive_at_destroy}, file)
"""


def test_a_rank_frees_its_ddp_wrapper_before_the_process_group_goes(tmp_path):
    """A DDP wrapper (a reference cycle) freed after destroy_process_group aborted workers now
    and then at exit (SIGABRT, models/distributed.py); workers() collects it first."""
    probe = tmp_path / "probe.py"
    probe.write_text(TEARDOWN_PROBE)
    done = subprocess.run([str(BIN / "torchrun"), "--standalone", "--nproc-per-node=2", str(probe), str(tmp_path)],
                          text=True, capture_output=True, timeout=240, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    reports = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [r["alive"] for r in reports] == [[False], [False]]


def test_a_resumed_ddp_run_equals_an_uninterrupted_one(images, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    done = _run(_train(images, whole), processes=2)
    assert done.returncode == 0, done.stderr[-2000:]
    first = _run(_train(images, parts, "--stop-after-steps", "5"), processes=2)
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads(first.stdout.splitlines()[-1])
    assert report["provenance"]["seed"] == 0 and report["provenance"]["data_sha256"] is not None
    assert report | {"wall_s": 0, "provenance": None} == {
        "world_size": 2, "epochs": 0, "steps": 5, "wall_s": 0, "final_loss": pytest.approx(report["final_loss"]),
        "weights": [], "stopped": True, "provenance": None}
    second = _run(_train(images, parts, "--resume"), processes=2)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resumed jscc_awgn_c8 at epoch 0 step 5" in second.stderr
    assert _history(parts) == pytest.approx(_history(whole), rel=1e-6)
    a, b = _weights(whole), _weights(parts)
    assert max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-6


def _children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find torchrun's workers")
def test_an_elastic_restart_after_a_killed_worker_resumes_from_the_last_checkpoint(images, tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    extra = ("--epochs", "3", "--checkpoint-every-s", "0.01")
    uninterrupted = _run(_train(images, whole, *extra, "--resume"), processes=2)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]
    launcher = _run(_train(images, killed, *extra, "--resume"), processes=2, restarts=1,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    progress = killed / "checkpoints" / "jscc_awgn_c8.train.json"
    deadline = time.monotonic() + 120
    while not progress.exists() and time.monotonic() < deadline and launcher.poll() is None:
        time.sleep(0.02)
    workers = _children(launcher.pid)
    assert workers and launcher.poll() is None, "the run ended before a worker could be killed"
    os.kill(workers[-1], signal.SIGKILL)
    out, err = launcher.communicate(timeout=240)
    assert launcher.returncode == 0, err[-3000:]
    assert "resumed jscc_awgn_c8 at epoch" in err
    assert json.loads(out.splitlines()[-1])["epochs"] == 3
    a, b = _weights(whole), _weights(killed)
    assert max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-6


@pytest.mark.skipif(not (CIFAR / "cifar10_lossless_subset.npz").exists(), reason=f"needs {CIFAR} (DIFFAIR_DATA)")
def test_a_two_rank_sweep_equals_the_one_process_sweep(tmp_path):
    sweep = ["sweep", "--data", str(CIFAR / "cifar10_lossless_subset.npz"), "--limit", "48", "--batch", "16",
             "--snr-db", "5,15", "--channel", "rayleigh", "--receivers", "jscc,cddm", "--steps", "1", "--json"]
    alone = _run(sweep + ["--out", str(tmp_path / "one")], processes=None)
    shared = _run(sweep + ["--out", str(tmp_path / "two")], processes=2)
    assert alone.returncode == 0 and shared.returncode == 0, (alone.stderr + shared.stderr)[-3000:]
    one, two = (json.loads(r.stdout)["results"] for r in (alone, shared))
    assert [(r["receiver"], r["snr_db"], r["images"]) for r in one] == [(r["receiver"], r["snr_db"], r["images"])
                                                                        for r in two]
    assert len(one) == 4 and all(r["images"] == 48 for r in one)
    for a, b in zip(one, two):
        assert abs(a["psnr_db"] - b["psnr_db"]) <= 0.01 and abs(a["ssim"] - b["ssim"]) <= 1e-4
    assert json.loads((tmp_path / "two" / "sweep.json").read_text())["results"] == two


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_a_gpu_is_refused_in_one_line(images, tmp_path, capsys):
    from diffair.testbed.cli import main

    assert main(_train(images, tmp_path / "run", "--device", "cuda")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--device cuda" in err[0] and "sees no CUDA device" in err[0]
    assert main(_train(images, tmp_path / "auto", "--device", "auto", "--limit", "64")) == 0  # auto: the CPU here
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["steps"] == 2  # 64 images, 1 step an epoch
