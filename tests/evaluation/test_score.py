"""The scorer: its rules on hand-made findings, then end to end on generated studies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.findings import (
    CONFIDENT,
    NEEDS_REVIEW,
    UNCERTAIN,
    AxialAssignment,
    DiscFinding,
    Findings,
    LabellingCheck,
    VertebraFinding,
)
from spineviewer.evaluation.analyse import score_folder
from spineviewer.evaluation.score import (
    StudyScore,
    score_axial,
    score_discs,
    score_vertebrae,
)
from spineviewer.evaluation.totals import group, summary_table
from spineviewer.evaluation.truth_reader import StudyTruth, TruthBody, TruthDisc, read_truth
from spineviewer.geometry import Plane

LABELS = ("L1", "L2", "L3", "L4", "L5", "S1")


def _truth(in_view: int = 6) -> StudyTruth:
    bodies = tuple(
        TruthBody(label, np.array([0.0, 0.0, -36.0 * i]), i < in_view)
        for i, label in enumerate(LABELS)
    )
    discs = tuple(
        TruthDisc(f"{a.label}-{b.label}", state, (a.centre + b.centre) / 2, True, 0.1, 1)
        for a, b, state in zip(
            bodies, bodies[1:], ("normal", "bulge", "herniation", "normal", "bulge"), strict=False
        )
    )
    return StudyTruth(Path("x"), 1, "test", "uid", "standard", (), bodies, discs)


def _vertebra(label: str, z: float, review: str = "confident") -> VertebraFinding:
    return VertebraFinding(label, 0.9, "s", "i", (0, 0, 1, 1), (0.0, 0.0, z), review=review)


def _findings(vertebrae=(), discs=(), axial=(), labelling=()) -> Findings:
    return Findings(
        "uid",
        "cpu",
        vertebrae=tuple(vertebrae),
        discs=tuple(discs),
        axial_levels=tuple(axial),
        labelling=tuple(labelling),
    )


def _score() -> StudyScore:
    return StudyScore("x", 1, "test", "standard", [])


def test_all_bodies_found_with_their_labels_is_right() -> None:
    score = _score()
    found = [_vertebra(label, -36.0 * i + 3) for i, label in enumerate(LABELS)]
    score_vertebrae(_truth(), _findings(found), score)
    assert (score.bodies_identified, score.bodies_in_view, score.labels) == (6, 6, "right")


def test_labels_shifted_by_one_are_wrong_and_unflagged_labels_are_the_dangerous_case() -> None:
    score = _score()
    found = [_vertebra(label, -36.0 * (i + 1)) for i, label in enumerate(LABELS[:-1])]
    score_vertebrae(_truth(), _findings(found), score)
    assert score.bodies_identified == 0 and len(score.wrong_labels) == 5
    assert score.labels == "wrong"


def test_a_missed_body_without_a_flag_is_incomplete_and_none_found_too() -> None:
    score = _score()
    found = [_vertebra(label, -36.0 * i) for i, label in enumerate(LABELS) if label != "L3"]
    score_vertebrae(_truth(), _findings(found), score)
    assert (score.bodies_identified, score.wrong_labels, score.labels) == (5, [], "incomplete")
    score = _score()
    score_vertebrae(_truth(), _findings(), score)
    assert (score.bodies_identified, score.labels) == (0, "incomplete")


def test_the_closest_body_rule() -> None:
    """Within 20 mm of its namesake is not enough when another body is closer."""
    score = _score()
    score_vertebrae(_truth(), _findings([_vertebra("L2", -36.0 * 1 - 19.0)]), score)
    assert score.bodies_identified == 0 and score.wrong_labels


def test_a_flagged_study_never_counts_as_right() -> None:
    found = [_vertebra(label, -36.0 * i) for i, label in enumerate(LABELS)]
    check = LabellingCheck("s", 0.4, NEEDS_REVIEW, "not in view", ("no sacrum",))
    score = _score()
    score_vertebrae(_truth(), _findings(found, labelling=[check]), score)
    assert score.bodies_identified == 6 and score.labels == "flagged"
    score = _score()
    found[2] = _vertebra("L3", -72.0, review=NEEDS_REVIEW)
    score_vertebrae(_truth(), _findings(found), score)
    assert score.labels == "flagged"
    score = _score()
    check = LabellingCheck("s", 0.85, UNCERTAIN, "found", ("irregular spacing",))
    score_vertebrae(_truth(), _findings(found, labelling=[check]), score)
    assert score.labels == "flagged"


def test_a_body_doubted_for_itself_alone_does_not_flag_the_levels() -> None:
    """L1 "uncertain" (cut by the top of the image) while the labelling check is confident:
    its box is doubted, not its level name. Listed, not a flag."""
    found = [_vertebra(label, -36.0 * i) for i, label in enumerate(LABELS)]
    found[0] = _vertebra("L1", 0.0, review=UNCERTAIN)
    check = LabellingCheck("s", 1.0, CONFIDENT, "found", ())
    score = _score()
    score_vertebrae(_truth(), _findings(found, labelling=[check]), score)
    assert (score.labels, score.body_doubts, score.flag_reasons) == ("right", ["L1"], [])


def test_a_body_out_of_view_is_not_expected() -> None:
    score = _score()
    found = [_vertebra(label, -36.0 * i) for i, label in enumerate(LABELS[:5])]
    score_vertebrae(_truth(in_view=5), _findings(found), score)
    assert (score.bodies_identified, score.bodies_in_view, score.labels) == (5, 5, "right")


def _axial_planes(truth: StudyTruth) -> dict[str, Plane]:
    planes = {}
    for disc in truth.discs:
        for offset in (-1.0, 0.0, 8.0):
            origin = disc.centre + np.array([-50.0, -50.0, offset])
            planes[f"{disc.level} {offset}"] = Plane(
                origin, (1, 0, 0), (0, 1, 0), (1.0, 1.0), (100, 100)
            )
    return planes


def test_disc_states_uncertain_missing_and_misplaced_are_not_right() -> None:
    truth = _truth()
    centre = {d.level: tuple(d.centre) for d in truth.discs}
    reported = [
        DiscFinding("L1-L2", "normal", {}, centre["L1-L2"], ()),
        DiscFinding("L2-L3", "bulge", {}, centre["L2-L3"], (), review=UNCERTAIN),
        DiscFinding("L3-L4", "herniation", {}, centre["L4-L5"], ()),  # named L3-L4, is L4-L5
        DiscFinding("L5-S1", "bulge", {}, centre["L5-S1"], (), review=NEEDS_REVIEW),
    ]
    score = _score()
    score_discs(truth, _findings(discs=reported), list(_axial_planes(truth).values()), score)
    got = {d.level: (d.reported, d.right) for d in score.discs}
    assert got == {
        "L1-L2": ("normal", True),
        "L2-L3": ("uncertain", False),
        "L3-L4": ("misplaced", False),
        "L4-L5": ("missing", False),
        "L5-S1": ("bulge", True),  # "needs review" labels do not make a state wrong
    }
    summary = group([score])["overall"]["discs"]
    assert summary["accuracy"] == pytest.approx(2 / 5)
    assert summary["coverage"] == pytest.approx(2 / 5)
    assert summary["per_state"]["bulge"] == {"right": 1, "total": 2, "sensitivity": 0.5}


def test_a_disc_no_axial_image_passes_through_is_not_scored() -> None:
    truth = _truth()
    planes = {k: p for k, p in _axial_planes(truth).items() if k.startswith("L1-L2")}
    score = _score()
    score_discs(truth, _findings(), list(planes.values()), score)
    assert [d.level for d in score.discs] == ["L1-L2"]


def test_axial_levels_come_from_the_truth_geometry() -> None:
    truth = _truth()
    planes = _axial_planes(truth)
    given = [
        AxialAssignment("s", "L1-L2 -1.0", "L1-L2", 1.0),  # right
        AxialAssignment("s", "L1-L2 0.0", "L2-L3", 1.0),  # wrong
        AxialAssignment("s", "L2-L3 0.0", None, 9.0),  # unassigned
        AxialAssignment("s", "L1-L2 8.0", "L1-L2", 8.0),  # 8 mm off: no truth level, ignored
    ]
    score = _score()
    score_axial(truth, _findings(axial=given), planes, score)
    assert score.axial_with_level == 10  # the images at -1 and 0 mm of the five discs
    assert (score.axial_wrong, score.axial_unassigned) == (1, 8)


def test_a_broken_truth_is_named(tmp_path: Path) -> None:
    (tmp_path / "ground_truth.json").write_text('{"schema_version": 1, "kind": "lumbar-mr"}')
    with pytest.raises(ValueError, match=r"ground_truth.json: ground truth lacks"):
        read_truth(tmp_path)
    with pytest.raises(ValueError, match="no ground truth"):
        read_truth(tmp_path / "missing")


def test_scoring_generated_studies_end_to_end(eval_root: Path, tmp_path: Path) -> None:
    from spineviewer.cli import main

    out = tmp_path / "scores.json"
    assert main(["evaluation", "score", str(eval_root), "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["provider"].lower().startswith("cpu")
    assert {s["kind"] for s in payload["studies"]} == {"standard", "no-sacrum"}
    assert set(payload["kinds"]) == {"standard", "no-sacrum"}
    for study in payload["studies"]:
        assert study["error"] is None
        assert study["bodies_in_view"] >= 5 and study["found_labels"]
        assert study["discs"] and study["axial_with_level"] > 0
        assert study["labels"] in ("right", "flagged", "wrong", "incomplete")
    overall = payload["overall"]
    assert overall["studies"] == 3
    assert overall["discs"]["scored"] == sum(len(s["discs"]) for s in payload["studies"])
    assert 0.0 <= overall["vertebrae"]["identification_rate"] <= 1.0
    assert (
        "spine X-ray: radiograph: skipped: no radiograph (CR or DX) in the study"
        in (overall["skipped_steps"])
    )
    assert "kind no-sacrum" in summary_table(payload)
    # every MR study's vertebrae are scored for fractures too: these draw none, so every
    # classified body is intact and counts for specificity
    fractures = payload["fractures"]
    assert len(payload["fracture_studies"]) == 3
    assert fractures["intact"]["bodies"] > 10 and fractures["fractured"]["bodies"] == 0


def test_fracture_studies_generate_and_score_from_the_command_line(tmp_path: Path) -> None:
    """``--kind lumbar-mr-fracture`` writes a study with fractures in its truth; ``score``
    reports its fractured bodies' sensitivity beside the intact ones' specificity."""
    from spineviewer.cli import evaluation as cli
    from spineviewer.cli import main
    from spineviewer.evaluation import study_kinds

    assert cli.STUDY_KINDS == study_kinds.STUDY_KINDS and "lumbar-mr-fracture" in cli.STUDY_KINDS
    seed = 730001  # the case mix gives this seed fractures
    command = ["evaluation", "generate", str(tmp_path / "s"), "--kind", "lumbar-mr-fracture"]
    assert main([*command, "--seed", str(seed)]) == 0
    folder = tmp_path / "s" / f"eval-lumbar-mr-fracture-{seed:06d}"
    truth = json.loads((folder / "ground_truth.json").read_text())
    broken = [v for v in truth["vertebrae"] if v.get("fracture")]
    assert broken and all(1 <= v["genant_grade"] <= 3 for v in broken)
    out = tmp_path / "scores.json"
    assert main(["evaluation", "score", str(folder), "--json", str(out)]) == 0
    fractures = json.loads(out.read_text())["fractures"]
    assert fractures["fractured"]["bodies"] == len(broken)


def test_the_scorer_reads_the_training_phantom_too_and_credits_a_good_result(
    demo_study_dir: Path,
) -> None:
    """On the demo phantom (the models' own generator) the pipeline labels every body right:
    a scorer that could not say so would be broken."""
    score = score_folder(demo_study_dir)
    assert score.error is None and score.kind == "standard"
    assert score.bodies_in_view >= 7
    assert score.bodies_identified == score.bodies_in_view and score.labels == "right"
    assert sum(d.right for d in score.discs) >= 4
    assert score.axial_wrong == 0
