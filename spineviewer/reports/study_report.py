"""The report of one study: what the models found and what a person confirmed or changed.

:func:`build_report` joins the AI's :class:`~spineviewer.ai.findings.Findings` with the
study's annotation document (the reviewed proposals and the manual measurements). Each level,
vertebra and implant carries its review status: ``proposed`` (nobody looked yet),
``accepted``, ``edited`` (a person changed it: the report shows the person's value) or
``rejected`` (listed, struck out in HTML/PDF, never counted as a finding). The JSON form is
:meth:`Report.to_dict`; HTML and PDF are rendered from the same object.

What a person reads is written for a person: names family name first (``Doe, John``, from the
DICOM ``DOE^JOHN``; the JSON keeps the DICOM value as ``name_dicom``), dates in ISO 8601
(``2024-01-31``, the same in every locale), and images by series and image number with the
series description (``Series 3 "SAG T2", image 7``, :attr:`Report.image_references`); the UIDs
stay in the JSON for machines (:mod:`spineviewer.reports.names`).

What the reader concludes is theirs: the impression (:attr:`Report.impression`, from the
annotation document or given to :func:`build_report`), the findings as sentences generated
from the rows (:attr:`Report.sentences`, :mod:`spineviewer.reports.sentences`) and a signature
block (:attr:`Report.signature`: the reader, the time, the software version and the models).
An anonymised report names no reader and gives the impression as ``[removed]`` unless the
annotations' text is kept.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from spineviewer import __version__
from spineviewer.ai.findings import Findings, numbering
from spineviewer.annotations import Annotation, AnnotationDocument, Kind, Status
from spineviewer.annotations.calibration import Calibrations, scale_of
from spineviewer.annotations.deidentify import REMOVED, deidentified_document
from spineviewer.annotations.impression import Impression, impression_text
from spineviewer.annotations.measure import measurements
from spineviewer.annotations.shapes import DISC, VERTEBRA, standing_for
from spineviewer.dicom import Series, Study
from spineviewer.dicom.anonymise import DUMMY_NAME, Anonymiser
from spineviewer.dicom.errors import printable
from spineviewer.dicom.spacing import SpacingKind
from spineviewer.reports.compared import Comparison
from spineviewer.reports.label_volumes import LabelVolume, findings_volumes
from spineviewer.reports.names import iso_date, person_name, readable_time
from spineviewer.reports.report_rows import ImplantRow, LevelRow, MeasurementRow, VertebraRow
from spineviewer.reports.sentences import report_sentences

__all__ = [
    "NOT_FOR_CLINICAL_USE",
    "ImplantRow",
    "LevelRow",
    "MeasurementRow",
    "Report",
    "VertebraRow",
    "build_report",
]

NOT_FOR_CLINICAL_USE = (
    "NOT FOR CLINICAL USE. Produced with demonstration models trained on synthetic phantoms; "
    "it is not a diagnosis."
)
NOT_REVIEWED = "proposed"


@dataclass(frozen=True)
class Report:
    """One study's report. ``patient`` holds ``name`` (for reading, ``Doe, John``),
    ``name_dicom`` (the DICOM value, ``DOE^JOHN``) and ``id``; ``study["date"]`` is ISO 8601."""

    study_uid: str
    institution: str
    patient: dict[str, str]
    study: dict[str, str]
    technique: tuple[str, ...]
    levels: tuple[LevelRow, ...]
    vertebrae: tuple[VertebraRow, ...]
    implants: tuple[ImplantRow, ...]
    cobb: dict[str, Any] | None
    measurements: tuple[MeasurementRow, ...]
    models: tuple[dict[str, Any], ...]
    provider: str
    reviewer: str
    review_status: str
    created: str
    not_for_clinical_use: bool
    notes: tuple[str, ...] = ()
    #: What a reader must check before trusting the AI's levels (no sacrum in view, possible
    #: transitional anatomy, a missed body), one sentence each.
    cautions: tuple[str, ...] = ()
    #: How the AI numbered each column of vertebrae, and the count it assumed (one sentence
    #: per labelled series: :func:`spineviewer.ai.findings.numbering`).
    numbering: tuple[str, ...] = ()
    #: The analysis' warnings (files left out and why, levels without an axial slice, ...).
    warnings: tuple[str, ...] = ()
    anonymised: bool = False
    #: Key images written beside the report: {name, caption, file, sop_instance_uid}.
    key_images: tuple[dict[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    #: Every image the report refers to, for a person: SOP Instance UID (as the report gives
    #: it: the anonymiser's when anonymised) -> ``Series 3 "SAG T2", image 7``.
    image_references: dict[str, str] = field(default_factory=dict)
    #: Each label's volume in the label maps of the study (a segmentation model's), when any.
    label_volumes: tuple[LabelVolume, ...] = ()
    #: The reader's impression: ``text``, ``author`` (for reading, ``Doe, John``; "" when
    #: anonymised) and ``created`` (ISO 8601); None when nobody wrote one.
    impression: dict[str, str] | None = None
    #: The SpineViewer version that wrote the report.
    software_version: str = __version__
    #: This study beside the prior study of its patient (both dates' findings and
    #: measurements), when a prior was given (:func:`spineviewer.reports.comparison.with_prior`).
    comparison: Comparison | None = None

    @property
    def sentences(self) -> tuple[str, ...]:
        """The findings as sentences (:func:`spineviewer.reports.sentences.report_sentences`)."""
        return report_sentences(self.levels, self.vertebrae, self.cobb, self.implants)

    @property
    def signature(self) -> dict[str, Any]:
        """Who concluded what, when, with which software: ``reader`` (the impression's author,
        else the reviewer; "" when anonymised or unknown), ``time`` (when the impression was
        written, ISO 8601; "" without one: the report's own is :attr:`created`) and
        ``time_text`` (for reading), ``software``, ``models`` (``id version``) and
        ``not_for_clinical_use`` (demonstration models)."""
        impression = self.impression or {}
        reader = "" if self.anonymised else impression.get("author") or self.reviewer
        time = impression.get("created", "")
        return {
            "reader": reader,
            "time": time,
            "time_text": readable_time(time) if time else "",
            "software": f"SpineViewer {self.software_version}",
            "models": [f"{m.get('id', '')} {m.get('version', '')}".strip() for m in self.models],
            "not_for_clinical_use": self.not_for_clinical_use,
        }

    def key_image_reference(self, key_image: Mapping[str, Any]) -> str:
        """Which image ``key_image`` (one of :attr:`key_images`) shows, for a person: its own
        ``reference`` when it has one, else its UID's, else (an anonymised key image carries no
        UID) the key image of the level it is named after; "" when none is known."""
        if key_image.get("reference"):
            return str(key_image["reference"])
        uid = str(key_image.get("sop_instance_uid") or "")
        if uid in self.image_references:
            return self.image_references[uid]
        name = str(key_image.get("name") or "")
        for row in self.levels:
            if name == f"axial-{row.ai_level or row.level}" and row.key_image:
                return self.image_references.get(row.key_image, row.key_image_ref)
        return ""

    @property
    def created_text(self) -> str:
        """:attr:`created` for a person: ``2024-01-31 09:05:00 UTC``."""
        return readable_time(self.created)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["notice"] = NOT_FOR_CLINICAL_USE if self.not_for_clinical_use else ""
        out["key_images"] = [
            {**k, "reference": self.key_image_reference(k)} for k in self.key_images
        ]
        out["sentences"] = list(self.sentences)
        out["signature"] = self.signature
        if self.comparison is not None:
            out["comparison"]["sentences"] = list(self.comparison.sentences)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _review(annotation: Annotation | None) -> str:
    return annotation.status.value if annotation is not None else NOT_REVIEWED


def _proposal(
    annotations: list[Annotation],
    label: str,
    kinds: frozenset[Kind],
    series_uid: str | None = None,
) -> Annotation | None:
    """The mark for ``label`` (on the series ``series_uid`` when given): a person's own one
    first, else the model's proposal."""
    found = [
        a
        for a in annotations
        if a.label == label
        and a.kind in kinds
        and (series_uid is None or a.image.series_uid == series_uid)
    ]
    human = [a for a in found if not a.provenance.is_model]
    ranked = human or found
    return ranked[0] if ranked else None


