"""One label on one slice as an editable polygon: outlines along pixel edges, simplified."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.ai.manifest_model import ModelLabel
from spineviewer.annotations.annotation import ImageRef, Kind, Status
from spineviewer.annotations.label_polygon import (
    label_polygon,
    outline_polygon,
    polygon_area,
    simplify,
    trace_outlines,
)
from spineviewer.annotations.measure import rasterise
from spineviewer.geometry import Plane

IMAGE = ImageRef("1.2", "1.2.3", "1.2.3.4", "1.2.840.10008.5.1.4.1.1.2", rows=120, columns=140)
PLANE = Plane(np.zeros(3), (1, 0, 0), (0, 1, 0), (0.7, 0.7), (120, 140))


def blob(rows: int = 120, cols: int = 140) -> np.ndarray:
    """An ellipse with a notch and a hole, and a separate small square."""
    r, c = np.mgrid[:rows, :cols]
    mask = ((r - 60) / 30.0) ** 2 + ((c - 55) / 40.0) ** 2 <= 1.0
    mask[55:65, 85:100] = False  # a notch from the right
    mask[50:56, 40:46] = False  # a hole
    mask[10:20, 115:125] = True  # another part
    return mask


def test_loops_through_pixel_edges_enclose_exactly_the_pixels():
    mask = blob()
    loops = trace_outlines(mask)
    areas = sorted(polygon_area(loop) for loop in loops)
    # the hole runs the other way; outer loops enclose their part's pixels, holes included
    assert areas[0] == -36.0
    assert sum(areas) == mask.sum()
    assert 100.0 in areas


def test_diagonal_neighbours_are_separate_parts():
    mask = np.zeros((5, 5), dtype=bool)
    mask[1, 1] = mask[2, 2] = True
    assert sorted(polygon_area(loop) for loop in trace_outlines(mask)) == [1.0, 1.0]


def test_polygon_area_within_two_percent_of_the_mask():
    mask = blob()
    mask[10:20, 115:125] = False
    mask[50:56, 40:46] = False
    points = outline_polygon(mask)
    assert points is not None
    assert len(points) < 80  # a staircase of hundreds of pixel edges simplified
    assert polygon_area(points) == pytest.approx(mask.sum(), rel=0.02)
    annotation = label_polygon(
        mask, IMAGE, PLANE, ModelLabel("L3", "L3 vertebra", "#f9c74f"), "seg-model", "1.2"
    )
    assert annotation is not None
    filled = rasterise(annotation, 120, 140)
    assert filled.sum() == pytest.approx(mask.sum(), rel=0.02)
    assert (filled & mask).sum() / mask.sum() > 0.98


def test_the_part_near_a_point_or_the_largest():
    mask = blob()
    largest = outline_polygon(mask)
    small = outline_polygon(mask, near=(15.0, 120.0))
    assert largest is not None and small is not None
    assert polygon_area(largest) > 3000
    assert polygon_area(small) == pytest.approx(100.0)
    assert outline_polygon(np.zeros((4, 4), dtype=bool)) is None


def test_simplify_keeps_corners_and_drops_straight_vertices():
    square = [(0.0, 0.0), (0.0, 5.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0), (5.0, 0.2)]
    assert simplify(square, 0.5) == [(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0)]


def test_a_proposal_of_the_model_labelled_from_the_vocabulary():
    mask = np.zeros((120, 140), dtype=bool)
    mask[30:60, 40:90] = True
    annotation = label_polygon(
        mask, IMAGE, PLANE, ModelLabel("L4-L5", "L4-L5 disc", "#b5179e"), "seg-model", "1.2"
    )
    assert annotation is not None
    assert annotation.kind == Kind.POLYGON
    assert annotation.status == Status.PROPOSED
    assert annotation.label == "L4-L5"
    assert annotation.provenance.is_model
    assert (annotation.provenance.model_id, annotation.provenance.model_version) == (
        "seg-model",
        "1.2",
    )
    assert annotation.points_mm is not None  # patient points from the plane
    canal = label_polygon(
        mask, IMAGE, PLANE, ModelLabel("spinal_canal", "Spinal canal", "#ffd166"), "m", "1"
    )
    assert canal is not None and (canal.label, canal.text) == ("", "Spinal canal")
