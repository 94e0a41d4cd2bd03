"""DICOM SR (TID 1500) export of annotations on a real phantom study, read back and validated."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from exchange_helpers import (
    AUTHOR,
    MODEL,
    MarkedStudy,
    dciodvfy_errors,
    marked_radiograph,
    marked_study,
    run_tool,
    tree_hashes,
)

from spineviewer.annotations.annotation import Annotation, Kind
from spineviewer.annotations.measure import area_mm2, length_mm
from spineviewer.annotations.sr import (
    export_sr,
    import_sr,
    points_from_scoord,
    scoord,
    scoord_points,
    tracking_uid,
)


@pytest.fixture(scope="module")
def study(demo_study_dir: Path) -> MarkedStudy:
    return marked_study(demo_study_dir)


@pytest.fixture(scope="module")
def exported(study: MarkedStudy, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    before = tree_hashes(study.folder)
    path = export_sr(study.annotations, study.headers, tmp_path_factory.mktemp("sr") / "sr.dcm")
    return path, before


def by_uid(annotations: list[Annotation]) -> dict[str, Annotation]:
    return {a.uid: a for a in annotations}


def test_round_trip_keeps_every_annotation(study: MarkedStudy, exported):
    path, _ = exported
    back = by_uid(import_sr(path, planes=study.planes, images=study.images))
    assert set(back) == {a.uid for a in study.annotations}
    for original in study.annotations:
        got = back[original.uid]
        assert got.kind == original.kind
        assert got.image == original.image
        np.testing.assert_allclose(got.points, original.points, atol=0.01)
        assert original.points_mm is not None and got.points_mm is not None
        np.testing.assert_allclose(got.points_mm, original.points_mm, atol=0.01)
        assert (got.label, got.state, got.text, got.status) == (
            original.label,
            original.state,
            original.text,
            original.status,
        )
        assert got.provenance.source == original.provenance.source
        assert got.provenance.author == original.provenance.author


def test_model_proposal_comes_back_with_its_device(exported):
    path, _ = exported
    model = [a for a in import_sr(path) if a.provenance.is_model]
    assert len(model) == 1
    prov = model[0].provenance
    assert (prov.model_id, prov.model_version, prov.score) == (
        MODEL.model_id,
        MODEL.model_version,
        MODEL.score,
    )
    humans = [a for a in import_sr(path) if not a.provenance.is_model]
    assert {a.provenance.author for a in humans} == {AUTHOR}


def test_without_planes_patient_points_stay_empty(exported):
    path, _ = exported
    back = import_sr(path)
    assert all(a.points_mm is None for a in back)
    # The references still name the study, series and image.
    assert all(a.image.study_uid and a.image.series_uid for a in back)


def test_document_structure(study: MarkedStudy, exported):
    path, _ = exported
    sr = hd.sr.srread(path)
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"
    assert sr.StudyInstanceUID == study.annotations[0].image.study_uid
    assert sr.SeriesInstanceUID not in {a.image.series_uid for a in study.annotations}
    report = sr.content
    observers = report.get_observer_contexts()
    assert [str(o.observer_type.meaning) for o in observers] == ["Person", "Device"]
    groups = report.get_planar_roi_measurement_groups()
    assert len(groups) == len(study.annotations)
    group = report.get_planar_roi_measurement_groups(
        tracking_uid=tracking_uid(study.annotations[0].uid)
    )[0]
    assert group.finding_type.meaning == "L3 vertebra"
    assert group.finding_sites[0].value.value == "36470004"
    [area] = group.get_measurements()
    assert area.unit.value == "mm2"
    assert float(area.value) == pytest.approx(area_mm2(study.annotations[0]), abs=1e-5)
    line = next(a for a in study.annotations if a.kind == Kind.LINE)
    [length] = report.get_planar_roi_measurement_groups(tracking_uid=tracking_uid(line.uid))[
        0
    ].get_measurements()
    assert (length.unit.value, float(length.value)) == ("mm", pytest.approx(length_mm(line).value))
    assert sr.CodingSchemeIdentificationSequence[0].CodingSchemeDesignator == "99SPV"


def test_scoord_conventions():
    """Pixel (row, col) -> SCOORD (col + 0.5, row + 0.5); closed outlines repeat the start."""
    from spineviewer.annotations.annotation import ImageRef

    ref = ImageRef("1", "2", "3", "4")
    rect = Annotation(Kind.RECTANGLE, ref, ((1.0, 2.0), (3.0, 5.0)))
    graphic_type, data = scoord(rect)
    assert graphic_type.value == "POLYLINE"
    np.testing.assert_array_equal(
        data, [[2.5, 1.5], [5.5, 1.5], [5.5, 3.5], [2.5, 3.5], [2.5, 1.5]]
    )
    ellipse = Annotation(Kind.ELLIPSE, ref, ((10.0, 4.0), (2.0, 24.0)))  # wider than tall
    graphic_type, data = scoord(ellipse)
    assert graphic_type.value == "ELLIPSE"
    np.testing.assert_array_equal(data, [[4.5, 6.5], [24.5, 6.5], [14.5, 10.5], [14.5, 2.5]])
    back = points_from_scoord(Kind.ELLIPSE, "ELLIPSE", scoord_points(data))
    assert back == [(10.0, 4.0), (2.0, 24.0)]


def test_foreign_regions_get_a_sensible_kind(study: MarkedStudy, tmp_path: Path):
    """An SR without SpineViewer's shape codes still reads back (shape from the geometry)."""
    path = export_sr(study.annotations, study.headers, tmp_path / "sr.dcm")
    ds = pydicom.dcmread(path)

    def strip(item):
        keep = [
            child
            for child in item.get("ContentSequence", [])
            if child.ConceptNameCodeSequence[0].CodingSchemeDesignator != "99SPV"
        ]
        for child in keep:
            strip(child)
        if "ContentSequence" in item:
            item.ContentSequence = keep

    strip(ds)
    ds.save_as(tmp_path / "foreign.dcm")
    kinds = {a.uid: a.kind for a in import_sr(tmp_path / "foreign.dcm")}
    expected = {
        Kind.RECTANGLE: Kind.POLYGON,
        Kind.FREEHAND: Kind.POLYGON,
        Kind.ARROW: Kind.LINE,
    }
    for a in study.annotations:
        assert kinds[a.uid] == expected.get(a.kind, a.kind)


