"""Training sets from annotations: COCO JSON, the frames, and fixed-size ROI crops.

``export_training_set`` writes into ``out_dir``:

- ``annotations.json`` (COCO): ``images`` (one per annotated frame, with its UIDs and pixel
  spacing), ``annotations`` (``bbox`` = [x, y, w, h] in pixels, ``segmentation`` polygons for
  filled shapes, ``area`` in square pixels, plus SpineViewer's uid, kind, state, status and
  source), ``categories`` (the vocabulary's labels with their codes; ``supercategory`` = the
  label's category) and ``disc_states``. COCO puts the outer corner of the first pixel at
  (0, 0), as DICOM SCOORD does: ``x = col + 0.5``, ``y = row + 0.5``.
- ``images/NNNNN.npy`` (the frame's values, exactly as ``image_getter`` gave them) and
  ``images/NNNNN.png`` (8-bit, the frame's minimum to maximum).
- ``crops/<uid>.npy`` / ``.png``: for disc-labelled annotations, a crop of fixed physical size
  (``crop_mm``, default 40 x 40 mm) centred on the ROI centroid, resampled bilinearly to
  ``crop_px`` (default 64 x 64) - the "ROI technique" of the lumbar disc papers. Samples
  outside the image take the frame's minimum.
- ``labels.csv``: one row per crop (file, study, SOP instance, frame, label, state, status,
  source, uid, centre, crop pixel spacing).

Annotations without a vocabulary label are left out (listed in :attr:`TrainingSet.skipped`).
PNGs come from a minimal zlib writer; no imaging library is needed.
"""

from __future__ import annotations

import csv
import json
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.annotations.annotation import Annotation, ImageRef
from spineviewer.annotations.shapes import FloatArray, shape
from spineviewer.annotations.vocabulary import Code, Label, Vocabulary, default_vocabulary
from spineviewer.geometry.resample import crop_physical

ImageGetter = Callable[[ImageRef], NDArray[Any]]

DEFAULT_CROP_MM = (40.0, 40.0)
DEFAULT_CROP_PX = (64, 64)
#: Vertices of the polygon that stands for an ellipse in COCO segmentations.
ELLIPSE_VERTICES = 64
CSV_FIELDS = (
    "file",
    "study_uid",
    "sop_instance_uid",
    "frame",
    "label",
    "state",
    "status",
    "source",
    "uid",
    "centre_row",
    "centre_col",
    "spacing_row_mm",
    "spacing_col_mm",
)


@dataclass(frozen=True)
class TrainingSet:
    """What :func:`export_training_set` wrote."""

    out_dir: Path
    coco_json: Path
    labels_csv: Path
    images: int
    annotations: int
    crops: int
    #: (row, column) spacing of the crops in mm: ``crop_mm / crop_px``.
    crop_spacing_mm: tuple[float, float]
    #: Annotations left out, with the reason.
    skipped: tuple[str, ...]


# -- PNG --------------------------------------------------------------------------------------


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def write_png(path: Path, image: NDArray[np.uint8]) -> None:
    """Write a 2D uint8 array as an 8-bit greyscale PNG."""
    img = np.ascontiguousarray(image, dtype=np.uint8)
    if img.ndim != 2:
        raise ValueError(f"a greyscale PNG needs a 2D image, got shape {img.shape}")
    height, width = img.shape
    rows = np.hstack([np.zeros((height, 1), np.uint8), img])  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def to_uint8(
    values: NDArray[Any], lo: float | None = None, hi: float | None = None
) -> NDArray[np.uint8]:
    """Values scaled linearly from ``lo..hi`` (default: their min..max) to 0..255."""
    arr = np.asarray(values, dtype=np.float64)
    lo = float(np.nanmin(arr)) if lo is None else lo
    hi = float(np.nanmax(arr)) if hi is None else hi
    if not hi > lo:
        return np.zeros(arr.shape, np.uint8)
    scaled = np.clip((arr - lo) / (hi - lo), 0.0, 1.0) * 255.0
    return np.round(np.nan_to_num(scaled)).astype(np.uint8)


