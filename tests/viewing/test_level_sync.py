"""Linking a current study and its prior by vertebral level (and by a sync point), on the real
files and truth of the prior phantom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spineviewer.dicom import Study, scan
from spineviewer.phantom import StudyGroundTruth, load_ground_truth
from spineviewer.phantom.prior import generate_prior
from spineviewer.viewing.level_sync import Column, LevelMap, OffsetMap, linked_index
from spineviewer.viewing.source import StackListSource, nearest_slice

SEED = 7


@pytest.fixture(scope="module")
def pair(module_tmp: Path) -> tuple[Path, Path]:
    return generate_prior(module_tmp, SEED)


def _column(truth: StudyGroundTruth, labels: tuple[str, ...] | None = None) -> Column:
    return Column.of(
        (v.label, v.centre_mm) for v in truth.vertebrae if labels is None or v.label in labels
    )


def _source(study: Study, description: str) -> StackListSource:
    series = next(s for s in study.series if description in s.description)
    return StackListSource.from_stacks(series.stacks)


def _sop(source: StackListSource, index: int) -> str:
    info = source.info(index)
    assert info.frame is not None
    return info.frame.instance.sop_instance_uid


def test_disc_centres_map_onto_the_priors_along_the_labelled_column(
    pair: tuple[Path, Path],
) -> None:
    current, prior = (load_ground_truth(p) for p in pair)
    mapping = LevelMap.between(_column(current), _column(prior))
    assert mapping is not None and mapping.labels[0] == "T11"
    for a, b in zip(current.discs, prior.discs, strict=True):
        # the frames differ by 20-30 mm here; by level the error is well under a millimetre
        assert np.linalg.norm(np.subtract(a.centre_mm, b.centre_mm)) > 10.0
        assert np.linalg.norm(mapping.point(a.centre_mm) - b.centre_mm) < 0.5, a.level
        assert np.linalg.norm(mapping.inverse().point(b.centre_mm) - a.centre_mm) < 0.5


def test_two_labels_are_enough_near_them(pair: tuple[Path, Path]) -> None:
    current, prior = (load_ground_truth(p) for p in pair)
    mapping = LevelMap.between(_column(current, ("L4", "L5")), _column(prior, ("L4", "L5", "S1")))
    assert mapping is not None and mapping.labels == ("L4", "L5")
    error = np.linalg.norm(
        mapping.point(current.disc("L4-L5").centre_mm) - prior.disc("L4-L5").centre_mm
    )
    assert error < 1.0
    assert LevelMap.between(_column(current, ("L4",)), _column(prior)) is None


def test_axial_l4_l5_brings_the_priors_slice_nearest_its_own_disc(
    pair: tuple[Path, Path],
) -> None:
    current, prior = (load_ground_truth(p) for p in pair)
    studies = [scan(p).studies[0] for p in pair]
    mapping = LevelMap.between(_column(current), _column(prior))
    assert mapping is not None
    for description in ("AX T2 DISCS", "AX T2 STACK"):
        here, there = (_source(s, description) for s in studies)
        for level in ("L2-L3", "L4-L5", "L5-S1"):
            shown = nearest_slice(here, current.disc(level).centre_mm)
            want = nearest_slice(there, prior.disc(level).centre_mm)
            assert shown is not None and want is not None
            plane = here.info(shown[0]).plane
            assert plane is not None
            assert linked_index(mapping, plane, there) == want[0], (description, level)
            # patient coordinates alone would show another slice: the frames differ
            naive = nearest_slice(there, current.disc(level).centre_mm)
            assert naive is not None and naive[0] != want[0]


def test_sagittal_follows_the_side_offset(pair: tuple[Path, Path]) -> None:
    current, prior = (load_ground_truth(p) for p in pair)
    studies = [scan(p).studies[0] for p in pair]
    mapping = LevelMap.between(_column(current), _column(prior))
    assert mapping is not None
    here, there = (_source(s, "SAG T2") for s in studies)
    for index in range(len(here)):
        plane = here.info(index).plane
        assert plane is not None
        # the prior's sagittal images are the same slices of the same patient, moved
        found = linked_index(mapping, plane, there)
        assert found is not None
        assert _sop(there, found) != _sop(here, index)
        assert here.info(index).position_mm is not None
        assert found == index
    axial = _source(studies[1], "AX T2 STACK")
    assert linked_index(mapping, here.info(0).plane, axial) is None  # type: ignore[arg-type]


def test_a_sync_point_links_studies_without_labels(pair: tuple[Path, Path]) -> None:
    studies = [scan(p).studies[0] for p in pair]
    here, there = (_source(s, "AX T2 STACK") for s in studies)
    a, b = here.info(10).plane, there.info(10).plane
    assert a is not None and b is not None
    mapping = OffsetMap.pairing(a, b)
    for index in (4, 10, 16):
        plane = here.info(index).plane
        assert plane is not None
        assert linked_index(mapping, plane, there) == index
        back = there.info(index).plane
        assert back is not None
        assert linked_index(mapping.inverse(), back, here) == index
