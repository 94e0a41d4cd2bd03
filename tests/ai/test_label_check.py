"""Labels that can say "not sure": a sagittal field of view without the sacrum, a missed body,
and a normal study (real phantom DICOM files cut with pydicom, real onnxruntime sessions)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.findings import (
    CONFIDENT,
    NEEDS_REVIEW,
    UNCERTAIN,
    Findings,
    LabellingCheck,
    numbering,
)
from spineviewer.ai.label_check import (
    SACRAL_AT_EDGE,
    TOP_MIN_SCORE,
    LabelReview,
    check_column,
    restated,
)
from spineviewer.ai.vertebra_labels import NO_SACRAL_BODY, Body, Labelling, missed_bodies
from spineviewer.phantom import generate, load_ground_truth, study_folder_name
from spineviewer.reports.study_report import cautions

SEED = 90_021


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labels")
    generate("lumbar-mr", root, SEED)
    return root / study_folder_name("lumbar-mr", SEED)


@pytest.fixture(scope="module")
def normal(study: Path) -> Findings:
    (findings,) = analyse_path(study, provider="cpu")
    return findings


def _cut_below(study: Path, dest: Path, z_mm: float) -> Path:
    """A copy of ``study`` whose sagittal images end at patient height ``z_mm`` (rows below it
    removed; the first row's position is kept, so the geometry stays exact)."""
    shutil.copytree(study, dest)
    truth = load_ground_truth(dest)
    sagittal = next(s for s in truth.series if s.plane == "sagittal")
    for image in sagittal.images:
        path = dest / image.file
        ds = pydicom.dcmread(path)
        row_dir = np.asarray(ds.ImageOrientationPatient[3:6], dtype=float)
        assert row_dir[2] < -0.9  # rows run downward (inferior)
        z0 = float(ds.ImagePositionPatient[2])
        keep = int((z0 - z_mm) / float(ds.PixelSpacing[0]))
        pixels = ds.pixel_array[:keep]
        ds.Rows = keep
        ds.PixelData = pixels.tobytes()
        ds.save_as(path)
    return dest


def test_a_normal_study_is_labelled_with_confidence(normal: Findings) -> None:
    (check,) = normal.labelling
    assert check.sacrum == "found" and check.status == CONFIDENT, check
    assert all(v.review == CONFIDENT for v in normal.vertebrae)
    assert cautions(normal) == ()


@pytest.mark.parametrize("below_l5_mm", [17.0, 19.0, 21.0, 23.0, 26.0, 29.0])
def test_no_sacrum_in_view_is_always_flagged(
    study: Path, tmp_path: Path, below_l5_mm: float
) -> None:
    """The image ends between L5 and the top of S1 (17 mm below L5's centre: L5 touches the
    edge and may be missed; 19-23: in the L5-S1 disc; 26-29: in the top of S1, which the
    detector misses while it takes the cut L5 for S1: labelled one level off, "confident",
    before :data:`~spineviewer.ai.label_check.SACRUM_BELOW`). Whatever the detector
    makes of it, every label is marked for review and the warning reaches the findings, their
    summary and the report."""
    truth = load_ground_truth(study)
    centre = {v.label: np.asarray(v.centre_mm) for v in truth.vertebrae}
    cut = _cut_below(study, tmp_path / "no-sacrum", float(centre["L5"][2] - below_l5_mm))
    (findings,) = analyse_path(cut, provider="cpu")
    (check,) = findings.labelling
    assert check.sacrum in ("not in view", "not recognised", "at the image edge"), check
    assert check.status == NEEDS_REVIEW and check.confidence <= 0.5, check
    assert findings.vertebrae and all(v.review == NEEDS_REVIEW for v in findings.vertebrae)
    assert all(d.review == NEEDS_REVIEW for d in findings.discs)
    for text in (findings.warnings, findings.summary_lines(), cautions(findings)):
        assert any("sacrum" in line for line in text), text
    said = " ".join(findings.warnings)  # once, in the check's words, not the labeller's too
    assert "no sacral-shaped body" not in said and "missed below body" not in said, said
    if check.sacrum == "not in view":  # counted from L5: every label lands on its own body
        labels = {v.label: np.asarray(v.centre_mm) for v in findings.vertebrae}
        assert "S1" not in labels
        for label, found in labels.items():
            assert np.linalg.norm(found - centre[label]) < 8.0, label


def test_discs_are_never_built_across_a_missed_body(normal: Findings) -> None:
    """The pipeline's disc levels name only neighbours (a gap is reported, not bridged)."""
    from spineviewer.geometry.levels import adjacent

    for disc in normal.discs:
        upper, lower = disc.level.split("-")
        assert adjacent(upper, lower), disc.level


@pytest.mark.parametrize("seed", [90_031, 90_032, 90_033])
def test_the_phantom_without_a_sacrum_is_always_flagged(tmp_path: Path, seed: int) -> None:
    """The generator's own T10-L5 field of view (no S1 pixel in any sagittal slice)."""
    from spineviewer.phantom import MrOptions

    generate("lumbar-mr", tmp_path, seed, mr_options=MrOptions(sagittal_fov="T10-L5"))
    (findings,) = analyse_path(tmp_path / study_folder_name("lumbar-mr", seed), provider="cpu")
    (check,) = findings.labelling
    assert check.status == NEEDS_REVIEW and check.sacrum != "found", check
    assert findings.vertebrae and all(v.review == NEEDS_REVIEW for v in findings.vertebrae)
    assert any("sacrum" in c for c in cautions(findings))


def test_a_t1_sagittal_is_labelled_and_the_t2_crop_models_skip_it(tmp_path: Path) -> None:
    """The detector was trained on T1, T2 and STIR sagittals: a study whose only sagittal is
    T1 is labelled (its discs then come from the axial T2); the fracture model, trained on T2
    crops, says it does not read T1."""
    from spineviewer.phantom import MrOptions

    generate("lumbar-mr", tmp_path, 90_034, mr_options=MrOptions(sagittal_contrasts=("T1",)))
    (findings,) = analyse_path(tmp_path / study_folder_name("lumbar-mr", 90_034), provider="cpu")
    labels = [v.label for v in findings.vertebrae]
    assert {"S1", "L5", "L4", "L3", "L2", "L1"} <= set(labels), labels
    assert findings.labelling[0].sacrum == "found"
    assert findings.discs and all(d.view == "axial" for d in findings.discs)
    step = findings.step("lumbar MR: fractures")
    assert step is not None and step.status == "skipped" and "series is T1" in step.reason, step


def _body(label: str, z: float, sacral: float = 0.05) -> Body:
    return Body(label, "vertebra", 0.9, (0, 0, 1, 1), (0.0, 0.0), (0.0, 0.0, z), sacral=sacral)


def test_a_gap_is_said_once_by_level_and_marks_the_bodies_above_it() -> None:
    """S1..T12 35 mm apart without L3 (as the labeller leaves them: L4 then L2): the gap is
    named by level in the check's gaps, its reason is on the bodies above it, and the check's
    reasons, the summary and the report's caution do not repeat it (they said "L3 missing
    between L2 and L4" and "counted across a gap (L3 not found)" side by side)."""
    labels = ["S1", "L5", "L4", "L2", "L1", "T12"]
    heights = [0.0, 35.0, 70.0, 140.0, 175.0, 210.0]
    bodies = tuple(
        _body(lab, z, 0.8 if lab == "S1" else 0.05) for lab, z in zip(labels, heights, strict=True)
    )
    review = check_column(Labelling(bodies), "1.2.3", lambda body: (-70.0, 280.0))
    check = review.result
    assert check.sacrum == "found" and check.gaps == ("L3 missing between L2 and L4",)
    assert check.status == UNCERTAIN and not any("gap" in r for r in check.reasons), check
    assert review.warnings == ("L3 missing between L2 and L4",)
    for label in ("L2", "L1", "T12"):
        assert review.review[label] == (UNCERTAIN, ("counted across a gap (L3 not found)",))
    assert review.review["L4"] == (CONFIDENT, ())
    other = "sagittal series: IM7.dcm left out: no Pixel Data"
    warnings = (*(f"vertebra labels: {w}" for w in review.warnings), other)
    findings = Findings("1.2.3", "cpu", labelling=(check,), warnings=warnings)
    assert " ".join(findings.summary_lines()).count("L3 missing") == 1  # the check's line only
    assert findings.other_warnings() == (other,) and f"warning: {other}" in findings.summary_lines()
    assert cautions(findings)[0].count("L3") == 1


def test_the_labellers_own_words_for_what_the_check_says_are_recognised() -> None:
    assert restated(NO_SACRAL_BODY) and restated(missed_bodies(1, 2))
    assert restated(missed_bodies(2, 11))
    assert not restated("1 body below S1 ignored") and not restated("no vertebral body found")


def test_a_body_cut_by_the_top_of_the_image_doubts_itself_not_the_levels() -> None:
    """T12 (the top body) 10 mm under the image's top edge, bodies 35 mm apart: T12 is
    "uncertain" (its box and centre are partial), but the levels are counted from S1, so the
    check stays confident, at 1.0, without a warning (it became "uncertain" and put "check
    before trusting the levels" on the report of a standard phantom study)."""
    labels = ["S1", "L5", "L4", "L3", "L2", "L1", "T12"]
    bodies = tuple(
        _body(label, 35.0 * k, 0.8 if label == "S1" else 0.05) for k, label in enumerate(labels)
    )
    review = check_column(Labelling(bodies), "1.2.3", lambda body: (-70.0, 220.0))
    check = review.result
    assert (check.status, check.confidence, check.reasons, review.warnings) == (
        CONFIDENT,
        1.0,
        (),
        (),
    )
    assert review.review["T12"] == (UNCERTAIN, ("T12 is cut by the top of the image",))
    assert all(review.review[label] == (CONFIDENT, ()) for label in labels[:-1])
    findings = Findings("1.2.3", "cpu", labelling=(check,))
    assert cautions(findings) == () and not any("labels" in x for x in findings.summary_lines())


def test_the_short_step_to_a_body_cut_by_the_top_edge_is_not_irregular() -> None:
    """The top body's centre is its visible part's: 15 mm above the body below it instead of
    35. With the top edge 5 mm above that centre, the step is expected and the check stays
    confident; with the top edge 40 mm above it (the body whole), a 15 mm step is a double
    detection or a merged pair and stays irregular."""
    labels = ["S1", "L5", "L4", "L3", "L2", "L1", "T12"]
    heights = [35.0 * k for k in range(6)] + [35.0 * 5 + 15.0]
    bodies = tuple(
        _body(label, z, 0.8 if label == "S1" else 0.05)
        for label, z in zip(labels, heights, strict=True)
    )
    cut = check_column(Labelling(bodies), "1.2.3", lambda body: (-70.0, heights[-1] + 5.0))
    assert (cut.result.status, cut.result.reasons) == (CONFIDENT, ())
    assert cut.review["T12"] == (UNCERTAIN, ("T12 is cut by the top of the image",))
    whole = check_column(Labelling(bodies), "1.2.3", lambda body: (-70.0, heights[-1] + 40.0))
    assert whole.result.status == UNCERTAIN
    assert whole.result.reasons == ("irregular spacing between T12 and L1",)


def _column_of(sacral: float, bottom_z: float = 0.0, top_score: float = 0.9) -> Labelling:
    """S1..T12 35 mm apart, bottom first; the bottom body's sacral score and height, the top's
    score."""
    labels = ["S1", "L5", "L4", "L3", "L2", "L1", "T12"]
    bodies = [
        _body(label, bottom_z + 35.0 * k, sacral if k == 0 else 0.05)
        for k, label in enumerate(labels)
    ]
    bodies[-1] = replace(bodies[-1], score=top_score)
    return Labelling(tuple(bodies))


def _mr_check(labelling: Labelling, low: float) -> LabelReview:
    return check_column(
        labelling,
        "1.2.3",
        lambda body: (low, 300.0),
        sacral_at_edge=SACRAL_AT_EDGE,
        top_min_score=TOP_MIN_SCORE,
    )


def test_a_clearly_sacral_body_at_the_lower_edge_is_s1_and_trusted() -> None:
    """An S1 cut by the image (its centre 0.4 spacings above the edge) that looks clearly
    sacral is found: no flag. Radiographs (no threshold) keep the old rule: flagged."""
    labelling = _column_of(sacral=0.8)
    review = _mr_check(labelling, low=-14.0)
    assert review.result.sacrum == "found" and review.result.status == CONFIDENT
    assert [b.label for b in review.labelling.bodies][:2] == ["S1", "L5"]
    old = check_column(labelling, "1.2.3", lambda body: (-14.0, 300.0))
    assert old.result.sacrum == "at the image edge" and old.result.status == NEEDS_REVIEW


def test_a_doubtfully_sacral_bottom_body_near_the_edge_is_taken_as_l5() -> None:
    """Sacral 0.4 (above the labeller's 0.2, under SACRAL_AT_EDGE) with half a spacing below
    it: an L5 above a sacrum out of view; the labels move up one and are all flagged."""
    review = _mr_check(_column_of(sacral=0.4), low=-17.0)
    assert review.result.sacrum == "not in view" and review.result.status == NEEDS_REVIEW
    assert [b.label for b in review.labelling.bodies][:2] == ["L5", "L4"]
    assert all(status == NEEDS_REVIEW for status, _ in review.review.values())


def test_a_sliver_at_the_lower_edge_is_dropped_and_the_rest_flagged() -> None:
    """A body whose centre is 5 mm above the lower edge and does not look sacral is a sliver of
    a cut body: dropped; the body above keeps L5 and every label is flagged."""
    review = _mr_check(_column_of(sacral=0.3), low=-5.0)
    labels = [b.label for b in review.labelling.bodies]
    assert labels[0] == "L5" and "S1" not in labels and len(labels) == 6
    assert review.result.sacrum == "not in view" and review.result.status == NEEDS_REVIEW
    kept = _mr_check(_column_of(sacral=0.3), low=-15.0)  # 0.43 spacings: a whole body
    assert kept.labelling.bodies[0].label == "L5" and len(kept.labelling.bodies) == 7


def test_a_weak_top_body_is_dropped_and_no_label_moves() -> None:
    strong = _mr_check(_column_of(sacral=0.8, top_score=0.9), low=-40.0)
    weak = _mr_check(_column_of(sacral=0.8, top_score=0.36), low=-40.0)
    assert [b.label for b in strong.labelling.bodies][-1] == "T12"
    assert [b.label for b in weak.labelling.bodies] == [b.label for b in strong.labelling.bodies][
        :-1
    ]
    assert TOP_MIN_SCORE < 0.6 < SACRAL_AT_EDGE + 0.1


def test_the_numbering_and_its_assumed_count_are_stated_for_every_column() -> None:
    """Even a confident column says it was counted from S1 assuming five lumbar vertebrae:
    a sixth lumbar vertebra is not recognised (no ribs in a lumbar field of view)."""
    found = LabellingCheck("1.2.3", 1.0, CONFIDENT, "found")
    lines = Findings("1.2.3", "cpu", labelling=(found,)).summary_lines()
    assert "vertebra levels: " + numbering(found) in lines
    assert numbering(found).startswith("numbered up from S1, assuming five lumbar vertebrae")
    cut = LabellingCheck("1.2.3", 0.4, NEEDS_REVIEW, "not in view")
    assert numbering(cut).startswith("numbered up from the bottom body as L5")


@pytest.mark.parametrize(("top_box", "kept"), [(4.0, False), (12.0, True)])
def test_a_sliver_at_the_top_edge_is_dropped_a_cut_body_kept(top_box: float, kept: bool) -> None:
    """A top detection 3 mm under the upper edge (0.09 spacings): with a box a fifth of the
    others' (a few mm of a disc the image cuts) it is no body and goes, no label moving; with
    more than half their height (a body cut by the edge) it stays, "uncertain" itself."""
    labelling = _column_of(sacral=0.8)
    bodies = [replace(b, box=(0, 0, 1, 20)) for b in labelling.bodies]
    bodies[-1] = replace(bodies[-1], box=(0, 0, 1, top_box))
    top_z = bodies[-1].centre_mm[2]  # type: ignore[index]
    review = check_column(
        Labelling(tuple(bodies)),
        "1.2.3",
        lambda body: (-40.0, top_z + 3.0),
        sacral_at_edge=SACRAL_AT_EDGE,
        top_min_score=TOP_MIN_SCORE,
    )
    labels = [b.label for b in review.labelling.bodies]
    assert labels == ["S1", "L5", "L4", "L3", "L2", "L1", "T12"][: 7 if kept else 6]
    assert review.result.status == CONFIDENT
    assert ("T12" in review.review) is kept