#: The marks that name a vertebra: the AI's boxes and corner polygons, the labelling tool's points.
VERTEBRA_MARKS = standing_for(VERTEBRA)
#: A mark whose centre lies this close (mm) to a finding's is that finding's, whatever its label
#: now reads (a reader who shifted every label by one level renamed the AI's marks).
SAME_PLACE_MM = 12.0


def _mark_of(
    annotations: list[Annotation],
    label: str,
    centre_mm: Sequence[float],
    kinds: frozenset[Kind],
    series_uid: str | None = None,
) -> Annotation | None:
    """The mark of a finding: the one at its place (a person's own first, then the nearest),
    else, for images without patient coordinates, the one with its label."""
    centre = np.asarray(centre_mm, dtype=np.float64)
    near = []
    for a in annotations:
        if a.kind not in kinds or not a.points_mm:
            continue
        if series_uid is not None and a.image.series_uid != series_uid:
            continue
        distance = float(np.linalg.norm(np.mean(np.asarray(a.points_mm), axis=0) - centre))
        if distance <= SAME_PLACE_MM:
            near.append((a.provenance.is_model, distance, a))
    if near:
        return min(near, key=lambda t: (t[0], t[1]))[2]
    return _proposal(annotations, label, kinds, series_uid)


def _renamed(mark: Annotation | None, ai: str) -> tuple[str, str]:
    """(label reported, the AI's label when the reader's differs else "")."""
    if mark is None or not mark.label or mark.label == ai:
        return ai, ""
    return mark.label, ai


