"""How far the level names of a column of vertebrae can be trusted (numpy only).

Labelling by order from S1 (:mod:`spineviewer.ai.vertebra_labels`) is right only when S1 is
right. :func:`check_column` looks at what a radiologist looks at before trusting a count, on a
sagittal MR column (:func:`check_labelling`) or a radiograph's (the image edges are all it
needs of the image):

- **The sacrum**: found (a body that looks sacral, :data:`~spineviewer.ai.vertebra_labels.
  SACRAL_MIN`), *not in view* (the image ends less than :data:`ROOM_BELOW` body spacings below
  the bottom body, so no body below it could be seen: the bottom body is then taken as L5, the
  commonest reason for such a field of view being a cut just above the sacrum), or *not
  recognised* (there is room below, yet nothing looked sacral: the bottom body stays S1), or
  *at the image edge* (a sacral-looking bottom body with less than :data:`SACRUM_BELOW` body
  spacings of image below its centre: a cut L5 can look sacral, so it may not be S1). Any but
  "found" marks every label "needs review".
- **Possible transitional anatomy**: the body above S1 looks nearly as sacral as S1 itself
  (a sacralised L5 or a lumbarised S1). Every label "needs review": counting from S1 may be
  one level off. A sixth lumbar vertebra is *not* recognised: telling a lumbar from a
  thoracic body needs ribs or the whole spine, which a lumbar field of view and the demo
  detector do not give (a body-size rule was tried and dropped: the size difference between
  T12 and L1 is within the spread of the detector's boxes, so it raised false alarms on
  standard studies).
- **Gaps**: two neighbours whose labels are not adjacent (a missed body, from the spacing).
  The gap is reported; no disc is built across it (:func:`spineviewer.geometry.levels.
  disc_centres`); the labels above it are "uncertain" (the number of missed bodies is an
  estimate).
- **Spacing**: centre-to-centre steps outside :data:`STEP_RANGE` times the median make both
  bodies "uncertain" (a double detection, a merged pair, a fracture).
- **The image edges**: fewer than :data:`MIN_CHECKED` bodies cannot be checked against each
  other: all "uncertain". A body cut by the top of the image is "uncertain" itself (its box
  and centre are partial, and so is the disc below it), but the labels are counted from the
  bottom, so this doubts no level name: it changes neither the check's status nor its
  confidence, and raises no warning (it did, on 1 in 16 standard phantom studies, putting
  "check before trusting the levels" on a report whose levels were all right). Nor does the
  short step to it: its centre is that of its visible part, so it lies nearer the body below
  (no threshold: a step shortened by a missed body or a double detection elsewhere in the
  column is still irregular).

The confidence (0..1) is the product of one factor per problem found; the status is the
worst of the problems that bear on the level names.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.findings import (
    CONFIDENT,
    NEEDS_REVIEW,
    UNCERTAIN,
    LabellingCheck,
    worst,
)
from spineviewer.ai.usable import UsableSlices
from spineviewer.ai.vertebra_labels import (
    LABELS_UPWARD,
    NO_SACRAL_BODY,
    SACRAL_MIN,
    Body,
    Labelling,
)
from spineviewer.geometry.levels import adjacent

__all__ = [
    "Edges",
    "LabelReview",
    "check_column",
    "check_labelling",
    "relabel",
    "restated",
    "sagittal_edges",
]

#: The bottom body's centre closer than this many median body spacings to the image's lower
#: edge: a body below it would not be in view.
ROOM_BELOW = 0.75
#: A body taken as S1 needs this many body spacings of image below its centre (its own lower
#: half and S2: the sacrum beneath it) to count as found. With less, an L5 cut by the image
#: edge is often taken as S1 while the cut S1 below it is missed (the demo detector, images
#: ending 26-32 mm below L5's centre on MR and radiographs: L5 sacral 0.34-0.51, the cut S1
#: under the score threshold, room 0.78-0.97 spacings); a true S1 has 1.2-4.1 (32 phantoms).
#: Images ending lower still, inside S1, can fool the detector too: not caught here.
SACRUM_BELOW = 1.0
#: On sagittal MR (:func:`check_labelling`), a bottom body this sacral-looking is S1 even with
#: less than :data:`SACRUM_BELOW` spacings of image below it (an S1 cut by the image edge, or a
#: field ending in S2), and one taken as S1 that looks less sacral, with less than
#: :data:`ROOM_BELOW` spacings below it, is an L5 above a sacrum out of view. Set on 40
#: held-out wide-profile phantoms and the detector shipped with it: true S1 bodies 0.63-0.94
#: (the images ending 0.40-4.2 spacings below them), bottom L5 bodies of fields without the
#: sacrum 0.09-0.47.
SACRAL_AT_EDGE = 0.55
#: On sagittal MR, a top body scoring under this is dropped: the top bodies of the same 40
#: held-out phantoms scored 0.61-0.95, a detection on the posterior elements above the top
#: body 0.37 (and 0.36-0.44 on the standard demo study cut above the sacrum). Labels are
#: counted from the bottom, so no other label moves.
TOP_MIN_SCORE = 0.5
#: On sagittal MR, a bottom body whose centre lies within this many body spacings of the lower
#: image edge, and that does not look clearly sacral (:data:`SACRAL_AT_EDGE`), is a sliver of
#: a body the image cuts (the top few mm of S1, say): it is dropped and the body above it is
#: the column's bottom. Whole bottom bodies of the 40 held-out phantoms lay 0.31 spacings or
#: more from the edge.
SLIVER_ROOM = 0.25
#: The same at the top: the top body is cut by the image edge.
ROOM_ABOVE = 0.45
#: On MR, a top body within :data:`SLIVER_ROOM` of the upper edge whose box is under this
#: fraction of the median box height is a sliver and dropped, whatever it scores (a 4 mm box on
#: the disc the image cut, 0.07 spacings from the edge, 0.2 of the median height; whole bodies
#: cut by the edge, 0.19-0.23 spacings from it, were 0.56-0.58 of it).
SLIVER_HEIGHT = 0.4
#: Steps between neighbours outside this range of the median step are irregular.
STEP_RANGE = (0.7, 1.35)
#: The body above S1 with a sacral score at least this fraction of S1's looks sacral too.
SACRAL_TWIN = 0.5
#: Fewer bodies than this cannot be checked against each other.
MIN_CHECKED = 4

Review = tuple[str, tuple[str, ...]]

#: The labeller's missed-bodies warning (:func:`~spineviewer.ai.vertebra_labels.
#: missed_bodies`), whatever its numbers.
_MISSED = re.compile(r"\d+ bod(?:y|ies) missed below body \d+")


@dataclass(frozen=True)
class LabelReview:
    """The checked labelling: bodies (relabelled when the sacrum is out of view), the check
    for the findings, each body's review need and the warnings to show."""

    labelling: Labelling
    result: LabellingCheck
    review: dict[str, Review]
    warnings: tuple[str, ...]


