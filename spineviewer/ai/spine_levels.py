"""Vertebra levels from a label map of what each voxel is (vertebra, sacrum, disc, canal): the
manifest's ``postprocessing.spine_levels`` (no torch; SimpleITK for the connected parts).

A segmentation network that only says what a voxel looks like (bone of a vertebra, the
sacrum, a disc, the canal) needs nothing of the field of view; which level a vertebra is comes
from geometry, the way a radiologist counts:

0. **The column's bone**: with a canal class (:data:`CANAL`, kept), vertebra and sacrum
   voxels away from the canal's centre line (ribs, the pelvis) are dropped first
   (:mod:`spineviewer.ai.spine_canal`: :func:`~spineviewer.ai.spine_canal.column_bone`).
1. **The sacrum**: the largest connected part of the sacrum class, when it holds at least
   :data:`MIN_SACRUM_ML` (of several, the largest reaching below the canal's lower end plus
   :data:`SACRUM_BELOW_CANAL_MM`, when one does); the class's other voxels are bone, taken as
   vertebra.
2. **One vertebra each**: the vertebra class eroded by :data:`ERODE_MM` (which leaves
   the bodies and parts them where they touch through an arch, a facet or a thin bridge
   across a disc); its connected parts the seeds, grown back over the class by a watershed on
   a flat landscape (each voxel goes to the seed nearest it inside the class: an arch goes
   with its body through its pedicles). Seeds
   under :data:`MIN_SEED_ML`, and under :data:`SMALL_FRACTION` of the median seed unless they
   touch an end of the field of view (a partial vertebra there is real), are dropped; so are
   grown parts under :data:`MIN_PART_ML` and, again, under the fraction of the median.
3. **Names, counting up from S1** (the slice axis k runs foot to head, as
   :func:`~spineviewer.dicom.load_volume` orders an axial series; a sacrum class centred above
   the vertebra class turns that round): the vertebrae above the sacrum's
   centre, from the lowest, are L5, L4, ... L1, T12, ... (:data:`~spineviewer.ai.
   vertebra_labels.LABELS_UPWARD`). Without a sacrum in view the lowest vertebra is taken for
   L5: a guess the label checks flag (:func:`~spineviewer.ai.label_check.check_column`: no
   sacrum in view, gaps, irregular spacing make the column "not sure"), never a silent one.
4. **Discs**: each connected part of the disc class (at least :data:`MIN_DISC_ML`) is named
   after the vertebrae whose centres bracket its centre along k (``L4-L5``; below the lowest
   vertebra with the sacrum in view, ``L5-S1``).
5. **Kept classes** (the canal) are copied under their own name.

The result uses the values of ``postprocessing.spine_levels.labels`` (value ``i + 1`` is
``labels[i]``); a derived name that is not there (a T3 in a lumbar model's list) is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import SpineLevels
from spineviewer.ai.spine_canal import CanalLine, canal_line, column_bone, components
from spineviewer.ai.vertebra_labels import LABELS_UPWARD

__all__ = [
    "CANAL",
    "ERODE_MM",
    "MIN_DISC_ML",
    "MIN_PART_ML",
    "MIN_SACRUM_ML",
    "MIN_SEED_ML",
    "SACRUM_BELOW_CANAL_MM",
    "SMALL_FRACTION",
    "Part",
    "derive_levels",
    "vertebra_parts",
]

#: The sacrum class must hold this much in one part to count as a sacrum in view.
MIN_SACRUM_ML = 5.0
#: Erosion radius (mm) that leaves the bodies and removes the arches, and the smallest
#: seed of one vertebra (the eroded class).
ERODE_MM = 5.0
MIN_SEED_ML = 0.3
#: A vertebra part smaller than this is a speck.
MIN_PART_ML = 0.5
#: A part smaller than this fraction of the median vertebra is a speck, unless it touches an end
#: of the field of view.
SMALL_FRACTION = 0.25
#: A disc part smaller than this is a speck.
MIN_DISC_ML = 0.2
#: The kept class whose centre line the column's bone is kept around.
CANAL = "spinal_canal"
#: Of several sacrum parts, one reaching below the canal's lower end plus this is preferred.
SACRUM_BELOW_CANAL_MM = 20.0

IntArray = NDArray[np.int32]
#: Vertebra names counting up from the one above S1.
ABOVE_S1: tuple[str, ...] = LABELS_UPWARD[LABELS_UPWARD.index("S1") + 1 :]


@dataclass(frozen=True)
class Part:
    """One connected part: its label in the parts map, voxels and centroid (k, j, i)."""

    value: int
    voxels: int
    centroid: tuple[float, float, float]
    k_range: tuple[int, int]


def _parts(labels: IntArray) -> list[Part]:
    """The parts of a label image (0 the background), with their sizes and centroids, a
    slice at a time (no volume of coordinates)."""
    count = int(labels.max(initial=0))
    if count == 0:
        return []
    voxels = np.zeros(count + 1, dtype=np.int64)
    sums = np.zeros((count + 1, 3))
    low = np.full(count + 1, labels.shape[0], dtype=np.int64)
    high = np.full(count + 1, -1, dtype=np.int64)
    rows, cols = np.divmod(np.arange(labels.shape[1] * labels.shape[2]), labels.shape[2])
    for k, plane in enumerate(labels):
        flat = plane.reshape(-1)
        n = np.bincount(flat, minlength=count + 1)
        voxels += n
        sums[:, 0] += n * k
        sums[:, 1] += np.bincount(flat, rows, minlength=count + 1)
        sums[:, 2] += np.bincount(flat, cols, minlength=count + 1)
        here = n > 0
        low[here] = np.minimum(low[here], k)
        high[here] = k
    return [
        Part(
            v,
            int(voxels[v]),
            (sums[v, 0] / voxels[v], sums[v, 1] / voxels[v], sums[v, 2] / voxels[v]),
            (int(low[v]), int(high[v])),
        )
        for v in range(1, count + 1)
        if voxels[v]
    ]


def vertebra_parts(vertebra: NDArray[np.bool_], spacing: Sequence[float]) -> IntArray:
    """``vertebra`` (a mask, voxel ``spacing`` in mm k j i) split into one part per vertebra:
    1, 2, ... (0 elsewhere)."""
    import SimpleITK as sitk

    if not vertebra.any():
        return np.zeros(vertebra.shape, dtype=np.int32)
    voxel_ml = float(np.prod(spacing)) / 1000.0
    mask = sitk.GetImageFromArray(vertebra.astype(np.uint8))
    radius = [max(1, round(ERODE_MM / s)) for s in reversed(spacing)]  # SimpleITK: x y z
    eroded = sitk.GetArrayFromImage(sitk.BinaryErode(mask, radius)).astype(bool)
    seeds = components(eroded)
    keep = _kept_parts(_parts(seeds), voxel_ml, vertebra.shape[0], MIN_SEED_ML)
    table = np.zeros(int(seeds.max(initial=0)) + 1, dtype=np.int32)
    for n, part in enumerate(keep, start=1):
        table[part.value] = n
    markers = sitk.GetImageFromArray(table[seeds])
    flat = sitk.Image(mask.GetSize(), sitk.sitkUInt8)  # a flat landscape: geodesic growth
    flat.CopyInformation(mask)
    grown = sitk.MorphologicalWatershedFromMarkers(flat, markers, False, False)
    parts = sitk.GetArrayFromImage(grown).astype(np.int32)
    parts[~vertebra] = 0
    return parts


def derive_levels(
    classes: NDArray[np.unsignedinteger],
    spacing: Sequence[float],
    levels: SpineLevels,
    class_values: Mapping[str, int],
) -> NDArray[np.unsignedinteger]:
    """The label map of levels (values of ``levels.labels``) of the class label map
    ``classes`` (k foot to head, j, i; voxel ``spacing`` in mm); ``class_values`` names the
    network's classes' values."""
    vertebra_value, sacrum_value = class_values[levels.vertebra], class_values[levels.sacrum]
    line = None
    if CANAL in levels.keep and CANAL in class_values:
        line = canal_line(classes == class_values[CANAL], spacing)
    if line is not None:  # bone away from the canal (ribs, pelvis) is no vertebra's
        bone = (classes == vertebra_value) | (classes == sacrum_value)
        kept = column_bone(classes == vertebra_value, classes == sacrum_value, line, spacing)
        classes = np.where(bone & ~kept, 0, classes).astype(classes.dtype)
    if _head_first(classes, sacrum_value, vertebra_value):
        turned = None if line is None else line.flipped()
        flipped = _derive(classes[::-1], spacing, levels, class_values, turned)
        return np.ascontiguousarray(flipped[::-1])
    return _derive(classes, spacing, levels, class_values, line)


def _derive(
    classes: NDArray[np.unsignedinteger],
    spacing: Sequence[float],
    levels: SpineLevels,
    class_values: Mapping[str, int],
    line: CanalLine | None,
) -> NDArray[np.unsignedinteger]:
    """:func:`derive_levels` of ``classes`` foot first, the far bone already dropped."""
    voxel_ml = float(np.prod(spacing)) / 1000.0
    out_values = {label.name: n + 1 for n, label in enumerate(levels.labels)}
    out = np.zeros(classes.shape, dtype=np.uint8 if len(out_values) < 255 else np.uint16)
    vertebra = classes == class_values[levels.vertebra]
    sacrum_class = classes == class_values[levels.sacrum]
    lowest = None if line is None else line.lowest + SACRUM_BELOW_CANAL_MM / float(spacing[0])
    sacrum = _sacrum(sacrum_class, voxel_ml, lowest)
    vertebra |= sacrum_class & ~sacrum  # bone the sacrum class does not hold as one part
    parts = vertebra_parts(vertebra, spacing)
    found = _kept_parts(_parts(parts), voxel_ml, classes.shape[0], MIN_PART_ML)
    bottom = None
    if sacrum.any():
        bottom = float(np.mean(np.nonzero(sacrum)[0]))
        found = [p for p in found if p.centroid[0] > bottom]
        _put(out, sacrum, out_values.get("S1"))
    names = {p.value: ABOVE_S1[n] for n, p in enumerate(found) if n < len(ABOVE_S1)}
    table = np.zeros(int(parts.max(initial=0)) + 1, dtype=out.dtype)
    for value, name in names.items():
        table[value] = out_values.get(name, 0)
    np.copyto(out, table[parts], where=parts > 0)
    centres = [(p.centroid[0], names[p.value]) for p in found if p.value in names]
    if bottom is not None:
        centres.insert(0, (bottom, "S1"))
    _discs(out, classes == class_values[levels.disc], centres, voxel_ml, out_values)
    for name in levels.keep:
        _put(out, classes == class_values[name], out_values.get(name))
    return out


def _head_first(classes: NDArray[np.unsignedinteger], sacrum: int, vertebra: int) -> bool:
    """Whether k runs head to foot after all: the sacrum class lies above the vertebrae."""
    per_slice = [np.count_nonzero(classes == value, axis=(1, 2)) for value in (sacrum, vertebra)]
    if not per_slice[1].any() or per_slice[0].sum() < per_slice[1].sum() // 20:
        return False  # too little sacrum to tell: the order the series gave
    k = np.arange(classes.shape[0])
    centres = [float(np.average(k, weights=n)) for n in per_slice]
    return centres[0] > centres[1]


def _put(out: NDArray[np.unsignedinteger], mask: NDArray[np.bool_], value: int | None) -> None:
    if value:
        out[mask] = value


def _sacrum(
    sacrum_class: NDArray[np.bool_], voxel_ml: float, lowest: float | None
) -> NDArray[np.bool_]:
    """The largest part of the sacrum class when it is large enough, else nothing; with the
    canal's lower end at slice ``lowest`` (plus a margin), the largest of the parts that
    reach below it, when one does."""
    if not sacrum_class.any():
        return sacrum_class
    parts = components(sacrum_class)
    large = [p for p in _parts(parts) if p.voxels * voxel_ml >= MIN_SACRUM_ML]
    if not large:
        return np.zeros_like(sacrum_class)
    below = [p for p in large if lowest is not None and p.k_range[0] <= lowest]
    best = max(below or large, key=lambda p: p.voxels)
    return parts == best.value


def _kept_parts(
    parts: list[Part], voxel_ml: float, slices: int, smallest_ml: float = 0.0
) -> list[Part]:
    """The vertebrae (or their seeds) among ``parts``, bottom first: at least
    ``smallest_ml``, and :data:`SMALL_FRACTION` of the median unless at an end of the field
    of view."""
    large = [p for p in parts if p.voxels * voxel_ml >= smallest_ml]
    if not large:
        return []
    median = float(np.median([p.voxels for p in large]))
    kept = [
        p
        for p in large
        if p.voxels >= SMALL_FRACTION * median or p.k_range[0] == 0 or p.k_range[1] == slices - 1
    ]
    return sorted(kept, key=lambda p: p.centroid[0])


def _discs(
    out: NDArray[np.unsignedinteger],
    disc: NDArray[np.bool_],
    centres: list[tuple[float, str]],
    voxel_ml: float,
    out_values: Mapping[str, int],
) -> None:
    """Each disc part named after the vertebrae either side of it (``centres``: k and name,
    bottom first)."""
    if not disc.any() or not centres:
        return
    parts = components(disc)
    for part in _parts(parts):
        if part.voxels * voxel_ml < MIN_DISC_ML:
            continue
        k = part.centroid[0]
        above = next((n for n, (ck, _) in enumerate(centres) if ck > k), None)
        if above is None:  # above the top vertebra in view
            top = centres[-1][1]
            upward = LABELS_UPWARD.index(top)
            if upward + 1 >= len(LABELS_UPWARD):
                continue
            name = f"{LABELS_UPWARD[upward + 1]}-{top}"
        elif above == 0:  # below the lowest vertebra: the sacrum is not in view
            continue
        else:
            name = f"{centres[above][1]}-{centres[above - 1][1]}"
        _put(out, parts == part.value, out_values.get(name))
