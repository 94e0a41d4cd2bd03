"""Training and evaluation samples from phantom studies and their ground truth (numpy only).

Disc state: every axial image whose plane passes within ``max_distance_mm`` of a disc centre
gives one crop of a fixed physical size (``roi_mm``) centred on the disc centre projected into
that image, resampled to ``size`` pixels (the ROI technique of seed 000; the runner in
:mod:`spineviewer.ai` crops the same way from the manifest). Labels come from
``ground_truth.json``; the disc level rides along for per-level accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spineviewer.dicom import StackPixels, scan
from spineviewer.geometry.resample import crop_physical, percentile_scale
from spineviewer.phantom import generate, load_ground_truth, study_folder_name

DISC_STATES = ("normal", "bulge", "herniation")
#: Physical size of a disc crop (rows, cols) in mm, and its size in pixels.
DISC_ROI_MM = (56.0, 56.0)
DISC_SIZE = (64, 64)
#: An axial image counts for a disc when its plane is this close to the disc centre.
DISC_MAX_DISTANCE_MM = 3.0
#: Percentiles mapped to 0 and 1 in every crop (intensity normalisation of the manifest).
PERCENTILES = (0.5, 99.5)


@dataclass(frozen=True)
class Sample:
    """One labelled crop: ``image`` (rows, cols) float32 in [0, 1]."""

    image: np.ndarray
    label: str
    #: What per-group metrics group by (the disc level, "L4-L5").
    group: str
    study: str
    sop_instance_uid: str
    extra: dict[str, float] = field(default_factory=dict)


def ensure_phantoms(
    kind: str, out: Path, seeds: Iterable[int], progress: Callable[[str], None] | None = None
) -> list[Path]:
    """Study folders of ``kind`` for ``seeds`` under ``out``, generated when missing."""
    folders = []
    for seed in seeds:
        folder = out / study_folder_name(kind, seed)
        if not (folder / "ground_truth.json").is_file():
            if progress is not None:
                progress(f"generating {kind} phantom seed {seed}")
            generate(kind, out, seed)
        folders.append(folder)
    return folders


def disc_samples(
    study_dir: Path,
    roi_mm: tuple[float, float] = DISC_ROI_MM,
    size: tuple[int, int] = DISC_SIZE,
    max_distance_mm: float = DISC_MAX_DISTANCE_MM,
) -> list[Sample]:
    """Axial disc crops of one lumbar MR phantom, labelled with the true disc state."""
    truth = load_ground_truth(study_dir)
    discs = [(d.level, d.state, np.asarray(d.centre_mm, dtype=np.float64)) for d in truth.discs]
    samples: list[Sample] = []
    for stack in scan(study_dir).stacks():
        if stack.plane != "axial" or stack.pixel_spacing is None:
            continue
        pixels = StackPixels(stack)
        rows, cols = stack.shape
        for index in range(len(stack)):
            plane = stack.plane_of(index)
            if plane is None:
                continue
            near = [
                (level, state, centre)
                for level, state, centre in discs
                if abs(float(plane.distance(centre))) <= max_distance_mm
            ]
            if not near:
                continue
            values = pixels.slice(index)
            for level, state, centre in near:
                r, c = (float(x) for x in plane.to_pixel(centre))
                if not (0 <= r < rows and 0 <= c < cols):
                    continue
                patch = crop_physical(
                    values, (r, c), stack.pixel_spacing, roi_mm, size, fill=float(values.min())
                )
                samples.append(
                    Sample(
                        image=percentile_scale(patch, *PERCENTILES),
                        label=state,
                        group=level,
                        study=study_dir.name,
                        sop_instance_uid=stack.frames[index].instance.sop_instance_uid,
                        extra={"distance_mm": float(plane.distance(centre))},
                    )
                )
    return samples


def collect(folders: Sequence[Path], build: Callable[[Path], list[Sample]]) -> list[Sample]:
    """Samples of every study folder, in folder order."""
    out: list[Sample] = []
    for folder in folders:
        out.extend(build(folder))
    return out


def class_counts(samples: Sequence[Sample], classes: Sequence[str]) -> dict[str, int]:
    """How many samples each class has (classes with none included)."""
    counts = dict.fromkeys(classes, 0)
    for s in samples:
        counts[s.label] = counts.get(s.label, 0) + 1
    return counts
