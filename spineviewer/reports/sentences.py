"""The report's findings as sentences, one per level, generated from its structured rows.

A person reads ``L4-L5: herniation (model 0.94; accepted by the reader)`` faster than a table
row; the HTML / PDF report lists these sentences under "Findings" and the findings SR carries
them as its text (TEXT items "Finding"). Every sentence says where the statement comes from:
the model's probability, and what the reader did (accepted, changed, rejected, not yet
reviewed). Nothing here is invented: a value the rows lack is left out of the sentence.

Vertebrae are named only when the fracture model said something about them:

- ``L2: compression fracture, Genant grade 2 (height loss 31 %; model 0.99; accepted by the
  reader)`` for a fracture whose body's heights agree;
- ``L1: fracture uncertain — the model says fractured (0.97) but the body's heights show no
  loss (A/M/P 24/23.5/24 mm)`` when they disagree (:mod:`spineviewer.ai.pipelines.
  fracture_check`), or ``... the model says intact (fracture 0.08) but the body's heights show
  a loss of 28 %, Genant grade 2 (A/M/P 17/22/24 mm)``;
- one sentence for the intact ones: ``L1, L3-L5: no fracture (model)``.

Qt-free and locale-free (numbers with a full stop), so the same sentences reach every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from spineviewer.ai.body_heights import genant_grade

if TYPE_CHECKING:
    from spineviewer.reports.report_rows import ImplantRow, LevelRow, VertebraRow

__all__ = [
    "NO_LOSS",
    "cobb_sentence",
    "implant_sentence",
    "level_sentence",
    "report_sentences",
    "reviewed",
    "vertebra_sentences",
]

#: A height loss below this reads "no loss" (the measurement's own scatter is about this).
NO_LOSS = 0.05
#: What each review status says about the reader, as the end of a sentence's parentheses.
_REVIEWED = {
    "accepted": "accepted by the reader",
    "edited": "changed by the reader",
    "rejected": "rejected by the reader",
    "proposed": "not reviewed",
}


def reviewed(review: str) -> str:
    """The review status ``review`` in words (``accepted by the reader``)."""
    return _REVIEWED.get(review, review.replace("_", " "))


def _number(value: float) -> str:
    """A measured value without trailing zeros: ``24``, ``23.5``."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _percent(loss: float) -> str:
    return f"{loss * 100:.0f} %"


def _parenthesis(parts: Iterable[str]) -> str:
    kept = [p for p in parts if p]
    return f" ({'; '.join(kept)})" if kept else ""


def level_sentence(row: LevelRow) -> str:
    """One disc level: ``L4-L5: herniation (model 0.94; accepted by the reader)``; a state the
    reader changed names the model's (``bulge (model: herniation 0.81; changed by the
    reader)``), a level the reader renamed the AI's name."""
    model = f"model {row.probability:.2f}" if row.probability is not None else "model"
    if row.state != row.model_state:
        model = f"model: {row.model_state}" + (
            f" {row.probability:.2f}" if row.probability is not None else ""
        )
    where = [f"AI named it {row.ai_level}" if row.ai_level else ""]
    if row.view != "axial":
        where.append(f"{row.view} view")
    state = row.state.replace("_", " ")
    return f"{row.level}: {state}{_parenthesis([model, *where, reviewed(row.review)])}"


def _heights(row: VertebraRow) -> str:
    if row.body_heights_mm is None:
        return ""
    return "A/M/P " + "/".join(_number(h) for h in row.body_heights_mm) + " mm"


