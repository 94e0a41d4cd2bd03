"""Hypothesis strategies that break real DICOM files at the data-set level: wrong values and
wrong VRs for the attributes the viewer reads, missing attributes, a transfer syntax that lies,
pixel data of the wrong size, odd LUT and functional group sequences; and DICOMDIR files whose
records name files outside the media, or are not records at all.
"""

from __future__ import annotations

import io
import struct

import pydicom
from dicom_mutants import ITEM, Mutant, source_bytes
from hypothesis import reject
from hypothesis import strategies as st
from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filewriter import write_file_meta_info
from pydicom.sequence import Sequence

#: Sources for data-set edits (one of each pixel encoding, kept small so decoding is quick).
DATASET_SOURCES = (
    "CT_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_RLE.dcm",
    "MR_small_jp2klossless.dcm",
    "emri_small.dcm",
    "liver_1frame.dcm",
    "SC_rgb.dcm",
    "rtdose.dcm",
)


# -- data-set level ------------------------------------------------------------------------------

#: Raw values (as stored in the file) for the attributes the viewer reads, many of them wrong.
_US_VALUES = st.one_of(
    st.sampled_from([0, 1, 2, 3, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 64, 255, 65535]),
    st.integers(0, 65535),
).map(lambda v: struct.pack("<H", v))
_TEXT_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "1.5",
            "nan",
            "NaN\\nan",
            "inf",
            "-inf",
            "1e308",
            "1e309",
            "abc",
            "9" * 40,
            "2147483648",
            "-2147483649",
            "1\\2\\3",
            "1\\\\",
            "\\",
            "0\\0",
            "-1\\1",
            "1\\0\\0\\1\\0\\0",
            "0\\0\\0\\0\\0\\0",
            "1\\0\\0\\0\\1\\0\\0",
            "1e308\\1e308\\1e308",
            "\x00",
        ]
    ),
    st.text(st.characters(codec="latin-1"), max_size=24),
).map(lambda s: s.encode("latin-1"))
_UID_VALUES = st.sampled_from(
    [
        "1.2.3.4",
        "",
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.2",
        "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.201",
        "not a uid",
    ]
)
_PHOTOMETRIC = st.sampled_from(
    [
        "",
        "MONOCHROME1",
        "MONOCHROME2",
        "RGB",
        "YBR_FULL",
        "YBR_FULL_422",
        "YBR_ICT",
        "PALETTE COLOR",
        "GARBAGE",
    ]
)

#: keyword -> strategy of raw value bytes (written with VR UN, read back as the real VR).
RAW_EDITS: dict[str, st.SearchStrategy[bytes]] = {
    "Rows": _US_VALUES,
    "Columns": _US_VALUES,
    "BitsAllocated": _US_VALUES,
    "BitsStored": _US_VALUES,
    "HighBit": _US_VALUES,
    "PixelRepresentation": _US_VALUES,
    "SamplesPerPixel": _US_VALUES,
    "PlanarConfiguration": _US_VALUES,
    "NumberOfFrames": _TEXT_VALUES,
    "PixelSpacing": _TEXT_VALUES,
    "ImagerPixelSpacing": _TEXT_VALUES,
    "SliceThickness": _TEXT_VALUES,
    "ImagePositionPatient": _TEXT_VALUES,
    "ImageOrientationPatient": _TEXT_VALUES,
    "RescaleSlope": _TEXT_VALUES,
    "RescaleIntercept": _TEXT_VALUES,
    "WindowCenter": _TEXT_VALUES,
    "WindowWidth": _TEXT_VALUES,
    "InstanceNumber": _TEXT_VALUES,
    "SeriesNumber": _TEXT_VALUES,
    "PatientOrientation": _TEXT_VALUES,
    "VOILUTFunction": _TEXT_VALUES,
    "PhotometricInterpretation": _PHOTOMETRIC.map(str.encode),
    "Modality": _TEXT_VALUES,
    "SeriesInstanceUID": _TEXT_VALUES,
    "StudyInstanceUID": _TEXT_VALUES,
    "SOPClassUID": _TEXT_VALUES,
    "PixelData": st.binary(max_size=64),
}
#: Attributes whose loss the viewer must survive (SOP Instance UID... up to the pixel data).
REMOVABLE = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "PixelData",
    "SOPInstanceUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "Modality",
)
#: A value of another VR for the attributes the viewer reads.
_WRONG_VR = st.sampled_from(
    [
        ("LO", "abc"),
        ("CS", "1\\2"),
        ("UT", "x" * 300),
        ("SQ", []),
        ("SQ", "item"),
        ("FD", [float("nan"), 1.0]),
        ("UL", 4294967295),
        ("SL", -1),
        ("OB", b"\x01\x02\x03"),
        ("AT", 0x7FE00010),
    ]
)
_LUT_ITEMS = st.fixed_dictionaries(
    {
        "LUTDescriptor": st.lists(st.integers(0, 65535), max_size=4),
        "LUTData": st.lists(st.integers(0, 65535), max_size=8),
        "ModalityLUTType": st.sampled_from(["HU", "", "US"]),
    }
)


