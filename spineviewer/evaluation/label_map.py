"""Label maps of the evaluation studies: vertebral bodies, discs, posterior elements, sacrum, canal.

The values are fixed by the anatomy, in this order from 1: every vertebral body top down
(T8 .. L5 or L6, and ``S1``, the first sacral body only), every disc top down (``T8-T9`` ..
``L5-S1``), the posterior elements of every body above the sacrum (``L3_posterior_elements``:
pedicles, laminae, spinous, transverse and articular processes), ``sacrum`` (S2-S5 and the
S1 arch with the alae and the dorsal plate) and ``spinal_canal`` (the bony canal's contents:
epidural fat, sac, cord and roots). A voxel is labelled from the same signed distances the
images are rendered from (:func:`spineviewer.evaluation.render.label_stack`), at the centre of
the voxel on the slice's centre plane, in this priority: a body over a disc (which fills the
endplate hollows) over posterior elements and sacrum over the canal (a herniation lies in the
disc's label, not the canal's).

The file is ``labels.nii.gz`` (uint8, written with SimpleITK) on the series' exact grid: index
``(i, j, k)`` is column ``i``, row ``j`` of slice ``k`` of the stack as planned, slices in the
order of the stack's normal (``IOP[0:3] x IOP[3:6]``); origin, spacing and direction are the
stack's (ITK writes NIfTI's RAS from DICOM's LPS). In ``ground_truth.json``, ``label_map``
holds the phantom's fields (``file``, ``series_instance_uid``, ``values`` name -> value) and
``parameters.label_map`` the rest: every label with its ``structure`` kind, voxel count and
labelled centroid (patient mm), the grid, and the series that share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.column import SACRAL, Column
from spineviewer.evaluation.render import StackGeometry
from spineviewer.evaluation.scene import Primitive

__all__ = [
    "LABEL_MAP_FILE",
    "STRUCTURES",
    "LabelEntry",
    "label_entries",
    "label_map_truth",
    "label_shapes",
    "label_summary",
    "write_label_map",
]

LABEL_MAP_FILE = "labels.nii.gz"
STRUCTURES = ("vertebral_body", "disc", "posterior_elements", "sacrum", "spinal_canal")
POSTERIOR = "_posterior_elements"
#: Painting order of the structures (a later one wins where two overlap).
_PRIORITY = ("spinal_canal", "posterior_elements", "sacrum", "disc", "vertebral_body")


@dataclass(frozen=True)
class LabelEntry:
    value: int
    name: str
    structure: str


def label_entries(column: Column) -> tuple[LabelEntry, ...]:
    """Every label of the column's anatomy (see the module docstring)."""
    names = [(b.label, "vertebral_body") for b in column.bodies]
    names += [(d.level, "disc") for d in column.discs]
    names += [(f"{b.label}{POSTERIOR}", "posterior_elements") for b in column.bodies[:-1]]
    names += [("sacrum", "sacrum"), ("spinal_canal", "spinal_canal")]
    return tuple(LabelEntry(i, n, s) for i, (n, s) in enumerate(names, start=1))


def _label_of(primitive: str, bodies: set[str], discs: set[str]) -> str | None:
    """The label name of a painted primitive's outer shape, None for inner ones (marrow,
    nucleus) and for everything outside the spine."""
    words = primitive.split(" ")
    if words[-1] == "cortex":
        owner = words[0]
        sacral = owner in SACRAL and (owner != "S1" or words[1] == "arch")
        if sacral:
            return "sacrum"
        if words[1] == "arch":
            return f"{owner}{POSTERIOR}"
        return owner if owner in bodies else None
    if words[0] in discs and words[-1] in ("annulus", "protrusion"):
        return words[0]
    if primitive.startswith("epidural fat "):
        return "spinal_canal"
    return None


