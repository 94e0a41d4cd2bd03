"""The annotations of one study written as a TID 1500 Measurement Report (see :mod:`.sr` for
the document): one TID 1410 planar ROI group per annotation, its region from the shape's spec
(:meth:`.shapes.ShapeSpec.scoord`), its measurement by the spec's
:attr:`~.shapes.ShapeSpec.measure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import highdicom as hd
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code as PydicomCode

from spineviewer.annotations.annotation import Annotation, Provenance
from spineviewer.annotations.calibration import Calibrations, scale_of
from spineviewer.annotations.dicom_objects import check_destination, headers_for, is_multiframe
from spineviewer.annotations.measure import (
    ANGLES,
    PATIENT_SCALE,
    FloatArray,
    Scale,
    area_mm2,
    length_mm,
)
from spineviewer.annotations.shapes import shape
from spineviewer.annotations.sr_terms import (
    AI_REVIEW,
    AI_REVIEW_CODES,
    ANATOMY,
    DEVICE,
    DISC_STATE,
    MANUFACTURER,
    PERSON,
    REVIEW,
    SCORE,
    SHAPE,
    SHAPE_CODES,
    SOFTWARE_VERSION,
    SPACING_METHODS,
    STATUS_CODES,
    category_code,
    coding_scheme_item,
    label_code,
    model_device_uid,
    person_name,
    tracking_uid,
)
from spineviewer.annotations.vocabulary import Vocabulary, default_vocabulary
from spineviewer.dicom.spacing import spacing_of_dataset

__all__ = ["export_sr", "measurement_scale", "scoord"]

#: The SR concept of each angle measurement (:attr:`.shapes.ShapeSpec.measure`).
ANGLE_CODES: dict[str, PydicomCode] = {"angle": codes.SCT.Angle, "cobb_angle": codes.SCT.CobbAngle}


def scoord(annotation: Annotation) -> tuple[hd.sr.GraphicTypeValues, FloatArray]:
    """Graphic type and (column, row) data of an annotation's image region."""
    graphic_type, data = shape(annotation.kind).scoord(annotation.points)
    return hd.sr.GraphicTypeValues(graphic_type), data


def _tracking_text(annotation: Annotation) -> str:
    return f"{annotation.label} {annotation.uid}" if annotation.label else annotation.uid


def _measurements(annotation: Annotation, scale: Scale = PATIENT_SCALE) -> list[hd.sr.Measurement]:
    """Length / angle / area (mm, deg, mm2; lengths and areas by ``scale``, with their
    Measurement Method when not in plain mm) and a model's score."""
    ucum = codes.UCUM
    out: list[tuple[PydicomCode | CodedConcept, float, PydicomCode, CodedConcept | None]] = []
    measure = shape(annotation.kind).measure
    method = SPACING_METHODS.get(scale.kind)
    has_scale = (
        annotation.image.pixel_spacing is not None
        or annotation.points_mm is not None
        or scale.factor is not None
    )
    if measure == "length" and has_scale:
        out.append((codes.SCT.Length, length_mm(annotation, scale).value, ucum.Millimeter, method))
    elif measure in ANGLES:
        angle = ANGLES[measure](annotation)
        out.append((ANGLE_CODES[measure], angle, ucum.Degree, None))
    elif measure == "area":
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
        return hd.sr.ObserverContext(observer_type=DEVICE, observer_identifying_attributes=device)
    person = hd.sr.PersonObserverIdentifyingAttributes(name=person_name(provenance.author))
    return hd.sr.ObserverContext(observer_type=PERSON, observer_identifying_attributes=person)


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
