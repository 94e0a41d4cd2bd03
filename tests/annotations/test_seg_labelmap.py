"""A label map as DICOM SEG on a real CT phantom study: written, validated, read back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
import numpy as np
import pytest
from exchange_helpers import dciodvfy_errors, tree_hashes
from pydicom.dataset import Dataset

from spineviewer.annotations.frames import source_headers
from spineviewer.annotations.label_map_file import FileLabelMap, read_nifti_label_map
from spineviewer.annotations.seg_labelmap import export_label_map, import_label_map
from spineviewer.dicom import Stack, load_volume, scan
from spineviewer.phantom import generate, study_folder_name
from spineviewer.viewing.label_layer import SeriesLabelMap, on_grid

MODEL = ("spine-ct-segmentation", "0.1.0")


@dataclass(frozen=True)
class CtStudy:
    folder: Path
    stack: Stack
    sources: list[Dataset]
    #: The truth map on the series' own grid (slice k = the stack's image k).
    labels: np.ndarray
    truth: FileLabelMap


@pytest.fixture(scope="module")
def ct(tmp_path_factory: pytest.TempPathFactory) -> CtStudy:
    root = tmp_path_factory.mktemp("ct")
    generate("lumbar-ct", root, 7)
    folder = root / study_folder_name("lumbar-ct", 7)
    [study] = scan(folder).studies
    [stack] = study.series[0].stacks
    truth = read_nifti_label_map(folder / "labels.nii.gz")
    volume = load_volume(stack)
    placed = SeriesLabelMap(truth.labels, truth.affine, truth.values, "", stack.series_uid)
    labels = on_grid(placed, volume.affine, volume.shape)
    headers = source_headers([stack])
    sources = [headers[f.instance.sop_instance_uid] for f in stack.frames]
    return CtStudy(folder, stack, sources, labels, truth)


@pytest.fixture(scope="module")
def exported(ct: CtStudy, tmp_path_factory: pytest.TempPathFactory):
    before = tree_hashes(ct.folder)
    path = export_label_map(
        ct.labels,
        ct.truth.values,
        ct.sources,
        tmp_path_factory.mktemp("seg"),
        model_id=MODEL[0],
        model_version=MODEL[1],
    )
    return path, before


def frames(stack: Stack) -> list[tuple[str, int]]:
    return [(f.instance.sop_instance_uid, 1) for f in stack.frames]


def test_the_truth_map_is_on_the_series_grid(ct: CtStudy):
    """The phantom's NIfTI runs head first, the series foot first: the same voxels."""
    assert ct.labels.shape == ct.truth.labels.shape
    np.testing.assert_array_equal(ct.labels, ct.truth.labels[::-1])
    assert ct.truth.values[5].name == "L3" and ct.truth.values[5].code is not None
    assert ct.truth.values[16].code is not None  # the spinal canal: SNOMED CT


def test_read_back_is_the_same_label_map(ct: CtStudy, exported):
    path, _ = exported
    back = import_label_map(path, frames(ct.stack))
    np.testing.assert_array_equal(back.labels, ct.labels)
    assert set(back.values) == set(ct.truth.values)
    for value, label in ct.truth.values.items():
        got = back.values[value]
        assert (got.name, got.color, got.code) == (label.name, label.color, label.code), value
    assert (back.model_id, back.model_version) == MODEL


def test_segments_are_coded_automatic_and_of_the_model(exported):
    path, _ = exported
    seg = hd.seg.segread(path)
    assert seg.SegmentationType == "BINARY"
    by_label = {s.SegmentLabel: s for s in seg.SegmentSequence}
    l3 = by_label["L3"]
    assert l3.SegmentedPropertyTypeCodeSequence[0].CodeValue == "36470004"
    assert l3.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator == "SCT"
    assert l3.SegmentAlgorithmType == "AUTOMATIC"
    algorithm = l3.SegmentationAlgorithmIdentificationSequence[0]
    assert (algorithm.AlgorithmName, algorithm.AlgorithmVersion) == MODEL
    assert by_label["spinal_canal"].SegmentedPropertyTypeCodeSequence[0].CodeValue == "61853006"


def test_sources_untouched_and_never_written_beside(ct: CtStudy, exported):
    _, before = exported
    assert tree_hashes(ct.folder) == before
    with pytest.raises(ValueError, match="beside the source"):
        folder = ct.stack.frames[0].instance.ref.path.parent
        export_label_map(ct.labels, ct.truth.values, ct.sources, folder)


def test_another_series_gets_nothing(ct: CtStudy, exported):
    path, _ = exported
    with pytest.raises(ValueError, match="none of this series"):
        import_label_map(path, [("1.2.3", 1), ("1.2.4", 1)])


def test_shapes_must_match(ct: CtStudy, tmp_path: Path):
    with pytest.raises(ValueError, match="source images"):
        export_label_map(ct.labels[:-1], ct.truth.values, ct.sources, tmp_path)


@pytest.mark.tools
def test_dciodvfy_reports_no_errors(exported):
    path, _ = exported
    assert dciodvfy_errors(path) == []
