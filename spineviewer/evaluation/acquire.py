"""From the noise-free signal to stored pixels: coil bias field, Rician noise, scaling.

- Bias field: the posterior spine coil's sensitivity falls off with distance in front of the
  back, ``exp(-(y_back - y) / L)`` with ``L`` 160-350 mm, times a slow ripple of a few per cent
  (three long plane waves); normalised to 1 at the canal. One field per study (one coil).
- Noise: the magnitude of the complex signal plus Gaussian noise in both channels (Rician:
  a positive floor in the air, a bias at low signal). Its standard deviation is the case's noise
  factor (0.5x-4x) times :data:`REFERENCE_NOISE` of the sequence's brightest tissue signal.
- Stored values: a receiver gain puts the 99.8th percentile at 1500-3500, rounded to 12-bit
  unsigned integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.render import StackGeometry
from spineviewer.evaluation.tissues import CSF, FAT, Sequence, nucleus, signal

__all__ = ["REFERENCE_NOISE", "BiasField", "acquire", "draw_bias", "noise_sigma"]

#: Noise standard deviation at the noise factor 1, as a fraction of the brightest tissue.
REFERENCE_NOISE = 0.025
MAX_STORED = 4095


@dataclass(frozen=True)
class BiasField:
    back_y: float
    falloff_mm: float
    waves: NDArray[np.float64]  # (3, 3) radians per mm
    phases: NDArray[np.float64]
    ripple: float
    reference: NDArray[np.float64]  # where the field is 1

    def __call__(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        def raw(p: NDArray[np.float64]) -> NDArray[np.float64]:
            coil = np.exp(-(self.back_y - p[..., 1]) / self.falloff_mm)
            ripple = 1.0 + self.ripple * np.cos(p @ self.waves.T + self.phases).mean(axis=-1)
            return np.asarray(coil * ripple)

        return raw(points) / float(raw(self.reference[None])[0])


def draw_bias(rng: np.random.Generator, back_y: float, reference: NDArray[np.float64]) -> BiasField:
    directions = rng.normal(size=(3, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    lengths = rng.uniform(250.0, 500.0, size=(3, 1))
    return BiasField(
        back_y=back_y,
        falloff_mm=float(rng.uniform(160.0, 350.0)),
        waves=2 * math.pi / lengths * directions,
        phases=rng.uniform(0, 2 * math.pi, size=3),
        ripple=float(rng.uniform(0.03, 0.12)),
        reference=reference,
    )


def noise_sigma(sequence: Sequence, noise_factor: float) -> float:
    """The noise standard deviation (signal units) of a sequence at a noise factor."""
    brightest = max(signal(t, sequence) for t in (CSF, FAT, nucleus(0.0)))
    return REFERENCE_NOISE * noise_factor * brightest


def acquire(
    stacks: list[tuple[NDArray[np.float32], StackGeometry]],
    bias: BiasField,
    sigma: float,
    rng: np.random.Generator,
) -> list[NDArray[np.uint16]]:
    """Stored pixels of one series: each of its stacks' clean signal (slices, rows, cols)
    biased, made noisy and scaled by one receiver gain for the whole series."""
    noisy = []
    for clean, geometry in stacks:
        field = np.stack([bias(geometry.pixel_points(i)) for i in range(geometry.count)])
        biased = clean * field.astype(np.float32)
        real = biased + rng.normal(0.0, sigma, size=biased.shape).astype(np.float32)
        imaginary = rng.normal(0.0, sigma, size=biased.shape).astype(np.float32)
        noisy.append(np.hypot(real, imaginary))
    top = max(float(np.percentile(m, 99.8)) for m in noisy)
    gain = float(rng.uniform(1500.0, 3500.0)) / max(top, 1e-6)
    return [np.clip(np.rint(m * gain), 0, MAX_STORED).astype(np.uint16) for m in noisy]
