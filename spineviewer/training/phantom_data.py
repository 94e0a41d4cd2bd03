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

from spineviewer.ai.pipelines.lumbar_mr import FRACTURE_LEVELS
from spineviewer.ai.preprocessing import percentile_crop
from spineviewer.dicom import Stack, StackPixels, scan
from spineviewer.geometry.levels import AXIAL_MAX_DISTANCE_MM
from spineviewer.phantom import (
    StudyGroundTruth,
    generate,
    load_ground_truth,
    study_folder_name,
)
from spineviewer.phantom.mr_options import SERIES, MrOptions

DISC_STATES = ("normal", "bulge", "herniation")
#: Physical size of a disc crop (rows, cols) in mm, and its size in pixels.
DISC_ROI_MM = (56.0, 56.0)
DISC_SIZE = (64, 64)
#: An axial image counts for a disc when its plane is this close to the disc centre (the
#: viewer's pipeline uses the same distance).
DISC_MAX_DISTANCE_MM = AXIAL_MAX_DISTANCE_MM
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
    kind: str,
    out: Path,
    seeds: Iterable[int],
    progress: Callable[[str], None] | None = None,
    fracture_rate: float = 0.0,
    mr_options: MrOptions | None = None,
) -> list[Path]:
    """Study folders of ``kind`` for ``seeds`` under ``out``, generated when missing (lumbar MR
    with ``mr_options``, e.g. the wide profile: keep such studies in their own folder)."""
    folders = []
    for seed in seeds:
        folder = out / study_folder_name(kind, seed)
        if not (folder / "ground_truth.json").is_file():
            if progress is not None:
                progress(f"generating {kind} phantom seed {seed}")
            generate(kind, out, seed, fracture_rate=fracture_rate, mr_options=mr_options)
        folders.append(folder)
    return folders


def options_folder(root: Path, mr_options: MrOptions | None) -> Path:
    """Where phantoms generated with ``mr_options`` live under ``root``: the root itself for
    the standard profile with every series, else a folder named after the profile and the
    series written (``wide-sagittal``), shared by every task that asks for the same."""
    if mr_options is None or mr_options.is_default:
        return root
    name = mr_options.profile
    if mr_options.series != SERIES:
        name += "-" + "+".join(mr_options.series)
    return root / name


def disc_samples(
    study_dir: Path,
    roi_mm: tuple[float, float] = DISC_ROI_MM,
    size: tuple[int, int] = DISC_SIZE,
    max_distance_mm: float = DISC_MAX_DISTANCE_MM,
) -> list[Sample]:
    """Axial disc crops of one lumbar MR phantom, labelled with the true disc state."""
    truth = load_ground_truth(study_dir)
    return _disc_crops(
        study_dir, truth, lambda stack: stack.plane == "axial", roi_mm, size, max_distance_mm
    )


def _disc_crops(
    study_dir: Path,
    truth: StudyGroundTruth,
    use: Callable[[Stack], bool],
    roi_mm: tuple[float, float],
    size: tuple[int, int],
    max_distance_mm: float,
) -> list[Sample]:
    """A crop of every image of the stacks ``use`` accepts around every true disc centre
    within ``max_distance_mm`` of its plane (and inside the image), labelled with its state."""
    discs = [(d.level, d.state, np.asarray(d.centre_mm, dtype=np.float64)) for d in truth.discs]
    samples: list[Sample] = []
    for stack in scan(study_dir).stacks():
        if not use(stack) or stack.pixel_spacing is None:
            continue
        pixels = StackPixels(stack)
        rows, cols = stack.shape
        for index in range(len(stack)):
            plane = stack.plane_of(index)
            if plane is None:
                continue
            values = None
            for level, state, centre in discs:
                distance = float(plane.distance(centre))
                if abs(distance) > max_distance_mm:
                    continue
                r, c = (float(x) for x in plane.to_pixel(centre))
                if not (0 <= r < rows and 0 <= c < cols):
                    continue
                values = pixels.slice(index) if values is None else values
                samples.append(
                    Sample(
                        image=percentile_crop(
                            values, (r, c), stack.pixel_spacing, roi_mm, size, PERCENTILES
                        ),
                        label=state,
                        group=level,
                        study=study_dir.name,
                        sop_instance_uid=stack.frames[index].instance.sop_instance_uid,
                        extra={"distance_mm": distance},
                    )
                )
    return samples


