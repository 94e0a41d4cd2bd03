"""Annotations as anonymised outputs may show them: no person's name, no free text.

An annotation document names people (its author, each human mark's author: the OS user
name or whatever the reader typed, often the same as the images' OperatorsName) and may
hold free text a reader typed (an arrow's note, a comment, a label that is no vocabulary
term: "see Dr Smith's note", "Mr Jones, L4"). Anonymised outputs (reports, the DICOM SR,
key images) are built from :func:`deidentified_document`'s copy:

- a series' known-length calibration is kept (its lengths stay what the reader calibrated)
  without its author;
- the document's author, every human mark's author, the patient's name and ID, the study
  date and description and the source paths are left out (a model's proposals keep the
  model's id: it names software, not a person);
- an annotation's note and a label or disc state that is not a vocabulary term (nor a level
  name such as ``"L6"`` or ``"T12-L1"``) become :data:`REMOVED`, unless ``keep_text`` (the
  user's ``--keep-annotation-text``) keeps them verbatim;
- the reader's impression (:mod:`.impression`) is kept without its author, its text
  :data:`REMOVED` unless ``keep_text`` (a conclusion may name a person: "as Dr Smith said").

The workspace document itself is never changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from spineviewer.annotations.annotation import Annotation
from spineviewer.annotations.document import AnnotationDocument
from spineviewer.annotations.level_names import disc_parts, is_level
from spineviewer.annotations.vocabulary import Vocabulary, default_vocabulary

__all__ = ["REMOVED", "deidentified_annotation", "deidentified_document", "is_term"]

#: What free text becomes in an anonymised output.
REMOVED = "[removed]"


def is_term(label: str, vocabulary: Vocabulary | None = None) -> bool:
    """True for "" and for a label that names no one: a vocabulary key, a vertebra level or a
    disc between two levels."""
    if not label:
        return True
    vocabulary = vocabulary or default_vocabulary()
    return vocabulary.get(label) is not None or is_level(label) or disc_parts(label) is not None


def deidentified_annotation(
    annotation: Annotation, keep_text: bool = False, vocabulary: Vocabulary | None = None
) -> Annotation:
    """``annotation`` without its human author and (unless ``keep_text``) its free text."""
    vocabulary = vocabulary or default_vocabulary()
    changes: dict[str, Any] = {}
    provenance = annotation.provenance
    if not provenance.is_model and provenance.author:
        changes["provenance"] = replace(provenance, author="")
    if not keep_text:
        if annotation.text:
            changes["text"] = REMOVED
        if not is_term(annotation.label, vocabulary):
            changes["label"] = REMOVED
        state = annotation.state
        if state and vocabulary.state(state) is None:
            changes["state"] = REMOVED
    return replace(annotation, **changes) if changes else annotation


def deidentified_document(
    document: AnnotationDocument, keep_text: bool = False, vocabulary: Vocabulary | None = None
) -> AnnotationDocument:
    """A copy of ``document`` for anonymised outputs (see the module notes); ``document`` is
    not changed."""
    vocabulary = vocabulary or default_vocabulary()
    return AnnotationDocument(
        document.study_uid,
        author="",
        review_status=document.review_status,
        annotations=[deidentified_annotation(a, keep_text, vocabulary) for a in document],
        calibrations=[replace(c, author="") for c in document.calibrations.values()],
        impression=(
            replace(
                document.impression,
                author="",
                text=document.impression.text if keep_text else REMOVED,
            )
            if document.impression is not None
            else None
        ),
    )
