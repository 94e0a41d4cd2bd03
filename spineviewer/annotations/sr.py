"""Annotations as a DICOM SR Measurement Report (TID 1500), written and read back.

Document
--------
One Comprehensive 3D SR per study, written with highdicom, in a new series; the source images
are only read (their headers), never written. The content tree is TID 1500 "Imaging
Measurement Report" with one TID 1410 "Planar ROI Measurements and Qualitative Evaluations"
group per annotation:

- Tracking Identifier (TEXT): ``"<label> <annotation uid>"`` (or just the uid); Tracking
  Unique Identifier (UIDREF): ``2.25.<the uid as a 128-bit integer>`` for the usual uuid hex
  uids, a UID derived from the uid otherwise.
- Image Region (SCOORD, in the source frame's pixel space, the outer corner of the first pixel
  at (0, 0), so ``x = col + 0.5``, ``y = row + 0.5``): a closed POLYLINE (the first point
  repeated; 2D SCOORD has no POLYGON type) for rectangles, polygons and freehand shapes;
  ELLIPSE (the four end points of the two axes, the longer first) for ellipses; POINT;
  POLYLINE for lines, arrows, angles (arm, vertex, arm) and Cobb angles (line 1, line 2).
- Finding category (anatomical structure / physical object / morphologically abnormal
  structure), Finding (the label's code), Finding Site (the label's code for vertebrae and
  discs).
- Measurements (TID 300, UCUM units): Length (mm), Angle (deg), Cobb angle (deg), Area (mm2)
  when the image has a pixel spacing (or its series a known-length calibration); a model's
  Score (unit 1). A length or area whose millimetres are a radiograph's detector spacing, or
  calibrated (:mod:`spineviewer.dicom.spacing`, :mod:`.calibration`), says so in its
  Measurement Method (SCT 370129005): ``99SPV`` ``SPV-SPACING-DETECTOR`` "mm (detector): ..."
  or ``SPV-SPACING-CALIBRATED`` "mm (calibrated): ...". The unit stays UCUM ``mm`` / ``mm2``.
- Qualitative evaluations: the disc state as SCT "Associated morphology"; SpineViewer's
  annotation shape and review status, and a model's review need of its proposal (confident /
  uncertain / needs review; its reasons are not kept), as ``99SPV`` codes (declared in the
  Coding Scheme Identification Sequence).
- Observer: the document's observation context lists every author (person observer) and
  every model (device observer, UID derived from model id and version); each group repeats its
  own observer (TID 1002 as HAS OBS CONTEXT), and model proposals also carry TID 4019
  Algorithm Identification (name = model id, version = model version).
- The annotation's free text as a TEXT "Comment".

Patient points are not stored: SCOORD keeps the exact image coordinates, which also work on
radiographs without a patient frame. :func:`import_sr` recomputes ``points_mm`` from the
planes the caller passes (``planes[(sop_instance_uid, frame_number)]``) and leaves it None
otherwise.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code as PydicomCode

from spineviewer import __version__
from spineviewer.annotations.annotation import (
    REVIEW_NEEDS,
    Annotation,
    ImageRef,
    Kind,
    Provenance,
    Status,
    patient_points,
)
from spineviewer.annotations.calibration import Calibrations, scale_of
from spineviewer.annotations.frames import (
    FrameKey,
)
from spineviewer.annotations.measure import (
    PATIENT_SCALE,
    FloatArray,
    Scale,
    angle_deg,
    area_mm2,
    cobb_deg,
    length_mm,
)
from spineviewer.annotations.vocabulary import Code, Label, Vocabulary, default_vocabulary
from spineviewer.dicom.spacing import SpacingKind, spacing_of_dataset
from spineviewer.geometry import Plane

#: SpineViewer's private coding scheme (declared in every file that uses it).
SPV_SCHEME = "99SPV"
MANUFACTURER = "SpineViewer"
#: What SR, SEG, KOS and GSPS written here give as SoftwareVersions (the report's signature too).
SOFTWARE_VERSION = __version__

#: Finding category of each vocabulary category (CID 7150 where it fits).
CATEGORY_CODES: dict[str, PydicomCode] = {
    "vertebra": codes.cid7150.AnatomicalStructure,
    "disc": codes.cid7150.AnatomicalStructure,
    "implant": codes.cid7150.PhysicalObject,
    "fracture": codes.cid7150.MorphologicallyAbnormalStructure,
    "text": codes.cid7150.SpatialAndRelationalConcept,
}
#: Categories whose label code also names the finding site.
ANATOMY = frozenset({"vertebra", "disc"})


def spv_code(value: str, meaning: str) -> CodedConcept:
    """A concept of SpineViewer's private scheme ``99SPV``."""
    return CodedConcept(value, SPV_SCHEME, meaning)


