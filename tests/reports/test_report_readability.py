"""A report reads like one (issue 22, item 8): person names family name first (``Doe, John``,
not ``DOE^JOHN``), dates in ISO 8601, images named by series and image number with the series
description rather than by UID tails; the JSON keeps the DICOM name and the UIDs.

The report tests use a real phantom study whose header is given a tricky UTF-8 patient name
and a study date, analysed by the real models (onnxruntime, CPU), rendered to HTML and to a
real PDF read back with poppler's ``pdftotext``."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from spineviewer.ai.analysis import analyse_path
from spineviewer.annotations import Annotation, AnnotationDocument, ImageRef, Provenance, Status
from spineviewer.annotations.document import ReviewStatus
from spineviewer.annotations.proposals import proposals_from_findings
from spineviewer.dicom import scan
from spineviewer.dicom.anonymise import DUMMY_NAME, Anonymiser
from spineviewer.reports import build_report
from spineviewer.reports.html import render_html
from spineviewer.reports.names import iso_date, person_name, readable_time
from spineviewer.reports.writer import with_key_images, write_report

# --- the name and date formatters -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("DOE^JOHN", "Doe, John"),
        ("DOE^JOHN^^DR", "Doe, Dr John"),
        ("DOE^JOHN^ALBERT^DR^JR", "Doe, Dr John Albert, Jr"),
        ("SMITH^JOHN^^^III", "Smith, John, III"),  # roman numerals stay as written
        ("SMITH^JOHN^^^PhD", "Smith, John, PhD"),
        ("", ""),
        ("   ", ""),
        (None, ""),
        ("^^^^", ""),
        ("=^", ""),
        ("DOE", "Doe"),  # one component: the family name
        ("reader", "reader"),  # a user name, not all capitals: as written
        ("^JOHN", "John"),
        ("DOE^JOHN^^^", "Doe, John"),  # trailing carets
        ("DOE^JOHN^^^^^^", "Doe, John"),  # more carets than components
        (" DOE ^  JOHN ", "Doe, John"),
        ("van der Berg^Jan", "van der Berg, Jan"),  # mixed case: as written, particles too
        ("McDONALD^Mary", "McDONALD, Mary"),  # one lower-case letter: the component as written
        ("Doe^JOHN", "Doe, John"),  # per component
        ("VAN DER BERG^JAN", "Van Der Berg, Jan"),  # particles are not guessed (documented)
        ("O'BRIEN^MARY-ANN", "O'Brien, Mary-Ann"),
        ("PHANTOM^LUMBAR^00001", "Phantom, Lumbar 00001"),
        ("MÜLLER^JÜRGEN", "Müller, Jürgen"),
        ("ΠΑΠΑΔΟΠΟΥΛΟΣ^ΓΙΑΝΝΗΣ", "Παπαδοπουλος, Γιαννης"),  # final sigma where it belongs
        ("ИВАНОВ^ИВАН", "Иванов, Иван"),
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada, Tarou (山田 太郎)"),
        ("YAMADA^TAROU=山田^太郎", "Yamada, Tarou (山田 太郎)"),
        ("Wang^XiaoDong=王^小東=", "Wang, XiaoDong (王 小東)"),
        ("=山田^太郎=やまだ^たろう", "山田 太郎"),  # no alphabetic group
        ("==やまだ^たろう", "やまだ たろう"),  # the phonetic group only when it is all there is
        ("Hong^Gildong=洪^吉洞=홍^길동", "Hong, Gildong (洪 吉洞)"),
    ],
)
def test_person_names_read_family_name_first(value: object, shown: str) -> None:
    assert person_name(value) == shown


def test_a_pydicom_person_name_is_formatted_too() -> None:
    ds = pydicom.Dataset()
    ds.PatientName = "DOE^JANE^^MS"
    assert person_name(ds.PatientName) == "Doe, Ms Jane"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("20240131", "2024-01-31"),
        ("2024.01.31", "2024-01-31"),  # the ACR-NEMA form
        ("2024-01-31", "2024-01-31"),
        (" 20240131 ", "2024-01-31"),
        ("20240230", "20240230"),  # no such day: shown as the file says
        ("2024", "2024"),
        ("", ""),
        (None, ""),
    ],
)
def test_dates_are_iso(value: object, shown: str) -> None:
    assert iso_date(value) == shown


def test_time_stamps_read_without_the_t() -> None:
    assert readable_time("2024-01-31T09:05:00+00:00") == "2024-01-31 09:05:00 UTC"
    assert readable_time("2024-01-31T09:05:00+05:30") == "2024-01-31 09:05:00 UTC+05:30"
    assert readable_time("not a time") == "not a time"


# --- a real report ----------------------------------------------------------------------------

PATIENT = "DOE^JOHN^ALBERT^DR=山田^太郎"
PATIENT_SHOWN = "Doe, Dr John Albert (山田 太郎)"
READER = "SMITH^JANE"


@pytest.fixture(scope="module")
def named_study(demo_study_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The demo phantom (``generate("lumbar-mr", root, 1)``) with a UTF-8 patient name in two
    groups and a study date, analysed by the real models."""
    folder = shutil.copytree(demo_study_dir, tmp_path_factory.mktemp("named") / "study")
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = PATIENT
        ds.StudyDate = "20240131"
        ds.save_as(path)
    (study,) = scan(folder).studies
    (findings,) = analyse_path(folder, provider="cpu")
    return study, findings


