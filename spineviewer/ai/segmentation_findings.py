"""Vertebrae and discs from a spine label map (numpy only): what the detector path finds, from
a segmentation model's :class:`~spineviewer.ai.sliding_window.LabelMap`.

The label map names each structure: a model with one output channel per vertebra and per disc
names them itself; one whose manifest has ``postprocessing.spine_levels`` (the demo model)
has them named by counting up from the sacrum (:mod:`~spineviewer.ai.spine_levels`). The
same checks as the detector's apply either way
(:func:`~spineviewer.ai.label_check.check_column`: the sacrum in view, gaps, irregular
spacing), and the results are the detector path's structures: a :class:`~spineviewer.ai.
vertebra_labels.Labelling` of :class:`~spineviewer.ai.vertebra_labels.Body` bottom first,
:class:`~spineviewer.ai.findings.VertebraFinding` s (with the model's id) and disc centres
keyed by level, so the level assignment of axial images
(:func:`~spineviewer.geometry.levels.assign_slices_to_levels`), the disc-state crops and the
report use them unchanged.

**Which label is what.** A label map value is a vertebra, a disc or the canal by its name, its
display name or its code meaning (``L1``, ``vertebrae_L1``, ``L1 vertebra``; ``L4-L5``,
``L4/L5 intervertebral disc``; ``S1`` or ``sacrum``: the S1 body; ``spinal_canal``,
``spinal_cord``); other values (ribs, muscles) are left alone.

**Where.** One pass over the slices of the label map (never a whole-volume coordinate array)
gives each structure's voxel count, its centroid and its extent. A label's stray voxels (a few
misclassified ones far from the structure) are left out: only its longest run of slices
counts (gaps of one slice bridged). A vertebra's centre is its *body's* centre, as the
detector's: the vertebra's voxels in front of the spinal canal (the canal's front edge in
the same slice; where the canal is not labelled, the median of that edge over the vertebra's
slices; without a canal label at all, the whole vertebra's centroid, which lies some 10 mm
behind the body's). A disc's centre is its label's centroid when the model segments it, else
the midpoint of the two bodies (:func:`~spineviewer.geometry.levels.disc_centres`).

**Which method.** :func:`vertebrae_methods` tells, from a :class:`~spineviewer.ai.findings.
Findings` alone (its JSON form too), whether each series' vertebrae came from a detector or
from a segmentation model's label map: a vertebra whose model made a label map of its series
is a segmentation model's.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.findings import Findings, VertebraFinding, rounded
from spineviewer.ai.label_check import SACRAL_AT_EDGE, LabelReview, check_column
from spineviewer.ai.manifest_model import ModelLabel
from spineviewer.ai.sliding_window import LabelMap
from spineviewer.ai.vertebra_labels import LABELS_UPWARD, Body, Labelling
from spineviewer.config import VERTEBRAE_METHODS
from spineviewer.geometry.levels import disc_centres, disc_level

__all__ = [
    "MIN_VERTEBRA_ML",
    "MaskColumn",
    "Structure",
    "column_from_mask",
    "kinds_of",
    "measure",
    "structure_of",
    "vertebrae_methods",
]

#: :func:`vertebrae_methods`' names of the two ways to the vertebrae (the ``vertebrae``
#: setting's values).
DETECTOR, SEGMENTATION = VERTEBRAE_METHODS

#: A vertebra label smaller than this (ml) is not a body (a few stray voxels, a sliver of
#: the body at the image edge).
MIN_VERTEBRA_ML = 0.5
#: The body's centre is its voxels at least this far (mm) in front of the canal's front edge.
BODY_MARGIN_MM = 0.0

FloatArray = NDArray[np.float64]
_CANAL = ("spinal_canal", "canal", "spinal_cord", "cord", "spinal canal", "spinal cord")
_VERTEBRA = re.compile(r"(?:^|[^A-Za-z0-9])([CTLS]\d{1,2})(?:$|[^A-Za-z0-9/\-])", re.IGNORECASE)
_DISC = re.compile(r"([CTL]\d{1,2})\s*[-/_]\s*([TLS]\d{1,2})", re.IGNORECASE)


def kinds_of(values: Mapping[int, ModelLabel]) -> dict[int, tuple[str, str]]:
    """Label map value -> (kind, name): ``("vertebra", "L1")``, ``("disc", "L1-L2")`` or
    ``("canal", "spinal_canal")``; values that are none of these are left out."""
    out: dict[int, tuple[str, str]] = {}
    for value, label in values.items():
        texts = [label.name, label.display, label.code.meaning if label.code else ""]
        found = next((k for k in map(structure_of, texts) if k is not None), None)
        if found is not None:
            out[value] = found
    return out


def structure_of(text: str) -> tuple[str, str] | None:
    """(kind, name) of a label's name or meaning: ``"vertebrae_L1"`` -> ("vertebra", "L1"),
    ``"L4/L5 intervertebral disc"`` -> ("disc", "L4-L5"), ``"sacrum"`` -> ("vertebra", "S1");
    None for anything else."""
    plain = text.strip()
    if plain.lower() in _CANAL or "canal" in plain.lower():
        return "canal", "spinal_canal"
    if "sacrum" in plain.lower():
        return "vertebra", "S1"
    disc = _DISC.search(plain)
    if disc is not None:
        return "disc", disc_level(disc.group(1).upper(), disc.group(2).upper())
    vertebra = _VERTEBRA.search(f" {plain} ")
    if vertebra is not None and vertebra.group(1).upper() in LABELS_UPWARD:
        return "vertebra", vertebra.group(1).upper()
    return None


@dataclass(frozen=True)
class Structure:
    """One labelled structure: its voxels (in its main run of slices), volume, centroid and the
    slice nearest it with its box there (pixel edges, x y x y)."""

    kind: str
    name: str
    value: int
    voxels: int
    volume_ml: float
    #: Centroid in (k, j, i) index coordinates and in patient mm.
    centroid_index: tuple[float, float, float]
    centre_mm: tuple[float, float, float]
    slice_index: int
    box_px: tuple[float, float, float, float]
    slices: tuple[int, int]


def _main_run(count: NDArray[np.int64]) -> tuple[int, int]:
    """[first, stop) of the run of slices holding the most voxels (one-slice gaps bridged)."""
    filled = count > 0
    bridged = filled.copy()
    bridged[1:-1] |= filled[:-2] & filled[2:]
    best, best_total, start = (0, 0), -1, None
    for k, on in enumerate([*bridged.tolist(), False]):
        if on and start is None:
            start = k
        elif not on and start is not None:
            total = int(count[start:k].sum())
            if total > best_total:
                best, best_total = (start, k), total
            start = None
    return best


def measure(
    label_map: LabelMap, affine: NDArray[np.floating], check: Callable[[], None] = lambda: None
) -> dict[str, Structure]:
    """The vertebrae, discs and canal of ``label_map`` by name, on the series whose index ->
    patient mm ``affine`` (4 x 4, (k, j, i, 1)) is given (a :class:`~spineviewer.dicom.
    Volume`'s). Vertebrae's centres are their bodies' (see the module docstring)."""
    labels = label_map.labels
    matrix: FloatArray = np.asarray(affine, dtype=np.float64)
    kinds = kinds_of(label_map.values)
    if not kinds:
        return {}
    slices, rows, cols = labels.shape
    table = np.zeros(int(max(max(kinds), int(labels.max(initial=0)))) + 1, dtype=np.intp)
    order = sorted(kinds)
    for n, value in enumerate(order, start=1):
        table[value] = n
    m = len(order) + 1
    count = np.zeros((slices, m), dtype=np.int64)
    sum_j, sum_i = np.zeros((slices, m)), np.zeros((slices, m))
    jj, ii = (a.ravel() for a in np.mgrid[0:rows, 0:cols])
    for k in range(slices):
        check()
        index = table[labels[k]].ravel()
        count[k] = np.bincount(index, minlength=m)
        sum_j[k] = np.bincount(index, jj, minlength=m)
        sum_i[k] = np.bincount(index, ii, minlength=m)
    canal = next((n for n, v in enumerate(order, start=1) if kinds[v][0] == "canal"), None)
    front = _canal_front(labels, table, canal, count, matrix) if canal is not None else None
    voxel_ml = float(abs(np.linalg.det(matrix[:3, :3]))) / 1000.0
    out: dict[str, Structure] = {}
    for n, value in enumerate(order, start=1):
        kind, name = kinds[value]
        first, stop = _main_run(count[:, n])
        total = int(count[first:stop, n].sum())
        if total == 0 or name in out:
            continue
        ks = np.arange(first, stop, dtype=np.float64)
        centroid = (
            float((ks * count[first:stop, n]).sum() / total),
            float(sum_j[first:stop, n].sum() / total),
            float(sum_i[first:stop, n].sum() / total),
        )
        if kind == "vertebra" and front is not None:
            centroid = _body_centroid(labels, value, (first, stop), front, matrix) or centroid
        mm = (matrix @ np.array([*centroid, 1.0]))[:3]
        k_near = int(np.clip(round(centroid[0]), first, stop - 1))
        if count[k_near, n] == 0:  # a bridged gap: the nearest slice that has it
            filled = np.flatnonzero(count[first:stop, n]) + first
            k_near = int(filled[np.argmin(np.abs(filled - centroid[0]))])
        out[name] = Structure(
            kind,
            name,
            value,
            total,
            round(total * voxel_ml, 3),
            centroid,
            (float(mm[0]), float(mm[1]), float(mm[2])),
            k_near,
            _box(labels[k_near] == value),
            (first, stop),
        )
    return out


def _anteriority(affine: FloatArray, k: int, rows: int, cols: int) -> FloatArray:
    """-y (patient mm; anterior is -y in LPS) of every voxel of slice ``k``."""
    a = affine[1]
    j = np.arange(rows, dtype=np.float64)[:, None]
    i = np.arange(cols, dtype=np.float64)[None, :]
    return -(a[0] * k + a[1] * j + a[2] * i + a[3])


def _canal_front(
    labels: NDArray[np.unsignedinteger],
    table: NDArray[np.intp],
    canal: int,
    count: NDArray[np.int64],
    affine: FloatArray,
) -> FloatArray:
    """Per slice, the canal's front edge (its largest anteriority, mm); NaN without canal."""
    slices, rows, cols = labels.shape
    front = np.full(slices, np.nan)
    for k in np.flatnonzero(count[:, canal]):
        inside = table[labels[k]] == canal
        front[k] = float(_anteriority(affine, int(k), rows, cols)[inside].max())
    return front


def _body_centroid(
    labels: NDArray[np.unsignedinteger],
    value: int,
    run: tuple[int, int],
    front: FloatArray,
    affine: FloatArray,
) -> tuple[float, float, float] | None:
    """Centroid (k, j, i) of the vertebra's voxels in front of the canal; None when none is
    (or the canal is nowhere beside it)."""
    first, stop = run
    edges = front[first:stop]
    if np.all(np.isnan(edges)):
        return None
    fallback = float(np.nanmedian(edges))
    _, rows, cols = labels.shape
    total, sums = 0, np.zeros(3)
    for k in range(first, stop):
        mask = labels[k] == value
        if not mask.any():
            continue
        edge = front[k] if not np.isnan(front[k]) else fallback
        mask &= _anteriority(affine, k, rows, cols) > edge + BODY_MARGIN_MM
        j, i = np.nonzero(mask)
        total += len(j)
        sums += (k * len(j), float(j.sum()), float(i.sum()))
    if total == 0:
        return None
    return float(sums[0] / total), float(sums[1] / total), float(sums[2] / total)


def _box(mask: NDArray[np.bool_]) -> tuple[float, float, float, float]:
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return (0.0, 0.0, 0.0, 0.0)
    return (float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1))


