"""Where overlay labels go: collision-free placement beside the anatomy they name, and one
label for many identical ones.

Pure geometry in screen pixels (x to the right, y down), no Qt: the viewport's painters measure
their text, hand in a :class:`LabelBox` per label (its size and the anatomy's rectangle) and
draw each label where :func:`place_labels` puts it.

Placement is greedy, in the order given (the caller puts the selected annotation first, so its
statistics keep their place beside it): each label tries candidate positions around its anchor
(:func:`candidates`: right, left, above, below) and takes the first that stays in the view and
overlaps no label placed before it, preferring spots that also leave the other labels' anatomy
uncovered. A label with no free spot joins a column beside the anatomy, at the free height
nearest its anchor, with a leader line back to it.

Identical labels on one image (six "Pedicle screw, proposed ..." boxes) become one
(:func:`group_identical`, :func:`merged_text`): "Pedicle screw ×6, proposed 85-92%".
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = [
    "LabelBox",
    "Placement",
    "Point",
    "Rect",
    "candidates",
    "group_identical",
    "merged_text",
    "overlapping_pairs",
    "place_labels",
]

Point = tuple[float, float]

#: Sides a label may try first: its candidates go round the anchor from there.
SIDES = ("right", "left")


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle: top-left corner and size, in screen pixels."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @classmethod
    def around(cls, points: Sequence[Point], pad: float = 0.0) -> Rect:
        """The bounding box of ``points`` grown by ``pad`` on every side."""
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x0, y0 = min(xs) - pad, min(ys) - pad
        return cls(x0, y0, max(xs) + pad - x0, max(ys) + pad - y0)

    def overlaps(self, other: Rect, gap: float = 0.0) -> bool:
        """True when the two share area, or come closer than ``gap``."""
        return (
            self.x < other.right + gap
            and other.x < self.right + gap
            and self.y < other.bottom + gap
            and other.y < self.bottom + gap
        )

    def inside(self, bounds: Rect) -> bool:
        """True when the whole rectangle lies within ``bounds``."""
        return (
            self.x >= bounds.x
            and self.y >= bounds.y
            and self.right <= bounds.right
            and self.bottom <= bounds.bottom
        )

    def union(self, other: Rect) -> Rect:
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        return Rect(x0, y0, max(self.right, other.right) - x0, max(self.bottom, other.bottom) - y0)

    def nearest_point(self, x: float, y: float) -> Point:
        """The point of the rectangle nearest (x, y) (itself when inside)."""
        return (min(max(x, self.x), self.right), min(max(y, self.y), self.bottom))


@dataclass(frozen=True)
class LabelBox:
    """A label to place: its size and the rectangle of the anatomy it names (zero-sized for
    a point); ``side`` is where it looks first."""

    anchor: Rect
    width: float
    height: float
    side: str = "right"


@dataclass(frozen=True)
class Placement:
    """Where a label went; ``leader`` runs from the anatomy to the label when the label had to
    move away from it (None when it sits beside it)."""

    rect: Rect
    leader: tuple[Point, Point] | None = None


def candidates(box: LabelBox, gap: float = 3.0) -> tuple[Rect, ...]:
    """Positions around the anchor, best first: beside it at its top, middle and bottom
    (``box.side`` first, then the other side), then above and below it."""
    a, w, h = box.anchor, box.width, box.height
    right, left = a.right + gap, a.x - gap - w
    rows = (a.y, a.cy - h / 2, a.bottom - h)
    beside_right = [Rect(right, y, w, h) for y in rows]
    beside_left = [Rect(left, y, w, h) for y in rows]
    first, second = (
        (beside_left, beside_right) if box.side == "left" else (beside_right, beside_left)
    )
    above = a.y - gap - h
    below = a.bottom + gap
    vertical = [
        Rect(a.x, above, w, h),
        Rect(a.x, below, w, h),
        Rect(a.right - w, above, w, h),
        Rect(a.right - w, below, w, h),
    ]
    return (*first, *second, *vertical)


def _free(rect: Rect, taken: Sequence[Rect], gap: float) -> bool:
    return not any(rect.overlaps(t, gap) for t in taken)


def _leader(anchor: Rect, rect: Rect) -> tuple[Point, Point]:
    """From the anchor's edge to the middle of the label's near side."""
    end_x = rect.x if rect.cx >= anchor.cx else rect.right
    end = (end_x, rect.cy)
    return anchor.nearest_point(*end), end


def _column_slot(
    box: LabelBox,
    x: float,
    bounds: Rect,
    taken: Sequence[Rect],
    gap: float,
) -> Rect:
    """The free height in the column at ``x`` nearest the anchor's middle."""
    w, h = box.width, box.height
    target = box.anchor.cy - h / 2
    low, high = bounds.y, bounds.bottom - h
    ys = [target]
    for t in taken:
        if t.x < x + w + gap and x < t.right + gap:
            ys += [t.bottom + gap, t.y - gap - h]
    tried = sorted({min(max(y, low), high) for y in ys}, key=lambda y: abs(y - target))
    for y in tried:
        rect = Rect(x, y, w, h)
        if _free(rect, taken, gap / 2):
            return rect
    return Rect(x, min(max(target, low), high), w, h)  # a full column: overlap rather than vanish


