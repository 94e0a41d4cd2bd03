"""``spine-xr``: an AP radiograph from T10 to the sacrum with a scoliotic curve and implants.

Coordinates: image millimetres ``x = column * spacing`` (towards the patient's left) and
``y = row * spacing`` (towards the feet). In the ground truth, ``centre_mm`` of a vertebra is
the detector-plane point ``[x, 0, -y]`` (patient LPS axes, origin at pixel (0, 0)).

Magnified radiographs (:class:`XrGeometry`, ``spineviewer phantom --kind spine-xr
--xr-geometry TAGS[:CR|DX[:FACTOR]]``): the same seed's anatomy (patient mm) seen through a
diverging beam, magnified at the detector by ``M = SID / SOD`` (drawn 1.08-1.30 unless given),
so each detector pixel of ``ImagerPixelSpacing`` ``s`` (the seed's drawn spacing) covers
``s / M`` mm of the patient, on a detector ``M`` times the default's 1024 x 512 pixels; a
25 mm metal calibration sphere lies in the patient plane beside the spine. What the header
tells (``TAGS``, :data:`XR_GEOMETRY_TAGS`):

- ``detector``: ImagerPixelSpacing and DistanceSourceToDetector only (DX: PixelSpacing equal
  to ImagerPixelSpacing): lengths can only be in ``mm (detector)``, ``M`` times too long;
- ``ermf``: EstimatedRadiographicMagnificationFactor ``M`` too;
- ``distances``: DistanceSourceToPatient ``SID / M`` too (no factor);
- ``geometry``: PixelSpacing ``s / M`` with PixelSpacingCalibrationType GEOMETRY, and the
  factor and both distances;
- ``fiducial``: PixelSpacing ``s / M`` with PixelSpacingCalibrationType FIDUCIAL and its
  description (the sphere).

EstimatedRadiographicMagnificationFactor is no attribute of the CR IOD: a CR with it (``ermf``,
``geometry``) is a Standard Extended SOP Class, which dciodvfy notes as a warning.
Such a study is another study of the same patient (UIDs of its own, :attr:`XrGeometry.variant`).
Its truth's ``centre_mm`` and ``pixel_spacing_mm`` are in the patient plane (``s / M``); its
``parameters`` add ``xr_geometry`` (``tags``, ``modality``, ``magnification``,
``imager_pixel_spacing_mm``, ``patient_pixel_spacing_mm``, ``source_to_detector_mm``,
``source_to_patient_mm``, ``spacing_unit``: the unit label the header allows),
``body_heights`` (per vertebra ``height_mm``, the true body height in the patient, and
``line_px``, its end points ``[[row, col], [row, col]]`` on the image: the centres of the
upper and lower endplates) and ``calibration_sphere`` (``diameter_mm``, ``centre_px``,
``line_px``: a horizontal diameter). The default study (no geometry) is unchanged.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation

from spineviewer.phantom.anatomy import BODY_HEIGHT, BODY_WIDTH, DISC_BELOW
from spineviewer.phantom.dicom_files import SeriesInfo, StudyInfo, new_dataset, set_pixels, write
from spineviewer.phantom.folders import study_folder_name
from spineviewer.phantom.fractures import Fracture, FractureRequest, study_fractures
from spineviewer.phantom.imaging import box_of, smooth, to_uint16
from spineviewer.phantom.radiograph import Blob, add_solid
from spineviewer.phantom.records import study_truth, with_fracture
from spineviewer.phantom.series import series_truth
from spineviewer.phantom.truth import (
    CobbTruth,
    ImplantTruth,
    SeriesTruth,
    StudyGroundTruth,
    VertebraTruth,
    View,
)

KIND = "spine-xr"
XR_LABELS: tuple[str, ...] = ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")
SHAPE = (1024, 512)
MAX_STORED = 4095
METAL = 6.0
#: Fracture kinds an AP radiograph shows (a crushed body is lower; wedges need a lateral view).
XR_FRACTURE_KINDS: tuple[str, ...] = ("crush",)
#: What a magnified radiograph's header tells of its geometry (see the module docstring).
XR_GEOMETRY_TAGS: tuple[str, ...] = ("detector", "ermf", "distances", "geometry", "fiducial")
XR_MODALITIES: tuple[str, ...] = ("CR", "DX")
#: Magnifications drawn when none is given, and those accepted.
MAGNIFICATION_DRAWN = (1.08, 1.30)
MAGNIFICATION_ACCEPTED = (1.0, 2.0)
#: The calibration sphere: diameter (mm, patient plane) and centre (fractions of the field).
SPHERE_DIAMETER_MM = 25.0
SPHERE_PLACE = (0.08, 0.5)
SPHERE_DESCRIPTION = "25 mm metal calibration sphere in the patient plane (synthetic)"


@dataclass(frozen=True)
class XrGeometry:
    """A magnified radiograph: what its header tells, its modality and its magnification
    (None: drawn from the seed)."""

    tags: str = "ermf"
    modality: str | None = None
    magnification: float | None = None

    def __post_init__(self) -> None:
        if self.tags not in XR_GEOMETRY_TAGS:
            raise ValueError(
                f"X-ray geometry {self.tags!r}: choose one of {', '.join(XR_GEOMETRY_TAGS)}"
            )
        if self.modality is not None and self.modality not in XR_MODALITIES:
            raise ValueError(f"X-ray modality {self.modality!r}: choose CR or DX")
        low, high = MAGNIFICATION_ACCEPTED
        m = self.magnification
        if m is not None and not (math.isfinite(m) and low <= m <= high):
            raise ValueError(f"magnification {m} is not between {low:g} and {high:g}")

    @property
    def variant(self) -> str:
        """The study variant (its UIDs): the options as given."""
        m = "drawn" if self.magnification is None else f"{self.magnification:.4f}"
        return f"geometry-{self.tags}-{self.modality or 'drawn'}-{m}"

    @classmethod
    def parse(cls, text: str) -> XrGeometry:
        """``TAGS[:CR|DX[:FACTOR]]`` (any letter case); ValueError when malformed."""
        parts = [p.strip() for p in text.split(":")]
        if not 1 <= len(parts) <= 3 or not parts[0]:
            raise ValueError(f"expected TAGS[:CR|DX[:FACTOR]], got {text!r}")
        modality = parts[1].upper() if len(parts) > 1 and parts[1] else None
        try:
            factor = float(parts[2]) if len(parts) > 2 else None
        except ValueError:
            raise ValueError(f"magnification {parts[2]!r} is not a number") from None
        return cls(parts[0].lower(), modality, factor)


@dataclass(frozen=True)
class _Setup:
    """A magnified radiograph's drawn geometry."""

    dx: bool
    magnification: float
    source_to_detector: float
    detector_spacing: float

    @property
    def source_to_patient(self) -> float:
        return self.source_to_detector / self.magnification

    @property
    def patient_spacing(self) -> float:
        return self.detector_spacing / self.magnification

    @property
    def shape(self) -> tuple[int, int]:
        return (round(SHAPE[0] * self.magnification), round(SHAPE[1] * self.magnification))


