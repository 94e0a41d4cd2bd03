"""One spec per annotation shape: everything the measurements, the exchange formats (SR, SEG,
COCO, GSPS) and both painters need to know about a kind of mark, in one place.

A :class:`ShapeSpec` says how many points the shape takes, whether (and how) it encloses an
area (:class:`Region`: rasterising, pixel area, centre, polygon outline), which measurement it
has, how it is written as DICOM SCOORD / GSPS graphics and read back, and how it is painted:
:meth:`ShapeSpec.primitives` gives plain data (:data:`Primitive`: polylines, ellipses, line
segments and their decorations) in the shape's own coordinates, which each painter (the live
viewport layer, the report's key images) turns into its own drawing calls. The painters
decide the decorations' screen sizes (a point's cross, an arrow head, a Cobb line's
overhang); a painter that draws plain outlines skips the decorations (:data:`DECORATIONS`).

Coordinates are whatever the caller's points are: image ``(row, col)`` for annotations,
widget ``(x, y)`` for a draft being drawn (every rule here is symmetric in the two axes,
except SCOORD, which is defined on image points). No Qt, no DICOM library: plain numpy.

Adding a shape kind is one :class:`Kind` member, one :class:`ShapeSpec` in :data:`SHAPES` and
its drawing tool (``spineviewer/gui/annotate/tools.py``); see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Point = tuple[float, float]
Points = Sequence[Point]

#: Centres closer than this to an outline (pixels) count as on it.
ON_EDGE_TOLERANCE = 1e-9
#: The fewest vertices of a shape whose point count is open (polygons, freehand outlines).
MIN_VERTICES = 3
#: What a mark can stand for in a report (:attr:`ShapeSpec.stands_for`): a vertebral body
#: (the AI's boxes and corner polygons, the labelling tool's points), a disc's ROI.
VERTEBRA, DISC = "vertebra", "disc"


class Kind(StrEnum):
    """The shape of an annotation; everything else about it is its :class:`ShapeSpec`."""

    RECTANGLE = "rectangle"  # two opposite corners (image axes)
    ELLIPSE = "ellipse"  # two opposite corners of the bounding box (image axes)
    POLYGON = "polygon"  # >= 3 vertices, closed
    FREEHAND = "freehand"  # >= 3 vertices, closed
    POINT = "point"
    LINE = "line"  # start, end
    ANGLE = "angle"  # arm end, vertex, arm end
    COBB = "cobb"  # line 1 start, line 1 end, line 2 start, line 2 end
    ARROW = "arrow"  # tail, head (the text sits at the tail)


# -- painting primitives ------------------------------------------------------------------------


@dataclass(frozen=True)
class Polyline:
    """Vertices joined in order; ``closed`` joins the last to the first (an outline)."""

    points: tuple[Point, ...]
    closed: bool = False


@dataclass(frozen=True)
class Ellipse:
    """The axis-aligned ellipse inside the box of two opposite corners."""

    corners: tuple[Point, Point]


@dataclass(frozen=True)
class Segment:
    """A straight line from ``a`` to ``b``; ``ticks``: short cross lines at both ends (where
    a distance or an endplate ends); ``overhang``: run past both ends (a Cobb endplate line,
    by the painter's own length)."""

    a: Point
    b: Point
    ticks: bool = False
    overhang: bool = False


@dataclass(frozen=True)
class Marker:
    """A point's marker (a small circle and cross, sized by the painter)."""

    at: Point


@dataclass(frozen=True)
class ArrowHead:
    """The head of an arrow at ``head``, pointing away from ``tail``."""

    tail: Point
    head: Point


@dataclass(frozen=True)
class Arc:
    """The arc of an angle at ``vertex`` between the arms towards ``a`` and ``b``."""

    vertex: Point
    a: Point
    b: Point


@dataclass(frozen=True)
class Connector:
    """A dotted line relating two parts of one mark (a Cobb angle's two lines)."""

    a: Point
    b: Point


Primitive = Polyline | Ellipse | Segment | Marker | ArrowHead | Arc | Connector
#: Primitive types that decorate a shape rather than draw its outline: a painter that shows
#: plain outlines (the report's key images) skips them, and draws a segment without its
#: overhang.
DECORATIONS: tuple[type, ...] = (Marker, ArrowHead, Arc, Connector)


# -- geometry -----------------------------------------------------------------------------------


def as_array(points: Points | FloatArray) -> FloatArray:
    """Points as an ``(N, 2)`` float array."""
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def _pairs(points: Points | FloatArray) -> list[Point]:
    return [(float(a), float(b)) for a, b in points]


def _box_corners(points: Points | FloatArray) -> list[Point]:
    """The four corners, in order, of the box of two opposite corners."""
    (r0, c0), (r1, c1) = points
    return [(r0, c0), (r0, c1), (r1, c1), (r1, c0)]


def _midpoint(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)


def _closed(rc: FloatArray) -> bool:
    return len(rc) >= 4 and bool(np.allclose(rc[0], rc[-1]))


def pixel_box(pts: FloatArray, rows: int, cols: int) -> tuple[slice, slice]:
    """Index ranges of the pixel centres inside the bounding box of ``pts`` (clipped)."""
    lo = np.ceil(pts.min(axis=0) - ON_EDGE_TOLERANCE).astype(int)
    hi = np.floor(pts.max(axis=0) + ON_EDGE_TOLERANCE).astype(int) + 1
    return (
        slice(max(lo[0], 0), max(min(hi[0], rows), 0)),
        slice(max(lo[1], 0), max(min(hi[1], cols), 0)),
    )


def inside_polygon(vertices: FloatArray, r: FloatArray, c: FloatArray) -> BoolArray:
    """Even-odd rule for the centres (r, c), plus centres lying on an edge."""
    inside = np.zeros(np.broadcast(r, c).shape, dtype=bool)
    on_edge = np.zeros_like(inside)
    for (r0, c0), (r1, c1) in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        # A horizontal ray to the right of the centre crosses the edge (half-open in rows).
        if r0 != r1:
            spans = (r0 > r) != (r1 > r)
            c_cross = c0 + (r - r0) * (c1 - c0) / (r1 - r0)
            inside ^= spans & (c < c_cross)
        # Centre on the edge: collinear and between the end points.
        dr, dc = r1 - r0, c1 - c0
        length2 = dr * dr + dc * dc
        if length2 == 0.0:
            on_edge |= np.hypot(r - r0, c - c0) <= ON_EDGE_TOLERANCE
            continue
        t = ((r - r0) * dr + (c - c0) * dc) / length2
        cross = np.abs((r - r0) * dc - (c - c0) * dr) / np.sqrt(length2)
        on_edge |= (
            (cross <= ON_EDGE_TOLERANCE) & (t >= -ON_EDGE_TOLERANCE) & (t <= 1 + ON_EDGE_TOLERANCE)
        )
    return inside | on_edge


def inside_ellipse(corners: FloatArray, r: FloatArray, c: FloatArray) -> BoolArray:
    """Centres (r, c) inside or on the ellipse in the box of two opposite corners."""
    (r0, c0), (r1, c1) = corners
    a_r, a_c = abs(r1 - r0) / 2.0, abs(c1 - c0) / 2.0
    if a_r == 0.0 or a_c == 0.0:
        return np.zeros(np.broadcast(r, c).shape, dtype=bool)
    d = ((r - (r0 + r1) / 2.0) / a_r) ** 2 + ((c - (c0 + c1) / 2.0) / a_c) ** 2
    return np.asarray(d <= 1.0 + ON_EDGE_TOLERANCE)


def polygon_area(vertices: FloatArray) -> float:
    """Area of a planar polygon in 2D or 3D (half the norm of the vector area)."""
    if vertices.shape[1] == 2:
        x, y = vertices[:, 1], vertices[:, 0]
        return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)
    vector_area = np.cross(vertices, np.roll(vertices, -1, axis=0)).sum(axis=0)
    return float(np.linalg.norm(vector_area) / 2.0)


