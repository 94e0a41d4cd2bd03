"""Key images as a KOS and marks as a GSPS on the demo phantom: valid DICOM (dciodvfy, dcmtk's
dsrdump), read back to the same images and the same marks (within 0.5 px), the view's window,
zoom, flip and turn kept; a GSPS from another system is read as plain graphics and text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from exchange_helpers import MarkedStudy, dciodvfy_errors, marked_study, run_tool

from spineviewer.annotations.annotation import Annotation, Kind, Status
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.export import export_study
from spineviewer.annotations.gsps import View, display_matrix, export_gsps, flip_and_rotation
from spineviewer.annotations.gsps_read import read_gsps
from spineviewer.annotations.kos import export_kos, read_kos
from spineviewer.viewing.display_transform import DisplayTransform


@pytest.fixture(scope="module")
def study(demo_study_dir: Path) -> MarkedStudy:
    return marked_study(demo_study_dir)


def accepted(study: MarkedStudy) -> list[Annotation]:
    """Every kind, the Cobb angle accepted too (it is rejected in the shared set)."""
    return [
        a if a.status != Status.REJECTED else replace(a, status=Status.ACCEPTED)
        for a in study.annotations
    ]


def test_kos_is_valid_and_reads_back_the_key_images(study: MarkedStudy, tmp_path: Path) -> None:
    marks = accepted(study)
    uids = list(dict.fromkeys(a.image.sop_instance_uid for a in marks))
    path = export_kos([study.headers[u] for u in uids], tmp_path / "kos.dcm")
    assert dciodvfy_errors(path) == []
    dump = run_tool("dsrdump", str(path))
    assert "Key Object Selection Document" in dump and '"Of Interest"' in dump
    assert dump.count("IMAGE:") == len(uids)
    keys = read_kos(path)
    assert (keys.title_code, keys.title) == ("113000", "Of Interest")
    assert [k.sop_instance_uid for k in keys.images] == uids
    assert {k.series_uid for k in keys.images} == {a.image.series_uid for a in marks}
    assert {r.sop_instance_uid for r in keys.refs(study.images)} == set(uids)


def test_gsps_is_valid_and_restores_the_same_marks(study: MarkedStudy, tmp_path: Path) -> None:
    marks = accepted(study)
    sagittal = marks[0].image.series_uid
    view = View(windows={sagittal: (300.0, 700.0)}, magnification=2.0, horizontal_flip=True,
                rotation=90)  # fmt: skip
    path = export_gsps(marks, study.headers, tmp_path / "gsps.dcm", view=view)
    assert dciodvfy_errors(path) == []
    state = read_gsps(path, study.images, study.planes)
    assert state.skipped == []
    back = {a.uid: a for a in state.annotations}
    assert set(back) == {a.uid for a in marks}
    for mark in marks:
        got = back[mark.uid]
        assert got.kind == mark.kind and got.image == mark.image
        assert np.abs(np.subtract(got.points, mark.points)).max() < 0.5, mark.kind
        assert (got.label, got.state, got.text) == (mark.label, mark.state, mark.text)
        assert got.points_mm is not None and mark.points_mm is not None
        assert np.abs(np.subtract(got.points_mm, mark.points_mm)).max() < 0.5
    sag_image = marks[0].image.sop_instance_uid
    assert state.windows[sag_image] == (300.0, 700.0)
    assert (state.view.magnification, state.view.horizontal_flip, state.view.rotation) == (
        2.0, True, 90,
    )  # fmt: skip


def test_gsps_of_several_image_sizes_has_a_displayed_area_for_each(
    study: MarkedStudy, tmp_path: Path
) -> None:
    marks = accepted(study)
    path = export_gsps(marks, study.headers, tmp_path / "gsps.dcm")
    ds = pydicom.dcmread(path)
    sizes = {(int(study.headers[a.image.sop_instance_uid].Columns),
              int(study.headers[a.image.sop_instance_uid].Rows)) for a in marks}  # fmt: skip
    areas = {tuple(int(v) for v in item.DisplayedAreaBottomRightHandCorner)
             for item in ds.DisplayedAreaSelectionSequence}  # fmt: skip
    assert areas == sizes
    referenced = {
        str(i.ReferencedSOPInstanceUID)
        for s in ds.ReferencedSeriesSequence
        for i in s.ReferencedImageSequence
    }
    assert referenced == {a.image.sop_instance_uid for a in marks}


def test_a_foreign_gsps_is_read_as_graphics_and_text(study: MarkedStudy, tmp_path: Path) -> None:
    header = study.headers[study.annotations[0].image.sop_instance_uid]
    layer = hd.pr.GraphicLayer(layer_name="OTHER", order=1)
    units = hd.pr.AnnotationUnitsValues
    line = hd.pr.GraphicObject(hd.pr.GraphicTypeValues.POLYLINE,
                               np.array([[10.5, 20.5], [60.5, 80.5]]), units.PIXEL)  # fmt: skip
    dot = hd.pr.GraphicObject(hd.pr.GraphicTypeValues.POINT, np.array([[0.5, 0.25]]),
                              units.DISPLAY)  # fmt: skip
    text = hd.pr.TextObject("disc bulge", units.PIXEL, anchor_point=(100.5, 50.5))
    item = hd.pr.GraphicAnnotation([header], layer, graphic_objects=[line, dot],
                                   text_objects=[text])  # fmt: skip
    gsps = hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=[header], series_instance_uid=hd.UID(), series_number=1,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="Other PACS",
        manufacturer_model_name="X", software_versions="1", device_serial_number="1",
        content_label="THEIRS", graphic_annotations=[item], graphic_layers=[layer],
    )  # fmt: skip
    path = tmp_path / "foreign.dcm"
    gsps.save_as(path, enforce_file_format=True)
    state = read_gsps(path, study.images, study.planes)
    kinds = sorted((a.kind, a.text) for a in state.annotations)
    assert kinds == [(Kind.LINE, ""), (Kind.POINT, ""), (Kind.POINT, "disc bulge")]
    line_mark = next(a for a in state.annotations if a.kind == Kind.LINE)
    assert np.allclose(line_mark.points, [(20.0, 10.0), (80.0, 60.0)])
    dot_mark = next(a for a in state.annotations if a.kind == Kind.POINT and not a.text)
    rows, cols = int(header.Rows), int(header.Columns)
    assert np.allclose(dot_mark.points, [(0.25 * rows - 0.5, 0.5 * cols - 0.5)])
    assert state.label == "THEIRS"


def test_not_a_gsps_or_kos_is_refused_with_the_file_named(
    study: MarkedStudy, tmp_path: Path
) -> None:
    source = next(iter(study.headers.values())).filename
    with pytest.raises(ValueError, match="not a Grayscale Softcopy Presentation State"):
        read_gsps(source, study.images)
    with pytest.raises(ValueError, match="not a Key Object Selection"):
        read_kos(source)
    junk = tmp_path / "junk.dcm"
    junk.write_text("not dicom")
    with pytest.raises(ValueError, match=r"junk\.dcm"):
        read_gsps(junk, study.images)


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("quarters", [0, 1, 2, 3])
def test_the_viewer_turn_and_flip_is_the_gsps_flip_and_rotation(flip: bool, quarters: int) -> None:
    shown = DisplayTransform(4, 6)
    shown = shown.flipped() if flip else shown
    for _ in range(quarters):
        shown = shown.rotated()
    assert flip_and_rotation(shown.matrix) == (flip, 90 * quarters)
    assert display_matrix(flip, 90 * quarters) == shown.matrix


def test_annotation_export_writes_kos_and_gsps(study: MarkedStudy, tmp_path: Path) -> None:
    doc = AnnotationDocument(study.annotations[0].image.study_uid,
                             annotations=list(study.annotations))  # fmt: skip
    result = export_study(doc, study.stacks, tmp_path / "out", ["kos", "gsps"])
    assert [p.name for p in result.files] == ["key_images_kos.dcm", "presentation_state_gsps.dcm"]
    state = read_gsps(result.files[1], study.images, study.planes)
    # a GSPS presents what a reader made or accepted: no proposal, nothing rejected
    want = {a.uid for a in study.annotations if a.status in (Status.ACCEPTED, Status.EDITED)}
    assert {a.uid for a in state.annotations} == want
    keys = read_kos(result.files[0])
    on = {a.image.sop_instance_uid for a in study.annotations if a.status != Status.REJECTED}
    assert {k.sop_instance_uid for k in keys.images} == on
