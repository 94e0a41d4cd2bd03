"""Annotations: ROI shapes, labels, provenance, undoable edits, the per-study store, exchange.

No Qt here: the GUI tools only edit these objects.
"""

from spineviewer.annotations.coco import TrainingSet, export_training_set
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
from spineviewer.annotations.model import (
    FILLED,
    POINT_COUNT,
    Annotation,
    ImageRef,
    Kind,
    Provenance,
    Status,
    patient_points,
)
from spineviewer.annotations.seg import export_seg, import_seg
from spineviewer.annotations.sr import export_sr, import_sr
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
