"""Vertebrae and discs from a label map (spineviewer.ai.segmentation_findings): the truth label
map of a lumbar CT phantom gives the truth's levels and centres, checked like the detector's
column; a missing body is a gap, stray voxels do not move a centre, a map without the sacrum
needs review, and the names other models use are understood."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.ai.findings import CONFIDENT, NEEDS_REVIEW, Findings
from spineviewer.ai.manifest_model import LabelCode, ModelLabel
from spineviewer.ai.segmentation_findings import column_from_mask, kinds_of, structure_of
from spineviewer.ai.segmentation_grid import ModelGrid
from spineviewer.ai.sliding_window import LabelMap
from spineviewer.phantom import generate, load_ground_truth, study_folder_name
from spineviewer.training.segmentation_data import (
    LEVELS,
    SeriesCase,
    load_series_case,
    window,
)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> SeriesCase:
    root = tmp_path_factory.mktemp("ct")
    generate("lumbar-ct", root, 31)
    return load_series_case(root / study_folder_name("lumbar-ct", 31))


def _label_map(case: SeriesCase, labels: np.ndarray | None = None) -> LabelMap:
    """``labels`` (default: the truth) as the demo model's label map would be (its channels,
    channel 0 the background)."""
    found = case.labels if labels is None else labels
    grid = ModelGrid.of(found.shape, case.spacing, window())
    values = {n: ModelLabel(name, name, "#ffffff") for n, name in enumerate(LEVELS) if n}
    return LabelMap(found, values, "spine-ct-segmentation", "0", "cpu", grid, (1, 1, 1, 1))


def _column(case: SeriesCase, labels: np.ndarray | None = None):
    uids = [f"image-{k}" for k in range(case.labels.shape[0])]
    return column_from_mask(_label_map(case, labels), case.affine, "series-1", uids)


def test_the_truth_map_gives_the_truth_levels_and_centres(case: SeriesCase) -> None:
    column = _column(case)
    found = {v.label: np.array(v.centre_mm) for v in column.vertebrae}
    assert list(found) == ["T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1"]  # top down
    for label in ("T12", "L1", "L2", "L3", "L4", "L5"):
        # the body's centre, not the whole vertebra's (which lies ~10 mm further back)
        assert np.linalg.norm(found[label] - case.centres[label]) < 1.5, label
    assert np.linalg.norm(found["S1"] - case.centres["S1"]) < 8.0
    check = column.review.result
    assert (check.status, check.sacrum, check.gaps) == (CONFIDENT, "found", ())
    assert all(v.model_id == "spine-ct-segmentation" for v in column.vertebrae)
    # reported on the slice nearest the centre, with its box there
    l3 = next(v for v in column.vertebrae if v.label == "L3")
    k = int(l3.sop_instance_uid.split("-")[1])
    z = (case.affine @ np.array([k, 0, 0, 1.0]))[2]
    assert abs(z - case.centres["L3"][2]) <= case.spacing[0]
    x0, y0, x1, y1 = l3.box_px
    assert 20 < x1 - x0 < 120 and 20 < y1 - y0 < 150


def test_disc_centres_come_from_the_disc_labels(case: SeriesCase) -> None:
    column = _column(case)
    truth = load_ground_truth(case.folder)
    discs = {d.level: np.array(d.centre_mm) for d in truth.discs}
    assert set(column.disc_centres) == set(discs)
    for level, centre in column.disc_centres.items():
        assert np.linalg.norm(centre - discs[level]) < 3.0, level


def test_findings_carry_the_model_and_round_trip(case: SeriesCase) -> None:
    column = _column(case)
    findings = Findings(
        "study", "cpu", vertebrae=column.vertebrae, labelling=(column.review.result,)
    )
    again = Findings.from_json(findings.to_json())
    assert again.vertebrae == findings.vertebrae
    assert findings.summary_lines()[0] == "vertebrae: T11 T12 L1 L2 L3 L4 L5 S1"


def test_a_missing_body_is_a_gap_and_no_disc_spans_it(case: SeriesCase) -> None:
    labels = case.labels.copy()
    labels[labels == 5] = 0  # L3 (channel 5) not segmented
    column = _column(case, labels)
    assert "L3" not in {v.label for v in column.vertebrae}
    assert column.review.result.gaps == ("L3 missing between L2 and L4",)
    assert "L2-L3" not in column.disc_centres and "L3-L4" not in column.disc_centres
    assert "L4-L5" in column.disc_centres


def test_stray_voxels_do_not_move_a_centre(case: SeriesCase) -> None:
    labels = case.labels.copy()
    before = {v.label: v.centre_mm for v in _column(case).vertebrae}
    z = np.flatnonzero((labels == 3).any(axis=(1, 2)))  # L1's slices
    far = 1 if z.min() > 10 else labels.shape[0] - 2
    labels[far, :4, :4] = 3  # a few L1 voxels far below or above it
    after = {v.label: v.centre_mm for v in _column(case, labels).vertebrae}
    assert np.allclose(after["L1"], before["L1"], atol=0.05)


def test_without_the_sacrum_the_levels_need_review(case: SeriesCase) -> None:
    labels = case.labels.copy()
    labels[labels == 8] = 0  # S1 (the whole sacrum) not segmented
    column = _column(case, labels)
    check = column.review.result
    assert check.sacrum != "found" and check.status == NEEDS_REVIEW
    assert all(v.review == NEEDS_REVIEW for v in column.vertebrae)


def _label(name: str, meaning: str | None = None) -> ModelLabel:
    code = LabelCode("SCT", "1", meaning) if meaning else None
    return ModelLabel(name, name, "#ffffff", code)


def test_names_other_models_use() -> None:
    values = {
        1: _label("vertebrae_L1"),
        2: _label("sacrum"),
        3: _label("L4/L5 intervertebral disc"),
        4: _label("intervertebral_discs_L5_S1"),
        5: _label("spinal_cord"),
        6: _label("kidney_left"),
        7: _label("structure_7", "T12 vertebra"),
        8: _label("rib_left_1"),
    }
    assert kinds_of(values) == {
        1: ("vertebra", "L1"),
        2: ("vertebra", "S1"),
        3: ("disc", "L4-L5"),
        4: ("disc", "L5-S1"),
        5: ("canal", "spinal_canal"),
        7: ("vertebra", "T12"),
    }
    assert structure_of("L6") is None  # not a label the column check knows
