"""Per-label volumes of a label map, for the report.

A label's volume is its voxel count times the volume of one voxel (the product of the
series' spacing along k, j and i; the absolute determinant of the index -> patient affine's
3x3 part, which is the same for an orthogonal grid and right for a sheared one), in millilitres
(1 mL = 1000 mm³). Only labels with at least one voxel are listed, in the order of their values,
each with the number of the series' slices (along k) it lies on and whether the model that
made the map is a demonstration model (not for clinical use): the report's JSON, HTML and PDF
show all of it.

:func:`findings_volumes` gives those of the label maps an analysis made (its segmentation
models', :attr:`~spineviewer.ai.findings.Findings.label_maps`): the report's section when no
other label map is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.findings import Findings
from spineviewer.ai.manifest_model import ModelLabel

__all__ = ["LabelVolume", "findings_volumes", "label_volumes"]


@dataclass(frozen=True)
class LabelVolume:
    """One label's volume in a label map."""

    label: str
    display: str
    voxels: int
    volume_ml: float
    #: The series the map labels, for a person ("Series 2 "AX CT BONE"") or its UID.
    series: str = ""
    #: Who made the map ("spine-ct-segmentation 1.0").
    source: str = ""
    #: On how many of the series' slices (along k) the label has a voxel.
    slices: int = 0
    #: The map's model is a demonstration model (trained on phantoms).
    not_for_clinical_use: bool = False


def _counts_per_slice(labels: NDArray[np.unsignedinteger]) -> NDArray[np.int64]:
    """(slices, values): how many voxels of each value every slice (along k) holds; a slice
    at a time, so a 1,000-slice map needs no whole-volume temporary."""
    array = np.asarray(labels)
    if array.ndim < 3:
        array = array.reshape((1, *array.shape))
    size = int(array.max()) + 1 if array.size else 1
    return np.stack([np.bincount(plane.ravel(), minlength=size) for plane in array])


def label_volumes(
    labels: NDArray[np.unsignedinteger],
    values: Mapping[int, ModelLabel],
    voxel_mm3: float,
    *,
    series: str = "",
    source: str = "",
    not_for_clinical_use: bool = False,
) -> tuple[LabelVolume, ...]:
    """The volume of every label present in ``labels`` (voxels of ``voxel_mm3`` mm³)."""
    per_slice = _counts_per_slice(labels)
    counts, on_slices = per_slice.sum(axis=0), (per_slice > 0).sum(axis=0)
    out = []
    for value, count in enumerate(counts.tolist()):
        if value == 0 or count == 0:
            continue
        label = values.get(value)
        name = label.name if label is not None else f"label {value}"
        display = label.display if label is not None else name
        out.append(
            LabelVolume(
                name,
                display,
                int(count),
                round(count * voxel_mm3 / 1000.0, 3),
                series,
                source,
                int(on_slices[value]),
                not_for_clinical_use,
            )
        )
    return tuple(out)


def findings_volumes(findings: Findings) -> tuple[LabelVolume, ...]:
    """The per-label volumes of every label map ``findings`` carries with its labels (series:
    the map's series UID; source: its model and version; not for clinical use when that model
    is a demonstration model, as :attr:`~spineviewer.ai.findings.Findings.models` records it);
    empty when there is none."""
    demo = {m.id: m.not_for_clinical_use for m in findings.models}
    return tuple(
        volume
        for found in findings.label_maps
        if found.labels is not None
        for volume in label_volumes(
            found.labels,
            found.values,
            found.voxel_mm3,
            series=found.series_uid,
            source=found.description,
            not_for_clinical_use=demo.get(found.model_id, True),
        )
    )
