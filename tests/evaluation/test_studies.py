"""The generated studies: valid DICOM with exact geometry, truth that matches the pixels, and the
same pixels for the same seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.ai.mr_series import contrast_of
from spineviewer.dicom import scan
from spineviewer.evaluation.study import plan_study

from .conftest import SEEDS, EvalStudy, mean_near, plane_of

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"


def test_the_same_seed_gives_the_same_pixels(
    eval_studies: dict[str, EvalStudy], tmp_path: Path
) -> None:
    from spineviewer.cli import main

    seed = SEEDS["t1"]
    assert main(["evaluation", "generate", str(tmp_path), "--count", "1", "--seed", str(seed)]) == 0
    first = eval_studies["t1"]
    again = tmp_path / first.path.name
    assert (again / "ground_truth.json").read_text() == (
        first.path / "ground_truth.json"
    ).read_text()
    for image in first.series("sagittal_t1")["images"] + first.series("axial_t2_angled")["images"]:
        a = pydicom.dcmread(first.path / image["file"]).pixel_array.astype(np.int32)
        b = pydicom.dcmread(again / image["file"]).pixel_array.astype(np.int32)
        assert np.abs(a - b).max() <= 1


def test_another_seed_gives_other_pixels(eval_studies: dict[str, EvalStudy]) -> None:
    a = eval_studies["t1"].datasets("sagittal_t2")[0].pixel_array
    b = eval_studies["no_sacrum"].datasets("sagittal_t2")[0].pixel_array
    assert a.shape != b.shape or np.abs(a.astype(int) - b.astype(int)).mean() > 20


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_file_is_a_valid_mr_image_of_one_study_and_frame_of_reference(
    eval_studies: dict[str, EvalStudy], name: str
) -> None:
    study = eval_studies[name]
    files = sorted(study.path.rglob("*.dcm"))
    listed = {i["file"] for s in study.truth["series"] for i in s["images"]}
    assert {f.relative_to(study.path).as_posix() for f in files} == listed
    frames = set()
    for path in files:
        ds = pydicom.dcmread(path)
        assert ds.file_meta.MediaStorageSOPClassUID == MR_IMAGE_STORAGE == ds.SOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.StudyInstanceUID == study.truth["study_instance_uid"]
        assert ds.pixel_array.shape == (ds.Rows, ds.Columns)
        assert ds.pixel_array.max() < 2**ds.BitsStored
        assert float(ds.RepetitionTime) > 0 and float(ds.EchoTime) > 0
        assert float(ds.SliceThickness) <= float(ds.SpacingBetweenSlices)
        assert "NOT FOR CLINICAL USE" in ds.ImageComments
        frames.add(ds.FrameOfReferenceUID)
    assert frames == {study.truth["frame_of_reference_uid"]}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_the_viewer_reads_the_planned_geometry_exactly(
    eval_studies: dict[str, EvalStudy], name: str
) -> None:
    study = eval_studies[name]
    protocol = plan_study(study.truth["seed"]).protocol
    result = scan(study.path)
    assert len(result.studies) == 1
    stacks = result.stacks()
    for plan in protocol.series:
        truth = study.series(plan.role)
        # images are written stack by stack: the planned stack of each SOP instance
        planned = [g for g in plan.stacks for _ in range(g.count)]
        where = {i["sop_instance_uid"]: planned[n] for n, i in enumerate(truth["images"])}
        mine = [s for s in stacks if s.frames[0].instance.sop_instance_uid in where]
        assert len(mine) == len(plan.stacks)  # one stack per planned stack
        for stack in mine:
            geometry = where[stack.frames[0].instance.sop_instance_uid]
            # a steep L5-S1 stack is oblique
            tilted = plan.plane == "axial" and abs(float(geometry.normal[2])) < 0.8
            assert stack.plane == ("oblique" if tilted else plan.plane)
            assert plan.plane == truth["plane"]
            assert stack.pixel_spacing == pytest.approx(geometry.spacing, abs=1e-6)
            assert contrast_of(stack).contrast == plan.contrast == truth["contrast"]
            for index, frame in enumerate(stack.frames):
                assert where[frame.instance.sop_instance_uid] is geometry
                plane = stack.plane_of(index)
                depth = float((plane.origin - geometry.origin) @ geometry.normal) / geometry.step
                slot = round(depth)
                assert depth == pytest.approx(slot, abs=1e-4)
                assert plane.origin == pytest.approx(geometry.position(slot), abs=1e-4)
                assert plane.row_dir == pytest.approx(geometry.row_dir, abs=1e-5)
                assert plane.col_dir == pytest.approx(geometry.col_dir, abs=1e-5)


def test_non_square_pixels_are_written_as_such(eval_studies: dict[str, EvalStudy]) -> None:
    for ds in eval_studies["non_square"].datasets("sagittal_t2")[:1]:
        dr, dc = (float(v) for v in ds.PixelSpacing)
        assert max(dr, dc) / min(dr, dc) > 1.15
    for name in ("t1", "no_sacrum"):
        ds = eval_studies[name].datasets("sagittal_t2")[0]
        assert float(ds.PixelSpacing[0]) == pytest.approx(float(ds.PixelSpacing[1]))


def test_vertebral_marrow_is_brighter_than_the_discs_on_t1(
    eval_studies: dict[str, EvalStudy],
) -> None:
    for name in ("t1", "no_sacrum"):
        study = eval_studies[name]
        t1 = study.datasets("sagittal_t1")
        for disc in study.truth["discs"]:
            if not (disc["in_sagittal_fov"] and disc["level"].startswith("L")):
                continue
            upper = study.vertebra(disc["level"].split("-")[0])
            body = mean_near(t1, upper["centre_mm"], 2, 2)
            assert body > 1.3 * mean_near(t1, disc["centre_mm"]), disc["level"]


def test_the_t2_nucleus_follows_the_drawn_degeneration(eval_studies: dict[str, EvalStudy]) -> None:
    """Disc over marrow on T2: above 1 for Pfirrmann I (II may show a dark cleft), below 1 for
    IV-V, whatever the contour (the nucleus signal comes from the degeneration only)."""
    ratios: dict[str, list[float]] = {"bright": [], "dark": []}
    for study in eval_studies.values():
        t2 = study.datasets("sagittal_t2")
        for disc in study.truth["discs"]:
            if not (disc["in_sagittal_fov"] and disc["level"].startswith("L")):
                continue
            body = mean_near(t2, study.vertebra(disc["level"].split("-")[0])["centre_mm"], 2, 2)
            ratio = mean_near(t2, disc["centre_mm"], 1, 4) / body
            if disc["pfirrmann"] == 1:
                ratios["bright"].append(ratio)
            elif disc["pfirrmann"] >= 4:
                ratios["dark"].append(ratio)
    assert ratios["bright"] and ratios["dark"]  # the fixture seeds hold both
    assert min(ratios["bright"]) > 1.0 > max(ratios["dark"])


def test_no_sacrum_field_ends_above_s1(eval_studies: dict[str, EvalStudy]) -> None:
    study = eval_studies["no_sacrum"]
    s1 = study.vertebra("S1")
    assert not s1["in_sagittal_fov"]
    assert all(v["in_sagittal_fov"] for v in study.truth["vertebrae"] if v["label"] in ("L4", "L5"))
    ds = study.datasets("sagittal_t2")[0]
    row, _ = plane_of(ds).to_pixel(np.asarray(s1["centre_mm"]))
    # the S1 body's centre lies more than half a body (12 mm) below the last row
    assert (float(row) - (ds.Rows - 1)) * float(ds.PixelSpacing[0]) > 12.0
    assert study.truth["parameters"]["sagittal_fov"] == "T10-L5"


def test_the_sacrum_is_in_view_elsewhere(eval_studies: dict[str, EvalStudy]) -> None:
    for name in ("t1", "non_square"):
        assert eval_studies[name].vertebra("S1")["in_sagittal_fov"]


def test_in_view_flags_match_the_images(eval_studies: dict[str, EvalStudy]) -> None:
    for study in eval_studies.values():
        datasets = study.datasets("sagittal_t2")
        planes = [plane_of(ds) for ds in datasets]
        step = float(datasets[0].SpacingBetweenSlices)
        for item in study.truth["vertebrae"] + study.truth["discs"]:
            point = np.asarray(item["centre_mm"])
            near = min(planes, key=lambda p: abs(float(p.distance(point))))
            row, col = (float(v) for v in near.to_pixel(point))
            inside = (
                abs(float(near.distance(point))) <= step / 2
                and 0 <= row <= datasets[0].Rows - 1
                and 0 <= col <= datasets[0].Columns - 1
            )
            assert inside == item["in_sagittal_fov"], item.get("label") or item.get("level")


def test_each_angled_stack_is_centred_on_its_disc(eval_studies: dict[str, EvalStudy]) -> None:
    study = eval_studies["t1"]
    angled = study.series("axial_t2_angled")
    levels = {a["sop_instance_uid"]: a for a in study.truth["axial_levels"]}
    per_stack: dict[int, list[dict]] = {}
    for image in angled["images"]:
        entry = levels[image["sop_instance_uid"]]
        per_stack.setdefault(entry["stack"], []).append(entry)
    shown = [
        d["level"]
        for d in study.truth["discs"]
        if d["in_sagittal_fov"] and d["level"].startswith("L")
    ]
    assert len(per_stack) == len(shown)
    for entries, level in zip(per_stack.values(), shown, strict=True):
        nearest = min(entries, key=lambda e: e["distance_mm"])
        assert nearest["level"] == level and nearest["distance_mm"] < 3.0


def test_the_phantoms_own_reader_reads_the_truth(eval_studies: dict[str, EvalStudy]) -> None:
    """Same schema as spineviewer.phantom (a test may import it; the package may not)."""
    from spineviewer.phantom import load_ground_truth

    study = eval_studies["no_sacrum"]
    truth = load_ground_truth(study.path)
    assert [v.label for v in truth.vertebrae] == [v["label"] for v in study.truth["vertebrae"]]
    assert truth.disc("L4-L5").state == next(
        d["state"] for d in study.truth["discs"] if d["level"] == "L4-L5"
    )
    assert not truth.vertebra("S1").in_sagittal_fov
    assert truth.mr_options.sagittal_fov == "T10-L5"
