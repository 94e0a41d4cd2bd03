"""Vertebral-body detection samples from lumbar MR phantoms (numpy only).

Every slice of every sagittal series (T2, and the T1 and STIR series of the wide profile) gives
one sample: the whole slice, intensities scaled by its 0.5/99.5 percentiles, letterboxed into
:data:`INPUT_SIZE` pixels in its physical proportions (non-square pixels are resampled to square
input pixels: :func:`~spineviewer.ai.preprocessing.letterbox_scaled`, what the runner does with
the manifest's ``preprocessing``: size, letterbox, percentile normalisation), with the boxes of the
vertebral bodies that slice shows (ground truth ``views``, matched by SOP Instance UID, mapped
into input pixels) and their class: ``S1`` for the sacral body, ``vertebra`` for the others
(T11 .. L5). Lateral slices that cut no body are kept as negatives; ``middle`` keeps only the
middle slices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spineviewer.ai.mr_series import mr_stacks, preference
from spineviewer.ai.preprocessing import Letterbox, letterbox_scaled, slice_percentiles
from spineviewer.ai.vertebra_labels import CLASS_NAMES
from spineviewer.dicom import Stack, StackPixels, scan
from spineviewer.phantom import load_ground_truth
from spineviewer.training.phantom_data import PERCENTILES

#: The model input (rows, cols): the whole sagittal field of view.
INPUT_SIZE = (256, 256)
#: The input's scale (the manifest's ``preprocessing.mm_per_pixel``): 307 mm across 256 input
#: pixels, a lumbar body about 20 input pixels tall whatever the field of view (clinical
#: lumbar fields are 180-400 mm); a field too large to fit is zoomed out until it does.
MM_PER_PIXEL = 1.2


@dataclass(frozen=True)
class DetectionSample:
    """One sagittal slice: ``image`` (H, W) float32 in [0, 1], ``boxes`` (n, 4) xyxy in input
    pixels (edge coordinates), ``classes`` (n,) indices into the model's classes, ``labels`` the
    true names (vertebra labels, implant levels); ``offset`` = slice position minus the middle
    slice's (in slices); ``angles`` (n,) the tilt of each object in degrees, counter-clockwise
    as displayed, for oriented detectors."""

    image: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray
    labels: tuple[str, ...]
    study: str
    sop_instance_uid: str
    slice_index: int
    offset: int
    box: Letterbox
    angles: np.ndarray | None = None


def sagittal_stacks(study_dir: Path) -> list[Stack]:
    """The sagittal stacks of a study (one per contrast on the wide profile)."""
    stacks = [s for s in scan(study_dir).stacks() if s.plane == "sagittal"]
    if not stacks:
        raise ValueError(f"{study_dir}: no sagittal stack")
    return stacks


def sagittal_stack(study_dir: Path) -> Stack:
    """The sagittal stack the viewer's pipeline would detect on: T2 first, then the most
    slices (:func:`spineviewer.ai.mr_series.choose`)."""
    ranked = sorted(mr_stacks(sagittal_stacks(study_dir)), key=preference)
    return ranked[0].stack


def middle_indices(count: int, keep: int | None) -> list[int]:
    """Indices of the ``keep`` middle slices of ``count`` (all when ``keep`` is None)."""
    if keep is None or keep >= count:
        return list(range(count))
    start = count // 2 - keep // 2
    return list(range(start, start + keep))


def detection_samples(
    study_dir: Path, size: tuple[int, int] = INPUT_SIZE, middle: int | None = None
) -> list[DetectionSample]:
    """The sagittal slices of one lumbar MR phantom (every sagittal series) with their
    vertebral-body boxes."""
    truth = load_ground_truth(study_dir)
    per_slice: dict[str, list[tuple[list[int], str]]] = {}
    for vertebra in truth.vertebrae:
        for view in vertebra.views:
            if view.sop_instance_uid is not None and view.box_px is not None:
                per_slice.setdefault(view.sop_instance_uid, []).append(
                    (view.box_px, vertebra.label)
                )
    samples = []
    for stack in sagittal_stacks(study_dir):
        pixels = StackPixels(stack)
        uids = [f.instance.sop_instance_uid for f in stack.frames]
        mid = len(stack) // 2
        for index in middle_indices(len(stack), middle):
            values = pixels.slice(index)
            bounds = slice_percentiles(values, *PERCENTILES)
            image, box = letterbox_scaled(
                values, size, bounds, spacing=stack.pixel_spacing, mm_per_pixel=MM_PER_PIXEL
            )
            found = per_slice.get(uids[index], [])
            boxes = np.array([box.box_to_input(b) for b, _ in found]).reshape(-1, 4)
            classes = np.array([CLASS_NAMES.index("S1") if lb == "S1" else 0 for _, lb in found])
            samples.append(
                DetectionSample(
                    image=image,
                    boxes=boxes.astype(np.float32),
                    classes=classes.astype(np.int64),
                    labels=tuple(lb for _, lb in found),
                    study=study_dir.name,
                    sop_instance_uid=uids[index],
                    slice_index=index,
                    offset=index - mid,
                    box=box,
                )
            )
    return samples


def collect_detection(
    folders: Sequence[Path], size: tuple[int, int] = INPUT_SIZE, middle: int | None = None
) -> list[DetectionSample]:
    """Samples of every study folder, in folder order."""
    out: list[DetectionSample] = []
    for folder in folders:
        out.extend(detection_samples(folder, size, middle))
    return out
