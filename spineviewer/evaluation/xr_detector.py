"""From line integrals to stored pixels: the detector, scatter, noise and processing.

1. The work grid's line integrals (soft tissue, bone, metal) are resampled (bilinear) to the
   detector's pixels; the primary beam is ``exp(-integral)`` times a heel effect (the
   intensity falls 8-15 % from the cathode end to the anode end, top to bottom or bottom to
   top).
2. Scatter: the primary blurred over 25-45 mm (a Gaussian) times a scatter-to-primary ratio of
   0.3-0.8 (behind a grid) is added.
3. Quantum noise: relative standard deviation ``sigma_ref x noise factor / sqrt(signal /
   signal_ref)`` (Poisson: the more photons, the less noise), ``sigma_ref`` 1.5 % at the
   median signal behind the spine, spatially correlated by the scintillator's blur (a Gaussian
   of 0.6-1.0 pixel, the noise rescaled to keep its variance).
4. Log: ``-log(signal)``, the for-presentation processing a DX or CR makes: latitude
   compression (0.5-0.85 of the image's 20-40 mm blur taken away: the trunk's thickness no
   longer fills the grey scale, as multi-scale processing does), unsharp masking (detail = image
   less its 3-6 mm blur, boosted 0.4-1.0) and a window between the 0.5 and 99.8 percentiles,
   mapped onto 2 % - 98 % of the stored range (12, 14 or 16 bits). In
   MONOCHROME1 the stored value is inverted (bone dark in the numbers, white on the screen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Detector", "draw_detector", "gaussian_blur", "resample", "to_stored"]

Image = NDArray[np.float32]


@dataclass(frozen=True)
class Detector:
    heel: float
    heel_downward: bool
    scatter_mm: float
    scatter_ratio: float
    blur_px: float
    sharpen: float
    sharpen_mm: float
    latitude: float
    latitude_mm: float
    bits: int

    def parameters(self) -> dict[str, object]:
        return {
            "heel_effect": round(self.heel, 4),
            "heel_downward": self.heel_downward,
            "scatter_blur_mm": round(self.scatter_mm, 2),
            "scatter_to_primary": round(self.scatter_ratio, 3),
            "detector_blur_px": round(self.blur_px, 3),
            "unsharp_gain": round(self.sharpen, 3),
            "unsharp_mm": round(self.sharpen_mm, 2),
            "latitude_compression": round(self.latitude, 3),
            "latitude_mm": round(self.latitude_mm, 2),
            "bits_stored": self.bits,
        }


def draw_detector(rng: np.random.Generator) -> Detector:
    return Detector(
        heel=float(rng.uniform(0.08, 0.15)),
        heel_downward=bool(rng.random() < 0.5),
        scatter_mm=float(rng.uniform(25.0, 45.0)),
        scatter_ratio=float(rng.uniform(0.3, 0.8)),
        blur_px=float(rng.uniform(0.6, 1.0)),
        sharpen=float(rng.uniform(0.4, 1.0)),
        sharpen_mm=float(rng.uniform(3.0, 6.0)),
        latitude=float(rng.uniform(0.5, 0.85)),
        latitude_mm=float(rng.uniform(20.0, 40.0)),
        bits=int(rng.choice([12, 14, 16])),
    )


def gaussian_blur(image: NDArray[np.floating], sigma_px: float) -> Image:
    """A Gaussian blur of ``sigma_px`` pixels (FFT, edges mirrored so nothing wraps)."""
    if sigma_px <= 0:
        return np.asarray(image, dtype=np.float32)
    pad = int(min(3 * sigma_px + 1, max(image.shape)))
    padded = np.pad(np.asarray(image, dtype=np.float32), pad, mode="reflect")
    fy = np.fft.fftfreq(padded.shape[0])[:, None]
    fx = np.fft.rfftfreq(padded.shape[1])[None, :]
    kernel = np.exp(-2 * (np.pi * sigma_px) ** 2 * (fy**2 + fx**2)).astype(np.float32)
    out = np.fft.irfft2(np.fft.rfft2(padded) * kernel, s=padded.shape)
    return np.asarray(out[pad:-pad, pad:-pad], dtype=np.float32)


def _axis_weights(
    n_out: int, n_in: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float32]]:
    pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    i0 = np.floor(pos).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (pos - i0).astype(np.float32)


def resample(image: Image, shape: tuple[int, int]) -> Image:
    """Bilinear resampling of a grid spanning the same area onto ``shape`` pixels."""
    r0, r1, fr = _axis_weights(shape[0], image.shape[0])
    c0, c1, fc = _axis_weights(shape[1], image.shape[1])
    rows = image[r0] * (1 - fr)[:, None] + image[r1] * fr[:, None]
    return np.asarray(rows[:, c0] * (1 - fc) + rows[:, c1] * fc, dtype=np.float32)


def to_stored(
    integral: Image,
    detector: Detector,
    spacing: float,
    noise_factor: float,
    spine_cols: tuple[int, int],
    monochrome1: bool,
    rng: np.random.Generator,
) -> tuple[NDArray[np.uint16], dict[str, float]]:
    """Stored pixel values of the detector-grid line integral (module docstring)."""
    rows, cols = integral.shape
    ramp = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None]
    heel = 1.0 - detector.heel * (ramp if detector.heel_downward else 1.0 - ramp)
    primary = np.exp(-integral) * heel
    small = max(1, round(4.0 / spacing))  # the scatter is smooth: blur a 4 mm grid
    coarse = primary[::small, ::small]
    scatter = gaussian_blur(coarse, detector.scatter_mm / (spacing * small))
    signal = primary + detector.scatter_ratio * resample(scatter, (rows, cols))
    reference = float(np.median(signal[:, spine_cols[0] : spine_cols[1]]))
    white = rng.standard_normal(size=signal.shape, dtype=np.float32)
    noise = gaussian_blur(white, detector.blur_px)
    noise *= np.float32(1.0 / max(float(noise.std()), 1e-6))
    sigma = 0.015 * noise_factor * np.sqrt(reference / np.maximum(signal, 1e-9))
    noisy = signal * (1.0 + sigma * noise)
    value = -np.log(np.maximum(noisy, reference * 1e-3))
    value = gaussian_blur(value, detector.blur_px * 0.5)
    detail = value - gaussian_blur(value, detector.sharpen_mm / spacing)
    coarse_value = value[::small, ::small]
    broad = resample(
        gaussian_blur(coarse_value, detector.latitude_mm / (spacing * small)), (rows, cols)
    )
    value = (
        value - detector.latitude * (broad - float(np.median(broad))) + detector.sharpen * detail
    )
    low, high = (float(v) for v in np.percentile(value, [0.5, 99.8]))
    top = 2**detector.bits - 1
    scaled = (value - low) / max(high - low, 1e-6) * 0.96 + 0.02
    stored = np.clip(np.rint(scaled * top), 0, top)
    if monochrome1:
        stored = top - stored
    return stored.astype(np.uint16), {
        "reference_signal": reference,
        "window_low": low,
        "window_high": high,
    }