def label_shapes(column: Column, primitives: tuple[Primitive, ...]) -> list[tuple[int, Primitive]]:
    """(value, primitive) of every labelled shape of the scene, in labelling priority."""
    entries = {e.name: e for e in label_entries(column)}
    bodies = {b.label for b in column.bodies}
    discs = {d.level for d in column.discs}
    found: list[tuple[int, int, Primitive]] = []
    for primitive in primitives:
        name = _label_of(primitive.name, bodies, discs)
        if name is not None:
            entry = entries[name]
            found.append((_PRIORITY.index(entry.structure), entry.value, primitive))
    found.sort(key=lambda t: t[0])  # stable: the scene's order within a structure
    return [(value, primitive) for _, value, primitive in found]


def voxel_to_patient(geometry: StackGeometry, ijk: NDArray[np.float64]) -> NDArray[np.float64]:
    """Patient mm of (slice, row, column) indices ``(..., 3)``."""
    k, r, c = ijk[..., 0:1], ijk[..., 1:2], ijk[..., 2:3]
    return np.asarray(
        geometry.origin
        + k * geometry.step * geometry.normal
        + r * geometry.spacing[0] * geometry.col_dir
        + c * geometry.spacing[1] * geometry.row_dir
    )


def label_summary(
    volume: NDArray[np.uint8], geometry: StackGeometry, count: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Voxels per value ``0 .. count`` and each value's centroid in patient mm (NaN where
    absent)."""
    flat = volume.reshape(-1)
    voxels = np.bincount(flat, minlength=count + 1)[: count + 1]
    sums = np.zeros((count + 1, 3))
    plane = volume.shape[1] * volume.shape[2]
    for k in range(volume.shape[0]):  # a slice at a time: no index volume
        labels = volume[k].reshape(-1)
        rows, cols = np.divmod(np.arange(plane), volume.shape[2])
        sums[:, 0] += np.bincount(labels, minlength=count + 1)[: count + 1] * k
        sums[:, 1] += np.bincount(labels, rows, minlength=count + 1)[: count + 1]
        sums[:, 2] += np.bincount(labels, cols, minlength=count + 1)[: count + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        index = sums / voxels[:, None]
    return voxels, voxel_to_patient(geometry, index)


def write_label_map(path: Path, geometry: StackGeometry, volume: NDArray[np.uint8]) -> None:
    """``volume`` (slices, rows, columns) as NIfTI on the stack's grid."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.ascontiguousarray(volume))
    image.SetOrigin([float(v) for v in geometry.origin])
    image.SetSpacing([float(geometry.spacing[1]), float(geometry.spacing[0]), float(geometry.step)])
    axes = np.stack([geometry.row_dir, geometry.col_dir, geometry.normal], axis=1)
    image.SetDirection([float(v) for v in axes.ravel()])
    sitk.WriteImage(image, str(path), useCompression=True)


def _rounded(values: NDArray[np.float64]) -> list[float] | None:
    if not np.all(np.isfinite(values)):
        return None
    return [round(float(v), 4) for v in values]


def label_map_truth(
    entries: tuple[LabelEntry, ...],
    volume: NDArray[np.uint8],
    geometry: StackGeometry,
    series_uids: list[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The truth's ``label_map`` entry and its ``parameters.label_map`` details; the first of
    ``series_uids`` is the series named in the entry, all of them share the grid."""
    voxels, centroids = label_summary(volume, geometry, len(entries))
    entry = {
        "file": LABEL_MAP_FILE,
        "series_instance_uid": series_uids[0],
        "values": {e.name: e.value for e in entries},
    }
    details = {
        "file": LABEL_MAP_FILE,
        "series_instance_uids": series_uids,
        "rule": "label at the voxel centre on the slice's centre plane",
        "shape_slices_rows_columns": [int(v) for v in volume.shape],
        "origin_mm": _rounded(geometry.origin),
        "row_direction": _rounded(geometry.row_dir),
        "column_direction": _rounded(geometry.col_dir),
        "pixel_spacing_mm": [round(float(v), 6) for v in geometry.spacing],
        "slice_step_mm": round(float(geometry.step), 6),
        "labels": [
            {
                "value": e.value,
                "name": e.name,
                "structure": e.structure,
                "voxels": int(voxels[e.value]),
                "centroid_mm": _rounded(centroids[e.value]),
            }
            for e in entries
        ],
    }
    return entry, details
