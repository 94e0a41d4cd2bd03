"""Annotations as immutable data: shape, label, provenance, review state, and the image they are on.

What each shape (:class:`Kind`) is, takes and measures is its spec in :mod:`.shapes`.

Every annotation lives on one image frame (SOP Instance UID + frame number) and keeps its
points twice: in image pixels ``(row, col)`` (continuous, the centre of pixel (0, 0) is
``(0.0, 0.0)``; DICOM SCOORD, whose origin is the outer corner of that pixel, is
``(col + 0.5, row + 0.5)``) and in patient millimetres (LPS) when the image has a plane.
Edits produce new objects (``dataclasses.replace``), which keeps undo/redo a matter of
swapping values.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np

from spineviewer.annotations.shapes import FILLED as FILLED  # re-exported: the shapes' specs
from spineviewer.annotations.shapes import POINT_COUNT as POINT_COUNT
from spineviewer.annotations.shapes import Kind, shape
from spineviewer.dicom import Frame
from spineviewer.geometry import Plane

Point = tuple[float, float]
PatientPoint = tuple[float, float, float]


#: How sure a model was of a proposal (:data:`Annotation.review`), least to most demanding.
#: The same words as ``spineviewer.ai.findings.REVIEW_STATUSES`` (a test keeps them equal; the
#: annotation model does not import the AI package).
CONFIDENT = "confident"
UNCERTAIN = "uncertain"
NEEDS_REVIEW = "needs review"
REVIEW_NEEDS: tuple[str, ...] = (CONFIDENT, UNCERTAIN, NEEDS_REVIEW)


class Status(StrEnum):
    """Review state. Human marks start accepted; model proposals start proposed."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EDITED = "edited"  # a proposal a human changed (and so accepted)


def now_iso() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_author() -> str:
    """The OS user name (editable in the settings)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class ImageRef:
    """The image frame an annotation is drawn on."""

    study_uid: str
    series_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    #: 1-based DICOM frame number (1 for single-frame images).
    frame_number: int = 1
    frame_of_reference_uid: str = ""
    #: (row spacing, column spacing) in mm, None when unknown.
    pixel_spacing: tuple[float, float] | None = None
    rows: int = 0
    columns: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["pixel_spacing"] = list(self.pixel_spacing) if self.pixel_spacing else None
        return d

    @classmethod
    def of_frame(cls, frame: Frame) -> ImageRef:
        """The reference of one decoded DICOM frame."""
        inst = frame.instance
        return cls(
            study_uid=inst.study_uid,
            series_uid=inst.series_uid,
            sop_instance_uid=inst.sop_instance_uid,
            sop_class_uid=inst.sop_class_uid,
            frame_number=frame.index + 1,
            frame_of_reference_uid=inst.frame_of_reference_uid,
            pixel_spacing=frame.pixel_spacing,
            rows=inst.rows,
            columns=inst.columns,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageRef:
        spacing = data.get("pixel_spacing")
        return cls(
            study_uid=str(data["study_uid"]),
            series_uid=str(data["series_uid"]),
            sop_instance_uid=str(data["sop_instance_uid"]),
            sop_class_uid=str(data["sop_class_uid"]),
            frame_number=int(data.get("frame_number", 1)),
            frame_of_reference_uid=str(data.get("frame_of_reference_uid", "")),
            pixel_spacing=(float(spacing[0]), float(spacing[1])) if spacing else None,
            rows=int(data.get("rows", 0)),
            columns=int(data.get("columns", 0)),
        )


@dataclass(frozen=True)
class Provenance:
    """Who or what made an annotation, and when."""

    #: "human" or "model".
    source: str = "human"
    author: str = field(default_factory=default_author)
    model_id: str | None = None
    model_version: str | None = None
    score: float | None = None
    created: str = field(default_factory=now_iso)
    modified: str = field(default_factory=now_iso)

    @classmethod
    def model(cls, model_id: str, version: str, score: float | None) -> Provenance:
        """A model proposal's provenance."""
        return cls(
            source="model", author=model_id, model_id=model_id, model_version=version, score=score
        )

    @property
    def is_model(self) -> bool:
        return self.source == "model"

    def touched(self) -> Provenance:
        """The same, modified now."""
        return replace(self, modified=now_iso())

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        score = data.get("score")
        return cls(
            source=str(data.get("source", "human")),
            author=str(data.get("author", "")),
            model_id=data.get("model_id"),
            model_version=data.get("model_version"),
            score=None if score is None else float(score),
            created=str(data.get("created", "")),
            modified=str(data.get("modified", "")),
        )


def check_points(kind: Kind, points: Sequence[Point]) -> None:
    """Raise ValueError when ``points`` do not fit ``kind``."""
    shape(kind).check(points)


def patient_points(plane: Plane | None, points: Iterable[Point]) -> tuple[PatientPoint, ...] | None:
    """Patient positions (mm) of image points on ``plane`` (None without a plane)."""
    if plane is None:
        return None
    pts = np.asarray(list(points), dtype=np.float64).reshape(-1, 2)
    xyz = plane.to_patient(pts[:, 0], pts[:, 1])
    return tuple((float(x), float(y), float(z)) for x, y, z in xyz)


