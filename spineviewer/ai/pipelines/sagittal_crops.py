"""Crops of structures on the usable sagittal slices: every slice within a distance of a
structure's centre gives one crop of the model's ``roi_mm`` around the centre projected into
that slice; a structure's probabilities are the mean over its crops (the fracture model reads
vertebral bodies this way, the sagittal disc-state model discs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from spineviewer.ai.pipelines.base import monochrome1
from spineviewer.ai.preprocessing import roi_crop
from spineviewer.ai.runtime import ModelSession
from spineviewer.ai.usable import UsableSlices

__all__ = ["Classified", "classify_near"]


@dataclass(frozen=True)
class Classified:
    """One structure: its mean class probabilities and the SOP Instance UIDs of its crops."""

    probabilities: np.ndarray
    instances: tuple[str, ...]


def classify_near(
    session: ModelSession,
    usable: UsableSlices,
    centres: Mapping[str, np.ndarray],
    max_distance_mm: float,
    check: Callable[[], None] = lambda: None,
) -> dict[str, Classified]:
    """Per structure with at least one slice within ``max_distance_mm`` of its centre (patient
    mm), the mean probabilities of its crops (all structures in one batch); ``check`` runs
    between structures (it raises to cancel)."""
    stack = usable.stack
    spacing = stack.pixel_spacing
    if spacing is None:
        return {}
    mono1 = monochrome1(stack)
    crops: list[np.ndarray] = []
    rows: dict[str, tuple[slice, tuple[str, ...]]] = {}
    for name, centre_mm in centres.items():
        check()
        centre = np.asarray(centre_mm, dtype=np.float64)
        start = len(crops)
        uids = []
        for index, values, plane in zip(usable.indices, usable.values, usable.planes, strict=True):
            if abs(float(plane.distance(centre))) > max_distance_mm:
                continue
            row, col = (float(v) for v in plane.to_pixel(centre))
            crops.append(roi_crop(session.manifest, values, (row, col), spacing, mono1))
            uids.append(stack.frames[index].instance.sop_instance_uid)
        if len(crops) > start:
            rows[name] = (slice(start, len(crops)), tuple(uids))
    if not crops:
        return {}
    every = session.classify(np.stack(crops))
    return {name: Classified(every[part].mean(axis=0), uids) for name, (part, uids) in rows.items()}
