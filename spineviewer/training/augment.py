"""Augmentation for MR and radiograph crops, on batches of tensors (N, 1, H, W) in [0, 1].

Intensity: a random scale and gamma (coil and window differences), Gaussian blur (coarser
acquisitions), Gaussian noise; geometry:
small rotations, shifts and zooms; horizontal flips only where the anatomy allows it (an
axial disc is left-right symmetric as far as its state goes; anterior-posterior is not).
Everything is drawn from the generator passed in, so a seed reproduces a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


def gaussian_blur(image: NDArray[np.float32], sigma: float) -> NDArray[np.float32]:
    """``image`` (H, W) blurred with a Gaussian of ``sigma`` pixels (edges repeated)."""
    if sigma <= 0.05:
        return image
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = np.pad(image, radius, mode="edge").astype(np.float32)
    for axis in (0, 1):
        out = sum(  # type: ignore[assignment]
            taps[k] * np.take(out, np.arange(k, k + out.shape[axis] - 2 * radius), axis=axis)
            for k in range(len(taps))
        )
    return out.astype(np.float32)


@dataclass(frozen=True)
class Augment:
    """Ranges of the random changes (0 disables one)."""

    intensity_scale: float = 0.15
    gamma: float = 0.2
    noise_sigma: float = 0.03
    #: Largest Gaussian blur sigma in pixels (drawn per crop).
    blur_sigma: float = 0.0
    rotation_deg: float = 10.0
    shift_fraction: float = 0.06
    zoom: float = 0.08
    flip_horizontal: bool = True
    flip_vertical: bool = False

    def __call__(self, batch: Any, generator: Any) -> Any:
        """A randomly changed copy of ``batch`` (N, C, H, W)."""
        import torch
        from torch.nn import functional

        n = batch.shape[0]

        def uniform(low: float, high: float) -> Any:
            return torch.rand(n, generator=generator) * (high - low) + low

        x = batch
        if self.rotation_deg or self.shift_fraction or self.zoom or self.flip_horizontal:
            angle = uniform(-self.rotation_deg, self.rotation_deg) * math.pi / 180.0
            scale = 1.0 + uniform(-self.zoom, self.zoom)
            flip_x = torch.ones(n)
            if self.flip_horizontal:
                flip_x = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
            flip_y = torch.ones(n)
            if self.flip_vertical:
                flip_y = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
            cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
            theta = torch.zeros(n, 2, 3)
            theta[:, 0, 0], theta[:, 0, 1] = cos * flip_x, -sin
            theta[:, 1, 0], theta[:, 1, 1] = sin, cos * flip_y
            theta[:, 0, 2] = uniform(-self.shift_fraction, self.shift_fraction) * 2
            theta[:, 1, 2] = uniform(-self.shift_fraction, self.shift_fraction) * 2
            grid = functional.affine_grid(theta, list(x.shape), align_corners=False)
            x = functional.grid_sample(
                x, grid, mode="bilinear", padding_mode="border", align_corners=False
            )
        if self.blur_sigma:
            sigmas = uniform(0.0, self.blur_sigma).numpy()
            blurred = [
                gaussian_blur(x[i, c].numpy(), float(sigmas[i]))
                for i in range(n)
                for c in range(x.shape[1])
            ]
            x = torch.from_numpy(np.stack(blurred).reshape(x.shape))
        if self.intensity_scale:
            x = x * uniform(1 - self.intensity_scale, 1 + self.intensity_scale).view(n, 1, 1, 1)
        if self.gamma:
            g = torch.exp(uniform(-self.gamma, self.gamma)).view(n, 1, 1, 1)
            x = x.clamp(min=0.0) ** g
        if self.noise_sigma:
            sigma = uniform(0.0, self.noise_sigma).view(n, 1, 1, 1)
            x = x + torch.randn(x.shape, generator=generator) * sigma
        return x.clamp(0.0, 1.0)
