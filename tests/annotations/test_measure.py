"""Masks, areas, lengths, angles and ROI statistics against values known exactly."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from spineviewer.annotations.annotation import Annotation, ImageRef
from spineviewer.annotations.measure import (
    HU_UNIT,
    Measurement,
    angle_deg,
    area_mm2,
    cobb_deg,
    length_mm,
    measurements,
    rasterise,
    roi_stats,
    value_unit,
)
from spineviewer.geometry import Plane


def ref(spacing: tuple[float, float] | None = (0.5, 0.25)) -> ImageRef:
    return ImageRef("1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.4", 1, "", spacing)


def mark(kind: str, points, spacing=(0.5, 0.25), plane: Plane | None = None) -> Annotation:
    return Annotation.create(kind, ref(spacing), points, plane)


# -- rasterise --------------------------------------------------------------------------------


def test_rectangle_mask_includes_centres_on_the_border():
    mask = rasterise(mark("rectangle", [(5, 6), (2, 2)]), 10, 10)
    expected = np.zeros((10, 10), bool)
    expected[2:6, 2:7] = True
    np.testing.assert_array_equal(mask, expected)


def test_rectangle_between_pixel_edges_covers_exactly_its_pixels():
    mask = rasterise(mark("rectangle", [(1.5, 2.5), (4.5, 6.5)]), 8, 8)
    assert mask.sum() == 3 * 4 == area_mm2(mark("rectangle", [(1.5, 2.5), (4.5, 6.5)])) / 0.125


def test_polygon_triangle_mask():
    mask = rasterise(mark("polygon", [(0, 0), (0, 4), (4, 0)]), 6, 6)
    # Centres (r, c) with r + c <= 4, r, c >= 0.
    r, c = np.mgrid[0:6, 0:6]
    np.testing.assert_array_equal(mask, (r + c <= 4))


def test_concave_polygon_leaves_its_notch_out():
    # A "U": outer 0..6 square minus the notch rows 0..4, cols 2..4 (open at the top).
    u = [(0, 0), (6, 0), (6, 6), (0, 6), (0, 4.5), (4.5, 4.5), (4.5, 1.5), (0, 1.5)]
    mask = rasterise(mark("freehand", u), 8, 8)
    assert not mask[0:4, 2:5].any()
    assert mask[0:7, 0:2].all() and mask[0:7, 5:7].all() and mask[5:7, 0:7].all()
    assert not mask[7].any() and not mask[:, 7].any()


def test_ellipse_mask_matches_the_implicit_equation():
    mask = rasterise(mark("ellipse", [(10, 20), (30, 60)]), 50, 80)
    r, c = np.mgrid[0:50, 0:80]
    inside = ((r - 20) / 10.0) ** 2 + ((c - 40) / 20.0) ** 2 <= 1
    np.testing.assert_array_equal(mask, inside)
    # The pixel count approaches the exact area (in pixels) pi * 10 * 20.
    assert abs(mask.sum() - math.pi * 200) / (math.pi * 200) < 0.03


def test_mask_is_clipped_to_the_image():
    mask = rasterise(mark("rectangle", [(-5, -5), (2, 100)]), 4, 6)
    expected = np.zeros((4, 6), bool)
    expected[0:3, :] = True
    np.testing.assert_array_equal(mask, expected)
    assert not rasterise(mark("rectangle", [(50, 50), (60, 60)]), 4, 6).any()


def test_only_filled_shapes_rasterise():
    with pytest.raises(ValueError, match="no area"):
        rasterise(mark("line", [(0, 0), (3, 3)]), 5, 5)


# -- areas ------------------------------------------------------------------------------------


def test_rectangle_area_uses_row_and_column_spacing():
    # 3 rows x 4 columns of 0.5 x 0.25 mm pixels.
    assert area_mm2(mark("rectangle", [(1, 1), (4, 5)])) == pytest.approx(3 * 0.5 * 4 * 0.25)


def test_ellipse_area_is_pi_a_b():
    a = mark("ellipse", [(0, 0), (20, 40)])  # semi-axes 10 rows (5 mm), 20 columns (5 mm)
    assert area_mm2(a) == pytest.approx(math.pi * 5 * 5)


def test_polygon_area_by_shoelace():
    a = mark("polygon", [(0, 0), (0, 8), (6, 8), (6, 4), (2, 4), (2, 0)])  # 6x8 minus 4x4: 32 px2
    assert area_mm2(a) == pytest.approx(32 * 0.125)


def test_area_from_patient_points_is_the_in_plane_area():
    plane = Plane.from_dicom([10, -20, 30], [0, 1, 0, 0, 0, -1], [0.8, 0.6])
    a = mark("polygon", [(0, 0), (0, 10), (5, 10), (5, 0)], spacing=(0.8, 0.6), plane=plane)
    assert a.points_mm is not None
    assert area_mm2(a) == pytest.approx(5 * 0.8 * 10 * 0.6)


def test_area_without_spacing_is_none_and_measured_in_px2():
    a = mark("rectangle", [(0, 0), (3, 3)], spacing=None)
    assert area_mm2(a) is None
    assert measurements(a) == [Measurement("area", 9.0, "px2")]


# -- lengths and angles -----------------------------------------------------------------------


def test_length_with_pixel_spacing():
    a = mark("line", [(0, 0), (6, 8)], spacing=(0.5, 0.25))  # 3 mm down, 2 mm across
    assert length_mm(a) == Measurement("length", pytest.approx(math.hypot(3, 2)), "mm")


def test_length_prefers_patient_points():
    plane = Plane.from_dicom([0, 0, 0], [1, 0, 0, 0, 1, 0], [2.0, 2.0])
    a = Annotation.create("line", ref((2.0, 2.0)), [(0, 0), (3, 4)], plane)
    assert length_mm(a).value == pytest.approx(10.0)
    scaled = replace(a, points_mm=((0.0, 0.0, 0.0), (30.0, 40.0, 0.0)))
    assert length_mm(scaled).value == pytest.approx(50.0)


def test_length_without_scale_is_in_pixels():
    assert length_mm(mark("line", [(0, 0), (3, 4)], spacing=None)) == Measurement(
        "length", 5.0, "px"
    )


def test_angle_at_the_vertex():
    assert angle_deg(mark("angle", [(0, 10), (0, 0), (10, 0)], spacing=(1, 1))) == pytest.approx(90)
    assert angle_deg(mark("angle", [(0, -5), (0, 0), (0, 5)], spacing=(1, 1))) == pytest.approx(180)
    sixty = [(0, 10), (0, 0), (-10 * math.sin(math.pi / 3), 10 * math.cos(math.pi / 3))]
    assert angle_deg(mark("angle", sixty, spacing=(1, 1))) == pytest.approx(60)


def test_angle_accounts_for_non_square_pixels():
    # 4 rows x 0.5 mm = 2 mm down, 8 columns x 0.25 mm = 2 mm across: 45 degrees in mm.
    a = mark("angle", [(0, 8), (0, 0), (4, 8)], spacing=(0.5, 0.25))
    assert angle_deg(a) == pytest.approx(45)


def test_cobb_angle_is_acute_whichever_way_the_lines_run():
    up = mark("cobb", [(0, 0), (0, 10), (0, 0), (10, 10)], spacing=(1, 1))
    down = mark("cobb", [(0, 0), (0, 10), (10, 10), (0, 0)], spacing=(1, 1))
    assert cobb_deg(up) == pytest.approx(45)
    assert cobb_deg(down) == pytest.approx(45)
    steep = mark("cobb", [(0, 0), (0, 10), (0, 0), (10, -1)], spacing=(1, 1))
    assert cobb_deg(steep) == pytest.approx(90 - math.degrees(math.atan(0.1)))


def test_degenerate_angle_is_an_error():
    with pytest.raises(ValueError, match="zero-length"):
        angle_deg(mark("angle", [(1, 1), (1, 1), (3, 3)]))


# -- statistics -------------------------------------------------------------------------------


def test_roi_stats_on_known_values():
    values = np.arange(100, dtype=np.int16).reshape(10, 10) * 2 - 50
    stats = roi_stats(mark("rectangle", [(2, 3), (3, 4)]), values)
    inside = np.array([2 * (r * 10 + c) - 50 for r in (2, 3) for c in (3, 4)], float)
    assert stats.pixels == 4
    assert stats.mean == pytest.approx(inside.mean())
    assert stats.sd == pytest.approx(inside.std())
    assert (stats.min, stats.max) == (inside.min(), inside.max())
    assert stats.area_mm2 == pytest.approx(1 * 0.5 * 1 * 0.25)


def test_roi_stats_of_a_shape_between_centres_is_empty():
    stats = roi_stats(mark("rectangle", [(2.2, 2.2), (2.8, 2.8)]), np.ones((5, 5)))
    assert stats.pixels == 0 and math.isnan(stats.mean)


def test_measurements_per_kind_with_units():
    values = np.full((20, 20), 40.0)
    rect = measurements(mark("rectangle", [(0, 0), (4, 4)]), values, unit=HU_UNIT)
    assert [(m.name, m.unit) for m in rect] == [
        ("area", "mm2"),
        ("mean", HU_UNIT),
        ("sd", HU_UNIT),
        ("min", HU_UNIT),
        ("max", HU_UNIT),
        ("pixels", "{pixels}"),
    ]
    assert rect[1].value == 40.0 and rect[5].value == 25
    assert measurements(mark("angle", [(0, 1), (0, 0), (1, 0)])) == [
        Measurement("angle", pytest.approx(90), "deg")
    ]
    assert measurements(mark("cobb", [(0, 0), (0, 1), (0, 0), (1, 1)]))[0].name == "cobb_angle"
    assert measurements(mark("point", [(1, 1)])) == []
    assert measurements(mark("arrow", [(1, 1), (2, 2)])) == []


def test_value_unit_is_hounsfield_for_ct_only():
    assert value_unit("CT") == "[hnsf'U]"
    assert value_unit("MR") == "1"


def test_length_between_truth_points_on_the_phantom(demo_study_dir):
    """L2 to L4 body centres, marked where the rendered boxes put them, measure the truth."""
    from spineviewer.annotations.frames import image_ref
    from spineviewer.dicom import scan
    from spineviewer.phantom import load_ground_truth

    truth = load_ground_truth(demo_study_dir)
    sagittal = truth.series_by_role("sagittal_t2").series_instance_uid
    stack = next(s for s in scan(demo_study_dir).stacks() if s.series_uid == sagittal)
    uids = [f.instance.sop_instance_uid for f in stack.frames]
    points, centres, index = [], [], 0
    for label in ("L2", "L4"):
        vertebra = truth.vertebra(label)
        view = next(v for v in vertebra.views if v.central and v.series_instance_uid == sagittal)
        assert view.box_px is not None and view.sop_instance_uid is not None
        x0, y0, x1, y1 = view.box_px
        points.append(((y0 + y1) / 2, (x0 + x1) / 2))  # box centre, (row, col)
        centres.append(np.asarray(vertebra.centre_mm))
        index = uids.index(view.sop_instance_uid)
    plane = stack.plane_of(index)
    assert plane is not None
    expected = float(np.linalg.norm(centres[0] - centres[1]))
    one_pixel = max(plane.spacing)
    line = Annotation.create("line", image_ref(stack, index), points, plane)
    assert line.points_mm is not None
    assert abs(length_mm(line).value - expected) < one_pixel
    # From the pixel spacing alone (no patient points): the same within one pixel.
    flat = Annotation(line.kind, line.image, line.points)
    assert length_mm(flat).unit == "mm"
    assert abs(length_mm(flat).value - expected) < one_pixel
