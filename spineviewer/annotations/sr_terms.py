"""The coded concepts of the annotation exchange (SR, SEG, GSPS, KOS): SpineViewer's private
``99SPV`` scheme, the shape / review / AI-review / disc-state / spacing codes, the vocabulary's
label and category codes, and the identifiers (tracking UIDs, model device UIDs) derived from
annotation uids and model names.

The document structure is described in :mod:`.sr`.
"""

from __future__ import annotations

import hashlib
import re

from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code as PydicomCode

from spineviewer import __version__
from spineviewer.annotations.annotation import REVIEW_NEEDS, Status
from spineviewer.annotations.shapes import SHAPES, Kind
from spineviewer.annotations.vocabulary import Code, Label, Vocabulary
from spineviewer.dicom.spacing import SpacingKind

#: SpineViewer's private coding scheme (declared in every file that uses it).
SPV_SCHEME = "99SPV"
MANUFACTURER = "SpineViewer"
#: What SR, SEG, KOS and GSPS written here give as SoftwareVersions (the report's signature too).
SOFTWARE_VERSION = __version__

#: Finding category of each vocabulary category (CID 7150 where it fits).
CATEGORY_CODES: dict[str, PydicomCode] = {
    "vertebra": codes.cid7150.AnatomicalStructure,
    "disc": codes.cid7150.AnatomicalStructure,
    "implant": codes.cid7150.PhysicalObject,
    "fracture": codes.cid7150.MorphologicallyAbnormalStructure,
    "text": codes.cid7150.SpatialAndRelationalConcept,
}
#: Categories whose label code also names the finding site.
ANATOMY = frozenset({"vertebra", "disc"})


def spv_code(value: str, meaning: str) -> CodedConcept:
    """A concept of SpineViewer's private scheme ``99SPV``."""
    return CodedConcept(value, SPV_SCHEME, meaning)


SHAPE = spv_code("SPV-SHAPE", "Annotation shape")
SHAPE_CODES: dict[Kind, CodedConcept] = {
    kind: spv_code(f"SPV-SHAPE-{kind.value.upper()}", f"{kind.value.capitalize()} annotation")
    for kind in SHAPES
}
REVIEW = spv_code("SPV-REVIEW", "Review status")
STATUS_CODES: dict[Status, CodedConcept] = {
    status: spv_code(f"SPV-REVIEW-{status.value.upper()}", status.value.capitalize())
    for status in Status
}
AI_REVIEW = spv_code("SPV-AI-REVIEW", "AI review need")
AI_REVIEW_CODES: dict[str, CodedConcept] = {
    need: spv_code(f"SPV-AI-REVIEW-{code}", need.capitalize())
    for need, code in zip(REVIEW_NEEDS, ("CONFIDENT", "UNCERTAIN", "NEEDED"), strict=True)
}
DISC_STATE = CodedConcept("116676008", "SCT", "Associated morphology")
UNLABELLED = spv_code("SPV-UNLABELLED", "Unlabelled region")
SCORE = CodedConcept("246262008", "SCT", "Score")
#: The Measurement Method of a length or area that is not in the patient's plain mm.
SPACING_METHODS: dict[SpacingKind, CodedConcept] = {
    SpacingKind.DETECTOR: spv_code(
        "SPV-SPACING-DETECTOR", "mm (detector): spacing not corrected for magnification"
    ),
    SpacingKind.CALIBRATED: spv_code(
        "SPV-SPACING-CALIBRATED", "mm (calibrated): spacing calibrated in the object plane"
    ),
}
PERSON = codes.cid270.Person
DEVICE = codes.cid270.Device


# -- codes of labels ----------------------------------------------------------------------------


def coded(code: Code) -> CodedConcept:
    """A vocabulary code as a highdicom concept."""
    return CodedConcept(code.value, code.scheme, code.meaning[:64])


def label_code(label: Label | None) -> CodedConcept:
    """The code of a label; a ``99SPV`` code made from the key when it has none."""
    if label is None:
        return UNLABELLED
    if label.code is not None:
        return coded(label.code)
    return spv_code(f"SPV-LABEL-{label.key.upper()}", label.meaning)


def category_code(label: Label | None) -> PydicomCode:
    """Finding / segmented property category of a label."""
    return CATEGORY_CODES.get(label.category if label else "", codes.cid7150.PhysicalObject)


def find_label(vocabulary: Vocabulary, code: CodedConcept | None, hint: str = "") -> str:
    """Vocabulary key of a code ("" when unknown); ``hint`` picks between keys sharing it."""
    if code is None or code == UNLABELLED:
        return ""
    keys = [
        lb.key
        for lb in vocabulary.labels
        if label_code(lb).value == code.value
        and label_code(lb).scheme_designator == code.scheme_designator
    ]
    if hint in keys:
        return hint
    return keys[0] if keys else ""


def coding_scheme_item(vocabulary: Vocabulary) -> Dataset:
    """Coding Scheme Identification item declaring ``99SPV``."""
    item = Dataset()
    item.CodingSchemeDesignator = SPV_SCHEME
    item.CodingSchemeName = vocabulary.schemes.get(SPV_SCHEME, "SpineViewer local codes")[:64]
    item.CodingSchemeResponsibleOrganization = "SpineViewer developers"
    return item


def uid_from_text(*parts: str) -> str:
    """A stable ``2.25`` UID derived from text (same input, same UID)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()[:16]
    return f"2.25.{int.from_bytes(digest, 'big')}"


def model_device_uid(model_id: str, version: str) -> str:
    """Device Observer UID of a model (stable for one model id and version)."""
    return uid_from_text("spineviewer-model", model_id, version)


# -- tracking ---------------------------------------------------------------------------------

_HEX_UID = re.compile(r"^[0-9a-f]{32}$")


def tracking_uid(uid: str) -> str:
    """Tracking Unique Identifier of an annotation uid."""
    if _HEX_UID.match(uid):
        return f"2.25.{int(uid, 16)}"
    return uid_from_text("spineviewer-annotation", uid)


def person_name(author: str) -> str:
    """A DICOM person name for an author: a single name becomes a family name (``"jdoe^"``)."""
    name = author.strip() or "unknown"
    return name if "^" in name else f"{name}^"
