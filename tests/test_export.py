"""ONNX export, the runner contract, parity, TensorRT plumbing and the profiler."""

import json

import numpy as np
import pytest
import torch

from dsp.errors import ExportError
from export.build import BATCH_INPUTS
from export.graphs import CDDMGraph, DecoderGraph, DenoiserGraph, EncoderGraph
from export.onnx_export import as_numpy, example_inputs, export_graph, read_sidecar
from export.parity import compare, parity_report
from export.runners import OrtRunner, TorchRunner
from export.tensorrt_runner import BuildConfig, check_batch, engine_cache_key, profile_shapes
from models.denoiser import DenoiserConfig, LatentUNet
from models.jscc import DeepJSCC, JSCCConfig
from models.receivers import CDDMReceiver, LatentObservation, sampler_plan
from models.schedule import NoiseSchedule

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    codec = DeepJSCC(JSCCConfig(filters=16))
    denoiser = LatentUNet(DenoiserConfig(width=16))
    with torch.no_grad():
        for p in denoiser.parameters():  # randomize, the zero-initialized head included
            p.normal_(0, 0.05)
    return codec, denoiser


def _export(graph, kind, tmp_path, steps=None, name=None):
    path = tmp_path / f"{name or kind}.onnx"
    export_graph(graph, example_inputs(kind, 16, 32, 2, steps), path, kind=kind, batch_inputs=BATCH_INPUTS[kind],
                 configs={"jscc": JSCCConfig(filters=16)}, steps=steps)
    return path


@pytest.mark.parametrize("steps", [1, 5, 10, 20])
def test_cddm_receiver_graph_matches_torch(nets, tmp_path, steps):
    codec, denoiser = nets
    graph = CDDMGraph(denoiser, codec.decoder)
    path = _export(graph, "cddm", tmp_path, steps, f"cddm_k{steps}")
    meta = read_sidecar(path)
    assert meta["steps"] == steps and meta["opset"] >= 17 and len(meta["weights_sha256"]) == 64
    for batch in (1, 7):
        inputs = as_numpy(example_inputs("cddm", 16, 32, batch, steps), graph.inputs)
        report = parity_report(TorchRunner(graph), OrtRunner(path), inputs, rtol=1e-4)
        assert report["passed"], report


@pytest.mark.parametrize("kind", ["encoder", "decoder", "denoiser"])
def test_single_graphs_match_torch(nets, tmp_path, kind):
    codec, denoiser = nets
    graph = {"encoder": EncoderGraph(codec.encoder), "decoder": DecoderGraph(codec.decoder),
             "denoiser": DenoiserGraph(denoiser)}[kind]
    path = _export(graph, kind, tmp_path)
    inputs = as_numpy(example_inputs(kind, 16, 32, 5, None), graph.inputs)
    assert parity_report(TorchRunner(graph), OrtRunner(path), inputs)["passed"]


def test_one_graph_serves_every_snr(nets, tmp_path):
    codec, denoiser = nets
    graph = CDDMGraph(denoiser, codec.decoder)
    runner = OrtRunner(_export(graph, "cddm", tmp_path, 10, "cddm_k10"))
    receiver = CDDMReceiver(denoiser, codec.decoder, steps=10)
    g = torch.Generator().manual_seed(3)
    shape = (2, 16, 8, 8)
    for snr_db in (3.0, 15.0, 27.0):
        obs = LatentObservation(torch.randn(shape, generator=g), torch.rand(shape, generator=g) + 0.5,
                                torch.rand(shape, generator=g) * 0.1 + 0.01, snr_db)
        plan = sampler_plan(NoiseSchedule(), snr_db, 10).padded(10)
        feeds = {"y": obs.y.numpy(), "gain": obs.gain.numpy(), "noise_var": obs.noise_var.numpy(),
                 "sigma": np.full(2, 10 ** (-snr_db / 20), np.float32),
                 **dict(zip(("t", "alpha_t", "alpha_next"), (a.numpy() for a in plan.tensors())))}
        with torch.no_grad():
            expected = receiver.denoise(obs).numpy()
        assert compare({"latent": expected}, {"latent": runner.infer(feeds)["latent"]}, rtol=1e-4)[0].passed


def test_bad_files_and_providers_are_clear_errors(nets, tmp_path):
    codec, _ = nets
    path = _export(DecoderGraph(codec.decoder), "decoder", tmp_path)
    with pytest.raises(ExportError, match="no ONNX file"):
        OrtRunner(tmp_path / "missing.onnx")
    with pytest.raises(ExportError, match="not installed"):
        OrtRunner(path, provider="cuda")
    with pytest.raises(ExportError, match="unknown provider"):
        OrtRunner(path, provider="tpu")
    with pytest.raises(ExportError, match="missing inputs"):
        OrtRunner(path).infer({"y": np.zeros((1, 16, 8, 8), np.float32)})
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ExportError, match="sha256 differs"):
        read_sidecar(path)
    with pytest.raises(ExportError, match="cannot load"):
        OrtRunner(path)
    with pytest.raises(ExportError, match="opset"):
        export_graph(DecoderGraph(codec.decoder), example_inputs("decoder", 16, 32, 1, None), tmp_path / "x.onnx",
                     kind="decoder", batch_inputs=BATCH_INPUTS["decoder"], configs={}, opset=13)


