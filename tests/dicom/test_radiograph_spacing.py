"""The spacing that measures a radiograph's lengths, by the DICOM rules (issue 22, item 3):
PixelSpacing with a calibration type, ImagerPixelSpacing over the magnification factor or the
source distances, else the detector spacing, each with its unit label. Real files are written
with pydicom and read back through the header reader and a scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ComputedRadiographyImageStorage, ExplicitVRLittleEndian, generate_uid

from spineviewer.dicom import FileRef, scan
from spineviewer.dicom.header import read_instance_frames
from spineviewer.dicom.spacing import (
    SpacingKind,
    choose_spacing,
    spacing_of_dataset,
    unit_label,
)

IPS = (0.2, 0.2)


def test_unit_labels():
    assert unit_label("mm") == "mm"
    assert unit_label("mm", SpacingKind.DETECTOR) == "mm (detector)"
    assert unit_label("mm2", "calibrated") == "mm2 (calibrated)"
    assert unit_label("deg", SpacingKind.DETECTOR) == "deg"  # angles are the same
    assert unit_label("px", SpacingKind.CALIBRATED) == "px"


@pytest.mark.parametrize(
    ("arguments", "spacing", "kind", "source"),
    [
        ({"pixel_spacing": (0.5, 0.5)}, (0.5, 0.5), SpacingKind.PATIENT, "PixelSpacing"),
        (
            {
                "pixel_spacing": (0.17, 0.17),
                "calibration_type": "geometry",
                "imager_pixel_spacing": IPS,
            },
            (0.17, 0.17),
            SpacingKind.CALIBRATED,
            "PixelSpacing (GEOMETRY)",
        ),
        (
            {"pixel_spacing": (0.18, 0.18), "calibration_type": "FIDUCIAL"},
            (0.18, 0.18),
            SpacingKind.CALIBRATED,
            "PixelSpacing (FIDUCIAL)",
        ),
        (  # corrected by the modality, how is not said: the modality's millimetres
            {"pixel_spacing": (0.18, 0.18), "imager_pixel_spacing": IPS},
            (0.18, 0.18),
            SpacingKind.PATIENT,
            "PixelSpacing",
        ),
        (  # PixelSpacing repeating the detector spacing is no correction
            {"pixel_spacing": IPS, "imager_pixel_spacing": IPS},
            IPS,
            SpacingKind.DETECTOR,
            "ImagerPixelSpacing",
        ),
        (
            {"pixel_spacing": IPS, "imager_pixel_spacing": IPS, "magnification_factor": 1.25},
            (0.16, 0.16),
            SpacingKind.CALIBRATED,
            "ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor 1.25",
        ),
        (
            {
                "imager_pixel_spacing": IPS,
                "magnification_factor": 1.25,
                "source_to_detector": 1000.0,
                "source_to_patient": 900.0,
            },
            (0.16, 0.16),
            SpacingKind.CALIBRATED,
            "ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor 1.25",
        ),
        (
            {"imager_pixel_spacing": IPS, "source_to_detector": 1000.0, "source_to_patient": 800.0},
            (0.16, 0.16),
            SpacingKind.CALIBRATED,
            "ImagerPixelSpacing x DistanceSourceToPatient 800 / DistanceSourceToDetector 1000",
        ),
        (  # only one distance: no magnification known
            {"imager_pixel_spacing": IPS, "source_to_detector": 1000.0},
            IPS,
            SpacingKind.DETECTOR,
            "ImagerPixelSpacing",
        ),
        (  # a patient beyond the detector and a factor below 1 are ignored
            {
                "imager_pixel_spacing": IPS,
                "magnification_factor": 0.8,
                "source_to_detector": 900.0,
                "source_to_patient": 1000.0,
            },
            IPS,
            SpacingKind.DETECTOR,
            "ImagerPixelSpacing",
        ),
        (
            {"nominal_scanned_spacing": (0.1, 0.1)},
            (0.1, 0.1),
            SpacingKind.DETECTOR,
            "NominalScannedPixelSpacing",
        ),
        ({}, None, SpacingKind.PATIENT, ""),
    ],
)
def test_choose_spacing(arguments, spacing, kind, source):
    chosen = choose_spacing(**arguments)
    assert chosen.kind == kind and chosen.source == source
    if spacing is None:
        assert chosen.spacing is None
    else:
        assert chosen.spacing == pytest.approx(spacing)
    assert chosen.unit == unit_label("mm", kind)


def _radiograph(folder: Path, name: str, **attributes: object) -> Path:
    """A real 16 x 16 CR file with ``attributes`` added to its header."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ComputedRadiographyImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = (
        meta.MediaStorageSOPClassUID,
        meta.MediaStorageSOPInstanceUID,
    )
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientID = "CR", "SPACING"
    ds.Rows = ds.Columns = 16
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = np.arange(256, dtype=np.uint16).tobytes()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    path = folder / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_the_header_reader_chooses_by_the_rules(tmp_path: Path):
    cases = {
        "detector": ({"ImagerPixelSpacing": ["0.2", "0.2"]}, (0.2, 0.2), "mm (detector)"),
        "ermf": (
            {
                "ImagerPixelSpacing": ["0.2", "0.2"],
                "EstimatedRadiographicMagnificationFactor": "1.25",
            },
            (0.16, 0.16),
            "mm (calibrated)",
        ),
        "distances": (
            {
                "ImagerPixelSpacing": ["0.2", "0.2"],
                "DistanceSourceToDetector": "1000",
                "DistanceSourceToPatient": "800",
            },
            (0.16, 0.16),
            "mm (calibrated)",
        ),
        "geometry": (
            {
                "ImagerPixelSpacing": ["0.2", "0.2"],
                "PixelSpacing": ["0.17", "0.17"],
                "PixelSpacingCalibrationType": "GEOMETRY",
            },
            (0.17, 0.17),
            "mm (calibrated)",
        ),
        "plain": ({"PixelSpacing": ["0.5", "0.4"]}, (0.5, 0.4), "mm"),
        # an unusable PixelSpacing with a usable detector spacing: the detector's, no problem
        "broken": (
            {"PixelSpacing": ["0", "0"], "ImagerPixelSpacing": ["0.2", "0.2"]},
            (0.2, 0.2),
            "mm (detector)",
        ),
    }
    for name, (attributes, spacing, unit) in cases.items():
        [frame] = read_instance_frames(FileRef(_radiograph(tmp_path, name, **attributes)))
        assert frame.pixel_spacing == pytest.approx(spacing), name
        assert frame.spacing_unit == unit, name
        assert frame.problems == (), name
    result = scan(tmp_path)
    units = sorted(stack.spacing_unit for stack in result.stacks())
    assert units == sorted(unit for _, _, unit in cases.values())
    assert all(stack.summary()["spacing_unit"] == stack.spacing_unit for stack in result.stacks())


def test_spacing_of_a_dataset_matches_the_header_reader(tmp_path: Path):
    import pydicom

    path = _radiograph(
        tmp_path,
        "ermf",
        ImagerPixelSpacing=["0.2", "0.2"],
        PixelSpacing=["0.2", "0.2"],
        EstimatedRadiographicMagnificationFactor="1.1",
    )
    [frame] = read_instance_frames(FileRef(path))
    chosen = spacing_of_dataset(pydicom.dcmread(path, stop_before_pixels=True))
    assert chosen.spacing == pytest.approx(frame.pixel_spacing)
    assert (chosen.kind, chosen.source) == (frame.spacing_kind, frame.spacing_source)
