"""Evaluation metrics against hand-computed values and a textbook AP example."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest

from spineviewer.training.metrics import (
    average_precision,
    box_iou,
    classification_metrics,
    cobb_metrics,
    identification,
    level_sort_key,
    vertebra_sort_key,
)

CLASSES = ["normal", "bulge", "herniation"]


# --------------------------------------------------------------------------- classification


def test_classification_hand_computed():
    y_true = ["normal", "normal", "normal", "bulge", "bulge", "herniation"]
    y_pred = ["normal", "normal", "bulge", "bulge", "herniation", "herniation"]
    r = classification_metrics(y_true, y_pred, CLASSES)

    assert r["n"] == 6
    assert r["n_correct"] == 4
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["confusion_matrix"] == {
        "labels": CLASSES,
        "matrix": [[2, 1, 0], [0, 1, 1], [0, 0, 1]],
    }
    normal, bulge, hern = (r["per_class"][c] for c in CLASSES)
    assert (normal["tp"], normal["fp"], normal["fn"], normal["tn"]) == (2, 0, 1, 3)
    assert normal["sensitivity"] == pytest.approx(2 / 3)
    assert normal["specificity"] == pytest.approx(1.0)
    assert normal["precision"] == pytest.approx(1.0)
    assert normal["f1"] == pytest.approx(0.8)
    assert normal["accuracy"] == pytest.approx(5 / 6)
    assert normal["support"] == 3
    assert bulge["sensitivity"] == pytest.approx(0.5)
    assert bulge["specificity"] == pytest.approx(0.75)
    assert bulge["precision"] == pytest.approx(0.5)
    assert bulge["f1"] == pytest.approx(0.5)
    assert hern["sensitivity"] == pytest.approx(1.0)
    assert hern["specificity"] == pytest.approx(0.8)
    assert hern["precision"] == pytest.approx(0.5)
    assert hern["f1"] == pytest.approx(2 / 3)
    assert r["macro"]["sensitivity"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert r["macro"]["specificity"] == pytest.approx((1 + 0.75 + 0.8) / 3)
    assert r["macro"]["precision"] == pytest.approx(2 / 3)
    assert r["macro"]["f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r["weighted_f1"] == pytest.approx((0.8 * 3 + 0.5 * 2 + 2 / 3) / 6)
    assert r["per_group"] is None
    assert r["probabilities"] is None
    json.dumps(r, allow_nan=False)


def test_classification_integer_indices_match_names():
    by_name = classification_metrics(["normal", "bulge"], ["bulge", "bulge"], CLASSES)
    by_index = classification_metrics([0, 1], [1, 1], CLASSES)
    assert by_name == by_index


def test_classification_per_level_in_seed_order():
    y_true = ["normal"] * 8
    y_pred = ["normal", "bulge", "normal", "normal", "normal", "bulge", "normal", "normal"]
    groups = ["L5-S1", "L5-S1", "C5-C6", "L1-L2", "T12-L1", "L4-L5", None, "L4-L5"]
    r = classification_metrics(y_true, y_pred, CLASSES, groups=groups)
    assert [g["group"] for g in r["per_group"]] == [
        "T12-L1",
        "L1-L2",
        "L4-L5",
        "L5-S1",
        "C5-C6",
        "unknown",
    ]
    by = {g["group"]: g for g in r["per_group"]}
    assert (by["L5-S1"]["n"], by["L5-S1"]["correct"], by["L5-S1"]["accuracy"]) == (2, 1, 0.5)
    assert (by["L4-L5"]["n"], by["L4-L5"]["correct"]) == (2, 1)
    assert by["L1-L2"]["accuracy"] == 1.0


def test_classification_absent_and_unpredicted_classes_give_none():
    r = classification_metrics(["normal", "bulge"], ["normal", "normal"], CLASSES)
    bulge, hern = r["per_class"]["bulge"], r["per_class"]["herniation"]
    # bulge present but never predicted: recall 0, precision undefined, F1 0.
    assert bulge["sensitivity"] == 0.0
    assert bulge["precision"] is None
    assert bulge["f1"] == 0.0
    # herniation neither present nor predicted.
    assert hern["sensitivity"] is None
    assert hern["precision"] is None
    assert hern["f1"] is None
    assert hern["specificity"] == 1.0
    assert r["macro"]["sensitivity"] == pytest.approx(0.5)  # (1 + 0) / 2, herniation skipped
    assert r["macro"]["precision"] == pytest.approx(0.5)  # normal only
    text = json.dumps(r, allow_nan=False)
    assert "NaN" not in text


def test_classification_empty_input():
    r = classification_metrics([], [], CLASSES, groups=[])
    assert r["accuracy"] is None
    assert r["n"] == 0
    assert all(v is None for v in r["macro"].values())
    assert r["per_group"] == []
    json.dumps(r, allow_nan=False)


def test_classification_perfect_and_worst():
    truth = ["normal", "bulge", "herniation", "bulge"]
    perfect = classification_metrics(truth, truth, CLASSES)
    assert perfect["accuracy"] == 1.0
    assert all(perfect["macro"][k] == 1.0 for k in perfect["macro"])
    worst = classification_metrics(truth, ["bulge", "herniation", "normal", "normal"], CLASSES)
    assert worst["accuracy"] == 0.0
    assert worst["macro"]["sensitivity"] == 0.0
    assert worst["macro"]["f1"] == 0.0


def test_classification_probabilities_auc_and_log_loss():
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    truth = ["neg", "neg", "pos", "pos"]
    probs = np.stack([1 - scores, scores], axis=1)
    r = classification_metrics(
        truth, ["neg", "pos", "neg", "pos"], ["neg", "pos"], probabilities=probs
    )
    assert r["probabilities"]["auc"]["pos"] == pytest.approx(0.75)
    assert r["probabilities"]["auc"]["neg"] == pytest.approx(0.75)
    assert r["probabilities"]["macro_auc"] == pytest.approx(0.75)
    expected = -np.mean(np.log([0.9, 0.6, 0.35, 0.8]))
    assert r["probabilities"]["log_loss"] == pytest.approx(expected)
    brier = np.mean([2 * 0.1**2, 2 * 0.4**2, 2 * 0.65**2, 2 * 0.2**2])
    assert r["probabilities"]["brier"] == pytest.approx(brier)


def test_classification_auc_undefined_for_absent_class():
    probs = [[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]]
    r = classification_metrics(
        ["normal", "bulge"], ["normal", "normal"], CLASSES, probabilities=probs
    )
    assert r["probabilities"]["auc"]["herniation"] is None
    assert r["probabilities"]["auc"]["normal"] == pytest.approx(1.0)


def test_classification_rejects_bad_input():
    with pytest.raises(ValueError, match="not one of the classes"):
        classification_metrics(["normal"], ["slipped"], CLASSES)
    with pytest.raises(ValueError, match="samples"):
        classification_metrics(["normal"], [], CLASSES)
    with pytest.raises(ValueError, match="groups"):
        classification_metrics(["normal"], ["normal"], CLASSES, groups=["L1-L2", "L2-L3"])
    with pytest.raises(ValueError, match="shape"):
        classification_metrics(["normal"], ["normal"], CLASSES, probabilities=[[1.0, 0.0]])


def test_sort_keys():
    labels = ["S1", "L5", "T12", "C7", "L1", "Co1", "foo"]
    assert sorted(labels, key=vertebra_sort_key) == ["C7", "T12", "L1", "L5", "S1", "Co1", "foo"]
    levels = ["S1-S2", "L5-S1", "C6-C7", "L1-L2", "T12-L1"]
    assert sorted(levels, key=level_sort_key) == ["T12-L1", "L1-L2", "L5-S1", "C6-C7", "S1-S2"]


# --------------------------------------------------------------------------- identification


def test_identification_verse_rule():
    truth = [[("L1", (0, 0, 0)), ("L2", (0, 0, 30)), ("L3", (0, 0, 60))]]
    pred = [[("L1", (0, 0, 3)), ("L2", (0, 0, 55)), ("L3", (0, 0, 70))]]
    r = identification(pred, truth)
    # L1: nearest prediction is L1 at 3 mm -> identified.
    # L2: nearest is L2 at 25 mm (> 20 mm) -> not identified.
    # L3: nearest is the wrongly labelled L2 at 5 mm, the L3 lies 10 mm away -> not identified.
    assert r["n_truth"] == 3
    assert r["n_identified"] == 1
    assert r["rate"] == pytest.approx(1 / 3)
    ident = r["localisation_error_mm"]["identified"]
    assert ident == {"n": 1, "mean": 3.0, "median": 3.0, "max": 3.0}
    matched = r["localisation_error_mm"]["label_matched"]
    assert matched["n"] == 3
    assert matched["mean"] == pytest.approx((3 + 25 + 10) / 3)
    assert matched["median"] == pytest.approx(10.0)
    assert r["per_label"]["L1"] == {"n": 1, "identified": 1, "rate": 1.0, "mean_error_mm": 3.0}
    assert r["per_label"]["L2"]["rate"] == 0.0
    assert r["per_label"]["L3"]["identified"] == 0


def test_identification_radius_is_inclusive_and_3d():
    truth = [{"L4": (10.0, 20.0, 30.0)}]
    at_edge = [{"L4": (10.0 + 12.0, 20.0 + 16.0, 30.0)}]  # 20 mm exactly (12-16-20)
    assert identification(at_edge, truth)["rate"] == 1.0
    beyond = [{"L4": (10.0 + 12.0, 20.0 + 16.1, 30.0)}]
    assert identification(beyond, truth)["rate"] == 0.0
    assert identification(beyond, truth, radius_mm=25.0)["rate"] == 1.0


def test_identification_several_cases_missing_predictions_and_order():
    truth = {
        "study-a": [("L5", (0, 0, 0)), ("S1", (0, 0, -30))],
        "study-b": [("T12", (0, 0, 0)), ("L1", (0, 0, 30))],
    }
    pred = {
        "study-a": [("L5", (1, 0, 0)), ("S1", (0, 0, -31)), ("L6", (0, 0, 40))],
    }
    r = identification(pred, truth)
    assert r["n_cases"] == 2
    assert (r["n_truth"], r["n_pred"], r["n_identified"]) == (4, 3, 2)
    assert r["rate"] == 0.5
    assert r["n_label_missing"] == 2
    assert r["n_pred_label_not_in_truth"] == 1
    assert list(r["per_label"]) == ["T12", "L1", "L5", "S1"]
    assert r["per_case"][1] == {
        "case": "study-b",
        "n_truth": 2,
        "n_pred": 0,
        "n_identified": 0,
        "rate": 0.0,
    }
    assert r["localisation_error_mm"]["identified"]["mean"] == pytest.approx(1.0)


def test_identification_perfect_and_empty():
    truth = [[("L1", (0, 0, 0)), ("L2", (0, 0, 30))]]
    r = identification(truth, truth)
    assert r["rate"] == 1.0
    assert r["localisation_error_mm"]["identified"]["mean"] == 0.0
    empty = identification([], [])
    assert empty["rate"] is None
    assert empty["localisation_error_mm"]["identified"]["mean"] is None
    json.dumps(empty, allow_nan=False)
    with pytest.raises(ValueError):
        identification([[]], [[], []])


# --------------------------------------------------------------------------- box IoU


def test_box_iou_vectorised():
    a = [[0, 0, 2, 2], [1, 1, 3, 3]]
    b = [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6], [0, 0, 4, 1]]
    iou = box_iou(a, b)
    assert iou.shape == (2, 4)
    np.testing.assert_allclose(
        iou,
        [[1 / 7, 1.0, 0.0, 2 / 6], [1.0, 1 / 7, 0.0, 0.0]],
    )
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)
    assert box_iou([1, 1, 1, 1], [1, 1, 1, 1])[0, 0] == 0.0  # empty union, no NaN


# --------------------------------------------------------------------------- average precision

# The worked example of Padilla et al. (github.com/rafaelpadilla/Object-Detection-Metrics,
# "A Survey on Performance Metrics for Object-Detection Algorithms", 2020): 7 images, 15
# ground-truth and 24 detected "person" boxes (x, y, w, h), IoU threshold 0.3, all-point
# interpolated AP = 24.57 %. That code measures boxes in whole pixels ((x1 - x0 + 1) wide),
# so the boxes are converted to continuous xyxy as (x, y, x + w + 1, y + h + 1).
_PADILLA_DET = {
    1: [(0.88, 5, 67, 31, 48), (0.70, 119, 111, 40, 67), (0.80, 124, 9, 49, 67)],
    2: [(0.71, 64, 111, 64, 58), (0.54, 26, 140, 60, 47), (0.74, 19, 18, 43, 35)],
    3: [
        (0.18, 109, 15, 77, 39),
        (0.67, 86, 63, 46, 45),
        (0.38, 160, 62, 36, 53),
        (0.91, 105, 131, 47, 47),
        (0.44, 18, 148, 40, 44),
    ],
    4: [
        (0.35, 83, 28, 28, 26),
        (0.78, 28, 68, 42, 67),
        (0.45, 87, 89, 25, 39),
        (0.14, 10, 155, 60, 26),
    ],
    5: [
        (0.62, 50, 38, 28, 46),
        (0.44, 95, 11, 53, 28),
        (0.95, 29, 131, 72, 29),
        (0.23, 29, 163, 72, 29),
    ],
    6: [(0.45, 43, 48, 74, 38), (0.84, 17, 155, 29, 35), (0.43, 95, 110, 25, 42)],
    7: [(0.48, 16, 20, 101, 88), (0.95, 33, 116, 37, 49)],
}
_PADILLA_GT = {
    1: [(25, 16, 38, 56), (129, 123, 41, 62)],
    2: [(123, 11, 43, 55), (38, 132, 59, 45)],
    3: [(16, 14, 35, 48), (123, 30, 49, 44), (99, 139, 47, 47)],
    4: [(53, 42, 40, 52), (154, 43, 31, 34)],
    5: [(59, 31, 44, 51), (48, 128, 34, 52)],
    6: [(36, 89, 52, 76), (62, 58, 44, 67)],
    7: [(28, 31, 55, 63), (58, 67, 50, 58)],
}


def _xyxy(x, y, w, h):
    return [x, y, x + w + 1, y + h + 1]


def test_average_precision_textbook_example():
    dets = [
        {
            "boxes": [_xyxy(*d[1:]) for d in _PADILLA_DET[i]],
            "labels": ["person"] * len(_PADILLA_DET[i]),
            "scores": [d[0] for d in _PADILLA_DET[i]],
        }
        for i in range(1, 8)
    ]
    gts = [
        {"boxes": [_xyxy(*g) for g in _PADILLA_GT[i]], "labels": ["person"] * 2}
        if i != 3
        else {"boxes": [_xyxy(*g) for g in _PADILLA_GT[i]], "labels": ["person"] * 3}
        for i in range(1, 8)
    ]
    r = average_precision(dets, gts, iou_threshold=0.3)
    person = r["per_class"]["person"]
    assert (person["n_truth"], person["n_detections"], person["tp"], person["fp"]) == (
        15,
        24,
        7,
        17,
    )
    # Envelope: recall 1/15 at precision 1, 2/15 at 2/3, 6/15 at 6/14, 7/15 at 7/23.
    expected = (
        Fraction(1, 15)
        + Fraction(1, 15) * Fraction(2, 3)
        + Fraction(4, 15) * Fraction(6, 14)
        + Fraction(1, 15) * Fraction(7, 23)
    )
    assert person["ap"] == pytest.approx(float(expected), abs=1e-12)
    assert round(100 * person["ap"], 2) == 24.57
    assert r["mean_ap"] == person["ap"]
    published_precision = [
        1.00,
        0.50,
        0.67,
        0.50,
        0.40,
        0.33,
        0.29,
        0.25,
        0.22,
        0.30,
        0.27,
        0.33,
        0.38,
        0.43,
        0.40,
        0.38,
        0.35,
        0.33,
        0.32,
        0.30,
        0.29,
        0.27,
        0.30,
        0.29,
    ]
    published_recall = [
        0.07,
        0.07,
        0.13,
        0.13,
        0.13,
        0.13,
        0.13,
        0.13,
        0.13,
        0.20,
        0.20,
        0.27,
        0.33,
        0.40,
        0.40,
        0.40,
        0.40,
        0.40,
        0.40,
        0.40,
        0.40,
        0.40,
        0.47,
        0.47,
    ]
    np.testing.assert_allclose(person["pr_curve"]["precision"], published_precision, atol=0.005)
    np.testing.assert_allclose(person["pr_curve"]["recall"], published_recall, atol=0.005)
    # Best F1: 6 TP after 14 detections (P 6/14, R 6/15) versus 7 after 23.
    assert person["precision_at_best_f1"] == pytest.approx(6 / 14)
    assert person["recall_at_best_f1"] == pytest.approx(6 / 15)
    assert person["best_f1"] == pytest.approx(2 * 6 / (14 + 15))
    assert person["score_at_best_f1"] == pytest.approx(0.48)  # the 14th score


def test_average_precision_perfect_duplicates_and_misses():
    gt = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": ["screw", "screw"]}]
    perfect = [
        {"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": ["screw"] * 2, "scores": [0.9, 0.8]}
    ]
    assert average_precision(perfect, gt)["per_class"]["screw"]["ap"] == 1.0

    # A duplicate of a matched box is a false positive; the second box found later.
    dup = [
        {
            "boxes": [[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 30]],
            "labels": ["screw"] * 3,
            "scores": [0.9, 0.8, 0.7],
        }
    ]
    r = average_precision(dup, gt)["per_class"]["screw"]
    assert (r["tp"], r["fp"]) == (2, 1)
    np.testing.assert_allclose(r["pr_curve"]["precision"], [1.0, 0.5, 2 / 3])
    np.testing.assert_allclose(r["pr_curve"]["recall"], [0.5, 0.5, 1.0])
    assert r["ap"] == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)

    # Highest score wrong, the next right: AP = 0.5 for a single ground-truth box.
    one = [{"boxes": [[0, 0, 10, 10]], "labels": ["cage"]}]
    det = [
        {"boxes": [[50, 50, 60, 60], [0, 0, 10, 10]], "labels": ["cage"] * 2, "scores": [0.9, 0.8]}
    ]
    r = average_precision(det, one)["per_class"]["cage"]
    assert r["ap"] == pytest.approx(0.5)
    assert r["best_f1"] == pytest.approx(2 / 3)
    assert r["score_at_best_f1"] == pytest.approx(0.8)


def test_average_precision_iou_threshold_boundary():
    gt = [{"boxes": [[0, 0, 10, 10]], "labels": [1]}]
    half = [{"boxes": [[0, 0, 10, 20]], "labels": [1], "scores": [0.5]}]  # IoU exactly 0.5
    assert average_precision(half, gt, iou_threshold=0.5)["per_class"]["1"]["ap"] == 1.0
    assert average_precision(half, gt, iou_threshold=0.51)["per_class"]["1"]["ap"] == 0.0


def test_average_precision_matches_next_unmatched_box():
    # Both detections overlap box A best; the second one still overlaps box B enough.
    gt = [{"boxes": [[0, 0, 10, 10], [2, 0, 12, 10]], "labels": ["rod", "rod"]}]
    det = [
        {"boxes": [[0, 0, 10, 10], [1, 0, 11, 10]], "labels": ["rod", "rod"], "scores": [0.9, 0.8]}
    ]
    r = average_precision(det, gt)["per_class"]["rod"]
    assert (r["tp"], r["fp"]) == (2, 0)
    assert r["ap"] == 1.0


def test_average_precision_no_detections_and_class_without_truth():
    gt = [{"boxes": [[0, 0, 10, 10]], "labels": [1]}, {"boxes": [], "labels": []}]
    det = [
        {"boxes": [], "labels": [], "scores": []},
        {"boxes": [[0, 0, 5, 5]], "labels": [2], "scores": [0.7]},
    ]
    r = average_precision(det, gt, classes={1: "Lum", 2: "sco"})
    lum, sco = r["per_class"]["Lum"], r["per_class"]["sco"]
    assert lum["ap"] == 0.0
    assert lum["n_detections"] == 0
    assert lum["best_f1"] == 0.0 and lum["recall_at_best_f1"] == 0.0
    assert lum["precision"] is None
    assert sco["ap"] is None  # no ground truth: undefined, left out of the mean
    assert sco["fp"] == 1
    assert r["mean_ap"] == 0.0
    json.dumps(r, allow_nan=False)


def test_average_precision_mean_over_classes_and_mapping_input():
    gt = {"img1": {"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": ["a", "b"]}}
    det = {
        "img1": ([[0, 0, 10, 10], [50, 50, 60, 60]], ["a", "b"], [0.9, 0.9]),
        "img2": ([[0, 0, 10, 10]], ["b"], [0.95]),  # an image without truth: a false positive
    }
    r = average_precision(det, gt)
    assert r["n_images"] == 2
    assert r["per_class"]["a"]["ap"] == 1.0
    assert r["per_class"]["b"]["ap"] == 0.0
    assert r["mean_ap"] == 0.5


def test_average_precision_needs_scores():
    gt = [{"boxes": [[0, 0, 1, 1]], "labels": [1]}]
    with pytest.raises(ValueError, match="scores"):
        average_precision([{"boxes": [[0, 0, 1, 1]], "labels": [1]}], gt)


# --------------------------------------------------------------------------- Cobb angles


def test_cobb_single_angle_per_case():
    r = cobb_metrics([10.0, 20.0], [12.0, 16.0])
    assert r["n_cases"] == 2
    assert r["mae_deg"] == pytest.approx(3.0)
    assert r["rmse_deg"] == pytest.approx(math.sqrt(10.0))
    assert r["max_error_deg"] == pytest.approx(4.0)
    assert r["bias_deg"] == pytest.approx(1.0)
    assert r["smape_percent"] == pytest.approx(100 * (2 / 22 + 4 / 36) / 2)


def test_cobb_smape_aasce_several_angles_per_case():
    pred = [[10, 20, 5], [30, 0, 10]]
    true = [[12, 18, 5], [25, 0, 10]]
    r = cobb_metrics(pred, true)
    # Case 1: (2 + 2 + 0) / (22 + 38 + 10) = 4/70; case 2: 5 / (55 + 0 + 20) = 5/75.
    assert r["smape_percent"] == pytest.approx(100 * (4 / 70 + 5 / 75) / 2)
    assert r["mae_deg"] == pytest.approx(9 / 6)
    assert r["per_angle_mae_deg"] == pytest.approx([3.5, 1.0, 0.0])
    assert r["n_angles"] == 6
    assert cobb_metrics(np.array(pred), np.array(true)) == r


def test_cobb_perfect_worst_zero_and_ragged():
    assert cobb_metrics([15, 40], [15, 40])["smape_percent"] == 0.0
    assert cobb_metrics([0.0, 0.0], [0.0, 0.0])["smape_percent"] == 0.0  # 0/0 counts 0
    assert cobb_metrics([0.0], [30.0])["smape_percent"] == pytest.approx(100.0)
    ragged = cobb_metrics([[10], [20, 30]], [[10], [20, 40]])
    assert ragged["per_angle_mae_deg"] is None
    assert ragged["smape_percent"] == pytest.approx(100 * (0 + 10 / 110) / 2)


def test_cobb_empty_and_invalid():
    empty = cobb_metrics([], [])
    assert empty["mae_deg"] is None and empty["smape_percent"] is None
    with pytest.raises(ValueError, match="non-negative"):
        cobb_metrics([-5.0], [5.0])
    with pytest.raises(ValueError, match="cases"):
        cobb_metrics([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="angles"):
        cobb_metrics([[1.0, 2.0]], [[1.0]])