def relabel(labelling: Labelling, steps: int) -> Labelling:
    """Every label moved ``steps`` levels up the column (1: S1 -> L5, L5 -> L4, ...)."""
    bodies = []
    for body in labelling.bodies:
        k = LABELS_UPWARD.index(body.label) + steps
        if 0 <= k < len(LABELS_UPWARD):
            bodies.append(replace(body, label=LABELS_UPWARD[k]))
    return Labelling(tuple(bodies), labelling.warnings)


#: Patient z (mm, up positive) of the lower and upper image edges in the column of a body.
Edges = Callable[[Body], tuple[float, float]]


def sagittal_edges(usable: UsableSlices) -> Edges:
    """The image edges of ``usable``'s middle slice (the slice the bodies were labelled on)."""
    plane = usable.planes[len(usable.planes) // 2]
    rows = usable.stack.shape[0]

    def edges(body: Body) -> tuple[float, float]:
        col = body.centre_px[1]
        z = [float(np.asarray(plane.to_patient(r, col)).ravel()[2]) for r in (-0.5, rows - 0.5)]
        return min(z), max(z)

    return edges


class _Reviews:
    """Collects each body's review need and the check's reasons."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.by_label: dict[str, list[tuple[str, str]]] = {label: [] for label in labels}
        self.reasons: list[str] = []
        #: The statuses of the problems that bear on the level names (the check's status).
        self.statuses: list[str] = []
        self.confidence = 1.0

    def body_only(self, status: str, reason: str, label: str) -> None:
        """A doubt about one body that leaves every level name as it is."""
        self.by_label[label].append((status, reason))

    def add(
        self, status: str, reason: str, labels: Sequence[str], factor: float, listed: bool = True
    ) -> None:
        """``reason`` for each of ``labels``; among the check's reasons too unless not
        ``listed`` (a gap's, which the check's gaps name already)."""
        for label in labels:
            self.by_label[label].append((status, reason))
        if listed:
            self.reasons.append(reason)
        self.statuses.append(status)
        self.confidence *= factor

    def review(self) -> dict[str, Review]:
        return {
            label: (worst(*(s for s, _ in items)), tuple(dict.fromkeys(r for _, r in items)))
            for label, items in self.by_label.items()
        }


def check_labelling(labelling: Labelling, usable: UsableSlices) -> LabelReview:
    """Check ``labelling`` (bodies bottom first, from ``usable``'s slices) and relabel it when
    the sacrum is out of view."""
    return check_column(
        labelling,
        usable.stack.series_uid,
        sagittal_edges(usable),
        sacral_at_edge=SACRAL_AT_EDGE,
        top_min_score=TOP_MIN_SCORE,
    )


def check_column(
    labelling: Labelling,
    series_uid: str,
    edges: Edges,
    sacral_at_edge: float | None = None,
    top_min_score: float | None = None,
) -> LabelReview:
    """Check ``labelling`` (bodies bottom first, ``centre_mm`` z up) of the image of
    ``series_uid`` whose edges ``edges`` gives, and relabel it when the sacrum is out of view
    (a sagittal MR column, :func:`check_labelling`, or a radiograph's). ``sacral_at_edge``
    (:data:`SACRAL_AT_EDGE` on MR; None: the image edge alone decides): the sacral score that
    makes a bottom body near the lower edge S1, and under which it is taken as an L5.
    ``top_min_score`` (:data:`TOP_MIN_SCORE` on MR): a top body scoring under it is dropped."""
    if top_min_score is not None:
        labelling = _without_weak_top(labelling, top_min_score)
    sliver = False
    if sacral_at_edge is not None:
        trimmed = _without_sliver(labelling, edges, sacral_at_edge)
        sliver, labelling = trimmed is not labelling, trimmed
        labelling = _without_top_sliver(labelling, edges)
    bodies, z, steps = _column(labelling)
    typical = float(np.median(steps)) if len(steps) else 0.0
    sacrum = "found"
    bottom = bodies[0] if bodies else None
    room = float(z[0]) - edges(bottom)[0] if bottom is not None else 0.0
    looks_sacral = bottom is not None and bottom.label == "S1" and bottom.sacral >= SACRAL_MIN
    if looks_sacral and sacral_at_edge is not None and bottom is not None:
        # near the lower edge, only a clearly sacral body is S1; a doubtful one is an L5
        looks_sacral = bottom.sacral >= sacral_at_edge or room >= ROOM_BELOW * typical
    if bottom is not None and not looks_sacral:
        below = sliver or (typical and room < ROOM_BELOW * typical)  # nothing more in view
        sacrum = "not in view" if below else "not recognised"
        if sacrum == "not in view" and bottom.label == "S1":
            labelling = relabel(labelling, 1)  # may drop a top body beyond T1
            bodies, z, steps = _column(labelling)
    reviews = _Reviews([b.label for b in bodies])
    every = [b.label for b in bodies]
    trusted = sacral_at_edge is not None and bottom is not None and bottom.sacral >= sacral_at_edge
    near_edge = bool(typical) and room < SACRUM_BELOW * typical
    if sacrum == "found" and bottom is not None and near_edge and not trusted:
        sacrum = "at the image edge"
        reviews.add(
            NEEDS_REVIEW,
            "the body taken as S1 lies at the lower edge of the image: the sacrum may be "
            "out of view",
            every,
            0.5,
        )
    if sacrum == "not in view":
        reviews.add(
            NEEDS_REVIEW,
            "no sacrum in view: the levels are counted from the bottom body, taken as L5",
            every,
            0.4,
        )
    elif sacrum == "not recognised":
        reviews.add(
            NEEDS_REVIEW,
            "the sacrum was not recognised: the bottom body was taken as S1",
            every,
            0.4,
        )
    cut_top = (
        bool(bodies)
        and bool(typical)
        and edges(bodies[-1])[1] - float(z[-1]) < (ROOM_ABOVE * typical)
    )
    gaps = []
    for k, (lower, upper) in enumerate(itertools.pairwise(bodies)):
        if not adjacent(upper.label, lower.label):
            a, b = LABELS_UPWARD.index(lower.label), LABELS_UPWARD.index(upper.label)
            missing = " ".join(LABELS_UPWARD[i] for i in range(b - 1, a, -1))
            gaps.append(f"{missing} missing between {upper.label} and {lower.label}")
            above = [x.label for x in bodies[k + 1 :]]
            reason = f"counted across a gap ({missing} not found)"
            reviews.add(UNCERTAIN, reason, above, 0.7, listed=False)
            continue
        irregular = typical > 0 and not STEP_RANGE[0] <= steps[k] / typical <= STEP_RANGE[1]
        # a body cut by the top edge has its visible part's centre: a short step to it is due
        if irregular and not (cut_top and k == len(steps) - 1 and steps[k] < typical):
            reviews.add(
                UNCERTAIN,
                f"irregular spacing between {upper.label} and {lower.label}",
                [upper.label, lower.label],
                0.85,
            )
    _transitional(bodies, reviews, sacrum)
    if cut_top:
        top = bodies[-1].label
        reviews.body_only(UNCERTAIN, f"{top} is cut by the top of the image", top)
    if len(bodies) < MIN_CHECKED:
        reviews.add(
            UNCERTAIN,
            f"only {len(bodies)} bodies found: too few to check their count",
            every,
            0.7,
        )
    review = reviews.review()
    status = worst(*reviews.statuses) if review else UNCERTAIN
    result = LabellingCheck(
        series_uid=series_uid,
        confidence=round(reviews.confidence, 3),
        status=status,
        sacrum=sacrum,
        reasons=tuple(dict.fromkeys(reviews.reasons)),
        gaps=tuple(gaps),
    )
    warnings = [*gaps, *(r for r in result.reasons if r not in gaps)] if status != CONFIDENT else []
    return LabelReview(labelling, result, review, tuple(dict.fromkeys(warnings)))


def _column(labelling: Labelling) -> tuple[list[Body], NDArray[np.float64], NDArray[np.float64]]:
    """The bodies with a centre (bottom first), their heights (patient z, mm) and the steps
    between neighbours."""
    bodies = [b for b in labelling.bodies if b.centre_mm is not None]
    z = np.array([b.centre_mm[2] for b in bodies if b.centre_mm is not None], dtype=np.float64)
    return bodies, z, np.diff(z)


def _without_weak_top(labelling: Labelling, min_score: float) -> Labelling:
    """``labelling`` without its top body when that scores under ``min_score``."""
    bodies = labelling.bodies
    if len(bodies) < MIN_CHECKED or bodies[-1].score >= min_score:
        return labelling
    return Labelling(bodies[:-1], labelling.warnings)


def _without_sliver(labelling: Labelling, edges: Edges, sacral_at_edge: float) -> Labelling:
    """``labelling`` without a bottom body that is a sliver at the lower image edge
    (:data:`SLIVER_ROOM`) and does not look clearly sacral; the other labels unchanged."""
    bodies, z, steps = _column(labelling)
    if len(bodies) < MIN_CHECKED or bodies[0].sacral >= sacral_at_edge:
        return labelling
    typical = float(np.median(steps))
    if not typical or float(z[0]) - edges(bodies[0])[0] >= SLIVER_ROOM * typical:
        return labelling
    # The labels stay counted from the sliver (most often the top of a cut S1): the body
    # above it keeps L5, and the check marks every label for review (no sacrum in view).
    return Labelling(tuple(b for b in labelling.bodies if b is not bodies[0]), labelling.warnings)


def _without_top_sliver(labelling: Labelling, edges: Edges) -> Labelling:
    """``labelling`` without a top body whose centre lies within :data:`SLIVER_ROOM` body
    spacings of the upper image edge and whose box is under :data:`SLIVER_HEIGHT` of the
    median box height: a few mm of a body (or of the disc above the top whole body) the image
    cuts. Labels are counted from the bottom, so no other label moves."""
    bodies, z, steps = _column(labelling)
    if len(bodies) < MIN_CHECKED:
        return labelling
    typical = float(np.median(steps))
    if not typical or edges(bodies[-1])[1] - float(z[-1]) >= SLIVER_ROOM * typical:
        return labelling
    heights = [b.box[3] - b.box[1] for b in bodies]  # one stack: one pixel grid
    if heights[-1] >= SLIVER_HEIGHT * float(np.median(heights[:-1])):
        return labelling
    return Labelling(tuple(b for b in labelling.bodies if b is not bodies[-1]), labelling.warnings)


def restated(warning: str) -> bool:
    """Whether the check says ``warning`` of the labeller (:mod:`~spineviewer.ai.
    vertebra_labels`) in a reader's words: no sacral body (the sacrum line), missed bodies
    (the gap, by level name). A pipeline passes on only the other warnings."""
    return warning == NO_SACRAL_BODY or _MISSED.fullmatch(warning) is not None


def _transitional(bodies: Sequence[Body], reviews: _Reviews, sacrum: str) -> None:
    """Possible transitional anatomy: an L5 that looks sacral too."""
    labels = [b.label for b in bodies]
    if sacrum == "found" and len(bodies) >= 2 and labels[1] == "L5":
        s1, l5 = bodies[0], bodies[1]
        if l5.sacral >= max(SACRAL_MIN, SACRAL_TWIN * s1.sacral):
            reviews.add(
                NEEDS_REVIEW,
                "possible transitional anatomy: L5 looks sacral (sacralised L5 or lumbarised "
                "S1); the levels may be one off",
                labels,
                0.5,
            )