def _level_state(disc_state: str, mark: Annotation | None) -> tuple[str, str]:
    """(state reported, review) of one level from the model's state and the mark for it."""
    if mark is None:
        return disc_state, NOT_REVIEWED
    if not mark.provenance.is_model:  # a person's own mark for the level decides
        state = mark.state or disc_state
        return state, "edited" if state != disc_state else "accepted"
    if mark.status == Status.EDITED:
        return mark.state or disc_state, "edited"
    return disc_state, mark.status.value


def _uid(uid: str, anonymiser: Anonymiser | None) -> str:
    return anonymiser.uid(uid) if anonymiser is not None and uid else uid


def _levels(
    findings: Findings,
    annotations: list[Annotation],
    anonymiser: Anonymiser | None,
    images: Mapping[str, str],
) -> list[LevelRow]:
    rows = []
    for disc in findings.discs:
        kinds = standing_for(DISC)  # the ROIs a disc is marked with
        mark = _mark_of(annotations, disc.level, disc.centre_mm, kinds)
        state, review = _level_state(disc.state, mark)
        first = disc.axial_instances[0] if disc.axial_instances else ""
        key = _uid(first, anonymiser)
        probability = disc.probabilities.get(disc.state)
        level, ai_level = _renamed(mark, disc.level)
        rows.append(
            LevelRow(
                level,
                state,
                probability,
                review,
                disc.state,
                key,
                disc.review,
                ai_level,
                disc.view,
                images.get(first, ""),
            )
        )
    return rows


def _patient(study: Study, anonymiser: Anonymiser | None) -> dict[str, str]:
    """``name`` for reading, ``name_dicom`` as the file has it, and ``id``; anonymised: the
    dummy name (as written, both) and the anonymiser's label."""
    if anonymiser is not None:
        return {"name": DUMMY_NAME, "name_dicom": DUMMY_NAME, "id": anonymiser.patient_label}
    info = study.info
    raw = info.get("PatientName", "")
    return {"name": person_name(raw), "name_dicom": raw, "id": info.get("PatientID", "")}


