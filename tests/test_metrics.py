import numpy as np
import pytest

from diffair.testbed.metrics import (IMAGE_METRICS, haarpsi, image_metrics, latent_mse_db, ms_ssim, ms_ssim_scales,
                                    psnr_db, ssim, vif)


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


@pytest.mark.parametrize("score", [ms_ssim, vif, haarpsi])
@pytest.mark.parametrize("side", [32, 128])
def test_ms_ssim_vif_and_haarpsi_are_one_for_a_copy_and_fall_with_noise(rng, score, side):
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


def _matlab_same(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """MATLAB's conv2(image, kernel, 'same'): the full convolution's central part, which for an
    even kernel of side k starts at k / 2 (zeros outside the image)."""
    from scipy.signal import convolve2d

    full = convolve2d(image, kernel, mode="full")
    top, left = kernel.shape[0] // 2, kernel.shape[1] // 2
    return full[top:top + image.shape[0], left:left + image.shape[1]]


def _haarpsi_by_the_paper(reference: np.ndarray, estimate: np.ndarray, c=30.0, alpha=4.2, scales=3) -> float:
    """HaarPSI of two [H, W, 3] images in [0, 1], written from Reisenhofer et al. 2018 (eqs. 5-11,
    the colour variant of section 4): YIQ on a 0-255 scale, 2 x 2 mean and subsampling, Haar
    wavelets of sides 2, 4, 8 along both axes, the local similarity of the two finest scales,
    weighted by the coarsest, and the I / Q channels' 2 x 2 means as the third orientation."""
    yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])

    def channels(image):
        planes = np.einsum("cj,hwj->chw", yiq, 255.0 * image)
        return [_matlab_same(plane, np.full((2, 2), 0.25))[::2, ::2] for plane in planes]

    def haar(plane):  # [2 orientations][scales] coefficient maps
        maps = [[], []]
        for j in range(1, scales + 1):
            wavelet = np.full((2 ** j, 2 ** j), 2.0 ** -j)
            wavelet[: 2 ** (j - 1)] *= -1
            maps[0].append(_matlab_same(plane, wavelet))
            maps[1].append(_matlab_same(plane, wavelet.T))
        return maps

    def similarity(a, b):
        return (2 * a * b + c) / (a ** 2 + b ** 2 + c)

    (y1, i1, q1), (y2, i2, q2) = channels(reference), channels(estimate)
    h1, h2 = haar(y1), haar(y2)
    local, weights = [], []
    for orientation in range(2):
        weights.append(np.maximum(np.abs(h1[orientation][-1]), np.abs(h2[orientation][-1])))
        local.append(sum(similarity(np.abs(h1[orientation][j]), np.abs(h2[orientation][j])) for j in range(2)) / 2)
    mean = np.full((2, 2), 0.25)
    local.append((similarity(np.abs(_matlab_same(i1, mean)), np.abs(_matlab_same(i2, mean)))
                  + similarity(np.abs(_matlab_same(q1, mean)), np.abs(_matlab_same(q2, mean)))) / 2)
    weights.append((weights[0] + weights[1]) / 2)
    sigmoid = [1 / (1 + np.exp(-alpha * s)) for s in local]
    pooled = sum(float(np.sum(s * w)) for s, w in zip(sigmoid, weights)) / sum(float(np.sum(w)) for w in weights)
    return float((np.log(pooled / (1 - pooled)) / alpha) ** 2)


@pytest.mark.parametrize("shape", [(32, 32), (96, 80)])
def test_haarpsi_follows_the_paper(rng, shape):
    """piq's HaarPSI against the paper's equations written here independently: the same score to
    1e-4 on a CIFAR-sized and a larger image, mildly and strongly distorted."""
    image = rng.random((*shape, 3))
    for sigma in (0.03, 0.2):
        noisy = np.clip(image + sigma * rng.standard_normal(image.shape), 0, 1)
        assert haarpsi(image, noisy) == pytest.approx(_haarpsi_by_the_paper(image, noisy), abs=1e-4)


def test_a_sweep_may_score_only_some_metrics_and_always_psnr():
    """``--metrics`` (SweepOptions.metrics): the chosen metrics and PSNR, in report order; an
    unknown name is refused with the names known; the CLI's list is the metrics' own."""
    from diffair.dsp.errors import ConfigError
    from diffair.testbed.cli.args import IMAGE_METRIC_NAMES

    assert tuple(IMAGE_METRICS) == IMAGE_METRIC_NAMES
    assert list(image_metrics(None, ("vif", "ssim"))) == ["psnr_db", "ssim", "vif"]
    assert list(image_metrics(None, None)) == list(IMAGE_METRICS)
    with pytest.raises(ConfigError, match=r"unknown image metric\(s\) \['lpips'\]; expected some of psnr_db, ssim"):
        image_metrics(None, ("lpips",))
