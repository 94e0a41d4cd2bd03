"""A Grayscale Softcopy Presentation State read back: its graphic annotations and text as the
project's annotations, and its windows, zoom, flip and rotation.

A GSPS written here (:mod:`spineviewer.annotations.gsps`) gives back the same marks: shape,
points, label, disc state, note and uid. One from another system gives one annotation per
graphic object (the shape guessed from its graphic type and points) and a point with the text
for each text object; ``DISPLAY`` units are taken as fractions of the whole image.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from spineviewer.annotations.annotation import Annotation, ImageRef, Kind, Provenance
from spineviewer.annotations.dicom_objects import read_object
from spineviewer.annotations.frames import FrameKey, frame_planes, image_refs
from spineviewer.annotations.gsps import TAG, View
from spineviewer.annotations.shapes import guess_kind
from spineviewer.annotations.sr_read import points_from_scoord, scoord_points
from spineviewer.dicom import Stack
from spineviewer.geometry import Plane

__all__ = ["GSPS_SOP_CLASS", "PresentationState", "read_gsps", "read_gsps_for"]

GSPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"
_STATE = re.compile(r"^(.*) \(([^()]+)\)$")


@dataclass
class PresentationState:
    """What a GSPS shows: the marks, and the view (windows by SOP Instance UID)."""

    label: str
    annotations: list[Annotation] = field(default_factory=list)
    windows: dict[str, tuple[float, float]] = field(default_factory=dict)
    view: View = field(default_factory=View)
    #: What could not be shown, in a reader's words (a reference to an image not loaded).
    skipped: list[str] = field(default_factory=list)


def _floats(value: object) -> list[float]:
    if value is None:
        return []
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        return [float(value)]  # type: ignore[arg-type]
    return [float(v) for v in value]


def _spv(item: Dataset) -> tuple[str, str] | None:
    """(role, annotation uid) of an object written here, else None."""
    parts = str(getattr(item, "TrackingID", "") or "").split(" ")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == TAG else None


def _rc(item: Dataset, data: Sequence[float], image: ImageRef) -> np.ndarray:
    """(row, col) pixel points of graphic data in PIXEL or DISPLAY units."""
    xy = np.asarray(data, dtype=np.float64).reshape(-1, 2)
    units = str(getattr(item, "GraphicAnnotationUnits", getattr(item, "BoundingBoxAnnotationUnits",
                                                                    "PIXEL")))  # fmt: skip
    if units == "DISPLAY":
        xy = xy * np.array([image.columns or 1, image.rows or 1], dtype=np.float64)
    return scoord_points(xy)


def _anchor(item: Dataset, image: ImageRef) -> np.ndarray:
    if "AnchorPoint" in item:
        units = str(getattr(item, "AnchorPointAnnotationUnits", "PIXEL"))
        xy = np.asarray(_floats(item.AnchorPoint), dtype=np.float64).reshape(1, 2)
    else:
        units = str(getattr(item, "BoundingBoxAnnotationUnits", "PIXEL"))
        corners = _floats(item.BoundingBoxTopLeftHandCorner) + _floats(
            item.BoundingBoxBottomRightHandCorner
        )
        xy = np.asarray(corners, dtype=np.float64).reshape(2, 2).mean(axis=0, keepdims=True)
    if units == "DISPLAY":
        xy = xy * np.array([image.columns or 1, image.rows or 1], dtype=np.float64)
    return scoord_points(xy)


@dataclass
class _Mark:
    """The objects of one annotation written here, gathered."""

    kind: Kind
    graphic_type: str
    rc: np.ndarray | None = None
    texts: dict[str, str] = field(default_factory=dict)


class _Reader:
    def __init__(
        self,
        images: Mapping[FrameKey, ImageRef],
        planes: Mapping[FrameKey, Plane],
        author: str,
        state: PresentationState,
    ) -> None:
        self.images, self.planes, self.author, self.state = images, planes, author, state

    def frames(self, item: Dataset) -> list[FrameKey]:
        keys: list[FrameKey] = []
        for ref in getattr(item, "ReferencedImageSequence", []):
            uid = str(ref.ReferencedSOPInstanceUID)
            numbers = [int(n) for n in _floats(ref.get("ReferencedFrameNumber"))] or [1]
            for number in numbers:
                if (uid, number) in self.images:
                    keys.append((uid, number))
                else:
                    self.state.skipped.append(f"image {uid} frame {number} is not loaded")
        return keys

    def annotation(self, key: FrameKey, kind: Kind, rc: np.ndarray, graphic_type: str,
                   **kwargs: object) -> Annotation | None:  # fmt: skip
        image = self.images[key]
        try:
            points = points_from_scoord(kind, graphic_type, rc)
            author = Provenance(author=self.author)
            plane = self.planes.get(key)
            return Annotation.create(kind, image, points, plane, provenance=author, **kwargs)
        except ValueError as exc:
            self.state.skipped.append(f"a {graphic_type} on image {key[0]}: {exc}")
            return None

    def item(self, item: Dataset) -> list[Annotation]:
        out: list[Annotation] = []
        for key in self.frames(item):
            image = self.images[key]
            mine: dict[str, _Mark] = {}
            for obj in getattr(item, "GraphicObjectSequence", []):
                graphic_type = str(obj.GraphicType)
                rc = _rc(obj, _floats(obj.GraphicData), image)
                spv = _spv(obj)
                if spv is not None and spv[0] in Kind._value2member_map_:
                    mark = mine.setdefault(spv[1], _Mark(Kind(spv[0]), graphic_type))
                    mark.rc = rc if mark.rc is None else np.vstack([mark.rc, rc])
                    continue
                kind = guess_kind(graphic_type, rc)
                made = self.annotation(key, kind, rc, graphic_type)
                out += [made] if made is not None else []
            for text in getattr(item, "TextObjectSequence", []):
                value = str(getattr(text, "UnformattedTextValue", "") or "")
                spv = _spv(text)
                if spv is not None and spv[1] in mine and spv[0] in ("label", "text"):
                    mine[spv[1]].texts[spv[0]] = value
                    continue
                if value:
                    made = self.annotation(key, Kind.POINT, _anchor(text, image), "POINT",
                                           text=value)  # fmt: skip
                    out += [made] if made is not None else []
            for uid, mark in mine.items():
                label, state = mark.texts.get("label", ""), None
                match = _STATE.match(label)
                if match:
                    label, state = match.group(1), match.group(2)
                if mark.rc is None:
                    continue
                made = self.annotation(
                    key, mark.kind, mark.rc, mark.graphic_type,
                    label=label, state=state, text=mark.texts.get("text", ""), uid=uid,
                )  # fmt: skip
                out += [made] if made is not None else []
        return out


def _view(ds: Dataset) -> View:
    magnification = None
    for area in getattr(ds, "DisplayedAreaSelectionSequence", []):
        if str(getattr(area, "PresentationSizeMode", "")) == "MAGNIFY":
            magnification = float(area.PresentationPixelMagnificationRatio)
    rotation = int(getattr(ds, "ImageRotation", 0) or 0)
    flip = str(getattr(ds, "ImageHorizontalFlip", "N")) == "Y"
    return View(magnification=magnification, horizontal_flip=flip,
                rotation=rotation if rotation in (0, 90, 180, 270) else 0)  # fmt: skip


def _windows(ds: Dataset, images: Mapping[FrameKey, ImageRef]) -> dict[str, tuple[float, float]]:
    """Window (centre, width) by SOP Instance UID (an item with no references: every image)."""
    out: dict[str, tuple[float, float]] = {}
    every = sorted({uid for uid, _ in images})
    for item in getattr(ds, "SoftcopyVOILUTSequence", []):
        centre, width = _floats(item.get("WindowCenter")), _floats(item.get("WindowWidth"))
        if not centre or not width:
            continue
        refs = [str(r.ReferencedSOPInstanceUID) for r in item.get("ReferencedImageSequence", [])]
        for uid in refs or every:
            out[uid] = (centre[0], width[0])
    return out


def read_gsps(
    path: str | Path,
    images: Mapping[FrameKey, ImageRef],
    planes: Mapping[FrameKey, Plane] | None = None,
) -> PresentationState:
    """The presentation state at ``path`` on the frames of ``images`` (see
    :func:`~.frames.image_refs`; patient points from ``planes``). ValueError names the file
    when it is not a readable Grayscale Softcopy Presentation State."""
    ds = read_object(path, GSPS_SOP_CLASS, "Grayscale Softcopy Presentation State")
    author = str(getattr(ds, "ContentCreatorName", "") or "") or str(
        getattr(ds, "Manufacturer", "") or "GSPS"
    )
    state = PresentationState(label=str(getattr(ds, "ContentLabel", "") or uuid.uuid4().hex[:8]))
    reader = _Reader(images, planes or {}, author.rstrip("^"), state)
    for item in getattr(ds, "GraphicAnnotationSequence", []):
        state.annotations += reader.item(item)
    state.windows = _windows(ds, images)
    state.view = _view(ds)
    return state


def read_gsps_for(path: str | Path, stacks: Sequence[Stack]) -> PresentationState:
    """:func:`read_gsps` on the frames of ``stacks``."""
    return read_gsps(path, image_refs(stacks), frame_planes(stacks))