def unknown_vr(keyword: str, value: bytes) -> DataElement:
    """``keyword`` stored as raw bytes (VR UN): a reader parses them with the real VR."""
    replace = config.replace_un_with_known_vr
    config.replace_un_with_known_vr = False
    try:
        return DataElement(keyword, "UN", value)
    finally:
        config.replace_un_with_known_vr = replace


def _lut_item(values: dict[str, object]) -> Dataset:
    item = Dataset()
    item.add_new(0x00283002, "US", values["LUTDescriptor"])
    item.add_new(0x00283006, "US", values["LUTData"])
    item.add_new(0x00283004, "LO", values["ModalityLUTType"])
    return item


@st.composite
def _dataset_edit(draw: st.DrawFn, ds: Dataset) -> str:
    kind = draw(st.sampled_from(["raw", "raw", "raw", "remove", "wrong_vr", "lut", "groups"]))
    if kind == "raw":
        keyword = draw(st.sampled_from(sorted(RAW_EDITS)))
        value = draw(RAW_EDITS[keyword])
        if keyword == "PixelData" and ds.file_meta.TransferSyntaxUID.is_compressed:
            value = draw(st.sampled_from([encapsulate([value + b"\0\0"]), ITEM + value]))
        ds[keyword] = unknown_vr(keyword, value)
        return f"{keyword}={value[:40]!r}"
    if kind == "remove":
        keyword = draw(st.sampled_from(REMOVABLE))
        if keyword in ds:
            del ds[keyword]
        return f"removed {keyword}"
    if kind == "wrong_vr":
        keyword = draw(st.sampled_from(sorted(set(RAW_EDITS) - {"PixelData"})))
        vr, value = draw(_WRONG_VR)
        if vr == "SQ":
            value = [] if value == [] else [Dataset()]
        ds[keyword] = DataElement(keyword, vr, value)
        return f"{keyword} as {vr}"
    if kind == "lut":
        keyword = draw(st.sampled_from(["ModalityLUTSequence", "VOILUTSequence"]))
        items = draw(st.lists(_LUT_ITEMS, max_size=2))
        setattr(ds, keyword, Sequence([_lut_item(v) for v in items]))
        return f"{keyword} with {len(items)} odd items"
    count = draw(st.integers(0, 3))
    groups = [Dataset() for _ in range(count)]
    for group in groups:
        if draw(st.booleans()):
            plane = Dataset()
            values = draw(st.lists(st.sampled_from(["0", "nan", "1e308", "x"]), max_size=4))
            plane["ImagePositionPatient"] = unknown_vr(
                "ImagePositionPatient", "\\".join(values).encode()
            )
            group.PlanePositionSequence = Sequence([plane] if draw(st.booleans()) else [])
        if draw(st.booleans()):
            group.PixelMeasuresSequence = Sequence([Dataset()])
    keyword = draw(
        st.sampled_from(["PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"])
    )
    setattr(ds, keyword, Sequence(groups))
    return f"{keyword} with {count} sparse items"