def area_centroid(poly: FloatArray) -> tuple[float, FloatArray]:
    """Area and area centroid of a 2D polygon (a degenerate one: 0 and the vertices' mean)."""
    nxt = np.roll(poly, -1, axis=0)
    cross = poly[:, 0] * nxt[:, 1] - nxt[:, 0] * poly[:, 1]
    area = cross.sum() / 2.0
    if abs(area) < 1e-12:
        return 0.0, poly.mean(axis=0)
    centroid = ((poly + nxt) * cross[:, None]).sum(axis=0) / (6.0 * area)
    return float(abs(area)), centroid


def to_scoord(points: Points | FloatArray) -> FloatArray:
    """(row, col) pixel points -> SCOORD (column, row) with the pixel corner as origin."""
    return as_array(points)[:, ::-1] + 0.5


def from_scoord(data: FloatArray) -> FloatArray:
    """SCOORD (column, row) data with the pixel corner as origin -> (row, col) points."""
    return as_array(data)[:, ::-1] - 0.5


# -- regions ------------------------------------------------------------------------------------


class Region:
    """How a filled shape encloses its area (the base: an outline through its points)."""

    #: Its area in mm is taken from the patient points when known (in-plane polygons);
    #: otherwise from the pixel area and the pixel spacing.
    patient_area = True

    def vertices(self, pts: FloatArray) -> FloatArray:
        """Vertices ``(N, 2)`` of its polygon outline; ValueError when it has none."""
        return pts

    def drawn(self, pts: FloatArray) -> FloatArray:
        """The points its outline is drawn through (a box's four corners)."""
        return self.vertices(pts)

    def handles(self, pts: FloatArray) -> FloatArray:
        """Where its grab handles are."""
        return pts

    def contains(self, pts: FloatArray, r: FloatArray, c: FloatArray) -> BoolArray:
        """Which centres (r, c) are inside or on the outline."""
        return inside_polygon(self.vertices(pts), r, c)

    def area_px(self, pts: FloatArray) -> float:
        """Exact area in square pixels."""
        return polygon_area(self.vertices(pts))

    def centre(self, pts: FloatArray) -> FloatArray:
        """The area centroid."""
        return area_centroid(pts)[1]

    def polygon(self, pts: FloatArray, n: int) -> FloatArray:
        """The outline as a polygon (``n`` vertices where it has to be sampled)."""
        return self.vertices(pts)

    def scoord(self, pts: FloatArray) -> tuple[str, FloatArray]:
        """SCOORD graphic type and (row, col) data: a closed polyline (2D SCOORD has no
        POLYGON type), the first vertex repeated."""
        corners = self.vertices(pts)
        return "POLYLINE", np.vstack([corners, corners[:1]])

    def from_polyline(self, rc: FloatArray) -> FloatArray:
        """Its points from a (closed) polyline (inverse of :meth:`scoord`)."""
        return rc[:-1] if _closed(rc) else rc

    def outline_primitive(self, points: Points) -> Primitive:
        return Polyline(tuple(_pairs(self.drawn(as_array(points)))), closed=True)