# -- geometry ---------------------------------------------------------------------------------


def shape_polygon(annotation: Annotation) -> FloatArray:
    """(row, col) outline of a filled shape; ellipses as a polygon of many vertices."""
    return shape(annotation.kind).polygon(annotation.points, ELLIPSE_VERTICES)


def xy(points: NDArray[Any]) -> FloatArray:
    """(row, col) -> COCO / SCOORD (x, y) with the outer pixel corner as origin."""
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)[:, ::-1] + 0.5


def bbox(annotation: Annotation) -> list[float]:
    """COCO ``[x, y, width, height]`` of the annotation's points (its corners for boxes)."""
    pts = xy(np.asarray(annotation.points))
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return [float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])]


def centroid(annotation: Annotation) -> tuple[float, float]:
    """(row, col) of the ROI centre: area centroid of filled shapes, else the points' mean."""
    return shape(annotation.kind).centre(annotation.points)


def pixel_area(annotation: Annotation) -> float:
    """Exact area in square pixels of a filled shape (0 for the others)."""
    return shape(annotation.kind).area_px(annotation.points)


# -- crops ------------------------------------------------------------------------------------


# -- export -----------------------------------------------------------------------------------


def _code(code: Code | None) -> dict[str, str] | None:
    return (
        None
        if code is None
        else {"scheme": code.scheme, "value": code.value, "meaning": code.meaning}
    )


def _categories(vocabulary: Vocabulary) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "name": lb.key,
            "supercategory": lb.category,
            "meaning": lb.meaning,
            "code": _code(lb.code),
        }
        for i, lb in enumerate(vocabulary.labels, start=1)
    ]


def _coco_annotation(number: int, image_id: int, category_id: int, a: Annotation) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": number,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": bbox(a),
        "area": pixel_area(a),
        "iscrowd": 0,
        "uid": a.uid,
        "kind": a.kind.value,
        "points_xy": xy(np.asarray(a.points)).round(4).tolist(),
        "state": a.state,
        "status": a.status.value,
        "source": a.provenance.source,
        "score": a.provenance.score,
    }
    if a.filled:
        entry["segmentation"] = [xy(shape_polygon(a)).round(4).ravel().tolist()]
    return entry


class _Frames:
    """Each annotated frame once: its values, written as .npy and .png, and its COCO entry."""

    def __init__(self, getter: ImageGetter, folder: Path) -> None:
        self.getter = getter
        self.folder = folder
        self.entries: list[dict[str, Any]] = []
        self._ids: dict[tuple[str, int], int] = {}
        self._values: dict[int, NDArray[Any]] = {}

    def add(self, ref: ImageRef) -> int:
        key = (ref.sop_instance_uid, ref.frame_number)
        if key in self._ids:
            return self._ids[key]
        values = np.asarray(self.getter(ref))
        if values.ndim != 2 or (ref.rows and values.shape != (ref.rows, ref.columns)):
            raise ValueError(
                f"image_getter gave shape {values.shape} for {ref.sop_instance_uid} frame "
                f"{ref.frame_number}, expected ({ref.rows}, {ref.columns})"
            )
        image_id = len(self.entries) + 1
        stem = f"{image_id:05d}"
        np.save(self.folder / f"{stem}.npy", values)
        write_png(self.folder / f"{stem}.png", to_uint8(values))
        self.entries.append(
            {
                "id": image_id,
                "file_name": f"images/{stem}.png",
                "npy_file": f"images/{stem}.npy",
                "width": int(values.shape[1]),
                "height": int(values.shape[0]),
                "study_uid": ref.study_uid,
                "series_uid": ref.series_uid,
                "sop_instance_uid": ref.sop_instance_uid,
                "frame_number": ref.frame_number,
                "pixel_spacing": list(ref.pixel_spacing) if ref.pixel_spacing else None,
            }
        )
        self._ids[key] = image_id
        self._values[image_id] = values
        return image_id

    def values(self, image_id: int) -> NDArray[Any]:
        return self._values[image_id]


