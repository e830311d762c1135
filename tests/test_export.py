"""ONNX export, the runner contract, parity, TensorRT plumbing and the profiler."""

import json

import numpy as np
import pytest
import torch

from diffair.dsp.errors import ExportError
from diffair.export.onnx_export import as_numpy, export_graph, read_sidecar
from diffair.export.parity import compare, parity_report
from diffair.export.rewrite import PolyphaseConvTranspose, polyphase, rewritable
from diffair.export.runners import OrtRunner, RunnerChoice, TorchRunner
from diffair.export.tensorrt_runner import BuildConfig, check_batch, engine_cache_key, profile_shapes
from diffair.models.denoiser import DenoiserConfig, LatentUNet
from diffair.models.graphs import DecoderGraph
from diffair.models.jscc import DeepJSCC, JSCCConfig
from diffair.models.observation import LatentObservation
from diffair.models.receivers import CDDMReceiver, sampler_plan
from diffair.models.schedule import NoiseSchedule
from diffair.models.transmitters import JSCCTransmitter

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


def _latent_shape(side):
    return 16, side // 4, side // 4


def _graphs(nets, steps=10):
    """The CDDM receiver's exported graphs and the JSCC transmitter's, by kind."""
    codec, denoiser = nets
    receiver = CDDMReceiver(denoiser, codec.decoder, steps=steps).eval()
    graphs = JSCCTransmitter(codec).export_graphs() + receiver.export_graphs(_latent_shape)
    return {g.kind: g for g in graphs}


def _export(graph, tmp_path):
    path = tmp_path / f"{graph.name}.onnx"
    export_graph(graph.graph, graph.example(32, 2), path, kind=graph.kind, configs=graph.configs, steps=graph.steps)
    return path


@pytest.mark.parametrize("steps", [1, 5, 10, 20])
def test_cddm_receiver_graph_matches_torch(nets, tmp_path, steps):
    graph = _graphs(nets, steps)["cddm"]
    path = _export(graph, tmp_path)
    assert path.name == f"cddm_k{steps}.onnx"
    meta = read_sidecar(path)
    assert meta["steps"] == steps and meta["opset"] >= 17 and len(meta["weights_sha256"]) == 64
    assert meta["configs"]["jscc"]["filters"] == 16
    for batch in (1, 7):
        inputs = as_numpy(graph.example(32, batch), graph.graph.inputs)
        report = parity_report(TorchRunner(graph.graph), OrtRunner(path), inputs, rtol=1e-4)
        assert report["passed"], report


@pytest.mark.parametrize("kind", ["encoder", "decoder", "denoiser"])
def test_single_graphs_match_torch(nets, tmp_path, kind):
    graph = _graphs(nets)[kind]
    path = _export(graph, tmp_path)
    inputs = as_numpy(graph.example(32, 5), graph.graph.inputs)
    assert parity_report(TorchRunner(graph.graph), OrtRunner(path), inputs)["passed"]


def test_one_graph_serves_every_snr(nets, tmp_path):
    codec, denoiser = nets
    runner = OrtRunner(_export(_graphs(nets, 10)["cddm"], tmp_path))
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
    decoder = _graphs(nets)["decoder"]
    path = _export(decoder, tmp_path)
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
        export_graph(DecoderGraph(codec.decoder), decoder.example(32, 1), tmp_path / "x.onnx", kind="decoder",
                     configs={}, opset=13)


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
    from diffair.export.tensorrt_runner import TrtRunner

    with pytest.raises(ExportError, match="TensorRT is not available"):
        TrtRunner(tmp_path / "x.onnx", tmp_path)


@pytest.mark.tensorrt
@pytest.mark.gpu
def test_tensorrt_fp32_parity(nets, tmp_path):
    pytest.importorskip("tensorrt")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    from diffair.export.tensorrt_runner import TrtRunner

    graph = _graphs(nets, 10)["cddm"]
    path = _export(graph, tmp_path)
    inputs = as_numpy(graph.example(32, 4), graph.graph.inputs)
    assert parity_report(TorchRunner(graph.graph), TrtRunner(path, tmp_path / "engines"), inputs, rtol=1e-3)["passed"]


def test_profile_record(tmp_path):
    from diffair.export.profile import run_profile

    record = run_profile("cddm", ["torch", "ort"], [1, 2], [1, 2], tmp_path, threads=1, warmup=1, repeats=3)
    assert len(record["results"]) == 8
    assert {c["backend"] for c in record["per_step_ms"]} == {"torch", "ort"}
    saved = json.loads((tmp_path / "profile.json").read_text())
    assert saved["machine"]["cores"] >= 1 and (tmp_path / "profile.png").exists()
    assert all(r["p99_ms"] >= r["p50_ms"] > 0 for r in record["results"])
    assert record["untrained_weights"] is False


def test_profile_refuses_missing_weights_unless_asked_for_untrained_networks(tmp_path):
    from diffair.dsp.errors import ModelError
    from diffair.export.profile import run_profile

    with pytest.raises(ModelError, match="jscc_mmse_awgn"):  # the jscc-mmse baseline ships for Rayleigh only
        run_profile("jscc-mmse", ["torch"], [1], [1], tmp_path, threads=1, warmup=1, repeats=2, channel="awgn")
    record = run_profile("jscc-mmse", ["torch"], [1], [1], tmp_path, threads=1, warmup=1, repeats=2, channel="awgn",
                         untrained=True)
    assert record["untrained_weights"] is True


