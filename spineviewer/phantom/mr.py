"""``lumbar-mr``: sagittal series (T2, or T1 / STIR as asked), angled axial T2 stacks (one per
lumbar disc in the sagittal field of view) and a straight axial T2 stack."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from pydicom.uid import MRImageStorage

from spineviewer.geometry import Plane, assign_slices_to_levels
from spineviewer.phantom.anatomy import graded_levels, spine_labels
from spineviewer.phantom.contrasts import CONTRAST_NAMES, CONTRASTS
from spineviewer.phantom.fractures import (
    SPINE_CANDIDATES,
    Fracture,
    FractureRequest,
    study_fractures,
)
from spineviewer.phantom.imaging import axial_directions, nearest_plane, stack_planes
from spineviewer.phantom.model import Rendered, SpineModel
from spineviewer.phantom.mr_look import MrLook
from spineviewer.phantom.mr_options import MrOptions
from spineviewer.phantom.records import disc_truth, study_truth, vertebra_truth
from spineviewer.phantom.sagittal import in_view, lumbar_centres, sagittal_planes
from spineviewer.phantom.series import WrittenSeries, write_plane_series
from spineviewer.phantom.shapes import FloatArray
from spineviewer.phantom.truth import AxialLevel, DiscTruth, StudyGroundTruth, VertebraTruth
from spineviewer.phantom.writer import SeriesInfo, StudyInfo

KIND = "lumbar-mr"
#: Sub-streams of a study's seed for what the options add (the default draws stay as they were).
_FOV_STREAM, _CONTRAST_STREAM = 3, 10
#: Whether a patient point lies inside the sagittal field of view.
InView = Callable[[FloatArray], bool]


def mr_labels(options: MrOptions) -> tuple[str, ...]:
    """Labelled vertebrae of a study: T11 (T9 for ``T10-L5``) down to L5 or L6, then S1.

    ``T10-L5`` adds T9 so that the slices above T10 show a spine, not its end.
    """
    top = "T9" if options.sagittal_fov == "T10-L5" else "T11"
    return spine_labels(top, options.lumbar_vertebrae)


def fracture_candidates(options: MrOptions) -> tuple[str, ...]:
    """Vertebrae that may fracture: T12..L5, and L6 when there is one."""
    return SPINE_CANDIDATES + (("L6",) if options.lumbar_vertebrae == 6 else ())


def mr_model(
    seed: int, options: MrOptions | None = None, plan: Mapping[str, Fracture] | None = None
) -> tuple[SpineModel, np.random.Generator]:
    """The phantom of a study and the generator that goes on to draw the rest of it."""
    rng = np.random.default_rng([seed, 1])
    return SpineModel.random(rng, plan, mr_labels(options or MrOptions())), rng


def generate_lumbar_mr(
    study_dir: Path,
    seed: int,
    *,
    fracture_rate: float = 0.0,
    fractures: Sequence[FractureRequest] = (),
    options: MrOptions | None = None,
) -> StudyGroundTruth:
    """Write one lumbar MR study into ``study_dir`` and return its ground truth.

    ``fracture_rate`` (per vertebra, T12..L5 and any L6) and ``fractures`` add compression
    fractures; ``options`` choose the field of view, the lumbar count and the sagittal
    contrasts (:class:`MrOptions`; its defaults give the study of before the options).
    """
    options = options or MrOptions()
    candidates = fracture_candidates(options)
    plan, extra = study_fractures([seed, 1], candidates, fracture_rate, fractures)
    model, rng = mr_model(seed, options, plan)
    look = MrLook.random(rng, seed)
    study = StudyInfo.create(KIND, seed, options.variant)
    anatomy = model.anatomy
    written: list[WrittenSeries] = []
    contrast_of: dict[str, str] = {}

    def series(number: int, role: str, description: str, plane: str) -> SeriesInfo:
        return SeriesInfo.create(study, number, role, description, "MR", MRImageStorage, plane)

    def emit(
        info: SeriesInfo,
        planes: list[Plane],
        step: float,
        thickness: float,
        series_look: MrLook = look,
        rendered: list[Rendered] | None = None,
    ) -> WrittenSeries:
        out = write_plane_series(
            study_dir,
            study,
            info,
            model,
            planes,
            series_look.pixel_function(info.number),
            series_look.decorator(step, thickness),
            thickness,
            series_look.window,
            rendered,
        )
        written.append(out)
        contrast_of[info.uid] = series_look.contrast.name
        return out

    # Sagittal series, one per contrast, on the same slices (rendered once).
    fov_rng = np.random.default_rng([seed, 1, _FOV_STREAM])
    sag_planes, step = sagittal_planes(anatomy, rng, options.sagittal_fov, fov_rng)
    rendered = [model.render(p) for p in sag_planes]
    sagittals = []
    for number, name in enumerate(options.sagittal_contrasts, start=1):
        contrast = CONTRASTS[name]
        stream = [seed, 1, _CONTRAST_STREAM + CONTRAST_NAMES.index(name)]
        sag_look = look
        if name != "T2":
            sag_look = look.with_contrast(contrast, np.random.default_rng(stream))
        info = series(number, contrast.role, contrast.description, "sagittal")
        sagittals.append(emit(info, sag_planes, step, step - 0.4, sag_look, rendered))
    first_axial = len(sagittals) + 1

    def shown(point: FloatArray) -> bool:
        return in_view(sag_planes, step, point)

    # Angled axial stacks, one per lumbar disc in the sagittal field of view, parallel to it.
    # Every disc draws its stack so that the others do not change when one is left out.
    ax_pixel = float(rng.uniform(0.6, 0.9))
    ax_matrix = int(rng.choice([256, 288, 320]))
    ax_step = float(rng.uniform(3.0, 4.0))
    angled_planes: list[Plane] = []
    stack_of: list[int] = []
    levels: list[str] = []
    for level in graded_levels(mr_labels(options)):
        disc = anatomy.disc(level)
        frame = disc.frame
        offset = frame.axes[0] * rng.uniform(-5, 5) + frame.axes[1] * rng.uniform(12, 22)
        x, y = axial_directions(frame.superior)
        count = int(rng.integers(3, 6))
        middle = frame.origin + offset + frame.superior * rng.uniform(-0.8, 0.8)
        if not shown(frame.origin):
            continue
        planes = stack_planes(
            middle, x, y, (ax_pixel, ax_pixel), (ax_matrix, ax_matrix), count, ax_step
        )
        angled_planes += planes[::-1]  # superior to inferior
        stack_of += [len(levels)] * count
        levels.append(level)
    angled = emit(
        series(first_axial, "axial_t2_angled", "AX T2 DISCS", "axial"),
        angled_planes,
        ax_step,
        ax_step - 0.5,
    )

    # One straight axial stack from above the first such disc's upper body to the last one's
    # lower body (L1 to S1 by default).
    lumbar = lumbar_centres(anatomy)
    upper = anatomy.vertebra(levels[0].split("-")[0])
    lower = anatomy.vertebra(levels[-1].split("-")[1])
    top = float(upper.endplate(True)[2]) + 4.0
    bottom = float(lower.centre[2])
    st_step = float(rng.uniform(3.8, 4.5))
    count = int(np.ceil((top - bottom) / st_step)) + 1
    middle = np.array([*lumbar[:, :2].mean(axis=0), (top + bottom) / 2]) + np.array([0, 18, 0])
    st_planes = stack_planes(
        middle, (1, 0, 0), (0, 1, 0), (ax_pixel, ax_pixel), (ax_matrix, ax_matrix), count, st_step
    )[::-1]
    stack = emit(
        series(first_axial + 1, "axial_t2_stack", "AX T2 STACK", "axial"),
        st_planes,
        st_step,
        st_step - 0.3,
    )

    return study_truth(
        study,
        series=[
            w.truth
            if options.is_default
            else dataclasses.replace(w.truth, contrast=contrast_of[w.info.uid])
            for w in written
        ],
        vertebrae=_vertebrae(model, sagittals, shown),
        discs=_discs(model, sagittals, (angled, stack), shown),
        axial_levels=_levels(model, angled, stack_of) + _levels(model, stack, None),
        parameters={
            "lordosis_deg": anatomy.lordosis_deg,
            "noise_sigma": look.sigma,
            "csf_signal": float(look.table[10]),
            **extra,
            **options.parameters(),
        },
    )


def _vertebrae(
    model: SpineModel, sagittals: list[WrittenSeries], shown: InView
) -> list[VertebraTruth]:
    out = []
    for v in model.anatomy.vertebrae:
        views = []
        for sag in sagittals:
            views += sag.views([model.structure_id(v.label)], nearest_plane(sag.planes, v.centre))
        out.append(vertebra_truth(v, views, shown(v.centre)))
    return out


def _discs(
    model: SpineModel,
    sagittals: list[WrittenSeries],
    axials: tuple[WrittenSeries, ...],
    shown: InView,
) -> list[DiscTruth]:
    out = []
    for d in model.anatomy.discs:
        ids = [model.structure_id(d.level)]
        if d.state == "herniation":
            ids.append(model.structure_id(f"{d.level}/herniation"))
        views = []
        for ser in (*sagittals, *axials):
            views += ser.views(ids, nearest_plane(ser.planes, d.frame.origin))
        out.append(disc_truth(d, views, shown(d.frame.origin)))
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