def _crop_row(
    a: Annotation,
    values: NDArray[Any],
    spacing: tuple[float, float],
    folder: Path,
    size: tuple[tuple[float, float], tuple[int, int]],
) -> dict[str, Any]:
    """Write one ROI crop (.npy, .png) of ``size`` (mm, px) and return its labels.csv row."""
    crop_mm, crop_px = size
    centre = centroid(a)
    lo, hi = float(np.min(values)), float(np.max(values))
    patch = crop_physical(values, centre, spacing, crop_mm, crop_px, fill=lo)
    np.save(folder / f"{a.uid}.npy", patch)
    write_png(folder / f"{a.uid}.png", to_uint8(patch, lo, hi))
    return {
        "file": f"crops/{a.uid}.npy",
        "study_uid": a.image.study_uid,
        "sop_instance_uid": a.image.sop_instance_uid,
        "frame": a.image.frame_number,
        "label": a.label,
        "state": a.state or "",
        "status": a.status.value,
        "source": a.provenance.source,
        "uid": a.uid,
        "centre_row": round(centre[0], 4),
        "centre_col": round(centre[1], 4),
        "spacing_row_mm": crop_mm[0] / crop_px[0],
        "spacing_col_mm": crop_mm[1] / crop_px[1],
    }


def export_training_set(
    annotations: Sequence[Annotation],
    image_getter: ImageGetter,
    out_dir: str | Path,
    *,
    crop_mm: tuple[float, float] = DEFAULT_CROP_MM,
    crop_px: tuple[int, int] = DEFAULT_CROP_PX,
    vocabulary: Vocabulary | None = None,
    crop_categories: Sequence[str] = ("disc",),
) -> TrainingSet:
    """Write a COCO training set, the annotated frames and ROI crops (see the module doc).

    ``image_getter(image_ref)`` returns the frame's values (rescaled, 2D). Crops are made for
    labels of ``crop_categories`` on images with a pixel spacing.
    """
    if min(crop_mm) <= 0 or min(crop_px) <= 0:
        raise ValueError(f"crop size must be positive, got {crop_mm} mm, {crop_px} px")
    vocabulary = vocabulary or default_vocabulary()
    out = Path(out_dir)
    for sub in ("images", "crops"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    categories = _categories(vocabulary)
    category_ids = {c["name"]: c["id"] for c in categories}
    frames = _Frames(image_getter, out / "images")
    entries: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for a in annotations:
        label: Label | None = vocabulary.get(a.label)
        if label is None:
            skipped.append(f"{a.uid}: no vocabulary label ({a.label!r})")
            continue
        image_id = frames.add(a.image)
        entries.append(_coco_annotation(len(entries) + 1, image_id, category_ids[label.key], a))
        if label.category not in crop_categories:
            continue
        spacing = a.image.pixel_spacing
        if spacing is None:
            skipped.append(f"{a.uid}: no pixel spacing for a {crop_mm} mm crop")
            continue
        values = frames.values(image_id)
        rows.append(_crop_row(a, values, spacing, out / "crops", (crop_mm, crop_px)))
        entries[-1]["crop_file"] = rows[-1]["file"]
    coco = {
        "info": {"description": "SpineViewer annotations", "version": "1.0"},
        "licenses": [],
        "images": frames.entries,
        "annotations": entries,
        "categories": categories,
        "disc_states": [
            {"key": s.key, "meaning": s.meaning, "code": _code(s.code)}
            for s in vocabulary.disc_states
        ],
    }
    coco_json = out / "annotations.json"
    coco_json.write_text(json.dumps(coco, indent=1), encoding="utf-8")
    labels_csv = out / "labels.csv"
    with labels_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return TrainingSet(
        out_dir=out,
        coco_json=coco_json,
        labels_csv=labels_csv,
        images=len(frames.entries),
        annotations=len(entries),
        crops=len(rows),
        crop_spacing_mm=(crop_mm[0] / crop_px[0], crop_mm[1] / crop_px[1]),
        skipped=tuple(skipped),
    )
