"""Evaluation metrics for the spine models (numpy only: no torch, no Qt).

Every function returns a plain, JSON-ready ``dict`` (Python floats, ints, strings,
lists, ``None``); a metric that is undefined for the data (a class never present,
no detections, no cases) is ``None``, never NaN.

* :func:`classification_metrics`: accuracy, per-class sensitivity / specificity /
  precision / F1, confusion matrix, per-level accuracy (the shape of seed 003's table).
* :func:`identification`: vertebra identification rate (VerSe definition) and
  localisation error in mm.
* :func:`average_precision`: detection AP at an IoU threshold (all-point interpolation).
* :func:`cobb_metrics`: Cobb angle MAE / RMSE and SMAPE (AASCE 2019).
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.ai.detection import box_iou
from spineviewer.training.temperature import expected_calibration_error

__all__ = [
    "LEVEL_ORDER",
    "average_precision",
    "classification_metrics",
    "cobb_metrics",
    "identification",
    "level_sort_key",
    "vertebra_sort_key",
]

#: Disc levels in the order of seed 003's per-level table (T12-L1 first when present).
LEVEL_ORDER: tuple[str, ...] = ("T12-L1", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")

_REGION = {"C": 0, "T": 1, "L": 2, "S": 3, "CO": 4, "CX": 4}
_VERTEBRA_RE = re.compile(r"^(CO|CX|C|T|L|S)(\d+)$", re.IGNORECASE)


# --------------------------------------------------------------------------- helpers


def _ratio(num: float, den: float) -> float | None:
    """``num / den`` as a float, ``None`` when the denominator is zero."""
    return float(num) / float(den) if den else None


def _mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not ``None``; ``None`` when there are none."""
    kept = [float(v) for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _scalar(value: Any) -> Any:
    """A numpy scalar as the matching Python scalar (JSON-ready)."""
    return value.item() if isinstance(value, np.generic) else value


def vertebra_sort_key(label: Any) -> tuple[int, int, int, str]:
    """Anatomical order: C1..C7, T1..T13, L1..L6, S1.., Co..; integers (VerSe ids) by value."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        return (0, int(label), 0, "")
    text = str(label).strip()
    match = _VERTEBRA_RE.match(text)
    if match:
        return (1, _REGION[match.group(1).upper()], int(match.group(2)), "")
    return (2, 0, 0, text)


def level_sort_key(level: Any) -> tuple[int, int, tuple[int, int, int, str], str]:
    """Seed 003's order (T12-L1, L1-L2 .. L5-S1) first, then other levels anatomically."""
    text = str(level)
    if text in LEVEL_ORDER:
        return (0, LEVEL_ORDER.index(text), (0, 0, 0, ""), "")
    upper = text.split("-", 1)[0]
    return (1, 0, vertebra_sort_key(upper), text)


# --------------------------------------------------------------------------- classification


def _label_index(values: Sequence[Any], classes: Sequence[Any], what: str) -> NDArray[np.intp]:
    """Indices of ``values`` in ``classes``; integers in range stand for ``classes[i]``."""
    lookup: dict[Any, int] = {}
    for i, c in enumerate(classes):
        lookup.setdefault(_scalar(c), i)
    integer_classes = all(isinstance(_scalar(c), int) and not isinstance(c, bool) for c in classes)
    out = np.empty(len(values), dtype=np.intp)
    for n, raw in enumerate(values):
        v = _scalar(raw)
        if isinstance(v, Hashable) and v in lookup:
            out[n] = lookup[v]
        elif (
            not integer_classes
            and isinstance(v, int)
            and not isinstance(v, bool)
            and 0 <= v < len(classes)
        ):
            out[n] = v
        else:
            raise ValueError(f"{what}[{n}] = {raw!r} is not one of the classes {list(classes)}")
    return out


def _roc_auc(scores: NDArray[np.float64], positive: NDArray[np.bool_]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U, ties counted half); ``None`` if undefined."""
    n_pos = int(positive.sum())
    n_neg = int(positive.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size, dtype=np.float64)
    i = 0
    while i < sorted_scores.size:
        j = i
        while j + 1 < sorted_scores.size and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def classification_metrics(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    classes: Sequence[Any],
    groups: Sequence[Any] | None = None,
    probabilities: ArrayLike | None = None,
) -> dict[str, Any]:
    """Multi-class metrics, one-vs-rest per class, and per-group (disc level) accuracy.

    ``y_true`` and ``y_pred`` hold members of ``classes`` (or, for non-integer classes,
    integer indices into it). ``groups`` is one key per sample (e.g. the disc level
    ``"L4-L5"``); ``None`` entries are grouped as ``"unknown"``. ``probabilities`` is an
    ``(n_samples, n_classes)`` array whose columns follow ``classes``.

    Result::

        {"task": "classification", "n": int, "classes": [str],
         "accuracy": float | None, "n_correct": int,
         "per_class": {name: {"support", "predicted", "tp", "fp", "fn", "tn",
                              "accuracy", "sensitivity", "specificity", "precision", "f1"}},
         "macro": {"sensitivity", "specificity", "precision", "f1"},
         "weighted_f1": float | None,
         "confusion_matrix": {"labels": [str], "matrix": [[int]]},  # rows truth, cols pred
         "per_group": [{"group", "n", "correct", "accuracy"}] | None,  # level order
         "probabilities": {"auc": {name: float | None}, "macro_auc", "log_loss",
                           "brier", "ece"} | None}  # ece: top-label, 15 bins

    Sensitivity is ``None`` for a class never present, precision ``None`` for a class
    never predicted, F1 (``2TP / (2TP + FP + FN)``) ``None`` only for a class neither
    present nor predicted; macro averages skip ``None`` values.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} samples, y_pred {len(y_pred)}")
    if len(classes) == 0:
        raise ValueError("classes is empty")
    names = [str(_scalar(c)) for c in classes]
    k = len(classes)
    t = _label_index(y_true, classes, "y_true")
    p = _label_index(y_pred, classes, "y_pred")
    n = int(t.size)

    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    n_correct = int(np.trace(cm))

    per_class: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        tp = int(cm[i, i])
        fn = int(cm[i, :].sum() - tp)
        fp = int(cm[:, i].sum() - tp)
        tn = n - tp - fn - fp
        sensitivity = _ratio(tp, tp + fn)
        precision = _ratio(tp, tp + fp)
        per_class[name] = {
            "support": tp + fn,
            "predicted": tp + fp,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "accuracy": _ratio(tp + tn, n),
            "sensitivity": sensitivity,
            "specificity": _ratio(tn, tn + fp),
            "precision": precision,
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        }

    macro = {
        key: _mean(row[key] for row in per_class.values())
        for key in ("sensitivity", "specificity", "precision", "f1")
    }
    weighted = [
        (row["f1"], row["support"])
        for row in per_class.values()
        if row["f1"] is not None and row["support"]
    ]
    weighted_f1 = (
        float(sum(f * s for f, s in weighted) / sum(s for _, s in weighted)) if weighted else None
    )

    per_group: list[dict[str, Any]] | None = None
    if groups is not None:
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries for {n} samples")
        tally: dict[str, list[int]] = {}
        for g, ti, pi in zip(groups, t, p, strict=True):
            key = "unknown" if g is None else str(_scalar(g))
            row = tally.setdefault(key, [0, 0])
            row[0] += 1
            row[1] += int(ti == pi)
        per_group = [
            {"group": g, "n": c[0], "correct": c[1], "accuracy": _ratio(c[1], c[0])}
            for g, c in sorted(tally.items(), key=lambda item: level_sort_key(item[0]))
        ]

    prob_block: dict[str, Any] | None = None
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype=np.float64)
        if probs.shape != (n, k):
            raise ValueError(f"probabilities have shape {probs.shape}, expected {(n, k)}")
        auc = {name: _roc_auc(probs[:, i], t == i) for i, name in enumerate(names)}
        onehot = np.zeros((n, k), dtype=np.float64)
        onehot[np.arange(n), t] = 1.0
        eps = 1e-15
        prob_block = {
            "auc": auc,
            "macro_auc": _mean(auc.values()),
            "log_loss": (
                float(-np.mean(np.log(np.clip(probs[np.arange(n), t], eps, 1.0)))) if n else None
            ),
            "brier": float(np.mean(np.sum((probs - onehot) ** 2, axis=1))) if n else None,
            "ece": expected_calibration_error(probs, t),
        }

    return {
        "task": "classification",
        "n": n,
        "classes": names,
        "accuracy": _ratio(n_correct, n),
        "n_correct": n_correct,
        "per_class": per_class,
        "macro": macro,
        "weighted_f1": weighted_f1,
        "confusion_matrix": {"labels": names, "matrix": cm.tolist()},
        "per_group": per_group,
        "probabilities": prob_block,
    }


