"""DICOM SEG export of filled annotations on a real phantom study, read back and validated."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import highdicom as hd
import numpy as np
import pytest
from exchange_helpers import (
    MODEL,
    MarkedStudy,
    dciodvfy_errors,
    marked_radiograph,
    marked_study,
    tree_hashes,
)

from spineviewer.annotations.measure import rasterise
from spineviewer.annotations.seg import export_seg, import_seg


@pytest.fixture(scope="module")
def study(demo_study_dir: Path) -> MarkedStudy:
    return marked_study(demo_study_dir)


@pytest.fixture(scope="module")
def exported(study: MarkedStudy, tmp_path_factory: pytest.TempPathFactory):
    before = tree_hashes(study.folder)
    paths = export_seg(study.annotations, study.headers, tmp_path_factory.mktemp("seg"))
    return paths, before


def expected_masks(annotations) -> dict[tuple[str, int, str], np.ndarray]:
    out: dict[tuple[str, int, str], np.ndarray] = defaultdict(lambda: np.zeros(0, bool))
    for a in annotations:
        if not a.filled:
            continue
        key = (a.image.sop_instance_uid, a.image.frame_number, a.label)
        mask = rasterise(a, a.image.rows, a.image.columns)
        out[key] = out[key] | mask if out[key].size else mask
    return dict(out)


def read_all(paths) -> dict[tuple[str, int, str], np.ndarray]:
    masks: dict[tuple[str, int, str], np.ndarray] = {}
    for path in paths:
        masks.update(import_seg(path))
    return masks


def test_masks_read_back_equal_the_rasterised_annotations(study: MarkedStudy, exported):
    paths, _ = exported
    # Sagittal and angled axial images differ in orientation: one file each.
    assert len(paths) == 2
    masks = read_all(paths)
    expected = expected_masks(study.annotations)
    assert set(masks) == set(expected)
    for key, mask in expected.items():
        assert mask.any()
        np.testing.assert_array_equal(masks[key], mask, err_msg=str(key))


def test_segments_are_coded_and_say_who_drew_them(exported):
    paths, _ = exported
    segments = [s for p in paths for s in hd.seg.segread(p).SegmentSequence]
    by_label = defaultdict(list)
    for s in segments:
        by_label[s.SegmentLabel].append(s)
    l3 = by_label["L3"][0]
    assert l3.SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "L3 vertebra"
    assert l3.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "91723000"
    assert l3.SegmentAlgorithmType == "MANUAL"
    rod = by_label["rod"][0]
    assert rod.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator == "99SPV"
    disc = {s.SegmentAlgorithmType: s for s in by_label["L4-L5"]}
    assert set(disc) == {"MANUAL", "AUTOMATIC"}
    algorithm = disc["AUTOMATIC"].SegmentationAlgorithmIdentificationSequence[0]
    assert (algorithm.AlgorithmName, algorithm.AlgorithmVersion) == (
        MODEL.model_id,
        MODEL.model_version,
    )


def test_no_filled_annotation_writes_nothing(study: MarkedStudy, tmp_path: Path):
    lines = [a for a in study.annotations if not a.filled]
    assert export_seg(lines, study.headers, tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_never_writes_into_the_source_folder(study: MarkedStudy):
    filled = [a for a in study.annotations if a.filled]
    folder = Path(study.headers[filled[0].image.sop_instance_uid].filename).parent
    listing = sorted(folder.iterdir())
    with pytest.raises(ValueError, match="beside the source"):
        export_seg(filled, study.headers, folder)
    assert sorted(folder.iterdir()) == listing


def test_sources_are_byte_identical(study: MarkedStudy, exported):
    _, before = exported
    assert tree_hashes(study.folder) == before


@pytest.fixture(scope="module")
def radiograph(tmp_path_factory: pytest.TempPathFactory):
    """Filled marks on the AP radiograph phantom (no frame of reference), exported."""
    xr = marked_radiograph(tmp_path_factory.getbasetemp() / "xr")
    filled = [a for a in xr.annotations if a.filled]
    before = tree_hashes(xr.folder)
    [path] = export_seg(filled, xr.headers, tmp_path_factory.mktemp("xr-seg"))
    return filled, path, xr.folder, before


def test_radiograph_without_frame_of_reference(radiograph):
    marks, path, folder, before = radiograph
    masks = import_seg(path)
    for a in marks:
        key = (a.image.sop_instance_uid, 1, a.label)
        np.testing.assert_array_equal(masks[key], rasterise(a, a.image.rows, a.image.columns))
    assert tree_hashes(folder) == before


@pytest.mark.tools
def test_dciodvfy_reports_no_errors(exported, radiograph):
    paths, _ = exported
    for path in [*paths, radiograph[1]]:
        assert dciodvfy_errors(path) == [], path


def test_an_edited_proposal_is_semiautomatic(study: MarkedStudy, tmp_path: Path):
    proposal = next(a for a in study.annotations if a.provenance.is_model)
    edited = proposal.moved(2.0, -3.0, None)
    assert edited.status.value == "edited"
    [path] = export_seg([edited], study.headers, tmp_path)
    [segment] = hd.seg.segread(path).SegmentSequence
    assert segment.SegmentAlgorithmType == "SEMIAUTOMATIC"
    [(key, mask)] = import_seg(path).items()
    assert key[2] == proposal.label
    np.testing.assert_array_equal(mask, rasterise(edited, edited.image.rows, edited.image.columns))
