"""Render a list of planes through the phantom into one DICOM series, and read boxes back."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from spineviewer.geometry import Plane
from spineviewer.phantom.dicom_files import (
    SeriesInfo,
    StudyInfo,
    new_dataset,
    set_pixels,
    set_plane,
    write,
)
from spineviewer.phantom.imaging import box_of
from spineviewer.phantom.painted_volume import OwnerImage, Rendered, SpineModel
from spineviewer.phantom.truth import ImageRef, SeriesTruth, View

#: Turns a rendered plane into stored pixel values (the modality's look).
PixelFunction = Callable[[int, Rendered], NDArray[np.uint16]]
#: Adds modality-specific attributes to image ``index``.
Decorator = Callable[[Dataset, int], None]


def series_truth(series: SeriesInfo, study: StudyInfo, count: int) -> SeriesTruth:
    """The ground-truth entry of a series of ``count`` images."""
    images = [ImageRef(series.sop_uid(study, i), series.file_name(i), i + 1) for i in range(count)]
    return SeriesTruth(
        series_instance_uid=series.uid,
        folder=series.folder,
        description=series.description,
        role=series.role,
        plane=series.plane,
        modality=series.modality,
        sop_class_uid=series.sop_class_uid,
        number_of_images=count,
        images=images,
    )


@dataclass(frozen=True)
class WrittenSeries:
    """A written series with the owner label image of every slice (for boxes)."""

    info: SeriesInfo
    truth: SeriesTruth
    planes: list[Plane]
    owners: list[OwnerImage]

    def views(
        self, structure_ids: Collection[int], central: int | None = None, minimum: int = 20
    ) -> list[View]:
        """Boxes of the union of ``structure_ids`` on every slice where it covers ``minimum`` px."""
        ids = np.fromiter(structure_ids, dtype=np.uint16)
        found = []
        for index, owner in enumerate(self.owners):
            hit = box_of(np.isin(owner, ids), minimum)
            if hit is None:
                continue
            found.append(
                View(
                    series_instance_uid=self.info.uid,
                    sop_instance_uid=self.truth.images[index].sop_instance_uid,
                    slice_index=index,
                    box_px=hit[0],
                    central=index == central,
                    truncated=hit[1],
                )
            )
        return found


def write_plane_series(
    study_dir: Path,
    study: StudyInfo,
    series: SeriesInfo,
    model: SpineModel,
    planes: Sequence[Plane],
    pixels: PixelFunction,
    decorate: Decorator,
    thickness: float,
    window: tuple[float, float],
    rendered_planes: Sequence[Rendered] | None = None,
) -> WrittenSeries:
    """Render every plane, write one file per plane, return truth and owner images.

    ``rendered_planes``: the planes already rendered (series sharing planes render them once).
    """
    owners = []
    for index, plane in enumerate(planes):
        rendered = model.render(plane) if rendered_planes is None else rendered_planes[index]
        owners.append(rendered.owner)
        ds = new_dataset(study, series, index)
        set_plane(ds, study, plane, thickness)
        decorate(ds, index)
        set_pixels(ds, pixels(index, rendered), window)
        write(ds, study_dir, series.file_name(index))
    return WrittenSeries(series, series_truth(series, study, len(planes)), list(planes), owners)
