"""``lumbar-mr``: sagittal series (T2, or T1 / STIR as asked), angled axial T2 stacks (one per
lumbar disc in the sagittal field of view) and a straight axial T2 stack.

The ``standard`` profile renders each pixel at its centre on the written grid; the ``wide``
profile (:mod:`spineviewer.phantom.wide`) renders slabs on an acquired grid
(:mod:`spineviewer.phantom.slab`) with per-disc nucleus signals, its noise, bias and coil.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.uid import MRImageStorage

from spineviewer.geometry import assign_slices_to_levels
from spineviewer.phantom.contrasts import CONTRAST_NAMES, CONTRASTS, Contrast
from spineviewer.phantom.dicom_files import SeriesInfo, StudyInfo
from spineviewer.phantom.fractures import (
    SPINE_CANDIDATES,
    Fracture,
    FractureRequest,
    study_fractures,
)
from spineviewer.phantom.imaging import nearest_plane
from spineviewer.phantom.mr_layout import Stack, standard_layout, wide_layout
from spineviewer.phantom.mr_look import MrLook
from spineviewer.phantom.mr_options import MrOptions
from spineviewer.phantom.painted_volume import Rendered, SpineModel
from spineviewer.phantom.records import disc_truth, study_truth, vertebra_truth
from spineviewer.phantom.sagittal import mr_labels
from spineviewer.phantom.series import PixelFunction, WrittenSeries, write_plane_series
from spineviewer.phantom.slab import CoilField, disc_signals, render_slab, slab_pixels
from spineviewer.phantom.solids import FloatArray
from spineviewer.phantom.tissues import Tissue
from spineviewer.phantom.truth import AxialLevel, DiscTruth, StudyGroundTruth, VertebraTruth
from spineviewer.phantom.wide import (
    POSTURE,
    WideStudy,
    draw_wide,
    shape_variants,
    tissue_factors,
)

__all__ = ["KIND", "fracture_candidates", "generate_lumbar_mr", "mr_labels", "mr_model"]

KIND = "lumbar-mr"
#: Sub-stream of a study's seed for the other contrasts' looks (the default draws stay).
_CONTRAST_STREAM = 10
#: Whether a patient point lies inside the sagittal field of view.
InView = Callable[[FloatArray], bool]


def shown_options(options: MrOptions, seed: int) -> MrOptions:
    """What a study shows: the options, or what the wide profile draws for ``seed``."""
    return draw_wide(seed).options if options.profile == "wide" else options


def fracture_candidates(options: MrOptions, seed: int = 0) -> tuple[str, ...]:
    """Vertebrae that may fracture: T12..L5, and L6 when there is one (drawn for ``seed`` in
    the wide profile)."""
    shown = shown_options(options, seed)
    return SPINE_CANDIDATES + (("L6",) if shown.lumbar_vertebrae == 6 else ())


def mr_model(
    seed: int, options: MrOptions | None = None, plan: Mapping[str, Fracture] | None = None
) -> tuple[SpineModel, np.random.Generator]:
    """The phantom of a study and the generator that goes on to draw the rest of it."""
    options = options or MrOptions()
    rng = np.random.default_rng([seed, 1])
    if options.profile == "wide":
        wide = draw_wide(seed)
        labels = mr_labels(wide.options)
        shaped = {**wide_variants(seed, labels), **(plan or {})}  # a fracture wins
        model = SpineModel.random(rng, shaped, labels, wide.discs, POSTURE)
        return model, rng
    return SpineModel.random(rng, plan, mr_labels(options)), rng


def wide_variants(seed: int, labels: Sequence[str]) -> dict[str, Fracture]:
    """The normal shape variants of a wide study's vertebrae (not S1, the sacrum's top)."""
    return shape_variants(seed, [label for label in labels if label != "S1"])


def _disc_ratios(wide: WideStudy, contrast: Contrast) -> dict[str, tuple[float, float]]:
    """Per disc, its nucleus and herniation signals over a healthy nucleus's, on ``contrast``."""
    healthy = float(contrast.signal[Tissue.NUCLEUS])
    out = {}
    for level, draw in wide.discs.items():
        core = draw.nucleus_ratio(contrast.name, healthy)
        out[level] = (core, core * draw.herniation_signal)
    return out


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
    contrasts, or the wide profile (:class:`MrOptions`; its defaults give the study of before
    the options).
    """
    options = options or MrOptions()
    wide = draw_wide(seed) if options.profile == "wide" else None
    shown = wide.options if wide is not None else options
    plan, extra = study_fractures([seed, 1], fracture_candidates(shown), fracture_rate, fractures)
    model, rng = mr_model(seed, options, plan)
    look = MrLook.random(rng, seed)
    study = StudyInfo.create(KIND, seed, options.variant)
    anatomy = model.anatomy
    written: list[WrittenSeries] = []
    contrast_of: dict[str, str] = {}
    sigma_of: dict[str, float] = {}
    factors_of: dict[int, list[float]] = {}
    if wide is None:
        layout = standard_layout(anatomy, rng, shown, seed)
    else:
        look = dataclasses.replace(look, sigma=look.sigma * wide.noise_factor, bias=wide.bias)
        layout = wide_layout(anatomy, rng, wide, seed)
        coil = CoilField.of(anatomy, wide.coil_falloff_mm)

    def series(number: int, role: str, description: str, plane: str) -> SeriesInfo:
        return SeriesInfo.create(study, number, role, description, "MR", MRImageStorage, plane)

    def render(stack: Stack) -> list[Rendered] | None:
        """Slabs of a wide study (rendered once per stack); ``None``: render when written."""
        if stack.grid is None:
            return None
        grid = stack.grid
        return [
            render_slab(model, p, grid.thickness, grid.sub_slices, grid.acquired)
            for p in stack.planes
        ]

    def pixels(series_look: MrLook, number: int) -> PixelFunction:
        if wide is None:
            return series_look.pixel_function(number)
        factors = tissue_factors(seed, number, len(series_look.table))
        factors_of[number] = [float(f) for f in factors]
        series_look = dataclasses.replace(series_look, table=series_look.table * factors)
        ratios = _disc_ratios(wide, series_look.contrast)
        return slab_pixels(series_look, number, disc_signals(model, series_look, ratios), coil)

    def emit(
        info: SeriesInfo,
        stack: Stack,
        series_look: MrLook = look,
        rendered: list[Rendered] | None = None,
    ) -> WrittenSeries:
        out = write_plane_series(
            study_dir,
            study,
            info,
            model,
            stack.planes,
            pixels(series_look, info.number),
            series_look.decorator(stack.step, stack.thickness),
            stack.thickness,
            series_look.window,
            rendered if rendered is not None else render(stack),
        )
        written.append(out)
        contrast_of[info.uid] = series_look.contrast.name
        sigma_of[info.role] = float(series_look.sigma)
        return out

    # Sagittal series, one per contrast, on the same slices (rendered once). Series not asked
    # for keep their numbers (and so the others' noise draws) but are neither rendered nor
    # written.
    sag = layout.sagittal
    wanted = set(options.series)
    sagittals = []
    if "sagittal" in wanted:
        rendered = render(sag)
        if rendered is None:
            rendered = [model.render(p) for p in sag.planes]
        for number, name in enumerate(shown.sagittal_contrasts, start=1):
            contrast = CONTRASTS[name]
            stream = [seed, 1, _CONTRAST_STREAM + CONTRAST_NAMES.index(name)]
            sag_look = look
            if name != "T2":
                sag_look = look.with_contrast(contrast, np.random.default_rng(stream))
                if wide is not None:
                    sigma = sag_look.sigma * wide.noise_factor
                    sag_look = dataclasses.replace(sag_look, sigma=sigma)
            info = series(number, contrast.role, contrast.description, "sagittal")
            sagittals.append(emit(info, sag, sag_look, rendered))
    first_axial = len(shown.sagittal_contrasts) + 1
    axials: list[WrittenSeries] = []
    levels: list[AxialLevel] = []
    if "axial_t2_angled" in wanted:
        info = series(first_axial, "axial_t2_angled", "AX T2 DISCS", "axial")
        axials.append(emit(info, layout.angled))
        levels += _levels(model, axials[-1], layout.stack_of)
    if "axial_t2_stack" in wanted:
        info = series(first_axial + 1, "axial_t2_stack", "AX T2 STACK", "axial")
        axials.append(emit(info, layout.straight))
        levels += _levels(model, axials[-1], None)
    parameters: dict[str, Any] = {
        "lordosis_deg": anatomy.lordosis_deg,
        "noise_sigma": look.sigma,
        "csf_signal": float(look.table[10]),
        **extra,
        **options.parameters(),
    }
    if wide is not None:
        parameters.update(wide.parameters())
        parameters["shape_variants"] = {
            label: {"kind": v.kind, "height_loss": v.height_loss}
            for label, v in wide_variants(seed, mr_labels(shown)).items()
            if label not in plan
        }
        assert layout.sagittal.grid is not None
        parameters["sagittal"] = layout.sagittal.grid.parameters()  # as fitted to the field
        parameters["noise_sigma_by_series"] = sigma_of
        parameters["tissue_factors_by_series"] = {
            w.info.role: factors_of[w.info.number] for w in written if w.info.number in factors_of
        }
    return study_truth(
        study,
        series=[
            w.truth
            if options.is_default
            else dataclasses.replace(w.truth, contrast=contrast_of[w.info.uid])
            for w in written
        ],
        vertebrae=_vertebrae(model, sagittals, layout.shown),
        discs=_discs(model, sagittals, tuple(axials), layout.shown),
        axial_levels=levels,
        parameters=parameters,
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
