"""Header-only reading: one parse per file gives everything needed to group, sort and decode.

A file becomes one :class:`Instance` (what is common to its frames) and one :class:`Frame` per
frame (geometry and pixel transforms, from the per-frame functional groups of enhanced
multi-frame objects where present).
"""

from __future__ import annotations

import functools
import math
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID

from spineviewer.dicom.charsets import CHARSET_VRS, decode_value
from spineviewer.dicom.errors import (
    MALFORMED_DICOM,
    DicomLoadError,
    NotDicomError,
    one_line,
    printable,
)
from spineviewer.dicom.luts import checked_lut
from spineviewer.dicom.pixel_offsets import (
    NATIVE_LITTLE_ENDIAN,
    encapsulated_offset,
    headerless_dicom,
    locate_pixel_data,
    pixel_data_follows,
)
from spineviewer.dicom.sources import FileRef
from spineviewer.dicom.spacing import (
    SpacingKind,
    choose_spacing,
    radiograph_spacing_arguments,
    unit_label,
)

#: Largest frame we agree to decode (Rows x Columns x samples x bytes), bytes.
MAX_FRAME_BYTES = 1024**3
#: The reason given for a file without any pixel data element.
NO_PIXEL_DATA = "no Pixel Data element: the file holds no image"
#: Row and column cosines whose dot product exceeds this are not perpendicular (the check of
#: :class:`~spineviewer.geometry.Plane`).
ORTHOGONAL_TOLERANCE = 1e-3
#: Longest raw value quoted in a geometry problem.
MAX_SHOWN = 40


@dataclass(frozen=True)
class Instance:
    """What one file holds in common for all its frames."""

    ref: FileRef
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    modality: str
    series_number: int | None
    series_description: str
    instance_number: int | None
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    number_of_frames: int
    study: dict[str, str] = field(compare=False, repr=False)
    #: Byte offset and length of native Pixel Data in the file, when read in place is possible.
    pixel_offset: int | None = field(default=None, compare=False)
    pixel_length: int | None = field(default=None, compare=False)
    #: Modality LUT Sequence / VOI LUT Sequence datasets (rare; kept for the decoder).
    modality_lut: Dataset | None = field(default=None, compare=False, repr=False)
    voi_lut: Dataset | None = field(default=None, compare=False, repr=False)
    #: ViewPosition (0018,5101) of a radiograph: "AP", "PA", "LL", ... ("" when absent).
    view_position: str = field(default="", compare=False)
    #: False when the file has no Pixel Data element at all (its frames cannot be shown; the
    #: scan keeps them so that the stack stays whole and the file is named where it is used).
    has_pixel_data: bool = field(default=True, compare=False)
    #: Byte offset of encapsulated (compressed) Pixel Data's first item, for reading one
    #: frame's compressed bytes without parsing the header again.
    encapsulated_offset: int | None = field(default=None, compare=False)
    #: How an MR image was acquired (:data:`ACQUISITION_FIELDS`, as text; "" when absent):
    #: what tells its contrast (T1, T2, STIR, PD) to the pipelines.
    acquisition: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def frame_bytes(self) -> int:
        """Bytes of one uncompressed frame."""
        return expected_frame_bytes(
            self.rows, self.columns, self.samples_per_pixel, self.bits_allocated, self.photometric
        )

    @property
    def is_native(self) -> bool:
        """True when the pixels can be read straight from the file (uncompressed, LE)."""
        return self.pixel_offset is not None and self.transfer_syntax in NATIVE_LITTLE_ENDIAN


