"""A label map of one series as a DICOM Segmentation (BINARY, one segment per label), and back.

A segmentation model's label map (:class:`~spineviewer.ai.sliding_window.LabelMap`) labels
the voxels ``(k, j, i)`` of the series it ran on: slice ``k`` is the series' image ``k`` (a
single-frame image each, or frame ``k + 1`` of one multi-frame image). :func:`export_label_map`
writes it as one BINARY Segmentation of those images (highdicom): segment ``n`` is the label
of value ``n`` when the values are 1, 2, ... (a model's channels always are), else the
labels in the order of their values; segments are coded from the label's code (SNOMED CT where
the model's manifest or the vocabulary has one, else a ``99SPV`` code of its name, declared in
the Coding Scheme Identification Sequence), coloured with the label's colour and, for a
model's map, AUTOMATIC with the model's algorithm identification (name = model id, version,
family "Artificial Intelligence"). Empty frames are left out, as highdicom does.

:func:`import_label_map` reads such a file back onto the series' grid, given the series'
images in order: the same labels in the same voxels, values = segment numbers, each with its
name (SegmentLabel), display name and code (the segmented property type) and colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from highdicom.sr import CodedConcept
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from spineviewer.ai.manifest_model import LabelCode, ModelLabel
from spineviewer.annotations.dicom_objects import check_destination, first_int
from spineviewer.annotations.seg import SEGMENTATION, functional_group
from spineviewer.annotations.sr_terms import (
    MANUFACTURER,
    SOFTWARE_VERSION,
    category_code,
    coding_scheme_item,
    label_code,
    spv_code,
)
from spineviewer.annotations.vocabulary import Vocabulary, default_vocabulary

__all__ = ["ReadLabelMap", "export_label_map", "import_label_map", "segment_values"]

#: (SOP Instance UID, 1-based frame number) of one image of the series, in slice order.
FrameKey = tuple[str, int]


@dataclass(frozen=True)
class ReadLabelMap:
    """A label map read from a Segmentation, on the series' grid."""

    labels: NDArray[np.uint8] | NDArray[np.uint16]
    values: dict[int, ModelLabel]
    #: The algorithm that made the segments ("" when none is named: drawn by people).
    model_id: str
    model_version: str
    #: The Segmentation's SeriesInstanceUID and SOPInstanceUID.
    series_uid: str
    sop_instance_uid: str


def segment_values(values: Mapping[int, ModelLabel]) -> dict[int, int]:
    """Segment number of every label value: the value itself when the values are 1..n, else
    1..n in the order of the values."""
    ordered = sorted(v for v in values if v > 0)
    if ordered == list(range(1, len(ordered) + 1)):
        return {v: v for v in ordered}
    return {v: n for n, v in enumerate(ordered, start=1)}


def _type_code(label: ModelLabel, vocabulary: Vocabulary) -> CodedConcept:
    if label.code is not None:
        return CodedConcept(label.code.value, label.code.scheme, label.code.meaning[:64])
    known = vocabulary.get(label.name)
    if known is not None:
        return label_code(known)
    return spv_code(f"SPV-LABEL-{label.name.upper()}"[:16], label.display or label.name)


def _description(
    number: int,
    label: ModelLabel,
    vocabulary: Vocabulary,
    model_id: str,
    model_version: str,
) -> hd.seg.SegmentDescription:
    known = vocabulary.get(label.name)
    category = category_code(known) if known is not None else codes.cid7150.AnatomicalStructure
    algorithm = None
    if model_id:
        algorithm = hd.AlgorithmIdentificationSequence(
            name=model_id[:64],
            family=codes.cid7162.ArtificialIntelligence,
            version=(model_version or "unknown")[:64],
        )
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=(label.name or f"label {number}")[:64],
        segmented_property_category=category,
        segmented_property_type=_type_code(label, vocabulary),
        algorithm_type="AUTOMATIC" if model_id else "MANUAL",
        algorithm_identification=algorithm,
        display_color=hd.color.CIELabColor.from_string(label.color),
    )


def _multiframe(sources: Sequence[Dataset], slices: int) -> bool:
    return len(sources) == 1 and first_int(sources[0].get("NumberOfFrames")) == slices > 1


