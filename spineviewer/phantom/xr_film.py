"""The physics of a wide-profile AP radiograph (:mod:`spineviewer.phantom.xr_wide`): from
attenuation maps to stored detector values (numpy only).

Everything here works on a coarse *render grid* (about 0.5 mm) of line integrals: soft tissue,
bone excess, metal, gas (negative). :func:`expose` turns them into the primary beam with a
heel effect, adds scatter (the primary blurred over centimetres), and :func:`develop` makes the
stored image on the detector matrix: upsampling, quantum noise (larger where fewer photons
arrive), log, latitude compression, unsharp masking, a gamma and a window onto the stored bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatImage = NDArray[np.float64]


def box_blur(image: FloatImage, radius: int, axis: int) -> FloatImage:
    """A moving average of ``2 * radius + 1`` samples along ``axis`` (edges replicated)."""
    if radius < 1:
        return image
    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius + 1, radius)
    padded = np.pad(image, pad, mode="edge")
    summed = np.cumsum(padded, axis=axis)
    n = 2 * radius + 1
    upper = np.take(summed, np.arange(n, summed.shape[axis]), axis=axis)
    lower = np.take(summed, np.arange(0, summed.shape[axis] - n), axis=axis)
    return np.asarray((upper - lower) / n)


def blur(image: FloatImage, sigma_px: float) -> FloatImage:
    """An approximately Gaussian blur of standard deviation ``sigma_px`` (three box passes)."""
    radius = round(float(np.sqrt(sigma_px**2 + 1.0)) - 1.0) if sigma_px > 0 else 0
    radius = max(radius, 1) if sigma_px >= 0.8 else radius
    out = image
    for _ in range(3):
        out = box_blur(box_blur(out, radius, 0), radius, 1)
    return out


def resize_linear(image: FloatImage, shape: tuple[int, int]) -> FloatImage:
    """Bilinear resampling onto ``shape`` (pixel centres aligned at the image edges' middle)."""

    def axis_weights(n_in: int, n_out: int) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        at = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0.0, n_in - 1.0)
        low = np.minimum(np.floor(at).astype(np.intp), n_in - 2 if n_in > 1 else 0)
        return low, at - low

    r0, fr = axis_weights(image.shape[0], shape[0])
    rows = (
        image[r0] * (1 - fr)[:, None] + image[np.minimum(r0 + 1, image.shape[0] - 1)] * fr[:, None]
    )
    c0, fc = axis_weights(image.shape[1], shape[1])
    return np.asarray(rows[:, c0] * (1 - fc) + rows[:, np.minimum(c0 + 1, image.shape[1] - 1)] * fc)


@dataclass(frozen=True)
class Exposure:
    """How the beam and the detector behave (every value drawn per study)."""

    heel: float  # relative fall of the primary from the top to the bottom of the field
    scatter_to_primary: float
    scatter_sigma_mm: float
    detector_blur_mm: float
    noise: float  # relative quantum noise where the primary is exp(-5)
    latitude: float  # fraction of the large-scale log image removed
    latitude_mm: float
    unsharp_gain: float
    unsharp_mm: float
    gamma: float
    bits: int

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Exposure:
        return cls(
            heel=float(rng.uniform(0.0, 0.2)),
            scatter_to_primary=float(rng.uniform(0.2, 1.5)),
            scatter_sigma_mm=float(rng.uniform(15.0, 60.0)),
            detector_blur_mm=float(rng.uniform(0.2, 1.0)),
            noise=float(np.exp(rng.uniform(np.log(0.005), np.log(0.06)))),
            latitude=float(rng.uniform(0.0, 0.9)),
            latitude_mm=float(rng.uniform(10.0, 50.0)),
            unsharp_gain=float(rng.uniform(0.0, 1.5)),
            unsharp_mm=float(rng.uniform(1.5, 8.0)),
            gamma=float(rng.uniform(0.6, 1.6)),
            bits=int(rng.choice([10, 12, 14, 16])),
        )


def expose(attenuation: FloatImage, grid_mm: float, exposure: Exposure) -> FloatImage:
    """The detected intensity (primary with heel effect, plus scatter) on the render grid."""
    heel = np.linspace(1.0 + exposure.heel / 2, 1.0 - exposure.heel / 2, attenuation.shape[0])
    primary = np.exp(-attenuation) * heel[:, None]
    scatter = blur(primary, exposure.scatter_sigma_mm / grid_mm) * exposure.scatter_to_primary
    detected = primary + scatter
    return blur(detected, exposure.detector_blur_mm / grid_mm)


def develop(
    intensity: FloatImage,
    grid_mm: float,
    shape: tuple[int, int],
    exposure: Exposure,
    rng: np.random.Generator,
) -> NDArray[np.uint16]:
    """The stored image (bone bright, MONOCHROME2) on the detector matrix ``shape``."""
    log = -np.log(np.maximum(intensity, 1e-6))
    # processing on the grid first (cheap), then the fine image carries the detail and noise
    large = blur(log, exposure.latitude_mm / grid_mm)
    processed = log - exposure.latitude * (large - float(large.mean()))
    fine = resize_linear(processed, shape)
    raw = resize_linear(intensity, shape)
    sigma = exposure.noise * np.sqrt(np.exp(-5.0) / np.maximum(raw, 1e-6))
    fine += rng.standard_normal(shape) * np.minimum(sigma, 0.5)
    detail = fine - resize_linear(blur(processed, exposure.unsharp_mm / grid_mm), shape)
    fine += exposure.unsharp_gain * detail
    low, high = np.percentile(fine[::4, ::4], [0.2, 99.8])
    scaled = np.clip((fine - low) / max(high - low, 1e-9), 0.0, 1.0) ** exposure.gamma
    top = 2**exposure.bits - 1
    return np.rint(scaled * top).astype(np.uint16)
