"""A TID 1500 Measurement Report read back into annotations (see :mod:`.sr` for the document):
each planar ROI group on an image becomes one annotation, its shape from SpineViewer's shape
code (else guessed from the region, :func:`.shapes.guess_kind`) and its points from the region
by the shape's spec (:meth:`.shapes.ShapeSpec.points_from_scoord`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import highdicom as hd
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code as PydicomCode

from spineviewer.annotations.annotation import (
    Annotation,
    ImageRef,
    Kind,
    Provenance,
    Status,
    patient_points,
)
from spineviewer.annotations.dicom_objects import first_int
from spineviewer.annotations.frames import FrameKey
from spineviewer.annotations.shapes import FloatArray, from_scoord, guess_kind, shape
from spineviewer.annotations.sr_terms import (
    AI_REVIEW,
    AI_REVIEW_CODES,
    DISC_STATE,
    PERSON,
    REVIEW,
    SCORE,
    SHAPE,
    SHAPE_CODES,
    STATUS_CODES,
    find_label,
    label_code,
    tracking_uid,
)
from spineviewer.annotations.vocabulary import Vocabulary, default_vocabulary
from spineviewer.geometry import Plane

__all__ = ["import_sr", "points_from_scoord", "scoord_points"]


def scoord_points(data: FloatArray) -> FloatArray:
    """SCOORD (column, row) data with the pixel corner as origin -> (row, col) points."""
    return from_scoord(data)


def points_from_scoord(kind: Kind, graphic_type: str, rc: FloatArray) -> list[tuple[float, float]]:
    """The points of an annotation of ``kind`` from its region (inverse of
    :func:`.sr_write.scoord`)."""
    return shape(kind).points_from_scoord(graphic_type, rc)


def _uid_and_hint(text: str | None, track_uid: str | None) -> tuple[str, str]:
    """Annotation uid and label hint from the tracking identifiers (foreign SRs included)."""
    hint, _, uid = (text or "").rpartition(" ")
    if uid and track_uid == tracking_uid(uid):
        return uid, hint
    if track_uid and track_uid.startswith("2.25."):
        value = int(track_uid[5:])
        if value < 2**128:
            return uuid.UUID(int=value).hex, hint
    return str(track_uid or text or uuid.uuid4().hex), hint


def _items(group: Dataset) -> list[Dataset]:
    return list(getattr(group, "ContentSequence", []))


def _concept(item: Dataset) -> tuple[str, str]:
    code = item.ConceptNameCodeSequence[0]
    return str(code.CodingSchemeDesignator), str(code.CodeValue)


def _key(code: PydicomCode | CodedConcept) -> tuple[str, str]:
    return code.scheme_designator, code.value


def _code_value(item: Dataset) -> CodedConcept:
    return CodedConcept.from_dataset(item.ConceptCodeSequence[0])


def _observers(items: Sequence[Dataset]) -> list[dict[str, str]]:
    """Observer contexts (TID 1002) among ``items``: type and identifying attributes."""
    found: list[dict[str, str]] = []
    names = {
        _key(codes.DCM.PersonObserverName): "name",
        _key(codes.DCM.DeviceObserverName): "name",
        _key(codes.DCM.DeviceObserverUID): "uid",
    }
    for item in items:
        concept = _concept(item)
        if concept == _key(codes.DCM.ObserverType):
            found.append({"type": _code_value(item).value})
        elif found and concept in names:
            value = item.get("PersonName", item.get("TextValue", item.get("UID", "")))
            found[-1][names[concept]] = str(value)
    return found


def _algorithm(items: Sequence[Dataset]) -> tuple[str, str] | None:
    values = {_concept(i): str(i.get("TextValue", "")) for i in items if i.ValueType == "TEXT"}
    name = values.get(_key(codes.DCM.AlgorithmName))
    return None if name is None else (name, values.get(_key(codes.DCM.AlgorithmVersion), ""))


def _provenance(items: Sequence[Dataset], document: list[dict[str, str]], when: str) -> Provenance:
    """Who made a group: its algorithm / own observer, else the document's first observer."""
    score = next(
        (
            float(i.MeasuredValueSequence[0].NumericValue)
            for i in items
            if i.ValueType == "NUM" and _concept(i) == _key(SCORE) and "MeasuredValueSequence" in i
        ),
        None,
    )
    algorithm = _algorithm(items)
    if algorithm is not None:
        return Provenance(
            source="model",
            author=algorithm[0],
            model_id=algorithm[0],
            model_version=algorithm[1],
            score=score,
            created=when,
            modified=when,
        )
    own = _observers(items) or document
    person = next((o for o in own if o["type"] == PERSON.value), None)
    author = person.get("name", "unknown").rstrip("^") if person else "unknown"
    return Provenance(source="human", author=author, created=when, modified=when)


def _evaluations(items: Sequence[Dataset]) -> dict[tuple[str, str], CodedConcept]:
    return {_concept(i): _code_value(i) for i in items if i.ValueType == "CODE"}