SHAPE = spv_code("SPV-SHAPE", "Annotation shape")
SHAPE_CODES: dict[Kind, CodedConcept] = {
    kind: spv_code(f"SPV-SHAPE-{kind.value.upper()}", f"{kind.value.capitalize()} annotation")
    for kind in Kind
}
REVIEW = spv_code("SPV-REVIEW", "Review status")
STATUS_CODES: dict[Status, CodedConcept] = {
    status: spv_code(f"SPV-REVIEW-{status.value.upper()}", status.value.capitalize())
    for status in Status
}
AI_REVIEW = spv_code("SPV-AI-REVIEW", "AI review need")
AI_REVIEW_CODES: dict[str, CodedConcept] = {
    need: spv_code(f"SPV-AI-REVIEW-{code}", need.capitalize())
    for need, code in zip(REVIEW_NEEDS, ("CONFIDENT", "UNCERTAIN", "NEEDED"), strict=True)
}
DISC_STATE = CodedConcept("116676008", "SCT", "Associated morphology")
UNLABELLED = spv_code("SPV-UNLABELLED", "Unlabelled region")
SCORE = CodedConcept("246262008", "SCT", "Score")
#: The Measurement Method of a length or area that is not in the patient's plain mm.
SPACING_METHODS: dict[SpacingKind, CodedConcept] = {
    SpacingKind.DETECTOR: spv_code(
        "SPV-SPACING-DETECTOR", "mm (detector): spacing not corrected for magnification"
    ),
    SpacingKind.CALIBRATED: spv_code(
        "SPV-SPACING-CALIBRATED", "mm (calibrated): spacing calibrated in the object plane"
    ),
}
_PERSON = codes.cid270.Person
_DEVICE = codes.cid270.Device


# -- codes shared with seg.py -------------------------------------------------------------------


def coded(code: Code) -> CodedConcept:
    """A vocabulary code as a highdicom concept."""
    return CodedConcept(code.value, code.scheme, code.meaning[:64])


def label_code(label: Label | None) -> CodedConcept:
    """The code of a label; a ``99SPV`` code made from the key when it has none."""
    if label is None:
        return UNLABELLED
    if label.code is not None:
        return coded(label.code)
    return spv_code(f"SPV-LABEL-{label.key.upper()}", label.meaning)


def category_code(label: Label | None) -> PydicomCode:
    """Finding / segmented property category of a label."""
    return CATEGORY_CODES.get(label.category if label else "", codes.cid7150.PhysicalObject)


def find_label(vocabulary: Vocabulary, code: CodedConcept | None, hint: str = "") -> str:
    """Vocabulary key of a code ("" when unknown); ``hint`` picks between keys sharing it."""
    if code is None or code == UNLABELLED:
        return ""
    keys = [
        lb.key
        for lb in vocabulary.labels
        if label_code(lb).value == code.value
        and label_code(lb).scheme_designator == code.scheme_designator
    ]
    if hint in keys:
        return hint
    return keys[0] if keys else ""