# --------------------------------------------------------------------------- identification

VertebraCase = Mapping[Any, ArrayLike] | Sequence[tuple[Any, ArrayLike]]


def _align_cases(pred: Any, truth: Any) -> list[tuple[str, Any, Any]]:
    """``(case id, pred case, truth case)`` for sequences (by index) or mappings (by key)."""
    if isinstance(truth, Mapping) or isinstance(pred, Mapping):
        if not (isinstance(truth, Mapping) and isinstance(pred, Mapping)):
            raise TypeError("pred and truth must both be sequences or both be mappings")
        keys = list(truth.keys()) + [key for key in pred if key not in truth]
        return [(str(key), pred.get(key), truth.get(key)) for key in keys]
    if len(pred) != len(truth):
        raise ValueError(f"pred has {len(pred)} cases, truth {len(truth)}")
    return [(str(i), pc, tc) for i, (pc, tc) in enumerate(zip(pred, truth, strict=True))]


def _vertebrae(case: Any) -> tuple[list[Any], NDArray[np.float64]]:
    """Labels and an ``(n, d)`` array of centres from a mapping or (label, centre) pairs."""
    if case is None:
        return [], np.zeros((0, 3))
    items = list(case.items()) if isinstance(case, Mapping) else list(case)
    labels = [_scalar(label) for label, _ in items]
    if not items:
        return [], np.zeros((0, 3))
    centres = np.asarray([np.asarray(c, dtype=np.float64).ravel() for _, c in items])
    if centres.ndim != 2:
        raise ValueError("vertebra centres must all have the same number of coordinates")
    return labels, centres


