"""Marks and the way the images are shown, as a DICOM Grayscale Softcopy Presentation State
(GSPS), written with highdicom: what another viewer or a PACS shows on top of the images.

Each annotation is one Graphic Annotation item on its image frame: its shape as graphic
objects in image pixels (rectangles and polygons as closed polylines, ellipses as their two
axes, a Cobb angle as its two lines, a point as a point) and its label and note as text
objects anchored at its first point. The objects carry SpineViewer's shape and annotation
uid in their Tracking ID, so :mod:`spineviewer.annotations.gsps_read` restores the same marks;
another system reads them as plain graphics and text. The window (VOI), a zoom, a horizontal
flip and a rotation of the view are written too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset

from spineviewer.annotations.annotation import Annotation
from spineviewer.annotations.dicom_objects import (
    headers_for,
    is_multiframe,
    one_study_destination,
)
from spineviewer.annotations.shapes import shape
from spineviewer.annotations.sr_terms import (
    MANUFACTURER,
    SOFTWARE_VERSION,
    person_name,
    tracking_uid,
    uid_from_text,
)
from spineviewer.annotations.sr_write import scoord

__all__ = [
    "LAYER",
    "TAG",
    "View",
    "display_matrix",
    "export_gsps",
    "flip_and_rotation",
    "label_text",
    "object_id",
]

#: The graphic layer every mark is drawn on.
LAYER = "SPINEVIEWER"
#: The first word of the Tracking ID of the objects written here.
TAG = "SPV"

Window = tuple[float, float]


@dataclass(frozen=True)
class View:
    """How the images are shown: window (centre, width) by series (the images' own first
    window for a series not named), a magnification (None: scale to fit), a horizontal flip
    and a clockwise rotation in degrees (0, 90, 180 or 270)."""

    windows: Mapping[str, Window] = field(default_factory=dict)
    magnification: float | None = None
    horizontal_flip: bool = False
    rotation: int = 0

    def __post_init__(self) -> None:
        if self.rotation not in (0, 90, 180, 270):
            raise ValueError(f"rotation must be 0, 90, 180 or 270 degrees, not {self.rotation}")
        if self.magnification is not None and not self.magnification > 0:
            raise ValueError(f"magnification must be above 0, not {self.magnification}")


_Matrix = tuple[tuple[int, int], ...]
_FLIP: _Matrix = ((-1, 0), (0, 1))
_TURN: _Matrix = ((0, -1), (1, 0))  # a quarter clockwise on screen (y down)


def _times(a: _Matrix, b: _Matrix) -> _Matrix:
    (a00, a01), (a10, a11) = a
    (b00, b01), (b10, b11) = b
    return ((a00 * b00 + a01 * b10, a00 * b01 + a01 * b11),
            (a10 * b00 + a11 * b10, a10 * b01 + a11 * b11))  # fmt: skip


def flip_and_rotation(matrix: _Matrix) -> tuple[bool, int]:
    """A display matrix (image (+col, +row) to screen (+x, +y), a signed permutation: see
    :class:`spineviewer.viewing.display_transform.DisplayTransform`) as GSPS's horizontal flip
    and clockwise rotation (the flip applied first)."""
    (m00, m01), (m10, m11) = matrix
    wanted: _Matrix = ((int(m00), int(m01)), (int(m10), int(m11)))
    for flip in (False, True):
        current: _Matrix = _FLIP if flip else ((1, 0), (0, 1))
        for quarter in range(4):
            if current == wanted:
                return flip, 90 * quarter
            current = _times(_TURN, current)
    raise ValueError(f"{matrix} is no turn or flip of the image")


def display_matrix(horizontal_flip: bool, rotation: int) -> _Matrix:
    """The display matrix of a GSPS flip and clockwise rotation (inverse of
    :func:`flip_and_rotation`)."""
    matrix: _Matrix = _FLIP if horizontal_flip else ((1, 0), (0, 1))
    for _ in range((rotation // 90) % 4):
        matrix = _times(_TURN, matrix)
    return matrix


def object_id(role: str, annotation_uid: str) -> str:
    """Tracking ID of one object of an annotation: ``SPV <role> <uid>`` (role: the shape, or
    ``label`` / ``text`` for its text objects)."""
    return f"{TAG} {role} {annotation_uid}"


def label_text(annotation: Annotation) -> str:
    """The label as the text object shows it: ``L4-L5 (herniation)``."""
    return f"{annotation.label} ({annotation.state})" if annotation.state else annotation.label


def _graphics(annotation: Annotation) -> list[hd.pr.GraphicObject]:
    units = hd.pr.AnnotationUnitsValues.PIXEL
    graphic_type, xy = scoord(annotation)
    pieces = shape(annotation.kind).scoord_parts(xy)
    ident = object_id(annotation.kind.value, annotation.uid)
    return [
        hd.pr.GraphicObject(
            graphic_type=hd.pr.GraphicTypeValues(graphic_type.value),
            graphic_data=np.asarray(piece, dtype=np.float64),
            units=units,
            tracking_id=ident,
            tracking_uid=tracking_uid(annotation.uid) if not i else uid_from_text(ident, str(i)),
        )
        for i, piece in enumerate(pieces)
    ]


def _texts(annotation: Annotation) -> list[hd.pr.TextObject]:
    _, xy = scoord(annotation)
    anchor = (float(xy[0][0]), float(xy[0][1]))
    values = {"label": label_text(annotation), "text": annotation.text}
    return [
        hd.pr.TextObject(
            text_value=value[:1024],
            units=hd.pr.AnnotationUnitsValues.PIXEL,
            anchor_point=anchor,
            anchor_point_visible=False,
            tracking_id=object_id(role, annotation.uid),
            tracking_uid=uid_from_text(object_id(role, annotation.uid)),
        )
        for role, value in values.items()
        if value
    ]


def _annotation_item(
    annotation: Annotation, header: Dataset, layer: hd.pr.GraphicLayer
) -> hd.pr.GraphicAnnotation:
    return hd.pr.GraphicAnnotation(
        referenced_images=[header],
        graphic_layer=layer,
        referenced_frame_number=annotation.image.frame_number if is_multiframe(header) else None,
        graphic_objects=_graphics(annotation),
        text_objects=_texts(annotation) or None,
    )


def _first(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        return float(value[0]) if len(value) else None
    return float(value)  # type: ignore[arg-type]


def _windows(
    headers: Sequence[Dataset], view: View
) -> list[hd.pr.SoftcopyVOILUTTransformation] | None:
    """One VOI transformation per series that has a window (the view's or its own)."""
    series: dict[str, list[Dataset]] = {}
    for ds in headers:
        series.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
    out = []
    for uid, members in series.items():
        window = view.windows.get(uid)
        if window is None:
            centre = _first(members[0].get("WindowCenter"))
            width = _first(members[0].get("WindowWidth"))
            window = (centre, width) if centre is not None and width is not None else None
        if window is None or window[1] <= 0:
            continue
        refs = None if len(series) == 1 else hd.ReferencedImageSequence(referenced_images=members)
        out.append(
            hd.pr.SoftcopyVOILUTTransformation(
                window_center=float(window[0]),
                window_width=float(window[1]),
                referenced_images=refs,
            )
        )
    return out or None


def _displayed_areas(headers: Sequence[Dataset], view: View) -> list[Dataset]:
    """One Displayed Area item per image size (highdicom writes the first image's size for
    every image), scaled to fit or magnified."""
    sizes: dict[tuple[int, int], list[Dataset]] = {}
    for ds in headers:
        sizes.setdefault((int(ds.Columns), int(ds.Rows)), []).append(ds)
    items = []
    for (columns, rows), members in sizes.items():
        item = Dataset()
        if len(sizes) > 1:
            item.ReferencedImageSequence = hd.ReferencedImageSequence(referenced_images=members)
        item.DisplayedAreaTopLeftHandCorner = [1, 1]
        item.DisplayedAreaBottomRightHandCorner = [columns, rows]
        if view.magnification is None:
            item.PresentationSizeMode = "SCALE TO FIT"
            item.PresentationPixelAspectRatio = [1, 1]
        else:
            item.PresentationSizeMode = "MAGNIFY"
            item.PresentationPixelAspectRatio = [1, 1]
            item.PresentationPixelMagnificationRatio = float(view.magnification)
        items.append(item)
    return items


def _series_references(images: Sequence[Dataset]) -> list[Dataset]:
    """The Referenced Series Sequence of every image, series by series."""
    series: dict[str, list[Dataset]] = {}
    for ds in images:
        series.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
    out = []
    for uid, members in series.items():
        item = Dataset()
        item.SeriesInstanceUID = uid
        item.ReferencedImageSequence = hd.ReferencedImageSequence(referenced_images=members)
        out.append(item)
    return out


def export_gsps(
    annotations: Sequence[Annotation],
    source_datasets: Mapping[str, Dataset],
    path: str | Path,
    *,
    view: View | None = None,
    content_label: str = "SPINEVIEWER",
    series_number: int = 9004,
    institution_name: str | None = None,
) -> Path:
    """Write ``annotations`` (one study) and ``view`` as a GSPS at ``path``.

    ``source_datasets`` maps SOP Instance UID to the source header (no pixel data needed).
    ValueError for no annotation, several studies, or a path beside the source images;
    KeyError when a header is missing."""
    if not annotations:
        raise ValueError("no annotation to present")
    view = view or View()
    headers = headers_for(annotations, source_datasets)
    out = one_study_destination(headers.values(), path, "GSPS")
    layer = hd.pr.GraphicLayer(layer_name=LAYER, order=1, description="SpineViewer marks")
    items = [_annotation_item(a, headers[a.image.sop_instance_uid], layer) for a in annotations]
    images = list(headers.values())
    # highdicom takes images of one size; the others are referenced below, as the standard
    # allows (one Displayed Area item per size)
    size = (images[0].Rows, images[0].Columns)
    first = [ds for ds in images if (ds.Rows, ds.Columns) == size]
    on_first = {str(ds.SOPInstanceUID) for ds in first}
    authors = sorted({a.provenance.author for a in annotations if a.provenance.author})
    gsps = hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=first,
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name="SpineViewer",
        software_versions=SOFTWARE_VERSION,
        device_serial_number="0",
        content_label=content_label,
        content_description="Marks and view saved in SpineViewer",
        graphic_annotations=[
            item
            for a, item in zip(annotations, items, strict=True)
            if a.image.sop_instance_uid in on_first
        ],
        graphic_layers=[layer],
        institution_name=institution_name,
        content_creator_name=person_name(authors[0]) if len(authors) == 1 else None,
    )
    gsps.ReferencedSeriesSequence = _series_references(images)
    gsps.GraphicAnnotationSequence = items
    voi = _windows(images, view)
    if voi:
        gsps.SoftcopyVOILUTSequence = voi
    gsps.DisplayedAreaSelectionSequence = _displayed_areas(images, view)
    gsps.ImageHorizontalFlip = "Y" if view.horizontal_flip else "N"
    gsps.ImageRotation = view.rotation
    gsps.SeriesDescription = "SpineViewer presentation state"
    body_part = images[0].get("BodyPartExamined")
    if body_part:  # the spine is no paired part: no Laterality needed
        gsps.BodyPartExamined = body_part
    else:
        gsps.Laterality = ""
    out.parent.mkdir(parents=True, exist_ok=True)
    gsps.save_as(out, enforce_file_format=True)
    return out
