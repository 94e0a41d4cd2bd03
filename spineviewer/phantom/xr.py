"""``spine-xr``: an AP radiograph from T10 to the sacrum with a scoliotic curve and implants.

Coordinates: image millimetres ``x = column * spacing`` (towards the patient's left) and
``y = row * spacing`` (towards the feet). In the ground truth, ``centre_mm`` of a vertebra is
the detector-plane point ``[x, 0, -y]`` (patient LPS axes, origin at pixel (0, 0)).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation

from spineviewer.phantom.anatomy import BODY_HEIGHT, BODY_WIDTH, DISC_BELOW
from spineviewer.phantom.fractures import Fracture, FractureRequest, study_fractures
from spineviewer.phantom.imaging import box_of, smooth, to_uint16
from spineviewer.phantom.radiograph import Blob, add_solid
from spineviewer.phantom.records import study_truth, with_fracture
from spineviewer.phantom.series import series_truth
from spineviewer.phantom.truth import (
    CobbTruth,
    ImplantTruth,
    StudyGroundTruth,
    VertebraTruth,
    View,
)
from spineviewer.phantom.writer import SeriesInfo, StudyInfo, new_dataset, set_pixels, write

KIND = "spine-xr"
XR_LABELS: tuple[str, ...] = ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")
SHAPE = (1024, 512)
MAX_STORED = 4095
METAL = 6.0
#: Fracture kinds an AP radiograph shows (a crushed body is lower; wedges need a lateral view).
XR_FRACTURE_KINDS: tuple[str, ...] = ("crush",)


@dataclass(frozen=True)
class XrVertebra:
    """One body on the radiograph: label and its outline (centre, half sizes, tilt)."""

    label: str
    body: Blob

    @property
    def tilt_deg(self) -> float:
        """Endplate angle, counter-clockwise as displayed, in degrees."""
        return self.body.angle_deg


def _tilts(rng: np.random.Generator, count: int) -> tuple[list[float], float]:
    """Per-vertebra endplate tilts of a C curve between two random end vertebrae."""
    target = rng.uniform(0.0, 3.0) if rng.random() < 0.2 else rng.uniform(8.0, 50.0)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    upper = int(rng.integers(0, 4))
    lower = int(rng.integers(upper + 3, count))
    tilts = []
    for k in range(count):
        t = min(max(k, upper), lower)
        value = math.cos(math.pi * (t - upper) / (lower - upper)) * target / 2
        value *= max(0.0, 1.0 - 0.35 * (upper - k if k < upper else max(k - lower, 0)))
        tilts.append(sign * value + float(rng.normal(0.0, 0.4)))
    return tilts, target


def cobb_from_tilts(labels: list[str], tilts: list[float]) -> CobbTruth:
    """Largest difference of endplate tilts over all pairs, with the two end vertebrae."""
    best = (0.0, 0, 1)
    for i, j in itertools.combinations(range(len(tilts)), 2):
        angle = abs(tilts[i] - tilts[j])
        if angle > best[0]:
            best = (angle, i, j)
    return CobbTruth(best[0], labels[best[1]], labels[best[2]])


def _layout(
    rng: np.random.Generator, spacing: float, fractures: Mapping[str, Fracture]
) -> list[XrVertebra]:
    scale = rng.uniform(0.9, 1.1)
    tilts, _ = _tilts(rng, len(XR_LABELS) - 1)
    tilts.append(tilts[-1] * 0.5 + float(rng.normal(0.0, 1.0)))  # the sacrum follows L5 halfway
    x = SHAPE[1] * spacing / 2 + rng.uniform(-12.0, 12.0)
    y = rng.uniform(8.0, 20.0)
    out: list[XrVertebra] = []
    for label, tilt in zip(XR_LABELS, tilts, strict=True):
        h = BODY_HEIGHT[label] * scale * rng.uniform(0.96, 1.04)
        w = BODY_WIDTH[label] * scale * rng.uniform(0.96, 1.04)
        if label in fractures:
            h *= 1.0 - fractures[label].height_loss  # a crushed body: lower, spine shorter
        if out:
            prev = out[-1]
            step = prev.body.half[1] + DISC_BELOW[prev.label] * scale + h / 2
            a = math.radians((prev.tilt_deg + tilt) / 2)
            x, y = (
                prev.body.centre[0] + step * math.sin(a),
                prev.body.centre[1] + step * math.cos(a),
            )
        else:
            y += h / 2
        out.append(XrVertebra(label, Blob((x, y), (w / 2, h / 2), tilt, 4.0)))
    return out


def _bones(image: np.ndarray, spine: list[XrVertebra], spacing: float) -> None:
    for v in spine:
        b, (hw, hh) = v.body, v.body.half
        add_solid(image, b, spacing, 0.9, rim=0.35)
        if v.label == "S1":
            below = Blob(b.point(0.0, -hh - 38.0), (hw * 0.95, 45.0), b.angle_deg, 2.2)
            add_solid(image, below, spacing, 0.55, rim=0.2)
            for side in (-1.0, 1.0):
                wing = Blob(b.point(side * (hw + 55.0), -10.0), (45.0, 65.0), side * 20.0, 2.0)
                add_solid(image, wing, spacing, 0.45, rim=0.3)
            continue
        for side in (-1.0, 1.0):
            pedicle = Blob(b.point(side * 0.62 * hw, 0.3 * hh), (0.2 * hw, 0.32 * hh), b.angle_deg)
            add_solid(image, pedicle, spacing, 0.25, rim=0.3)
            tp_len = 14.0 if v.label.startswith("L") else 9.0
            tp = Blob(
                b.point(side * (hw + tp_len / 2 + 2.0), 0.25 * hh),
                (tp_len / 2 + 4.0, 3.5),
                b.angle_deg,
            )
            add_solid(image, tp, spacing, 0.3)
            if v.label in ("T10", "T11", "T12"):
                rib = Blob(b.point(side * (hw + 45.0), 0.0), (40.0, 4.5), b.angle_deg - side * 25)
                add_solid(image, rib, spacing, 0.35, rim=0.2)
        add_solid(
            image,
            Blob(b.point(0.0, -0.55 * hh), (0.15 * hw, 0.35 * hh), b.angle_deg),
            spacing,
            0.3,
            rim=0.2,
        )


def _implants(
    rng: np.random.Generator, spine: list[XrVertebra]
) -> list[tuple[str, str, list[Blob]]]:
    """(class, vertebra or level, blobs) of pedicle screws, rods and a cage, or nothing."""
    if rng.random() >= 0.4:
        return []
    first = int(rng.integers(4, 7))
    levels = spine[first : min(first + int(rng.integers(2, 4)), 8)]
    out: list[tuple[str, str, list[Blob]]] = []
    heads: dict[float, list[tuple[float, float]]] = {-1.0: [], 1.0: []}
    for v in levels:
        b, (hw, hh) = v.body, v.body.half
        for side in (-1.0, 1.0):
            centre = b.point(side * 0.5 * hw, 0.3 * hh)
            screw = Blob(centre, (13.0, 2.6), b.angle_deg + side * 12.0, 4.0)
            out.append(("pedicle_screw", v.label, [screw]))
            heads[side].append(b.point(side * 0.85 * hw, 0.3 * hh))
    for points in heads.values():
        segments = []
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            length = math.hypot(x1 - x0, y1 - y0)
            angle = -math.degrees(math.atan2(y1 - y0, x1 - x0))
            segments.append(
                Blob(((x0 + x1) / 2, (y0 + y1) / 2), (length / 2 + 6.0, 2.8), angle, 4.0)
            )
        out.append(("rod", levels[0].label, segments))
    if rng.random() < 0.6:
        up, low = levels[0], levels[1]
        cx = (up.body.centre[0] + low.body.centre[0]) / 2
        cy = (up.body.centre[1] + low.body.centre[1]) / 2
        tilt = (up.tilt_deg + low.tilt_deg) / 2
        cage = Blob((cx, cy), (0.3 * up.body.half[0] * 2, 3.5), tilt, 6.0)
        out.append(("interbody_cage", f"{up.label}-{low.label}", [cage]))
    return out


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "SCT", meaning
    return item


def _decorate(ds: Dataset, dx: bool, mono1: bool, spacing: float) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BodyPartExamined = "LSPINE"
    ds.ViewPosition = "AP"
    ds.PatientOrientation = ["L", "F"]
    ds.ImagerPixelSpacing = [f"{spacing:.4f}", f"{spacing:.4f}"]
    ds.KVP = "85"
    ds.DistanceSourceToDetector = "1150"
    ds.ExposureTime = 100
    ds.XRayTubeCurrent = 320
    if not dx:
        return
    ds.PixelSpacing = [f"{spacing:.4f}", f"{spacing:.4f}"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageLaterality = "U"
    ds.AnatomicRegionSequence = [_code("122496007", "Lumbar spine")]
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1 if mono1 else -1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "0", "1", "US"
    ds.PresentationLUTShape = "INVERSE" if mono1 else "IDENTITY"
    ds.LossyImageCompression = "00"
    ds.DetectorType = "SCINTILLATOR"
    ds.ViewCodeSequence = [_code("399348003", "antero-posterior")]
    ds.PositionerType = "COLUMN"
    ds.AcquisitionContextSequence = []


def generate_spine_xr(
    study_dir: Path,
    seed: int,
    *,
    fracture_rate: float = 0.0,
    fractures: Sequence[FractureRequest] = (),
) -> StudyGroundTruth:
    """Write one AP spine radiograph into ``study_dir`` and return its ground truth.

    ``fracture_rate`` (per vertebra, T10..L5) and ``fractures`` add crush fractures: the AP view
    shows a body's whole-height loss, while wedge and biconcave deformities need a lateral view.
    """
    plan, extra = study_fractures(
        [seed, 3], XR_LABELS[:-1], fracture_rate, fractures, kinds=XR_FRACTURE_KINDS
    )
    rng = np.random.default_rng([seed, 3])
    study = StudyInfo.create(KIND, seed)
    spacing = float(rng.uniform(0.36, 0.4))
    dx = bool(rng.random() < 0.5)
    mono1 = bool(rng.random() < 0.4)
    spine = _layout(rng, spacing, plan)
    implants = _implants(rng, spine)

    image = np.full(SHAPE, 1.0)
    _bones(image, spine, spacing)
    for _, _, blobs in implants:
        for blob in blobs:
            add_solid(image, blob, spacing, METAL, rim=0.0)
    gradient = np.linspace(1.0 + rng.uniform(0, 0.08), 1.0 - rng.uniform(0, 0.08), SHAPE[0])
    signal = smooth(np.minimum(image, 3.2)) * gradient[:, None] * 1000.0
    signal += rng.normal(0.0, rng.uniform(8.0, 20.0), SHAPE)
    stored = to_uint16(signal, MAX_STORED)
    if mono1:
        stored = (MAX_STORED - stored).astype(np.uint16)

    sop_class = DigitalXRayImageStorageForPresentation if dx else ComputedRadiographyImageStorage
    info = SeriesInfo.create(
        study, 1, "xr_ap", "AP L-SPINE", "DX" if dx else "CR", sop_class, "projection"
    )
    ds = new_dataset(study, info, 0)
    _decorate(ds, dx, mono1, spacing)
    set_pixels(ds, stored, (1900.0, 2000.0), "MONOCHROME1" if mono1 else "MONOCHROME2", 12)
    write(ds, study_dir, info.file_name(0))
    truth = series_truth(info, study, 1)
    sop = truth.images[0].sop_instance_uid

    vertebrae = []
    for v in spine:
        hit = box_of(v.body.mask(spacing, SHAPE))
        views = []
        if hit is not None:
            views.append(
                View(info.uid, sop, 0, hit[0], tilt_deg=v.tilt_deg, central=True, truncated=hit[1])
            )
        x, y = v.body.centre
        record = VertebraTruth(v.label, [x, 0.0, -y], views)
        vertebrae.append(with_fracture(record, plan.get(v.label)))
    found = []
    for cls, where, blobs in implants:
        mask = np.zeros(SHAPE, dtype=bool)
        for blob in blobs:
            mask |= blob.mask(spacing, SHAPE)
        hit = box_of(mask)
        if hit is not None:
            found.append(ImplantTruth(cls, hit[0], info.uid, sop, where))
    cobb_spine = spine[:-1]
    return study_truth(
        study,
        series=[truth],
        vertebrae=vertebrae,
        implants=found,
        cobb=cobb_from_tilts([v.label for v in cobb_spine], [v.tilt_deg for v in cobb_spine]),
        parameters={"pixel_spacing_mm": spacing, "monochrome1": float(mono1), **extra},
    )
