"""The label-map scorer: the truth scores perfectly; a shifted, relabelled or padded prediction
loses exactly what it should (Dice, VerSe identification, levels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spineviewer.evaluation.ct_study import generate_ct_study
from spineviewer.evaluation.score_segmentation import (
    TruthLabelMap,
    read_label_truth,
    score_segmentation,
    score_study,
    vertebra_part,
)


def _shifted(labels: np.ndarray, slices: int) -> np.ndarray:
    """``labels`` moved ``slices`` slices up the stack (toward the head; negative: toward the
    feet), nothing wrapped round."""
    out = np.zeros_like(labels)
    if slices > 0:
        out[slices:] = labels[:-slices]
    else:
        out[:slices] = labels[-slices:]
    return out


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_ct_study(tmp_path_factory.mktemp("segmentation-score"), 720000, 96)


@pytest.fixture(scope="module")
def truth(study: Path) -> TruthLabelMap:
    return read_label_truth(study)


def test_label_names_are_read_loosely() -> None:
    assert vertebra_part("L3") == ("L3", "body")
    assert vertebra_part("vertebrae_L3") == ("L3", "body")
    assert vertebra_part("T12 vertebra") == ("T12", "body")
    assert vertebra_part("L3_posterior_elements") == ("L3", "arch")
    assert vertebra_part("sacrum") == ("S1", "arch")
    assert vertebra_part("L4-L5") is None and vertebra_part("T12-L1") is None
    assert vertebra_part("spinal_canal") is None


def test_the_truth_itself_scores_perfectly(study: Path, truth: TruthLabelMap) -> None:
    for whole in (False, True):
        score = score_study(study, truth.labels.copy(), truth.names, whole_vertebrae=whole)
        assert score.identification_rate == 1.0 and score.all_levels_right
        assert score.mean_dice == pytest.approx(1.0) and score.min_dice == pytest.approx(1.0)
        labels = [b.label for b in score.bodies]
        assert {"T12", "L1", "L2", "L3", "L4", "L5", "S1"} <= set(labels)
        assert all(b.distance_mm == pytest.approx(0.0, abs=1e-6) for b in score.bodies)


def test_a_small_shift_lowers_dice_but_keeps_the_levels(truth: TruthLabelMap) -> None:
    step = float(np.linalg.norm(truth.axes[0]))
    shift = max(1, round(4.0 / step))  # about 4 mm toward the feet (the top body is cut:
    moved = _shifted(truth.labels, -shift)  # toward the head it would leave the volume)
    score = score_segmentation(moved, truth.names, truth)
    assert score.identification_rate == 1.0 and score.all_levels_right
    assert 0.5 < score.mean_dice < 0.95  # type: ignore[operator]
    whole = [b for b in score.bodies if b.label.startswith("L")]
    assert all(abs(b.distance_mm - shift * step) < 1.0 for b in whole)  # type: ignore[operator]


def test_a_shift_by_one_level_misses_every_body(truth: TruthLabelMap) -> None:
    step = float(np.linalg.norm(truth.axes[0]))
    moved = _shifted(truth.labels, round(34.0 / step))  # about one body and disc up
    score = score_segmentation(moved, truth.names, truth)
    assert score.identification_rate is not None and score.identification_rate < 0.3
    assert not score.all_levels_right
    assert score.mean_dice < 0.3  # type: ignore[operator]


def test_swapped_labels_are_not_identified(truth: TruthLabelMap) -> None:
    names = dict(truth.names)
    by_name = {n: v for v, n in names.items()}
    names[by_name["L3"]], names[by_name["L4"]] = "L4", "L3"
    score = score_segmentation(truth.labels, names, truth)
    per_body = {b.label: b for b in score.bodies}
    assert not per_body["L3"].identified and not per_body["L4"].identified
    assert per_body["L3"].dice == 0.0 and per_body["L2"].dice == pytest.approx(1.0)
    assert per_body["L2"].identified and per_body["L5"].identified
    assert score.identification_rate == pytest.approx(1 - 2 / len(score.bodies))
    assert not score.all_levels_right


def test_a_vertebra_the_truth_lacks_spoils_the_levels(truth: TruthLabelMap) -> None:
    predicted = truth.labels.copy()
    names = dict(truth.names)
    extra = max(names) + 1
    names[extra] = "vertebrae_L6"
    predicted[:, :10, :10] = extra  # a block far from the spine, well above the minimum volume
    score = score_segmentation(predicted, names, truth)
    assert score.identification_rate == 1.0
    assert score.extra_labels == ("L6",) and not score.all_levels_right


def test_a_prediction_on_another_grid_is_refused(truth: TruthLabelMap) -> None:
    with pytest.raises(ValueError, match="shape"):
        score_segmentation(truth.labels[1:], truth.names, truth)
