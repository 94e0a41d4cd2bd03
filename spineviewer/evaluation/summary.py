"""Adding study scores up, per study kind, per tag and overall, and printing them as a table.

Every rate comes with its counts (``right / total``) so small groups read as small; a rate over
nothing is null (JSON) or ``-`` (table).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from spineviewer.evaluation.score import StudyScore

__all__ = ["group", "summarise", "summary_table"]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise(scores: Sequence[StudyScore]) -> dict[str, Any]:
    """The totals and rates of a group of studies."""
    discs = [d for s in scores for d in s.discs]
    verdicts = Counter(s.labels for s in scores)
    in_view = sum(s.bodies_in_view for s in scores)
    identified = sum(s.bodies_identified for s in scores)
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
        "vertebrae": {
            "in_view": in_view,
            "identified": identified,
            "identification_rate": _rate(identified, in_view),
            "studies_right": verdicts["right"],
            "studies_flagged": verdicts["flagged"],
            "studies_wrong_unflagged": verdicts["wrong"],
            "studies_incomplete_unflagged": verdicts["incomplete"],
            "fraction_right": _rate(verdicts["right"], len(scores)),
            "fraction_flagged": _rate(verdicts["flagged"], len(scores)),
        },
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


def group(scores: Sequence[StudyScore]) -> dict[str, Any]:
    """Summaries per kind, per tag and overall."""
    kinds = sorted({s.kind for s in scores})
    tags = sorted({t for s in scores for t in s.tags})
    return {
        "overall": summarise(scores),
        "kinds": {k: summarise([s for s in scores if s.kind == k]) for k in kinds},
        "tags": {t: summarise([s for s in scores if t in s.tags]) for t in tags},
    }


def _cell(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.2f})" if whole else "-"


def _rows(name: str, s: dict[str, Any]) -> list[str]:
    v, d, a = s["vertebrae"], s["discs"], s["axial"]
    n = s["studies"]
    states = d["per_state"]
    return [
        name,
        str(n),
        _cell(v["identified"], v["in_view"]),
        _cell(v["studies_right"], n),
        _cell(v["studies_flagged"], n),
        str(v["studies_wrong_unflagged"]),
        str(v["studies_incomplete_unflagged"]),
        _cell(d["right"], d["scored"]),
        f"{d['coverage']:.2f}" if d["coverage"] is not None else "-",
        _cell(states["bulge"]["right"], states["bulge"]["total"]),
        _cell(states["herniation"]["right"], states["herniation"]["total"]),
        _cell(a["wrong_level"], a["with_level"]),
    ]


HEADER = (
    "group",
    "studies",
    "vertebrae identified",
    "labels right",
    "flagged",
    "wrong, unflagged",
    "incomplete",
    "disc state right",
    "coverage",
    "bulge found",
    "herniation found",
    "axial on wrong level",
)


def summary_table(grouped: dict[str, Any]) -> str:
    """A plain-text table of :func:`group`'s result, and the most frequent skipped steps."""
    rows: list[Iterable[str]] = [HEADER]
    rows += [_rows(f"kind {k}", s) for k, s in grouped["kinds"].items()]
    rows += [_rows(f"tag {t}", s) for t, s in grouped["tags"].items()]
    rows.append(_rows("all", grouped["overall"]))
    table = [list(r) for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    skipped = {
        text: n
        for text, n in grouped["overall"]["skipped_steps"].items()
        if text.startswith("lumbar MR") or ": failed: " in text
    }
    if skipped:
        lines += ["", "lumbar MR steps skipped, and any failed step (studies; all in the JSON):"]
        lines += [f"  {n:4d}  {text}" for text, n in list(skipped.items())[:12]]
    return "\n".join(lines)