def test_missing_header_and_several_studies_are_refused(study: MarkedStudy, tmp_path: Path):
    with pytest.raises(KeyError, match="no source header"):
        export_sr(study.annotations, {}, tmp_path / "x.dcm")
    other = replace(study.annotations[0], uid="other")
    headers = dict(study.headers)
    foreign = copy.deepcopy(headers[other.image.sop_instance_uid])
    foreign.StudyInstanceUID = "1.2.3.4"
    foreign.SOPInstanceUID = "1.2.3.4.5"
    headers[foreign.SOPInstanceUID] = foreign
    moved = replace(other, image=replace(other.image, sop_instance_uid="1.2.3.4.5"))
    with pytest.raises(ValueError, match="2 studies"):
        export_sr([study.annotations[0], moved], headers, tmp_path / "x.dcm")
    with pytest.raises(ValueError, match="no annotations"):
        export_sr([], study.headers, tmp_path / "x.dcm")


def test_never_writes_beside_the_sources(study: MarkedStudy):
    source_dir = Path(study.headers[study.annotations[0].image.sop_instance_uid].filename).parent
    with pytest.raises(ValueError, match="beside the source"):
        export_sr(study.annotations, study.headers, source_dir / "sr.dcm")
    assert not (source_dir / "sr.dcm").exists()


def test_sources_are_byte_identical(study: MarkedStudy, exported):
    _, before = exported
    import_sr(exported[0], planes=study.planes)
    assert tree_hashes(study.folder) == before