@dataclass(frozen=True)
class MaskColumn:
    """The vertebrae and discs of one series' label map, checked like a detector's column."""

    review: LabelReview
    vertebrae: tuple[VertebraFinding, ...]
    #: Disc level -> centre (patient mm), for each pair of adjacent bodies.
    disc_centres: dict[str, FloatArray]
    structures: dict[str, Structure] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def labelling(self) -> Labelling:
        return self.review.labelling


def column_from_mask(
    label_map: LabelMap,
    affine: NDArray[np.floating],
    series_uid: str,
    sop_instance_uids: Sequence[str],
    check: Callable[[], None] = lambda: None,
) -> MaskColumn:
    """The checked column of ``label_map`` (the series ``series_uid`` whose slice ``k`` is the
    image ``sop_instance_uids[k]`` and whose index -> patient mm is ``affine``): each vertebra
    reported on the image nearest its centre, with its box there, and the discs' centres."""
    matrix: FloatArray = np.asarray(affine, dtype=np.float64)
    found = measure(label_map, matrix, check)
    vertebrae = [
        s for s in found.values() if s.kind == "vertebra" and s.volume_ml >= MIN_VERTEBRA_ML
    ]
    bodies = [
        Body(
            label=s.name,
            class_name="S1" if s.name == "S1" else "vertebra",
            score=1.0,
            box=s.box_px,
            centre_px=(s.centroid_index[1], s.centroid_index[2]),
            centre_mm=s.centre_mm,
            slice_index=s.slice_index,
            slices=tuple(range(*s.slices)),
            sacral=1.0 if s.name == "S1" else 0.0,
        )
        for s in sorted(vertebrae, key=lambda s: LABELS_UPWARD.index(s.name))
    ]
    warnings = _order_warnings(bodies)
    # the model names S1 itself: a body it calls S1 is as sacral as a detector's surest
    review = check_column(
        Labelling(tuple(bodies), warnings),
        series_uid,
        _edges(label_map, matrix),
        sacral_at_edge=SACRAL_AT_EDGE,
    )
    checked = review.labelling
    findings = []
    for body in reversed(checked.bodies):  # top to bottom
        status, reasons = review.review.get(body.label, (review.result.status, ()))
        assert body.centre_mm is not None
        findings.append(
            VertebraFinding(
                label=body.label,
                score=body.score,
                series_uid=series_uid,
                sop_instance_uid=sop_instance_uids[body.slice_index],
                box_px=rounded(body.box),
                centre_mm=rounded(body.centre_mm),
                model_id=label_map.model_id,
                review=status,
                review_reasons=reasons,
            )
        )
    return MaskColumn(
        review,
        tuple(findings),
        _disc_centres(checked, found),
        found,
        tuple(dict.fromkeys([*warnings, *review.warnings])),
    )


