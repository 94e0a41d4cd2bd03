"""Every shape kind walked through its one spec (spineviewer.annotations.shapes): point counts,
SCOORD both ways (and through a real SR file), rasterising and area, measurement, painting
primitives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spineviewer.annotations.annotation import Annotation, ImageRef, Kind
from spineviewer.annotations.measure import measurements, rasterise
from spineviewer.annotations.shapes import (
    DECORATIONS,
    FILLED,
    POINT_COUNT,
    SHAPES,
    ArrowHead,
    Connector,
    Ellipse,
    Marker,
    Polyline,
    Segment,
    from_scoord,
    guess_kind,
    shape,
)
from spineviewer.resources import resource_path
from tests.annotations.exchange_helpers import MarkedStudy, marked_study

#: Sample points (row, col) of each kind on a 64 x 80 image.
SAMPLES: dict[Kind, list[tuple[float, float]]] = {
    Kind.RECTANGLE: [(10.0, 12.0), (30.0, 40.0)],
    Kind.ELLIPSE: [(8.0, 20.0), (40.0, 44.0)],
    Kind.POLYGON: [(10.0, 10.0), (10.0, 50.0), (40.0, 30.0)],
    Kind.FREEHAND: [(20.0, 20.0), (18.0, 30.0), (25.0, 38.0), (34.0, 30.0), (30.0, 18.0)],
    Kind.POINT: [(21.5, 33.25)],
    Kind.LINE: [(5.0, 5.0), (45.0, 35.0)],
    Kind.ANGLE: [(10.0, 40.0), (30.0, 20.0), (50.0, 40.0)],
    Kind.COBB: [(10.0, 10.0), (14.0, 50.0), (40.0, 12.0), (36.0, 52.0)],
    Kind.ARROW: [(50.0, 60.0), (30.0, 40.0)],
}
#: What each shape reads back as from a region without SpineViewer's shape code.
GUESSED = {
    Kind.RECTANGLE: Kind.POLYGON,  # a closed polyline of its 4 corners
    Kind.ELLIPSE: Kind.ELLIPSE,
    Kind.POLYGON: Kind.POLYGON,
    Kind.FREEHAND: Kind.POLYGON,
    Kind.POINT: Kind.POINT,
    Kind.LINE: Kind.LINE,
    Kind.ANGLE: Kind.ANGLE,
    Kind.COBB: Kind.COBB,
    Kind.ARROW: Kind.LINE,
}
MEASURED = {
    Kind.RECTANGLE: "area",
    Kind.ELLIPSE: "area",
    Kind.POLYGON: "area",
    Kind.FREEHAND: "area",
    Kind.POINT: "",
    Kind.LINE: "length",
    Kind.ANGLE: "angle",
    Kind.COBB: "cobb_angle",
    Kind.ARROW: "",
}
ROWS, COLS = 64, 80
REF = ImageRef(
    "1.2", "1.2.3", "1.2.3.4", "1.2.840.10008.5.1.4.1.1.7", 1, "", (0.5, 0.5), ROWS, COLS
)


def test_every_kind_has_one_spec_and_a_sample() -> None:
    assert set(SHAPES) == set(Kind) == set(SAMPLES)
    assert all(spec.kind == kind and spec.title for kind, spec in SHAPES.items())
    assert {k for k, s in SHAPES.items() if s.filled} == FILLED
    assert {k: s.point_count for k, s in SHAPES.items()} == POINT_COUNT
    assert {k: s.measure for k, s in SHAPES.items()} == MEASURED


@pytest.mark.parametrize("kind", list(Kind))
def test_point_counts_are_checked_by_the_spec(kind: Kind) -> None:
    spec, points = shape(kind), SAMPLES[kind]
    spec.check(points)
    assert spec.complete(len(points))
    Annotation.create(kind, REF, points, None)  # the annotation checks through the spec
    wrong = [*points, (1.0, 1.0)] if spec.point_count is not None else points[:2]
    assert not spec.complete(len(wrong))
    with pytest.raises(ValueError, match=f"a {kind.value} needs"):
        Annotation.create(kind, REF, wrong, None)
    with pytest.raises(ValueError, match="finite"):
        spec.check([(float("nan"), 0.0), *points[1:]])


@pytest.mark.parametrize("kind", list(Kind))
def test_scoord_round_trips_with_and_without_the_shape_code(kind: Kind) -> None:
    spec, points = shape(kind), SAMPLES[kind]
    graphic_type, data = spec.scoord(points)
    assert graphic_type in ("POINT", "POLYLINE", "ELLIPSE")
    np.testing.assert_allclose(data.min(axis=0), np.min(points, axis=0)[::-1] + 0.5)
    back = spec.points_from_scoord(graphic_type, from_scoord(data))
    np.testing.assert_allclose(back, points, atol=1e-9)
    guessed = guess_kind(graphic_type, from_scoord(data))
    assert guessed == GUESSED[kind]
    shape(guessed).check(shape(guessed).points_from_scoord(graphic_type, from_scoord(data)))
    parts = spec.scoord_parts(data)
    assert len(parts) == spec.graphic_objects
    np.testing.assert_array_equal(np.vstack(parts), data)


def test_every_kind_survives_a_real_sr_file(tmp_path: Path, demo_study_dir: Path) -> None:
    from spineviewer.annotations.sr import export_sr, import_sr

    study: MarkedStudy = marked_study(demo_study_dir)
    image = study.annotations[0].image
    marks = [Annotation.create(k, image, SAMPLES[k], None, text=k.value) for k in Kind]
    path = export_sr(marks, study.headers, tmp_path / "out" / "sr.dcm")
    back = {a.uid: a for a in import_sr(path)}
    for mark in marks:
        got = back[mark.uid]
        assert got.kind == mark.kind
        np.testing.assert_allclose(got.points, mark.points, atol=1e-4)


@pytest.mark.parametrize("kind", list(Kind))
def test_rasterising_and_area_follow_the_region(kind: Kind) -> None:
    spec, points = shape(kind), SAMPLES[kind]
    mark = Annotation.create(kind, REF, points, None)
    if not spec.filled:
        with pytest.raises(ValueError, match="encloses no area"):
            rasterise(mark, ROWS, COLS)
        assert spec.area_px(points) == 0.0
        return
    mask = spec.rasterise(points, ROWS, COLS)
    np.testing.assert_array_equal(mask, rasterise(mark, ROWS, COLS))
    # a pixel per unit of area, give or take the outline's pixels
    perimeter = float(np.hypot(*np.ptp(np.asarray(points), axis=0))) * 4
    assert abs(int(mask.sum()) - spec.area_px(points)) <= perimeter
    centre = spec.centre(points)
    assert mask[round(centre[0]), round(centre[1])]
    polygon = spec.polygon(points, 64)
    assert len(polygon) >= 3
    area = measurements(mark)[0]
    assert (area.name, area.unit) == ("area", "mm2")
    assert area.value == pytest.approx(spec.area_px(points) * 0.25)


@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_measures_what_its_spec_says(kind: Kind) -> None:
    mark = Annotation.create(kind, REF, SAMPLES[kind], None)
    names = [m.name for m in measurements(mark)]
    assert names[:1] == ([shape(kind).measure] if shape(kind).measure else [])


@pytest.mark.parametrize("kind", list(Kind))
def test_primitives_are_plain_data_on_the_shapes_points(kind: Kind) -> None:
    spec, points = shape(kind), SAMPLES[kind]
    primitives = spec.primitives(points)
    assert primitives
    lo, hi = np.min(points, axis=0), np.max(points, axis=0)
    for item in primitives:
        coords = [v for v in vars(item).values() if isinstance(v, tuple)]
        flat = np.asarray(
            [p for v in coords for p in (v if isinstance(v[0], tuple) else [v])], dtype=float
        ).reshape(-1, 2)
        assert np.all(flat >= lo - 1e-9) and np.all(flat <= hi + 1e-9), item
    outlines = [p for p in primitives if not isinstance(p, DECORATIONS)]
    types = {type(p) for p in primitives}
    if spec.filled:
        assert len(outlines) == 1 and isinstance(outlines[0], Polyline | Ellipse)
        if isinstance(outlines[0], Polyline):
            assert outlines[0].closed
            assert list(outlines[0].points) == spec.drawn_points(points)
    expected = {
        Kind.POINT: {Marker},
        Kind.LINE: {Segment},
        Kind.ANGLE: {Polyline, type(primitives[-1])},
        Kind.COBB: {Segment, Connector},
        Kind.ARROW: {Segment, ArrowHead},
    }
    assert types == expected.get(kind, types)
    # a draft of any length so far paints something, ending on its full shape's points
    for n in range(1, len(points) + 1):
        assert spec.draft_primitives(points[:n])


def test_handles_and_label_anchors() -> None:
    corners = [(10.0, 12.0), (10.0, 40.0), (30.0, 40.0), (30.0, 12.0)]
    assert shape(Kind.RECTANGLE).handle_points(SAMPLES[Kind.RECTANGLE]) == corners
    assert shape(Kind.RECTANGLE).drawn_points(SAMPLES[Kind.RECTANGLE]) == corners
    assert len(shape(Kind.ELLIPSE).handle_points(SAMPLES[Kind.ELLIPSE])) == 4
    assert shape(Kind.ELLIPSE).drawn_points(SAMPLES[Kind.ELLIPSE]) == SAMPLES[Kind.ELLIPSE]
    assert shape(Kind.FREEHAND).handle_points(SAMPLES[Kind.FREEHAND]) == []
    assert shape(Kind.ANGLE).label_anchor is not None
    assert shape(Kind.ANGLE).label_anchor[0] == 1  # the vertex
    assert shape(Kind.COBB).layer == "Cobb lines"


def test_the_json_schema_knows_every_kind_and_its_point_count() -> None:
    schema = json.loads(resource_path("schemas", "annotations-v1.schema.json").read_text("utf-8"))
    annotation = schema["$defs"]["annotation"]
    assert annotation["properties"]["kind"]["enum"] == [k.value for k in Kind]
    counts: dict[str, tuple[int | None, int | None]] = {}
    for rule in annotation["allOf"]:
        kinds = rule["if"]["properties"]["kind"]
        points = rule["then"]["properties"]["points"]
        for kind in kinds.get("enum", [kinds.get("const")]):
            counts[kind] = (points.get("minItems"), points.get("maxItems"))
    for kind, spec in SHAPES.items():
        need = spec.point_count
        assert counts[kind.value] == ((3, None) if need is None else (need, need)), kind