def coding_scheme_item(vocabulary: Vocabulary) -> Dataset:
    """Coding Scheme Identification item declaring ``99SPV``."""
    item = Dataset()
    item.CodingSchemeDesignator = SPV_SCHEME
    item.CodingSchemeName = vocabulary.schemes.get(SPV_SCHEME, "SpineViewer local codes")[:64]
    item.CodingSchemeResponsibleOrganization = "SpineViewer developers"
    return item


def uid_from_text(*parts: str) -> str:
    """A stable ``2.25`` UID derived from text (same input, same UID)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()[:16]
    return f"2.25.{int.from_bytes(digest, 'big')}"


def model_device_uid(model_id: str, version: str) -> str:
    """Device Observer UID of a model (stable for one model id and version)."""
    return uid_from_text("spineviewer-model", model_id, version)


def check_destination(path: str | Path, headers: Iterable[Dataset]) -> Path:
    """``path`` resolved; ValueError when it is a source file or in a source file's folder."""
    target = Path(path).resolve()
    for ds in headers:
        name = getattr(ds, "filename", None)
        if isinstance(name, str) and name:
            source = Path(name).resolve()
            if target in (source, source.parent) or target.parent == source.parent:
                raise ValueError(
                    f"refusing to write {target}: exports never go into or beside the source "
                    f"images ({source.parent})"
                )
    return target


def first_int(value: Any, default: int = 1) -> int:
    """The first number of a DICOM value that may be a single number, a list or empty."""
    if value is None or value == "":
        return default
    if isinstance(value, Sequence) and not isinstance(value, str):
        return int(value[0]) if len(value) else default
    return int(value)


def headers_for(
    annotations: Sequence[Annotation], source_datasets: Mapping[str, Dataset]
) -> dict[str, Dataset]:
    """The source headers the annotations refer to; KeyError names a missing one."""
    out: dict[str, Dataset] = {}
    for a in annotations:
        uid = a.image.sop_instance_uid
        if uid not in source_datasets:
            raise KeyError(f"no source header for SOP Instance UID {uid} (annotation {a.uid})")
        out[uid] = source_datasets[uid]
    return out


def is_multiframe(ds: Dataset) -> bool:
    """True when the image holds several frames (frame numbers must be referenced)."""
    return int(getattr(ds, "NumberOfFrames", 1) or 1) > 1


# -- tracking ---------------------------------------------------------------------------------

_HEX_UID = re.compile(r"^[0-9a-f]{32}$")


def tracking_uid(uid: str) -> str:
    """Tracking Unique Identifier of an annotation uid."""
    if _HEX_UID.match(uid):
        return f"2.25.{int(uid, 16)}"
    return uid_from_text("spineviewer-annotation", uid)


def _tracking_text(annotation: Annotation) -> str:
    return f"{annotation.label} {annotation.uid}" if annotation.label else annotation.uid


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


# -- geometry ---------------------------------------------------------------------------------


def _xy(points: np.ndarray) -> FloatArray:
    """(row, col) pixel points -> SCOORD (column, row) with the pixel corner as origin."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts[:, ::-1] + 0.5


def _ellipse_axes(annotation: Annotation) -> FloatArray:
    """Four axis end points (row, col) of an ellipse, the longer axis first.

    Each axis keeps the order of the corners it came from, so the corners can be rebuilt.
    """
    (r0, c0), (r1, c1) = annotation.points
    rc, cc = (r0 + r1) / 2.0, (c0 + c1) / 2.0
    vertical = [(r0, cc), (r1, cc)]
    horizontal = [(rc, c0), (rc, c1)]
    longer_first = vertical + horizontal if abs(r1 - r0) >= abs(c1 - c0) else horizontal + vertical
    return np.asarray(longer_first, dtype=np.float64)


def scoord(annotation: Annotation) -> tuple[hd.sr.GraphicTypeValues, FloatArray]:
    """Graphic type and (column, row) data of an annotation's image region."""
    gt = hd.sr.GraphicTypeValues
    kind = annotation.kind
    pts = np.asarray(annotation.points, dtype=np.float64)
    if kind == Kind.RECTANGLE:
        (r0, c0), (r1, c1) = pts
        corners = np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0], [r0, c0]])
        return gt.POLYLINE, _xy(corners)
    if kind in (Kind.POLYGON, Kind.FREEHAND):
        return gt.POLYLINE, _xy(np.vstack([pts, pts[:1]]))
    if kind == Kind.ELLIPSE:
        return gt.ELLIPSE, _xy(_ellipse_axes(annotation))
    if kind == Kind.POINT:
        return gt.POINT, _xy(pts)
    return gt.POLYLINE, _xy(pts)