def test_tensorrt_cache_keys_and_profiles_without_tensorrt():
    base = engine_cache_key("abc", BuildConfig(), "10.3.0", "NVIDIA H100 sm_90")
    assert base == engine_cache_key("abc", BuildConfig(), "10.3.0", "NVIDIA H100 sm_90")
    for changed in (engine_cache_key("abd", BuildConfig(), "10.3.0", "NVIDIA H100 sm_90"),
                    engine_cache_key("abc", BuildConfig(fp16=True), "10.3.0", "NVIDIA H100 sm_90"),
                    engine_cache_key("abc", BuildConfig(), "10.4.0", "NVIDIA H100 sm_90"),
                    engine_cache_key("abc", BuildConfig(), "10.3.0", "NVIDIA L4 sm_89")):
        assert changed != base
    shapes = profile_shapes({"y": [2, 16, 8, 8], "t": [10]}, ["y"], BuildConfig(min_batch=1, opt_batch=4, max_batch=16))
    assert shapes["y"] == ((1, 16, 8, 8), (4, 16, 8, 8), (16, 16, 8, 8)) and shapes["t"] == ((10,),) * 3
    check_batch({"y": np.zeros((8, 16, 8, 8)), "t": np.zeros(10)}, shapes, ["y"])
    with pytest.raises(ExportError, match="profile allows"):
        check_batch({"y": np.zeros((32, 16, 8, 8)), "t": np.zeros(10)}, shapes, ["y"])
    with pytest.raises(ExportError, match="batch range"):
        BuildConfig(min_batch=4, opt_batch=2)


def test_tensorrt_runner_says_what_is_missing(nets, tmp_path):
    pytest.importorskip("onnx")
    try:
        import tensorrt  # noqa: F401
        pytest.skip("TensorRT is installed: the GPU tests cover it")
    except ImportError:
        pass
    from export.tensorrt_runner import TrtRunner

    with pytest.raises(ExportError, match="TensorRT is not available"):
        TrtRunner(tmp_path / "x.onnx", tmp_path)


@pytest.mark.tensorrt
@pytest.mark.gpu
def test_tensorrt_fp32_parity(nets, tmp_path):
    pytest.importorskip("tensorrt")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    from export.tensorrt_runner import TrtRunner

    codec, denoiser = nets
    graph = CDDMGraph(denoiser, codec.decoder)
    path = _export(graph, "cddm", tmp_path, 10, "cddm_k10")
    inputs = as_numpy(example_inputs("cddm", 16, 32, 4, 10), graph.inputs)
    assert parity_report(TorchRunner(graph), TrtRunner(path, tmp_path / "engines"), inputs, rtol=1e-3)["passed"]


def test_profile_record(tmp_path):
    from export.profile import run_profile

    record = run_profile("cddm", ["torch", "ort"], [1, 2], [1, 2], tmp_path, threads=1, warmup=1, repeats=3)
    assert len(record["results"]) == 8
    assert {c["backend"] for c in record["per_step_ms"]} == {"torch", "ort"}
    saved = json.loads((tmp_path / "profile.json").read_text())
    assert saved["machine"]["cores"] >= 1 and (tmp_path / "profile.png").exists()
    assert all(r["p99_ms"] >= r["p50_ms"] > 0 for r in record["results"])


def _randomized(module):
    with torch.no_grad():
        for p in module.parameters():  # the zero-initialized heads too
            p.normal_(0, 0.05)
    return module


@pytest.mark.parametrize("steps", [2, 10])
def test_icdm_and_djscc_receiver_graphs_match_torch(nets, tmp_path, steps):
    """ICDM's unrolled joint sampler and Guo et al.'s receiver export and agree with torch."""
    from export.build import GraphSpec
    from export.graphs import DJSCCGraph, ICDMGraph
    from models.autoencoder import AutoencoderConfig, SemanticAutoencoder
    from models.denoiser import LatentPrior
    from models.djscc import DiffusionLink, LinkConfig

    torch.manual_seed(1)
    codec, _ = nets
    priors = [_randomized(LatentPrior(DenoiserConfig(width=16))) for _ in range(2)]
    link = DiffusionLink(LinkConfig()).eval()
    specs = [GraphSpec("icdm", ICDMGraph(*priors, codec.decoder), {"jscc": JSCCConfig(filters=16)}, steps),
             GraphSpec("djscc", DJSCCGraph(link.upsampler, _randomized(LatentPrior(DenoiserConfig(8, 16))),
                                           SemanticAutoencoder(AutoencoderConfig(filters=16))),
                       {"link": link.config}, steps)]
    for spec in specs:
        path = tmp_path / f"{spec.name}.onnx"
        export_graph(spec.graph, spec.example(32, 2), path, kind=spec.kind, batch_inputs=BATCH_INPUTS[spec.kind],
                     configs=spec.configs, steps=steps)
        for batch in (1, 5):
            inputs = as_numpy(spec.example(32, batch), spec.graph.inputs)
            report = parity_report(TorchRunner(spec.graph), OrtRunner(path), inputs, rtol=1e-4)
            assert report["passed"], (spec.kind, report)