def _setup(geometry: XrGeometry, seed: int, spacing: float, dx: bool) -> _Setup:
    """Magnification and distances (own random stream: the anatomy stays the seed's)."""
    rng = np.random.default_rng([seed, 3, 22])
    drawn = round(float(rng.uniform(*MAGNIFICATION_DRAWN)), 4)
    sid = float(rng.choice([1000.0, 1150.0, 1500.0, 1800.0]))
    m = geometry.magnification if geometry.magnification is not None else drawn
    if geometry.modality is not None:
        dx = geometry.modality == "DX"
    return _Setup(dx, m, sid, round(spacing, 4))  # as ImagerPixelSpacing is written


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
    rng: np.random.Generator, width_mm: float, fractures: Mapping[str, Fracture]
) -> list[XrVertebra]:
    scale = rng.uniform(0.9, 1.1)
    tilts, _ = _tilts(rng, len(XR_LABELS) - 1)
    tilts.append(tilts[-1] * 0.5 + float(rng.normal(0.0, 1.0)))  # the sacrum follows L5 halfway
    x = width_mm / 2 + rng.uniform(-12.0, 12.0)
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


def _decorate(
    ds: Dataset,
    dx: bool,
    mono1: bool,
    spacing: float,
    setup: _Setup | None = None,
    tags: str = "",
) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BodyPartExamined = "LSPINE"
    ds.ViewPosition = "AP"
    ds.PatientOrientation = ["L", "F"]
    ds.ImagerPixelSpacing = [f"{spacing:.4f}", f"{spacing:.4f}"]
    ds.KVP = "85"
    ds.DistanceSourceToDetector = "1150"
    ds.ExposureTime = 100
    ds.XRayTubeCurrent = 320
    if setup is not None:
        _geometry_tags(ds, setup, tags)
    if not dx:
        return
    if "PixelSpacing" not in ds:
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


