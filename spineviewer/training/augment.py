"""Augmentation for MR and radiograph crops, on batches of tensors (N, 1, H, W) in [0, 1].

Intensity: a random scale and gamma (coil and window differences), Gaussian noise; geometry:
small rotations, shifts and zooms; horizontal flips only where the anatomy allows it (an
axial disc is left-right symmetric as far as its state goes; anterior-posterior is not).
Everything is drawn from the generator passed in, so a seed reproduces a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Augment:
    """Ranges of the random changes (0 disables one)."""

    intensity_scale: float = 0.15
    gamma: float = 0.2
    noise_sigma: float = 0.03
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
        if self.intensity_scale:
            x = x * uniform(1 - self.intensity_scale, 1 + self.intensity_scale).view(n, 1, 1, 1)
        if self.gamma:
            g = torch.exp(uniform(-self.gamma, self.gamma)).view(n, 1, 1, 1)
            x = x.clamp(min=0.0) ** g
        if self.noise_sigma:
            sigma = uniform(0.0, self.noise_sigma).view(n, 1, 1, 1)
            x = x + torch.randn(x.shape, generator=generator) * sigma
        return x.clamp(0.0, 1.0)