def _disc_centres(labelling: Labelling, found: Mapping[str, Structure]) -> dict[str, FloatArray]:
    """Disc level -> centre for adjacent bodies: the disc label's centroid when segmented."""
    top_down = [(b.label, b.centre_mm) for b in reversed(labelling.bodies) if b.centre_mm]
    centres = disc_centres(top_down)
    for level in centres:
        disc = found.get(level)
        if disc is not None and disc.kind == "disc":
            centres[level] = np.asarray(disc.centre_mm, dtype=np.float64)
    return centres


def _order_warnings(bodies: Sequence[Body]) -> tuple[str, ...]:
    """A body the model named out of order (L3 above L2 in the patient): a warning each."""
    out = []
    for lower, upper in itertools.pairwise(bodies):  # bottom first
        assert lower.centre_mm is not None and upper.centre_mm is not None
        if upper.centre_mm[2] <= lower.centre_mm[2]:
            out.append(f"{upper.label} lies below {lower.label} in the label map")
    return tuple(out)


def _edges(label_map: LabelMap, affine: FloatArray) -> Callable[[Body], tuple[float, float]]:
    """Patient z of the series' lowest and highest voxel edges (the same for every body)."""
    k, j, i = label_map.labels.shape
    corners = np.array(
        [[a, b, c, 1.0] for a in (-0.5, k - 0.5) for b in (-0.5, j - 0.5) for c in (-0.5, i - 0.5)]
    )
    z = (corners @ affine.T)[:, 2]
    low, high = float(z.min()), float(z.max())
    return lambda body: (low, high)


def vertebrae_methods(findings: Findings) -> dict[str, tuple[str, str]]:
    """Series UID -> (method, model id) of the vertebrae ``findings`` has on that series:
    ``segmentation`` when the vertebrae's model made a label map of the series
    (:attr:`~spineviewer.ai.findings.Findings.label_maps`), else ``detector``."""
    segmented = {(m.series_uid, m.model_id) for m in findings.label_maps}
    out: dict[str, tuple[str, str]] = {}
    for v in findings.vertebrae:
        method = SEGMENTATION if (v.series_uid, v.model_id) in segmented else DETECTOR
        out.setdefault(v.series_uid, (method, v.model_id))
    return out
