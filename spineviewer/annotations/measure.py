"""Measurements of annotations: masks, areas, lengths, angles and ROI statistics.

Conventions
-----------
- Image points are ``(row, col)`` with the centre of the first pixel at ``(0, 0)``.
- A pixel belongs to a filled shape when its *centre* lies inside the shape or on its outline
  (:func:`rasterise`); areas are exact geometric areas of the shape, not pixel counts.
- Physical values come from the annotation's patient points (``points_mm``) when present, else
  from the image's pixel spacing; without either, lengths are in pixels (unit ``"px"``) and
  areas in square pixels (``"px2"``).
- A :class:`Scale` says what those millimetres are (the image's spacing kind: in the patient,
  at a radiograph's detector, or calibrated; :mod:`spineviewer.dicom.spacing`) and carries a
  series' known-length calibration factor (:mod:`.calibration`), which multiplies every length
  and, squared, every area (a calibrated image without any spacing is then in mm too). Each
  :class:`Measurement` keeps that kind: :attr:`Measurement.label` is ``mm (detector)`` where
  only the detector spacing was known. Angles are the same whatever the scale.
- Units are UCUM: ``mm``, ``mm2``, ``deg``, ``[hnsf'U]`` (CT Hounsfield units), ``1``
  (unitless pixel values, e.g. MR), ``{pixels}`` (a pixel count).

No Qt, no image library: everything is vectorised numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.annotations.annotation import Annotation
from spineviewer.annotations.shapes import ON_EDGE_TOLERANCE as ON_EDGE_TOLERANCE  # re-exported
from spineviewer.annotations.shapes import BoolArray, FloatArray, polygon_area, shape
from spineviewer.dicom.spacing import SpacingKind, unit_label

#: UCUM unit of CT pixel values (Hounsfield units).
HU_UNIT = "[hnsf'U]"
#: UCUM "no units", for pixel values without a physical unit (MR, radiographs).
NO_UNIT = "1"
#: UCUM annotation for a number of pixels.
PIXEL_COUNT_UNIT = "{pixels}"


@dataclass(frozen=True)
class Scale:
    """What an annotation's millimetres are, and a known-length calibration's factor."""

    #: The spacing kind of the image (or CALIBRATED under a known-length calibration).
    kind: SpacingKind = SpacingKind.PATIENT
    #: Multiplies lengths measured from the points and spacing (areas: squared); None when
    #: the series has no known-length calibration.
    factor: float | None = None

    def __post_init__(self) -> None:
        if self.factor is not None and not (np.isfinite(self.factor) and self.factor > 0):
            raise ValueError(f"a calibration factor must be positive, got {self.factor}")


#: The scale of an image measured as its spacing says, in the patient (the default).
PATIENT_SCALE = Scale()


@dataclass(frozen=True)
class Measurement:
    """One measured value with its UCUM unit (``"px"`` / ``"px2"`` when no scale is known)
    and what its millimetres are (:attr:`label`)."""

    name: str
    value: float
    unit: str
    #: The spacing kind behind a length or area (PATIENT for every other value).
    spacing: SpacingKind = SpacingKind.PATIENT

    @property
    def label(self) -> str:
        """The unit as a reader sees it: ``mm``, ``mm (detector)``, ``mm2 (calibrated)``,
        ``deg``, ``px``."""
        return unit_label(self.unit, self.spacing)


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the pixel values inside a filled annotation.

    ``sd`` is the population standard deviation; the value fields are NaN when no pixel centre
    falls inside the shape; ``area_mm2`` is the geometric area (None without pixel spacing).
    """

    mean: float
    sd: float
    min: float
    max: float
    pixels: int
    area_mm2: float | None


def value_unit(modality: str) -> str:
    """UCUM unit of rescaled pixel values for a modality (HU for CT, no unit otherwise)."""
    return HU_UNIT if modality.upper() == "CT" else NO_UNIT


# -- masks ------------------------------------------------------------------------------------


def _points(annotation: Annotation) -> FloatArray:
    return np.asarray(annotation.points, dtype=np.float64).reshape(-1, 2)


def outline(annotation: Annotation) -> FloatArray:
    """Vertices ``(N, 2)`` of a polygonal filled shape (a rectangle's 4 corners, in order).

    Raises ValueError for ellipses (no polygon) and for shapes that do not enclose an area.
    """
    return shape(annotation.kind).outline(annotation.points)


def rasterise(annotation: Annotation, rows: int, cols: int) -> BoolArray:
    """Boolean mask ``(rows, cols)``: pixels whose centre is inside the shape or on its outline.

    Only filled shapes (rectangle, ellipse, polygon, freehand) have a mask; others raise
    ValueError. Parts of the shape outside the image are clipped.
    """
    return shape(annotation.kind).rasterise(annotation.points, rows, cols)


# -- geometry in mm ---------------------------------------------------------------------------


def _scaled_points(annotation: Annotation, scale: Scale = PATIENT_SCALE) -> tuple[FloatArray, bool]:
    """The points as vectors in mm (patient points, else spacing-scaled pixels; times a
    calibration's factor) or in pixels.

    Returns the ``(N, 2 or 3)`` array and whether it is in millimetres.
    """
    if annotation.points_mm is not None:
        pts = np.asarray(annotation.points_mm, dtype=np.float64).reshape(-1, 3)
        in_mm = True
    else:
        pts = _points(annotation)
        spacing = annotation.image.pixel_spacing
        in_mm = spacing is not None
        if spacing is not None:
            pts = pts * np.asarray(spacing, dtype=np.float64)
    if scale.factor is not None:
        return pts * scale.factor, True
    return pts, in_mm