@pytest.mark.tools
def test_dciodvfy_reports_no_errors(exported):
    path, _ = exported
    assert dciodvfy_errors(path) == []


@pytest.mark.tools
def test_dsrdump_reads_the_findings(study: MarkedStudy, exported):
    path, _ = exported
    text = run_tool("dsrdump", str(path))
    assert "Imaging Measurement Report" in text
    assert "L4/L5 disc" in text
    assert "Intervertebral disc herniation" in text
    assert '"Cobb angle")=' in text
    line = next(a for a in study.annotations if a.kind == Kind.LINE)
    assert f'"{round(length_mm(line).value, 6)}" (mm,UCUM' in text
    assert "disc-classifier" in text and "Device Observer UID" in text


def test_frames_of_a_multiframe_image_are_referenced_by_number(tmp_path: Path):
    """Enhanced MR (10 frames, pydicom-data): the frame number survives the round trip."""
    import shutil

    from pydicom.data import get_testdata_file

    from spineviewer.annotations.frames import image_ref, source_headers
    from spineviewer.dicom import scan

    source = get_testdata_file("emri_small.dcm")
    if source is None:
        pytest.skip("pydicom-data's emri_small.dcm is not installed")
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(source, folder / "emri.dcm")
    [stack] = scan(folder).stacks()
    ref = image_ref(stack, 6)
    assert ref.frame_number == 7
    mark = Annotation.create("line", ref, [(10, 10), (30, 40)], stack.plane_of(6), label="L1")
    path = export_sr([mark], source_headers([stack]), tmp_path / "out" / "sr.dcm")
    region = hd.sr.srread(path).content.get_planar_roi_measurement_groups()[0].roi
    assert region.ContentSequence[0].ReferencedSOPSequence[0].ReferencedFrameNumber == 7
    [back] = import_sr(path)
    assert (back.image.sop_instance_uid, back.image.frame_number) == (ref.sop_instance_uid, 7)


@pytest.fixture(scope="module")
def radiograph_sr(tmp_path_factory: pytest.TempPathFactory):
    xr = marked_radiograph(tmp_path_factory.getbasetemp() / "xr")
    before = tree_hashes(xr.folder)
    path = export_sr(xr.annotations, xr.headers, tmp_path_factory.mktemp("xr-sr") / "sr.dcm")
    return xr, path, before


def test_radiograph_round_trip_without_patient_points(radiograph_sr):
    xr, path, before = radiograph_sr
    back = by_uid(import_sr(path))
    for a in xr.annotations:
        assert a.points_mm is None
        got = back[a.uid]
        assert (got.kind, got.label, got.provenance.source) == (
            a.kind,
            a.label,
            a.provenance.source,
        )
        np.testing.assert_allclose(got.points, a.points, atol=0.01)
    assert tree_hashes(xr.folder) == before
    # Lengths still come in mm from the detector pixel spacing.
    line = next(a for a in xr.annotations if a.kind == Kind.LINE)
    group = hd.sr.srread(path).content.get_planar_roi_measurement_groups(
        tracking_uid=tracking_uid(line.uid)
    )[0]
    [length] = group.get_measurements()
    assert float(length.value) == pytest.approx(400 * line.image.pixel_spacing[0])


@pytest.mark.tools
def test_dciodvfy_accepts_the_radiograph_sr(radiograph_sr):
    _, path, _ = radiograph_sr
    assert dciodvfy_errors(path) == []


def test_headers_of_the_annotated_images_are_enough(study: MarkedStudy, tmp_path: Path):
    from spineviewer.annotations.frames import source_headers

    wanted = {a.image.sop_instance_uid for a in study.annotations}
    headers = source_headers(study.stacks, only=wanted)
    assert set(headers) == wanted
    assert all("PixelData" not in ds for ds in headers.values())
    path = export_sr(study.annotations, headers, tmp_path / "sr.dcm")
    assert len(import_sr(path)) == len(study.annotations)
