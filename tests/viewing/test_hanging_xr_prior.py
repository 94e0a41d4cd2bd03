"""Radiograph hanging (AP beside lateral, flexion / extension grouped) and a study beside its
prior, on real phantom files (radiograph headers rewritten in copies)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from spineviewer.dicom import Study, scan
from spineviewer.phantom import generate, study_folder_name
from spineviewer.phantom.prior import generate_prior
from spineviewer.viewing.hanging import (
    choose_hanging,
    dynamic_phase,
    newer_first,
    prior_hanging,
    radiograph_view,
)


@pytest.fixture(scope="module")
def radiograph(module_tmp: Path) -> Path:
    generate("spine-xr", module_tmp, 2)
    return module_tmp / study_folder_name("spine-xr", 2)


def _copy_as(
    source: Path, folder: Path, number: int, description: str, **attributes: object
) -> None:
    """One more series of the same study: the radiograph with new UIDs and ``attributes``
    (None deletes one)."""
    ds = pydicom.dcmread(next(source.rglob("*.dcm")))
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SeriesNumber = number
    ds.SeriesDescription = description
    for keyword, value in attributes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / f"S{number:02d}.dcm", enforce_file_format=True)


def _study(folder: Path) -> Study:
    (study,) = scan(folder).studies
    return study


def _labels_and_descriptions(study: Study) -> list[tuple[str, str]]:
    hanging = choose_hanging(study)
    by_uid = {s.stacks[0].series_uid: s.description for s in study.series}
    return [(v.label, by_uid[v.stacks[0].series_uid]) for v in hanging.viewports]


def test_ap_and_lateral_hang_side_by_side(radiograph: Path, tmp_path: Path) -> None:
    study_dir = tmp_path / "study"
    _copy_as(radiograph, study_dir, 1, "LSPINE LAT", ViewPosition="LL")
    _copy_as(radiograph, study_dir, 2, "LSPINE AP")  # the phantom's own ViewPosition AP
    study = _study(study_dir)
    hanging = choose_hanging(study)
    assert hanging.layout == (1, 2)
    assert _labels_and_descriptions(study) == [("AP", "LSPINE AP"), ("lateral", "LSPINE LAT")]


def test_flexion_and_extension_grouped_after_ap_and_lateral(
    radiograph: Path, tmp_path: Path
) -> None:
    study_dir = tmp_path / "study"
    _copy_as(radiograph, study_dir, 1, "L-SPINE EXT", ViewPosition="LL")
    _copy_as(radiograph, study_dir, 2, "L-SPINE AP")
    _copy_as(radiograph, study_dir, 3, "L-SPINE FLEX", ViewPosition="LL")
    _copy_as(radiograph, study_dir, 4, "NEUTRAL", ViewPosition="LL")
    # no ViewPosition: the rows run from anterior, so a lateral
    _copy_as(radiograph, study_dir, 5, "L-SPINE", ViewPosition=None, PatientOrientation=["A", "F"])
    study = _study(study_dir)
    assert choose_hanging(study).layout == (2, 2)
    assert _labels_and_descriptions(study) == [
        ("AP", "L-SPINE AP"),
        ("lateral", "L-SPINE"),
        ("flexion", "L-SPINE FLEX"),
        ("extension", "L-SPINE EXT"),
    ]
    phases = {s.description: dynamic_phase(s) for s in study.series}
    assert phases["NEUTRAL"] == "neutral" and phases["L-SPINE AP"] == ""


def test_dynamic_lateral_views_alone(radiograph: Path, tmp_path: Path) -> None:
    study_dir = tmp_path / "study"
    _copy_as(radiograph, study_dir, 1, "EXTENSION", ViewPosition="LL")
    _copy_as(radiograph, study_dir, 2, "FLEXION", ViewPosition="LL")
    _copy_as(radiograph, study_dir, 3, "NEUTRAL", ViewPosition="LL")
    study = _study(study_dir)
    hanging = choose_hanging(study)
    assert hanging.layout == (1, 3)
    assert [v.label for v in hanging.viewports] == ["flexion", "neutral", "extension"]
    assert {radiograph_view(s) for s in study.series} == {"lateral"}


def test_a_single_radiograph_still_hangs_alone(radiograph: Path) -> None:
    hanging = choose_hanging(_study(radiograph))
    assert hanging.layout == (1, 1) and hanging.viewports[0].label == "radiograph"


def test_current_beside_prior_same_series_side_by_side(module_tmp: Path) -> None:
    current_dir, prior_dir = generate_prior(module_tmp / "pair", 7)
    current, prior = _study(current_dir), _study(prior_dir)
    assert newer_first(prior, current) == (current, prior)
    hanging = prior_hanging(current, prior)
    assert hanging.layout == (2, 2)
    study_of = {st.series_uid: "current" for s in current.series for st in s.stacks}
    study_of |= {st.series_uid: "prior" for s in prior.series for st in s.stacks}
    shown = [(study_of[v.stacks[0].series_uid], v.label) for v in hanging.viewports]
    assert shown == [
        ("current", "sagittal"),
        ("prior", "sagittal"),
        ("current", "axial"),
        ("prior", "axial"),
    ]
    assert "current left" in hanging.reason and "2023-01-08" in hanging.reason
    swapped = prior_hanging(current, prior, newest_right=True)
    assert [study_of[v.stacks[0].series_uid] for v in swapped.viewports] == [
        "prior",
        "current",
        "prior",
        "current",
    ]