def _closed(rc: np.ndarray) -> bool:
    return len(rc) >= 4 and bool(np.allclose(rc[0], rc[-1]))


def _guess_kind(graphic_type: str, rc: np.ndarray) -> Kind:
    """Shape of a region written without SpineViewer's shape code."""
    if graphic_type in ("ELLIPSE", "CIRCLE"):
        return Kind.ELLIPSE
    if graphic_type == "POINT":
        return Kind.POINT
    if _closed(rc):
        return Kind.POLYGON
    return {2: Kind.LINE, 3: Kind.ANGLE, 4: Kind.COBB}.get(len(rc), Kind.FREEHAND)


def scoord_points(data: np.ndarray) -> FloatArray:
    """SCOORD (column, row) data with the pixel corner as origin -> (row, col) points."""
    return np.asarray(data, dtype=np.float64).reshape(-1, 2)[:, ::-1] - 0.5


def points_from_scoord(kind: Kind, graphic_type: str, rc: FloatArray) -> list[tuple[float, float]]:
    """The points of an annotation of ``kind`` from its region (inverse of :func:`scoord`)."""
    if graphic_type == "CIRCLE":  # centre, a point on the circle
        radius = float(np.hypot(*(rc[1] - rc[0])))
        rc = np.array([rc[0] - radius, rc[0] + radius])
    elif graphic_type == "ELLIPSE":
        a, b = rc[:2], rc[2:4]
        # The axis along the rows keeps its column: rows come from it, columns from the other.
        vertical, horizontal = (
            (a, b) if abs(a[0, 1] - a[1, 1]) <= abs(b[0, 1] - b[1, 1]) else (b, a)
        )
        rc = np.array([[vertical[0, 0], horizontal[0, 1]], [vertical[1, 0], horizontal[1, 1]]])
    elif kind == Kind.RECTANGLE:
        rc = np.array([rc[0], rc[2]])
    elif kind in (Kind.POLYGON, Kind.FREEHAND) and _closed(rc):
        rc = rc[:-1]
    return [(float(r), float(c)) for r, c in rc]


# -- export -----------------------------------------------------------------------------------


def _measurements(annotation: Annotation, scale: Scale = PATIENT_SCALE) -> list[hd.sr.Measurement]:
    """Length / angle / area (mm, deg, mm2; lengths and areas by ``scale``, with their
    Measurement Method when not in plain mm) and a model's score."""
    ucum = codes.UCUM
    out: list[tuple[PydicomCode | CodedConcept, float, PydicomCode, CodedConcept | None]] = []
    kind = annotation.kind
    method = SPACING_METHODS.get(scale.kind)
    has_scale = (
        annotation.image.pixel_spacing is not None
        or annotation.points_mm is not None
        or scale.factor is not None
    )
    if kind == Kind.LINE and has_scale:
        out.append((codes.SCT.Length, length_mm(annotation, scale).value, ucum.Millimeter, method))
    elif kind == Kind.ANGLE:
        out.append((codes.SCT.Angle, angle_deg(annotation), ucum.Degree, None))
    elif kind == Kind.COBB:
        out.append((codes.SCT.CobbAngle, cobb_deg(annotation), ucum.Degree, None))
    elif annotation.filled:
        area = area_mm2(annotation, scale)
        if area is not None:
            out.append((codes.SCT.Area, area, ucum.SquareMillimeter, method))
    score = annotation.provenance.score
    if annotation.provenance.is_model and score is not None:
        out.append((SCORE, float(score), ucum.NoUnits, None))
    return [
        hd.sr.Measurement(name=name, value=round(value, 6), unit=unit, method=how)
        for name, value, unit, how in out
    ]


