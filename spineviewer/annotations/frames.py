"""Which image frames annotations live on: ImageRefs, planes and source headers of stacks."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pydicom
from pydicom.dataset import Dataset

from spineviewer.annotations.annotation import ImageRef
from spineviewer.dicom import Stack
from spineviewer.geometry import Plane


def source_headers(
    stacks: Iterable[Stack], only: Collection[str] | None = None
) -> dict[str, Dataset]:
    """Header (no pixel data) of every instance of ``stacks``, by SOP Instance UID.

    ``only`` limits the reading to those SOP Instance UIDs (e.g. the annotated images).
    """
    out: dict[str, Dataset] = {}
    for stack in stacks:
        for frame in stack.frames:
            instance = frame.instance
            uid = instance.sop_instance_uid
            if uid in out or (only is not None and uid not in only):
                continue
            with instance.ref.open() as fh:
                out[instance.sop_instance_uid] = pydicom.dcmread(fh, stop_before_pixels=True)
    return out


#: (SOP Instance UID, 1-based frame number) of one image frame.
FrameKey = tuple[str, int]


def image_ref(stack: Stack, index: int) -> ImageRef:
    """The ImageRef of frame ``index`` of a stack."""
    return ImageRef.of_frame(stack.frames[index])


def image_refs(stacks: Iterable[Stack]) -> dict[FrameKey, ImageRef]:
    """ImageRef of every frame of ``stacks`` by (SOP Instance UID, frame number)."""
    refs = (image_ref(st, i) for st in stacks for i in range(len(st)))
    return {(r.sop_instance_uid, r.frame_number): r for r in refs}


def frame_planes(stacks: Iterable[Stack]) -> dict[FrameKey, Plane]:
    """Patient plane of every frame of ``stacks`` that has one (not radiographs)."""
    out: dict[FrameKey, Plane] = {}
    for st in stacks:
        for i, frame in enumerate(st.frames):
            plane = st.plane_of(i)
            if plane is not None:
                out[(frame.instance.sop_instance_uid, frame.index + 1)] = plane
    return out