def _area(annotation: Annotation, scale: Scale = PATIENT_SCALE) -> tuple[float, bool]:
    """Area and whether it is in mm2 (else square pixels), times a calibration's factor
    squared."""
    value, in_mm = _base_area(annotation)
    if scale.factor is not None:
        return value * scale.factor**2, True
    return value, in_mm


def _base_area(annotation: Annotation) -> tuple[float, bool]:
    spec = shape(annotation.kind)
    if spec.region is None:
        raise ValueError(f"a {annotation.kind.value} encloses no area")
    spacing = annotation.image.pixel_spacing
    if annotation.points_mm is not None and spec.region.patient_area:
        return polygon_area(np.asarray(annotation.points_mm, dtype=np.float64)), True
    scale = float(spacing[0] * spacing[1]) if spacing is not None else 1.0
    return spec.area_px(annotation.points) * scale, spacing is not None


def area_mm2(annotation: Annotation, scale: Scale = PATIENT_SCALE) -> float | None:
    """Exact area of a filled shape in mm2 (None without pixel spacing, patient points or a
    calibration).

    Rectangles ``w*h`` and ellipses ``pi*a*b`` from the corners and the pixel spacing;
    polygons by the shoelace formula, on the patient points when present (in-plane area).
    """
    value, in_mm = _area(annotation, scale)
    return value if in_mm else None


def length_mm(annotation: Annotation, scale: Scale = PATIENT_SCALE) -> Measurement:
    """Length of a line (or arrow): in mm when patient points, spacing or a calibration are
    known, else px; its :attr:`Measurement.label` says what the mm are."""
    if not shape(annotation.kind).has_length:
        raise ValueError(f"a {annotation.kind.value} has no length")
    pts, in_mm = _scaled_points(annotation, scale)
    length = float(np.linalg.norm(pts[1] - pts[0]))
    if not in_mm:
        return Measurement("length", length, "px")
    return Measurement("length", length, "mm", scale.kind)


def _angle_between(u: FloatArray, v: FloatArray, what: str) -> float:
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0.0 or nv == 0.0:
        raise ValueError(f"{what} has a zero-length arm")
    cos = float(np.dot(u, v)) / (nu * nv)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def angle_deg(annotation: Annotation) -> float:
    """Interior angle at the vertex (the middle point) of an angle annotation, 0..180 degrees.

    Computed in physical space (patient points or spacing-scaled pixels) so that
    non-square pixels do not distort it.
    """
    if shape(annotation.kind).measure != "angle":
        raise ValueError(f"a {annotation.kind.value} is not an angle")
    pts, _ = _scaled_points(annotation)
    return _angle_between(pts[0] - pts[1], pts[2] - pts[1], "the angle")


def cobb_deg(annotation: Annotation) -> float:
    """Cobb angle: the acute angle between the two lines, 0..90 degrees."""
    if shape(annotation.kind).measure != "cobb_angle":
        raise ValueError(f"a {annotation.kind.value} is not a Cobb angle")
    pts, _ = _scaled_points(annotation)
    angle = _angle_between(pts[1] - pts[0], pts[3] - pts[2], "the Cobb angle")
    return min(angle, 180.0 - angle)


#: The angle of each shape measured as one, by its measurement's name.
ANGLES: dict[str, Callable[[Annotation], float]] = {"angle": angle_deg, "cobb_angle": cobb_deg}


def roi_stats(
    annotation: Annotation, values: NDArray[np.generic], scale: Scale = PATIENT_SCALE
) -> RoiStats:
    """Mean, population SD, min, max and count of ``values`` (rescaled) inside the shape."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"pixel values must be a 2D image, got shape {arr.shape}")
    inside = arr[rasterise(annotation, *arr.shape)]
    area = area_mm2(annotation, scale)
    if inside.size == 0:
        nan = float("nan")
        return RoiStats(nan, nan, nan, nan, 0, area)
    return RoiStats(
        mean=float(inside.mean()),
        sd=float(inside.std()),
        min=float(inside.min()),
        max=float(inside.max()),
        pixels=int(inside.size),
        area_mm2=area,
    )


def measurements(
    annotation: Annotation,
    values: NDArray[np.generic] | None = None,
    *,
    unit: str = NO_UNIT,
    scale: Scale = PATIENT_SCALE,
) -> list[Measurement]:
    """Every measurement of an annotation.

    By the shape's measurement (:attr:`.shapes.ShapeSpec.measure`): lines: ``length``;
    angles: ``angle``; Cobb: ``cobb_angle``; filled shapes: ``area`` and, when ``values``
    (the frame's rescaled pixel values) are given, ``mean``, ``sd``, ``min``, ``max`` in
    ``unit`` (see :func:`value_unit`) and ``pixels``. Points and arrows: none.
    Lengths and areas follow ``scale`` (:func:`spineviewer.annotations.calibration.scale_of`).
    """
    measure = shape(annotation.kind).measure
    if measure == "length":
        return [length_mm(annotation, scale)]
    if measure in ANGLES:
        return [Measurement(measure, ANGLES[measure](annotation), "deg")]
    if measure != "area":
        return []
    area, in_mm = _area(annotation, scale)
    out = [
        Measurement("area", area, "mm2", scale.kind) if in_mm else Measurement("area", area, "px2")
    ]
    if values is not None:
        stats = roi_stats(annotation, values, scale)
        out += [
            Measurement("mean", stats.mean, unit),
            Measurement("sd", stats.sd, unit),
            Measurement("min", stats.min, unit),
            Measurement("max", stats.max, unit),
            Measurement("pixels", float(stats.pixels), PIXEL_COUNT_UNIT),
        ]
    return out