def _manual(
    annotations: list[Annotation],
    anonymiser: Anonymiser | None,
    images: Mapping[str, str],
    study: Study | None = None,
    calibrations: Calibrations | None = None,
) -> list[MeasurementRow]:
    """The reader's measurements, lengths and areas labelled by what their mm are (``mm
    (detector)`` on a radiograph known only by its detector spacing, ``mm (calibrated)``)."""
    kinds = (
        {
            f.instance.sop_instance_uid: f.spacing_kind
            for series in study.series
            for stack in series.stacks
            for f in stack.frames
        }
        if study is not None
        else {}
    )
    rows = []
    for a in annotations:
        if a.provenance.is_model or a.status == Status.REJECTED:
            continue
        kind = kinds.get(a.image.sop_instance_uid, SpacingKind.PATIENT)
        scale = scale_of(a.image.series_uid, kind, calibrations)
        measured = measurements(a, scale=scale)
        values = [m for m in measured if m.name in ("length", "angle", "cobb_angle", "area")]
        for m in values:
            rows.append(
                MeasurementRow(
                    a.kind.value,
                    a.label,
                    f"{m.value:.1f} {m.label}",
                    _uid(a.image.sop_instance_uid, anonymiser),
                    images.get(a.image.sop_instance_uid, ""),
                )
            )
    return rows


def _series_name(
    series: Series, anonymiser: Anonymiser | None, position: int = 0, described: bool = True
) -> str:
    """``Series 3 "SAG T2"``: the series number and description (``Series 3`` alone unless
    ``described``); ``MR series 2`` (its place in the study) without a number. Anonymised
    without the description: it is free text, left out like the profile does (the number
    stays: PS3.15 keeps SeriesNumber)."""
    name = f"Series {series.number}" if series.number is not None else f"{series.modality} series"
    if series.number is None and position:
        name = f"{name} {position}"
    if described and anonymiser is None and series.description:
        return f'{name} "{series.description}"'
    return name


def _series_names(
    study: Study, anonymiser: Anonymiser | None, described: bool = True
) -> dict[str, str]:
    """Series UID -> :func:`_series_name` of every series of ``study``; a name that two
    series would share (a series number used twice) says which of the study's series it is."""
    names = {
        series.uid: _series_name(series, anonymiser, position, described)
        for position, series in enumerate(study.series, start=1)
    }
    count = Counter(names.values())
    total = len(study.series)
    return {
        series.uid: (
            f"{names[series.uid]} (series {position} of {total} in the study)"
            if count[names[series.uid]] > 1
            else names[series.uid]
        )
        for position, series in enumerate(study.series, start=1)
    }


def _image_names(study: Study, names: Mapping[str, str]) -> dict[str, str]:
    """SOP Instance UID -> ``Series 3 "SAG T2", image 7`` (the InstanceNumber; without one,
    the image's place in its stack, ``image 7 of 15``). A multi-frame file is one image here
    (a UID names no frame)."""
    out: dict[str, str] = {}
    for series in study.series:
        for stack in series.stacks:
            for place, frame in enumerate(stack.frames, start=1):
                number = frame.instance.instance_number
                image = (
                    f"image {number}" if number is not None else f"image {place} of {len(stack)}"
                )
                out.setdefault(frame.instance.sop_instance_uid, f"{names[series.uid]}, {image}")
    return out


#: An absolute path that is not one of the study's files: POSIX, or a Windows drive's.
_OTHER_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[\\/][^\s:]+")


