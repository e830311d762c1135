"""Photographs as 32 x 32 tiles (models.tiling): the layout round-trips in torch and numpy alike,
and a receiver decodes a tiled observation exactly as it decodes each tile on its own, in torch
and through onnxruntime (the receive path's runner)."""

import dataclasses

import numpy as np
import pytest
import torch

from diffair.export.receiver_runner import ReceiverRunner
from diffair.models import registry
from diffair.models.tiling import from_tiles, tiled_observation, to_tiles


def test_tiles_round_trip_and_numpy_lays_them_out_as_torch():
    images = torch.rand(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    tiles = to_tiles(images, 32)
    assert tiles.shape == (2 * 2 * 3, 3, 32, 32)
    assert torch.equal(tiles[4], images[0, :, 32:64, 32:64])  # image 0, row 1, column 1
    assert torch.equal(from_tiles(tiles, 2, 2, 3), images)
    assert np.array_equal(from_tiles(tiles.numpy(), 2, 2, 3), images.numpy())


@pytest.fixture(scope="module")
def jscc():
    receiver = registry.build("jscc", "awgn", None, registry.WEIGHTS_DIR, "plain", switch=False)
    assert receiver.latent_tile == 8  # a 32 x 32 tile of a codec that downsamples by 4
    return receiver


def test_a_tiled_observation_decodes_as_its_tiles_one_by_one(jscc):
    obs = jscc.observation.random(1, (16, 16, 24), torch.Generator().manual_seed(1))  # a 64 x 96 image
    tiles = tiled_observation(obs, 8)
    with torch.no_grad():
        whole = jscc(obs)
        one_by_one = [jscc(dataclasses.replace(tiles, y=tiles.y[i:i + 1], gain=tiles.gain[i:i + 1],
                                               noise_var=tiles.noise_var[i:i + 1])).image for i in range(6)]
    assert whole.image.shape == (1, 3, 64, 96)
    assert torch.allclose(whole.image, from_tiles(torch.cat(one_by_one), 1, 2, 3), atol=1e-5)


def test_the_onnxruntime_runner_decodes_tiles_as_torch_does(jscc, tmp_path):
    obs = jscc.observation.random(2, (16, 16, 16), torch.Generator().manual_seed(2))
    runner = ReceiverRunner(jscc, "ort", tmp_path)
    with torch.no_grad():
        reference = jscc(obs)
    decoded = runner(obs)
    assert decoded.image.shape == (2, 3, 64, 64) and decoded.latent.shape == (2, 16, 16, 16)
    assert float((decoded.image - reference.image).abs().max()) < 1e-4
    numpy_out = runner.decode_numpy(obs)
    assert isinstance(numpy_out.image, np.ndarray) and np.array_equal(numpy_out.image, decoded.image.numpy())


def test_icdm_interferer_codes_a_photograph_in_tiles_too():
    """The interferer of ICDM's scenario (loopback / tx / the interference sweep) sends a photo as
    the wanted user does: the latent of its top-left tile is that tile's latent on its own."""
    from diffair.models.symbols import symbols_to_latent
    from diffair.testbed.rxtx import interferer_payload

    photo = np.random.default_rng(3).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    whole = symbols_to_latent(torch.from_numpy(interferer_payload(photo))[None], (16, 16, 24))
    corner = symbols_to_latent(torch.from_numpy(interferer_payload(photo[:32, :32]))[None], (16, 8, 8))
    assert torch.allclose(whole[..., :8, :8], corner, atol=1e-5)


def test_a_batch_split_over_one_thread_runs_decodes_as_one_run(jscc, tmp_path):
    """OrtRunner splits a batch (a photo's tiles) over one-thread runs in parallel: the same
    images as the whole batch on one thread, to float rounding."""
    from diffair.export.runners import RunnerChoice

    obs = jscc.observation.random(1, (16, 24, 16), torch.Generator().manual_seed(4))  # 96 x 64: 6 tiles
    split = ReceiverRunner(jscc, RunnerChoice("ort", threads=3), tmp_path).decode_numpy(obs)
    single = ReceiverRunner(jscc, RunnerChoice("ort", threads=1), tmp_path).decode_numpy(obs)
    assert split.image.shape == single.image.shape == (1, 3, 96, 64)
    assert np.abs(split.image - single.image).max() < 1e-5 and np.abs(split.latent - single.latent).max() < 1e-6
