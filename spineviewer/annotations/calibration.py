"""A series' calibration on a known length, and the scale every measurement of an image uses.

When a radiograph's header cannot say how much the beam magnified the anatomy (only the
detector spacing is known, :mod:`spineviewer.dicom.spacing`), or says it for another depth, the
reader draws a line over something of known size (a calibration sphere, a ruler, an implant of
known length) and types that length. The series' **factor** is then ``known / measured``,
``measured`` being the line's length by the image's own spacing (mm; pixels on an image with
no spacing at all). Every length on the series is multiplied by the factor, every area by its
square; their unit reads ``mm (calibrated)``. Angles do not change.

A calibration is kept per series in the study's annotation document
(:attr:`~spineviewer.annotations.document.AnnotationDocument.calibrations`, saved in
``annotations.json`` under ``calibrations``) and changed only through the undo stack
(:mod:`.calibration_edits`), so it is undone, redone, autosaved and merged like any mark.

:func:`scale_of` gives the :class:`~spineviewer.annotations.measure.Scale` that
:func:`~spineviewer.annotations.measure.measurements` takes: the series' calibration when it
has one, else the spacing kind of its image (from the frame, :func:`scale_of_frame`, or the
header, :func:`scale_of_header`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from spineviewer.annotations.annotation import Annotation, Point, default_author, now_iso
from spineviewer.annotations.measure import PATIENT_SCALE, Scale, length_mm
from spineviewer.annotations.shapes import shape
from spineviewer.dicom import Frame
from spineviewer.dicom.spacing import SpacingKind, spacing_of_dataset

#: Units a calibration line can have been measured in before calibration.
MEASURED_UNITS = ("mm", "px")

Calibrations = Mapping[str, "Calibration"]


@dataclass(frozen=True)
class Calibration:
    """One series' calibration: the line drawn, the length it really has, and what it
    measured by the image's own spacing."""

    series_uid: str
    sop_instance_uid: str
    #: 1-based frame number of the image the line is on.
    frame_number: int
    #: The line's two end points, image ``(row, col)``.
    points: tuple[Point, Point]
    #: What the reader says the line's true length is, mm.
    known_length_mm: float
    #: The line's length by the image's spacing (``measured_unit``: mm, or px without one).
    measured_length: float
    measured_unit: str = "mm"
    author: str = field(default_factory=default_author)
    created: str = field(default_factory=now_iso)

    def __post_init__(self) -> None:
        if not self.series_uid:
            raise ValueError("a calibration needs a series UID")
        for name in ("known_length_mm", "measured_length"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name.replace('_', ' ')} must be a positive number, got {value}")
        if self.measured_unit not in MEASURED_UNITS:
            raise ValueError(f"measured unit {self.measured_unit!r} is not mm or px")
        if len(self.points) != 2 or not all(len(p) == 2 for p in self.points):
            raise ValueError("a calibration line has two (row, col) points")

    @property
    def factor(self) -> float:
        """What every length of the series is multiplied by (``known / measured``)."""
        return self.known_length_mm / self.measured_length

    @property
    def scale(self) -> Scale:
        """The scale of every measurement on the series."""
        return Scale(SpacingKind.CALIBRATED, self.factor)

    def describe(self) -> str:
        """ "known length 50 mm (measured 57.5 mm): factor 0.870" """
        return (
            f"known length {self.known_length_mm:g} mm (measured {self.measured_length:.1f} "
            f"{self.measured_unit}): factor {self.factor:.3f}"
        )

    @classmethod
    def from_line(
        cls, line: Annotation, known_length_mm: float, author: str | None = None
    ) -> Calibration:
        """The calibration of ``line``'s series by a line of ``known_length_mm``.

        Raises ValueError for a shape that is not a line, a line of zero length or a known
        length that is not positive.
        """
        if shape(line.kind).measure != "length":
            raise ValueError(f"calibrate on a line, not a {line.kind.value}")
        measured = length_mm(line, PATIENT_SCALE)  # by the image's own spacing, uncalibrated
        if measured.value <= 0:
            raise ValueError("the calibration line has no length")
        (r0, c0), (r1, c1) = line.points
        return cls(
            series_uid=line.image.series_uid,
            sop_instance_uid=line.image.sop_instance_uid,
            frame_number=line.image.frame_number,
            points=((r0, c0), (r1, c1)),
            known_length_mm=float(known_length_mm),
            measured_length=measured.value,
            measured_unit=measured.unit,
            author=default_author() if author is None else author,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``factor`` written for readers; it is recomputed when read)."""
        return {
            "series_uid": self.series_uid,
            "sop_instance_uid": self.sop_instance_uid,
            "frame_number": self.frame_number,
            "points": [list(p) for p in self.points],
            "known_length_mm": self.known_length_mm,
            "measured_length": self.measured_length,
            "measured_unit": self.measured_unit,
            "factor": self.factor,
            "author": self.author,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict`; KeyError / TypeError / ValueError on malformed data."""
        (r0, c0), (r1, c1) = data["points"]
        return cls(
            series_uid=str(data["series_uid"]),
            sop_instance_uid=str(data.get("sop_instance_uid", "")),
            frame_number=int(data.get("frame_number", 1)),
            points=((float(r0), float(c0)), (float(r1), float(c1))),
            known_length_mm=float(data["known_length_mm"]),
            measured_length=float(data["measured_length"]),
            measured_unit=str(data.get("measured_unit", "mm")),
            author=str(data.get("author", "")),
            created=str(data.get("created", "")),
        )


def scale_of(
    series_uid: str,
    kind: SpacingKind = SpacingKind.PATIENT,
    calibrations: Calibrations | None = None,
) -> Scale:
    """The scale of a measurement on ``series_uid``: its calibration when it has one, else
    the spacing ``kind`` of its image."""
    calibration = (calibrations or {}).get(series_uid)
    if calibration is not None:
        return calibration.scale
    return Scale(kind)


def scale_of_frame(frame: Frame, calibrations: Calibrations | None = None) -> Scale:
    """The scale of a measurement on a decoded frame (the viewer's)."""
    return scale_of(frame.instance.series_uid, frame.spacing_kind, calibrations)


def scale_of_header(header: Dataset, calibrations: Calibrations | None = None) -> Scale:
    """The scale of a measurement on the image of a header (the SR writer's)."""
    kind = spacing_of_dataset(header).kind
    return scale_of(str(header.get("SeriesInstanceUID", "")), kind, calibrations)