def _with_transfer_syntax(data: bytes, file_meta: FileMetaDataset, uid: str) -> bytes:
    """The same file with its meta header claiming transfer syntax ``uid`` (the body kept)."""
    meta = FileMetaDataset(file_meta)
    meta.TransferSyntaxUID = uid
    (group_length,) = struct.unpack("<I", data[140:144])  # (0002,0000) UL, right after DICM
    end = 132 + 12 + group_length
    out = io.BytesIO()
    out.write(data[:132])
    with config.disable_value_validation():
        write_file_meta_info(out, meta, enforce_standard=False)
    return out.getvalue() + data[end:]


@st.composite
def dataset_mutants(draw: st.DrawFn) -> Mutant:
    """A real file with 1-4 wrong attributes, and sometimes a lying transfer syntax."""
    name = draw(st.sampled_from(DATASET_SOURCES))
    ds = pydicom.dcmread(io.BytesIO(source_bytes(name)))
    edits = [draw(_dataset_edit(ds)) for _ in range(draw(st.integers(1, 4)))]
    buffer = io.BytesIO()
    try:
        with config.disable_value_validation():
            ds.save_as(buffer, enforce_file_format=False)
    except (ValueError, TypeError, AttributeError, OSError, struct.error):
        reject()  # pydicom cannot write this combination; not a case for the reader
    data = buffer.getvalue()
    if draw(st.integers(0, 5)) == 0:
        uid = draw(_UID_VALUES)
        data = _with_transfer_syntax(data, ds.file_meta, uid)
        edits.append(f"TransferSyntaxUID={uid!r}")
    return Mutant(name, data, tuple(edits))


# -- DICOMDIR ------------------------------------------------------------------------------------

#: ReferencedFileID values: escapes from the media folder, odd names, wrong types.
FILE_IDS = st.sampled_from(
    [
        ["..", "outside.dcm"],
        ["..", "..", "..", "etc", "passwd"],
        ["/etc/passwd"],
        ["C:", "WINDOWS"],
        ["PT000000", "..", "..", "outside.dcm"],
        [""],
        ["."],
        ["A\x00B"],
        ["NOSUCH"],
        ["PT000000/ST000000"],
        ["pt000000", "st000000", "se000000", "im000000"],
        ["\u00c9T\u00c9"],
    ]
)


@st.composite
def dicomdir_edits(draw: st.DrawFn, original: bytes) -> tuple[bytes, tuple[str, ...]]:
    """A DICOMDIR whose records name odd files, or whose record sequence is not one."""
    ds = pydicom.dcmread(io.BytesIO(original))
    records = ds.DirectoryRecordSequence
    kind = draw(st.sampled_from(["file_id", "file_id", "raw_sequence", "wrong_vr"]))
    if kind == "file_id":
        record = draw(st.sampled_from(list(records)))
        file_id = draw(FILE_IDS)
        record.ReferencedFileID = file_id
        what = f"ReferencedFileID={file_id!r}"
    elif kind == "raw_sequence":
        ds["DirectoryRecordSequence"] = unknown_vr(
            "DirectoryRecordSequence", draw(st.binary(max_size=64))
        )
        what = "DirectoryRecordSequence as raw bytes"
    else:
        record = draw(st.sampled_from(list(records)))
        record["ReferencedFileID"] = unknown_vr("ReferencedFileID", draw(st.binary(max_size=16)))
        what = "ReferencedFileID as raw bytes"
    buffer = io.BytesIO()
    try:
        with config.disable_value_validation():
            ds.save_as(buffer, enforce_file_format=False)
    except (ValueError, TypeError, AttributeError, OSError, struct.error, UnicodeError):
        reject()
    return buffer.getvalue(), (what,)