def measurement_scale(
    annotation: Annotation, header: Dataset, calibrations: Calibrations | None = None
) -> Scale:
    """The scale of ``annotation``'s lengths: its series' calibration, else the spacing kind
    of its image's header."""
    kind = spacing_of_dataset(header).kind
    return scale_of(annotation.image.series_uid, kind, calibrations)


def _qualitative(
    annotation: Annotation, vocabulary: Vocabulary
) -> list[hd.sr.QualitativeEvaluation]:
    out = [
        hd.sr.QualitativeEvaluation(SHAPE, SHAPE_CODES[annotation.kind]),
        hd.sr.QualitativeEvaluation(REVIEW, STATUS_CODES[annotation.status]),
    ]
    state = vocabulary.state(annotation.state)
    if state is not None:
        out.append(hd.sr.QualitativeEvaluation(DISC_STATE, label_code(state)))
    if annotation.review:
        out.append(hd.sr.QualitativeEvaluation(AI_REVIEW, AI_REVIEW_CODES[annotation.review]))
    return out


def person_name(author: str) -> str:
    """A DICOM person name for an author: a single name becomes a family name (``"jdoe^"``)."""
    name = author.strip() or "unknown"
    return name if "^" in name else f"{name}^"


def _observer(provenance: Provenance) -> hd.sr.ObserverContext:
    """TID 1002 for the author (person) or the model (device)."""
    if provenance.is_model:
        model_id = provenance.model_id or provenance.author or "model"
        version = provenance.model_version or ""
        device = hd.sr.DeviceObserverIdentifyingAttributes(
            uid=model_device_uid(model_id, version),
            name=model_id,
            model_name=f"{model_id} {version}".strip(),
        )
        return hd.sr.ObserverContext(observer_type=_DEVICE, observer_identifying_attributes=device)
    person = hd.sr.PersonObserverIdentifyingAttributes(name=person_name(provenance.author))
    return hd.sr.ObserverContext(observer_type=_PERSON, observer_identifying_attributes=person)


def _observer_key(provenance: Provenance) -> tuple[str, ...]:
    if provenance.is_model:
        return ("model", provenance.model_id or "", provenance.model_version or "")
    return ("human", provenance.author)


def _group(
    annotation: Annotation,
    header: Dataset,
    vocabulary: Vocabulary,
    calibrations: Calibrations | None = None,
) -> hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations:
    """TID 1410 group of one annotation."""
    label = vocabulary.get(annotation.label)
    graphic_type, data = scoord(annotation)
    frames = [annotation.image.frame_number] if is_multiframe(header) else None
    region = hd.sr.ImageRegion(
        graphic_type=graphic_type,
        graphic_data=data,
        source_image=hd.sr.SourceImageForRegion(
            referenced_sop_class_uid=header.SOPClassUID,
            referenced_sop_instance_uid=header.SOPInstanceUID,
            referenced_frame_numbers=frames,
        ),
    )
    prov = annotation.provenance
    algorithm = (
        hd.sr.AlgorithmIdentification(
            name=prov.model_id or prov.author, version=prov.model_version or "unknown"
        )
        if prov.is_model
        else None
    )
    group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=tracking_uid(annotation.uid), identifier=_tracking_text(annotation)
        ),
        referenced_region=region,
        finding_type=label_code(label) if label is not None else None,
        finding_category=category_code(label) if label is not None else None,
        finding_sites=(
            [hd.sr.FindingSite(label_code(label))]
            if label is not None and label.category in ANATOMY
            else None
        ),
        algorithm_id=algorithm,
        measurements=_measurements(annotation, measurement_scale(annotation, header, calibrations))
        or None,
        qualitative_evaluations=_qualitative(annotation, vocabulary),
    )
    content = group[0].ContentSequence
    for item in reversed(_observer(prov)):
        content.insert(2, item)  # after the two tracking identifiers
    if annotation.text:
        content.append(
            hd.sr.TextContentItem(
                name=codes.DCM.Comment,
                value=annotation.text,
                relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
            )
        )
    return group


