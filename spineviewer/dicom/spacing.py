"""Which pixel spacing measures lengths and areas, and what its millimetres are.

A projection radiograph (CR, DX, ...) is a shadow: its detector sees the anatomy magnified by
the diverging beam, by ``SID / SOD`` (source-to-detector over source-to-object distance), so a
length in detector millimetres is typically 10-20 % longer than in the patient. The DICOM
rules (PS3.3 10.7.1.3 "Pixel Spacing value order and valid values", C.8.11.4 DX Detector,
C.8.11.5 DX Positioning; Table 10-10 Basic Pixel Spacing Calibration Macro) decide, in this
order (:func:`choose_spacing`):

1. ``PixelSpacing`` with ``PixelSpacingCalibrationType`` GEOMETRY (from the known geometry of
   the system) or FIDUCIAL (from an object of known size): **calibrated**.
2. ``PixelSpacing`` without ``ImagerPixelSpacing`` (CT, MR, most images), or different from it
   without a calibration type (corrected by the modality, how is not said): the spacing in the
   patient, plain **mm**.
3. ``ImagerPixelSpacing`` (or a ``PixelSpacing`` equal to it: the detector spacing repeated)
   divided by ``EstimatedRadiographicMagnificationFactor``: **calibrated** (at the object's
   estimated depth).
4. ``ImagerPixelSpacing`` times ``DistanceSourceToPatient / DistanceSourceToDetector``:
   **calibrated** likewise.
5. ``ImagerPixelSpacing`` alone, or ``NominalScannedPixelSpacing`` (film scanned): the
   **detector** spacing, which makes lengths too long by the unknown magnification.

A magnification below 1 (a patient behind the detector) or a value that is not a positive
number is ignored, as if absent. Each choice keeps its kind (:class:`SpacingKind`), which gives
the unit label of every length and area: ``mm``, ``mm (detector)``, ``mm (calibrated)``
(:func:`unit_label`). Angles are the same in all three.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydicom.dataset import Dataset

Spacing = tuple[float, float]

#: PixelSpacingCalibrationType values that make PixelSpacing a calibrated spacing.
CALIBRATION_TYPES = ("GEOMETRY", "FIDUCIAL")
#: A magnification factor from the header within this range is used (beyond: ignored).
MAGNIFICATION_RANGE = (1.0, 10.0)
#: Spacings that differ by less than this (relative) are the same value written twice.
SAME_SPACING = 1e-6


class SpacingKind(StrEnum):
    """What the millimetres of a spacing measure."""

    #: In the patient, as the modality gives it (CT, MR; PixelSpacing).
    PATIENT = "patient"
    #: At the detector: a radiograph's lengths magnified by an unknown factor.
    DETECTOR = "detector"
    #: Corrected for magnification (header geometry, a fiducial, or a known length).
    CALIBRATED = "calibrated"

    @property
    def qualifier(self) -> str:
        """What follows the unit: "", " (detector)", " (calibrated)"."""
        return "" if self is SpacingKind.PATIENT else f" ({self.value})"


#: Units that a spacing scales (lengths and areas); other units never get a qualifier.
SCALED_UNITS = frozenset({"mm", "mm2"})


def unit_label(unit: str, kind: SpacingKind | str = SpacingKind.PATIENT) -> str:
    """``unit`` as shown to a reader: ``mm (detector)``, ``mm2 (calibrated)``, ``deg``.

    Only millimetres and square millimetres are qualified; pixels, degrees and pixel values
    are the same whatever the spacing.
    """
    if unit not in SCALED_UNITS:
        return unit
    return unit + SpacingKind(kind).qualifier


@dataclass(frozen=True)
class SpacingChoice:
    """The spacing chosen for measurements, where it came from and what its mm are."""

    #: (row spacing, column spacing) in mm; None when the header gives none.
    spacing: Spacing | None
    #: How it was chosen, in words ("ImagerPixelSpacing / EstimatedRadiographicMagnification
    #: Factor 1.15"); "" when there is no spacing.
    source: str
    kind: SpacingKind = SpacingKind.PATIENT

    @property
    def unit(self) -> str:
        """The length unit label: ``mm``, ``mm (detector)`` or ``mm (calibrated)``."""
        return unit_label("mm", self.kind)


def _scaled(spacing: Spacing, factor: float) -> Spacing:
    return spacing[0] * factor, spacing[1] * factor


def _same(a: Spacing, b: Spacing) -> bool:
    return all(math.isclose(x, y, rel_tol=SAME_SPACING) for x, y in zip(a, b, strict=True))


def _magnification(value: float | None) -> float | None:
    low, high = MAGNIFICATION_RANGE
    if value is None or not math.isfinite(value) or not low <= value <= high:
        return None
    return value


def choose_spacing(
    *,
    pixel_spacing: Spacing | None = None,
    calibration_type: str = "",
    imager_pixel_spacing: Spacing | None = None,
    magnification_factor: float | None = None,
    source_to_detector: float | None = None,
    source_to_patient: float | None = None,
    nominal_scanned_spacing: Spacing | None = None,
) -> SpacingChoice:
    """The spacing that measures lengths, by the rules of the module docstring.

    Spacings must already be positive and finite (None otherwise); the distances and the
    factor may be anything (unusable ones are ignored).
    """
    calibration = calibration_type.strip().upper()
    if pixel_spacing is not None and calibration in CALIBRATION_TYPES:
        return SpacingChoice(pixel_spacing, f"PixelSpacing ({calibration})", SpacingKind.CALIBRATED)
    detector = imager_pixel_spacing
    if pixel_spacing is not None:
        if detector is None or not _same(pixel_spacing, detector):
            return SpacingChoice(pixel_spacing, "PixelSpacing")
        detector = pixel_spacing  # the detector spacing written twice: not a correction
    if detector is None:
        if nominal_scanned_spacing is not None:
            return SpacingChoice(
                nominal_scanned_spacing, "NominalScannedPixelSpacing", SpacingKind.DETECTOR
            )
        return SpacingChoice(None, "")
    factor = _magnification(magnification_factor)
    if factor is not None:
        return SpacingChoice(
            _scaled(detector, 1.0 / factor),
            f"ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor {factor:g}",
            SpacingKind.CALIBRATED,
        )
    if source_to_detector and source_to_patient:
        factor = _magnification(source_to_detector / source_to_patient)
        if factor is not None:
            return SpacingChoice(
                _scaled(detector, 1.0 / factor),
                f"ImagerPixelSpacing x DistanceSourceToPatient {source_to_patient:g} / "
                f"DistanceSourceToDetector {source_to_detector:g}",
                SpacingKind.CALIBRATED,
            )
    return SpacingChoice(detector, "ImagerPixelSpacing", SpacingKind.DETECTOR)


# -- from a pydicom data set --------------------------------------------------------------------


def _numbers(value: Any) -> tuple[float, ...] | None:
    if value is None or value == "":
        return None
    items: Sequence[Any] = (
        value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    )
    try:
        numbers = tuple(float(v) for v in items)
    except (TypeError, ValueError, OverflowError):
        return None
    return numbers if all(math.isfinite(v) for v in numbers) else None


def positive_pair(value: Any) -> Spacing | None:
    """Two positive finite numbers (a spacing), else None."""
    numbers = _numbers(value)
    if numbers is None or len(numbers) != 2 or not all(v > 0 for v in numbers):
        return None
    return numbers[0], numbers[1]


def one_number(value: Any) -> float | None:
    """One finite number, else None."""
    numbers = _numbers(value)
    return numbers[0] if numbers is not None and len(numbers) == 1 else None


#: The header attributes :func:`choose_spacing` reads besides PixelSpacing.
RADIOGRAPH_KEYWORDS = (
    "PixelSpacingCalibrationType",
    "ImagerPixelSpacing",
    "EstimatedRadiographicMagnificationFactor",
    "DistanceSourceToDetector",
    "DistanceSourceToPatient",
    "NominalScannedPixelSpacing",
)


def radiograph_spacing_arguments(get: Any) -> dict[str, Any]:
    """:func:`choose_spacing`'s arguments but ``pixel_spacing``, read with ``get(keyword)``
    (a header reader that returns the raw value or None)."""
    return {
        "calibration_type": str(get("PixelSpacingCalibrationType") or ""),
        "imager_pixel_spacing": positive_pair(get("ImagerPixelSpacing")),
        "magnification_factor": one_number(get("EstimatedRadiographicMagnificationFactor")),
        "source_to_detector": one_number(get("DistanceSourceToDetector")),
        "source_to_patient": one_number(get("DistanceSourceToPatient")),
        "nominal_scanned_spacing": positive_pair(get("NominalScannedPixelSpacing")),
    }


def spacing_of_dataset(ds: Dataset) -> SpacingChoice:
    """The measuring spacing of an image header (its top level, or the shared functional
    groups' Pixel Measures of an enhanced multi-frame image)."""
    pixel = positive_pair(ds.get("PixelSpacing"))
    if pixel is None:
        shared = ds.get("SharedFunctionalGroupsSequence")
        measures = shared[0].get("PixelMeasuresSequence") if shared else None
        if measures:
            pixel = positive_pair(measures[0].get("PixelSpacing"))
    return choose_spacing(pixel_spacing=pixel, **radiograph_spacing_arguments(ds.get))
