"""Label maps from files beside a study: a NIfTI label image and what its values stand for.

A phantom or evaluation study (``spineviewer phantom --kind lumbar-ct``) writes its truth as
``labels.nii.gz`` with ``ground_truth.json`` naming the values (``label_map.values``: name ->
value). :func:`read_nifti_label_map` reads such a file (any NIfTI label image; SimpleITK gives
its index -> patient LPS affine) and names the values: the vocabulary's meaning, colour and
code for the names it knows (``L3``, ``L4-L5``), the spinal canal's SNOMED CT code, and the
bare name, a neutral colour and no code for the rest. Values without a name are
``label <n>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import LabelCode, ModelLabel
from spineviewer.annotations.vocabulary import DEFAULT_COLOR, Vocabulary, default_vocabulary
from spineviewer.dicom import read_nifti

__all__ = ["FileLabelMap", "model_labels", "read_nifti_label_map", "truth_names"]

#: Labels a spine label map has that the annotation vocabulary does not.
EXTRA_LABELS: dict[str, ModelLabel] = {
    "spinal_canal": ModelLabel(
        "spinal_canal",
        "Spinal canal",
        "#ffd166",
        LabelCode("SCT", "61853006", "Spinal canal structure"),
    ),
}
#: The phantom's and evaluation generator's truth file.
GROUND_TRUTH = "ground_truth.json"


@dataclass(frozen=True)
class FileLabelMap:
    """Labels ``(k, j, i)`` with their index -> patient affine and names."""

    labels: NDArray[np.unsignedinteger]
    affine: NDArray[np.float64]
    values: dict[int, ModelLabel]
    #: The series the file says it labels ("" when it does not say).
    series_uid: str
    frame_of_reference_uid: str


def model_labels(
    names: Mapping[str, int], vocabulary: Vocabulary | None = None
) -> dict[int, ModelLabel]:
    """What each value stands for, by name (see the module docstring)."""
    vocabulary = vocabulary or default_vocabulary()
    out: dict[int, ModelLabel] = {}
    for name, value in names.items():
        known = vocabulary.get(name)
        if known is not None:
            code = known.code
            out[int(value)] = ModelLabel(
                name,
                known.meaning,
                known.color,
                LabelCode(code.scheme, code.value, code.meaning) if code is not None else None,
            )
        else:
            out[int(value)] = EXTRA_LABELS.get(name, ModelLabel(name, name, DEFAULT_COLOR))
    return out


def truth_names(path: str | Path) -> tuple[dict[str, int], str, str]:
    """(name -> value, series UID, frame of reference UID) from the ``ground_truth.json``
    beside a label map file; empty when there is none or it names no label map."""
    truth = Path(path).parent / GROUND_TRUTH
    if not truth.is_file():
        return {}, "", ""
    data = json.loads(truth.read_text(encoding="utf-8"))
    entry = data.get("label_map") or {}
    names = {str(k): int(v) for k, v in (entry.get("values") or {}).items()}
    return (
        names,
        str(entry.get("series_instance_uid", "")),
        str(data.get("frame_of_reference_uid", "")),
    )


def read_nifti_label_map(path: str | Path, vocabulary: Vocabulary | None = None) -> FileLabelMap:
    """A NIfTI label image and its names (from a ``ground_truth.json`` beside it)."""
    volume = read_nifti(path)
    labels = np.asarray(volume.array)
    if labels.dtype.kind not in "iu" or (labels.size and int(labels.min()) < 0):
        raise ValueError(f"{path}: not a label image (values {labels.dtype})")
    labels = labels.astype(np.uint8 if labels.size == 0 or labels.max() < 256 else np.uint16)
    names, series_uid, frame = truth_names(path)
    values = model_labels(names, vocabulary)
    for value in np.unique(labels).tolist():
        if value and value not in values:
            values[value] = ModelLabel(f"label {value}", f"Label {value}", DEFAULT_COLOR)
    return FileLabelMap(labels, volume.affine, values, series_uid, frame)