@dataclass(frozen=True)
class Frame:
    """One image: a frame of an instance, with its geometry and pixel value transforms."""

    instance: Instance
    index: int
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None
    rescale_slope: float
    rescale_intercept: float
    window_centers: tuple[float, ...]
    window_widths: tuple[float, ...]
    voi_lut_function: str
    #: Attributes that tell apart stacks sharing one series (echo, acquisition, temporal...).
    stack_key: tuple[str, ...]
    #: How :attr:`pixel_spacing` was chosen (:func:`~spineviewer.dicom.spacing.choose_spacing`):
    #: "PixelSpacing", "PixelSpacing (GEOMETRY)", "ImagerPixelSpacing /
    #: EstimatedRadiographicMagnificationFactor 1.15", "ImagerPixelSpacing", ...
    spacing_source: str = "PixelSpacing"
    #: What the millimetres of :attr:`pixel_spacing` measure: in the patient, at a
    #: radiograph's detector (magnified), or calibrated (corrected for magnification).
    spacing_kind: SpacingKind = SpacingKind.PATIENT
    #: PatientOrientation (0020,0020): patient directions of the row and column, e.g.
    #: ("L", "F") — the only orientation a projection radiograph has.
    patient_orientation: tuple[str, str] | None = None
    #: Why a PixelSpacing, ImagePositionPatient or ImageOrientationPatient that the file does
    #: hold cannot be used (that value is None above), e.g. "PixelSpacing 0\\0 is not
    #: positive". Absent attributes are not problems (a radiograph has no position).
    geometry_problems: tuple[str, ...] = ()

    @property
    def problems(self) -> tuple[str, ...]:
        """Everything the header tells that makes this frame unusable for geometry or pixels
        (no Pixel Data; unusable spacing, position or orientation); () when it is sound."""
        if self.instance.has_pixel_data:
            return self.geometry_problems
        return (NO_PIXEL_DATA, *self.geometry_problems)

    def unusable(self, keyword: str) -> bool:
        """True when the file holds ``keyword`` (e.g. "ImageOrientationPatient") but its value
        cannot be used (see :attr:`geometry_problems`)."""
        return any(p.startswith(f"{keyword} ") for p in self.geometry_problems)

    @property
    def spacing_unit(self) -> str:
        """The unit label of this frame's lengths: ``mm``, ``mm (detector)`` or ``mm
        (calibrated)``."""
        return unit_label("mm", self.spacing_kind)

    @property
    def label(self) -> str:
        """File name, plus the frame number for multi-frame files (for messages)."""
        ref = printable(str(self.instance.ref))
        return f"{ref} frame {self.index + 1}" if self.instance.number_of_frames > 1 else ref


def _floats(value: Any, count: int, finite: bool = True) -> tuple[float, ...] | None:
    """``count`` numbers, or None (absent, unreadable, wrong count, or NaN/inf when ``finite``)."""
    if value is None:
        return None
    try:
        values = tuple(float(v) for v in (value if _is_sequence(value) else [value]))
    except (TypeError, ValueError, OverflowError):
        return None
    if finite and not all(math.isfinite(v) for v in values):
        return None
    return values if len(values) == count else None


def _is_sequence(value: Any) -> bool:
    return isinstance(value, list | tuple) or (
        hasattr(value, "__iter__") and not isinstance(value, str | bytes)
    )


def _float_list(value: Any) -> tuple[float, ...]:
    if value is None or value == "":
        return ()
    try:
        values = tuple(float(v) for v in (value if _is_sequence(value) else [value]))
    except (TypeError, ValueError, OverflowError):
        return ()
    return values if all(math.isfinite(v) for v in values) else ()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None


def _whole(ds: Dataset, keyword: str, default: int) -> int:
    """An integer attribute, ``default`` when absent or empty; DicomLoadError when not a number."""
    value = _get(ds, keyword)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise DicomLoadError(f"{keyword} {shown} is not a whole number") from None


#: String VRs of the default repertoire (ISO 646; pydicom reads them as latin-1 too).
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})
_BINARY_VRS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FD": "d", "FL": "f"}


@functools.lru_cache(maxsize=256)
def _tag_and_vr(keyword: str) -> tuple[int, str]:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(f"unknown DICOM keyword {keyword!r}")
    return tag, dictionary_VR(tag)


