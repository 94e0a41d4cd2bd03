"""The four blocks of corner text a radiologist expects on every image (IHE BIR), without Qt.

The image number ("Im") follows one rule, the Annotations panel's too (:func:`image_number`,
:func:`image_line`): an acquired image is named by its DICOM InstanceNumber (and its frame of a
multi-frame image), the number a report, a PACS and the technologist's console use; its place
in the viewport's scroll order ("43/82", from the first slice shown) follows in brackets when
it differs, since stacks are ordered along the patient (a CT numbered from the head scrolls
from the feet). A reformat, or an image without an InstanceNumber, has only its place.

A projection radiograph's corner also says what its lengths are in (:func:`length_unit`):
``mm (detector)`` when only the detector spacing is known (lengths magnified by the beam),
``mm (calibrated)`` when the header or a known-length calibration of the series corrects it.
CT and MR corners do not have that line.

A study compared with its prior says which one a pane shows (:data:`ROLE_KEY` in the
viewport's study attributes, set by the prior comparison): ``Prior 2023-01-08`` and
``Current 2024-01-08`` instead of ``Study ...`` (as short, so a narrow pane shows the whole
date), and ``Prior`` even in PHI-free mode (the date is hidden there, the role is not), so
the two are never confused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from spineviewer.dicom import Frame, Window
from spineviewer.dicom.spacing import SpacingKind, unit_label
from spineviewer.dicom.study_tree import PROJECTION_MODALITIES
from spineviewer.viewing.source import SliceInfo

#: Study attributes hidden in PHI-free mode.
PHI_KEYS = ("PatientName", "PatientID", "PatientBirthDate", "StudyDate", "InstitutionName")
#: The key of a viewport's study attributes naming its study's role in a comparison
#: (``Prior``, ``Current``); no DICOM keyword.
ROLE_KEY = "spineviewer:role"


@dataclass(frozen=True)
class CursorSample:
    """What lies under the mouse: pixel (row, col), stored and rescaled value, patient mm."""

    row: int
    col: int
    stored: float | None
    value: float | None
    patient: tuple[float, float, float] | None


@dataclass(frozen=True)
class CornerText:
    """Lines of text for each corner of a viewport."""

    top_left: tuple[str, ...]
    top_right: tuple[str, ...]
    bottom_left: tuple[str, ...]
    bottom_right: tuple[str, ...]


def _date(value: str) -> str:
    return (
        f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value
    )


def _number(value: float) -> str:
    """Whole numbers as such, large values rounded, small ones to two decimals."""
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}"


def value_unit(modality: str) -> str:
    """Unit of rescaled values: HU for CT, none otherwise."""
    return " HU" if modality == "CT" else ""


def stored_value(value: float, info: SliceInfo) -> float:
    """Invert the rescale: the value as stored in the file."""
    slope = info.rescale_slope or 1.0
    return (value - info.rescale_intercept) / slope


def sample_cursor(
    values: np.ndarray, info: SliceInfo, row: float, col: float
) -> CursorSample | None:
    """The pixel under image position (row, col), or None outside the image."""
    r, c = int(np.floor(row + 0.5)), int(np.floor(col + 0.5))
    if not (0 <= r < values.shape[0] and 0 <= c < values.shape[1]):
        return None
    raw = values[r, c]
    value = float(raw) if np.ndim(raw) == 0 else None
    patient = None
    if info.plane is not None:
        p = info.plane.to_patient(row, col)
        patient = (float(p[0]), float(p[1]), float(p[2]))
    stored = stored_value(value, info) if value is not None else None
    return CursorSample(r, c, stored, value, patient)


def length_unit(modality: str, info: SliceInfo, calibrated: bool = False) -> str:
    """The unit a reader reads the image's lengths in: ``mm (calibrated)`` when its series has
    a known-length calibration (``calibrated``), else ``px`` without a spacing, ``mm``; on a
    projection radiograph the header's kind: ``mm (detector)`` or ``mm (calibrated)``."""
    if calibrated:
        return unit_label("mm", SpacingKind.CALIBRATED)
    if info.pixel_spacing is None:
        return "px"
    if modality.upper() in PROJECTION_MODALITIES and info.frame is not None:
        return info.frame.spacing_unit
    return "mm"


