"""Vertebra labels propagated through DICOM geometry on the real phantom study: the sagittal
slices show the bodies they cut, the axial slices land on the phantom's true disc levels, and
after a shift they carry the shifted names."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from spineviewer.annotations.commands import UndoStack, shift_levels
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.frames import image_ref
from spineviewer.annotations.level_marks import (
    LATERAL_HALF_WIDTH_MM,
    body_marks,
    marks_on_plane,
    nearest_body,
    nearest_disc,
    plane_level,
    runs_across,
)
from spineviewer.annotations.levels import UP, shift_mapping, shifted_label
from spineviewer.annotations.model import Annotation, Kind, Provenance, Status
from spineviewer.dicom import Stack, scan
from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.truth import StudyGroundTruth


@pytest.fixture(scope="module")
def phantom(demo_study_dir: Path) -> tuple[StudyGroundTruth, dict[str, list[Stack]]]:
    truth = load_ground_truth(demo_study_dir)
    stacks = scan(demo_study_dir).stacks()
    roles = {
        s.role: [st for st in stacks if st.series_uid == s.series_instance_uid]
        for s in truth.series
    }
    return truth, roles


def frames_of(stacks: list[Stack]):
    """(plane, SOP Instance UID) of every frame of a series (an angled one has several
    stacks)."""
    for stack in stacks:
        for index, frame in enumerate(stack.frames):
            yield stack.plane_of(index), frame.instance.sop_instance_uid


def labels_at_truth(truth: StudyGroundTruth, sagittal: Stack) -> list[Annotation]:
    """A point label on each true body centre, on the middle sagittal slice (as a reader would
    click them)."""
    index = len(sagittal) // 2
    plane = sagittal.plane_of(index)
    assert plane is not None
    ref = image_ref(sagittal, index)
    out = []
    for v in truth.vertebrae:
        row, col = (float(x) for x in plane.to_pixel(v.centre_mm))
        out.append(Annotation.create(Kind.POINT, ref, [(row, col)], plane, label=v.label))
    return out


def test_sagittal_slices_show_the_bodies_they_cut(phantom) -> None:
    truth, roles = phantom
    [sagittal] = roles["sagittal_t2"]
    marks = body_marks(
        labels_at_truth(truth, sagittal), sagittal.first.instance.frame_of_reference_uid
    )
    assert [m.label for m in marks] == [v.label for v in truth.vertebrae]  # top to bottom
    middle = len(sagittal) // 2
    shown_counts = []
    for index in range(len(sagittal)):
        plane = sagittal.plane_of(index)
        assert plane is not None and not runs_across(plane, marks)
        shown = marks_on_plane(marks, plane)
        expected = [m.label for m in marks if abs(float(plane.distance(m.centre_mm))) <= 15.0]
        assert [s.mark.label for s in shown] == expected
        shown_counts.append(len(shown))
        for s in shown:  # drawn where the body centre projects
            truth_centre = truth.vertebra(s.mark.label).centre_mm
            row, col = plane.to_pixel(truth_centre)
            assert abs(s.row - float(row)) < 0.01 and abs(s.col - float(col)) < 0.01
    # shown on the neighbours of the slice it was placed on, not on the far lateral slices
    assert shown_counts[middle] == len(marks)
    assert shown_counts[middle - 1] == shown_counts[middle + 1] == len(marks)
    assert min(shown_counts) == 0
    spacing = abs(float(sagittal.plane_of(1).distance(sagittal.plane_of(0).origin)))
    assert spacing * (len(sagittal) // 2) > LATERAL_HALF_WIDTH_MM  # the test can see a cut-off


@pytest.mark.parametrize("role", ["axial_t2_angled", "axial_t2_stack"])
def test_axial_slices_land_on_the_true_disc_level_and_follow_a_shift(phantom, role) -> None:
    truth, roles = phantom
    [sagittal], axial = roles["sagittal_t2"], roles[role]
    doc = AnnotationDocument(truth.study_instance_uid, annotations=labels_at_truth(truth, sagittal))
    frame = sagittal.first.instance.frame_of_reference_uid
    assert all(st.first.instance.frame_of_reference_uid == frame for st in axial)
    on_axial = {a.sop_instance_uid: a for a in truth.axial_levels}

    def compare(rename: dict[str, str]) -> int:
        """Slices clearly at a disc get its (renamed) level, those clearly off a disc none."""
        marks = body_marks(doc, frame)
        at_disc = 0
        for plane, sop in frames_of(axial):
            expected = on_axial[sop]
            found = plane_level(marks, plane)
            if expected.level is not None and expected.distance_mm <= 4.0:
                assert found is not None and found.kind == "disc", sop
                assert found.level == shifted_label(expected.level, rename), sop
                at_disc += 1
            elif expected.distance_mm >= 6.5:
                assert found is None or found.kind == "vertebra", sop
        return at_disc

    assert compare({}) >= 10
    # one shift up renames every axial slice's level (the AI's "no sacrum in view" fix)
    UndoStack(doc).push(shift_levels(doc, UP))
    mapping = shift_mapping([v.label for v in truth.vertebrae], UP)
    assert mapping["L5"] == "L4"
    assert compare(mapping) >= 10


def test_axial_stack_slices_between_discs_name_their_body(phantom) -> None:
    truth, roles = phantom
    [sagittal], [axial] = roles["sagittal_t2"], roles["axial_t2_stack"]
    marks = body_marks(
        labels_at_truth(truth, sagittal), sagittal.first.instance.frame_of_reference_uid
    )
    bodies = 0
    for index in range(len(axial)):
        plane = axial.plane_of(index)
        found = plane_level(marks, plane)
        if found is None or found.kind != "vertebra":
            continue
        bodies += 1
        # the nearest body centre along the slice normal, no disc centre within the threshold
        distances = {m.label: abs(float(plane.distance(m.centre_mm))) for m in marks}
        assert found.level == min(distances, key=distances.__getitem__)
    assert bodies >= 3


def test_other_frames_rejected_marks_and_proposals(phantom) -> None:
    truth, roles = phantom
    [sagittal] = roles["sagittal_t2"]
    frame = sagittal.first.instance.frame_of_reference_uid
    labels = labels_at_truth(truth, sagittal)
    l3 = next(a for a in labels if a.label == "L3")
    elsewhere = replace(l3, image=replace(l3.image, frame_of_reference_uid="1.2.3", series_uid="9"))
    rejected = replace(labels[0], status=Status.REJECTED)
    proposal = replace(
        l3,
        uid="ai-l3",
        points_mm=tuple((x, y + 40.0, z) for x, y, z in l3.points_mm or ()),
        status=Status.PROPOSED,
        provenance=Provenance.model("vertebra-detector", "1.0", 0.5),
        review="needs review",
    )
    marks = body_marks([*labels[1:], rejected, elsewhere, proposal], frame)
    assert [m.label for m in marks] == [v.label for v in truth.vertebrae[1:]]
    by_label = {m.label: m for m in marks}
    # the person's L3 wins over the AI's proposal of the same level
    assert by_label["L3"].uids == (l3.uid,)
    assert np.allclose(by_label["L3"].centre_mm, np.mean(l3.points_mm, axis=0))
    assert by_label["L3"].review == ""
    only_ai = body_marks([proposal], frame)
    assert only_ai[0].review == "needs review" and only_ai[0].uids == ("ai-l3",)
    assert body_marks([elsewhere], frame) == ()


def test_nearest_disc_names_the_true_disc_centres(phantom) -> None:
    truth, roles = phantom
    [sagittal] = roles["sagittal_t2"]
    marks = body_marks(
        labels_at_truth(truth, sagittal), sagittal.first.instance.frame_of_reference_uid
    )
    for disc in truth.discs:
        assert nearest_disc(marks, disc.centre_mm) == disc.level
    for body in truth.vertebrae:
        assert nearest_body(marks, np.add(body.centre_mm, (8.0, 0.0, 3.0))) == body.label
    far = np.add(truth.vertebra("T11").centre_mm, (0.0, 0.0, 60.0))
    assert nearest_disc(marks, far) is None and nearest_body(marks, far) is None
    assert nearest_body((), far) is None
