"""``lumbar-mr``: sagittal T2, angled axial T2 stacks (one per disc) and a straight axial stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.uid import MRImageStorage

from spineviewer.geometry import Plane, assign_slices_to_levels
from spineviewer.phantom.anatomy import GRADED_LEVELS
from spineviewer.phantom.fractures import SPINE_CANDIDATES, FractureRequest, study_fractures
from spineviewer.phantom.imaging import (
    BiasField,
    axial_directions,
    nearest_plane,
    rician,
    smooth,
    stack_planes,
    to_uint16,
)
from spineviewer.phantom.model import Rendered, SpineModel
from spineviewer.phantom.records import disc_truth, study_truth, vertebra_truth
from spineviewer.phantom.series import Decorator, PixelFunction, WrittenSeries, write_plane_series
from spineviewer.phantom.shapes import FloatArray
from spineviewer.phantom.tissues import T2_SIGNAL, lookup_table
from spineviewer.phantom.truth import AxialLevel, DiscTruth, StudyGroundTruth, VertebraTruth
from spineviewer.phantom.writer import SeriesInfo, StudyInfo

KIND = "lumbar-mr"


@dataclass(frozen=True)
class MrLook:
    """How this scanner and coil render T2 signal: scale, noise, bias, protocol timings."""

    seed: int
    table: FloatArray
    sigma: float
    bias: BiasField
    repetition_ms: float
    echo_ms: float
    field_t: float

    @classmethod
    def random(cls, rng: np.random.Generator, seed: int) -> MrLook:
        """Scale 1200-2800, noise 1.5-3.5 % of CSF, bias up to about 20 %."""
        scale = rng.uniform(1200.0, 2800.0)
        table = lookup_table(T2_SIGNAL) * rng.uniform(0.92, 1.08, len(T2_SIGNAL)) * scale
        return cls(
            seed=seed,
            table=table,
            sigma=float(rng.uniform(0.015, 0.035) * scale),
            bias=BiasField.random(rng, float(rng.uniform(0.05, 0.2))),
            repetition_ms=float(rng.uniform(3000.0, 5000.0)),
            echo_ms=float(rng.uniform(85.0, 120.0)),
            field_t=float(rng.choice([1.5, 3.0])),
        )

    @property
    def window(self) -> tuple[float, float]:
        """A T2 window: centre at half the CSF signal, width the CSF signal."""
        csf = float(self.table[10])
        return 0.5 * csf, csf

    def pixel_function(self, series_number: int) -> PixelFunction:
        """``(index, rendered) -> uint16`` for one series (noise seeded per image)."""

        def pixels(index: int, rendered: Rendered) -> NDArray[np.uint16]:
            signal = smooth(self.table[rendered.tissue]) * self.bias.on_plane(rendered.plane)
            rng = np.random.default_rng([self.seed, series_number, index])
            return to_uint16(rician(signal, self.sigma, rng))

        return pixels

    def decorator(self, spacing: float, thickness: float) -> Decorator:
        """Adds the MR image module attributes."""

        def decorate(ds: Dataset, index: int) -> None:
            ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
            ds.ScanningSequence = "SE"
            ds.SequenceVariant = ["SK", "SP"]
            ds.ScanOptions = ""
            ds.MRAcquisitionType = "2D"
            ds.SequenceName = "tse2d1_17"
            ds.RepetitionTime = f"{self.repetition_ms:.1f}"
            ds.EchoTime = f"{self.echo_ms:.1f}"
            ds.EchoTrainLength = 17
            ds.EchoNumbers = 1
            ds.NumberOfAverages = 2
            ds.FlipAngle = 150
            ds.ImagedNucleus = "1H"
            ds.MagneticFieldStrength = f"{self.field_t:.1f}"
            ds.ImagingFrequency = f"{42.577478 * self.field_t:.6f}"
            ds.SpacingBetweenSlices = f"{spacing:.4f}"
            ds.BodyPartExamined = "LSPINE"
            ds.ProtocolName = "L-SPINE T2 (synthetic)"
            ds.SliceThickness = f"{thickness:.4f}"

        return decorate


def generate_lumbar_mr(
    study_dir: Path,
    seed: int,
    *,
    fracture_rate: float = 0.0,
    fractures: Sequence[FractureRequest] = (),
) -> StudyGroundTruth:
    """Write one lumbar MR study into ``study_dir`` and return its ground truth.

    ``fracture_rate`` (per vertebra, T12..L5) and ``fractures`` add compression fractures.
    """
    plan, extra = study_fractures([seed, 1], SPINE_CANDIDATES, fracture_rate, fractures)
    rng = np.random.default_rng([seed, 1])
    model = SpineModel.random(rng, plan)
    look = MrLook.random(rng, seed)
    study = StudyInfo.create(KIND, seed)
    anatomy = model.anatomy
    written: list[WrittenSeries] = []

    def series(number: int, role: str, description: str, plane: str) -> SeriesInfo:
        return SeriesInfo.create(study, number, role, description, "MR", MRImageStorage, plane)

    def emit(info: SeriesInfo, planes: list[Plane], step: float, thickness: float) -> WrittenSeries:
        out = write_plane_series(
            study_dir,
            study,
            info,
            model,
            planes,
            look.pixel_function(info.number),
            look.decorator(step, thickness),
            thickness,
            look.window,
        )
        written.append(out)
        return out

    # Sagittal T2: columns anterior -> posterior, rows superior -> inferior.
    lumbar = np.array([v.centre for v in anatomy.vertebrae[1:]])
    pixel = float(rng.uniform(0.8, 1.1))
    matrix = round(320.0 / pixel / 16.0) * 16
    jitter = np.array([rng.uniform(-1.5, 1.5), rng.uniform(15, 30), rng.uniform(-10, 10)])
    centre = lumbar.mean(axis=0) + jitter
    step = float(rng.uniform(3.3, 4.0))
    sag_planes = stack_planes(
        centre,
        (0, 1, 0),
        (0, 0, -1),
        (pixel, pixel),
        (matrix, matrix),
        int(rng.choice([13, 15])),
        step,
    )
    sag = emit(series(1, "sagittal_t2", "SAG T2", "sagittal"), sag_planes, step, step - 0.4)

    # Angled axial stacks, one per graded disc, each parallel to its disc.
    ax_pixel = float(rng.uniform(0.6, 0.9))
    ax_matrix = int(rng.choice([256, 288, 320]))
    ax_step = float(rng.uniform(3.0, 4.0))
    angled_planes, stack_of = [], []
    for k, level in enumerate(GRADED_LEVELS):
        disc = anatomy.disc(level)
        frame = disc.frame
        offset = frame.axes[0] * rng.uniform(-5, 5) + frame.axes[1] * rng.uniform(12, 22)
        x, y = axial_directions(frame.superior)
        count = int(rng.integers(3, 6))
        middle = frame.origin + offset + frame.superior * rng.uniform(-0.8, 0.8)
        planes = stack_planes(
            middle, x, y, (ax_pixel, ax_pixel), (ax_matrix, ax_matrix), count, ax_step
        )
        angled_planes += planes[::-1]  # superior to inferior
        stack_of += [k] * count
    angled = emit(
        series(2, "axial_t2_angled", "AX T2 DISCS", "axial"), angled_planes, ax_step, ax_step - 0.5
    )

    # One straight axial stack from above L1 to the S1 body.
    top = float(anatomy.vertebra("L1").endplate(True)[2]) + 4.0
    bottom = float(anatomy.vertebra("S1").centre[2])
    st_step = float(rng.uniform(3.8, 4.5))
    count = int(np.ceil((top - bottom) / st_step)) + 1
    middle = np.array([*lumbar[:, :2].mean(axis=0), (top + bottom) / 2]) + np.array([0, 18, 0])
    st_planes = stack_planes(
        middle, (1, 0, 0), (0, 1, 0), (ax_pixel, ax_pixel), (ax_matrix, ax_matrix), count, st_step
    )[::-1]
    stack = emit(
        series(3, "axial_t2_stack", "AX T2 STACK", "axial"), st_planes, st_step, st_step - 0.3
    )

    return study_truth(
        study,
        series=[w.truth for w in written],
        vertebrae=_vertebrae(model, sag),
        discs=_discs(model, sag, (angled, stack)),
        axial_levels=_levels(model, angled, stack_of) + _levels(model, stack, None),
        parameters={
            "lordosis_deg": anatomy.lordosis_deg,
            "noise_sigma": look.sigma,
            "csf_signal": float(look.table[10]),
            **extra,
        },
    )


def _vertebrae(model: SpineModel, sag: WrittenSeries) -> list[VertebraTruth]:
    out = []
    for v in model.anatomy.vertebrae:
        central = nearest_plane(sag.planes, v.centre)
        views = sag.views([model.structure_id(v.label)], central)
        out.append(vertebra_truth(v, views))
    return out


def _discs(
    model: SpineModel, sag: WrittenSeries, axials: tuple[WrittenSeries, ...]
) -> list[DiscTruth]:
    out = []
    for d in model.anatomy.discs:
        ids = [model.structure_id(d.level)]
        if d.state == "herniation":
            ids.append(model.structure_id(f"{d.level}/herniation"))
        views = []
        for ser in (sag, *axials):
            views += ser.views(ids, nearest_plane(ser.planes, d.frame.origin))
        out.append(disc_truth(d, views))
    return out


def _levels(model: SpineModel, ser: WrittenSeries, stacks: list[int] | None) -> list[AxialLevel]:
    centres = {d.level: d.frame.origin for d in model.anatomy.discs}
    found = assign_slices_to_levels(ser.planes, centres)
    return [
        AxialLevel(
            series_instance_uid=ser.info.uid,
            sop_instance_uid=ser.truth.images[a.slice_index].sop_instance_uid,
            slice_index=a.slice_index,
            stack=None if stacks is None else stacks[a.slice_index],
            level=a.level,
            distance_mm=float(a.distance_mm or 0.0),
        )
        for a in found
    ]
