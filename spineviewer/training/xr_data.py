"""Detection samples from AP spine radiograph phantoms (``spine-xr``; numpy only).

One radiograph gives one sample per target: the whole image, intensities scaled by its
0.5/99.5 percentiles, inverted when it is MONOCHROME1 (the model always sees bone bright, as
the manifest's ``monochrome1: invert`` tells the runner), letterboxed into the model's input
size (:func:`~spineviewer.ai.preprocessing.letterbox_scaled`; at a fixed mm per input pixel
when the task's manifest says so), with the ground-truth boxes mapped
into input pixels:

- ``vertebrae``: the vertebral bodies T10 .. S1 with their class (``S1`` for the sacral body,
  ``vertebra`` for the others, as the sagittal detector) and their tilt in degrees
  (counter-clockwise as displayed), from which the Cobb angle follows;
- ``implants``: pedicle screws, rods and interbody cages (about 40 % of the phantoms carry
  them; the others are negatives).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from spineviewer.ai.preprocessing import letterbox_scaled
from spineviewer.ai.vertebra_labels import CLASS_NAMES
from spineviewer.dicom import Stack, StackPixels, scan
from spineviewer.geometry.resample import percentiles
from spineviewer.phantom import load_ground_truth
from spineviewer.training.detection_data import DetectionSample
from spineviewer.training.phantom_data import PERCENTILES

#: The implant classes, in model output order.
IMPLANT_CLASSES: tuple[str, ...] = ("pedicle_screw", "rod", "interbody_cage")
#: Targets and the classes their models detect.
TARGET_CLASSES: dict[str, tuple[str, ...]] = {
    "vertebrae": CLASS_NAMES,
    "implants": IMPLANT_CLASSES,
}


def radiograph(study_dir: Path) -> tuple[Stack, np.ndarray, bool]:
    """The AP radiograph of a study: its stack, its stored values, whether it is MONOCHROME1."""
    stacks = [s for s in scan(study_dir).stacks() if s.plane == "projection"]
    if not stacks:
        raise ValueError(f"{study_dir}: no radiograph")
    stack = stacks[0]
    values = StackPixels(stack).slice(0)
    return stack, values, stack.frames[0].instance.photometric == "MONOCHROME1"


def _objects(
    study_dir: Path, sop_uid: str, target: str
) -> tuple[list[list[int]], list[int], list[str], list[float]]:
    """Boxes (inclusive pixels), class indices, names and angles of one target's objects."""
    truth = load_ground_truth(study_dir)
    boxes: list[list[int]] = []
    classes: list[int] = []
    names: list[str] = []
    angles: list[float] = []
    if target == "vertebrae":
        for vertebra in truth.vertebrae:
            for view in vertebra.views:
                if view.sop_instance_uid == sop_uid and view.box_px is not None:
                    boxes.append(view.box_px)
                    classes.append(CLASS_NAMES.index("S1") if vertebra.label == "S1" else 0)
                    names.append(vertebra.label)
                    angles.append(float(view.tilt_deg or 0.0))
    elif target == "implants":
        for implant in truth.implants:
            if implant.sop_instance_uid == sop_uid:
                boxes.append(implant.box_px)
                classes.append(IMPLANT_CLASSES.index(implant.implant_class))
                names.append(implant.vertebra or "")
    else:
        raise ValueError(f"unknown target {target!r}; expected one of {sorted(TARGET_CLASSES)}")
    return boxes, classes, names, angles


def xr_sample(
    study_dir: Path, target: str, size: tuple[int, int], mm_per_pixel: float | None = None
) -> DetectionSample:
    """The radiograph of one spine-xr phantom with the boxes of ``target``, letterboxed as the
    runner does: in physical proportions by the stack's pixel spacing (the one the viewer
    measures with: :func:`~spineviewer.dicom.spacing.choose_spacing`), at ``mm_per_pixel``
    (the manifest's fixed scale) when given."""
    stack, values, monochrome1 = radiograph(study_dir)
    uid = stack.frames[0].instance.sop_instance_uid
    bounds = percentiles(values, *PERCENTILES)
    image, box = letterbox_scaled(
        values, size, bounds, monochrome1, stack.pixel_spacing, mm_per_pixel
    )
    found, classes, names, angles = _objects(study_dir, uid, target)
    boxes = np.array([box.box_to_input(b) for b in found]).reshape(-1, 4)
    return DetectionSample(
        image=image,
        boxes=boxes.astype(np.float32),
        classes=np.array(classes, dtype=np.int64),
        labels=tuple(names),
        study=study_dir.name,
        sop_instance_uid=uid,
        slice_index=0,
        offset=0,
        box=box,
        angles=np.array(angles, dtype=np.float64) if target == "vertebrae" else None,
    )


def collect_xr(
    folders: Sequence[Path], target: str, size: tuple[int, int], mm_per_pixel: float | None = None
) -> list[DetectionSample]:
    """Samples of every study folder, in folder order."""
    return [xr_sample(folder, target, size, mm_per_pixel) for folder in folders]


def ensure_wide_xr(root: Path, seeds: Iterable[int], say: Callable[[str], None]) -> list[Path]:
    """Wide-profile spine-xr study folders (:mod:`spineviewer.phantom.xr_wide`) for ``seeds``
    under ``root`` (``spine-xr-<seed>-wide``, beside any standard study), generated when
    missing."""
    from spineviewer.phantom.xr_wide import generate_wide_xr, wide_folder_name

    out = root
    folders = []
    for seed in seeds:
        folder = out / wide_folder_name(seed)
        if not (folder / "ground_truth.json").is_file():
            say(f"generating wide spine-xr phantom seed {seed}")
            generate_wide_xr(out, seed)
        folders.append(folder)
    return folders
