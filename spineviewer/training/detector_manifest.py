"""The manifest of a CenterNet-style detector package (the part every detector shares).

Every detector of :mod:`spineviewer.training.detector` takes one grey image letterboxed to
``input_size`` with percentile normalisation, and returns YOLO-style rows of ``4 + C`` values
(``+ 12`` for the corner keypoints of oriented networks) per heatmap cell; the runner
thresholds and runs NMS. Only the applicability, the labels, the texts and the metrics differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spineviewer.ai.cobb import CORNERS
from spineviewer.annotations import default_vocabulary
from spineviewer.training.model_package import manifest_head
from spineviewer.training.phantom_data import PERCENTILES

#: Fallback display names and colours of classes the vocabulary does not hold.
_FALLBACK = {"vertebra": ("Vertebral body", "#f9c74f")}


def manifest_labels(
    classes: Sequence[str], vocabulary_keys: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """The classes with display names, colours and codes from the annotation vocabulary."""
    vocabulary = default_vocabulary()
    out: list[dict[str, Any]] = []
    for name in classes:
        known = vocabulary.get(vocabulary_keys.get(name) or "")
        display, color = _FALLBACK.get(name, (name.replace("_", " "), "#f9c74f"))
        entry: dict[str, Any] = {
            "name": name,
            "display": known.meaning if known else display,
            "color": known.color if known else color,
        }
        if known is not None and known.code is not None:
            code = known.code
            entry["code"] = {"scheme": code.scheme, "value": code.value, "meaning": code.meaning}
        out.append(entry)
    return out


def detector_manifest(
    *,
    identity: Mapping[str, str],
    applies_to: Mapping[str, Any],
    input_size: tuple[int, int],
    labels: list[dict[str, Any]],
    oriented: bool,
    provenance: Mapping[str, Any],
    nms_per_class: bool = False,
    mm_per_pixel: float | None = None,
) -> dict[str, Any]:
    """A whole manifest: ``identity`` = id, name, version; sha256 and opset are filled in by the
    export. ``mm_per_pixel``: the letterbox's fixed scale (None: as large as fits)."""
    from spineviewer.training.detector import (
        CHANNEL_MEAN,
        CHANNEL_STD,
        NMS_IOU,
        SCORE_THRESHOLD,
        STRIDE,
    )

    cells = (input_size[0] // STRIDE) * (input_size[1] // STRIDE)
    row = 4 + len(labels) + (3 * len(CORNERS) if oriented else 0)
    decoding: dict[str, Any] = {
        "style": "yolo",
        "tensors": {"predictions": "predictions"},
        "box_format": "cxcywh",
        "coordinates": "input_pixels",
        "score_threshold": SCORE_THRESHOLD,
        "nms_iou": NMS_IOU,
    }
    if nms_per_class:
        decoding["nms_per_class"] = True
    if oriented:
        decoding["points"] = list(CORNERS)
    task = "keypoints" if oriented else "detection"
    return {
        **manifest_head(identity["id"], identity["name"], identity["version"], task),
        "applies_to": dict(applies_to),
        "input": {
            "name": "image",
            "dtype": "float32",
            "shape": ["batch", 1, input_size[0], input_size[1]],
            "layout": "NCHW",
            "channels": "grey",
        },
        "preprocessing": {
            "size": list(input_size),
            "resize": "letterbox",
            "normalisation": {"percentile": {"low": PERCENTILES[0], "high": PERCENTILES[1]}},
            "mean": [CHANNEL_MEAN],
            "std": [CHANNEL_STD],
            "monochrome1": "invert",
            **({"mm_per_pixel": mm_per_pixel} if mm_per_pixel is not None else {}),
        },
        "outputs": [{"name": "predictions", "dtype": "float32", "shape": ["batch", cells, row]}],
        "decoding": decoding,
        "labels": labels,
        "provenance": dict(provenance),
    }
