"""Evaluation report: ``metrics.json``, ``metrics.md`` and PNG plots (numpy only).

:func:`write_evaluation` takes a result dict made of sections, each the output of a
function of :mod:`spineviewer.training.metrics` (recognised by its ``"task"`` key:
``classification``, ``identification``, ``detection``, ``cobb``)::

    {"model": "disc-state 0.1" | {...},              # optional, described in the report
     "data": "lumbar-mr phantoms, seeds 1-20" | {...},  # optional, described in the report
     "classification": classification_metrics(...),
     "identification": identification(...),
     "implants": average_precision(...),           # any key; the section title is the key
     "cobb": cobb_metrics(...)}

A single metrics dict (with a ``"task"`` key at the top) is accepted as well. Plots
are drawn with matplotlib's Agg canvas when matplotlib is installed (imported lazily,
pyplot never touched, so a running Qt backend is left alone); without it the plots
are skipped and the Markdown says so.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["NOT_FOR_CLINICAL_USE", "write_evaluation"]

NOT_FOR_CLINICAL_USE = (
    "**Not for clinical use.** These metrics describe demonstration models; results on "
    "synthetic phantoms are not clinical accuracy."
)

_TASKS = ("classification", "identification", "detection", "cobb")
_NA = "n/a"


# --------------------------------------------------------------------------- formatting


def _pct(value: Any) -> str:
    return _NA if value is None else f"{100.0 * float(value):.1f}%"


def _num(value: Any, digits: int = 2) -> str:
    return _NA if value is None else f"{float(value):.{digits}f}"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _describe(value: Any) -> list[str]:
    if value is None:
        return ["Not described.", ""]
    if isinstance(value, Mapping):
        return [f"- **{_cell(k)}**: {_cell(v)}" for k, v in value.items()] + [""]
    if isinstance(value, (list, tuple)):
        return [f"- {_cell(v)}" for v in value] + [""]
    return [str(value), ""]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    return str(obj)


def _clean(obj: Any) -> Any:
    """NaN and infinities as ``None`` (strict JSON), numpy values as Python values."""
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "section"


def _sections(result: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if result.get("task") in _TASKS:
        return [(str(result["task"]), dict(result))]
    return [
        (str(key), dict(value))
        for key, value in result.items()
        if isinstance(value, Mapping) and value.get("task") in _TASKS
    ]


# --------------------------------------------------------------------------- Markdown


def _summary_rows(key: str, sec: Mapping[str, Any]) -> list[list[str]]:
    task = sec["task"]
    if task == "classification":
        macro = sec.get("macro", {})
        return [
            [key, "accuracy", _pct(sec.get("accuracy"))],
            [key, "macro sensitivity", _pct(macro.get("sensitivity"))],
            [key, "macro specificity", _pct(macro.get("specificity"))],
            [key, "macro F1", _pct(macro.get("f1"))],
            [key, "samples", str(sec.get("n"))],
        ]
    if task == "identification":
        loc = sec.get("localisation_error_mm", {}).get("identified", {})
        return [
            [
                key,
                f"identification rate (≤ {_num(sec.get('radius_mm'), 0)} mm)",
                _pct(sec.get("rate")),
            ],
            [key, "mean localisation error (identified)", f"{_num(loc.get('mean'))} mm"],
            [key, "vertebrae", str(sec.get("n_truth"))],
        ]
    if task == "detection":
        return [
            [key, f"mAP@{_num(sec.get('iou_threshold'))}", _pct(sec.get("mean_ap"))],
            [key, "images", str(sec.get("n_images"))],
        ]
    return [
        [key, "Cobb MAE", f"{_num(sec.get('mae_deg'))}°"],
        [key, "SMAPE (AASCE 2019)", f"{_num(sec.get('smape_percent'))}%"],
        [key, "cases", str(sec.get("n_cases"))],
    ]


def _classification_md(sec: Mapping[str, Any]) -> list[str]:
    lines = ["### Per class", ""]
    rows = [
        [
            name,
            _pct(r.get("accuracy")),
            _pct(r.get("sensitivity")),
            _pct(r.get("specificity")),
            _pct(r.get("precision")),
            _pct(r.get("f1")),
            r.get("support"),
        ]
        for name, r in sec.get("per_class", {}).items()
    ]
    macro = sec.get("macro", {})
    rows.append(
        [
            "**macro**",
            _pct(sec.get("accuracy")),
            _pct(macro.get("sensitivity")),
            _pct(macro.get("specificity")),
            _pct(macro.get("precision")),
            _pct(macro.get("f1")),
            sec.get("n"),
        ]
    )
    lines += _table(
        ["Class", "Accuracy", "Sensitivity", "Specificity", "Precision", "F1", "Support"], rows
    )
    lines.append(
        "Per-class accuracy is one-vs-rest; the macro row shows the overall accuracy. "
        "n/a: a class never present (sensitivity) or never predicted (precision)."
    )
    lines.append("")
    cm = sec.get("confusion_matrix")
    if cm:
        labels = list(cm.get("labels", []))
        lines += ["### Confusion matrix (rows: truth, columns: prediction)", ""]
        lines += _table(
            ["truth \\ prediction", *labels],
            [[label, *row] for label, row in zip(labels, cm.get("matrix", []), strict=False)],
        )
    groups = sec.get("per_group")
    if groups:
        lines += ["### Per level", ""]
        lines += _table(
            ["Level", "Samples", "Correct", "Accuracy"],
            [[g["group"], g["n"], g["correct"], _pct(g["accuracy"])] for g in groups],
        )
    probs = sec.get("probabilities")
    if probs:
        lines += ["### Probabilities", ""]
        rows = [[name, _num(v, 3)] for name, v in probs.get("auc", {}).items()]
        rows.append(["**macro**", _num(probs.get("macro_auc"), 3)])
        lines += _table(["Class", "ROC AUC (one-vs-rest)"], rows)
        lines.append(
            f"Log loss {_num(probs.get('log_loss'), 4)}, "
            f"Brier score {_num(probs.get('brier'), 4)}, expected calibration error "
            f"(top-label, 15 bins) {_num(probs.get('ece'), 4)}."
        )
        lines.append("")
    return lines


def _identification_md(sec: Mapping[str, Any]) -> list[str]:
    radius = _num(sec.get("radius_mm"), 0)
    loc = sec.get("localisation_error_mm", {})
    ident, matched = loc.get("identified", {}), loc.get("label_matched", {})
    lines = [
        f"VerSe definition: a vertebra is identified when the predicted centre nearest to its "
        f"true centre has the same label and lies within {radius} mm.",
        "",
    ]
    lines += _table(
        ["Measure", "Value"],
        [
            ["Identification rate", _pct(sec.get("rate"))],
            ["Identified / true vertebrae", f"{sec.get('n_identified')} / {sec.get('n_truth')}"],
            ["Predicted vertebrae", sec.get("n_pred")],
            ["Cases", sec.get("n_cases")],
            ["True labels never predicted", sec.get("n_label_missing")],
            ["Predicted labels not in truth", sec.get("n_pred_label_not_in_truth")],
            ["Localisation error, identified: mean (mm)", _num(ident.get("mean"))],
            ["Localisation error, identified: median (mm)", _num(ident.get("median"))],
            ["Localisation error, same label: mean (mm)", _num(matched.get("mean"))],
            ["Localisation error, same label: median (mm)", _num(matched.get("median"))],
        ],
    )
    per_label = sec.get("per_label") or {}
    if per_label:
        lines += ["### Per vertebra", ""]
        lines += _table(
            ["Label", "True", "Identified", "Rate", "Mean error (mm)"],
            [
                [k, r["n"], r["identified"], _pct(r["rate"]), _num(r["mean_error_mm"])]
                for k, r in per_label.items()
            ],
        )
    return lines


def _detection_md(sec: Mapping[str, Any]) -> list[str]:
    thr = _num(sec.get("iou_threshold"))
    rows = [
        [
            name,
            _pct(r.get("ap")),
            r.get("n_truth"),
            r.get("n_detections"),
            r.get("tp"),
            r.get("fp"),
            _pct(r.get("precision_at_best_f1")),
            _pct(r.get("recall_at_best_f1")),
            _pct(r.get("best_f1")),
            _num(r.get("score_at_best_f1")),
        ]
        for name, r in sec.get("per_class", {}).items()
    ]
    rows.append(["**mean**", _pct(sec.get("mean_ap")), "", "", "", "", "", "", "", ""])
    lines = [
        f"Average precision at IoU {thr} (all-point interpolation), "
        f"images: {sec.get('n_images')}; precision and recall at the score of best F1.",
        "",
    ]
    lines += _table(
        [
            "Class",
            f"AP@{thr}",
            "True boxes",
            "Detections",
            "TP",
            "FP",
            "Precision",
            "Recall",
            "F1",
            "Score",
        ],
        rows,
    )
    return lines


def _cobb_md(sec: Mapping[str, Any]) -> list[str]:
    rows: list[list[Any]] = [
        ["Cases", sec.get("n_cases")],
        ["Angles", sec.get("n_angles")],
        ["MAE (°)", _num(sec.get("mae_deg"))],
        ["RMSE (°)", _num(sec.get("rmse_deg"))],
        ["Max error (°)", _num(sec.get("max_error_deg"))],
        ["Bias, pred - true (°)", _num(sec.get("bias_deg"))],
        ["SMAPE (AASCE 2019, %)", _num(sec.get("smape_percent"))],
    ]
    per_angle = sec.get("per_angle_mae_deg")
    if per_angle and len(per_angle) > 1:
        rows += [[f"MAE of angle {i + 1} (°)", _num(v)] for i, v in enumerate(per_angle)]
    return _table(["Measure", "Value"], rows)


_MD = {
    "classification": _classification_md,
    "identification": _identification_md,
    "detection": _detection_md,
    "cobb": _cobb_md,
}


# --------------------------------------------------------------------------- plots


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _plot_classification(sec: Mapping[str, Any], out: Path, stem: str, title: str) -> list[Path]:
    paths: list[Path] = []
    cm = sec.get("confusion_matrix")
    if cm and cm.get("labels"):
        labels = list(cm["labels"])
        mat = np.asarray(cm["matrix"], dtype=np.float64).reshape(len(labels), len(labels))
        size = 2.5 + 0.9 * len(labels)
        fig = _new_figure(size + 1.0, size)
        ax = fig.add_subplot(1, 1, 1)
        image = ax.imshow(mat, cmap="Blues", vmin=0)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("prediction")
        ax.set_ylabel("truth")
        ax.set_title(f"{title}: confusion matrix")
        top = mat.max() if mat.size else 0.0
        for (r, c), v in np.ndenumerate(mat):
            ax.text(
                c,
                r,
                str(int(v)),
                ha="center",
                va="center",
                color="white" if top and v > top / 2 else "black",
            )
        paths.append(_save(fig, out / f"{stem}_confusion.png"))

    per_class = sec.get("per_class") or {}
    if per_class:
        names = list(per_class)
        keys = ("sensitivity", "specificity", "precision", "f1")
        fig = _new_figure(max(6.0, 1.6 * len(names) + 2), 4.0)
        ax = fig.add_subplot(1, 1, 1)
        width = 0.8 / len(keys)
        x = np.arange(len(names))
        for i, key in enumerate(keys):
            vals = [per_class[n].get(key) for n in names]
            ax.bar(
                x + (i - (len(keys) - 1) / 2) * width,
                [0.0 if v is None else 100.0 * v for v in vals],
                width,
                label=key,
            )
        ax.set_xticks(x, names)
        ax.set_ylim(0, 118)
        ax.set_yticks(range(0, 101, 20))
        ax.set_ylabel("%")
        ax.set_title(f"{title}: per class")
        ax.legend(loc="upper center", ncol=len(keys), fontsize="small")
        paths.append(_save(fig, out / f"{stem}_per_class.png"))

    groups = sec.get("per_group") or []
    if groups:
        names = [str(g["group"]) for g in groups]
        vals = [0.0 if g["accuracy"] is None else 100.0 * g["accuracy"] for g in groups]
        fig = _new_figure(max(6.0, 0.9 * len(names) + 2), 4.0)
        ax = fig.add_subplot(1, 1, 1)
        bars = ax.bar(names, vals, color="tab:blue")
        for bar, g in zip(bars, groups, strict=True):
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_height() + 1,
                f"{_pct(g['accuracy'])}\nn={g['n']}",
                ha="center",
                va="bottom",
                fontsize="small",
            )
        ax.set_ylim(0, 115)
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"{title}: accuracy per level")
        paths.append(_save(fig, out / f"{stem}_per_level.png"))
    return paths


def _plot_identification(sec: Mapping[str, Any], out: Path, stem: str, title: str) -> list[Path]:
    per_label = sec.get("per_label") or {}
    if not per_label:
        return []
    names = list(per_label)
    vals = [0.0 if r["rate"] is None else 100.0 * r["rate"] for r in per_label.values()]
    fig = _new_figure(max(6.0, 0.5 * len(names) + 2), 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(names, vals, color="tab:green")
    ax.set_ylim(0, 105)
    ax.set_ylabel("identification rate (%)")
    ax.set_title(f"{title}: identification per vertebra")
    return [_save(fig, out / f"{stem}_per_label.png")]


def _plot_detection(sec: Mapping[str, Any], out: Path, stem: str, title: str) -> list[Path]:
    per_class = sec.get("per_class") or {}
    if not per_class:
        return []
    fig = _new_figure(11.0, 4.5)
    ax_bar = fig.add_subplot(1, 2, 1)
    names = list(per_class)
    aps = [0.0 if r.get("ap") is None else 100.0 * r["ap"] for r in per_class.values()]
    ax_bar.bar(names, aps, color="tab:orange")
    ax_bar.set_ylim(0, 105)
    ax_bar.set_ylabel(f"AP@{_num(sec.get('iou_threshold'))} (%)")
    ax_bar.set_title(f"{title}: AP per class")
    ax_bar.tick_params(axis="x", labelrotation=30)
    ax_pr = fig.add_subplot(1, 2, 2)
    for name, r in per_class.items():
        curve = r.get("pr_curve") or {}
        rec, prec = curve.get("recall") or [], curve.get("precision") or []
        if rec:
            ax_pr.step(
                [0.0, *rec], [prec[0], *prec], where="post", label=f"{name} ({_pct(r['ap'])})"
            )
    ax_pr.set_xlim(0, 1.02)
    ax_pr.set_ylim(0, 1.05)
    ax_pr.set_xlabel("recall")
    ax_pr.set_ylabel("precision")
    ax_pr.set_title("precision-recall")
    if ax_pr.get_legend_handles_labels()[0]:
        ax_pr.legend(loc="lower left", fontsize="small")
    return [_save(fig, out / f"{stem}_ap.png")]


def _plot_cobb(sec: Mapping[str, Any], out: Path, stem: str, title: str) -> list[Path]:
    pairs = sec.get("pairs") or {}
    pred, true = pairs.get("pred") or [], pairs.get("true") or []
    if not pred:
        return []
    fig = _new_figure(5.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(true, pred, s=18, alpha=0.8)
    top = max(max(pred), max(true), 1.0) * 1.05
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.set_xlabel("true Cobb angle (°)")
    ax.set_ylabel("predicted Cobb angle (°)")
    ax.set_title(
        f"{title}: MAE {_num(sec.get('mae_deg'))}°, SMAPE {_num(sec.get('smape_percent'))}%"
    )
    return [_save(fig, out / f"{stem}_cobb.png")]


_PLOTS = {
    "classification": _plot_classification,
    "identification": _plot_identification,
    "detection": _plot_detection,
    "cobb": _plot_cobb,
}


def _matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends import backend_agg  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- entry point


def write_evaluation(
    result: Mapping[str, Any],
    out_dir: str | Path,
    title: str,
    not_for_clinical_use: bool = True,
) -> list[Path]:
    """Write ``metrics.json``, ``metrics.md`` and PNG plots into ``out_dir``.

    Returns the written paths: ``metrics.json``, ``metrics.md``, then the PNGs
    (``<section>_confusion.png``, ``_per_class.png``, ``_per_level.png``,
    ``_per_label.png``, ``_ap.png``, ``_cobb.png`` as the sections allow).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sections = _sections(result)

    plot_paths: list[Path] = []
    plot_note: str
    if not sections:
        plot_note = "No metrics to plot."
    elif _matplotlib_available():
        used: set[str] = set()
        for key, sec in sections:
            stem = _slug(key)
            while stem in used:
                stem += "_"
            used.add(stem)
            plot_paths += _PLOTS[sec["task"]](sec, out, stem, key)
        plot_note = "" if plot_paths else "No plots: the sections hold no data to draw."
    else:
        plot_note = "Plots skipped: matplotlib is not installed (`pip install matplotlib`)."

    payload: dict[str, Any] = {"title": title, "not_for_clinical_use": bool(not_for_clinical_use)}
    payload.update(_clean(result))
    json_path = out / "metrics.json"
    json_path.write_text(
        json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default, allow_nan=False)
        + "\n",
        encoding="utf-8",
    )

    lines = [f"# {title}", ""]
    if not_for_clinical_use:
        lines += [f"> {NOT_FOR_CLINICAL_USE}", ""]
    if "model" in result:
        lines += ["## Model", "", *_describe(result.get("model"))]
    lines += ["## Data", "", *_describe(result.get("data"))]
    lines += ["## Summary", ""]
    if sections:
        rows = [row for key, sec in sections for row in _summary_rows(key, sec)]
        lines += _table(["Section", "Metric", "Value"], rows)
    else:
        lines += ["No metrics in the result.", ""]
    for key, sec in sections:
        heading = key if key == sec["task"] else f"{key} ({sec['task']})"
        lines += [f"## {heading[:1].upper()}{heading[1:]}", ""]
        lines += _MD[sec["task"]](sec)
    lines += ["## Plots", ""]
    if plot_note:
        lines += [plot_note, ""]
    lines += [f"![{p.stem}]({p.name})" for p in plot_paths]
    if plot_paths:
        lines.append("")
    if not_for_clinical_use:
        lines += ["---", "", "Not for clinical use.", ""]
    md_path = out / "metrics.md"
    md_path.write_text("\n".join(lines), encoding="utf-8")
    return [json_path, md_path, *plot_paths]
