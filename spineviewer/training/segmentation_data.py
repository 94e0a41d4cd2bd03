"""Training cases of the demo spine CT segmentation model: ``lumbar-ct`` phantoms and their
label maps, on the model's grid (numpy; no torch).

A phantom study (``spineviewer phantom --kind lumbar-ct``) is one axial CT series and
``labels.nii.gz``, its truth as a label map (vertebrae T11 to S1, S1 the whole sacrum, the
discs between them, the spinal canal; the values named in the study's ground truth). A case is
the series read as the viewer reads it (:func:`~spineviewer.dicom.load_volume`: slices bottom
first), the label map put in the same order and renamed to the levels (:data:`LEVELS`), both
taken to the model grid exactly as the sliding window takes a series
(:class:`~spineviewer.ai.segmentation_grid.ModelGrid`, :class:`~spineviewer.ai.
segmentation_intensity.ModelSlices`: linear intensities; labels nearest), so training and
inference see the same voxels. Cases are cached as ``.npz`` next to the studies.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import SlidingWindow
from spineviewer.ai.segmentation_grid import ModelGrid
from spineviewer.ai.segmentation_intensity import Intensity, ModelSlices
from spineviewer.phantom import load_ground_truth, study_folder_name
from spineviewer.phantom.scoliosis_bend import Scoliosis
from spineviewer.training.phantom_data import ensure_phantoms

__all__ = [
    "CLASSES",
    "CLASS_OF_LEVEL",
    "CLIP_HU",
    "DISCS",
    "KIND",
    "LEVELS",
    "MEAN_HU",
    "PATCH",
    "SPACING_MM",
    "STD_HU",
    "VERTEBRAE",
    "Case",
    "SeriesCase",
    "ensure_cases",
    "load_series_case",
    "model_case",
]

KIND = "lumbar-ct"
#: The phantom's vertebrae, top down (S1: the whole sacrum, as the phantom's label map has it).
VERTEBRAE: tuple[str, ...] = ("T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")
DISCS: tuple[str, ...] = tuple(f"{a}-{b}" for a, b in itertools.pairwise(VERTEBRAE))
#: The truth's structures per level, as the label maps of the cases hold them (0 the
#: background); the product's label map names the same levels (:mod:`spineviewer.ai.
#: spine_levels` derives them from the network's :data:`CLASSES`).
LEVELS: tuple[str, ...] = ("background", *VERTEBRAE, *DISCS, "spinal_canal")
#: The network's output channels, in order (channel 0 the background): what a voxel looks
#: like, never which level it is (no position in the column needed).
CLASSES: tuple[str, ...] = ("background", "vertebra", "sacrum", "disc", "spinal_canal")


def _class_of(level: str) -> str:
    if level in VERTEBRAE:
        return "sacrum" if level == "S1" else "vertebra"
    return "disc" if level in DISCS else level


#: :data:`LEVELS` index -> :data:`CLASSES` index.
CLASS_OF_LEVEL: NDArray[np.uint8] = np.array(
    [CLASSES.index(_class_of(name)) for name in LEVELS], dtype=np.uint8
)
#: The model grid, (slice, row, column) in mm, and the patch in voxels: 80 mm of the column
#: (a vertebra and both its discs, or L5 and the top of the sacrum) and 120 x 120 mm in-plane
#: (the vertebra with its processes).
SPACING_MM: tuple[float, float, float] = (2.5, 2.5, 2.5)
PATCH: tuple[int, int, int] = (32, 48, 48)
#: CT normalisation as nnU-Net's: clip, then (HU - mean) / std (set for the phantom's tissues:
#: fat about -100, soft tissue 40, marrow 200-300, cortex 700-1000).
CLIP_HU: tuple[float, float] = (-250.0, 1300.0)
MEAN_HU = 200.0
STD_HU = 400.0

IntArray = NDArray[np.uint8]


def window() -> SlidingWindow:
    """The sliding window the model is trained and run with."""
    return SlidingWindow(SPACING_MM, PATCH)


def intensity() -> Intensity:
    return Intensity(MEAN_HU, STD_HU, CLIP_HU)


@dataclass(frozen=True)
class SeriesCase:
    """A phantom series on its own grid: HU (k, j, i, bottom slice first), the truth label map
    in :data:`LEVELS` indices, the spacing (mm, k j i) and the truth's vertebra centres."""

    name: str
    hu: NDArray[Any]
    labels: IntArray
    spacing: tuple[float, float, float]
    centres: dict[str, tuple[float, float, float]]
    affine: NDArray[np.float64]
    folder: Path


@dataclass(frozen=True)
class Case:
    """A training case on the padded model grid: normalised image and :data:`LEVELS` labels."""

    name: str
    image: NDArray[np.float32]
    labels: IntArray