def _stats(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "mean": None, "median": None, "max": None}
    arr = np.asarray(values, dtype=np.float64)
    return {
        "n": int(arr.size),
        "mean": float(arr.mean()),
        "median": float(np.median(arr)),
        "max": float(arr.max()),
    }


def identification(
    pred: Sequence[VertebraCase] | Mapping[Any, VertebraCase],
    truth: Sequence[VertebraCase] | Mapping[Any, VertebraCase],
    radius_mm: float = 20.0,
) -> dict[str, Any]:
    """Vertebra identification rate by the VerSe definition, and localisation error.

    ``pred`` and ``truth`` hold one entry per case (a study or an image): either a
    mapping ``label -> centre`` or a list of ``(label, centre)`` pairs, centres in mm
    (x, y, z; 2-D centres work too). Both may also be mappings ``case id -> case``.

    For every ground-truth vertebra, the predicted vertebra whose centre is nearest
    to the ground-truth centre (whatever its label) is taken; the vertebra is
    *identified* when that prediction has the same label and lies within
    ``radius_mm``. A correct label farther than the radius fails, and so does a
    correct label that is farther than a wrongly labelled prediction.

    Result::

        {"task": "identification", "radius_mm", "n_cases", "n_truth", "n_pred",
         "n_identified", "rate": float | None,
         "n_label_missing": int,        # ground truth with no prediction of that label
         "n_pred_label_not_in_truth": int,
         "localisation_error_mm": {"identified": {"n", "mean", "median", "max"},
                                   "label_matched": {"n", "mean", "median", "max"}},
         "per_label": {label: {"n", "identified", "rate", "mean_error_mm"}},  # anatomical
         "per_case": [{"case", "n_truth", "n_pred", "n_identified", "rate"}]}

    ``label_matched`` is the distance from each ground-truth centre to the nearest
    prediction with its label, wherever it lies (VerSe's localisation distance).
    """
    if radius_mm <= 0:
        raise ValueError("radius_mm must be positive")
    identified_err: list[float] = []
    matched_err: list[float] = []
    per_label: dict[Any, list[Any]] = {}  # label -> [n, identified, errors]
    per_case: list[dict[str, Any]] = []
    n_truth = n_pred = n_identified = n_label_missing = n_extra = 0

    for case_id, pred_case, truth_case in _align_cases(pred, truth):
        p_labels, p_centres = _vertebrae(pred_case)
        t_labels, t_centres = _vertebrae(truth_case)
        n_truth += len(t_labels)
        n_pred += len(p_labels)
        truth_set = set(t_labels)
        n_extra += sum(1 for label in p_labels if label not in truth_set)
        case_hits = 0
        if p_labels and t_labels and p_centres.shape[1] != t_centres.shape[1]:
            raise ValueError(f"case {case_id}: predicted and true centres differ in dimension")
        for label, centre in zip(t_labels, t_centres, strict=True):
            row = per_label.setdefault(label, [0, 0, []])
            row[0] += 1
            if not p_labels:
                n_label_missing += 1
                continue
            dist = np.linalg.norm(p_centres - centre, axis=1)
            nearest = int(np.argmin(dist))
            same = [i for i, pl in enumerate(p_labels) if pl == label]
            if same:
                matched_err.append(float(dist[same].min()))
            else:
                n_label_missing += 1
            if p_labels[nearest] == label and dist[nearest] <= radius_mm:
                case_hits += 1
                identified_err.append(float(dist[nearest]))
                row[1] += 1
                row[2].append(float(dist[nearest]))
        n_identified += case_hits
        per_case.append(
            {
                "case": case_id,
                "n_truth": len(t_labels),
                "n_pred": len(p_labels),
                "n_identified": case_hits,
                "rate": _ratio(case_hits, len(t_labels)),
            }
        )

    labels_sorted = sorted(per_label, key=vertebra_sort_key)
    return {
        "task": "identification",
        "radius_mm": float(radius_mm),
        "n_cases": len(per_case),
        "n_truth": n_truth,
        "n_pred": n_pred,
        "n_identified": n_identified,
        "rate": _ratio(n_identified, n_truth),
        "n_label_missing": n_label_missing,
        "n_pred_label_not_in_truth": n_extra,
        "localisation_error_mm": {
            "identified": _stats(identified_err),
            "label_matched": _stats(matched_err),
        },
        "per_label": {
            str(label): {
                "n": per_label[label][0],
                "identified": per_label[label][1],
                "rate": _ratio(per_label[label][1], per_label[label][0]),
                "mean_error_mm": _mean(per_label[label][2]) if per_label[label][2] else None,
            }
            for label in labels_sorted
        },
        "per_case": per_case,
    }


