"""Calibrated class scores: temperature scaling fitted on validation data, and the expected
calibration error every classifier card reports.

Temperature scaling (Guo et al. 2017) divides a network's logits by one number ``T`` chosen to
minimise the negative log-likelihood of the *validation* crops; the class order, and so the
accuracy, does not change. The shipped ONNX file holds the scaled network, so the viewer's
softmax is the calibrated one and a manifest threshold means what it says.

The expected calibration error (top-label, 15 equal-width confidence bins) is the mean gap
between confidence and accuracy, weighted by the share of samples in each bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ECE_BINS",
    "expected_calibration_error",
    "fit_temperature",
    "logits_of",
    "softmax",
    "with_temperature",
]

ECE_BINS = 15
#: Temperatures searched (log-spaced; 1 = unchanged).
_GRID = np.exp(np.linspace(np.log(0.2), np.log(10.0), 400))


def softmax(logits: ArrayLike, temperature: float = 1.0) -> NDArray[np.float64]:
    """Row-wise softmax of ``logits / temperature``."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def _nll(logits: NDArray[np.float64], labels: NDArray[np.intp], temperature: float) -> float:
    p = softmax(logits, temperature)[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(p, 1e-12, 1.0))))


def fit_temperature(logits: ArrayLike, labels: ArrayLike) -> float:
    """The temperature minimising the negative log-likelihood of ``labels`` (class indices)
    under ``softmax(logits / T)``; 1 when there is nothing to fit."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.intp)
    if z.ndim != 2 or not len(z) or len(z) != len(y):
        return 1.0
    losses = [_nll(z, y, t) for t in _GRID]
    return float(_GRID[int(np.argmin(losses))])


def expected_calibration_error(
    probabilities: ArrayLike, labels: ArrayLike, bins: int = ECE_BINS
) -> float | None:
    """Top-label ECE: samples binned by their highest probability into ``bins`` equal-width
    bins of [0, 1]; the sum over bins of (share of samples) x |accuracy - mean confidence|.
    ``None`` for no samples."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.intp)
    if p.ndim != 2 or not len(p):
        return None
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap = abs(correct[members].mean() - confidence[members].mean())
            total += members.mean() * gap
    return float(total)


def logits_of(model: Any, images: Any, prepare: Any, batch_size: int = 128) -> NDArray[np.float64]:
    """The logits of ``model`` (eval mode, no gradients) for images (N, 1, H, W), each batch
    passed through ``prepare`` (the network's input normalisation) first."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            out.append(model(prepare(images[start : start + batch_size])).double().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def with_temperature(model: Any, temperature: float) -> Any:
    """``model`` whose logits are divided by ``temperature`` (a torch module that exports to
    ONNX as the network followed by one division)."""
    import torch

    class TemperatureScaled(torch.nn.Module):
        def __init__(self, inner: Any, value: float) -> None:
            super().__init__()
            self.inner = inner
            self.temperature = float(value)

        def forward(self, x: Any) -> Any:
            return self.inner(x) / self.temperature

    scaled = TemperatureScaled(model, temperature)
    scaled.eval()
    return scaled