def _randomized(module):
    with torch.no_grad():
        for p in module.parameters():  # the zero-initialized heads too
            p.normal_(0, 0.05)
    return module


@pytest.mark.parametrize("steps", [2, 10])
def test_icdm_and_djscc_receiver_graphs_match_torch(nets, tmp_path, steps):
    """ICDM's unrolled joint sampler (K = 2 with the paper's decoder, K = 10 with its decoder
    trained in the loop) and Guo et al.'s receiver export and agree with torch."""
    from diffair.models.autoencoder import AutoencoderConfig, SemanticAutoencoder
    from diffair.models.denoiser import LatentPrior
    from diffair.models.djscc import DiffusionJSCCReceiver, DiffusionLink, LinkConfig
    from diffair.models.icdm import ICDMDecoder, ICDMReceiver

    torch.manual_seed(1)
    codec, _ = nets
    priors = [_randomized(LatentPrior(DenoiserConfig(width=16))) for _ in range(2)]
    link = DiffusionLink(LinkConfig()).eval()
    decoder = codec.decoder if steps == 2 else _randomized(ICDMDecoder(codec.config)).eval()
    icdm = ICDMReceiver(*priors, decoder, steps=steps).eval()
    djscc = DiffusionJSCCReceiver(link, _randomized(LatentPrior(DenoiserConfig(8, 16))),
                                  SemanticAutoencoder(AutoencoderConfig(filters=16)), steps=steps).eval()
    graphs = icdm.export_graphs(_latent_shape) + djscc.export_graphs(lambda side: (64, side // 8, side // 8))
    assert [g.name for g in graphs] == [f"icdm_k{steps}", f"djscc_k{steps}"]
    for graph in graphs:
        path = _export(graph, tmp_path)
        for batch in (1, 5):
            inputs = as_numpy(graph.example(32, batch), graph.graph.inputs)
            report = parity_report(TorchRunner(graph.graph), OrtRunner(path), inputs, rtol=1e-4)
            assert report["passed"], (graph.kind, report)


def test_backend_names_and_aliases():
    assert RunnerChoice.parse("onnxruntime").label == "ort" and RunnerChoice.parse("tensorrt").label == "trt"
    assert RunnerChoice.parse("ort-cuda").variant == "cuda" and RunnerChoice.parse("trt-fp16").label == "trt-fp16"
    assert RunnerChoice.parse("torch").label == "torch" and RunnerChoice.parse("ORT").label == "ort"
    for bad in ("tflite", "ort-tpu", "trt-int8"):
        with pytest.raises(Exception, match="expected one of"):
            RunnerChoice.parse(bad)


@pytest.mark.parametrize("cin,cout,kernel,stride,padding,output_padding", [
    (12, 8, 5, 1, 2, 0), (8, 6, 5, 2, 2, 1), (6, 3, 5, 2, 2, 1), (8, 4, 4, 2, 1, 0), (4, 4, 3, 1, 1, 0)])
def test_polyphase_rewrite_is_the_same_function(cin, cout, kernel, stride, padding, output_padding):
    torch.manual_seed(1)
    layer = torch.nn.ConvTranspose2d(cin, cout, kernel, stride, padding, output_padding=output_padding)
    x = torch.randn(3, cin, 9, 7)
    with torch.no_grad():
        expected, got = layer(x), PolyphaseConvTranspose(layer)(x)
    assert got.shape == expected.shape == (3, cout, 9 * stride, 7 * stride)
    assert (got - expected).abs().max().item() < 1e-5


def test_polyphase_keeps_layers_without_a_centred_form():
    odd = torch.nn.ConvTranspose2d(4, 4, 3, 2, 0)           # output 2H + 1: not stride times the input
    assert not rewritable(odd)
    model = polyphase(torch.nn.Sequential(odd, torch.nn.ConvTranspose2d(4, 4, 4, 2, 1)))
    assert isinstance(model[0], torch.nn.ConvTranspose2d) and isinstance(model[1], PolyphaseConvTranspose)


def test_exported_graphs_have_no_transposed_convolution(nets, tmp_path):
    import onnx

    path = _export(_graphs(nets)["cddm"], tmp_path)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "ConvTranspose" not in ops and "DepthToSpace" in ops


def test_realtime_denoiser_graph_matches_torch(tmp_path):
    torch.manual_seed(2)
    codec = DeepJSCC(JSCCConfig(filters=16))
    denoiser = LatentUNet(DenoiserConfig(width=16, patch=2, blocks=1))
    with torch.no_grad():
        for p in denoiser.parameters():
            p.normal_(0, 0.05)
    graph = _graphs((codec, denoiser), 10)["cddm"]
    path = _export(graph, tmp_path)
    inputs = as_numpy(graph.example(32, 3), graph.graph.inputs)
    assert parity_report(TorchRunner(graph.graph), OrtRunner(path), inputs, rtol=1e-4)["passed"]
