import numpy as np
import pytest

from diffair.testbed.metrics import latent_mse_db, ms_ssim, psnr_db, ssim


def test_psnr_of_known_noise(rng):
    image = rng.random((32, 32, 3))
    assert psnr_db(image, image + 0.01) == pytest.approx(40.0, abs=1e-6)


def test_ssim_matches_scikit_image(rng):
    metrics = pytest.importorskip("skimage.metrics")
    image = rng.random((48, 40, 3))
    noisy = np.clip(image + rng.normal(0, 0.1, image.shape), 0, 1)
    ours = ssim(image, noisy)
    theirs = metrics.structural_similarity(image, noisy, data_range=1.0, channel_axis=-1, gaussian_weights=True,
                                           sigma=1.5, use_sample_covariance=False)
    assert ours == pytest.approx(theirs, abs=1e-6)
    assert ssim(image, image) == pytest.approx(1.0)


def test_latent_mse_is_per_real_value_at_unit_variance():
    z = np.zeros(1000)
    assert latent_mse_db(z, z + np.sqrt(0.05)) == pytest.approx(-10.0)


def test_ms_ssim_is_one_for_equal_images_and_falls_with_noise(rng):
    image = rng.random((128, 128, 3))
    assert ms_ssim(image, image) == pytest.approx(1.0)
    scores = [ms_ssim(image, np.clip(image + s * rng.standard_normal(image.shape), 0, 1)) for s in (0.02, 0.1, 0.3)]
    assert scores[0] > scores[1] > scores[2] > 0
    # on CIFAR-size images it still answers (three scales) and agrees with SSIM on a mild error
    small = image[:32, :32]
    noisy = np.clip(small + 0.02 * rng.standard_normal(small.shape), 0, 1)
    assert ms_ssim(small, noisy) == pytest.approx(ssim(small, noisy), abs=0.05)
