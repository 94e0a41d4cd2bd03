"""Annotations: ROI shapes, labels, provenance, undoable edits, the per-study store, exchange.

No Qt here: the GUI tools only edit these objects.
"""

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
    "Provenance",
    "RemoveAnnotations",
    "ReplaceAnnotations",
    "ReviewStatus",
    "Status",
    "StudyEntry",
    "UndoStack",
    "Vocabulary",
    "Workspace",
    "WorkspaceError",
    "accept",
    "accept_all_proposals",
    "change",
    "default_root",
    "default_vocabulary",
    "delete",
    "patient_points",
    "reject",
    "reject_all_proposals",
]
