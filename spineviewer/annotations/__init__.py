"""Annotations: ROI shapes, labels, provenance, undoable edits, the per-study store, exchange.

No Qt here: the GUI tools only edit these objects.
"""

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
from spineviewer.annotations.vocabulary import Code, Label, Vocabulary, default_vocabulary

__all__ = [
    "FILLED",
    "POINT_COUNT",
    "Annotation",
    "Code",
    "ImageRef",
    "Kind",
    "Label",
    "Provenance",
    "Status",
    "Vocabulary",
    "default_vocabulary",
    "patient_points",
]
