import numpy as np
import pytest

from diffair.testbed.metrics import IMAGE_METRICS, latent_mse_db, ms_ssim, ms_ssim_scales, psnr_db, ssim, vif


def test_psnr_of_known_noise(rng):
    image = rng.random((32, 32, 3))
    assert psnr_db(image, image + 0.01) == pytest.approx(40.0, abs=1e-6)


def test_ssim_matches_scikit_image(rng):
    """torchmetrics' SSIM (reflected borders, whole image) against scikit-image's (valid
    interior): the same index up to the border handling, 0.01."""
    metrics = pytest.importorskip("skimage.metrics")
    image = rng.random((96, 80, 3))
    noisy = np.clip(image + rng.normal(0, 0.1, image.shape), 0, 1)
    theirs = metrics.structural_similarity(image, noisy, data_range=1.0, channel_axis=-1, gaussian_weights=True,
                                           sigma=1.5, use_sample_covariance=False)
    assert ssim(image, noisy) == pytest.approx(theirs, abs=0.01)
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-5)


def test_latent_mse_is_per_real_value_at_unit_variance():
    z = np.zeros(1000)
    assert latent_mse_db(z, z + np.sqrt(0.05)) == pytest.approx(-10.0)


@pytest.mark.parametrize("side, scales", [(32, 2), (64, 3), (128, 4), (176, 5), (512, 5)])
def test_ms_ssim_keeps_the_scales_the_image_size_admits(side, scales):
    assert ms_ssim_scales(side, side + 100) == scales


@pytest.mark.parametrize("score", [ms_ssim, vif])
@pytest.mark.parametrize("side", [32, 128])
def test_ms_ssim_and_vif_are_one_for_a_copy_and_fall_with_noise(rng, score, side):
    image = rng.random((side, side, 3))
    assert score(image, image) == pytest.approx(1.0, abs=1e-4)
    scores = [score(image, np.clip(image + s * rng.standard_normal(image.shape), 0, 1)) for s in (0.02, 0.1, 0.3)]
    assert scores[0] > scores[1] > scores[2] >= 0


def test_a_batch_scores_each_image_as_alone(rng):
    """Each metric on ``[N, H, W, 3]`` gives the N single-image scores (to float32 rounding)."""
    reference = rng.random((3, 40, 48, 3))
    estimate = np.clip(reference + 0.05 * rng.standard_normal(reference.shape), 0, 1)
    for name, score in IMAGE_METRICS.items():
        batch = score(reference, estimate)
        assert batch.shape == (3,), name
        np.testing.assert_allclose(batch, [score(r, e) for r, e in zip(reference, estimate)], atol=1e-5, err_msg=name)
