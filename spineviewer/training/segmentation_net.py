"""A 3D U-Net shaped as nnU-Net (v2) builds its ``PlainConvUNet`` (torch; training only).

Each encoder stage is two convolutions, each followed by instance normalisation (affine) and
leaky ReLU (slope 0.01); every stage but the first starts with a strided convolution. As in
nnU-Net's plans, each stage has its own kernel (``kernels``: (1, 3, 3) for an in-plane stage of
anisotropic data) and its own downsampling stride (``strides``: (1, 2, 2) down in-plane
only). The decoder mirrors it: a transposed convolution (kernel = stride) up, the skip
concatenated, convolutions, and a 1 x 1 x 1 segmentation head per stage. With
``deep_supervision`` :meth:`UNet3d.forward` returns the full-resolution output first and the
coarser ones after it, as nnU-Net trains; without it (and in :class:`FullResolution`, the
wrapper exported to ONNX) only the full-resolution output: the deep supervision heads are
dropped, as nnU-Net's predictor drops them. ``docs/nnunet-conversion.md`` does the same with a
real nnU-Net checkpoint. With ``slice_coordinate`` the network makes itself a second input
channel, the position along the patch's slices (CoordConv; not nnU-Net's): a network whose
patch holds the whole column then knows where in it a structure lies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["FullResolution", "UNet3d"]

#: nnU-Net's leaky ReLU slope.
NEGATIVE_SLOPE = 0.01
Triple = tuple[int, int, int]


def _triple(values: Sequence[int]) -> Triple:
    a, b, c = (int(v) for v in values)
    return a, b, c


def _conv(into: int, out: int, kernel: Sequence[int], stride: Sequence[int]) -> list[nn.Module]:
    """conv -> instance norm -> leaky ReLU ('same' padding)."""
    pad = _triple([k // 2 for k in kernel])
    return [
        nn.Conv3d(into, out, _triple(kernel), stride=_triple(stride), padding=pad),
        nn.InstanceNorm3d(out, eps=1e-5, affine=True),
        nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True),
    ]


def _stage(
    into: int, out: int, kernel: Sequence[int], stride: Sequence[int], convs: int
) -> nn.Sequential:
    layers = _conv(into, out, kernel, stride)
    for _ in range(convs - 1):
        layers += _conv(out, out, kernel, (1, 1, 1))
    return nn.Sequential(*layers)


class UNet3d(nn.Module):
    """(N, ``in_channels``, D, H, W) -> logits (N, ``classes``, D, H, W); each spatial size a
    multiple of the product of ``strides`` along it."""

    def __init__(
        self,
        in_channels: int,
        classes: int,
        features: Sequence[int] = (4, 8, 16, 48, 96),
        kernels: Sequence[Triple] | None = None,
        strides: Sequence[Triple] | None = None,
        *,
        decoder_convs: int = 2,
        deep_supervision: bool = False,
        slice_coordinate: bool = False,
    ) -> None:
        super().__init__()
        #: Whether the network adds its own input channel, the position along the patch's
        #: slices (-1 first, 1 last): where in the patch a structure lies (CoordConv).
        self.slice_coordinate = slice_coordinate
        stages = len(features)
        kernels = list(kernels or [(3, 3, 3)] * stages)
        strides = list(strides or [(1, 1, 1)] + [(2, 2, 2)] * (stages - 1))
        if len(kernels) != stages or len(strides) != stages:
            raise ValueError("one kernel and one stride per stage")
        self.deep_supervision = deep_supervision
        self.encoder = nn.ModuleList()
        into = in_channels + (1 if slice_coordinate else 0)
        for width, kernel, stride in zip(features, kernels, strides, strict=True):
            self.encoder.append(_stage(into, width, kernel, stride, 2))
            into = width
        self.up = nn.ModuleList()
        self.decoder = nn.ModuleList()
        self.heads = nn.ModuleList()
        for n in range(stages - 2, -1, -1):
            width, stride = features[n], strides[n + 1]
            self.up.append(nn.ConvTranspose3d(into, width, _triple(stride), stride=_triple(stride)))
            self.decoder.append(_stage(2 * width, width, kernels[n], (1, 1, 1), decoder_convs))
            self.heads.append(nn.Conv3d(width, classes, 1))
            into = width

    def forward(self, x: torch.Tensor) -> Any:
        if self.slice_coordinate:
            n, _, d, h, w = x.shape
            z = torch.linspace(-1.0, 1.0, d, dtype=x.dtype, device=x.device)
            x = torch.cat([x, z.view(1, 1, d, 1, 1).expand(n, 1, d, h, w)], dim=1)
        skips = []
        for stage in self.encoder:
            x = stage(x)
            skips.append(x)
        outputs = []
        for up, stage, head, skip in zip(
            self.up, self.decoder, self.heads, reversed(skips[:-1]), strict=True
        ):
            x = stage(torch.cat([up(x), skip], dim=1))
            if self.deep_supervision or head is self.heads[-1]:
                outputs.append(head(x))
        if self.deep_supervision:
            return outputs[::-1]  # full resolution first, as nnU-Net's decoder returns them
        return outputs[-1]


class FullResolution(nn.Module):
    """A deep-supervised network's full-resolution output alone (what is exported)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.network(x)
        return out[0] if isinstance(out, list | tuple) else out