def _get(ds: Dataset, keyword: str, default: Any = None) -> Any:
    """``ds.get(keyword)``, decoding raw values directly (about 10x faster).

    Text values come back as ``str`` (or a list of ``str`` when multi-valued), decoded by the
    data set's Specific Character Set (PN as pydicom shows a name: ``alphabetic=ideographic=
    phonetic``); binary little-endian numbers as ``int``/``float`` (or lists); anything else
    goes through pydicom.
    """
    tag, vr = _tag_and_vr(keyword)
    elem = ds._dict.get(tag)  # type: ignore[call-overload]
    if elem is None:
        return default
    if not isinstance(elem, RawDataElement):
        return ds.get(keyword, default)
    raw = elem.value
    if raw is None:
        return default
    if vr in _TEXT_VRS:
        text = raw.decode("latin-1").strip("\x00 ")
        if not text:
            return ""
        parts = [p.strip() for p in text.split("\\")]
        return parts if len(parts) > 1 else parts[0]
    if vr in CHARSET_VRS:
        if elem.VR not in (None, vr):  # stored as UN, or as a VR pydicom must judge
            return ds.get(keyword, default)
        return decode_value(ds, raw, vr)
    code = _BINARY_VRS.get(vr)
    if code is not None and ds.original_encoding[1]:
        count = len(raw) // struct.calcsize(code)
        values = struct.unpack(f"<{count}{code}", raw[: count * struct.calcsize(code)])
        return values[0] if count == 1 else list(values)
    return ds.get(keyword, default)


def text_value(ds: Dataset, keyword: str) -> str:
    """Attribute ``keyword`` of ``ds`` as one line of text ("" when absent): decoded by the
    data set's character set, several values joined by a backslash."""
    value = _get(ds, keyword)
    if isinstance(value, list | MultiValue):
        return "\\".join(str(v).strip() for v in value)
    return "" if value is None else str(value).strip()


def _items(ds: Dataset | None, keyword: str) -> list[Dataset]:
    """The items of sequence ``keyword`` ([] when absent or not a sequence)."""
    seq = _get(ds, keyword) if ds is not None else None
    return list(seq) if isinstance(seq, Sequence) else []


def _item(ds: Dataset | None, keyword: str) -> Dataset | None:
    items = _items(ds, keyword)
    return items[0] if items else None


def _group_value(groups: list[Dataset | None], sequence: str, keyword: str) -> Any:
    """First value of ``keyword`` inside ``sequence`` of the per-frame, then shared group."""
    for group in groups:
        item = _item(group, sequence)
        if item is not None and keyword in item:
            return item.get(keyword)
    return None


def read_instance_frames(ref: FileRef) -> list[Frame]:
    """Parse one file's header (no pixel data) into its frames.

    Raises
    ------
    DicomLoadError
        When the file is not DICOM, is not an image, or its pixel data cannot be right.
    """
    try:
        with ref.open() as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(fh, stop_before_pixels=True, force=headerless_dicom(fh))
            has_pixels = pixel_data_follows(fh, ds)
            encapsulated = encapsulated_offset(fh, ds)
            offset, length = locate_pixel_data(fh, ds)
            file_size = fh.seek(0, 2)
            # values are decoded lazily: a malformed one fails here, inside the handlers below
            try:
                return frames_from_dataset(
                    ds, ref, offset, length, file_size, has_pixels, encapsulated
                )
            except DicomLoadError as exc:  # the header was read: say whose study lost it
                exc.study_uid = _study_uid(ds)
                raise
    except InvalidDicomError as exc:
        raise NotDicomError(
            "not a DICOM file (no 'DICM' marker at byte 128 and no DICOM data set at the start)"
        ) from exc
    except MALFORMED_DICOM as exc:
        raise DicomLoadError(f"unreadable DICOM header: {one_line(exc)}") from exc


def _study_uid(ds: Dataset) -> str:
    """The StudyInstanceUID (or its stand-in) of a header, "" when even that fails."""
    try:
        return str(_get(ds, "StudyInstanceUID", "")) or derived_uid(ds, _STUDY_KEY)
    except MALFORMED_DICOM:
        return ""


