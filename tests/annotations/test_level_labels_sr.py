"""Vertebra labels of the labelling tool, shifted by one level (L6 and its discs included), go
out in the DICOM SR with their codes and come back with the same names."""

from __future__ import annotations

from pathlib import Path

import pytest
from exchange_helpers import dciodvfy_errors, marked_study, run_tool

from spineviewer.annotations.annotation import Annotation, Kind, Provenance, Status
from spineviewer.annotations.commands import UndoStack, shift_levels
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.frames import image_ref
from spineviewer.annotations.level_names import DOWN, UP
from spineviewer.annotations.sr import export_sr, import_sr

LEVELS = ("L1", "L2", "L3", "L4", "L5", "S1")


@pytest.fixture(scope="module")
def labelled(demo_study_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Point labels down the middle sagittal slice and a disc ellipse, shifted down once (S1
    stays, L5 becomes L6), exported and read back."""
    study = marked_study(demo_study_dir)
    sagittal = next(st for st in study.stacks if st.plane == "sagittal")
    axial = next(st for st in study.stacks if st.plane == "axial")
    index = len(sagittal) // 2
    ref, plane = image_ref(sagittal, index), sagittal.plane_of(index)
    points = [
        Annotation.create(Kind.POINT, ref, [(60.0 + 30 * i, 150.0)], plane, label=level)
        for i, level in enumerate(LEVELS)
    ]
    model = Provenance.model("vertebra-detector", "1.0", 0.7)
    doubts = [
        Annotation.create(
            Kind.RECTANGLE,
            ref,
            [(200.0, 100.0 + 20 * i), (215.0, 115.0 + 20 * i)],
            plane,
            label=label,
            status=Status.PROPOSED,
            provenance=model,
            review=review,
            review_reasons=("no sacrum in view",),
        )
        for i, (label, review) in enumerate(
            [("T12", "confident"), ("T11", "uncertain"), ("T10", "needs review")]
        )
    ]
    disc = Annotation.create(
        Kind.ELLIPSE,
        image_ref(axial, 0),
        [(90.0, 95.0), (140.0, 150.0)],
        axial.plane_of(0),
        label="L5-S1",
        state="bulge",
    )
    doc = AnnotationDocument(ref.study_uid, annotations=[*points, disc, *doubts])
    UndoStack(doc).push(shift_levels(doc, DOWN))
    path = export_sr(list(doc), study.headers, tmp_path_factory.mktemp("sr") / "labels.dcm")
    back = import_sr(path, planes=study.planes, images=study.images)
    return study, doc, path, {a.uid: a for a in back}


def test_shifted_labels_round_trip(labelled) -> None:
    _, doc, _, back = labelled
    assert set(back) == {a.uid for a in doc}
    assert sorted(a.label for a in doc if not a.review) == sorted(
        ["L2", "L3", "L4", "L5", "L6", "S1", "L6-S1"]
    )
    assert sorted(a.label for a in doc if a.review) == ["L1", "T11", "T12"]  # shifted too
    for a in doc:
        got = back[a.uid]
        assert (got.kind, got.label, got.state) == (a.kind, a.label, a.state)
        assert (got.status, got.review) == (a.status, a.review)
        assert got.points_mm is not None and a.points_mm is not None
    reviews = {back[a.uid].review for a in doc if a.review}
    assert reviews == {"confident", "uncertain", "needs review"}


def test_shifting_back_up_after_import_gives_the_first_names(labelled) -> None:
    _, doc, _, back = labelled
    again = AnnotationDocument(doc.study_uid, annotations=back.values())
    UndoStack(again).push(shift_levels(again, UP))
    assert sorted(a.label for a in again if a.kind == Kind.POINT) == sorted(
        ["L1", "L2", "L3", "L4", "L5", "L6"]
    )  # S1 went up to L6: the column now has six lumbar vertebrae
    assert next(a.label for a in again if a.kind == Kind.ELLIPSE) == "L5-L6"


@pytest.mark.tools
def test_dciodvfy_and_dsrdump_read_the_level_codes(labelled) -> None:
    _, _, path, _ = labelled
    assert dciodvfy_errors(path) == []
    text = run_tool("dsrdump", str(path))
    assert "Sixth lumbar vertebra" in text and "SPV-VERT-L6" in text
    assert "L6/S1 disc (transitional)" in text
    assert "L4 vertebra" in text
    assert "AI review need" in text and "Needs review" in text