class Box(Region):
    """A rectangle of two opposite corners, along the image axes."""

    patient_area = False

    def vertices(self, pts: FloatArray) -> FloatArray:
        return np.asarray(_box_corners(pts), dtype=np.float64)

    def handles(self, pts: FloatArray) -> FloatArray:
        return self.vertices(pts)

    def area_px(self, pts: FloatArray) -> float:
        (r0, c0), (r1, c1) = pts
        return float(abs(r1 - r0) * abs(c1 - c0))

    def centre(self, pts: FloatArray) -> FloatArray:
        return np.asarray(pts.mean(axis=0))

    def from_polyline(self, rc: FloatArray) -> FloatArray:
        return np.array([rc[0], rc[2]])


class Oval(Box):
    """An ellipse inside the box of two opposite corners, along the image axes."""

    def vertices(self, pts: FloatArray) -> FloatArray:
        raise ValueError("an ellipse has no polygon outline")

    def drawn(self, pts: FloatArray) -> FloatArray:
        return pts

    def handles(self, pts: FloatArray) -> FloatArray:
        return np.asarray(_box_corners(pts), dtype=np.float64)

    def contains(self, pts: FloatArray, r: FloatArray, c: FloatArray) -> BoolArray:
        return inside_ellipse(pts, r, c)

    def area_px(self, pts: FloatArray) -> float:
        return float(np.pi * super().area_px(pts) / 4.0)

    def polygon(self, pts: FloatArray, n: int) -> FloatArray:
        (r0, c0), (r1, c1) = pts
        t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
        rows = (r0 + r1) / 2.0 + abs(r1 - r0) / 2.0 * np.sin(t)
        cols = (c0 + c1) / 2.0 + abs(c1 - c0) / 2.0 * np.cos(t)
        return np.column_stack([rows, cols])

    def scoord(self, pts: FloatArray) -> tuple[str, FloatArray]:
        """ELLIPSE: the four end points (row, col) of its two axes, the longer first; each
        axis keeps the order of the corners it came from, so the corners can be rebuilt."""
        (r0, c0), (r1, c1) = pts
        rc, cc = (r0 + r1) / 2.0, (c0 + c1) / 2.0
        vertical = [(r0, cc), (r1, cc)]
        horizontal = [(rc, c0), (rc, c1)]
        longer = vertical + horizontal if abs(r1 - r0) >= abs(c1 - c0) else horizontal + vertical
        return "ELLIPSE", np.asarray(longer, dtype=np.float64)

    def from_polyline(self, rc: FloatArray) -> FloatArray:
        return rc

    def outline_primitive(self, points: Points) -> Primitive:
        a, b = _pairs(points)
        return Ellipse((a, b))