def _geometry_tags(ds: Dataset, setup: _Setup, tags: str) -> None:
    """The attributes that tell a magnified radiograph's geometry (module docstring)."""
    ds.DistanceSourceToDetector = f"{setup.source_to_detector:.1f}"
    factor = f"{setup.magnification:.4f}"
    if tags in ("ermf", "geometry"):
        ds.EstimatedRadiographicMagnificationFactor = factor
    if tags in ("distances", "geometry"):
        ds.DistanceSourceToPatient = f"{setup.source_to_patient:.3f}"
    if tags in ("geometry", "fiducial"):
        patient = f"{setup.patient_spacing:.6f}"
        ds.PixelSpacing = [patient, patient]
        ds.PixelSpacingCalibrationType = tags.upper()
        ds.PixelSpacingCalibrationDescription = (
            SPHERE_DESCRIPTION if tags == "fiducial" else "Source, patient and detector distances"
        )


def _sphere(width_mm: float, height_mm: float) -> Blob:
    x, y = SPHERE_PLACE[0] * width_mm, SPHERE_PLACE[1] * height_mm
    return Blob((x, y), (SPHERE_DIAMETER_MM / 2, SPHERE_DIAMETER_MM / 2))


def _px(point: tuple[float, float], spacing: float) -> list[float]:
    """Image ``[row, col]`` of an image-mm point ``(x, y)``."""
    return [point[1] / spacing, point[0] / spacing]


def _magnified_truth(
    setup: _Setup, tags: str, spine: list[XrVertebra], sphere: Blob
) -> dict[str, Any]:
    """The ``parameters`` a magnified study adds (module docstring)."""
    ps = setup.patient_spacing
    heights = {}
    for v in spine:
        hh = v.body.half[1]
        top, bottom = v.body.point(0.0, hh), v.body.point(0.0, -hh)
        heights[v.label] = {"height_mm": 2 * hh, "line_px": [_px(top, ps), _px(bottom, ps)]}
    radius = sphere.half[0]
    left, right = sphere.point(-radius, 0.0), sphere.point(radius, 0.0)
    return {
        "xr_geometry": {
            "tags": tags,
            "modality": "DX" if setup.dx else "CR",
            "magnification": setup.magnification,
            "imager_pixel_spacing_mm": setup.detector_spacing,
            "patient_pixel_spacing_mm": ps,
            "source_to_detector_mm": setup.source_to_detector,
            "source_to_patient_mm": setup.source_to_patient,
            "spacing_unit": "mm (detector)" if tags == "detector" else "mm (calibrated)",
        },
        "body_heights": heights,
        "calibration_sphere": {
            "diameter_mm": SPHERE_DIAMETER_MM,
            "centre_px": _px(sphere.centre, ps),
            "line_px": [_px(left, ps), _px(right, ps)],
        },
    }


def write_ap_radiograph(
    study: StudyInfo,
    study_dir: Path,
    stored: np.ndarray,
    kind: tuple[bool, bool],
    window: tuple[float, float, int],
    decorate: Callable[[Dataset], None],
) -> tuple[SeriesInfo, SeriesTruth]:
    """Write the one AP image of a spine-xr study: ``stored`` bone bright, inverted here for
    MONOCHROME1; ``kind`` (DX, MONOCHROME1), ``window`` (centre, width, bits stored),
    ``decorate`` adds the radiograph's attributes."""
    dx, mono1 = kind
    centre, width, bits = window
    if mono1:
        stored = (2**bits - 1 - stored).astype(np.uint16)
    sop_class = DigitalXRayImageStorageForPresentation if dx else ComputedRadiographyImageStorage
    info = SeriesInfo.create(
        study, 1, "xr_ap", "AP L-SPINE", "DX" if dx else "CR", sop_class, "projection"
    )
    ds = new_dataset(study, info, 0)
    decorate(ds)
    set_pixels(ds, stored, (centre, width), "MONOCHROME1" if mono1 else "MONOCHROME2", bits)
    write(ds, study_dir, info.file_name(0))
    return info, series_truth(info, study, 1)


