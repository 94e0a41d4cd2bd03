"""Filled annotations as DICOM Segmentation (BINARY), written and read back.

Each filled annotation (rectangle, ellipse, polygon, freehand) is rasterised on its source
frame (:func:`spineviewer.annotations.measure.rasterise`: pixel centres inside or on the
outline). Segments are one per label *and* origin: a label drawn by people is a MANUAL segment,
the same label proposed by a model an AUTOMATIC segment (SEMIAUTOMATIC once a person edited the
proposal) with the model's algorithm identification (name = model id, version, family
"Artificial Intelligence"). Segmented property category and type come from the vocabulary
(SNOMED CT, else the label's ``99SPV`` code, declared in the Coding Scheme Identification
Sequence).

highdicom needs the frames of one Segmentation to share series, size, frame of reference and
orientation, so :func:`export_seg` writes one file per such group of source images (a series
with angled stacks gives one file per stack orientation; a multi-frame image its own file).
Only the source headers are used; the sources are never written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from spineviewer.annotations.annotation import Annotation, Status
from spineviewer.annotations.dicom_objects import (
    check_destination,
    first_int,
    headers_for,
    is_multiframe,
)
from spineviewer.annotations.measure import rasterise
from spineviewer.annotations.sr_terms import (
    MANUFACTURER,
    SOFTWARE_VERSION,
    category_code,
    coding_scheme_item,
    find_label,
    label_code,
    person_name,
)
from spineviewer.annotations.vocabulary import Vocabulary, default_vocabulary

#: (SOP Instance UID, 1-based frame number, label key)
MaskKey = tuple[str, int, str]
BoolArray = NDArray[np.bool_]
#: Segmentation Storage SOP Class UID.
SEGMENTATION = "1.2.840.10008.5.1.4.1.1.66.4"
#: SegmentLabel of annotations without a label.
UNLABELLED_SEGMENT = "unlabelled"


@dataclass(frozen=True)
class _Segment:
    """What tells segments apart: the label, who drew it and whether a person edited it."""

    label: str
    algorithm_type: str
    model_id: str | None = None
    model_version: str | None = None

    @classmethod
    def of(cls, annotation: Annotation) -> _Segment:
        prov = annotation.provenance
        if not prov.is_model:
            return cls(annotation.label, "MANUAL")
        edited = annotation.status == Status.EDITED
        return cls(
            annotation.label,
            "SEMIAUTOMATIC" if edited else "AUTOMATIC",
            prov.model_id or prov.author,
            prov.model_version,
        )


def _description(
    number: int, segment: _Segment, vocabulary: Vocabulary
) -> hd.seg.SegmentDescription:
    label = vocabulary.get(segment.label)
    algorithm = None
    if segment.model_id is not None:
        algorithm = hd.AlgorithmIdentificationSequence(
            name=segment.model_id,
            family=codes.cid7162.ArtificialIntelligence,
            version=segment.model_version or "unknown",
        )
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=(segment.label or UNLABELLED_SEGMENT)[:64],
        segmented_property_category=category_code(label),
        segmented_property_type=label_code(label),
        algorithm_type=segment.algorithm_type,
        algorithm_identification=algorithm,
        display_color=hd.color.CIELabColor.from_string(vocabulary.color(segment.label)),
    )


def _group_key(ds: Dataset) -> tuple[Any, ...]:
    """Source images that can share one Segmentation have equal keys."""
    alone = is_multiframe(ds) or "FrameOfReferenceUID" not in ds
    iop = tuple(round(float(v), 6) for v in ds.get("ImageOrientationPatient", []))
    return (
        str(ds.SeriesInstanceUID),
        int(ds.Rows),
        int(ds.Columns),
        str(ds.get("FrameOfReferenceUID", "")),
        iop,
        str(ds.SOPInstanceUID) if alone else "",
    )


def _masks(
    annotations: Sequence[Annotation], headers: Mapping[str, Dataset]
) -> dict[tuple[str, int], dict[_Segment, BoolArray]]:
    """Union of the rasterised annotations per source frame and segment."""
    out: dict[tuple[str, int], dict[_Segment, BoolArray]] = defaultdict(dict)
    for a in annotations:
        if not a.filled:
            continue
        ds = headers[a.image.sop_instance_uid]
        mask = rasterise(a, int(ds.Rows), int(ds.Columns))
        per_segment = out[(a.image.sop_instance_uid, a.image.frame_number)]
        key = _Segment.of(a)
        per_segment[key] = per_segment[key] | mask if key in per_segment else mask
    return out


def _pixel_array(
    sources: Sequence[Dataset],
    masks: Mapping[tuple[str, int], Mapping[_Segment, BoolArray]],
    segments: Sequence[_Segment],
) -> NDArray[np.uint8]:
    """(frames, rows, columns, segments) array matching highdicom's source frame order."""
    first = sources[0]
    frames = (
        [(str(first.SOPInstanceUID), n) for n in range(1, int(first.NumberOfFrames) + 1)]
        if is_multiframe(first)
        else [(str(ds.SOPInstanceUID), 1) for ds in sources]
    )
    array = np.zeros((len(frames), int(first.Rows), int(first.Columns), len(segments)), np.uint8)
    for i, key in enumerate(frames):
        for j, segment in enumerate(segments):
            mask = masks.get(key, {}).get(segment)
            if mask is not None:
                array[i, :, :, j] = mask
    return array