def _content_datetime(ds: Dataset) -> str:
    try:
        stamp = datetime.strptime(f"{ds.ContentDate}{str(ds.ContentTime)[:6]}", "%Y%m%d%H%M%S")
    except (AttributeError, ValueError):
        return ""
    return stamp.isoformat()


def _image_ref(region: Any, evidence: Mapping[str, Dataset]) -> ImageRef:
    """ImageRef of a region's source image, completed from the SR's evidence references."""
    ref = region.ContentSequence[0].ReferencedSOPSequence[0]
    sop_uid = str(ref.ReferencedSOPInstanceUID)
    frame = first_int(ref.get("ReferencedFrameNumber"))
    info = evidence.get(sop_uid, Dataset())
    return ImageRef(
        study_uid=str(info.get("StudyInstanceUID", "")),
        series_uid=str(info.get("SeriesInstanceUID", "")),
        sop_instance_uid=sop_uid,
        sop_class_uid=str(ref.ReferencedSOPClassUID),
        frame_number=frame,
    )


def _evidence(ds: Dataset) -> dict[str, Dataset]:
    """Study / series UIDs of every referenced instance, by SOP Instance UID."""
    out: dict[str, Dataset] = {}
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(keyword, []):
            for series in study.get("ReferencedSeriesSequence", []):
                for sop in series.get("ReferencedSOPSequence", []):
                    info = Dataset()
                    info.StudyInstanceUID = study.StudyInstanceUID
                    info.SeriesInstanceUID = series.SeriesInstanceUID
                    out[str(sop.ReferencedSOPInstanceUID)] = info
    return out


def _annotation(
    group: hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations,
    region: hd.sr.ImageRegion,
    context: _ImportContext,
) -> Annotation:
    """One annotation from one planar ROI group."""
    items = _items(group[0])
    evaluations = _evaluations(items)
    graphic_type = str(region.graphic_type.value)
    rc = scoord_points(region.value)
    shape_code = evaluations.get(_key(SHAPE))
    kind = next((k for k, c in SHAPE_CODES.items() if c == shape_code), None)
    kind = kind or guess_kind(graphic_type, rc)
    points = points_from_scoord(kind, graphic_type, rc)
    uid, hint = _uid_and_hint(group.tracking_identifier, group.tracking_uid)
    image = _image_ref(region, context.evidence)
    key = (image.sop_instance_uid, image.frame_number)
    image = context.images.get(key, image)
    provenance = _provenance(items, context.observers, context.when)
    state = evaluations.get(_key(DISC_STATE))
    status = evaluations.get(_key(REVIEW))
    need = evaluations.get(_key(AI_REVIEW))
    default_status = Status.PROPOSED if provenance.is_model else Status.ACCEPTED
    vocabulary = context.vocabulary
    return Annotation(
        kind=kind,
        image=image,
        points=tuple(points),
        points_mm=patient_points(context.planes.get(key), points),
        label=find_label(vocabulary, group.finding_type, hint),
        state=next((s.key for s in vocabulary.disc_states if label_code(s) == state), None),
        text=next((str(i.TextValue) for i in items if _concept(i) == _key(codes.DCM.Comment)), ""),
        status=next((s for s, c in STATUS_CODES.items() if c == status), default_status),
        provenance=provenance,
        uid=uid,
        review=next((k for k, c in AI_REVIEW_CODES.items() if c == need), ""),
    )


@dataclass(frozen=True)
class _ImportContext:
    """What every group of one SR is read with."""

    vocabulary: Vocabulary
    evidence: Mapping[str, Dataset]
    observers: list[dict[str, str]]
    when: str
    planes: Mapping[FrameKey, Plane]
    images: Mapping[FrameKey, ImageRef]


def import_sr(
    path: str | Path,
    vocabulary: Vocabulary | None = None,
    *,
    planes: Mapping[FrameKey, Plane] | None = None,
    images: Mapping[FrameKey, ImageRef] | None = None,
) -> list[Annotation]:
    """Read the planar ROI groups of a TID 1500 SR back into annotations.

    Shapes without SpineViewer's shape code are guessed from the graphic type and point count.
    ``points_mm`` is computed from ``planes[(sop_instance_uid, frame_number)]`` when given
    (see :func:`frame_planes`), else None. The SR holds no pixel spacing, size or frame of
    reference: pass ``images`` (see :func:`image_refs`) to get complete image refs.
    Raises ValueError when the file is not a TID 1500 report.
    """
    sr = hd.sr.srread(path)
    report = sr.content
    if not isinstance(report, hd.sr.MeasurementReport):
        raise ValueError(f"{path}: not a TID 1500 measurement report")
    context = _ImportContext(
        vocabulary=vocabulary or default_vocabulary(),
        evidence=_evidence(sr),
        observers=_observers(_items(report[0])),
        when=_content_datetime(sr),
        planes=planes or {},
        images=images or {},
    )
    out: list[Annotation] = []
    for group in report.get_planar_roi_measurement_groups():
        region = group.roi
        # Segmentation references and 3D regions are not image annotations.
        if isinstance(region, hd.sr.ImageRegion):
            out.append(_annotation(group, region, context))
    return out