#: The three ways a filled shape encloses its area.
BOX, OVAL, OUTLINE = Box(), Oval(), Region()


# -- painting of each kind ----------------------------------------------------------------------


def _outline_of(region: Region) -> Callable[[Points], list[Primitive]]:
    return lambda points: [region.outline_primitive(points)]


def _point_paint(points: Points) -> list[Primitive]:
    return [Marker(_pairs(points)[0])]


def _line_paint(points: Points) -> list[Primitive]:
    a, b = _pairs(points)
    return [Segment(a, b, ticks=True)]


def _angle_paint(points: Points) -> list[Primitive]:
    pts = _pairs(points)
    return [Polyline(tuple(pts)), Arc(pts[1], pts[0], pts[2])]


def _cobb_paint(points: Points) -> list[Primitive]:
    a0, a1, b0, b1 = _pairs(points)
    return [
        Segment(a0, a1, ticks=True, overhang=True),
        Segment(b0, b1, ticks=True, overhang=True),
        Connector(_midpoint(a0, a1), _midpoint(b0, b1)),
    ]


def _arrow_paint(points: Points) -> list[Primitive]:
    tail, head = _pairs(points)
    return [Segment(tail, head), ArrowHead(tail, head)]


def _open_draft(points: Points) -> list[Primitive]:
    return [Polyline(tuple(_pairs(points)))]


def _box_draft(region: Region) -> Callable[[Points], list[Primitive]]:
    def draft(points: Points) -> list[Primitive]:
        return [region.outline_primitive(points)] if len(points) == 2 else _open_draft(points)

    return draft


def _cobb_draft(points: Points) -> list[Primitive]:
    pts = _pairs(points)
    if len(pts) < 3:
        return _open_draft(pts)
    return [Segment(pts[0], pts[1]), Polyline(tuple(pts[2:]))]