def _observation_context(annotations: Sequence[Annotation]) -> hd.sr.ObservationContext:
    """Every distinct author and model of the annotations (TID 1001)."""
    context = hd.sr.ObservationContext()
    seen: dict[tuple[str, ...], Provenance] = {}
    for a in annotations:
        seen.setdefault(_observer_key(a.provenance), a.provenance)
    # TID 1001 lists person observers before device observers.
    for prov in sorted(seen.values(), key=lambda p: p.is_model):
        context.extend(_observer(prov))
    return context


def _procedure(modality: str) -> PydicomCode:
    cid = codes.cid100
    return {
        "MR": cid.MRIUnspecifiedBodyRegion,
        "CT": cid.CTUnspecifiedBodyRegion,
        "CR": cid.XRUnspecifiedBodyRegion,
        "DX": cid.XRUnspecifiedBodyRegion,
    }.get(modality, cid.ImagingProcedure)


def export_sr(
    annotations: Sequence[Annotation],
    source_datasets: Mapping[str, Dataset],
    path: str | Path,
    *,
    vocabulary: Vocabulary | None = None,
    series_number: int = 9001,
    series_description: str = "SpineViewer annotations",
    institution_name: str | None = None,
    manufacturer: str = MANUFACTURER,
    sop_instance_uid: str | None = None,
    calibrations: Calibrations | None = None,
) -> Path:
    """Write the annotations of one study as a TID 1500 Comprehensive 3D SR at ``path``.

    ``source_datasets`` maps SOP Instance UID to the source image header (see
    :func:`source_headers`); ``calibrations`` are the document's known-length calibrations
    by series (lengths on those series are written calibrated). Raises ValueError for no
    annotations or several studies, KeyError when a source header is missing, ValueError when
    ``path`` is in a source folder.
    """
    if not annotations:
        raise ValueError("no annotations to export")
    vocabulary = vocabulary or default_vocabulary()
    headers = headers_for(annotations, source_datasets)
    out = check_destination(path, headers.values())
    studies = {str(ds.StudyInstanceUID) for ds in headers.values()}
    if len(studies) != 1:
        raise ValueError(f"annotations span {len(studies)} studies; write one SR per study")
    groups = [
        _group(a, headers[a.image.sop_instance_uid], vocabulary, calibrations) for a in annotations
    ]
    evidence = list(headers.values())
    report = hd.sr.MeasurementReport(
        observation_context=_observation_context(annotations),
        procedure_reported=_procedure(str(getattr(evidence[0], "Modality", ""))),
        imaging_measurements=groups,
        title=codes.cid7021.ImagingMeasurementReport,
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=report,
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=sop_instance_uid or hd.UID(),
        instance_number=1,
        manufacturer=manufacturer,
        institution_name=institution_name,
        is_complete=True,
        series_description=series_description,
    )
    sr.CodingSchemeIdentificationSequence = [coding_scheme_item(vocabulary)]
    sr.SoftwareVersions = SOFTWARE_VERSION
    out.parent.mkdir(parents=True, exist_ok=True)
    sr.save_as(out, enforce_file_format=True)
    return out


# -- import -----------------------------------------------------------------------------------


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
    person = next((o for o in own if o["type"] == _PERSON.value), None)
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
    shape = evaluations.get(_key(SHAPE))
    kind = next((k for k, c in SHAPE_CODES.items() if c == shape), None)
    kind = kind or _guess_kind(graphic_type, rc)
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
