"""A diffusion receiver hands an observation to its baseline where its switch table expects a
loss (models.switching), says so, and still reports its own method in sweeps."""

import json
import os
from pathlib import Path

import pytest
import torch

from diffair.dsp.errors import ModelError
from diffair.export.receiver_runner import ReceiverRunner
from diffair.models import registry
from diffair.models.observation import LatentObservation
from diffair.models.switching import SwitchPoint, SwitchTable, load_table, table_path

SHAPE = (16, 8, 8)


def _table(points, steps=10, receiver="cddm-rt", channel="rayleigh") -> dict:
    return {"receiver": receiver, "channel": channel, "key": "snr_db", "steps": steps,
            "points": [{"at_db": at, "baseline": baseline, "gain_db": gain} for at, baseline, gain in points]}


@pytest.fixture
def weights(tmp_path) -> Path:
    """The shipped weights, linked into a folder of their own with room for a switch table."""
    folder = tmp_path / "weights"
    folder.mkdir()
    for path in registry.WEIGHTS_DIR.iterdir():
        if path.is_file():
            (folder / path.name).symlink_to(path)
    return folder


def _write(weights: Path, table: dict) -> None:
    path = table_path(weights, table["receiver"], table["channel"])
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(table))


def test_the_expected_gain_is_interpolated_and_held_at_the_ends():
    table = SwitchTable("cddm", "rayleigh", "snr_db", 10, (SwitchPoint(0.0, "jscc", -1.0),
                                                           SwitchPoint(10.0, "jscc-mmse", 1.0)))
    assert table.expected_gain_db(5.0) == pytest.approx(0.0)
    assert table.expected_gain_db(-20.0) == -1.0 and table.expected_gain_db(30.0) == 1.0
    assert table.baseline_at(2.0) == "jscc"  # gain -0.6: the nearest point's baseline
    assert table.baseline_at(6.0) is None  # gain +0.2: the receiver's own method
    assert table.baselines == {"jscc"}


def test_a_malformed_table_is_refused_by_path(weights):
    path = table_path(weights, "cddm-rt", "rayleigh")
    path.parent.mkdir()
    path.write_text(json.dumps({"receiver": "cddm-rt", "channel": "rayleigh", "key": "snr_db"}))
    with pytest.raises(ModelError, match="switch_table|switch table .*malformed"):
        load_table(weights, "cddm-rt", "rayleigh")
    _write(weights, _table([(0.0, "jscc", -1.0)]) | {"key": "evm_db"})
    with pytest.raises(ModelError, match="expected key snr_db or sinr_db"):
        load_table(weights, "cddm-rt", "rayleigh")


@pytest.mark.parametrize("backend", ["module", "torch"])
def test_where_the_table_expects_a_loss_the_baseline_decodes(weights, tmp_path, backend):
    """Expected loss below 10 dB, gain above: at 5 dB the output is jscc's, bit for bit, and the
    receiver says so; at 15 dB, and with switch=False, it is its own."""
    _write(weights, _table([(5.0, "jscc", -0.5), (15.0, "jscc", 0.5)]))
    receiver = registry.build("cddm-rt", "rayleigh", weights_dir=weights)
    jscc = registry.build("jscc", "rayleigh", weights_dir=weights)
    run = receiver if backend == "module" else ReceiverRunner(receiver, "torch", tmp_path / "graphs")
    low, high = (LatentObservation.random(2, SHAPE, torch.Generator().manual_seed(1), snr_db) for snr_db in (5.0, 15.0))
    assert torch.equal(run(low).image, jscc(low).image) and run.switched_to == "jscc"
    own = receiver.decode(low, switch=False).image
    assert receiver.switched_to is None and not torch.allclose(own, jscc(low).image, atol=1e-3)
    run(high)
    assert run.switched_to is None


def test_a_table_for_another_step_count_is_not_used(weights):
    _write(weights, _table([(5.0, "jscc", -0.5)], steps=5))
    assert registry.build("cddm-rt", "rayleigh", weights_dir=weights).switch is None
    assert registry.build("cddm-rt", "rayleigh", 5, weights_dir=weights).switch is not None
    assert registry.build("cddm-rt", "rayleigh", 5, weights_dir=weights, switch=False).switch is None


def test_a_sweep_reports_the_own_method_and_what_the_switch_gives(weights, tmp_path):
    from diffair.testbed.sweep import SweepOptions, run_sweep

    _write(weights, _table([(0.0, "jscc", -0.5), (20.0, "jscc", -0.5)]))
    data_dir = Path(os.environ.get("DIFFAIR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    data = data_dir / "cifar10" / "cifar10_lossless_subset.npz"
    if not data.exists():
        pytest.skip(f"CIFAR-10 not found at {data} (DIFFAIR_DATA)")
    options = SweepOptions(data=data, limit=16, snr_db=(10.0,), channels=("rayleigh",), receivers=("jscc", "cddm-rt"),
                           genie=True, weights=weights, out=tmp_path / "sweep")
    rows = {r["receiver"]: r for r in run_sweep(options, progress=False)["results"]}
    mine = rows["cddm-rt"]
    assert mine["switched_to"] == "jscc" and mine["switched_images"] == 16
    assert mine["switched_psnr_db"] == pytest.approx(rows["jscc"]["psnr_db"], abs=1e-9)
    assert mine["switched_psnr_gain_db"] == pytest.approx(0.0, abs=1e-9)
    assert mine["psnr_db"] - rows["jscc"]["psnr_db"] > 0.3  # its own method, reported as ever
