"""Linked scrolling across two frames of reference (a study and its prior) on viewport
models, without Qt: the prior phantom's real files, linked by the truth's vertebra labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from spineviewer.dicom import Study, scan
from spineviewer.phantom import StudyGroundTruth, load_ground_truth
from spineviewer.phantom.prior import generate_prior
from spineviewer.viewing import StackListSource, ViewportLinks, ViewportModel
from spineviewer.viewing.level_sync import Column, LevelMap
from spineviewer.viewing.source import nearest_slice


@pytest.fixture(scope="module")
def pair(module_tmp: Path) -> tuple[Path, Path]:
    return generate_prior(module_tmp, 7)


def _model(study: Study, description: str) -> ViewportModel:
    series = next(s for s in study.series if description in s.description)
    model = ViewportModel()
    model.set_source(StackListSource.from_stacks(series.stacks))
    return model


def _column(truth: StudyGroundTruth) -> Column:
    return Column.of((v.label, v.centre_mm) for v in truth.vertebrae)


def test_the_priors_axial_follows_by_level_and_back(pair: tuple[Path, Path]) -> None:
    truths = [load_ground_truth(p) for p in pair]
    current, prior = (scan(p).studies[0] for p in pair)
    models = [_model(s, d) for s in (current, prior) for d in ("SAG T2", "AX T2 DISCS")]
    cur_sag, cur_ax, pri_sag, pri_ax = models
    links = ViewportLinks(models)
    assert links.partners(cur_ax) == [cur_sag]  # another frame: no lines, no plain following
    mapping = LevelMap.between(_column(truths[0]), _column(truths[1]))
    assert mapping is not None
    frames = [m.source.frame_of_reference_uid for m in (cur_ax, pri_ax)]  # type: ignore[union-attr]
    links.link_frames(frames[0], frames[1], mapping)
    assert [m for m, _ in links.across(cur_ax)] == [pri_sag, pri_ax]
    sag_index = pri_sag.index
    for level in ("L4-L5", "L1-L2"):
        shown = nearest_slice(cur_ax.source, truths[0].disc(level).centre_mm)  # type: ignore[arg-type]
        want = nearest_slice(pri_ax.source, truths[1].disc(level).centre_mm)  # type: ignore[arg-type]
        assert shown is not None and want is not None
        cur_ax.set_index(shown[0])
        assert pri_ax.index == want[0], level
    assert pri_sag.index == sag_index  # the axial crosses the sagittal: it stays
    # and back: the prior scrolled to L5-S1 brings the current there
    back = nearest_slice(pri_ax.source, truths[1].disc("L5-S1").centre_mm)  # type: ignore[arg-type]
    want_here = nearest_slice(cur_ax.source, truths[0].disc("L5-S1").centre_mm)  # type: ignore[arg-type]
    assert back is not None and want_here is not None
    pri_ax.set_index(back[0])
    assert cur_ax.index == want_here[0]
    # unlinked, the prior stays
    links.link_frames(frames[1], frames[0], None)
    assert links.frame_maps == {}
    cur_ax.set_index(0)
    assert pri_ax.index == back[0]