def place_labels(
    boxes: Sequence[LabelBox],
    bounds: Rect,
    obstacles: Sequence[Rect] = (),
    gap: float = 3.0,
) -> list[Placement]:
    """Greedy, collision-free places for ``boxes``, in their order (see the module text).

    ``bounds`` is the drawable area; ``obstacles`` are rectangles no label may cover (text
    already drawn there). Returns one :class:`Placement` per box, in the same order.
    """
    placed: list[Rect] = list(obstacles)
    beside: list[Rect] = []  # the labels next to their anatomy (the column keeps clear of them)
    out: list[Placement] = []
    anchors = [b.anchor for b in boxes]
    for i, box in enumerate(boxes):
        spots = [c for c in candidates(box, gap) if c.inside(bounds)]
        others = anchors[:i] + anchors[i + 1 :]
        chosen = next((c for c in spots if _free(c, placed, 1.0) and _free(c, others, 0.0)), None)
        if chosen is None:
            chosen = next((c for c in spots if _free(c, placed, 1.0)), None)
        if chosen is not None:
            out.append(Placement(chosen))
            placed.append(chosen)
            beside.append(chosen)
            continue
        x = _column_x(box, [*anchors, *beside], bounds, gap)
        rect = _column_slot(box, x, bounds, placed, gap)
        out.append(Placement(rect, _leader(box.anchor, rect)))
        placed.append(rect)
    return out


def _column_x(box: LabelBox, clear_of: Sequence[Rect], bounds: Rect, gap: float) -> float:
    """The column's left edge: clear of the anatomy and of the labels beside it at the
    anchor's height, on the right when it fits, else on the left, else at the view's edge."""
    band = Rect(bounds.x, box.anchor.y - 4 * box.height, bounds.w, box.anchor.h + 9 * box.height)
    near = [r for r in clear_of if r.overlaps(band)] or [box.anchor]
    right = max(r.right for r in near) + 3 * gap
    if right + box.width <= bounds.right:
        return right
    left = min(r.x for r in near) - 3 * gap - box.width
    if left >= bounds.x:
        return left
    return bounds.right - box.width


def overlapping_pairs(rects: Sequence[Rect]) -> list[tuple[int, int]]:
    """Indices of every two rectangles that share area (a test and a debugging aid)."""
    return [
        (i, j)
        for i in range(len(rects))
        for j in range(i + 1, len(rects))
        if rects[i].overlaps(rects[j])
    ]


def group_identical(keys: Sequence[Hashable | None]) -> list[list[int]]:
    """Indices grouped by equal key, in the order each key first appears; a None key is
    never merged (its label stays on its own)."""
    groups: dict[Hashable, list[int]] = {}
    out: list[list[int]] = []
    for i, key in enumerate(keys):
        if key is None:
            out.append([i])
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = []
            out.append(group)
        group.append(i)
    return out


def merged_text(title: str, count: int, scores: Sequence[float | None], proposed: bool) -> str:
    """One line for ``count`` identical labels: "Pedicle screw ×6, proposed 85-92%"
    ("Rod ×2" when accepted; a single percentage when the scores agree; ``title`` alone for
    one label without a score)."""
    text = f"{title} ×{count}" if count > 1 else title
    if not proposed:
        return text
    known = [round(s * 100) for s in scores if s is not None]
    if not known:
        return f"{text}, proposed"
    low, high = min(known), max(known)
    share = f"{low}%" if low == high else f"{low}-{high}%"
    return f"{text}, proposed {share}"
