"""Fitting the demo spine CT segmentation network on model-grid cases (torch, CPU).

The network learns what a voxel looks like (:data:`~spineviewer.training.segmentation_data.
CLASSES`: vertebra, sacrum, disc, spinal canal), never which level it is: the levels are
derived afterwards by :mod:`spineviewer.ai.spine_levels`. Patches of :data:`~spineviewer.
training.segmentation_data.PATCH` are cut from random cases, four in five centred near a
random labelled voxel (nnU-Net oversamples the foreground the same way), and randomised so
that what generalises is learnt: zoomed (0.8-1.25, another voxel spacing), flipped
left-right half the time, cut by the end of a field of view one time in three (the voxels
beyond it the sliding window's padding, their labels background), their CT numbers scaled
and shifted (other scanners and bone densities), blurred or not (other kernels) and given
noise. The loss is nnU-Net's: cross-entropy plus soft Dice over the batch, with deep
supervision on the two coarser decoder outputs (weights 1, 1/2, 1/4). Adam, the learning
rate decaying polynomially to 0 (exponent 0.9, as nnU-Net's) over the iterations or the time
limit, whichever runs out first. Everything is drawn from one seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional

from spineviewer.training.segmentation_data import CLASS_OF_LEVEL, CLASSES, PATCH, Case
from spineviewer.training.segmentation_net import UNet3d

__all__ = ["FitConfig", "Fitted", "fit", "network"]

#: Kernels and downsampling strides per stage (nnU-Net plans' conv_kernel_sizes and
#: pool_op_kernel_sizes): an isotropic grid, so isotropic kernels and strides.
KERNELS = ((3, 3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3))
STRIDES = ((1, 1, 1), (2, 2, 2), (2, 2, 2), (2, 2, 2), (2, 2, 2))
FEATURES = (8, 16, 32, 64, 96)
#: Zoom range of a patch (another voxel spacing) and the chance of a field-of-view cut.
ZOOM = (0.8, 1.25)
FOV_CUT = 1.0 / 3.0
#: Deep supervision weights, full resolution first.
SUPERVISION = (1.0, 0.5, 0.25)


@dataclass(frozen=True)
class FitConfig:
    iterations: int = 400
    batch_size: int = 2
    learning_rate: float = 3e-3
    #: Stop after this many minutes even when iterations are left (None: never).
    max_minutes: float | None = None
    seed: int = 0
    features: tuple[int, ...] = FEATURES
    foreground_fraction: float = 0.8


@dataclass(frozen=True)
class Fitted:
    model: UNet3d
    iterations: int
    seconds: float
    losses: tuple[float, ...]


def network(features: Sequence[int] = FEATURES, deep_supervision: bool = False) -> UNet3d:
    """The demo network (one grey channel in, :data:`CLASSES` out)."""
    return UNet3d(
        1,
        len(CLASSES),
        features,
        KERNELS,
        STRIDES,
        decoder_convs=1,
        deep_supervision=deep_supervision,
    )


def _crop(
    case: Case, rng: np.random.Generator, foreground: bool, size: tuple[int, ...]
) -> tuple[slice, ...]:
    """A box of ``size`` voxels in ``case``: centred near a random labelled voxel when
    ``foreground``, else anywhere (the case is padded to at least a patch, not to ``size``:
    the box is clipped to the case, and :func:`_patch` pads it)."""
    shape = case.image.shape
    centre = None
    if foreground:
        found = np.flatnonzero(case.labels.ravel()[::7])
        if len(found):
            centre = np.unravel_index(int(rng.choice(found)) * 7, shape)
    out = []
    for axis in range(3):
        n, p = shape[axis], size[axis]
        if centre is None:
            start = int(rng.integers(min(0, n - p), max(0, n - p) + 1))
        else:
            jitter = int(rng.integers(-p // 4, p // 4 + 1))
            start = int(np.clip(int(centre[axis]) - p // 2 + jitter, min(0, n - p), max(0, n - p)))
        out.append(slice(start, start + p))
    return tuple(out)


def _cut(case: Case, where: tuple[slice, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Image and labels of ``case`` in box ``where``, padded with 0 (the sliding window's
    padding) where the box leaves the case."""
    size = [w.stop - w.start for w in where]
    image = np.zeros(size, dtype=np.float32)
    labels = np.zeros(size, dtype=np.uint8)
    src, dst = [], []
    for w, n in zip(where, case.image.shape, strict=True):
        lo, hi = max(w.start, 0), min(w.stop, n)
        src.append(slice(lo, hi))
        dst.append(slice(lo - w.start, hi - w.start))
    image[tuple(dst)] = case.image[tuple(src)]
    labels[tuple(dst)] = CLASS_OF_LEVEL[case.labels[tuple(src)]]
    return image, labels