def frames_from_dataset(
    ds: Dataset,
    ref: FileRef,
    pixel_offset: int | None = None,
    pixel_length: int | None = None,
    file_size: int | None = None,
    has_pixel_data: bool = True,
    encapsulated_offset: int | None = None,
) -> list[Frame]:
    """Build the frames of a parsed header; checks that pixel data can be right."""
    if "Rows" not in ds or "Columns" not in ds:
        sop = UID(text_value(ds, "SOPClassUID"))
        if not sop:
            kind = "unknown SOP class"
        else:  # a garbled UID is quoted, so that the reason stays on one line
            kind = sop.name if sop.is_valid else f"SOP class {str(sop)!r}"
        raise DicomLoadError(f"not an image ({kind}: no Rows/Columns)")
    syntax = (
        str(ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2"))
        if ds.file_meta
        else ("1.2.840.10008.1.2")
    )
    n_frames = _whole(ds, "NumberOfFrames", 1) or 1
    if n_frames < 0:
        raise DicomLoadError(f"NumberOfFrames {n_frames} is negative")
    rows, cols = _whole(ds, "Rows", 0), _whole(ds, "Columns", 0)
    samples = _whole(ds, "SamplesPerPixel", 1) or 1
    bits_allocated, bits_stored, signed = _bit_depth(ds)
    frame_bytes = expected_frame_bytes(
        rows, cols, samples, bits_allocated, text_value(ds, "PhotometricInterpretation")
    )
    if rows <= 0 or cols <= 0:
        raise DicomLoadError(f"image size {rows} x {cols} is empty")
    if frame_bytes > MAX_FRAME_BYTES or frame_bytes * n_frames > 16 * MAX_FRAME_BYTES:
        raise DicomLoadError(
            f"image size {rows} x {cols} x {n_frames} frame(s) claims "
            f"{frame_bytes * n_frames / 1024**3:.1f} GiB of pixels; refusing to decode"
        )
    if pixel_length is not None and pixel_offset is not None:
        expected = frame_bytes * n_frames
        available = min(pixel_length, (file_size or 0) - pixel_offset)
        if available < expected:
            raise DicomLoadError(
                f"truncated pixel data: {available} bytes present, {expected} expected for "
                f"{rows} x {cols} x {n_frames} frame(s) at {bits_allocated} bits"
            )
    instance = Instance(
        ref=ref,
        sop_class_uid=str(_get(ds, "SOPClassUID", "")),
        sop_instance_uid=str(_get(ds, "SOPInstanceUID", "")) or str(ref),
        transfer_syntax=syntax,
        study_uid=str(_get(ds, "StudyInstanceUID", "")) or derived_uid(ds, _STUDY_KEY),
        series_uid=str(_get(ds, "SeriesInstanceUID", "")) or derived_uid(ds, _SERIES_KEY),
        frame_of_reference_uid=str(_get(ds, "FrameOfReferenceUID", "")),
        modality=text_value(ds, "Modality") or "OT",
        series_number=_int_or_none(_get(ds, "SeriesNumber")),
        series_description=text_value(ds, "SeriesDescription"),
        instance_number=_int_or_none(_get(ds, "InstanceNumber")),
        rows=rows,
        columns=cols,
        samples_per_pixel=samples,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=signed,
        photometric=text_value(ds, "PhotometricInterpretation") or "MONOCHROME2",
        number_of_frames=n_frames,
        study=_study_info(ds),
        pixel_offset=pixel_offset,
        pixel_length=pixel_length,
        modality_lut=_modality_lut(ds),
        voi_lut=_voi_lut(ds),
        view_position=text_value(ds, "ViewPosition").upper(),
        has_pixel_data=has_pixel_data,
        encapsulated_offset=encapsulated_offset,
        acquisition=_acquisition_info(ds),
    )
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    per_frame = _items(ds, "PerFrameFunctionalGroupsSequence")
    return [
        _frame(ds, instance, i, [per_frame[i] if i < len(per_frame) else None, shared])
        for i in range(n_frames)
    ]


def _bit_depth(ds: Dataset) -> tuple[int, int, int]:
    """(BitsAllocated, BitsStored, PixelRepresentation), checked against each other."""
    allocated = _whole(ds, "BitsAllocated", 16) or 16
    if allocated != 1 and (allocated % 8 or allocated > 64):
        raise DicomLoadError(f"BitsAllocated {allocated} is not 1 or a multiple of 8 up to 64")
    stored = _whole(ds, "BitsStored", allocated) or allocated
    if stored > allocated:
        raise DicomLoadError(f"BitsStored {stored} is more than BitsAllocated {allocated}")
    signed = _whole(ds, "PixelRepresentation", 0)
    if signed not in (0, 1):
        raise DicomLoadError(f"PixelRepresentation {signed} is not 0 (unsigned) or 1 (signed)")
    return allocated, stored, signed


def _little_endian(ds: Dataset) -> bool:
    return ds.original_encoding[1] is not False


def _modality_lut(ds: Dataset) -> Dataset | None:
    """The Modality LUT item, read now; a broken one refuses the file (values would be wrong)."""
    item = _item(ds, "ModalityLUTSequence")
    return checked_lut(item, "ModalityLUTSequence", _little_endian(ds)) if item else None


def _voi_lut(ds: Dataset) -> Dataset | None:
    """The VOI LUT item, read now; a broken one is left out (the window is used instead)."""
    item = _item(ds, "VOILUTSequence")
    try:
        return checked_lut(item, "VOILUTSequence", _little_endian(ds)) if item else None
    except DicomLoadError:
        return None


#: Attributes that stand in for a missing StudyInstanceUID / SeriesInstanceUID.
_STUDY_KEY = ("PatientID", "PatientName", "StudyDate", "StudyTime", "AccessionNumber", "StudyID")
_SERIES_KEY = (
    *_STUDY_KEY,
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "SeriesDate",
    "SeriesTime",
    "FrameOfReferenceUID",
)
#: Prefix of the stand-in UIDs, so the grouping can warn about them.
DERIVED_UID_PREFIX = "derived:"


def derived_uid(ds: Dataset, keywords: tuple[str, ...]) -> str:
    """A stable stand-in for a blank UID, from the attributes that usually travel with it."""
    return DERIVED_UID_PREFIX + "|".join(text_value(ds, k) for k in keywords)


def expected_frame_bytes(rows: int, cols: int, samples: int, bits: int, photometric: str) -> int:
    """Bytes of one uncompressed frame (1-bit data packed, YBR_FULL_422 subsampled)."""
    if photometric == "YBR_FULL_422":
        return rows * cols * 2 * max(bits // 8, 1)
    return (rows * cols * samples * bits + 7) // 8


def _frame(ds: Dataset, instance: Instance, index: int, groups: list[Dataset | None]) -> Frame:
    enhanced = any(g is not None for g in groups)

    def pick(sequence: str, keyword: str) -> Any:
        value = _group_value(groups, sequence, keyword) if enhanced else None
        return value if value is not None else _get(ds, keyword)

    problems: list[str] = []

    def geometry(sequence: str, keyword: str, count: int) -> tuple[float, ...] | None:
        values, problem = _geometry_value(pick(sequence, keyword), keyword, count)
        if problem:
            problems.append(problem)
        return values

    spacing = geometry("PixelMeasuresSequence", "PixelSpacing", 2)
    position = geometry("PlanePositionSequence", "ImagePositionPatient", 3)
    orientation = geometry("PlaneOrientationSequence", "ImageOrientationPatient", 6)
    chosen = choose_spacing(
        pixel_spacing=spacing,  # type: ignore[arg-type]
        **radiograph_spacing_arguments(lambda keyword: _get(ds, keyword)),
    )
    if spacing is None and chosen.spacing is not None:  # a radiograph's spacing stands in
        problems = [p for p in problems if not p.startswith("PixelSpacing")]
    slope = _rescale(pick("PixelValueTransformationSequence", "RescaleSlope"), "RescaleSlope")
    intercept = _rescale(
        pick("PixelValueTransformationSequence", "RescaleIntercept"), "RescaleIntercept"
    )
    content = _item(groups[0], "FrameContentSequence") if groups[0] is not None else None
    stack_key = (
        str(_get(ds, "EchoNumbers", "") or ""),
        str(_get(ds, "AcquisitionNumber", "") or "") if not enhanced else "",
        str(_get(ds, "TemporalPositionIdentifier", "") or ""),
        str(content.get("StackID", "")) if content is not None else "",
        str(content.get("TemporalPositionIndex", "")) if content is not None else "",
    )
    thickness = _floats(pick("PixelMeasuresSequence", "SliceThickness"), 1)
    return Frame(
        instance=instance,
        index=index,
        position=position,  # type: ignore[arg-type]
        orientation=orientation,
        pixel_spacing=chosen.spacing,
        slice_thickness=thickness[0] if thickness else None,
        rescale_slope=slope if slope is not None and slope != 0 else 1.0,
        rescale_intercept=intercept if intercept is not None else 0.0,
        window_centers=_float_list(pick("FrameVOILUTSequence", "WindowCenter")),
        window_widths=_float_list(pick("FrameVOILUTSequence", "WindowWidth")),
        voi_lut_function=str(pick("FrameVOILUTSequence", "VOILUTFunction") or "LINEAR").upper(),
        stack_key=stack_key,
        spacing_source=chosen.source or "PixelSpacing",
        spacing_kind=chosen.kind,
        patient_orientation=_patient_orientation(_get(ds, "PatientOrientation")),
        geometry_problems=tuple(problems),
    )


def _as_list(value: Any) -> list[Any]:
    return list(value) if _is_sequence(value) else [value]


def _shown(value: Any) -> str:
    """A raw attribute value as DICOM writes it (``a\\b``), one line, at most MAX_SHOWN."""
    text = printable("\\".join(str(v) for v in _as_list(value)).strip())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _geometry_value(
    value: Any, keyword: str, count: int
) -> tuple[tuple[float, ...] | None, str | None]:
    """(values, None) when ``keyword`` is usable; (None, None) when absent; (None, why) when
    present but unusable: not ``count`` numbers, not finite, a spacing not above 0, or an
    orientation with a zero direction or a row and column that are not perpendicular."""
    if value is None or all(str(v).strip() == "" for v in _as_list(value)):
        return None, None
    try:
        values = tuple(float(v) for v in _as_list(value))
    except (TypeError, ValueError, OverflowError):
        return None, f"{keyword} '{_shown(value)}' is not a number"
    if len(values) != count:
        return None, f"{keyword} {_shown(value)} has {len(values)} values, not {count}"
    if not all(math.isfinite(v) for v in values):
        return None, f"{keyword} {_shown(value)} is not finite"
    if keyword == "PixelSpacing" and not all(v > 0 for v in values):
        return None, f"{keyword} {_shown(value)} is not positive"
    if keyword == "ImageOrientationPatient":
        problem = _orientation_problem(values)
        if problem:
            return None, f"{keyword} {_shown(value)}: {problem}"
    return values, None


def _orientation_problem(cosines: tuple[float, ...]) -> str | None:
    """Why six direction cosines define no image plane, or None."""
    row, col = cosines[:3], cosines[3:]
    row_norm, col_norm = math.hypot(*row), math.hypot(*col)
    if row_norm < 1e-6 or col_norm < 1e-6:
        return "a direction is zero"
    dot = sum(a * b for a, b in zip(row, col, strict=True)) / (row_norm * col_norm)
    if abs(dot) > ORTHOGONAL_TOLERANCE:
        return f"row and column are not perpendicular (cosine {dot:.4f})"
    return None


def _rescale(value: Any, keyword: str) -> float | None:
    """A rescale value; None when absent or unreadable, DicomLoadError when NaN or infinite."""
    values = _floats(value, 1, finite=False)
    if values is None:
        return None
    if not math.isfinite(values[0]):
        raise DicomLoadError(f"{keyword} {values[0]} is not a finite number")
    return values[0]


def _patient_orientation(value: Any) -> tuple[str, str] | None:
    """Two direction codes made of the letters A P L R H F, or None."""
    if value is None or not _is_sequence(value) or len(value) != 2:
        return None
    codes = tuple(str(v).strip().upper() for v in value)
    if not all(c and set(c) <= set("APLRHF") for c in codes):
        return None
    return codes[0], codes[1]


_STUDY_FIELDS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "StudyID",
    "InstitutionName",
    "BodyPartExamined",
)


#: The header fields that tell an MR image's contrast (the top level of classic and enhanced
#: MR objects; an enhanced object's per-frame echo and timing groups are not read).
ACQUISITION_FIELDS = (
    "ScanningSequence",
    "SequenceVariant",
    "SequenceName",
    "EchoTime",
    "RepetitionTime",
    "InversionTime",
    "AcquisitionContrast",
    "PulseSequenceName",
)


def _acquisition_info(ds: Dataset) -> dict[str, str]:
    if text_value(ds, "Modality") != "MR":
        return {}
    return {key: value for key in ACQUISITION_FIELDS if (value := text_value(ds, key))}


def _study_info(ds: Dataset) -> dict[str, str]:
    return {key: text_value(ds, key) for key in _STUDY_FIELDS}
