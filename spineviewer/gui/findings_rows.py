"""What the Findings panel lists: one row per finding with its review need, and the labelling
warning shown above the table.

Plain functions of a :class:`~spineviewer.ai.findings.Findings` (no widgets), so the panel's
words can be checked without a window. Levels follow the reader's labels: a disc or a body
whose level the current labels name differently (after "Shift labels") shows that name, with
the AI's in brackets; classes read as words ("Pedicle screw").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from spineviewer.ai.display_names import display_name
from spineviewer.ai.findings import (
    CONFIDENT,
    NEEDS_REVIEW,
    UNCERTAIN,
    Findings,
    LabellingCheck,
    numbering,
)
from spineviewer.gui.annotate.review_style import REVIEW_TEXT

__all__ = ["COLUMNS", "REVIEW_COLORS", "FindingRow", "finding_rows", "labelling_warning"]

COLUMNS = ("Level", "Finding", "Probability", "Slices", "Review")
#: Colours of the review column (text says it too).
REVIEW_COLORS = {CONFIDENT: "#8fd18f", UNCERTAIN: "#f2c14e", NEEDS_REVIEW: "#ffa000"}
#: The Finding column of a vertebra the fracture model read (an intact one reads "vertebra").
_FRACTURE_TEXT = {"fractured": "fracture", UNCERTAIN: "fracture?"}
SACRUM_WORDS = {
    "not in view": "no sacrum in view",
    "not recognised": "sacrum not recognised",
    "at the image edge": "the sacrum is at the image edge (the bottom body may be L5)",
}
HINT = "check them, then Accept AI labels or Annotate > Shift labels (Alt+Up / Alt+Down)"

#: Renames a level the AI found at a point (patient mm) to what the reader's labels call it
#: there (None: no label there).
Rename = Callable[[str, Sequence[float]], str | None]


@dataclass(frozen=True)
class FindingRow:
    """One table row: its cells, review need and reasons, and the image it is on."""

    cells: tuple[str, str, str, str, str]
    review: str
    reasons: tuple[str, ...]
    sop_instance_uid: str


def _level(ai: str, at: Sequence[float], rename: Rename | None) -> str:
    now = rename(ai, at) if rename is not None else None
    return ai if now is None or now == ai else f"{now} (AI: {ai})"


def finding_rows(findings: Findings, rename: Rename | None = None) -> list[FindingRow]:
    """Discs (state, probability, slices), vertebrae (found / fractured, with how their
    column was numbered), implants and the Cobb angle, each with its review need."""
    rows = []
    for d in findings.discs:
        cells = (
            _level(d.level, d.centre_mm, rename),
            d.state if d.view == "axial" else f"{d.state} ({d.view})",
            f"{d.probabilities[d.state]:.2f}",
            str(len(d.instances)),
            REVIEW_TEXT.get(d.review, d.review),
        )
        first = d.axial_instances[0] if d.axial_instances else ""
        measured = tuple(r for r in d.state_reasons if r not in d.review_reasons)
        rows.append(FindingRow(cells, d.review, (*d.review_reasons, *measured), first))
    checks = findings.labelling
    for v in findings.vertebrae:
        fracture = _FRACTURE_TEXT.get(v.fracture or "")
        p = v.fracture_probability if fracture else v.score
        review = UNCERTAIN if v.fracture == UNCERTAIN and v.review == CONFIDENT else v.review
        cells = (
            _level(v.label, v.centre_mm, rename),
            fracture or "vertebra",
            f"{p or 0:.2f}",
            "",
            REVIEW_TEXT.get(review, review),
        )
        basis = tuple(f"levels {numbering(c)}" for c in checks if c.series_uid == v.series_uid)
        why = (*v.review_reasons, *(v.fracture_reasons if fracture else ()), *basis)
        rows.append(FindingRow(cells, review, why, v.sop_instance_uid))
    for i in findings.implants:
        cells = (
            display_name(i.implant_class),
            "implant",
            f"{i.score:.2f}",
            "",
            REVIEW_TEXT.get(i.review, ""),
        )
        rows.append(FindingRow(cells, i.review, i.review_reasons, i.sop_instance_uid))
    if findings.cobb is not None:
        c = findings.cobb
        level = f"{c.upper_vertebra}-{c.lower_vertebra}"
        cells = (level, "Cobb angle", f"{c.angle_deg:.1f}°", "", "")
        rows.append(FindingRow(cells, "", (), c.sop_instance_uid))
    return rows


def _check_text(check: LabellingCheck) -> str:
    words = "need review" if check.status == NEEDS_REVIEW else "are uncertain"
    parts = list(check.reasons)
    sacrum = SACRUM_WORDS.get(check.sacrum)
    if sacrum and not any("sacrum" in r for r in parts):
        parts.insert(0, sacrum)
    parts += [g for g in check.gaps if g not in parts]
    return f"Labels {words}: " + "; ".join(parts or [check.status])


def labelling_warning(findings: Findings) -> str:
    """The line above the table when the AI doubts its vertebra labels ("" when it does
    not): each doubtful check's reasons (no sacrum in view, possible transitional anatomy,
    gaps), then what to do."""
    checks = [c for c in findings.labelling if c.status != CONFIDENT]
    if not checks:
        return ""
    return "\n".join(_check_text(c) for c in checks) + f"\n→ {HINT}."