def export_seg(
    annotations: Sequence[Annotation],
    source_datasets: Mapping[str, Dataset],
    out_dir: str | Path,
    *,
    vocabulary: Vocabulary | None = None,
    series_number: int = 9002,
    series_description: str = "SpineViewer annotation masks",
    manufacturer: str = MANUFACTURER,
    author: str | None = None,
) -> list[Path]:
    """Write the filled annotations as BINARY Segmentations into ``out_dir``.

    One file per group of compatible source images (see the module docstring), all in one
    new series, named ``SEG_<n>.dcm``. Returns the paths (empty when no annotation is filled).
    ``source_datasets`` maps SOP Instance UID to the source header (pixel data not needed).
    ValueError when ``out_dir`` is a source folder.
    """
    vocabulary = vocabulary or default_vocabulary()
    filled = [a for a in annotations if a.filled]
    if not filled:
        return []
    headers = headers_for(filled, source_datasets)
    masks = _masks(filled, headers)
    groups: dict[tuple[Any, ...], list[Dataset]] = defaultdict(list)
    for uid in dict.fromkeys(a.image.sop_instance_uid for a in filled):
        groups[_group_key(headers[uid])].append(headers[uid])
    out_dir = check_destination(Path(out_dir) / "SEG", headers.values()).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    series_uid = hd.UID()
    paths = []
    for number, sources in enumerate(groups.values(), start=1):
        uids = {str(ds.SOPInstanceUID) for ds in sources}
        segments = list(
            dict.fromkeys(seg for (uid, _), per in masks.items() if uid in uids for seg in per)
        )
        seg = hd.seg.Segmentation(
            source_images=sources,
            pixel_array=_pixel_array(sources, masks, segments),
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=[
                _description(i, s, vocabulary) for i, s in enumerate(segments, start=1)
            ],
            series_instance_uid=series_uid,
            series_number=series_number,
            sop_instance_uid=hd.UID(),
            instance_number=number,
            manufacturer=manufacturer,
            manufacturer_model_name=manufacturer,
            software_versions=SOFTWARE_VERSION,
            device_serial_number="0",
            content_description="Annotation masks"[:64],
            content_creator_name=person_name(author) if author else None,
            series_description=series_description,
        )
        seg.CodingSchemeIdentificationSequence = [coding_scheme_item(vocabulary)]
        if "FrameOfReferenceUID" not in seg:  # projection images: orientation letters instead
            seg.PatientOrientation = sources[0].get("PatientOrientation", "")
        path = out_dir / f"SEG_{number:03d}.dcm"
        seg.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _segment_labels(seg: Dataset, vocabulary: Vocabulary) -> dict[int, str]:
    """Vocabulary key of every segment number (by code, the segment label breaking ties)."""
    out: dict[int, str] = {}
    for item in seg.SegmentSequence:
        code = hd.sr.CodedConcept.from_dataset(item.SegmentedPropertyTypeCodeSequence[0])
        hint = str(item.get("SegmentLabel", ""))
        out[int(item.SegmentNumber)] = find_label(vocabulary, code, hint)
    return out


def functional_group(frame: Dataset, shared: Dataset, keyword: str) -> Dataset:
    """A functional group of a frame: its own, else the shared one."""
    for groups in (frame, shared):
        if keyword in groups:
            return groups[keyword].value[0]
    raise ValueError(f"Segmentation frame without {keyword}")


def import_seg(path: str | Path, vocabulary: Vocabulary | None = None) -> dict[MaskKey, BoolArray]:
    """Masks of a BINARY Segmentation by (source SOP Instance UID, frame number, label key).

    Segments sharing a label (drawn by people and proposed by a model) are merged; frames the
    file omits (empty) are absent.
    """
    vocabulary = vocabulary or default_vocabulary()
    # pydicom, not highdicom's reader: that one refuses projection-image SEGs (no slice
    # thickness in the pixel measures), which are valid.
    seg = pydicom.dcmread(path)
    if seg.SOPClassUID != SEGMENTATION or seg.get("SegmentationType") != "BINARY":
        raise ValueError(f"{path}: not a BINARY DICOM Segmentation")
    labels = _segment_labels(seg, vocabulary)
    pixels = np.asarray(seg.pixel_array).reshape(-1, int(seg.Rows), int(seg.Columns))
    out: dict[MaskKey, BoolArray] = {}
    shared = seg.get("SharedFunctionalGroupsSequence", [Dataset()])[0]
    for i, frame in enumerate(seg.PerFrameFunctionalGroupsSequence):
        segment = functional_group(frame, shared, "SegmentIdentificationSequence")
        number = int(segment.ReferencedSegmentNumber)
        derivation = functional_group(frame, shared, "DerivationImageSequence")
        source = derivation.SourceImageSequence[0]
        frame_number = first_int(source.get("ReferencedFrameNumber"))
        key = (str(source.ReferencedSOPInstanceUID), frame_number, labels[number])
        mask = pixels[i].astype(bool)
        out[key] = out[key] | mask if key in out else mask
    return out