def export_label_map(
    labels: NDArray[np.unsignedinteger],
    values: Mapping[int, ModelLabel],
    sources: Sequence[Dataset],
    out_dir: str | Path,
    *,
    model_id: str = "",
    model_version: str = "",
    vocabulary: Vocabulary | None = None,
    series_number: int = 9003,
    series_description: str = "SpineViewer label map",
    manufacturer: str = MANUFACTURER,
) -> Path:
    """Write ``labels`` (k, j, i) of the series whose images ``sources`` are (headers in slice
    order; one multi-frame header whose frames are the slices) as ``SEG_LABELMAP.dcm`` in
    ``out_dir`` and return its path. ValueError when the shapes do not match, when the map
    has no label, or when ``out_dir`` is a source folder."""
    vocabulary = vocabulary or default_vocabulary()
    slices, rows, cols = labels.shape
    first = sources[0] if sources else None
    if first is None or not (len(sources) == slices or _multiframe(sources, slices)):
        raise ValueError(f"{len(sources)} source images for a label map of {slices} slices")
    if (int(first.Rows), int(first.Columns)) != (rows, cols):
        raise ValueError(
            f"label map slices are {rows} x {cols}, the images {first.Rows} x {first.Columns}"
        )
    numbers = segment_values(values)
    if not numbers:
        raise ValueError("the label map has no label")
    lookup = np.zeros(max(int(labels.max()), max(numbers)) + 1, dtype=np.uint16)
    for value, number in numbers.items():
        lookup[value] = number
    pixels = lookup[labels]
    pixels = pixels.astype(np.uint8) if len(numbers) < 256 else pixels
    out = check_destination(Path(out_dir) / "SEG_LABELMAP.dcm", sources)
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptions = [
        _description(number, values[value], vocabulary, model_id, model_version)
        for value, number in sorted(numbers.items(), key=lambda vn: vn[1])
    ]
    seg = hd.seg.Segmentation(
        source_images=list(sources),
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=manufacturer,
        manufacturer_model_name=manufacturer,
        software_versions=SOFTWARE_VERSION,
        device_serial_number="0",
        content_description=(f"Label map of {model_id}" if model_id else "Label map")[:64],
        series_description=series_description,
    )
    seg.CodingSchemeIdentificationSequence = [coding_scheme_item(vocabulary)]
    seg.save_as(out, enforce_file_format=True)
    return out


def _hex(item: Dataset) -> str:
    lab = item.get("RecommendedDisplayCIELabValue")
    if lab is None:
        return "#e6e1c5"
    r, g, b = hd.color.CIELabColor.from_dicom_value(tuple(int(v) for v in lab)).to_rgb()
    return f"#{int(r):02x}{int(g):02x}{int(b):02x}"


def _label(item: Dataset) -> ModelLabel:
    code = item.SegmentedPropertyTypeCodeSequence[0]
    name = str(item.get("SegmentLabel", "")) or str(code.CodeMeaning)
    return ModelLabel(
        name=name,
        display=str(code.CodeMeaning),
        color=_hex(item),
        code=LabelCode(
            str(code.CodingSchemeDesignator), str(code.CodeValue), str(code.CodeMeaning)
        ),
    )


def import_label_map(path: str | Path, frames: Sequence[FrameKey]) -> ReadLabelMap:
    """The label map a BINARY Segmentation gives the series whose images are ``frames`` (in
    slice order); ValueError when the file is not one or refers to none of those images."""
    seg = pydicom.dcmread(path)
    if seg.SOPClassUID != SEGMENTATION or seg.get("SegmentationType") != "BINARY":
        raise ValueError(f"{path}: not a BINARY DICOM Segmentation")
    rows, cols = int(seg.Rows), int(seg.Columns)
    slice_of = {key: k for k, key in enumerate(frames)}
    values = {int(item.SegmentNumber): _label(item) for item in seg.SegmentSequence}
    dtype = np.uint8 if max(values, default=0) < 256 else np.uint16
    labels = np.zeros((len(frames), rows, cols), dtype=dtype)
    pixels = np.asarray(seg.pixel_array).reshape(-1, rows, cols)
    shared = seg.get("SharedFunctionalGroupsSequence", [Dataset()])[0]
    found = 0
    for i, frame in enumerate(seg.PerFrameFunctionalGroupsSequence):
        number = int(
            functional_group(frame, shared, "SegmentIdentificationSequence").ReferencedSegmentNumber
        )
        source = functional_group(frame, shared, "DerivationImageSequence").SourceImageSequence[0]
        key = (str(source.ReferencedSOPInstanceUID), first_int(source.get("ReferencedFrameNumber")))
        k = slice_of.get(key)
        if k is None:
            continue
        labels[k][pixels[i].astype(bool)] = number
        found += 1
    if found == 0 and len(seg.PerFrameFunctionalGroupsSequence):
        raise ValueError(f"{path}: segments none of this series' {len(frames)} images")
    algorithm = next(
        (
            item.SegmentationAlgorithmIdentificationSequence[0]
            for item in seg.SegmentSequence
            if "SegmentationAlgorithmIdentificationSequence" in item
        ),
        None,
    )
    return ReadLabelMap(
        labels,
        values,
        str(algorithm.AlgorithmName) if algorithm is not None else "",
        str(algorithm.AlgorithmVersion) if algorithm is not None else "",
        str(seg.SeriesInstanceUID),
        str(seg.SOPInstanceUID),
    )