def _reviewed(study, findings) -> AnnotationDocument:
    """The AI's proposals accepted by ``READER``, plus a line the reader drew."""
    stacks = [st for series in study.series for st in series.stacks]
    accepted = [
        replace(p, status=Status.ACCEPTED) for p in proposals_from_findings(findings, stacks)
    ]
    sagittal = next(st for st in stacks if st.plane == "sagittal")
    middle = len(sagittal) // 2
    line = Annotation.create(
        "line",
        ImageRef.of_frame(sagittal.frames[middle]),
        [(10, 10), (10, 110)],
        sagittal.plane_of(middle),
        provenance=Provenance(author=READER),
    )
    return AnnotationDocument(study.uid, author=READER, annotations=[*accepted, line])


def _where(study) -> dict[str, tuple[int, str, int]]:
    """SOP Instance UID -> (series number, series description, instance number)."""
    return {
        f.instance.sop_instance_uid: (
            series.number,
            series.description,
            f.instance.instance_number,
        )
        for series in study.series
        for st in series.stacks
        for f in st.frames
    }


def _text(document: str) -> str:
    """What a person reads of an HTML document: no tags, entities decoded, spaces collapsed."""
    body = document.split("<body>", 1)[1]
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _uid_tails(study) -> set[str]:
    """The last ten characters of every series and SOP Instance UID of ``study``."""
    uids = {series.uid for series in study.series}
    uids |= {
        f.instance.sop_instance_uid for s in study.series for st in s.stacks for f in st.frames
    }
    return {uid[-10:] for uid in uids}


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_report_names_people_dates_and_images_for_a_reader(named_study, tmp_path: Path) -> None:
    study, findings = named_study
    assert study.info["PatientName"] == PATIENT  # the header path decoded the UTF-8 name
    document = _reviewed(study, findings)
    report = build_report(study, findings, document, institution="Demo Hospital")
    report = with_key_images(report, study, findings, document, tmp_path)
    write_report(report, tmp_path, ["json", "html", "pdf"])
    where = _where(study)

    text = _text((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert f"Patient {PATIENT_SHOWN} ({study.info['PatientID']})" in text
    assert "by Smith, Jane" in text
    assert "2024-01-31" in text and "20240131" not in text
    assert "DOE^" not in text and "^JANE" not in text
    assert report.levels and report.measurements
    for row in report.levels:  # the level table: series and image number
        number, _, image = where[row.key_image]
        assert row.key_image_ref == f"Series {number}, image {image}"
        assert f"{row.level} " in text and row.key_image_ref in text
    (measured,) = report.measurements
    assert measured.image_ref == "Series {}, image {}".format(*where[measured.image][::2])
    assert measured.image_ref in text
    assert report.key_images
    for key in report.key_images:  # the key images: the series described too
        number, description, image = where[key["sop_instance_uid"]]
        assert f'Series {number} "{description}", image {image}' in text, key["name"]
    for tail in _uid_tails(study):
        assert tail not in text, tail
    for series in study.series:
        assert f'Series {series.number} "{series.description}" (MR,' in text  # technique

    pdf = subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    pdf = " ".join(pdf.split())
    assert "Doe, Dr John Albert" in pdf  # the test machine has no CJK font for the rest
    assert "Smith, Jane" in pdf and "2024-01-31" in pdf and "20240131" not in pdf
    for row in report.levels:
        assert row.key_image_ref in pdf, row.key_image_ref
    assert "DOE^" not in pdf
    for tail in _uid_tails(study):
        assert tail not in pdf, tail

    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["patient"] == {
        "name": PATIENT_SHOWN,
        "name_dicom": PATIENT,
        "id": study.info["PatientID"],
    }
    assert data["study"]["date"] == "2024-01-31" and data["reviewer"] == "Smith, Jane"
    for row in data["levels"]:  # machines keep the UIDs, a person's text beside them
        assert row["key_image"] in where
        assert data["image_references"][row["key_image"]].startswith(
            f'Series {where[row["key_image"]][0]} "'
        )
    for key in data["key_images"]:
        assert key["sop_instance_uid"] in where
        assert key["reference"] == data["image_references"][key["sop_instance_uid"]]
    assert set(data["image_references"]) <= set(where)


def test_an_anonymised_report_keeps_its_dummy_name_and_names_no_reader(
    named_study, tmp_path: Path
) -> None:
    study, findings = named_study
    document = _reviewed(study, findings)
    anonymiser = Anonymiser(b"r" * 32)
    report = build_report(study, findings, document, anonymiser=anonymiser)
    report = with_key_images(report, study, findings, document, tmp_path)
    write_report(report, tmp_path, ["json", "html"])
    assert report.patient["name"] == DUMMY_NAME and report.reviewer == ""
    text = _text((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert f"Patient {DUMMY_NAME}" in text
    for secret in ("Doe,", "DOE", "山田", "Smith", "SMITH", "2024-01-31", "20240131"):
        assert secret not in text, secret
    where = _where(study)
    for series in study.series:  # the number stays, the free-text description goes
        assert series.description not in text
    levels = [row for row in report.levels if row.key_image]
    assert levels
    for row in levels:
        assert re.fullmatch(r"Series \d+, image \d+", row.key_image_ref)
        assert row.key_image not in where  # the anonymiser's UID, not shown either
        assert row.key_image_ref in text and row.key_image[-10:] not in text
    axial = [k for k in report.key_images if k["name"].startswith("axial-")]
    assert axial and all(re.fullmatch(r"Series \d+, image \d+", report.key_image_reference(k))
                         for k in axial)  # fmt: skip
    for tail in _uid_tails(study):
        assert tail not in text, tail
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["patient"]["name"] == data["patient"]["name_dicom"] == DUMMY_NAME
    assert not set(data["image_references"]) & set(where)


def test_a_study_without_a_date_or_name_leaves_nothing_dangling(named_study) -> None:
    study, findings = named_study
    bare = replace(study, info={**study.info, "PatientName": "", "StudyDate": ""})
    report = build_report(bare, findings)
    assert report.patient == {"name": "", "name_dicom": "", "id": study.info["PatientID"]}
    assert report.study["date"] == ""
    text = _text(render_html(report))
    info = study.info
    assert f"Study {info['StudyDescription']}, accession {info['AccessionNumber']}" in text
    dated = _text(render_html(build_report(study, findings)))
    assert f"Study {info['StudyDescription']}, 2024-01-31, accession" in dated


def test_series_sharing_a_number_are_told_apart(named_study) -> None:
    """Anonymised, a series is named by its number alone (the description is free text): two
    series with one number say which of the study's series each is."""
    study, findings = named_study
    renumbered = replace(study, series=tuple(replace(s, number=1) for s in study.series))
    anonymous = build_report(renumbered, findings, anonymiser=Anonymiser(b"s" * 32))
    total = len(study.series)
    assert [t.split(" (MR")[0] for t in anonymous.technique] == [
        f"Series 1 (series {i} of {total} in the study)" for i in range(1, total + 1)
    ]
    plain = build_report(study, findings, anonymiser=Anonymiser(b"s" * 32))
    assert [t.split(" (MR")[0] for t in plain.technique] == [
        f"Series {s.number}" for s in study.series
    ]


def test_the_review_status_reads_as_words(named_study) -> None:
    """ "in progress", not the stored "in_progress"."""
    study, findings = named_study[0], named_study[1]
    document = _reviewed(study, findings)
    document.review_status = ReviewStatus.IN_PROGRESS
    report = build_report(study, findings, document)
    assert report.review_status == "in_progress"
    text = _text(render_html(report))
    assert report.review_status.replace("_", " ") in text and report.review_status not in text