def load_series_case(folder: Path) -> SeriesCase:
    """The series and truth label map of the ``lumbar-ct`` study in ``folder``."""
    import SimpleITK as sitk

    from spineviewer.dicom import load_volume, scan

    truth = load_ground_truth(folder)
    if truth.label_map is None:
        raise ValueError(f"{folder}: the study has no label map")
    stack = scan(folder).studies[0].series[0].stacks[0]
    volume = load_volume(stack)
    image = sitk.ReadImage(str(folder / truth.label_map.file))
    raw = sitk.GetArrayFromImage(image)
    origin = np.asarray(image.GetOrigin())
    if raw.shape != volume.shape:
        raise ValueError(f"{folder}: label map {raw.shape} and series {volume.shape} differ")
    # the label map starts at its first plane; the volume's slices may run the other way
    if not np.allclose(origin, volume.positions[0], atol=1e-2):
        raw = raw[::-1]
    table = np.zeros(int(raw.max()) + 1, dtype=np.uint8)
    for name, value in truth.label_map.values.items():
        if name in LEVELS and value < len(table):
            table[value] = LEVELS.index(name)
    centres = {
        v.label: (float(v.centre_mm[0]), float(v.centre_mm[1]), float(v.centre_mm[2]))
        for v in truth.vertebrae
    }
    return SeriesCase(
        folder.name,
        volume.array,
        table[raw],
        volume.spacing,
        centres,
        np.asarray(volume.affine, dtype=np.float64),
        folder,
    )


def model_case(series: SeriesCase) -> Case:
    """``series`` on the padded model grid, as the sliding window resamples it."""
    grid = ModelGrid.of(series.hu.shape, series.spacing, window())
    image = ModelSlices(series.hu, grid, intensity()).slab(0, grid.padded[0])
    labels = np.zeros(grid.padded, dtype=np.uint8)
    picks = [
        np.clip(np.round(grid.series_positions(axis, np.arange(n))).astype(np.intp), 0, m - 1)
        for axis, (n, m) in enumerate(zip(grid.shape, grid.series_shape, strict=True))
    ]
    ok, oj, oi = grid.offset
    nk, nj, ni = grid.shape
    resampled = series.labels[picks[0]][:, picks[1]][:, :, picks[2]]
    labels[ok : ok + nk, oj : oj + nj, oi : oi + ni] = resampled
    return Case(series.name, image, labels)


def scoliosis_for(seed: int) -> Scoliosis:
    """The curve of the scoliotic training phantom ``seed``, drawn from the seed: 10-45 degrees,
    apex L1-L4, 1-3 levels to each end, 0-25 degrees of apical rotation, either side."""
    rng = np.random.default_rng([seed, 7])
    return Scoliosis(
        cobb_deg=float(rng.uniform(10.0, 45.0)),
        apex=str(rng.choice(["L1", "L2", "L3", "L4"])),
        half_span=int(rng.integers(1, 4)),
        rotation_deg=float(rng.uniform(0.0, 25.0)),
        convex=str(rng.choice(["left", "right"])),
    )


def _study(root: Path, seed: int, scoliotic: bool, say: Callable[[str], None]) -> Path:
    """The study folder of phantom ``seed`` (scoliotic: bent by :func:`scoliosis_for`),
    generated when missing."""
    if not scoliotic:
        (folder,) = ensure_phantoms(KIND, root, [seed], say)
        return folder
    from spineviewer.phantom.ct_scoliosis import generate_scoliotic_ct, scoliotic_folder_name

    folder = root / scoliotic_folder_name(seed)
    if not (folder / "ground_truth.json").is_file():
        say(f"generating scoliotic {KIND} phantom seed {seed}")
        generate_scoliotic_ct(root, seed, scoliosis_for(seed))
    return folder


def ensure_cases(
    root: Path,
    seeds: Iterable[int],
    say: Callable[[str], None] = lambda text: None,
    keep_dicom: bool = False,
    scoliotic: bool = False,
) -> list[Case]:
    """The model-grid cases of ``lumbar-ct`` phantoms ``seeds`` (``scoliotic``: their bent
    twins), generated under ``root`` and cached there as ``.npz`` (the DICOM files are
    removed once cached unless ``keep_dicom``)."""
    import shutil

    cases = []
    for seed in seeds:
        name = study_folder_name(KIND, seed) + ("-scoliosis" if scoliotic else "")
        cached = root / f"{name}.npz"
        if not cached.is_file():
            folder = _study(root, seed, scoliotic, say)
            case = model_case(load_series_case(folder))
            np.savez_compressed(cached, image=case.image, labels=case.labels)
            if not keep_dicom:
                shutil.rmtree(folder)
        with np.load(cached) as data:
            cases.append(Case(name, data["image"], data["labels"]))
    return cases
