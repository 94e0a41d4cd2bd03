"""Adding study scores up, per study kind, per tag and overall, and printing them as a table.

Radiograph studies (:class:`~spineviewer.evaluation.score_xr.XrStudyScore`) are added up apart,
under ``spine_xr``, with their Cobb angle and implant figures.

Every rate comes with its counts (``right / total``) so small groups read as small; a rate over
nothing is null (JSON) or ``-`` (table).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from spineviewer.evaluation.score import StudyScore
from spineviewer.evaluation.score_xr import XrStudyScore, summarise_xr

__all__ = ["group", "summarise", "summarise_radiographs", "summary_table", "vertebrae_summary"]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def vertebrae_summary(scores: Sequence[StudyScore]) -> dict[str, Any]:
    """The vertebra labels of a group of studies (MR or radiographs): identified bodies and the
    right / flagged / wrong / incomplete verdicts."""
    verdicts = Counter(s.labels for s in scores)
    in_view = sum(s.bodies_in_view for s in scores)
    identified = sum(s.bodies_identified for s in scores)
    return {
        "in_view": in_view,
        "identified": identified,
        "identification_rate": _rate(identified, in_view),
        "studies_right": verdicts["right"],
        "studies_flagged": verdicts["flagged"],
        "studies_wrong_unflagged": verdicts["wrong"],
        "studies_incomplete_unflagged": verdicts["incomplete"],
        "fraction_right": _rate(verdicts["right"], len(scores)),
        "fraction_flagged": _rate(verdicts["flagged"], len(scores)),
    }


def summarise(scores: Sequence[StudyScore]) -> dict[str, Any]:
    """The totals and rates of a group of studies (radiographs: :func:`summarise_radiographs`)."""
    discs = [d for s in scores for d in s.discs]
    covered = sum(d.reported not in ("uncertain", "missing", "misplaced") for d in discs)
    per_state = {}
    for state in ("normal", "bulge", "herniation"):
        of_state = [d for d in discs if d.truth == state]
        right = sum(d.right for d in of_state)
        per_state[state] = {
            "right": right,
            "total": len(of_state),
            "sensitivity": _rate(right, len(of_state)),
        }
    confusion: dict[str, dict[str, int]] = {}
    for d in discs:
        row = confusion.setdefault(d.truth, {})
        row[d.reported] = row.get(d.reported, 0) + 1
    bright_abnormal = [d for d in discs if d.truth != "normal" and (d.pfirrmann or 9) <= 2]
    dark_normal = [d for d in discs if d.truth == "normal" and (d.pfirrmann or 0) >= 4]
    with_level = sum(s.axial_with_level for s in scores)
    wrong = sum(s.axial_wrong for s in scores)
    return {
        "studies": len(scores),
        "failed": sum(s.error is not None for s in scores),
        "vertebrae": vertebrae_summary(scores),
        "discs": {
            "scored": len(discs),
            "right": sum(d.right for d in discs),
            "accuracy": _rate(sum(d.right for d in discs), len(discs)),
            "coverage": _rate(covered, len(discs)),
            "per_state": per_state,
            "confusion": confusion,
            "bright_nucleus_abnormal_right": _rate(
                sum(d.right for d in bright_abnormal), len(bright_abnormal)
            ),
            "bright_nucleus_abnormal": len(bright_abnormal),
            "dark_nucleus_normal_right": _rate(sum(d.right for d in dark_normal), len(dark_normal)),
            "dark_nucleus_normal": len(dark_normal),
        },
        "axial": {
            "with_level": with_level,
            "wrong_level": wrong,
            "unassigned": sum(s.axial_unassigned for s in scores),
            "wrong_fraction": _rate(wrong, with_level),
        },
        "skipped_steps": dict(Counter(x for s in scores for x in s.skipped).most_common()),
    }


def summarise_radiographs(scores: Sequence[XrStudyScore]) -> dict[str, Any]:
    """The totals and rates of a group of radiograph studies: vertebrae, Cobb angle, implants."""
    return {
        "studies": len(scores),
        "failed": sum(s.error is not None for s in scores),
        "vertebrae": vertebrae_summary(scores),
        **summarise_xr(scores),
        "skipped_steps": dict(Counter(x for s in scores for x in s.skipped).most_common()),
    }


def _grouped(
    scores: Sequence[Any], summarise_one: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    kinds = sorted({s.kind for s in scores})
    tags = sorted({t for s in scores for t in s.tags})
    return {
        "overall": summarise_one(scores),
        "kinds": {k: summarise_one([s for s in scores if s.kind == k]) for k in kinds},
        "tags": {t: summarise_one([s for s in scores if t in s.tags]) for t in tags},
    }


def group(scores: Sequence[StudyScore]) -> dict[str, Any]:
    """Summaries per kind, per tag and overall: of the MR (and CT) studies at the top level,
    of the radiographs under ``spine_xr`` (each key only when there are such studies)."""
    radiographs = [s for s in scores if isinstance(s, XrStudyScore)]
    others = [s for s in scores if not isinstance(s, XrStudyScore)]
    out: dict[str, Any] = _grouped(others, summarise) if others or not radiographs else {}
    if radiographs:
        out["spine_xr"] = _grouped(radiographs, summarise_radiographs)
    return out


def _cell(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.2f})" if whole else "-"


def _label_cells(name: str, s: dict[str, Any]) -> list[str]:
    """The group, its studies and its vertebra labels: the first cells of both tables."""
    v, n = s["vertebrae"], s["studies"]
    return [
        name,
        str(n),
        _cell(v["identified"], v["in_view"]),
        _cell(v["studies_right"], n),
        _cell(v["studies_flagged"], n),
        str(v["studies_wrong_unflagged"]),
        str(v["studies_incomplete_unflagged"]),
    ]


def _rows(name: str, s: dict[str, Any]) -> list[str]:
    d, a = s["discs"], s["axial"]
    states = d["per_state"]
    return [
        *_label_cells(name, s),
        _cell(d["right"], d["scored"]),
        f"{d['coverage']:.2f}" if d["coverage"] is not None else "-",
        _cell(states["bulge"]["right"], states["bulge"]["total"]),
        _cell(states["herniation"]["right"], states["herniation"]["total"]),
        _cell(a["wrong_level"], a["with_level"]),
    ]


#: The first columns of both tables (:func:`_label_cells`).
LABEL_HEADER = (
    "group",
    "studies",
    "vertebrae identified",
    "labels right",
    "flagged",
    "wrong, unflagged",
    "incomplete",
)
HEADER = (
    *LABEL_HEADER,
    "disc state right",
    "coverage",
    "bulge found",
    "herniation found",
    "axial on wrong level",
)


XR_HEADER = (
    *LABEL_HEADER,
    "Cobb measured",
    "Cobb MAE",
    "Cobb missing",
    "implants AP@0.5",
    "precision",
    "recall",
)


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _xr_rows(name: str, s: dict[str, Any]) -> list[str]:
    c, i = s["cobb"], s["implants"]
    return [
        *_label_cells(name, s),
        f"{c['measured']}/{c['studies_with_truth']}",
        _f(c["mae_deg"]),
        str(c["missing"]),
        _f(i["map50"], 3),
        _f(i["precision"]),
        _f(i["recall"]),
    ]


def _table(header: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    table = [list(header), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _group_rows(
    grouped: dict[str, Any], make: Callable[[str, dict[str, Any]], list[str]]
) -> list[list[str]]:
    rows = [make(f"kind {k}", s) for k, s in grouped["kinds"].items()]
    rows += [make(f"tag {t}", s) for t, s in grouped["tags"].items()]
    rows.append(make("all", grouped["overall"]))
    return rows


def summary_table(grouped: dict[str, Any]) -> str:
    """A plain-text table of :func:`group`'s result (MR and CT, then radiographs with their
    Cobb angle and implants), and the most frequent skipped steps."""
    lines: list[str] = []
    if "spine_xr" in grouped:
        xr = grouped["spine_xr"]
        lines += ["AP spine radiographs:", *_table(XR_HEADER, _group_rows(xr, _xr_rows))]
        per_class = xr["overall"]["implants"]["per_class"]
        lines += [
            "implants per class (AP@0.5, precision, recall at the model's threshold): "
            + "; ".join(
                f"{name} {_f(c['ap50'], 3)} {_f(c['precision'])} {_f(c['recall'])} "
                f"({c['true_positives']}/{c['truth']})"
                for name, c in per_class.items()
            )
        ]
        steps = list(xr["overall"]["skipped_steps"].items())[:8]
        if steps:
            lines += ["radiograph steps skipped or failed (studies; all in the JSON):"]
            lines += [f"  {n:4d}  {text}" for text, n in steps]
    if "overall" not in grouped:
        return "\n".join(lines)
    if lines:
        lines.append("")
    lines += _table(HEADER, _group_rows(grouped, _rows))
    skipped = {
        text: n
        for text, n in grouped["overall"]["skipped_steps"].items()
        if text.startswith("lumbar MR") or ": failed: " in text
    }
    if skipped:
        lines += ["", "lumbar MR steps skipped, and any failed step (studies; all in the JSON):"]
        lines += [f"  {n:4d}  {text}" for text, n in list(skipped.items())[:12]]
    return "\n".join(lines)
