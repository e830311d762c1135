"""The receiver contract and the registry (docs/architecture.md): a toy receiver, declared in
this file alone and registered at run time, runs through loopback (torch and onnxruntime),
sweep and export; the registry lists the shipped receivers and refuses unknown names."""

import json

import numpy as np
import pytest
import torch

from diffair.dsp.errors import ConfigError
from diffair.models import registry
from diffair.models.contract import Link, LoadRequest, Receiver, ReceiverSpec
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.symbols import snr_map_db
from diffair.testbed.cli import main


class ShrinkGraph(torch.nn.Module):
    """The toy's whole computation: LMMSE shrinkage g y / (g^2 + var), then the decoder."""

    inputs = batch_inputs = ("y", "gain", "noise_var")
    outputs = ("image", "latent")

    def __init__(self, decoder: torch.nn.Module):
        super().__init__()
        self.decoder = decoder

    def forward(self, y, gain, noise_var):
        latent = gain * y / (gain.square() + noise_var)
        return self.decoder(latent, snr_map_db(gain, noise_var)), latent


class ShrinkReceiver(Receiver):
    """A fifth receiver as a user would add one: a class with graph / feeds, and a spec."""

    name = "shrink"

    def __init__(self, decoder: torch.nn.Module):
        super().__init__()
        self.decoder = decoder

    def graph(self) -> torch.nn.Module:
        return ShrinkGraph(self.decoder)

    def feeds(self, obs):
        return {"y": obs.y, "gain": obs.gain, "noise_var": obs.noise_var}

    def network_calls(self, snr_db: float) -> int:
        return 1


def _weights(link: Link) -> tuple[str, ...]:
    return (link.codec,)


def _load(request: LoadRequest) -> ShrinkReceiver:
    return ShrinkReceiver(request.weights.load(DeepJSCC, JSCCConfig, request.link.codec).decoder).eval()


SHRINK = ReceiverSpec(name="shrink", description="toy: LMMSE shrinkage, then the deep-JSCC decoder",
                      transmitter="jscc", weights=_weights, load=_load)


@pytest.fixture
def shrink():
    with registry.registered(SHRINK):
        yield SHRINK


def test_the_registry_lists_the_shipped_receivers(capsys):
    assert main(["receivers", "--json"]) == 0
    listed = {r["name"]: r for r in json.loads(capsys.readouterr().out)["receivers"]}
    assert {"jscc", "cddm", "icdm", "djscc"} <= set(listed)
    for entry in listed.values():
        assert {"name", "description", "channels", "backends", "transmitter", "default_steps"} <= set(entry)
    assert listed["jscc"]["channels"] == ["awgn", "rayleigh"]
    assert listed["jscc-mmse"]["channels"] == ["rayleigh"] and listed["cddm"]["channels"] == ["awgn", "rayleigh"]
    assert listed["djscc"]["transmitter"] == "djscc" and listed["icdm"]["transmitter"] == "jscc"
    assert listed["cddm"]["default_steps"] == 10 and listed["jscc"]["default_steps"] is None
    assert all(e["backends"] == ["torch", "ort", "trt"] for e in listed.values())
    assert main(["receivers"]) == 0
    assert "cddm" in capsys.readouterr().out


def test_unknown_names_are_refused_with_the_known_ones(capsys):
    with pytest.raises(ConfigError, match="expected one of jscc, jscc-mmse, cddm"):
        registry.spec("nonesuch")
    assert main(["export", "--receiver", "nonesuch"]) == 2
    assert "unknown receiver 'nonesuch'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="registered already"):
        registry.register(registry.spec("jscc"))
    with pytest.raises(ConfigError, match="needs the interference scenario"):
        registry.build("icdm", "rayleigh")


def test_a_toy_receiver_runs_through_loopback_sweep_and_export(shrink, tmp_path, capsys):
    assert main(["receivers", "--json"]) == 0
    listed = {r["name"]: r for r in json.loads(capsys.readouterr().out)["receivers"]}
    assert listed["shrink"]["channels"] == ["awgn", "rayleigh"] and listed["shrink"]["transmitter"] == "jscc"

    runs = {}
    for backend in ("torch", "onnxruntime"):
        assert main(["loopback", "--receivers", "jscc,shrink", "--backend", backend, "--out",
                     str(tmp_path / backend), "--json"]) == 0
        runs[backend] = json.loads(capsys.readouterr().out)["receivers"]
    toy, jscc = runs["torch"]["shrink"], runs["torch"]["jscc"]
    assert np.isfinite(toy["psnr_db"]) and toy["psnr_db"] > 15 and abs(toy["psnr_db"] - jscc["psnr_db"]) < 3
    assert runs["onnxruntime"]["shrink"]["backend"] == "ort"
    assert runs["onnxruntime"]["shrink"]["psnr_db"] == pytest.approx(toy["psnr_db"], abs=1e-3)
    assert (tmp_path / "torch" / "shrink.png").exists()

    data = tmp_path / "imgs.npz"
    np.savez(data, x_test=(np.random.default_rng(1).random((6, 32, 32, 3)) * 255).astype(np.uint8))
    assert main(["sweep", "--data", str(data), "--genie", "--snr-db", "0,10", "--receivers", "shrink", "--out",
                 str(tmp_path / "sweep"), "--json"]) == 0
    rows = {r["snr_db"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert set(rows) == {0.0, 10.0} and rows[10.0]["psnr_db"] > rows[0.0]["psnr_db"]

    assert main(["export", "--receiver", "shrink", "--out", str(tmp_path / "onnx"), "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [g["graph"].rsplit("/", 1)[-1] for g in exported["graphs"]] == ["encoder.onnx", "shrink.onnx"]
    assert all(g["parity"]["passed"] for g in exported["graphs"]) and not exported["untrained_weights"]


def test_every_flag_link_parses_is_used(capsys):
    assert main(["link", "--frames", "3", "--sounding-symbols", "2", "--snr-db", "25", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sounding_symbols"] == 2 and summary["frames_header_ok"] == 3 and summary["estimator"] == "lmmse"


def test_the_package_installs_as_diffair_only(tmp_path):
    """``import diffair.dsp`` works from anywhere; the folders' own names do not leak into
    site-packages (run outside the checkout, whose folders would shadow them)."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-c", "import diffair.dsp, diffair.testbed.cli; print('ok')"], cwd=tmp_path,
                        capture_output=True, text=True, timeout=60)
    assert ok.stdout.strip() == "ok", ok.stderr
    for name in ("dsp", "radio", "models", "export", "testbed"):
        leaked = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=tmp_path, capture_output=True, text=True,
                                timeout=60)
        assert leaked.returncode != 0 and "No module named" in leaked.stderr, name


def test_parsing_a_command_imports_no_torch(tmp_path):
    """The CLI's parsers take receiver names from the registry only when a flag needs them:
    `diffair link` runs without importing torch."""
    import subprocess
    import sys

    code = ("import sys; from diffair.testbed.cli import main; main(['link', '--frames', '1', '--json']); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