def generate_spine_xr(
    study_dir: Path,
    seed: int,
    *,
    fracture_rate: float = 0.0,
    fractures: Sequence[FractureRequest] = (),
    geometry: XrGeometry | None = None,
) -> StudyGroundTruth:
    """Write one AP spine radiograph into ``study_dir`` and return its ground truth.

    ``fracture_rate`` (per vertebra, T10..L5) and ``fractures`` add crush fractures: the AP view
    shows a body's whole-height loss, while wedge and biconcave deformities need a lateral view.
    ``geometry`` makes it a magnified radiograph (module docstring); without, the study is the
    one generated before magnification existed.
    """
    plan, extra = study_fractures(
        [seed, 3], XR_LABELS[:-1], fracture_rate, fractures, kinds=XR_FRACTURE_KINDS
    )
    rng = np.random.default_rng([seed, 3])
    study = StudyInfo.create(KIND, seed, geometry.variant if geometry is not None else "")
    spacing = float(rng.uniform(0.36, 0.4))
    dx = bool(rng.random() < 0.5)
    mono1 = bool(rng.random() < 0.4)
    setup = _setup(geometry, seed, spacing, dx) if geometry is not None else None
    shape, detector = SHAPE, spacing
    if setup is not None:  # the anatomy in patient mm, sampled at the patient-plane spacing
        shape, dx, spacing, detector = (
            setup.shape,
            setup.dx,
            setup.patient_spacing,
            setup.detector_spacing,
        )
    spine = _layout(rng, SHAPE[1] * detector, plan)
    implants = _implants(rng, spine)

    image = np.full(shape, 1.0)
    _bones(image, spine, spacing)
    for _, _, blobs in implants:
        for blob in blobs:
            add_solid(image, blob, spacing, METAL, rim=0.0)
    sphere = _sphere(shape[1] * spacing, shape[0] * spacing)
    if setup is not None:
        add_solid(image, sphere, spacing, METAL, rim=0.0)
    gradient = np.linspace(1.0 + rng.uniform(0, 0.08), 1.0 - rng.uniform(0, 0.08), shape[0])
    signal = smooth(np.minimum(image, 3.2)) * gradient[:, None] * 1000.0
    signal += rng.normal(0.0, rng.uniform(8.0, 20.0), shape)
    stored = to_uint16(signal, MAX_STORED)
    info, truth = write_ap_radiograph(
        study,
        study_dir,
        stored,
        (dx, mono1),
        (1900.0, 2000.0, 12),
        lambda ds: _decorate(
            ds, dx, mono1, detector, setup, geometry.tags if geometry is not None else ""
        ),
    )
    sop = truth.images[0].sop_instance_uid

    vertebrae = []
    for v in spine:
        hit = box_of(v.body.mask(spacing, shape))
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
        mask = np.zeros(shape, dtype=bool)
        for blob in blobs:
            mask |= blob.mask(spacing, shape)
        hit = box_of(mask)
        if hit is not None:
            found.append(ImplantTruth(cls, hit[0], info.uid, sop, where))
    cobb_spine = spine[:-1]
    if setup is not None:
        assert geometry is not None
        extra = {**extra, **_magnified_truth(setup, geometry.tags, spine, sphere)}
    return study_truth(
        study,
        series=[truth],
        vertebrae=vertebrae,
        implants=found,
        cobb=cobb_from_tilts([v.label for v in cobb_spine], [v.tilt_deg for v in cobb_spine]),
        parameters={"pixel_spacing_mm": spacing, "monochrome1": float(mono1), **extra},
    )


def magnified_folder_name(seed: int, geometry: XrGeometry) -> str:
    """``spine-xr-<seed:05d>-<tags>[-<modality>][-x<factor>]``: a magnified study's folder
    (beside the default study's ``spine-xr-<seed:05d>``)."""
    name = f"{study_folder_name(KIND, seed)}-{geometry.tags}"
    if geometry.modality is not None:
        name += f"-{geometry.modality.lower()}"
    if geometry.magnification is not None:
        name += f"-x{geometry.magnification:g}"
    return name


def generate_magnified_xr(
    out_dir: str | Path,
    seed: int,
    geometry: XrGeometry,
    *,
    fracture_rate: float = 0.0,
    fractures: Sequence[FractureRequest] = (),
) -> StudyGroundTruth:
    """Write the magnified radiograph of ``seed`` to ``out_dir/``:func:`magnified_folder_name`
    with its ``ground_truth.json``, and return the truth (ValueError for a negative seed or
    a bad fracture request)."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    study_dir = Path(out_dir) / magnified_folder_name(seed, geometry)
    study_dir.mkdir(parents=True, exist_ok=True)
    truth = generate_spine_xr(
        study_dir, seed, fracture_rate=fracture_rate, fractures=fractures, geometry=geometry
    )
    truth.save(study_dir)
    return truth