#: Sagittal disc crops: slices within this distance (mm, left-right) of the disc centre count
#: (a paracentral herniation shows on the slices beside the midline).
SAGITTAL_DISC_MAX_DISTANCE_MM = 12.0


def _t2_sagittal(truth: StudyGroundTruth) -> set[str]:
    """The SeriesInstanceUIDs of a study's sagittal T2 series (a series of unknown contrast, as
    the standard profile writes them, counts as T2)."""
    return {
        s.series_instance_uid
        for s in truth.series
        if s.plane == "sagittal" and s.contrast in (None, "T2")
    }


def sagittal_disc_samples(
    study_dir: Path,
    roi_mm: tuple[float, float] = DISC_ROI_MM,
    size: tuple[int, int] = DISC_SIZE,
    max_distance_mm: float = SAGITTAL_DISC_MAX_DISTANCE_MM,
) -> list[Sample]:
    """Sagittal T2 crops centred on each graded lumbar disc, labelled with its true state (the
    state is the disc's: a slice beside a one-sided herniation is labelled herniation too, so
    the model learns how sure one slice can be; the pipeline averages a disc's slices)."""
    truth = load_ground_truth(study_dir)
    t2 = _t2_sagittal(truth)

    def use(stack: Stack) -> bool:
        return stack.plane == "sagittal" and stack.series_uid in t2

    return _disc_crops(study_dir, truth, use, roi_mm, size, max_distance_mm)


FRACTURE_CLASSES = ("normal", "fractured")
#: Vertebra crops (sagittal): physical size and pixels; slices within this distance of the
#: body centre count (the body is about 40 mm wide).
VERTEBRA_ROI_MM = (48.0, 48.0)
VERTEBRA_SIZE = (64, 64)
VERTEBRA_MAX_DISTANCE_MM = 8.0


def vertebra_samples(
    study_dir: Path,
    roi_mm: tuple[float, float] = VERTEBRA_ROI_MM,
    size: tuple[int, int] = VERTEBRA_SIZE,
    max_distance_mm: float = VERTEBRA_MAX_DISTANCE_MM,
) -> list[Sample]:
    """Sagittal crops centred on each T12-L5 body, labelled normal / fractured.

    The crop centre is the body's box centre on that image (what a detector returns), so
    training sees the bodies the way the viewer's pipeline will hand them over.
    """
    truth = load_ground_truth(study_dir)
    t2 = _t2_sagittal(truth)
    where = {}
    for stack in scan(study_dir).stacks():
        if stack.plane == "sagittal" and stack.pixel_spacing is not None and stack.series_uid in t2:
            for i, frame in enumerate(stack.frames):
                where[frame.instance.sop_instance_uid] = (stack, i)
    readers: dict[int, StackPixels] = {}
    samples: list[Sample] = []
    for vertebra in truth.vertebrae:
        if vertebra.label not in FRACTURE_LEVELS:
            continue
        centre_mm = np.asarray(vertebra.centre_mm, dtype=np.float64)
        for view in vertebra.views:
            if view.box_px is None or view.sop_instance_uid not in where or view.truncated:
                continue
            stack, index = where[view.sop_instance_uid]
            plane = stack.plane_of(index)
            if plane is None or abs(float(plane.distance(centre_mm))) > max_distance_mm:
                continue
            x0, y0, x1, y1 = view.box_px
            values = readers.setdefault(id(stack), StackPixels(stack)).slice(index)
            assert stack.pixel_spacing is not None
            centre = ((y0 + y1) / 2.0, (x0 + x1) / 2.0)
            samples.append(
                Sample(
                    image=percentile_crop(
                        values, centre, stack.pixel_spacing, roi_mm, size, PERCENTILES
                    ),
                    label="fractured" if vertebra.fracture else "normal",
                    group=vertebra.label,
                    study=study_dir.name,
                    sop_instance_uid=view.sop_instance_uid,
                    extra={"height_loss": float(vertebra.height_loss)},
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
