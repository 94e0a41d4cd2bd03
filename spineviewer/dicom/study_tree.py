"""Studies, series and stacks found by a scan: header data only, no pixels."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from pydicom.uid import UID

from spineviewer.dicom.errors import SkippedFile
from spineviewer.dicom.header import DERIVED_UID_PREFIX, Frame
from spineviewer.dicom.ordering import Ordering
from spineviewer.geometry import Plane

#: Modalities whose images are projections (no patient-space slice geometry).
PROJECTION_MODALITIES = frozenset({"CR", "DX", "MG", "RF", "XA", "IO", "PX", "RG", "DR"})
#: A normal within about 37 degrees of a patient axis gets that axis' plane name.
PLANE_COSINE = 0.8
#: Images with header problems named one by one in a stack's warnings; the rest are counted.
MAX_NAMED_PROBLEMS = 10
#: Confidence of a stack some of whose images have unusable geometry or no pixels.
PROBLEM_CONFIDENCE = 0.8


def _real_uid(uid: str) -> str | None:
    """The UID as stored, or None for a stand-in derived from other attributes."""
    return None if uid.startswith(DERIVED_UID_PREFIX) else uid


def plane_name(normal: tuple[float, float, float] | None, modality: str) -> str:
    """``sagittal`` / ``coronal`` / ``axial`` / ``oblique`` / ``projection`` / ``unknown``."""
    if normal is None:
        return "projection" if modality in PROJECTION_MODALITIES else "unknown"
    n = np.abs(np.asarray(normal))
    axis = int(np.argmax(n))
    if n[axis] < PLANE_COSINE:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


@dataclass(frozen=True)
class Stack:
    """Images of one series sharing orientation and size, sorted along the slice normal."""

    name: str
    series_uid: str
    ordering: Ordering
    extra_warnings: tuple[str, ...] = ()

    @property
    def frames(self) -> tuple[Frame, ...]:
        """Frames in display order."""
        return self.ordering.frames

    def __len__(self) -> int:
        return len(self.ordering.frames)

    @property
    def first(self) -> Frame:
        """The first frame (the stack is never empty)."""
        return self.ordering.frames[0]

    @property
    def modality(self) -> str:
        """Modality of the series."""
        return self.first.instance.modality

    @property
    def plane(self) -> str:
        """Plane name from the slice normal (see :func:`plane_name`)."""
        return plane_name(self.ordering.normal, self.modality)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of every image."""
        return self.first.instance.rows, self.first.instance.columns

    @cached_property
    def pixel_spacing(self) -> tuple[float, float] | None:
        """(row spacing, column spacing) in mm, or None when unknown: the spacing most images
        have (one image with a spacing of 0 does not take the stack's away)."""
        counts = Counter(f.pixel_spacing for f in self.frames if f.pixel_spacing is not None)
        return counts.most_common(1)[0][0] if counts else None

    @cached_property
    def spacing_unit(self) -> str:
        """The unit label of lengths on this stack (:attr:`pixel_spacing`'s frames):
        ``mm``, ``mm (detector)`` or ``mm (calibrated)``; "px" without a spacing."""
        spacing = self.pixel_spacing
        if spacing is None:
            return "px"
        return next(f.spacing_unit for f in self.frames if f.pixel_spacing == spacing)

    @property
    def slice_spacing(self) -> float | None:
        """Median distance between slice positions along the normal (not SliceThickness)."""
        return self.ordering.slice_spacing

    @property
    def warnings(self) -> tuple[str, ...]:
        """Everything imperfect about this stack's geometry, and every image whose header
        makes it unusable (named, up to :data:`MAX_NAMED_PROBLEMS`)."""
        return self.extra_warnings + self.ordering.warnings + self._problem_warnings

    @cached_property
    def problems(self) -> tuple[tuple[int, str], ...]:
        """(index, reason) of every image the header says is unusable (no pixels, or a
        spacing, position or orientation that cannot be used), in stack order."""
        return tuple((i, "; ".join(f.problems)) for i, f in enumerate(self.frames) if f.problems)

    @cached_property
    def _problem_warnings(self) -> tuple[str, ...]:
        named = [f"{self.frames[i].label}: {reason}" for i, reason in self.problems]
        if len(named) > MAX_NAMED_PROBLEMS:
            more = len(named) - MAX_NAMED_PROBLEMS
            named = [*named[:MAX_NAMED_PROBLEMS], f"and {more} more images with such problems"]
        return tuple(named)

    @property
    def confidence(self) -> float:
        """1.0 for clean geometry, lower when positions are missing or uneven, or when some
        images are unusable."""
        if self.problems:
            return min(self.ordering.confidence, PROBLEM_CONFIDENCE)
        return self.ordering.confidence

    @property
    def transfer_syntaxes(self) -> tuple[str, ...]:
        """Transfer syntax UIDs present, in first-seen order."""
        return tuple(dict.fromkeys(f.instance.transfer_syntax for f in self.frames))

    def plane_of(self, index: int) -> Plane | None:
        """Patient-space plane of image ``index``, or None without geometry."""
        return self._planes[index]

    @cached_property
    def _planes(self) -> tuple[Plane | None, ...]:
        """Every image's plane, worked out once (planes are immutable); None for an image
        without usable geometry (its header problems say why), never an exception."""
        out: list[Plane | None] = []
        axes: dict[tuple[Any, Any], Plane | None] = {}  # one checked plane per axes, spacing
        for frame in self.frames:
            if frame.position is None or frame.orientation is None or frame.pixel_spacing is None:
                out.append(None)
                continue
            key = (tuple(frame.orientation), tuple(frame.pixel_spacing))
            if key not in axes:
                try:
                    axes[key] = Plane.from_dicom(
                        frame.position, frame.orientation, frame.pixel_spacing, *self.shape
                    )
                except ValueError:  # the header checks leave nothing Plane refuses; be safe
                    axes[key] = None
                out.append(axes[key])
            else:
                first = axes[key]
                out.append(first.moved_to(frame.position) if first is not None else None)
        return tuple(out)

    def summary(self) -> dict[str, Any]:
        """Plain data for ``spineviewer info``."""
        return {
            "name": self.name,
            "modality": self.modality,
            "plane": self.plane,
            "images": len(self),
            "size": list(self.shape),
            "pixel_spacing_mm": list(self.pixel_spacing) if self.pixel_spacing else None,
            "spacing_unit": self.spacing_unit,
            "slice_spacing_mm": (
                round(self.slice_spacing, 4) if self.slice_spacing is not None else None
            ),
            "slice_thickness_mm": self.first.slice_thickness,
            "transfer_syntaxes": [
                {"uid": uid, "name": UID(uid).name} for uid in self.transfer_syntaxes
            ],
            "photometric": self.first.instance.photometric,
            "confidence": self.confidence,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Series:
    """One DICOM series: one or more stacks (split by orientation, size or echo/time)."""

    uid: str
    number: int | None
    description: str
    modality: str
    stacks: tuple[Stack, ...]
    warnings: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """Plain data for ``spineviewer info``."""
        return {
            "series_instance_uid": _real_uid(self.uid),
            "series_number": self.number,
            "description": self.description,
            "modality": self.modality,
            "warnings": list(self.warnings),
            "stacks": [s.summary() for s in self.stacks],
        }


@dataclass(frozen=True)
class Study:
    """One study: its patient/study attributes and its series, sorted by series number."""

    uid: str
    info: dict[str, str]
    series: tuple[Series, ...]

    def summary(self) -> dict[str, Any]:
        """Plain data for ``spineviewer info``."""
        return {
            "study_instance_uid": _real_uid(self.uid),
            **{k: v for k, v in self.info.items() if v},
            "series": [s.summary() for s in self.series],
        }


@dataclass(frozen=True)
class ScanResult:
    """Everything a scan found, and every file it skipped with the reason."""

    studies: tuple[Study, ...]
    skipped: tuple[SkippedFile, ...] = field(default=())

    def stacks(self) -> list[Stack]:
        """All stacks of all studies, in order."""
        return [st for study in self.studies for se in study.series for st in se.stacks]

    def skipped_of(self, study_uid: str) -> list[SkippedFile]:
        """The skipped files whose header named the study ``study_uid``."""
        return [s for s in self.skipped if s.study_uid == study_uid]

    def to_json(self) -> dict[str, Any]:
        """Plain data with top-level keys ``studies`` and ``skipped``."""
        return {
            "studies": [s.summary() for s in self.studies],
            "skipped": [s.to_json() for s in self.skipped],
        }
