"""Annotations: ROI shapes, labels, provenance, undoable edits, the per-study store, exchange.

No Qt here: the GUI tools only edit these objects. The DICOM SR / SEG and COCO exchange
(highdicom) is imported on first use, so opening the viewer or the command line does not pay
for it.
"""

from importlib import import_module
from typing import Any

from spineviewer.annotations.annotation import (
    FILLED,
    POINT_COUNT,
    Annotation,
    ImageRef,
    Kind,
    Provenance,
    Status,
    patient_points,
)
from spineviewer.annotations.commands import (
    AddAnnotations,
    Command,
    Compound,
    RemoveAnnotations,
    ReplaceAnnotations,
    UndoStack,
    accept,
    accept_all_proposals,
    change,
    delete,
    reject,
    reject_all_proposals,
)
from spineviewer.annotations.document import SCHEMA_VERSION, AnnotationDocument, ReviewStatus
from spineviewer.annotations.errors import AnnotationFileError, WorkspaceError
from spineviewer.annotations.frames import frame_planes, image_ref, image_refs, source_headers
from spineviewer.annotations.measure import (
    Measurement,
    RoiStats,
    angle_deg,
    area_mm2,
    cobb_deg,
    length_mm,
    measurements,
    rasterise,
    roi_stats,
)
from spineviewer.annotations.store import Autosaver, LoadResult, Workspace, default_root
from spineviewer.annotations.vocabulary import Code, Label, Vocabulary, default_vocabulary
from spineviewer.annotations.worklist import StudyEntry

__all__ = [
    "FILLED",
    "POINT_COUNT",
    "SCHEMA_VERSION",
    "AddAnnotations",
    "Annotation",
    "AnnotationDocument",
    "AnnotationFileError",
    "Autosaver",
    "Code",
    "Command",
    "Compound",
    "ImageRef",
    "Kind",
    "Label",
    "LoadResult",
    "Measurement",
    "Provenance",
    "RemoveAnnotations",
    "ReplaceAnnotations",
    "ReviewStatus",
    "RoiStats",
    "Status",
    "StudyEntry",
    "TrainingSet",
    "UndoStack",
    "Vocabulary",
    "Workspace",
    "WorkspaceError",
    "accept",
    "accept_all_proposals",
    "angle_deg",
    "area_mm2",
    "change",
    "cobb_deg",
    "default_root",
    "default_vocabulary",
    "delete",
    "export_seg",
    "export_sr",
    "export_training_set",
    "frame_planes",
    "image_ref",
    "image_refs",
    "import_seg",
    "import_sr",
    "length_mm",
    "measurements",
    "patient_points",
    "rasterise",
    "reject",
    "reject_all_proposals",
    "roi_stats",
    "source_headers",
]

#: Names of the exchange modules, loaded on first access.
_LAZY = {
    "TrainingSet": "coco",
    "export_training_set": "coco",
    "export_seg": "seg",
    "import_seg": "seg",
    "export_sr": "sr_write",
    "import_sr": "sr_read",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