def _scrubbed(
    texts: tuple[str, ...], study: Study, anonymiser: Anonymiser | None
) -> tuple[str, ...]:
    """``texts`` (warnings, notes) as a report shows them; anonymised: without the files and
    folders of the source (the study's own, whole, so a folder with a space in its name or a
    relative path goes too; then any other absolute path) and without the series'
    descriptions quoted in them (free text, left out of the technique too)."""
    if anonymiser is None:
        return texts
    names: dict[str, str] = {}
    series_names = _series_names(study, anonymiser)
    for series in study.series:
        if series.description:
            names[f'"{series.description}"'] = series_names[series.uid]
        for stack in series.stacks:
            for frame in stack.frames:
                ref = frame.instance.ref
                names[printable(str(ref))] = names[str(ref)] = "<file>"
                names[str(ref.path)] = "<file>"
                names[str(ref.path.parent)] = "<folder>"
    ordered = sorted(names, key=len, reverse=True)  # a file before its folder
    out = []
    for text in texts:
        for name in ordered:
            text = text.replace(name, names[name])
        out.append(_OTHER_PATH.sub("<file>", text))
    return tuple(out)


def cautions(findings: Findings, names: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """One sentence per labelling check that is not confident: its status and why; with
    ``names`` (series UID -> name) and checks of several series, which series it is about."""
    out = []
    several = len({c.series_uid for c in findings.labelling}) > 1
    for check in findings.labelling:
        if check.status == "confident":
            continue
        why = "; ".join([*check.gaps, *check.reasons])
        name = (names or {}).get(check.series_uid) if several else None
        where = f" of {name}" if name else ""
        verdict = _VERDICTS.get(check.status, check.status)
        out.append(f"Vertebra labels{where} {verdict} (confidence {check.confidence:.2f}): {why}")
    return tuple(out)


#: A labelling check's status as the caution's verb ("Vertebra labels need review").
_VERDICTS = {"needs review": "need review", "uncertain": "are uncertain"}


def build_report(
    study: Study,
    findings: Findings,
    document: AnnotationDocument | None = None,
    institution: str = "",
    anonymiser: Anonymiser | None = None,
    keep_annotation_text: bool = False,
    label_volumes: Sequence[LabelVolume] = (),
    impression: Impression | str | None = None,
) -> Report:
    """The report of ``study`` from its findings and (when there is one) its annotations.

    With an ``anonymiser`` the report names no patient (a dummy name, the anonymiser's label as
    ID), has no dates, accession or study description, and every UID in it is the
    anonymiser's replacement (the same the anonymised DICOM SR carries). It names no reader
    either (no reviewer), and the annotations' free text (notes, labels that are no vocabulary
    term) reads ``[removed]`` unless ``keep_annotation_text``
    (:func:`spineviewer.annotations.deidentify.deidentified_document`). ``label_volumes``
    (:func:`spineviewer.reports.label_volumes.label_volumes` of a label map) add a section of
    per-label volumes; without them the section has those of the label maps the analysis
    made (:func:`~spineviewer.reports.label_volumes.findings_volumes`), and without any the
    report has none. ``impression`` (text, blank for none, or an :class:`Impression`) replaces the
    document's impression (``spineviewer report --impression``); anonymised, its text reads
    ``[removed]`` unless ``keep_annotation_text``, like the document's."""
    calibrations = dict(document.calibrations) if document is not None else {}
    concluded = _impression(document, impression, anonymiser, keep_annotation_text)
    if anonymiser is not None and document is not None:
        document = deidentified_document(document, keep_annotation_text)
    annotations = list(document) if document is not None else []
    names = _series_names(study, anonymiser)
    images = _image_names(study, names)
    #: in tables a row names the image by numbers alone (the technique describes each series)
    briefly = _image_names(study, _series_names(study, anonymiser, described=False))
    several = len({v.series_uid for v in findings.vertebrae}) > 1
    vertebrae = []
    for v in findings.vertebrae:
        on = v.series_uid if several else None  # an L1 of each series: each its own mark
        mark = _mark_of(annotations, v.label, v.centre_mm, VERTEBRA_MARKS, on)
        label, ai_label = _renamed(mark, v.label)
        vertebrae.append(
            VertebraRow(
                label,
                _review(mark),
                v.fracture,
                v.fracture_probability,
                v.tilt_deg,
                v.review,
                names.get(v.series_uid, "") if several else "",
                ai_label,
                v.body_heights_mm,
                v.height_loss,
                v.fracture_reasons,
            )
        )
    implants = [
        ImplantRow(i.implant_class, i.score, NOT_REVIEWED, i.review) for i in findings.implants
    ]
    used = {s.series_uid for s in findings.axial_levels} | {
        v.series_uid for v in findings.vertebrae
    }
    technique = tuple(
        f"{names[series.uid]} ({series.modality}, "
        f"{', '.join(f'{st.plane} {len(st)} images' for st in series.stacks)})"
        for series in study.series
        if series.uid in used
    )
    info = {} if anonymiser is not None else study.info
    cobb = asdict(findings.cobb) if findings.cobb is not None else None
    if cobb is not None:
        cobb["image"] = images.get(cobb["sop_instance_uid"], "")
        cobb["sop_instance_uid"] = _uid(cobb["sop_instance_uid"], anonymiser)
    referenced = {
        *(v.sop_instance_uid for v in findings.vertebrae),
        *(i.sop_instance_uid for i in findings.implants),
        *(d.axial_instances[0] for d in findings.discs if d.axial_instances),
        *(a.image.sop_instance_uid for a in annotations),
        *([findings.cobb.sop_instance_uid] if findings.cobb is not None else []),
    }
    references = {_uid(uid, anonymiser): images[uid] for uid in sorted(referenced) if uid in images}
    reviewer = (document.author or "") if document is not None and anonymiser is None else ""
    return Report(
        study_uid=_uid(study.uid, anonymiser),
        institution=institution,
        patient=_patient(study, anonymiser),
        study={
            "date": iso_date(info.get("StudyDate", "")),
            "description": info.get("StudyDescription", ""),
            "accession": info.get("AccessionNumber", ""),
        },
        technique=technique,
        levels=tuple(_levels(findings, annotations, anonymiser, briefly)),
        vertebrae=tuple(vertebrae),
        implants=tuple(implants),
        cobb=cobb,
        measurements=tuple(_manual(annotations, anonymiser, briefly, study, calibrations)),
        models=tuple(asdict(m) for m in findings.models),
        provider=findings.provider,
        reviewer=person_name(reviewer),
        review_status=document.review_status.value if document is not None else "not reviewed",
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        not_for_clinical_use=findings.not_for_clinical_use,
        notes=_scrubbed(
            tuple(f"{s.name}: {s.reason}" for s in findings.steps if s.status == "failed"),
            study,
            anonymiser,
        ),
        cautions=cautions(findings, names),
        numbering=tuple(dict.fromkeys(f"Levels {numbering(c)}." for c in findings.labelling)),
        warnings=_scrubbed(findings.other_warnings(), study, anonymiser),
        anonymised=anonymiser is not None,
        image_references=references,
        label_volumes=tuple(
            replace(v, series=names.get(v.series, "" if anonymiser is not None else v.series))
            for v in (label_volumes or findings_volumes(findings))
        ),
        impression=concluded,
    )


def _impression(
    document: AnnotationDocument | None,
    given: Impression | str | None,
    anonymiser: Anonymiser | None,
    keep_text: bool,
) -> dict[str, str] | None:
    """The report's impression: ``given`` (text: by the current user, now; blank text: none),
    else the document's; anonymised without its author and (unless ``keep_text``) its text."""
    if isinstance(given, str):
        if not given.strip():
            return None
        given = Impression(impression_text(given))
    chosen = given or (document.impression if document is not None else None)
    if chosen is None:
        return None
    if anonymiser is not None:
        return {
            "text": chosen.text if keep_text else REMOVED,
            "author": "",
            "created": chosen.created,
        }
    return {"text": chosen.text, "author": person_name(chosen.author), "created": chosen.created}