# -- the specs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShapeSpec:
    """Everything about one kind of shape (see the module docstring)."""

    kind: Kind
    #: What a person calls it (the panel, the default name of an unlabelled mark).
    title: str
    #: Exact number of points; None: at least :data:`MIN_VERTICES`.
    point_count: int | None
    #: How it encloses an area (None: it does not; no area, no mask, no SEG).
    region: Region | None = None
    #: Its measurement: ``length``, ``angle``, ``cobb_angle``, ``area`` or "" (none).
    measure: str = ""
    #: It has a length (:func:`~spineviewer.annotations.measure.length_mm`) even if it is not
    #: measured as one (an arrow).
    has_length: bool = False
    #: SCOORD graphic type of a shape without a region (``POINT`` or ``POLYLINE``).
    graphic_type: str = "POLYLINE"
    #: GSPS graphic objects it is written as (its SCOORD points split evenly).
    graphic_objects: int = 1
    #: What it is painted as, from its points.
    paint: Callable[[Points], list[Primitive]] = _open_draft
    #: What it is painted as while it is drawn (any number of points so far).
    draft: Callable[[Points], list[Primitive]] = _open_draft
    #: It has grab handles (a freehand outline of hundreds of points is moved as a whole).
    handles: bool = True
    #: The point its label sits beside and that spot's half size in screen pixels (a point's
    #: cross, an arrow's tail, an angle's vertex); None: beside the whole shape.
    label_anchor: tuple[int, float] | None = None
    #: Its own display layer ("" : the layer of its label's category).
    layer: str = ""
    #: Its own colour and line weight in the live painter ("" : the label's).
    style: str = ""
    #: Its note names it (a Cobb angle's "Cobb 23°"), not its label.
    named_by_text: bool = False
    #: The noun of menu texts ("Move Cobb angle"); "" : the kind's value.
    noun: str = ""
    #: What a mark of this shape can stand for in a report (:data:`VERTEBRA`, :data:`DISC`).
    stands_for: frozenset[str] = frozenset()

    @property
    def filled(self) -> bool:
        """True when it encloses an area (measured, rasterised for SEG)."""
        return self.region is not None

    @property
    def name(self) -> str:
        """The noun of menu texts."""
        return self.noun or self.kind.value

    def check(self, points: Points) -> None:
        """ValueError when ``points`` do not fit this shape."""
        need = self.point_count
        n = len(points)
        if (need is None and n < MIN_VERTICES) or (need is not None and n != need):
            want = f"at least {MIN_VERTICES}" if need is None else str(need)
            raise ValueError(f"a {self.kind.value} needs {want} points, got {n}")
        if not all(len(p) == 2 and all(np.isfinite(p)) for p in points):
            raise ValueError(
                f"a {self.kind.value} has a point that is not a finite (row, col) pair"
            )

    def complete(self, n: int) -> bool:
        """True when ``n`` points make this shape."""
        need = self.point_count
        return n >= MIN_VERTICES if need is None else n == need

    def _region(self, what: str) -> Region:
        if self.region is None:
            raise ValueError(f"a {self.kind.value} {what}")
        return self.region

    def outline(self, points: Points | FloatArray) -> FloatArray:
        """Vertices ``(N, 2)`` of a polygonal filled shape (a rectangle's 4 corners, in
        order); ValueError for ellipses and for shapes that enclose no area."""
        try:
            return self._region("has no polygon outline").vertices(as_array(points))
        except ValueError:
            raise ValueError(f"a {self.kind.value} has no polygon outline") from None

    def drawn_points(self, points: Points) -> list[Point]:
        """The points its outline is drawn through (a rectangle's 4 corners; an ellipse's 2)."""
        if self.region is None:
            return list(points)
        return _pairs(self.region.drawn(as_array(points)))

    def handle_points(self, points: Points) -> list[Point]:
        """Where the grab handles are: every vertex; all four corners of boxes; none."""
        if not self.handles:
            return []
        if self.region is None:
            return list(points)
        return _pairs(self.region.handles(as_array(points)))

    def rasterise(self, points: Points, rows: int, cols: int) -> BoolArray:
        """Boolean mask ``(rows, cols)``: pixels whose centre is inside the shape or on its
        outline, clipped to the image; ValueError for a shape that encloses no area."""
        region = self._region("encloses no area to rasterise")
        mask = np.zeros((rows, cols), dtype=bool)
        pts = as_array(points)
        rs, cs = pixel_box(pts, rows, cols)
        if rs.start >= rs.stop or cs.start >= cs.stop:
            return mask
        r = np.arange(rs.start, rs.stop, dtype=np.float64)[:, None]
        c = np.arange(cs.start, cs.stop, dtype=np.float64)[None, :]
        mask[rs, cs] = region.contains(pts, r, c)
        return mask

    def area_px(self, points: Points) -> float:
        """Exact area in square pixels (0 for a shape that encloses none)."""
        return 0.0 if self.region is None else self.region.area_px(as_array(points))

    def centre(self, points: Points) -> Point:
        """(row, col) of its centre: the area centroid of a filled shape (the box centre of
        boxes and ellipses), else the points' mean."""
        pts = as_array(points)
        centre = pts.mean(axis=0) if self.region is None else self.region.centre(pts)
        return float(centre[0]), float(centre[1])

    def polygon(self, points: Points, n: int) -> FloatArray:
        """The outline of a filled shape as a polygon (an ellipse sampled at ``n`` vertices)."""
        return self._region("encloses no area").polygon(as_array(points), n)

    def scoord(self, points: Points) -> tuple[str, FloatArray]:
        """SCOORD graphic type and (column, row) data, the outer corner of the first pixel
        at (0, 0): a closed POLYLINE for polygonal filled shapes, ELLIPSE (its axes) for an
        ellipse, else :attr:`graphic_type` through the points."""
        pts = as_array(points)
        graphic_type, rc = (
            (self.graphic_type, pts) if self.region is None else self.region.scoord(pts)
        )
        return graphic_type, to_scoord(rc)

    def scoord_parts(self, data: FloatArray) -> list[FloatArray]:
        """SCOORD data as the :attr:`graphic_objects` pieces a GSPS writes."""
        return list(np.split(np.asarray(data), self.graphic_objects))

    def points_from_scoord(self, graphic_type: str, rc: FloatArray) -> list[Point]:
        """Its points from an image region's graphic type and (row, col) points (inverse of
        :meth:`scoord`; a CIRCLE or ELLIPSE from anywhere becomes its box's corners)."""
        rc = as_array(rc)
        if graphic_type == "CIRCLE":  # centre, a point on the circle
            radius = float(np.hypot(*(rc[1] - rc[0])))
            rc = np.array([rc[0] - radius, rc[0] + radius])
        elif graphic_type == "ELLIPSE":
            a, b = rc[:2], rc[2:4]
            # The axis along the rows keeps its column: rows come from it, columns the other.
            vertical, horizontal = (
                (a, b) if abs(a[0, 1] - a[1, 1]) <= abs(b[0, 1] - b[1, 1]) else (b, a)
            )
            rc = np.array([[vertical[0, 0], horizontal[0, 1]], [vertical[1, 0], horizontal[1, 1]]])
        elif self.region is not None:
            rc = self.region.from_polyline(rc)
        return _pairs(rc)

    def primitives(self, points: Points) -> list[Primitive]:
        """What it is painted as (see :data:`Primitive`)."""
        return self.paint(points)

    def draft_primitives(self, points: Points) -> list[Primitive]:
        """What it is painted as while it is drawn, with any number of points so far."""
        return self.draft(points)