# --------------------------------------------------------------------------- detection


def _boxes_of(
    entry: Any, need_scores: bool
) -> tuple[NDArray[np.float64], list[Any], NDArray[np.float64]]:
    """Boxes, labels and scores of one image's entry (mapping or tuple)."""
    if entry is None:
        return np.zeros((0, 4)), [], np.zeros(0)
    if isinstance(entry, Mapping):
        boxes, labels, scores = entry.get("boxes", ()), entry.get("labels", ()), entry.get("scores")
    else:
        boxes, labels = entry[0], entry[1]
        scores = entry[2] if len(entry) > 2 else None
    box_arr = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    label_list = [_scalar(v) for v in np.asarray(labels, dtype=object).ravel()]
    if len(label_list) != len(box_arr):
        raise ValueError(f"{len(box_arr)} boxes but {len(label_list)} labels")
    if scores is None:
        if need_scores and len(box_arr):
            raise ValueError("detections need scores")
        score_arr = np.ones(len(box_arr))
    else:
        score_arr = np.asarray(scores, dtype=np.float64).ravel()
        if len(score_arr) != len(box_arr):
            raise ValueError(f"{len(box_arr)} boxes but {len(score_arr)} scores")
    return box_arr, label_list, score_arr


def _all_point_ap(recall: NDArray[np.float64], precision: NDArray[np.float64]) -> float:
    """Area under the monotone precision envelope (PASCAL VOC 2010+ all-point interpolation)."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def average_precision(
    detections: Sequence[Any] | Mapping[Any, Any],
    ground_truth: Sequence[Any] | Mapping[Any, Any],
    iou_threshold: float = 0.5,
    classes: Sequence[Any] | Mapping[Any, str] | None = None,
) -> dict[str, Any]:
    """Average precision per class at one IoU threshold, and the mean over classes.

    One entry per image, by index (sequences) or by image id (mappings): a mapping
    ``{"boxes": (n, 4) xyxy, "labels": (n,), "scores": (n,)}`` (``scores`` only for
    detections) or a tuple ``(boxes, labels[, scores])``. ``classes`` lists the labels
    to evaluate (default: every label seen, sorted), or maps label -> display name.

    Matching is greedy by descending score over all images of a class: a detection is
    a true positive when its best-overlapping ground-truth box among those not yet
    matched has IoU >= ``iou_threshold``; otherwise it is a false positive (a
    duplicate of a matched box included). AP is the all-point interpolated area under
    the precision-recall curve (PASCAL VOC 2010+; COCO's AP50 up to its 101-point
    sampling).

    Result::

        {"task": "detection", "iou_threshold", "n_images",
         "mean_ap": float | None,  # over classes with ground truth
         "per_class": {name: {"label", "ap": float | None, "n_truth", "n_detections",
                              "tp", "fp", "precision", "recall",       # at all detections
                              "best_f1", "precision_at_best_f1", "recall_at_best_f1",
                              "score_at_best_f1",
                              "pr_curve": {"recall": [...], "precision": [...],
                                           "scores": [...]}}}}

    AP is ``None`` for a class without ground truth; 0 for one with no detections.
    """
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError("iou_threshold must lie in [0, 1]")
    images = _align_cases(detections, ground_truth)
    parsed = [
        (_boxes_of(det, need_scores=True), _boxes_of(gt, need_scores=False))
        for _, det, gt in images
    ]

    if classes is None:
        seen: set[Any] = set()
        for (_, d_labels, _), (_, g_labels, _) in parsed:
            seen.update(d_labels)
            seen.update(g_labels)
        label_names = {label: str(label) for label in sorted(seen, key=vertebra_sort_key)}
    elif isinstance(classes, Mapping):
        label_names = {_scalar(k): str(v) for k, v in classes.items()}
    else:
        label_names = {_scalar(c): str(_scalar(c)) for c in classes}

    per_class: dict[str, dict[str, Any]] = {}
    for label, name in label_names.items():
        gt_boxes: list[NDArray[np.float64]] = []
        det_rows: list[tuple[float, int, NDArray[np.float64]]] = []
        for img, ((d_boxes, d_labels, d_scores), (g_boxes, g_labels, _)) in enumerate(parsed):
            gt_boxes.append(g_boxes[[i for i, gl in enumerate(g_labels) if gl == label]])
            det_rows.extend(
                (float(d_scores[i]), img, d_boxes[i])
                for i, dl in enumerate(d_labels)
                if dl == label
            )
        n_truth = int(sum(len(g) for g in gt_boxes))
        det_rows.sort(key=lambda row: -row[0])  # stable: ties keep input order
        matched = [np.zeros(len(g), dtype=bool) for g in gt_boxes]
        is_tp = np.zeros(len(det_rows), dtype=bool)
        for j, (_, img, box) in enumerate(det_rows):
            gts = gt_boxes[img]
            if not len(gts):
                continue
            ious = box_iou(box, gts)[0]
            ious[matched[img]] = -1.0
            best = int(np.argmax(ious))
            if ious[best] >= iou_threshold:
                is_tp[j] = True
                matched[img][best] = True
        tp_cum = np.cumsum(is_tp).astype(np.float64)
        fp_cum = np.cumsum(~is_tp).astype(np.float64)
        n_det = len(det_rows)
        scores = [row[0] for row in det_rows]
        if n_truth:
            recall = tp_cum / n_truth
            precision = tp_cum / np.maximum(tp_cum + fp_cum, 1e-300)
            ap: float | None = _all_point_ap(recall, precision) if n_det else 0.0
        else:
            recall = np.zeros(n_det)
            precision = tp_cum / np.maximum(tp_cum + fp_cum, 1e-300)
            ap = None
        best_f1: float | None = None
        p_best: float | None = None
        r_best: float | None = None
        s_best: float | None = None
        if n_det and n_truth:
            denom = precision + recall
            f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
            k = int(np.argmax(f1))
            best_f1, p_best, r_best, s_best = (
                float(f1[k]),
                float(precision[k]),
                float(recall[k]),
                scores[k],
            )
        elif n_truth:
            best_f1, r_best = 0.0, 0.0
        n_tp = int(is_tp.sum())
        per_class[name] = {
            "label": label,
            "ap": ap,
            "n_truth": n_truth,
            "n_detections": n_det,
            "tp": n_tp,
            "fp": n_det - n_tp,
            "precision": _ratio(n_tp, n_det),
            "recall": _ratio(n_tp, n_truth),
            "best_f1": best_f1,
            "precision_at_best_f1": p_best,
            "recall_at_best_f1": r_best,
            "score_at_best_f1": s_best,
            "pr_curve": {
                "recall": recall.tolist() if n_truth else [],
                "precision": precision.tolist() if n_truth else [],
                "scores": scores if n_truth else [],
            },
        }

    return {
        "task": "detection",
        "iou_threshold": float(iou_threshold),
        "n_images": len(images),
        "mean_ap": _mean(row["ap"] for row in per_class.values()),
        "per_class": per_class,
    }


# --------------------------------------------------------------------------- scoliosis


def _angle_cases(values: Any, what: str) -> list[NDArray[np.float64]]:
    """One 1-D array of angles per case, from a 1-D, 2-D or ragged input."""
    if isinstance(values, np.ndarray) and values.ndim <= 2:
        arr = values.astype(np.float64)
        return [row.reshape(-1) for row in (arr.reshape(-1, 1) if arr.ndim <= 1 else arr)]
    cases = [np.asarray(v, dtype=np.float64).reshape(-1) for v in values]
    for i, c in enumerate(cases):
        if not c.size:
            raise ValueError(f"{what}[{i}] has no angle")
    return cases


def cobb_metrics(pred_deg: Any, true_deg: Any) -> dict[str, Any]:
    """Cobb angle errors: MAE, RMSE, max error, bias and SMAPE (AASCE 2019).

    ``pred_deg`` and ``true_deg`` give one angle per case (1-D) or several per case
    (2-D, or a list of sequences; e.g. the proximal-thoracic, main-thoracic and
    thoracolumbar angles); the two must match case by case. Angles are in degrees
    and non-negative.

    SMAPE follows the AASCE 2019 challenge::

        SMAPE = 100/N * sum_i ( sum_j |p_ij - t_ij| / sum_j (p_ij + t_ij) )

    with j over the angles of case i (a case whose angles are all 0 in both counts 0).

    Result::

        {"task": "cobb", "n_cases", "n_angles", "mae_deg", "rmse_deg", "max_error_deg",
         "bias_deg" (mean of pred - true), "smape_percent",
         "per_angle_mae_deg": [float] | None,  # when every case has the same count
         "pairs": {"pred": [float], "true": [float]}}
    """
    preds = _angle_cases(pred_deg, "pred_deg")
    trues = _angle_cases(true_deg, "true_deg")
    if len(preds) != len(trues):
        raise ValueError(f"pred_deg has {len(preds)} cases, true_deg {len(trues)}")
    for i, (p, t) in enumerate(zip(preds, trues, strict=True)):
        if p.shape != t.shape:
            raise ValueError(f"case {i}: {p.size} predicted angles, {t.size} true angles")
        if (
            np.any(p < 0)
            or np.any(t < 0)
            or not (np.all(np.isfinite(p)) and np.all(np.isfinite(t)))
        ):
            raise ValueError(f"case {i}: Cobb angles must be finite and non-negative")
    if not preds:
        return {
            "task": "cobb",
            "n_cases": 0,
            "n_angles": 0,
            "mae_deg": None,
            "rmse_deg": None,
            "max_error_deg": None,
            "bias_deg": None,
            "smape_percent": None,
            "per_angle_mae_deg": None,
            "pairs": {"pred": [], "true": []},
        }
    p_all = np.concatenate(preds)
    t_all = np.concatenate(trues)
    err = p_all - t_all
    smape_terms = []
    for p, t in zip(preds, trues, strict=True):
        den = float(np.sum(p + t))
        smape_terms.append(float(np.sum(np.abs(p - t))) / den if den > 0 else 0.0)
    sizes = {p.size for p in preds}
    per_angle = (
        np.mean(np.abs(np.stack(preds) - np.stack(trues)), axis=0).tolist()
        if len(sizes) == 1
        else None
    )
    return {
        "task": "cobb",
        "n_cases": len(preds),
        "n_angles": int(p_all.size),
        "mae_deg": float(np.mean(np.abs(err))),
        "rmse_deg": float(math.sqrt(float(np.mean(err**2)))),
        "max_error_deg": float(np.max(np.abs(err))),
        "bias_deg": float(np.mean(err)),
        "smape_percent": 100.0 * float(np.mean(smape_terms)),
        "per_angle_mae_deg": per_angle,
        "pairs": {"pred": p_all.tolist(), "true": t_all.tolist()},
    }
