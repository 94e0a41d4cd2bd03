"""``lumbar-ct``: an axial CT volume in HU from T12 to S1, with a NIfTI label map."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage

from spineviewer.phantom.dicom_files import SeriesInfo, StudyInfo
from spineviewer.phantom.fractures import SPINE_CANDIDATES, FractureRequest, study_fractures
from spineviewer.phantom.imaging import smooth, stack_planes, to_uint16
from spineviewer.phantom.painted_volume import Rendered, SpineModel
from spineviewer.phantom.parts import build_parts
from spineviewer.phantom.records import disc_truth, study_truth, vertebra_truth
from spineviewer.phantom.scoliosis_bend import Scoliosis, bend_spine
from spineviewer.phantom.series import WrittenSeries, write_plane_series
from spineviewer.phantom.tissues import CT_HU, Tissue, lookup_table
from spineviewer.phantom.truth import LabelMapTruth, StudyGroundTruth, View

KIND = "lumbar-ct"
RESCALE_INTERCEPT = -1024.0
LABEL_MAP_FILE = "labels.nii.gz"
#: Largest stored value (BitsStored 12).
MAX_STORED = 4095


def label_values(model: SpineModel) -> dict[str, int]:
    """Label map values: vertebrae (S1 = whole sacrum), then discs, then the spinal canal."""
    names = [v.label for v in model.anatomy.vertebrae] + [d.level for d in model.anatomy.discs]
    return {**{n: i + 1 for i, n in enumerate(names)}, "spinal_canal": len(names) + 1}


def _structure_to_label(model: SpineModel, values: dict[str, int]) -> NDArray[np.uint8]:
    """Lookup table from owner value to label value."""
    table = np.zeros(len(model.structures), dtype=np.uint8)
    for i, name in enumerate(model.structures):
        base = name.split("/")[0]
        if base in ("S2", "S3", "S4", "sacrum"):
            base = "S1"
        if base in ("canal", "cord"):
            base = "spinal_canal"
        table[i] = values.get(base, 0)
    return table


def _voxel_box(ser: WrittenSeries, ids: list[int]) -> list[int] | None:
    """Inclusive [x_min, y_min, z_min, x_max, y_max, z_max] of the structures in the volume."""
    views = ser.views(ids, minimum=1)
    if not views:
        return None
    boxes = np.array([v.box_px for v in views])
    z = [int(v.slice_index or 0) for v in views]
    return [
        int(boxes[:, 0].min()),
        int(boxes[:, 1].min()),
        min(z),
        int(boxes[:, 2].max()),
        int(boxes[:, 3].max()),
        max(z),
    ]


def _write_label_map(path: Path, ser: WrittenSeries, table: NDArray[np.uint8]) -> None:
    import SimpleITK as sitk

    volume = np.stack([table[o] for o in ser.owners])
    image = sitk.GetImageFromArray(volume)
    first, second = ser.planes[0], ser.planes[1]
    step = second.origin - first.origin
    image.SetOrigin([float(v) for v in first.origin])
    image.SetSpacing([first.spacing[1], first.spacing[0], float(np.linalg.norm(step))])
    axes = np.stack([first.row_dir, first.col_dir, step / np.linalg.norm(step)], axis=1)
    image.SetDirection([float(v) for v in axes.ravel()])
    sitk.WriteImage(image, str(path), useCompression=True)


def generate_lumbar_ct(
    study_dir: Path,
    seed: int,
    *,
    fracture_rate: float = 0.0,
    fractures: Sequence[FractureRequest] = (),
    scoliosis: Scoliosis | None = None,
) -> StudyGroundTruth:
    """Write one lumbar CT study into ``study_dir`` and return its ground truth.

    ``fracture_rate`` (per vertebra, T12..L5) and ``fractures`` add compression fractures.
    ``scoliosis`` bends the drawn spine (:mod:`spineviewer.phantom.scoliosis_bend`); the study
    is then another study of the patient (its own UIDs) and its truth's
    ``parameters["scoliosis"]`` holds the curve. Without it the study is unchanged.
    """
    plan, drawn = study_fractures([seed, 2], SPINE_CANDIDATES, fracture_rate, fractures)
    extra: dict[str, object] = dict(drawn)
    rng = np.random.default_rng([seed, 2])
    model = SpineModel.random(rng, plan)
    if scoliosis is not None:
        bent = bend_spine(model.anatomy, scoliosis)
        model = SpineModel(bent.anatomy, build_parts(bent.anatomy))
        extra = {**extra, "scoliosis": bent.truth(scoliosis)}
    anatomy = model.anatomy
    study = StudyInfo.create(KIND, seed, scoliosis.variant if scoliosis is not None else "")
    hu = dict(CT_HU)
    hu[Tissue.CORTEX] = float(rng.uniform(700.0, 1000.0))
    hu[Tissue.MARROW] = float(rng.uniform(200.0, 300.0))
    table = lookup_table(hu)
    sigma = float(rng.uniform(8.0, 20.0))

    pixel = float(rng.uniform(0.75, 1.0))
    step = float(rng.uniform(2.0, 3.0))
    top = float(anatomy.vertebra("T12").endplate(True)[2]) + 5.0
    bottom = float(anatomy.vertebra("S1").endplate(False)[2]) - 5.0
    count = int(np.ceil((top - bottom) / step)) + 1
    spine = np.array([v.centre for v in anatomy.vertebrae]).mean(axis=0)
    centre = np.array(
        [spine[0] + rng.uniform(-5, 5), spine[1] - 25 + rng.uniform(-5, 5), (top + bottom) / 2]
    )
    planes = stack_planes(centre, (1, 0, 0), (0, 1, 0), (pixel, pixel), (256, 256), count, step)
    planes = planes[::-1]  # head first: instance 1 is the most superior slice

    def pixels(index: int, rendered: Rendered) -> NDArray[np.uint16]:
        noise = np.random.default_rng([seed, 2, index]).normal(0.0, sigma, rendered.tissue.shape)
        return to_uint16(smooth(table[rendered.tissue]) + noise - RESCALE_INTERCEPT, MAX_STORED)

    def decorate(ds: Dataset, index: int) -> None:
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.RescaleIntercept = f"{RESCALE_INTERCEPT:.0f}"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        ds.KVP = "120"
        ds.XRayTubeCurrent = 200
        ds.ExposureTime = 500
        ds.ConvolutionKernel = "STANDARD"
        ds.GantryDetectorTilt = "0"
        ds.ReconstructionDiameter = f"{256 * pixel:.2f}"
        ds.SpacingBetweenSlices = f"{step:.4f}"
        ds.BodyPartExamined = "LSPINE"
        ds.BitsStored, ds.HighBit = 12, 11

    info = SeriesInfo.create(study, 1, "ct", "AX CT BONE", "CT", CTImageStorage, "axial")
    ser = write_plane_series(
        study_dir, study, info, model, planes, pixels, decorate, step, (400.0, 1800.0)
    )
    values = label_values(model)
    _write_label_map(study_dir / LABEL_MAP_FILE, ser, _structure_to_label(model, values))

    def view(ids: list[int]) -> list[View]:
        box = _voxel_box(ser, ids)
        return [] if box is None else [View(info.uid, voxel_box=box)]

    vertebrae = [vertebra_truth(v, view([model.structure_id(v.label)])) for v in anatomy.vertebrae]
    discs = [disc_truth(d, view([model.structure_id(d.level)])) for d in anatomy.discs]
    return study_truth(
        study,
        series=[ser.truth],
        vertebrae=vertebrae,
        discs=discs,
        label_map=LabelMapTruth(LABEL_MAP_FILE, info.uid, values),
        parameters={
            "cortex_hu": hu[Tissue.CORTEX],
            "marrow_hu": hu[Tissue.MARROW],
            "noise_sigma_hu": sigma,
            **extra,
        },
    )