def _fracture(row: VertebraRow) -> str:
    """The sentence of a fractured or uncertain vertebra."""
    probability = row.fracture_probability
    name = row.label + (f" (AI: {row.ai_label})" if row.ai_label else "")
    if row.series:
        name = f"{name}, {row.series}"
    review = reviewed(row.review)
    if row.fracture == "fractured":
        if row.height_loss is None:
            facts = ["body heights not measured"]
            what = "fracture"
        else:
            grade = genant_grade(row.height_loss)
            what = f"compression fracture, Genant grade {grade}"
            facts = [f"height loss {_percent(row.height_loss)}"]
        model = f"model {probability:.2f}" if probability is not None else "model"
        return f"{name}: {what}{_parenthesis([*facts, model, review])}"
    # uncertain: the model and the heights disagree
    p = f"{probability:.2f}" if probability is not None else "?"
    heights = _heights(row)
    loss = row.height_loss
    if loss is None:
        why = "; ".join(row.fracture_reasons) or "the model's answer was not checked"
        return f"{name}: fracture uncertain — {why}{_parenthesis([review])}"
    if probability is not None and probability >= 0.5:
        said = f"the model says fractured ({p})"
        shown = "no loss" if loss < NO_LOSS else f"only a loss of {_percent(loss)}"
        return f"{name}: fracture uncertain — {said} but the body's heights show {shown}" + (
            _parenthesis([heights, review])
        )
    grade = genant_grade(loss)
    said = f"the model says intact (fracture {p})"
    shown = f"a loss of {_percent(loss)}" + (f", Genant grade {grade}" if grade else "")
    return f"{name}: fracture uncertain — {said} but the body's heights show {shown}" + (
        _parenthesis([heights, review])
    )


def vertebra_sentences(rows: Sequence[VertebraRow]) -> list[str]:
    """A sentence per fractured or uncertain vertebra, then one naming the intact ones (only
    vertebrae the fracture model judged; rejected ones left out of the intact list)."""
    out = [_fracture(v) for v in rows if v.fracture in ("fractured", "uncertain")]
    intact = [v.label for v in rows if v.fracture == "normal" and v.review != "rejected"]
    if intact:
        out.append(f"{_ranges(intact)}: no fracture (model)")
    return out


def _ranges(labels: Sequence[str]) -> str:
    """``L1, L3-L5``: consecutive labels as one range (``T12-L2`` across the regions)."""
    groups: list[list[str]] = []
    for label in labels:
        last = groups[-1][-1] if groups else ""
        if last and _next(last) == label:
            groups[-1].append(label)
        else:
            groups.append([label])
    return ", ".join(g[0] if len(g) == 1 else f"{g[0]}-{g[-1]}" for g in groups)


#: The last vertebra of a region and the first of the next (a run goes on across them).
_REGION_ENDS = {"C7": "T1", "T12": "L1", "L5": "S1"}


def _next(label: str) -> str:
    """The vertebra below ``label`` (``L3`` -> ``L4``, ``T12`` -> ``L1``); "" when unknown."""
    if label in _REGION_ENDS:
        return _REGION_ENDS[label]
    region, digits = label[:1], label[1:]
    return f"{region}{int(digits) + 1}" if digits.isdigit() else ""


def implant_sentence(row: ImplantRow) -> str:
    """``Implant: pedicle screw (score 0.91; not reviewed)``."""
    kind = row.implant_class.replace("_", " ")
    return f"Implant: {kind}{_parenthesis([f'score {row.score:.2f}', reviewed(row.review)])}"


def cobb_sentence(cobb: dict[str, Any]) -> str:
    """``Cobb angle 23.4° from the upper endplate of T12 to the lower endplate of L3``."""
    return (
        f"Cobb angle {cobb['angle_deg']:.1f}° from the upper endplate of "
        f"{cobb['upper_vertebra']} to the lower endplate of {cobb['lower_vertebra']}"
    )


def report_sentences(
    levels: Iterable[LevelRow],
    vertebrae: Sequence[VertebraRow],
    cobb: dict[str, Any] | None,
    implants: Iterable[ImplantRow],
) -> tuple[str, ...]:
    """Every finding of a report as a sentence: the discs level by level, the vertebrae, the
    Cobb angle, the implants (:attr:`~spineviewer.reports.study_report.Report.sentences`)."""
    return (
        *(level_sentence(row) for row in levels),
        *vertebra_sentences(vertebrae),
        *([cobb_sentence(cobb)] if cobb else []),
        *(implant_sentence(row) for row in implants),
    )
