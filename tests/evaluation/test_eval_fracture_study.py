"""Compression fractures of the evaluation generator (``lumbar-mr-fracture`` studies).

One study is rendered (seed 745097: slot 17, T2, T1 and STIR sagittals, field L2-S1, an acute
grade-1 wedge); the rest works on plans (no rendering) and on label maps of one fractured body
drawn on a fine grid. Seeds 745000 on: clear of the fracture evaluation's 730000-730039.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pydicom
import pytest

from spineviewer.dicom import scan
from spineviewer.evaluation.case_mix import case_for
from spineviewer.evaluation.column import Body
from spineviewer.evaluation.dicom_file import StudyIds
from spineviewer.evaluation.fracture_case_mix import fracture_case_for, fracture_levels
from spineviewer.evaluation.fracture_shape import GRADE_LOSS, genant_grade, measure_points
from spineviewer.evaluation.fracture_study import (
    fracture_study_folder_name,
    plan_fracture_study,
    write_fracture_study,
)
from spineviewer.evaluation.label_map import label_entries, label_shapes
from spineviewer.evaluation.render import StackGeometry, label_stack
from spineviewer.evaluation.study import plan_study
from spineviewer.evaluation.truth_reader import read_truth

from .conftest import EvalStudy, mean_near

STUDY_SEED = 745097
#: The fine grid the heights are measured on (mm).
FINE_MM = 0.1


@pytest.fixture(scope="module")
def fracture_study(tmp_path_factory: pytest.TempPathFactory) -> EvalStudy:
    folder = write_fracture_study(tmp_path_factory.mktemp("fracture"), STUDY_SEED)
    return EvalStudy(folder, json.loads((folder / "ground_truth.json").read_text()))


@pytest.mark.parametrize("start", [745000, 745020, 745007])
def test_twenty_consecutive_seeds_hold_the_fracture_case_mix(start: int) -> None:
    cases = [fracture_case_for(seed) for seed in range(start, start + 20)]
    assert sum(bool(c.fractures) for c in cases) == 10
    assert Counter(len(c.fractures) for c in cases) == {0: 10, 1: 5, 2: 5}
    assert {c.case.fov for c in cases if c.fractures} == {"T10-S1", "L1-S1", "L2-S1", "T10-L5"}
    for c in cases:  # the rest is the lumbar MR case of the seed
        assert c.case == case_for(c.seed)
    if start % 20 == 0:  # a block: grades, morphologies and acute ones spread evenly
        fractures = [f for c in cases for f in c.fractures]
        assert Counter(g for g, _, _ in fractures) == {1: 5, 2: 5, 3: 5}
        assert Counter(m for _, m, _ in fractures) == {"wedge": 5, "biconcave": 5, "crush": 5}
        assert Counter(g for g, _, acute in fractures if acute) == {1: 2, 2: 2, 3: 2}
        assert max(Counter((g, m) for g, m, _ in fractures).values()) <= 2


def test_sixty_seeds_hold_every_grade_with_every_morphology_five_times() -> None:
    fractures = [f for s in range(745020, 745080) for f in fracture_case_for(s).fractures]
    assert set(Counter((g, m) for g, m, _ in fractures).values()) == {5}


def test_drawn_fractures_lie_in_view_and_in_their_grade() -> None:
    for seed in range(745000, 745020):
        plan = plan_fracture_study(seed)
        fractured = [b for b in plan.study.anatomy.column.bodies if b.fracture is not None]
        assert len(fractured) == len(plan.fracture_case.fractures)
        for body in fractured:
            assert body.fracture is not None
            spec = body.fracture.spec
            assert body.label in fracture_levels(plan.study.case)
            low, high = GRADE_LOSS[spec.grade]
            assert low <= body.fracture.height_loss <= high
            assert abs(body.fracture.height_loss - spec.height_loss) < 1e-3
            assert genant_grade(body.fracture.height_loss) == spec.grade
            assert body.height < body.fracture.intact[0] + 1e-6


def test_the_same_seed_gives_the_same_fractures() -> None:
    a, b = plan_fracture_study(745008), plan_fracture_study(745008)
    assert a.fracture_case == b.fracture_case
    for x, y in zip(a.study.anatomy.column.bodies, b.study.anatomy.column.bodies, strict=True):
        assert x.label == y.label
        assert x.centre == pytest.approx(y.centre, abs=1e-9)
        assert x.height == pytest.approx(y.height, abs=1e-9)
        assert (x.fracture is None) == (y.fracture is None)
        if x.fracture is not None and y.fracture is not None:
            assert x.fracture.spec == y.fracture.spec


def test_lumbar_mr_and_ct_plans_never_fracture() -> None:
    for seed in (700000, 700005, 700007, 730000, 745097):
        plan = plan_study(seed)
        assert plan.case.plan.fractures == ()
        assert all(b.fracture is None for b in plan.anatomy.column.bodies)


def test_an_existing_seed_renders_the_pixels_it_always_had(
    eval_studies: dict[str, EvalStudy],
) -> None:
    """Seed 700007's middle sagittal T2 image, pinned before fractures existed (integer stored
    values: their sum and three pixels)."""
    study = eval_studies["no_sacrum"]
    images = study.series("sagittal_t2")["images"]
    middle = images[len(images) // 2]
    assert middle["file"] == "S01_sagittal_t2/IM00008.dcm"
    pixels = pydicom.dcmread(study.path / middle["file"]).pixel_array
    assert pixels.shape == (256, 256)
    assert int(pixels.astype(np.int64).sum()) == 68826893
    assert int(pixels[100, 100]) == 788
    assert int(pixels.max()) == 2748


def _heights(body: Body, shapes: Any, value: int) -> list[float]:
    """Anterior, middle and posterior heights (mm) of ``body`` counted on a label map of its
    mid-sagittal plane at :data:`FINE_MM` pixels."""
    half_depth, half_height = body.depth / 2 + 6, body.height / 2 + 8
    y_dir, z_dir = body.frame.axes[1], body.frame.axes[2]
    origin = body.centre - y_dir * half_depth + z_dir * half_height
    shape = (round(2 * half_height / FINE_MM) + 1, round(2 * half_depth / FINE_MM) + 1)
    geometry = StackGeometry(origin, y_dir, -z_dir, (FINE_MM, FINE_MM), shape, 1, 1.0, 1.0)
    labels = label_stack(geometry, shapes)[0]
    out = []
    for y in measure_points(body.depth):
        column = round((y + half_depth) / FINE_MM)
        out.append(float((labels[:, column] == value).sum()) * FINE_MM)
    return out


@pytest.mark.parametrize("seed", [745000, 745001, 745007, 745010])
def test_the_height_loss_measured_on_the_label_map_is_the_grade(seed: int) -> None:
    fractured = plan_fracture_study(seed).study.anatomy
    intact = plan_fracture_study(seed, with_fractures=False).study.anatomy
    values = {e.name: e.value for e in label_entries(fractured.column)}
    shapes = label_shapes(fractured.column, fractured.primitives)
    intact_shapes = label_shapes(intact.column, intact.primitives)
    checked = 0
    for body, twin in zip(fractured.column.bodies, intact.column.bodies, strict=True):
        if body.fracture is None:
            continue
        h = _heights(body, shapes, values[body.label])
        h0 = _heights(twin, intact_shapes, values[body.label])
        loss = max(1 - a / b for a, b in zip(h, h0, strict=True))
        assert h0 == pytest.approx(list(body.fracture.intact_heights), abs=2 * FINE_MM)
        assert loss == pytest.approx(body.fracture.height_loss, abs=0.015), body.label
        assert genant_grade(loss) == body.fracture.spec.grade, (body.label, loss)
        checked += 1
    assert checked == len(plan_fracture_study(seed).fracture_case.fractures) > 0


def test_the_study_has_its_own_name_and_identifiers(fracture_study: EvalStudy) -> None:
    truth = fracture_study.truth
    assert fracture_study.path.name == fracture_study_folder_name(STUDY_SEED)
    assert fracture_study.path.name == "eval-lumbar-mr-fracture-745097"
    mr = StudyIds.for_seed(STUDY_SEED, "x", 1.5)
    assert truth["study_instance_uid"] != mr.study_uid
    assert truth["frame_of_reference_uid"] != mr.frame_of_reference_uid
    assert (
        truth["kind"] == "lumbar-mr" and truth["parameters"]["study_kind"] == "lumbar-mr-fracture"
    )
    result = scan(fracture_study.path)
    assert [s.uid for s in result.studies] == [truth["study_instance_uid"]]
    listed = {i["sop_instance_uid"] for s in truth["series"] for i in s["images"]}
    for role in ("sagittal_t2", "sagittal_stir"):
        for ds in fracture_study.datasets(role):
            assert ds.SOPInstanceUID in listed
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
            assert ds.PatientID == "EV-FRACTURE-745097"
            assert ds.FrameOfReferenceUID == truth["frame_of_reference_uid"]
    label_map = truth["label_map"]
    assert (fracture_study.path / label_map["file"]).is_file()
    sagittal = {s["series_instance_uid"] for s in truth["series"] if s["plane"] == "sagittal"}
    assert label_map["series_instance_uid"] in sagittal


def test_the_truth_lists_each_fracture_and_reads_back(fracture_study: EvalStudy) -> None:
    truth = fracture_study.truth
    fractured = [v for v in truth["vertebrae"] if v["genant_grade"] > 0]
    assert [(v["genant_grade"], v["fracture"], v["fracture_acute"]) for v in fractured] == [
        (1, "wedge", True)
    ]
    assert all(
        v["fracture"] is None and v["height_loss"] == 0
        for v in truth["vertebrae"]
        if v not in fractured
    )
    read = read_truth(fracture_study.path)
    grades = {b.label: b.genant_grade for b in read.bodies}
    assert grades[fractured[0]["label"]] == 1
    assert sum(grades.values()) == 1
    body = next(b for b in read.bodies if b.label == fractured[0]["label"])
    assert body.fracture == "wedge" and body.acute is True
    assert body.height_loss == pytest.approx(fractured[0]["height_loss"])
    assert read.kind == "standard"


def test_acute_oedema_is_bright_on_stir_and_dark_on_t1(fracture_study: EvalStudy) -> None:
    """Marrow between the oedema's edge and the fracture line, against the same place in the
    intact bodies below (the neighbours' mean)."""
    truth = fracture_study.truth
    broken = next(v for v in truth["vertebrae"] if v["genant_grade"] > 0)
    plan = plan_fracture_study(STUDY_SEED)
    bodies = {b.label: b for b in plan.study.anatomy.column.bodies}
    body = bodies[broken["label"]]
    assert body.fracture is not None
    spec = body.fracture.spec
    top = body.height / 2
    low = top - spec.oedema_reach * body.height + 2.5  # past the oedema's soft edge
    high = top - spec.line_depth_mm - 1.5  # under the fracture line
    z = (max(low, -top + 3) + high) / 2
    assert high - z > 0.5

    def sample(role: str, label: str) -> float:
        b = bodies[label]
        point = b.frame.to_patient(np.array([0.0, 0.0, z if label == body.label else 0.0]))
        return mean_near(fracture_study.datasets(role), point, 1, 1)

    labels = [b for b in ("L3", "L4", "L5") if b != body.label][:2]
    for role, brighter in (("sagittal_stir", True), ("sagittal_t1", False)):
        own = sample(role, body.label)
        others = float(np.mean([sample(role, b) for b in labels]))
        if brighter:
            assert own > 1.4 * others, (role, own, others)
        else:
            assert own < 0.85 * others, (role, own, others)


def test_the_written_label_map_shows_the_lower_body(fracture_study: EvalStudy) -> None:
    """The study's labels.nii.gz is the fractured anatomy's label map on the sagittal grid, and
    the fractured body has fewer voxels there than its intact twin on the same grid."""
    import SimpleITK as sitk

    truth = fracture_study.truth
    path = fracture_study.path / truth["label_map"]["file"]
    written = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    plan = plan_fracture_study(STUDY_SEED)
    twin = plan_fracture_study(STUDY_SEED, with_fractures=False).study.anatomy
    anatomy = plan.study.anatomy
    geometry = plan.study.protocol.sagittal[0].stacks[0]
    drawn = label_stack(geometry, label_shapes(anatomy.column, anatomy.primitives))
    assert np.array_equal(written, drawn)
    intact = label_stack(geometry, label_shapes(twin.column, twin.primitives))
    value = truth["label_map"]["values"][
        next(v["label"] for v in truth["vertebrae"] if v["genant_grade"])
    ]
    ratio = float((written == value).sum()) / float((intact == value).sum())
    assert 0.7 < ratio < 0.97