def _patch(case: Case, rng: np.random.Generator, foreground: bool) -> tuple[np.ndarray, np.ndarray]:
    """One randomised patch (image, class labels) of :data:`PATCH` from ``case``."""
    zoom = float(np.exp(rng.uniform(np.log(ZOOM[0]), np.log(ZOOM[1]))))
    size = tuple(max(8, round(p * zoom)) for p in PATCH)
    image, labels = _cut(case, _crop(case, rng, foreground, size))
    if size != PATCH:
        image_t = torch.from_numpy(image)[None, None]
        label_t = torch.from_numpy(labels.astype(np.float32))[None, None]
        image = functional.interpolate(image_t, PATCH, mode="trilinear")[0, 0].numpy()
        labels = functional.interpolate(label_t, PATCH, mode="nearest")[0, 0].numpy()
        labels = labels.astype(np.uint8)
    if rng.random() < FOV_CUT:  # the end of a field of view: padding beyond it
        at = int(rng.integers(PATCH[0] // 8, PATCH[0] - PATCH[0] // 8))
        beyond = slice(at, None) if rng.random() < 0.5 else slice(0, at)
        image[beyond], labels[beyond] = 0.0, 0
    if rng.random() < 0.5:
        image, labels = image[:, :, ::-1], labels[:, :, ::-1]
    image = image * rng.uniform(0.7, 1.3) + rng.uniform(-0.3, 0.3)
    if rng.random() < 0.3:  # a softer kernel
        blurred = functional.avg_pool3d(
            torch.from_numpy(np.ascontiguousarray(image))[None], 3, 1, 1
        )
        image = blurred[0].numpy()
    image = image + rng.normal(0.0, rng.uniform(0.0, 0.15), image.shape)
    return image.astype(np.float32), labels


def batch(
    cases: Sequence[Case], rng: np.random.Generator, size: int, foreground_fraction: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One augmented batch: images (N, 1, *PATCH) and class labels (N, *PATCH)."""
    images, labels = [], []
    for _ in range(size):
        case = cases[int(rng.integers(len(cases)))]
        image, label = _patch(case, rng, bool(rng.random() < foreground_fraction))
        images.append(image)
        labels.append(label.astype(np.int64))
    return torch.from_numpy(np.stack(images)[:, None]), torch.from_numpy(np.stack(labels))


def loss_of(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy plus (1 - soft Dice) over the foreground channels, Dice over the batch."""
    ce = functional.cross_entropy(logits, target)
    probs = torch.softmax(logits, dim=1)[:, 1:]
    onehot = functional.one_hot(target, logits.shape[1]).permute(0, 4, 1, 2, 3)[:, 1:]
    axes = (0, 2, 3, 4)
    inter = (probs * onehot).sum(axes)
    total = probs.sum(axes) + onehot.sum(axes)
    dice = (2 * inter + 1e-5) / (total + 1e-5)
    present = onehot.sum(axes) > 0
    soft = dice[present].mean() if bool(present.any()) else torch.ones(())
    return ce + 1.0 - soft


def _downsampled(target: torch.Tensor, factor: Sequence[int]) -> torch.Tensor:
    return target[:, :: factor[0], :: factor[1], :: factor[2]]


def fit(cases: Sequence[Case], config: FitConfig, say: Callable[[str], None] = print) -> Fitted:
    """Train :func:`network` on ``cases``; the last weights are kept (no validation set)."""
    if not cases:
        raise ValueError("no training cases")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = network(config.features, deep_supervision=True)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    factors = [(1, 1, 1)]
    for stride in STRIDES[1 : len(SUPERVISION)]:
        last = factors[-1]
        factors.append((last[0] * stride[0], last[1] * stride[1], last[2] * stride[2]))
    started = time.perf_counter()
    losses: list[float] = []
    done = 0
    model.train()
    for step in range(config.iterations):
        minutes = (time.perf_counter() - started) / 60.0
        if config.max_minutes is not None and minutes >= config.max_minutes:
            say(f"stopped after {minutes:.1f} min at iteration {step}")
            break
        progress = step / config.iterations
        if config.max_minutes is not None:  # a time limit anneals by the clock as well
            progress = max(progress, minutes / config.max_minutes)
        for group in optimiser.param_groups:
            group["lr"] = config.learning_rate * (1 - min(progress, 1.0)) ** 0.9
        images, target = batch(cases, rng, config.batch_size, config.foreground_fraction)
        outputs = model(images)
        loss = sum(
            w * loss_of(out, _downsampled(target, f))
            for w, out, f in zip(SUPERVISION, outputs, factors, strict=False)
        )
        optimiser.zero_grad()
        loss.backward()  # type: ignore[union-attr]
        optimiser.step()
        losses.append(float(loss.detach()))  # type: ignore[union-attr]
        done = step + 1
        if done % 10 == 0 or done == config.iterations:
            recent = float(np.mean(losses[-10:]))
            say(f"iteration {done}/{config.iterations}: loss {recent:.3f} ({minutes:.1f} min)")
    model.deep_supervision = False
    model.eval()
    return Fitted(model, done, time.perf_counter() - started, tuple(losses))