def image_number(number: int, frame_number: int = 1) -> str:
    """ "Im 40", or "Im 3 / Fr 2" for the second frame of a multi-frame image: an acquired
    image's DICOM InstanceNumber as the corner text and the Annotations panel show it."""
    frame = f" / Fr {frame_number}" if frame_number > 1 else ""
    return f"Im {number}{frame}"


def image_line(frame: Frame | None, index: int, count: int) -> str:
    """The corner's image number of slice ``index`` of ``count`` (see the module docstring):
    "Im 40 (43/82)" for an acquired image numbered apart from its place, "Im 7/13" when its
    InstanceNumber is its place, "Im 124/256" for a reformat or an image without one."""
    place = f"{index + 1}/{count}"
    number = frame.instance.instance_number if frame is not None else None
    if frame is None or number is None:
        return f"Im {place}"
    named = image_number(number, frame.index + 1)
    return f"Im {place}" if named == f"Im {index + 1}" else f"{named} ({place})"


def corner_text(
    study: Mapping[str, str],
    series_name: str,
    modality: str,
    index: int,
    count: int,
    info: SliceInfo,
    window: Window | None,
    zoom: float,
    cursor: CursorSample | None = None,
    phi_free: bool = False,
    extra: tuple[str, ...] = (),
    calibrated: bool = False,
) -> CornerText:
    """Corner text for one viewport; ``phi_free`` leaves out everything that names the patient;
    a projection radiograph's bottom right says its lengths' unit (``calibrated``: its series
    has a known-length calibration); a compared study says its role (:data:`ROLE_KEY`)."""
    role = study.get(ROLE_KEY, "")
    if phi_free:
        top_left: tuple[str, ...] = ("PHI hidden", *([role] if role else []))
    else:
        name = study.get("PatientName", "").replace("^", " ").strip() or "(no name)"
        which = role or "Study"
        top_left = (
            name,
            f"ID {study.get('PatientID', '') or '-'}",
            f"{which} {_date(study.get('StudyDate', '')) or '-'}",
        )
        if study.get("InstitutionName"):
            top_left += (study["InstitutionName"],)
    top_right = (series_name, f"{modality}  {image_line(info.frame, index, count)}", *extra)
    bottom_left: list[str] = []
    if info.position_mm is not None:
        bottom_left.append(f"Pos {info.position_mm:.1f} mm")
    if info.frame is not None and info.frame.slice_thickness:
        bottom_left.append(f"Thk {info.frame.slice_thickness:.1f} mm")
    if cursor is not None:
        unit = value_unit(modality)
        if cursor.value is not None and cursor.stored is not None:
            bottom_left.append(
                f"Val {_number(cursor.value)}{unit} (stored {_number(cursor.stored)})"
                f"  [{cursor.col}, {cursor.row}]"
            )
        if cursor.patient is not None:
            x, y, z = cursor.patient
            bottom_left.append(f"LPS ({x:.1f}, {y:.1f}, {z:.1f}) mm")
    bottom_right = []
    if window is not None:
        bottom_right.append(f"W {_number(window.width)} L {_number(window.center)}")
    bottom_right.append(f"Zoom {zoom:.2f}x")
    if info.pixel_spacing is None:
        bottom_right.append("Pixel spacing unknown")
    unit = length_unit(modality, info, calibrated)
    if modality.upper() in PROJECTION_MODALITIES and unit != "px":
        bottom_right.append(f"Lengths in {unit}")
    return CornerText(top_left, top_right, tuple(bottom_left), tuple(bottom_right))
