"""Label placement (Qt-free): beside the anatomy when there is room, never on another label,
a column with leader lines when crowded, inside the view, off the text already drawn; and one
label for identical ones."""

from __future__ import annotations

import itertools

import pytest

from spineviewer.viewing.label_layout import (
    LabelBox,
    Rect,
    candidates,
    group_identical,
    merged_text,
    overlapping_pairs,
    place_labels,
)

VIEW = Rect(0, 0, 800, 600)


def test_rect_geometry() -> None:
    a = Rect(10, 10, 20, 10)
    assert (a.right, a.bottom, a.cx, a.cy) == (30, 20, 20, 15)
    assert a.overlaps(Rect(29, 19, 5, 5)) and not a.overlaps(Rect(30, 10, 5, 5))
    assert a.overlaps(Rect(31, 10, 5, 5), gap=2)  # closer than the gap counts
    assert Rect.around([(0, 0), (4, 2)], pad=1) == Rect(-1, -1, 6, 4)
    assert a.union(Rect(0, 0, 1, 1)) == Rect(0, 0, 30, 20)
    assert a.nearest_point(100, 0) == (30, 10) and a.nearest_point(15, 12) == (15, 12)
    assert a.inside(VIEW) and not Rect(-1, 0, 5, 5).inside(VIEW)
    assert overlapping_pairs([a, Rect(25, 15, 10, 10), Rect(100, 100, 1, 1)]) == [(0, 1)]


def test_a_lone_label_sits_right_of_its_anatomy_at_its_top() -> None:
    box = LabelBox(Rect(100, 200, 50, 30), 80, 16)
    [placement] = place_labels([box], VIEW)
    assert placement.rect == Rect(153, 200, 80, 16) and placement.leader is None
    assert candidates(box)[0] == placement.rect
    # asked to look left first (the disc badges), it goes left
    left = LabelBox(Rect(100, 200, 50, 30), 80, 16, side="left")
    assert place_labels([left], VIEW)[0].rect == Rect(17, 200, 80, 16)


def test_at_the_view_edge_it_goes_to_the_other_side() -> None:
    box = LabelBox(Rect(740, 100, 50, 30), 80, 16)
    [placement] = place_labels([box], VIEW)
    assert placement.rect.right <= 740 and placement.rect.inside(VIEW)


def test_the_first_label_keeps_its_place_and_the_next_moves() -> None:
    """A selected box's statistics (placed first) are not overprinted by the next body's
    label: that one takes another side."""
    stats = LabelBox(Rect(100, 100, 60, 40), 150, 80)  # five lines of statistics
    below = LabelBox(Rect(100, 150, 60, 40), 90, 16)  # the next vertebra, 10 px lower
    first, second = place_labels([stats, below], VIEW)
    assert first.rect == candidates(stats)[0]
    assert not first.rect.overlaps(second.rect)
    assert second.leader is None  # still beside its own anatomy
    assert second.rect.overlaps(Rect(0, 150 - 20, 800, 80))


@pytest.mark.parametrize("count", [2, 6, 12, 30])
def test_a_pile_of_labels_on_one_spot_never_overlaps(count: int) -> None:
    """Many implants on one vertebra: every label placed, none on another, all in view; those
    with no room beside the pile go to a column, each with a leader line to its anatomy."""
    boxes = [LabelBox(Rect(380 + 3 * i, 280 + 2 * i, 40, 20), 190, 16) for i in range(count)]
    placements = place_labels(boxes, VIEW)
    rects = [p.rect for p in placements]
    assert overlapping_pairs(rects) == []
    assert all(r.inside(VIEW) for r in rects)
    for box, p in zip(boxes, placements, strict=True):
        if p.leader is not None:
            start, end = p.leader
            assert box.anchor.nearest_point(*start) == start  # starts on the anatomy
            assert end[0] in (p.rect.x, p.rect.right) and end[1] == p.rect.cy
    if count > 10:
        assert any(p.leader is not None for p in placements)  # crowded: a column


def test_labels_keep_off_text_already_drawn_and_other_anatomy() -> None:
    corner = Rect(150, 90, 200, 60)  # e.g. the corner text
    box = LabelBox(Rect(100, 100, 40, 20), 80, 16)
    [p] = place_labels([box], VIEW, obstacles=[corner])
    assert not p.rect.overlaps(corner)
    # a free spot that covers another label's anatomy is the second choice
    a = LabelBox(Rect(100, 100, 40, 20), 60, 16)
    b = LabelBox(Rect(143, 100, 40, 20), 60, 16)
    pa, pb = place_labels([a, b], VIEW)
    assert not pa.rect.overlaps(b.anchor) and not pb.rect.overlaps(a.anchor)


def test_a_column_that_does_not_fit_right_goes_left() -> None:
    boxes = [LabelBox(Rect(600, 290, 100, 20), 150, 16) for _ in range(20)]
    placements = place_labels(boxes, VIEW)
    assert overlapping_pairs([p.rect for p in placements]) == []
    column = [p.rect for p in placements if p.leader is not None]
    assert column and all(r.right <= 600 for r in column)


def test_identical_labels_group_in_order_of_first_appearance() -> None:
    keys = ["screw", "rod", None, "screw", None, "rod", "screw"]
    assert group_identical(keys) == [[0, 3, 6], [1, 5], [2], [4]]


def test_merged_text() -> None:
    assert merged_text("Pedicle screw", 6, [0.85, 0.9, 0.92, 0.88, 0.86, 0.851], True) == (
        "Pedicle screw ×6, proposed 85-92%"
    )
    assert merged_text("Spinal rod", 2, [0.73, 0.73], True) == "Spinal rod ×2, proposed 73%"
    assert merged_text("Spinal rod", 2, [None, None], True) == "Spinal rod ×2, proposed"
    assert merged_text("L3", 1, [0.81], True) == "L3, proposed 81%"
    assert merged_text("Interbody cage", 3, [0.5, 0.6, 0.7], False) == "Interbody cage ×3"


def test_greedy_order_is_stable() -> None:
    """The same labels in the same order land in the same places (no flicker frame to
    frame)."""
    boxes = [LabelBox(Rect(300 + 7 * i, 200 + 11 * i, 30, 30), 120, 16) for i in range(8)]
    first = place_labels(boxes, VIEW)
    assert place_labels(boxes, VIEW) == first
    assert all(not a.rect.overlaps(b.rect) for a, b in itertools.combinations(first, 2))