@dataclass(frozen=True)
class Annotation:
    """One mark on one image frame."""

    kind: Kind
    image: ImageRef
    #: (row, col) image pixel coordinates; the centre of the first pixel is (0, 0).
    points: tuple[Point, ...]
    #: The same points in patient LPS mm, None when the image has no plane (radiographs).
    points_mm: tuple[PatientPoint, ...] | None = None
    #: Vocabulary key ("L4", "L4-L5", "pedicle_screw", ...), "" for none.
    label: str = ""
    #: Disc state key ("normal", "bulge", "herniation") for disc labels, else None.
    state: str | None = None
    #: Free text (the arrow's note, a comment).
    text: str = ""
    status: Status = Status.ACCEPTED
    provenance: Provenance = field(default_factory=Provenance)
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: A model's own doubt about its proposal: "" (none given, every human mark),
    #: :data:`CONFIDENT`, :data:`UNCERTAIN` or :data:`NEEDS_REVIEW`; and why, in a reader's
    #: words ("no sacrum in view").
    review: str = ""
    review_reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_points(self.kind, self.points)
        if self.review and self.review not in REVIEW_NEEDS:
            raise ValueError(
                f"review {self.review!r} is not one of {', '.join(map(repr, REVIEW_NEEDS))}"
            )

    @classmethod
    def create(
        cls,
        kind: Kind | str,
        image: ImageRef,
        points: Sequence[Point],
        plane: Plane | None,
        **kwargs: Any,
    ) -> Annotation:
        """A new annotation; patient points computed from ``plane``."""
        pts = tuple((float(r), float(c)) for r, c in points)
        return cls(Kind(kind), image, pts, patient_points(plane, pts), **kwargs)

    def with_points(self, points: Sequence[Point], plane: Plane | None) -> Annotation:
        """Moved / reshaped; a proposal becomes ``edited``; modified time updated."""
        pts = tuple((float(r), float(c)) for r, c in points)
        return self._edited(points=pts, points_mm=patient_points(plane, pts))

    def moved(self, drow: float, dcol: float, plane: Plane | None) -> Annotation:
        """Shifted by (drow, dcol) pixels."""
        return self.with_points([(r + drow, c + dcol) for r, c in self.points], plane)

    def relabelled(self, label: str, state: str | None = None) -> Annotation:
        """With another label (and disc state)."""
        return self._edited(label=label, state=state)

    def with_text(self, text: str) -> Annotation:
        """With another note (the text of an arrow, a comment)."""
        return self._edited(text=text)

    def renamed(self, label: str) -> Annotation:
        """The same mark under another level name (shifting a study's labels by one level):
        unlike :meth:`relabelled` a proposal stays a proposal, its other findings (a disc
        state) not yet reviewed."""
        return replace(self, label=label, provenance=self.provenance.touched())

    def with_status(self, status: Status) -> Annotation:
        """Accepted / rejected / ... (the modified time is updated)."""
        return replace(self, status=Status(status), provenance=self.provenance.touched())

    def _edited(self, **changes: Any) -> Annotation:
        status = Status.EDITED if self.status == Status.PROPOSED else self.status
        return replace(self, status=status, provenance=self.provenance.touched(), **changes)

    @property
    def filled(self) -> bool:
        """True for shapes that enclose an area."""
        return shape(self.kind).filled

    @property
    def pending_review(self) -> str:
        """:data:`UNCERTAIN` or :data:`NEEDS_REVIEW` while a doubtful proposal waits for a
        reader, else "" (a confident one, or one a person accepted, edited or rejected: the
        reader has decided)."""
        if self.status == Status.PROPOSED and self.review in (UNCERTAIN, NEEDS_REVIEW):
            return self.review
        return ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uid": self.uid,
            "kind": self.kind.value,
            "image": self.image.to_dict(),
            "points": [list(p) for p in self.points],
            "points_mm": None if self.points_mm is None else [list(p) for p in self.points_mm],
            "label": self.label,
            "state": self.state,
            "text": self.text,
            "status": self.status.value,
            "provenance": self.provenance.to_dict(),
        }
        if self.review or self.review_reasons:  # a model's doubt only: human marks are unchanged
            out["review"] = self.review
            out["review_reasons"] = list(self.review_reasons)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Annotation:
        """Inverse of :meth:`to_dict`; raises KeyError / ValueError on malformed data."""
        mm = data.get("points_mm")
        return cls(
            kind=Kind(data["kind"]),
            image=ImageRef.from_dict(data["image"]),
            points=tuple((float(r), float(c)) for r, c in data["points"]),
            points_mm=None
            if mm is None
            else tuple((float(x), float(y), float(z)) for x, y, z in mm),
            label=str(data.get("label", "")),
            state=data.get("state"),
            text=str(data.get("text", "")),
            status=Status(data.get("status", Status.ACCEPTED)),
            provenance=Provenance.from_dict(data.get("provenance", {})),
            uid=str(data["uid"]),
            review=str(data.get("review", "")),
            review_reasons=tuple(str(r) for r in data.get("review_reasons", ())),
        )
