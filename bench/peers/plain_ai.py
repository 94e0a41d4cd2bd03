"""The plain way to run the shipped models on lumbar MR studies: what a script written
against onnxruntime would do, no SpineViewer imports.

Per study: the sagittal series (the one whose slice normal is closest to left-right) read with
pydicom, its middle slice letterboxed to the detector's input with numpy, one ``session.run``;
the boxes decoded (score threshold, NMS), the most sacral-looking body taken as S1 and the
bodies above it labelled L5, L4, ... upward; a 56 mm crop around each midpoint between
neighbouring bodies, resized to 64x64, classified by the sagittal disc-state model in one
``session.run``. No geometry (no patient coordinates, no other slices, no axial series), no
fusion. Prints one JSON line per study: ``{"folder", "labels", "discs": {level: state}}``.

    python plain_ai.py MODELS_DIR STUDY_FOLDER...
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pydicom

LABELS_UPWARD = ["S1", "L5", "L4", "L3", "L2", "L1", "T12", "T11", "T10", "T9", "T8", "T7"]
DISC_STATES = ["normal", "bulge", "herniation"]


def sagittal_series(study: Path) -> list[Path]:
    """The files of the series whose slice normal lies most along left-right."""
    series: dict[str, list[Path]] = {}
    best: dict[str, float] = {}
    for path in study.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        row, col = (
            np.array(ds.ImageOrientationPatient[:3]),
            np.array(ds.ImageOrientationPatient[3:]),
        )
        best[ds.SeriesInstanceUID] = abs(float(np.cross(row, col)[0]))
        series.setdefault(ds.SeriesInstanceUID, []).append(path)
    return series[max(best, key=lambda uid: best[uid])]


def middle_slice(files: list[Path]) -> pydicom.Dataset:
    slices = [pydicom.dcmread(p) for p in files]
    slices.sort(key=lambda ds: float(ds.ImagePositionPatient[0]))
    return slices[len(slices) // 2]


def scaled(values: np.ndarray) -> np.ndarray:
    low, high = np.percentile(values, [0.5, 99.5])
    return np.clip((values - low) / max(high - low, 1e-6), 0.0, 1.0).astype(np.float32)


def resize(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``values`` at the (fractional) pixel indices ``rows`` x ``cols``;
    0 outside."""
    h, w = values.shape
    r0 = np.clip(np.floor(rows).astype(int), 0, h - 1)
    c0 = np.clip(np.floor(cols).astype(int), 0, w - 1)
    r1, c1 = np.clip(r0 + 1, 0, h - 1), np.clip(c0 + 1, 0, w - 1)
    fr = np.clip(rows - r0, 0, 1)[:, None]
    fc = np.clip(cols - c0, 0, 1)[None, :]
    top = values[r0][:, c0] * (1 - fc) + values[r0][:, c1] * fc
    bottom = values[r1][:, c0] * (1 - fc) + values[r1][:, c1] * fc
    out = (top * (1 - fr) + bottom * fr).astype(np.float32)
    out[(rows < -0.5) | (rows > h - 0.5)] = 0.0
    out[:, (cols < -0.5) | (cols > w - 0.5)] = 0.0
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    order = list(np.argsort(-scores))
    keep: list[int] = []
    while order:
        i = order.pop(0)
        keep.append(i)
        rest = []
        for j in order:
            x0, y0 = np.maximum(boxes[i, :2], boxes[j, :2])
            x1, y1 = np.minimum(boxes[i, 2:], boxes[j, 2:])
            inter = max(x1 - x0, 0) * max(y1 - y0, 0)
            union = np.prod(boxes[i, 2:] - boxes[i, :2]) + np.prod(boxes[j, 2:] - boxes[j, :2])
            if inter / max(union - inter, 1e-9) <= iou:
                rest.append(j)
        order = rest
    return keep


def analyse(study: Path, detector: ort.InferenceSession, discs: ort.InferenceSession) -> dict:
    ds = middle_slice(sagittal_series(study))
    image = ds.pixel_array.astype(np.float32)
    h, w = image.shape
    scale = min(256 / h, 256 / w)
    pad_top, pad_left = (256 - h * scale) / 2, (256 - w * scale) / 2
    rows = (np.arange(256) + 0.5 - pad_top) / scale - 0.5
    cols = (np.arange(256) + 0.5 - pad_left) / scale - 0.5
    boxed = resize(scaled(image), rows, cols)
    tensor = ((boxed - 0.5) / 0.25)[None, None]
    (predictions,) = detector.run(None, {"image": tensor})
    rows_out = predictions[0]
    if rows_out.shape[-1] != 6:
        rows_out = rows_out.T
    keep = rows_out[:, 4:6].max(axis=1) >= 0.3
    found = rows_out[keep]
    xyxy = np.concatenate([found[:, :2] - found[:, 2:4] / 2, found[:, :2] + found[:, 2:4] / 2], 1)
    chosen = nms(xyxy, found[:, 4:6].max(axis=1), 0.3)
    found = found[chosen]
    # centres in image pixels (x = column, y = row), sorted top (head) to bottom
    centres = np.stack([(found[:, 0] - pad_left) / scale, (found[:, 1] - pad_top) / scale], 1)
    order = np.argsort(centres[:, 1])
    centres, sacral = centres[order], found[order, 5]
    if len(centres) == 0:
        return {"folder": str(study), "labels": [], "discs": {}}
    s1 = int(np.argmax(sacral)) if sacral.max() >= 0.2 else len(centres) - 1
    bodies = list(range(s1, -1, -1))[: len(LABELS_UPWARD)]  # S1 and the bodies above it
    labels = {i: LABELS_UPWARD[k] for k, i in enumerate(bodies)}
    spacing = [float(v) for v in ds.PixelSpacing]
    crops, levels = [], []
    # neighbours, from the sacrum upward
    for upper, lower in zip(bodies[1:], bodies[:-1], strict=True):
        x, y = (centres[upper] + centres[lower]) / 2
        half_r, half_c = 28.0 / spacing[0], 28.0 / spacing[1]
        r = y - half_r + (np.arange(64) + 0.5) * (2 * half_r / 64) - 0.5
        c = x - half_c + (np.arange(64) + 0.5) * (2 * half_c / 64) - 0.5
        crops.append(scaled(resize(image, r, c)))
        levels.append(f"{labels[upper]}-{labels[lower]}")
    states: dict[str, str] = {}
    if crops:
        batch = ((np.stack(crops) - 0.5) / 0.25)[:, None].repeat(3, axis=1).astype(np.float32)
        (logits,) = discs.run(None, {"image": batch})
        for level, row in zip(levels, logits, strict=True):
            states[level] = DISC_STATES[int(np.argmax(row))]
    return {"folder": str(study), "labels": [labels[i] for i in sorted(labels)],
            "discs": states}  # fmt: skip


def main(argv: list[str]) -> int:
    models = Path(argv[0])
    options = ort.SessionOptions()
    providers = ["CPUExecutionProvider"]
    detector = ort.InferenceSession(str(models / "vertebrae-sagittal.onnx"), options,
                                    providers=providers)  # fmt: skip
    discs = ort.InferenceSession(str(models / "disc-state-sagittal.onnx"), options,
                                 providers=providers)  # fmt: skip
    for folder in argv[1:]:
        started = time.perf_counter()
        out = analyse(Path(folder), detector, discs)
        out["seconds"] = round(time.perf_counter() - started, 3)
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
