"""Temperature scaling and the expected calibration error of the classifier cards."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.training.augment import gaussian_blur
from spineviewer.training.temperature import (
    expected_calibration_error,
    fit_temperature,
    softmax,
    with_temperature,
)


def _sampled(temperature: float, n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits, and labels drawn from softmax(logits / temperature): calibrated at that T."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, (n, 3))
    p = softmax(logits, temperature)
    labels = np.array([rng.choice(3, p=row) for row in p])
    return logits, labels


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_the_fitted_temperature_is_the_one_the_labels_follow(true_t: float):
    logits, labels = _sampled(true_t)
    assert fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.12)


def test_scaling_lowers_the_calibration_error_of_an_overconfident_model():
    logits, labels = _sampled(2.5)
    before = expected_calibration_error(softmax(logits), labels)
    t = fit_temperature(logits, labels)
    after = expected_calibration_error(softmax(logits, t), labels)
    assert before is not None and after is not None
    assert before > 0.1 and after < 0.03


def test_ece_by_hand():
    # Two samples at confidence 0.9 (one right), two at 0.6 (both right): bins 13 and 9.
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    y = np.array([0, 1, 0, 0])
    expected = 0.5 * abs(0.5 - 0.9) + 0.5 * abs(1.0 - 0.6)
    assert expected_calibration_error(p, y) == pytest.approx(expected)
    assert expected_calibration_error(np.zeros((0, 2)), np.zeros(0)) is None


def test_nothing_to_fit_keeps_the_logits():
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0)) == 1.0


def test_the_scaled_network_divides_its_logits():
    torch = pytest.importorskip("torch")
    inner = torch.nn.Linear(4, 3)
    x = torch.randn(5, 4)
    scaled = with_temperature(inner, 2.0)
    assert torch.allclose(scaled(x), inner(x) / 2.0)


def test_blur_keeps_the_mean_and_smooths():
    rng = np.random.default_rng(1)
    image = rng.random((40, 50)).astype(np.float32)
    blurred = gaussian_blur(image, 1.5)
    assert blurred.shape == image.shape and blurred.dtype == np.float32
    assert abs(float(blurred[10:-10, 10:-10].mean() - image[10:-10, 10:-10].mean())) < 0.02
    assert blurred.std() < 0.5 * image.std()
    assert np.array_equal(gaussian_blur(image, 0.0), image)
