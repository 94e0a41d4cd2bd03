"""Annotations as a DICOM SR Measurement Report (TID 1500), written and read back.

The coded concepts are in :mod:`.sr_terms`, the writer in :mod:`.sr_write`, the reader in
:mod:`.sr_read`; this module keeps their names in one place (``export_sr``, ``import_sr``,
``scoord``, ...). How each shape is written as SCOORD is its spec in :mod:`.shapes`.

Document
--------
One Comprehensive 3D SR per study, written with highdicom, in a new series; the source images
are only read (their headers), never written. The content tree is TID 1500 "Imaging
Measurement Report" with one TID 1410 "Planar ROI Measurements and Qualitative Evaluations"
group per annotation:

- Tracking Identifier (TEXT): ``"<label> <annotation uid>"`` (or just the uid); Tracking
  Unique Identifier (UIDREF): ``2.25.<the uid as a 128-bit integer>`` for the usual uuid hex
  uids, a UID derived from the uid otherwise.
- Image Region (SCOORD, in the source frame's pixel space, the outer corner of the first pixel
  at (0, 0), so ``x = col + 0.5``, ``y = row + 0.5``): a closed POLYLINE (the first point
  repeated; 2D SCOORD has no POLYGON type) for rectangles, polygons and freehand shapes;
  ELLIPSE (the four end points of the two axes, the longer first) for ellipses; POINT;
  POLYLINE for lines, arrows, angles (arm, vertex, arm) and Cobb angles (line 1, line 2).
- Finding category (anatomical structure / physical object / morphologically abnormal
  structure), Finding (the label's code), Finding Site (the label's code for vertebrae and
  discs).
- Measurements (TID 300, UCUM units): Length (mm), Angle (deg), Cobb angle (deg), Area (mm2)
  when the image has a pixel spacing (or its series a known-length calibration); a model's
  Score (unit 1). A length or area whose millimetres are a radiograph's detector spacing, or
  calibrated (:mod:`spineviewer.dicom.spacing`, :mod:`.calibration`), says so in its
  Measurement Method (SCT 370129005): ``99SPV`` ``SPV-SPACING-DETECTOR`` "mm (detector): ..."
  or ``SPV-SPACING-CALIBRATED`` "mm (calibrated): ...". The unit stays UCUM ``mm`` / ``mm2``.
- Qualitative evaluations: the disc state as SCT "Associated morphology"; SpineViewer's
  annotation shape and review status, and a model's review need of its proposal (confident /
  uncertain / needs review; its reasons are not kept), as ``99SPV`` codes (declared in the
  Coding Scheme Identification Sequence).
- Observer: the document's observation context lists every author (person observer) and
  every model (device observer, UID derived from model id and version); each group repeats its
  own observer (TID 1002 as HAS OBS CONTEXT), and model proposals also carry TID 4019
  Algorithm Identification (name = model id, version = model version).
- The annotation's free text as a TEXT "Comment".

Patient points are not stored: SCOORD keeps the exact image coordinates, which also work on
radiographs without a patient frame. :func:`import_sr` recomputes ``points_mm`` from the
planes the caller passes (``planes[(sop_instance_uid, frame_number)]``) and leaves it None
otherwise.
"""

from spineviewer.annotations.dicom_objects import (
    check_destination,
    first_int,
    headers_for,
    is_multiframe,
)
from spineviewer.annotations.sr_read import (
    import_sr,
    points_from_scoord,
    scoord_points,
)
from spineviewer.annotations.sr_terms import (
    AI_REVIEW,
    AI_REVIEW_CODES,
    ANATOMY,
    CATEGORY_CODES,
    DISC_STATE,
    MANUFACTURER,
    REVIEW,
    SCORE,
    SHAPE,
    SHAPE_CODES,
    SOFTWARE_VERSION,
    SPACING_METHODS,
    SPV_SCHEME,
    STATUS_CODES,
    UNLABELLED,
    category_code,
    coded,
    coding_scheme_item,
    find_label,
    label_code,
    model_device_uid,
    person_name,
    spv_code,
    tracking_uid,
    uid_from_text,
)
from spineviewer.annotations.sr_write import (
    _measurements,
    export_sr,
    measurement_scale,
    scoord,
)

__all__ = [
    "AI_REVIEW",
    "AI_REVIEW_CODES",
    "ANATOMY",
    "CATEGORY_CODES",
    "DISC_STATE",
    "MANUFACTURER",
    "REVIEW",
    "SCORE",
    "SHAPE",
    "SHAPE_CODES",
    "SOFTWARE_VERSION",
    "SPACING_METHODS",
    "SPV_SCHEME",
    "STATUS_CODES",
    "UNLABELLED",
    "_measurements",  # tests/phantom/test_xr_magnification.py reads it
    "category_code",
    "check_destination",
    "coded",
    "coding_scheme_item",
    "export_sr",
    "find_label",
    "first_int",
    "headers_for",
    "import_sr",
    "is_multiframe",
    "label_code",
    "measurement_scale",
    "model_device_uid",
    "person_name",
    "points_from_scoord",
    "scoord",
    "scoord_points",
    "spv_code",
    "tracking_uid",
    "uid_from_text",
]