SHAPES: dict[Kind, ShapeSpec] = {
    spec.kind: spec
    for spec in (
        ShapeSpec(Kind.RECTANGLE, "Rectangle", 2, BOX, "area",
                  paint=_outline_of(BOX), draft=_box_draft(BOX), stands_for=frozenset({VERTEBRA})),
        ShapeSpec(Kind.ELLIPSE, "Ellipse", 2, OVAL, "area",
                  paint=_outline_of(OVAL), draft=_box_draft(OVAL), stands_for=frozenset({DISC})),
        ShapeSpec(Kind.POLYGON, "Polygon", None, OUTLINE, "area", paint=_outline_of(OUTLINE),
                  stands_for=frozenset({VERTEBRA, DISC})),
        ShapeSpec(Kind.FREEHAND, "Freehand", None, OUTLINE, "area", paint=_outline_of(OUTLINE),
                  handles=False, noun="freehand outline", stands_for=frozenset({DISC})),
        ShapeSpec(Kind.POINT, "Point", 1, graphic_type="POINT", paint=_point_paint,
                  label_anchor=(0, 7.0), stands_for=frozenset({VERTEBRA})),
        ShapeSpec(Kind.LINE, "Distance", 2, measure="length", has_length=True,
                  paint=_line_paint),
        ShapeSpec(Kind.ANGLE, "Angle", 3, measure="angle", paint=_angle_paint,
                  label_anchor=(1, 6.0)),
        ShapeSpec(Kind.COBB, "Cobb angle", 4, measure="cobb_angle", graphic_objects=2,
                  paint=_cobb_paint, draft=_cobb_draft, layer="Cobb lines", style="cobb",
                  named_by_text=True, noun="Cobb angle"),
        ShapeSpec(Kind.ARROW, "Arrow", 2, has_length=True, paint=_arrow_paint,
                  label_anchor=(0, 3.0)),
    )
}  # fmt: skip

#: Exact point counts (None: three or more).
POINT_COUNT: dict[Kind, int | None] = {kind: spec.point_count for kind, spec in SHAPES.items()}
#: Shapes that enclose an area (measured, rasterised for SEG).
FILLED = frozenset(kind for kind, spec in SHAPES.items() if spec.filled)


def shape(kind: Kind | str) -> ShapeSpec:
    """The spec of ``kind``."""
    return SHAPES[Kind(kind)]


def standing_for(role: str) -> frozenset[Kind]:
    """The kinds whose marks can stand for ``role`` (:data:`VERTEBRA`, :data:`DISC`)."""
    return frozenset(kind for kind, spec in SHAPES.items() if role in spec.stands_for)


def guess_kind(graphic_type: str, rc: FloatArray) -> Kind:
    """The shape of an image region written without SpineViewer's shape code (another
    system's SR or GSPS): ellipses and circles, points, closed polylines as polygons, open
    ones by their point count (2: a line, 3: an angle, 4: a Cobb angle, more: freehand)."""
    if graphic_type in ("ELLIPSE", "CIRCLE"):
        return Kind.ELLIPSE
    if graphic_type == "POINT":
        return Kind.POINT
    if _closed(as_array(rc)):
        return Kind.POLYGON
    by_count = {
        spec.point_count: kind
        for kind, spec in SHAPES.items()
        if spec.region is None and spec.measure and spec.point_count
    }
    return by_count.get(len(rc), Kind.FREEHAND)
